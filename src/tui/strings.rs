//! Every piece of console wording in one place, so it can be reviewed (and
//! one day translated) without reading layout code.

pub const APP_TITLE: &str = "custodian";
pub const DRILL_MARK: &str = " DRILL — synthetic material only ";

/// Shown until the background check of the audit chain reports.
pub const HOME_AUDIT_CHECKING: &str = "checking the audit chain…";
pub const HOME_TITLE: &str = "Home";
pub const HOME_WORKSPACE: &str = "Workspace";
pub const HOME_CUSTODIANS: &str = "Custodians";
/// After the count of active custodians on the home screen.
pub const HOME_RETIRED: &str = "retired";
/// After the count of plaintext outputs older than a day (custody hygiene).
pub const HOME_STALE_OUTPUTS: &str =
    "plaintext output(s) older than a day not destroyed (custodian outputs)";
/// The clock question before drills, incidents and the ceremony.
pub const CLOCK_TITLE: &str = "Confirm the date and time";
pub const CLOCK_ASK: &str = "Is this the right date and time?";
pub const CLOCK_CHECK: &str = "Compare it with a trusted clock (a phone, a colleague's watch).";
pub const CLOCK_RECORDED_AS: &str = "y records it in the audit log";
pub const CLOCK_KEYS: &str = "y  yes, record it    n or Esc  no, it is wrong";
pub const CLOCK_RECORDING: &str = "recording the confirmed date and time…";
pub const CLOCK_WRONG: &str = "the operator said the system clock is wrong";
pub const CLOCK_WRONG_FIX: &str = "set the system clock from a trusted clock, then start again; nothing was started and nothing was written";
pub const HOME_NO_CUSTODIANS: &str =
    "No custodians yet. Press n to create the first custodian identity.";
pub const HOME_AUDIT: &str = "Audit log";
pub const HOME_OPERATIONS: &str = "Operations";
/// The home screen's operations menu: (group, [(key, what)]).
pub const HOME_MENU: &[(&str, &[(&str, &str)])] = &[
    (
        "Custodians",
        &[
            ("n / O", "new identity / onboarding ceremony"),
            ("g / G", "split among guardians / roll call"),
            ("c", "rebuild from guardians"),
            ("o / x", "rotate / retire selected"),
        ],
    ),
    (
        "Shards",
        &[
            ("s", "inspect · rewrap · restore to node"),
            ("R", "recover a raw key"),
        ],
    ),
    (
        "Incidents",
        &[
            ("p", "playbook scenarios"),
            ("t", "threats"),
            ("l", "checklist & policy"),
            ("a", "audit log"),
        ],
    ),
    (
        "Kit & drills",
        &[
            ("v", "vendor DR kit"),
            ("D / b", "quarterly drill / backup & restore"),
        ],
    ),
];
pub const NET_WARNING: &str =
    "NETWORK UP — this machine should be air-gapped. Disconnect before handling key material:";
pub const NET_WARNING_SHORT: &str = "NETWORK UP — disconnect before handling key material:";
pub const AUDIT_BROKEN_WARNING: &str =
    "AUDIT LOG BROKEN — tell your security officer before any operation:";
pub const NET_UNKNOWN: &str = "Could not check network interfaces";
pub const NET_OK: &str = "Offline: no network interface is up";

pub const HELP_TITLE: &str = "Help";
pub const DRILL_CARD_TITLE: &str = "Drill card";
pub const DRILL_CARD_BANNER: &str =
    " DRILL — synthetic passphrases, this sandbox only; never for real keys ";
pub const DRILL_CARD_HINT: &str = "Type these where a walk through a scenario asks for a custodian's, guardian's or the recovery key's passphrase.";
pub const HELP_GLOBAL: &[(&str, &str)] = &[
    ("? / F1", "help (F1 where a text field takes ?)"),
    (
        "Esc",
        "back one step, keeping what was typed (refused while a job runs)",
    ),
    (
        "↑/↓ j/k",
        "move in lists; PgUp/PgDn page; Shift-Tab previous field",
    ),
    (
        "Tab",
        "in a field: complete a partial path, else next; paste fills it",
    ),
    (
        "Enter",
        "continue: confirm this field or step and go on to the next",
    ),
    (
        "q / Ctrl-C",
        "quit (q outside text fields); asks first if work would be lost",
    ),
];
pub const BUSY_REFUSE: &str = "An operation is running; wait for it to finish.";
pub const QUIT_TITLE: &str = "Quit?";
pub const QUIT_BUSY: &str = "An operation is still running. Quitting now stops it; the workspace repairs what it left half done the next time it opens.";
pub const QUIT_HOLDS_INPUT: &str = "A wizard is open: what was typed in it will be lost.";
pub const QUIT_ASK: &str = "y discard and quit · any other key stays";
pub const LOCKED_CLEARED: &str = "Every open screen was closed and what it held (typed passphrases, paths, a key waiting to be shown) was cleared; a one-time key display was recorded as abandoned.";
pub const LOCKED_ENTER: &str = "Press Enter to continue.";
/// The minimum terminal size every screen is laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
pub const TOO_SMALL_TITLE: &str = "Make the terminal larger";
pub const TOO_SMALL: &str = "The console needs at least 80 columns and 24 rows; this terminal is";
pub const TOO_SMALL_HINT: &str =
    "Enlarge the window or reduce the font size. Nothing was lost; q or Ctrl-C quits.";
/// The strength meter's label for a passphrase the creation policy refuses.
pub const STRENGTH_REFUSED: &str = "refused by policy";
/// Asked when Esc would discard what was typed into a form.
pub const FORM_DISCARD: &str = " Esc again discards what was typed; any other key keeps it. ";
pub const FORM_SECRET_HIDDEN: &str = "(looks like a secret key: not shown; Ctrl-U clears it)";
pub const FORM_NO_MATCH: &str = "No file here starts with that (↓ moves on).";
pub const FORM_PICKER: &str = "↑/↓ choose, Enter takes, Esc closes";
/// From this footer width on, `q quit` is never dropped behind the "…".
pub const FOOTER_KEEPS_QUIT: u16 = 100;
pub const MORE_BELOW: &str = "more below";
pub const MORE_ABOVE: &str = "more above";

pub const NEWID_TITLE: &str = "New custodian identity";
pub const NEWID_NAME_PROMPT: &str = "Custodian name";
pub const NEWID_NAME_HINT: &str = "Letters, digits, spaces, '-', '_' or '.'. This name appears in the registry and the audit log. Enter goes on; Tab or ↓ adds a hardware token.";
pub const NEWID_TOKEN_PROMPT: &str = "Hardware token (optional)";
pub const NEWID_TOKEN_HINT: &str = "For passphrase + hardware token: the token's age plugin recipient (age1yubikey1…, from its plugin). Leave empty for a passphrase alone.";
pub const NEWID_PASS_PROMPT: &str = "Passphrase";
pub const NEWID_CONFIRM_PROMPT: &str = "Passphrase again";
pub const NEWID_PASS_HINT: &str =
    "At least 24 characters, or 6+ diceware words. Ctrl-G generates a 7-word phrase.";
pub const NEWID_GENERATED: &str =
    "Generated passphrase — write it down now, it will not be shown again:";
pub const NEWID_WORKING: &str = "Generating the key and sealing it (PBKDF2, 600,000 iterations)…";
pub const NEWID_DONE: &str = "Identity created and verified";
pub const NEWID_DONE_HINT: &str = "Record the recipient and fingerprint on paper. Keep the identity file apart from any shard file.";
pub const FAILED_TITLE: &str = "Operation failed";
pub const WHAT_TO_DO: &str = "What to do: ";

// --- Vendor DR kit (src/tui/screens/kit_*.rs) ---
pub const KIT_MENU_TITLE: &str = "Vendor DR kit";
pub const KIT_MENU_INTRO: &str = "The vendor's NCW disaster-recovery kit: the RSA-4096 recovery key pair you create, and the kit the vendor encrypts to it. With both, each wallet's server-side key share (Key Share #1) can be derived without the vendor.";
pub const KIT_MENU_ITEMS: &[(&str, &str)] = &[
    ("1", "Create the recovery key pair"),
    ("2", "Check a public key's verification phrase and QR code"),
    ("3", "Verify a kit with the recovery private key"),
    ("4", "Derive Key Share #1 for wallets"),
    (
        "5",
        "Verify the workspace keys with the owner's mobile secret",
    ),
    ("6", "Recover the workspace keys (approvals, one output)"),
];
pub const KIT_KEYGEN_TITLE: &str = "Create recovery key pair";
pub const KIT_PRIVATE_PROMPT: &str = "Private key file";
pub const KIT_PUBLIC_PROMPT: &str = "Public key file";
pub const KIT_PATHS_HINT: &str = "Neither file may exist yet. The private key is written encrypted (PKCS#8, PBKDF2-HMAC-SHA256 600,000 iterations, AES-256-CBC).";
pub const KIT_KEY_PASS_HINT: &str = "This passphrase protects the recovery private key. At least 24 characters or 6+ diceware words; Ctrl-G generates one.";
pub const KIT_KEYGEN_WORKING: &str = "Creating the RSA-4096 key pair";
pub const KIT_KEYGEN_DONE: &str = "Recovery key pair created and checked";
pub const KIT_KEYGEN_DONE_HINT: &str = "Send the public key file to the vendor. Read the verification phrase back with them before they build a kit. Keep the private key and its passphrase apart, offline.";
pub const KIT_PHRASE: &str = "Verification phrase";
pub const KIT_QR_HINT: &str = "Press v to show the public key as a QR code.";
pub const KIT_QR_TOO_SMALL: &str =
    "The terminal is too small for the QR code; enlarge it to at least";
pub const KIT_QR_PNG_OFFER: &str = "Or press w to write the QR code as a PNG image next to the public key file (it holds only the public key).";
pub const KIT_QR_PNG_WRITTEN: &str = "QR code written as a PNG image:";
pub const KIT_FP_TITLE: &str = "Check a public key";
pub const KIT_FP_PROMPT: &str = "Public key file";
pub const KIT_FP_HINT: &str = "The phrase is the first 8 characters of base64(SHA-256(the PEM text)). It must match the phrase the vendor reads back.";
pub const KIT_VERIFY_TITLE: &str = "Verify a DR kit";
pub const KIT_DERIVE_TITLE: &str = "Derive Key Share #1";
pub const KIT_KIT_PROMPT: &str = "Kit zip";
pub const KIT_KEY_PROMPT: &str = "Recovery private key";
pub const KIT_OPEN_PASS_PROMPT: &str = "Key passphrase";
pub const KIT_CHECKING_KEY: &str = "Opening the recovery private key with that passphrase…";
pub const KIT_KEY_OPENED: &str = "✔ The passphrase opens the recovery private key.";
pub const KIT_OPEN_PASS_HINT: &str = "Leave empty if the private key file is not encrypted.";
pub const KIT_WALLETS_FILE_PROMPT: &str = "Wallet list file";
pub const KIT_WALLETS_LIST_PROMPT: &str = "Wallet ids (one per line)";
pub const KIT_WALLETS_HINT: &str = "Wallet ids are canonical lowercase UUIDs; any other line is refused, never corrected. Tab switches between a file and a pasted list.";
pub const KIT_OUT_PROMPT: &str = "Output file";
pub const KIT_OUT_HINT: &str =
    "The output file holds private key shares: it is created 0600 and never overwrites anything.";
pub const KIT_VERIFY_WORKING: &str = "Opening the key and decrypting the master keys";
pub const KIT_DERIVE_WORKING: &str = "Deriving shares";
pub const KIT_VERIFY_DONE: &str = "The recovery key opens this kit";
pub const KIT_DERIVE_DONE: &str = "Shares derived and written";
pub const KIT_NO_SECRET: &str = "No secret was shown or written to the audit log.";
// Workspace keys of the DR kit: verify with the mobile secret, and recover.
pub const KIT_KEYS_VERIFY_TITLE: &str = "Verify the kit's workspace keys";
pub const KIT_KEYS_RECOVER_TITLE: &str = "Recover the kit's workspace keys";
pub const KIT_KEYS_INTRO_VERIFY: &str = "Recovers every workspace key (ECDSA and EdDSA, every keyset) in memory, checks each against its public key, and drops it: nothing is output.";
pub const KIT_KEYS_INTRO_RECOVER: &str = "Recovers the workspace keys, checked against their public keys, to exactly one output. A key that does not reproduce its public key is never output.";
pub const KIT_MOBILE_PASS_PROMPT: &str = "Owner's mobile passphrase";
pub const KIT_MOBILE_PASS_HINT: &str = "The workspace owner's recovery passphrase. Leave it empty to give the mobile RSA key below instead.";
pub const KIT_MOBILE_KEY_PROMPT: &str = "or mobile RSA key (PEM)";
pub const KIT_MOBILE_KEY_HINT: &str =
    "Only when the owner's entries are under a mobile RSA key instead of a passphrase.";
pub const KIT_MOBILE_KEY_PASS_PROMPT: &str = "Mobile key passphrase";
pub const KIT_MOBILE_KEY_PASS_HINT: &str = "Leave empty if the mobile key file is not encrypted.";
pub const KIT_SELECT_PROMPT: &str = "Only key id or keyset";
pub const KIT_SELECT_HINT: &str =
    "Empty: every key. A key id (UUID) takes that key; a number takes that keyset.";
pub const KIT_KEYS_NO_MOBILE: &str =
    "give the owner's mobile passphrase, or the mobile RSA key file";
pub const KIT_KEYS_BOTH_MOBILE: &str = "give the mobile passphrase or the mobile RSA key, not both";
pub const KIT_KEYS_BAD_SELECT: &str = "not a key id (a UUID) or a keyset number";
pub const KIT_KEYS_OUTPUT_HINT: &str = "Choose exactly one output: 1 HSM import key (one RSA-OAEP-SHA256 block per key, in a directory), 2 age recipient (one file), 3 show once on screen.";
pub const KIT_KEYS_OUT_DIR: &str = "Output directory (new, or existing)";
pub const KIT_KEYS_OUT_SCREEN: &str = "The keys will be shown once, one key a page, after you type how many there are; each page clears after 60 seconds.";
pub const KIT_KEYS_WORKING_VERIFY: &str =
    "Opening the recovery key, decrypting every share and checking each key against its public key";
pub const KIT_KEYS_WORKING_RECOVER: &str =
    "Recording the approvals, decrypting every share, checking each key and writing the output";
pub const KIT_KEYS_VERIFIED: &str = "Every workspace key reproduces its public key";
pub const KIT_KEYS_NOT_ALL: &str = "Some keys do NOT reproduce their public key: the kit is damaged or not this workspace's. Such a key is never output.";
pub const KIT_KEYS_RECOVERED: &str = "Workspace keys recovered, checked and written";
pub const KIT_KEYS_EDDSA_NOTE: &str =
    "EdDSA private values are the raw scalar, not an RFC 8032 seed.";
pub const KIT_KEYS_TYPE_COUNT: &str = "Type the number of keys to show their private keys once";
pub const KIT_KEYS_CONFIRM: &str = "Press Enter to record the approvals and start. Esc goes back.";
pub const KIT_KEYS_CLEARED: &str = "The screen has been cleared and the keys discarded.";
pub const KIT_KEYS_LEAVE: &str =
    " Esc again leaves and discards the approvers and everything typed; any other key keeps them. ";
pub const KIT_KEYS_DISCARDED: &str = "The keys were discarded without being shown.";

// Shards, rewrap, restore to node and recovery (issue 4).
pub const SHARDS_TITLE: &str = "Shards";
pub const SHARDS_NONE: &str =
    "No shard files are recorded in this workspace. Press o to open a shard file by path.";
pub const SHARDS_PATH_PROMPT: &str = "Shard file";
pub const SHARDS_LOADING: &str = "Reading the shard file…";
pub const SHARDS_NO_SECRET: &str =
    "Public metadata only: the key share stays encrypted and is not shown.";
pub const REWRAP_TITLE: &str = "Rewrap shard to a new custodian";
pub const RESTORE_TITLE: &str = "Restore shard to a node";
pub const REWRAP_IDENTITY_PROMPT: &str = "Holder's identity file";
pub const REWRAP_IDENTITY_HINT: &str =
    "The identity of the custodian this shard is wrapped to; its passphrase is asked next-but-one.";
pub const REWRAP_TO_PROMPT: &str = "New recipient (age1…)";
pub const REWRAP_NAME_PROMPT: &str = "New custodian's name";
pub const RESTORE_TO_PROMPT: &str = "Node import recipient (age1…)";
pub const RESTORE_NAME_PROMPT: &str = "Node name";
pub const REWRAP_PASS_PROMPT: &str = "Holder's passphrase";
pub const REWRAP_WORKING: &str =
    "Opening the identity (PBKDF2), decrypting, re-encrypting and verifying the new file…";
pub const REWRAP_DONE: &str = "New shard written and verified";
pub const REWRAP_VERIFIED: &str = "Checked: metadata read back, exactly one X25519 recipient (the new one), payload decrypts to the same share.";
pub const REWRAP_OLD_LEFT: &str = "THE OLD SHARD FILE IS STILL ON DISK.";
pub const CONCENTRATION_SEVERAL_HEAD: &str = "SEVERAL SHARDS OF ONE KEY TO ONE PERSON";
pub const CONCENTRATION_REACHES_HEAD: &str = "ONE PERSON COULD REBUILD THIS KEY ALONE";
pub const CONCENTRATION_CONFIRM_PROMPT: &str = "New holder's name, to confirm";
pub const CONCENTRATION_CONFIRM_HINT: &str =
    "Exactly as typed above; Esc goes back to choose another holder.";
pub const REWRAP_OLD_HINT: &str = "Once the new custodian has confirmed they can open the new shard, destroy the old file (e.g. shred -u) and every copy of it.";
pub const RESTORE_CHECKLIST: &str = "After the import, confirm on the node:";
pub const RESTORE_KEEP: &str = "Your own shard file is unchanged; keep it.";
pub const RECOVERY_TITLE: &str = "Recover a raw private key (scenario 5)";
pub const RECOVERY_WARNING: &[&str] = &[
    "THIS REBUILDS THE RAW PRIVATE KEY FROM CUSTODIAN SHARDS.",
    "Only under an approved incident, with the quorum present, on an air-gapped machine.",
    "The approvers are written to the audit log before any shard is decrypted.",
    "The key is verified against its root public key, then output ONE way only:",
    "wrapped to an HSM import key, encrypted to an age recipient, or shown once on this screen.",
    "It is never written to disk in plaintext and never logged.",
];
pub const RECOVERY_APPROVER_PROMPT: &str = "Approver name";
pub const RECOVERY_APPROVER_HINT: &str = "At least two different people. Enter goes on to their passphrase; Enter on an empty form continues.";
pub const RECOVERY_APPROVER_PASS_PROMPT: &str = "Approver's own passphrase";
pub const RECOVERY_APPROVER_PASS_HINT: &str = "A registered custodian types their identity passphrase: proof they are here. Empty: a typed name (someone without an identity), recorded as typed.";
pub const RECOVERY_APPROVER_CHECKING: &str = "Opening the approver's identity…";
pub const RECOVERY_SHARD_PROMPT: &str = "Shard file";
pub const RECOVERY_IDENTITY_PROMPT: &str = "Holder's identity file";
pub const RECOVERY_PASS_PROMPT: &str = "Holder's passphrase";
pub const RECOVERY_SHARDS_HINT: &str = "Enter on the passphrase checks it and adds the shard; Tab completes a path. Enter with every field empty continues once two shards are added.";
pub const RECOVERY_LEAVE: &str =
    " Esc again leaves and discards the approvers and shards entered; any other key keeps them. ";
pub const RECOVERY_CHECKING: &str = "Checking the shard, the identity file and its passphrase…";
pub const RECOVERY_FIX: &str =
    "Enter goes back to the step that can fix this; everything typed is kept.";
pub const RECOVERY_OUTPUT_HINT: &str = "Choose exactly one output: 1 HSM import key (RSA-OAEP-SHA256), 2 age recipient, 3 show once on screen.";
pub const RECOVERY_OUT_HSM: &str = "HSM import public key (PEM)";
pub const RECOVERY_OUT_AGE: &str = "age recipient (age1…)";
pub const RECOVERY_OUT_FILE: &str = "Output file";
pub const RECOVERY_OUT_SCREEN: &str =
    "The key will be shown once, after you type its key id, for 60 seconds, then cleared.";
pub const RECOVERY_CONFIRM: &str = "Press Enter to record the approval and start. Esc goes back.";
pub const RECOVERY_WORKING: &str =
    "Recording the approval, opening identities (PBKDF2), decrypting, interpolating and verifying…";
pub const RECOVERY_DONE: &str = "Key recovered, verified against its root public key, and written";
pub const RECOVERY_NOT_ELSEWHERE: &str =
    "The key was not written anywhere else and is not in the audit log.";
pub const RECOVERY_TYPE_KEY_ID: &str = "Type the key id to show the private key once";
pub const RECOVERY_SHOW_WARNING: &str =
    "PRIVATE KEY — SHOWN ONCE. No cameras unless your procedure requires it.";
pub const RECOVERY_CLEARED: &str = "The screen has been cleared and the key discarded.";
pub const RECOVERY_DISCARDED: &str = "The key was discarded without being shown.";
pub const RECOVERY_SHOW_SECONDS: u64 = 60;
// Playbook: scenario list and screens, threats, checklist and policy, audit viewer.
pub const SCENARIOS_TITLE: &str = "Playbook — disaster scenarios";
pub const SCENARIOS_HINT: &str = "Pick the scenario that matches what happened. Opening one starts (or resumes) an incident record.";
pub const SCENARIO_TITLE: &str = "Scenario";
pub const SCENARIO_SITUATION: &str = "Situation";
pub const SCENARIO_CHECK_FIRST: &str = "Check first";
pub const SCENARIO_DO_NOT: &str = "Do NOT";
pub const SCENARIO_STEPS: &str = "Steps";
pub const SCENARIO_NO_INCIDENT: &str = "No incident open. Enter on a step opens one.";
pub const SCENARIO_PEOPLE_STEP: &str =
    "People or paper action: an operator confirms it by entering their name.";
pub const SCENARIO_LAUNCHES: &str = "Launches: ";
pub const SCENARIO_CLI: &str = "Command line: ";
pub const SCENARIO_NO_CLI: &str =
    "No command: follow the list below and confirm when every line is done.";
pub const SCENARIO_START_PROMPT: &str = "Open an incident for this scenario";
pub const SCENARIO_OPERATOR: &str = "Your name";
pub const SCENARIO_CLOSE_APPROVERS: &str =
    "Approvers of the close (each opens their own identity):";
/// What leaving the close would discard, in its Esc question.
pub fn scenario_approvals_held(n: usize) -> String {
    match n {
        1 => "1 approval already given".to_string(),
        n => format!("{n} approvals already given"),
    }
}
pub const SCENARIO_CLOSE_APPROVER_HINT: &str = "Enter: their passphrase. An empty passphrase adds a typed name. Enter on an empty form closes.";
pub const SCENARIO_AFFECTED: &str = "Custodian concerned (optional)";
pub const SCENARIO_CONFIRM_PROMPT: &str = "Confirm step";
pub const SCENARIO_RECORD_PROMPT: &str =
    "Run this on the offline machine, then press Enter to record it as done by";
pub const SCENARIO_CLOSE_PROMPT: &str =
    "Close the incident and write its report (steps not done are listed in it)";
pub const SCENARIO_CLOSED: &str = "Incident closed. Report written:";
pub const SCENARIO_HEAD: &str = "Audit head named in the report (write it down):";
pub const SCENARIO_NOTES: &str = "Notes (optional)";
pub const SCENARIO_NOTES_SHOWN: &str = "Notes";
pub const SCENARIO_REASON: &str = "Why it was a mistake";
pub const SCENARIO_REOPEN_PROMPT: &str = "Take back the confirmation of step";
/// Shown, in yellow, when a step is confirmed while earlier ones are open.
pub const SCENARIO_OUT_OF_ORDER: &str = "Out of order: not done yet:";
pub const SCENARIO_OUT_OF_ORDER_AGAIN: &str =
    "Press Enter again to confirm it anyway (the report says so), or Esc to go back.";

pub const THREATS_TITLE: &str = "Threats and local checks";
pub const THREATS_RISK: &str = "Risk";
pub const THREATS_MITIGATIONS: &str = "Mitigations";
pub const THREATS_CHECKS: &str = "Checked on this machine";
/// Shown until the background threat checks report.
pub const THREATS_CHECKING: &str = "checking…";
/// A background check stopped without an answer.
pub const CHECK_STOPPED: &str =
    "a background check stopped unexpectedly (internal error); press r to run it again";
pub const THREATS_NO_CHECKS: &str = "Nothing about this threat can be checked from an offline console; the mitigations are organisational.";

pub const CHECKLIST_TITLE: &str = "Pre-launch checklist";
pub const POLICY_TITLE: &str = "Institutional policy";
pub const CHECKLIST_TICK_PROMPT: &str = "Tick this item as";
pub const CHECKLIST_UNTICK_PROMPT: &str = "Untick this item as";
pub const CHECKLIST_AUTO: &str = "Verified from the workspace; it cannot be ticked by hand.";

pub const AUDIT_TITLE: &str = "Audit log";
pub const AUDIT_FILTER_EVENT: &str = "Filter by event";
pub const AUDIT_FILTER_KEY: &str = "Filter by key id";
pub const CHECKLIST_CHECKING: &str = "Checking the items against the workspace…";
pub const AUDIT_CHECKING: &str = "Reading and verifying the audit log…";
pub const AUDIT_NOT_VERIFIED: &str = "Chain not verified yet: press v.";
pub const AUDIT_EMPTY: &str = "No entries match.";
// Guardians: split and reconstruct wizards.
pub const GSPLIT_TITLE: &str = "Split a key among guardians";
pub const GSPLIT_STEPS: &[&str] = &[
    "Custodian",
    "Plan",
    "Unlock",
    "Guardians",
    "Seal",
    "Summary",
];
pub const GSPLIT_PICK: &str = "Whose key is split? (↑/↓, Enter)";
pub const GSPLIT_NO_CUSTODIANS: &str = "No custodian identity file is registered in this workspace. Create one first (n on the home screen).";
pub const GSPLIT_THRESHOLD: &str = "Shares needed (k)";
pub const GSPLIT_GUARDIANS: &str = "Guardians (comma-separated, in share order)";
pub const GSPLIT_PLAN_HINT: &str =
    "Any k guardians together can rebuild the key; fewer learn nothing about it. Policy: 3 of 5.";
pub const GSPLIT_UNLOCK: &str = "Custodian's identity passphrase";
/// Shown while the custodian's passphrase is checked, before the guardians'.
pub const GSPLIT_CHECKING: &str = "Checking the custodian's passphrase…";
pub const GSPLIT_UNLOCK_HINT: &str =
    "The custodian types their passphrase; it is checked before the guardians choose theirs.";
pub const GSPLIT_GUARDIAN_HINT: &str = "Hand the keyboard to this guardian. At least 24 characters, or 6+ diceware words. Ctrl-G generates a 7-word phrase.";
pub const GSPLIT_WORKING: &str =
    "Opening the identity, splitting, proving the split, sealing each share (in parallel)…";
pub const GSPLIT_DONE: &str = "Key split, proved and sealed";
pub const GSPLIT_DONE_HINT: &str = "Give each guardian their own share file (or its printed line, `custodian guardians inspect FILE --qr`) and nothing else. p prints their cards; w writes each share's QR code (too big for a terminal) as a PNG.";
pub const GREC_TITLE: &str = "Rebuild a key from guardian shares";
pub const GREC_STEPS: &[&str] = &[
    "Shares",
    "Guardians",
    "New passphrase",
    "Rebuild",
    "Summary",
];
pub const GREC_ADD: &str = "Share file path, or a printed custodianshare1… line";
pub const GREC_ADD_HINT: &str = "Enter adds the share; Enter on an empty field continues once enough shares are in. Shares are checked as they are added.";
pub const GREC_LOADING: &str = "Reading the share…";
pub const GREC_NONE_YET: &str = "No share added yet.";
pub const GREC_PASS: &str = "Passphrase";
pub const GREC_PASS_HINT: &str = "Hand the keyboard to this guardian. Enter checks it at once by opening their share (nothing is written).";
pub const GREC_CHECKING: &str = "Opening the share of";
pub const GREC_NEW_PASS: &str = "New passphrase for the rebuilt identity";
pub const GREC_WORKING: &str =
    "Opening each share (in parallel), rebuilding and verifying the key, sealing it anew…";
pub const GREC_DONE: &str = "Key rebuilt, verified against the recorded recipient, and sealed";
pub const GREC_DONE_HINT: &str = "Compare the recipient and fingerprint with the paper record. Plan a rotation: the guardians have now seen the key rebuilt.";

// Quarterly drill (console drill mode).
pub const DRILL_TITLE: &str = "Quarterly drill";
pub const DRILL_INTRO: &str = "Runs every disaster scenario for real on synthetic material in a new sandbox workspace: custodians, guardians, a 2-of-3 key and a vendor kit. No real key is touched.";
pub const DRILL_PARTICIPANTS: &str = "Participants";
pub const DRILL_PARTICIPANTS_HINT: &str =
    "Names, comma-separated. At least two: they form the recovery quorum in scenario 5.";
pub const DRILL_NEED_TWO: &str = "Name at least two participants, separated by commas.";
pub const DRILL_STARTING: &str = "Preparing the sandbox…";
pub const DRILL_PROGRESS: &str = "Drill";
pub const DRILL_WALK_HINT: &str = "Press o to walk the scenarios by hand in the sandbox (every screen shows DRILL; X on the home screen returns here).";
pub const DRILL_SANDBOXES_TAB: &str = "Tab: old drill sandboxes (list, delete)";
pub const DRILL_SANDBOXES_TITLE: &str = "Old drill sandboxes";
pub const DRILL_SANDBOXES_HINT: &str = "Sandboxes this workspace's drills built, still on disk. Deleting one removes its directory and is recorded in this workspace's audit log; nothing else is ever deleted here.";
pub const DRILL_SANDBOXES_NONE: &str = "No drill sandbox is left on disk.";
pub const DRILL_SANDBOXES_LOADING: &str = "Looking for sandboxes…";
pub const DRILL_SANDBOX_CONFIRM: &str =
    "Delete this sandbox and everything in it? It cannot be undone.";
pub const DRILL_SANDBOX_CONFIRM_KEYS: &str = "y delete · n keep";
pub const DRILL_SANDBOX_DELETED: &str = "Deleted";
pub const DRILL_SANDBOX_IN_USE: &str =
    "That sandbox is the one being walked: leave it with X on the home screen, then delete it.";
pub const DRILL_SANDBOX_BANNER: &str = "In a drill sandbox. X returns to";

/// Home, instead of the custodian list, when registry.json cannot be read.
pub const HOME_REGISTRY_UNREADABLE: &str =
    "REGISTRY UNREADABLE: custodians, shards and checks are not shown until it is fixed";

// Rotation (from a custodian row on home).
pub const ROTATE_TITLE: &str = "Rotate custodian";
pub const ROTATE_STEPS: [&str; 5] = [
    "current",
    "new passphrase",
    "guardians",
    "confirm",
    "rotate",
];
pub const ROTATE_OLD_PASS: &str = "Current passphrase";
pub const ROTATE_OLD_PASS_HINT: &str = "Checked now, before anything else is asked or written.";
pub const ROTATE_CHECKING: &str = "Checking the current passphrase…";
pub const ROTATE_PLANNING: &str =
    "Working… reading the custodian's shards and guardian shares for the plan.";
/// Where Enter goes from a flow's result: the screen that opened it.
/// The rewrap's question when the share is encrypted to more keys than
/// its holder's.
pub const REWRAP_ACCEPT_MULTIPLE: &str =
    "y accepts and rewraps it anyway (the holder's passphrase is asked again); Esc goes back.";
pub const BACK_TO_HOME: &str = "back to home";
pub const BACK_TO_SCENARIO: &str = "back to the scenario";
pub const ROTATE_TOKEN_HEAD: &str =
    "Enrol a hardware token for the new identity: it will need the passphrase and this token.";
pub const ROTATE_TOKEN_PROMPT: &str = "Hardware token recipient";
pub const ROTATE_TOKEN_HINT: &str = "The token's age plugin recipient (age1yubikey1…, from its plugin). Empty: keep the registered token, or none.";
pub const ROTATE_NEW_PASS_FOR: &str = "New identity passphrase for";
pub const ROTATE_CONFIRM_HEAD: &str = "Rotation of";
pub const ROTATE_CONFIRM_HINT: &str =
    "Enter rotates (one transaction: all of it or none). Esc starts over; nothing was written.";
pub const ROTATE_WORKING: &str =
    "Rotating: new identity, shards rewrapped and verified, guardians re-split…";
pub const ROTATE_DESTROY_HEAD: &str = "DESTROY THESE COPIES BY HAND (they could not be moved):";
pub const ROTATE_NOTHING_ELSEWHERE: &str =
    "Every registered file was moved; no copy is known outside the workspace.";
pub const ROTATE_COPIES_HINT: &str =
    "Guardians destroy their old shares; `custodian check` flags copies until confirmed destroyed.";

// Retirement (from a custodian row on home).
pub const RETIRE_TITLE: &str = "Retire custodian";
pub const RETIRE_STEPS: [&str; 5] = [
    "successor",
    "concentration",
    "passphrase",
    "confirm",
    "retire",
];
pub const RETIRE_PICK: &str = "Choose the active custodian who takes the shards of";
pub const RETIRE_HOLDER_PROMPT: &str = "Successor's name, typed back";
pub const RETIRE_HOLDER_HINT: &str = "Exactly as registered. Esc chooses another successor.";
pub const RETIRE_APPROVER_HINT: &str = "An override needs at least two different people. Enter goes on to their passphrase; Enter on an empty form continues.";
pub const RETIRE_OVERRIDE: &str =
    "Refused unless an override names at least two different approvers (audited).";
pub const RETIRE_PASS: &str = "Retiree's passphrase";
pub const RETIRE_CONFIRM_HEAD: &str = "Retirement of";
pub const RETIRE_CONFIRM_HINT: &str =
    "Enter retires (one transaction: all of it or none). Esc goes back; nothing was written.";
pub const RETIRE_PLANNING: &str =
    "Working… reading the shards and guardian shares the successor would take.";
pub const RETIRE_WORKING: &str =
    "Retiring: shards rewrapped to the successor and verified, guardian sets superseded…";

// Guardian roll call (home, G).
pub const ROLL_CALL_TITLE: &str = "Guardian roll call";
pub const ROLL_CALL_STEPS: [&str; 3] = ["set", "guardians", "result"];
pub const ROLL_CALL_PICK: &str =
    "Choose the guardian set to call (current sets of active custodians):";
pub const ROLL_CALL_NO_SETS: &str = "No active custodian's key is split among guardians.";
pub const ROLL_CALL_NO_SETS_HINT: &str = "split a key first (g on the home screen)";
pub const ROLL_CALL_SHARE: &str = "Share file or printed line";
pub const ROLL_CALL_SHARE_HINT: &str = "The guardian's own share: a file (Tab completes) or the printed line. Empty form + Enter: this guardian is absent.";
pub const ROLL_CALL_PASS: &str = "Guardian's passphrase";
pub const ROLL_CALL_PASS_HINT: &str = "Typed by the guardian. The share is opened and checked against what was split; the key is not rebuilt.";
pub const ROLL_CALL_CHECKING: &str = "Opening the share and checking it against its commitment…";
pub const ROLL_CALL_WRONG_SHARE: &str =
    "give this guardian's own share of the set being called (the registered file is offered)";
pub const ROLL_CALL_BELOW_HINT: &str = "Call the missing guardians again this quarter, or re-split the key (g) with guardians who can attend.";
pub const RETIRE_NOT_ACTIVE_HINT: &str = "the incident's affected custodian must be an active custodian to retire (the home screen lists the active custodians); retire from their row on the home screen (x), or Ctrl-R to record it done elsewhere";
pub const ROTATE_NOT_ACTIVE_HINT: &str = "the incident's affected custodian must be an active custodian to rotate; rotate from their row on the home screen (o)";
/// Footer while sheets are being printed to PDF.
pub const PRINTING: &str = "Writing the PDF…";

// The onboarding ceremony (`screens::ceremony`).
pub const CER_TITLE: &str = "Onboarding ceremony";
pub const CER_STEPS: [&str; 5] = ["Plan", "Identity", "Guardians", "Proof", "Record"];
pub const CER_FILE: &str = "Plan file";
pub const CER_FILE_HINT: &str =
    "a plan.json (as `custodian onboard --plan`), or leave empty and enter the ceremony below";
pub const CER_PRESENT: &str = "Present";
pub const CER_PRESENT_HINT: &str = "who attends (officers, witnesses), comma-separated";
pub const CER_NAME: &str = "Custodian";
pub const CER_NAME_HINT: &str =
    "the custodian's name; Enter on an empty name (once one is listed) begins the ceremony";
pub const CER_GUARDIANS: &str = "Guardians";
pub const CER_GUARDIANS_HINT: &str =
    "their guardians in share order, comma-separated (5 for 3-of-5)";
pub const CER_THRESHOLD: &str = "Threshold";
pub const CER_THRESHOLD_HINT: &str = "shares needed to rebuild; Enter adds the custodian";
pub const CER_THRESHOLD_BAD: &str = "the threshold must be a whole number (e.g. 3)";
pub const CER_FILE_OR_ENTERED: &str = "give a plan file or enter the ceremony here, not both";
pub const CER_FILE_OR_ENTERED_FIX: &str =
    "empty the plan file field, or drop the custodians entered (Backspace on an empty name)";
pub const CER_PLAN_HEAD: &str = "The ceremony's custodians, in order:";
pub const CER_PLAN_READY: &str =
    "  Enter on an empty Custodian field begins the ceremony (resumable at any point).";
pub const CER_RESUME_HEAD: &str = "Ceremonies begun and not completed — resume one:";
pub const CER_NEW: &str = "Start a new ceremony";
pub const CER_STARTED: &str = "Ceremony";
pub const CER_RESUMED: &str = "Resumed ceremony";
pub const CER_STARTING: &str = "Starting the ceremony…";
pub const CER_NEW_IDENTITY: &str = "choose the passphrase of your new identity";
pub const CER_SPLIT_EXISTING: &str =
    "your identity exists and is not yet split — type its passphrase";
pub const CER_IDENTITY_PASS: &str = "Identity passphrase";
pub const CER_IDENTITY_PASS_HINT: &str = "checked before the guardians choose theirs";
pub const CER_CHECKING: &str = "Checking the identity passphrase…";
pub const CER_SPLITTING: &str =
    "Creating the identity and splitting it among the guardians (each share checked)…";
pub const CER_PROOF: &str = "Passphrase again";
pub const CER_PROOF_HINT: &str =
    "the guardian types it from memory or their written copy: the share must open and match";
pub const CER_PROVING: &str = "Opening the share and checking it against its commitment…";
pub const CER_ALL_DONE: &str = "Every custodian is split and every guardian proved their share.";
pub const CER_ALL_DONE_HINT: &str =
    "Enter writes the ceremony record (custodians, recipients, sets, who was present, audit head).";
pub const CER_RECORDING: &str = "Writing the ceremony record…";
pub const CER_RECORDED: &str = "Ceremony record written:";
pub const CER_HEAD_HINT: &str = "Write the audit head down; `custodian audit verify --expect-head HEAD` checks it later. p prints the sheet.";
pub const CER_CHECKLIST: &str = "Checklist items verified from the workspace:";
// --- The hardware-token dialog (issue 14) ---
pub const TOKEN_TITLE: &str = "Hardware token";
pub const TOKEN_TOUCH_HINT: &str =
    "Touch the token's button or contact now, while it blinks. Nothing else needs typing.";
pub const TOKEN_PIN_LABEL: &str = "Token PIN";
pub const TOKEN_VALUE_LABEL: &str = "Answer";
pub const TOKEN_PIN_EMPTY: &str = "Type the token's PIN, or Esc to cancel.";
pub const TOKEN_GIVEN_UP: &str =
    "Cancelled: waiting for the token's plugin to stop. Nothing will be used or changed.";
pub const TOKEN_TIMED_OUT: &str =
    "Not answered in time: waiting for the token's plugin to stop. Nothing will be used or changed";
pub const TOKEN_CLOSE_HINT: &str =
    "Esc again closes this window; the job's result will not be used.";
pub const TOKEN_KEYS_ASK: &str = " · Enter send · Esc cancel (nothing is changed)";
pub const TOKEN_KEYS_WAIT: &str = " · Esc cancel (nothing is changed)";
// Encrypted off-site copy of the workspace (home, b).
pub const BACKUP_TITLE: &str = "Backup and restore";
pub const BACKUP_STEPS: [&str; 3] = ["recipients", "archive", "result"];
pub const RESTORE_STEPS: [&str; 2] = ["archive and identity", "verified"];
pub const BACKUP_MENU: [(&str, &str); 2] = [
    (
        "Back up this workspace",
        "one age-encrypted archive of the registry, the audit log, the sealed identity files and the records, for one or more officers",
    ),
    (
        "Restore an archive into a new directory",
        "decrypts and verifies an archive (every file's hash, the audit chain and its head); never merges into this workspace",
    ),
];
pub const BACKUP_RECIPIENTS_HEAD: &str =
    "Encrypt to (Space chooses; each chosen officer can restore alone):";
pub const BACKUP_NO_CUSTODIANS: &str =
    "No custodian is registered: type each officer's age1… recipient on the next step.";
pub const BACKUP_RECIPIENTS_HINT: &str =
    "Enter goes on; officers not registered here are typed on the next step.";
pub const BACKUP_EXTRA: &str = "Other recipients";
pub const BACKUP_EXTRA_HINT: &str =
    "age1… of officers not registered here, separated by spaces or commas (may be empty).";
pub const BACKUP_OUT: &str = "Archive file";
pub const BACKUP_OUT_HINT: &str =
    "A new file outside the workspace, on the medium kept off-site (Tab completes folders).";
pub const BACKUP_NONE_CHOSEN: &str = "no recipient: nobody could open this archive";
pub const BACKUP_NONE_CHOSEN_HINT: &str =
    "choose at least one custodian (Esc goes back) or type an officer's age1… recipient here";
pub const BACKUP_OUT_MISSING: &str = "no archive file named";
pub const BACKUP_OUT_MISSING_HINT: &str =
    "type the path of a new file outside the workspace, e.g. /media/offsite/custodian.age";
pub const BACKUP_BAD_RECIPIENT_HINT: &str =
    "copy the officer's recipient exactly (age1… from `custodian identity show` or age-keygen)";
pub const BACKUP_WORKING: &str =
    "Writing the encrypted archive and reading it back (audited as WORKSPACE_BACKUP)…";
pub const BACKUP_DONE: &str = "Encrypted backup written and read back";
pub const BACKUP_DONE_HINT: &str = "Keep it off-site. Any one recipient restores it (b, then Restore; or `custodian restore`). Enter or Esc: home.";
pub const RESTORE_ARCHIVE: &str = "Archive";
pub const RESTORE_ARCHIVE_HINT: &str = "The file a backup wrote (Tab completes).";
pub const RESTORE_IDENTITY: &str = "Identity";
pub const RESTORE_IDENTITY_HINT: &str = "A custodian identity file (its passphrase below) or an officer's age key file (AGE-SECRET-KEY-…), one of the archive's recipients.";
pub const RESTORE_PASS: &str = "Identity passphrase";
pub const RESTORE_PASS_HINT: &str =
    "For a custodian identity file; leave empty for an age key file.";
pub const RESTORE_INTO: &str = "New directory";
pub const RESTORE_INTO_HINT: &str = "Must not exist yet, or be empty: a restore never merges into a workspace, this one least of all.";
pub const RESTORE_MISSING: &str = "this field is needed";
pub const RESTORE_WORKING: &str =
    "Opening the identity, decrypting and verifying every file and the audit chain…";
pub const RESTORE_DONE: &str = "Archive verified and restored";
pub const RESTORE_DONE_HINT: &str = "The restored workspace is separate: open it with `custodian --workspace DIR`. Enter or Esc: home.";
pub const RESTORE_INTO_EXISTS_HINT: &str = "name a directory that does not exist yet, or an empty one; a restore never merges into existing files";
pub const RESTORE_INTO_LIVE_HINT: &str =
    "restore outside this workspace (a restored copy inside it would be mixed into its backups)";
pub const RESTORE_NEEDS_PASS: &str = "this is a custodian identity: its passphrase is needed";
pub const RESTORE_NEEDS_PASS_HINT: &str =
    "the custodian types their own passphrase (masked); an age key file needs none";
pub const THREATS_BACKUP_KEY: &str = "encrypted backup now";
pub const THREATS_BACKUP_HINT: &str = "Press b to write an encrypted backup now.";
