//! Every piece of console wording in one place, so it can be reviewed (and
//! one day translated) without reading layout code.

pub const APP_TITLE: &str = "custodian";
pub const DRILL_MARK: &str = " DRILL — synthetic material only ";

pub const HOME_TITLE: &str = "Home";
pub const HOME_WORKSPACE: &str = "Workspace";
pub const HOME_CUSTODIANS: &str = "Custodians";
pub const HOME_NO_CUSTODIANS: &str =
    "No custodians yet. Press n to create the first custodian identity.";
pub const HOME_AUDIT: &str = "Audit log";
pub const NET_WARNING: &str =
    "NETWORK UP — this machine should be air-gapped. Disconnect before handling key material:";
pub const NET_UNKNOWN: &str = "Could not check network interfaces";
pub const NET_OK: &str = "Offline: no network interface is up";

pub const HELP_TITLE: &str = "Help";
pub const HELP_GLOBAL: &[(&str, &str)] = &[
    (
        "? / F1",
        "show or hide this help (F1 where ? is typed as text)",
    ),
    ("Esc", "go back / cancel (not while an operation runs)"),
    ("Ctrl-C", "quit (not while an operation runs)"),
];
pub const BUSY_REFUSE: &str = "An operation is running; wait for it to finish.";

pub const NEWID_TITLE: &str = "New custodian identity";
pub const NEWID_NAME_PROMPT: &str = "Custodian name";
pub const NEWID_NAME_HINT: &str = "Letters, digits, spaces, '-', '_' or '.'. This name appears in the registry and the audit log.";
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
pub const KIT_FP_TITLE: &str = "Check a public key";
pub const KIT_FP_PROMPT: &str = "Public key file";
pub const KIT_FP_HINT: &str = "The phrase is the first 8 characters of base64(SHA-256(the PEM text)). It must match the phrase the vendor reads back.";
pub const KIT_VERIFY_TITLE: &str = "Verify a DR kit";
pub const KIT_DERIVE_TITLE: &str = "Derive Key Share #1";
pub const KIT_KIT_PROMPT: &str = "Kit zip";
pub const KIT_KEY_PROMPT: &str = "Recovery private key";
pub const KIT_OPEN_PASS_PROMPT: &str = "Key passphrase";
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
pub const SCENARIO_AFFECTED: &str = "Custodian concerned (optional)";
pub const SCENARIO_CONFIRM_PROMPT: &str = "Confirm this step";
pub const SCENARIO_RECORD_PROMPT: &str =
    "Run this on the offline machine, then press Enter to record it as done by";
pub const SCENARIO_CLOSE_PROMPT: &str =
    "Close the incident and write its report (steps not done are listed in it)";
pub const SCENARIO_CLOSED: &str = "Incident closed. Report written:";
pub const SCENARIO_HEAD: &str = "Audit head named in the report (write it down):";

pub const THREATS_TITLE: &str = "Threats and local checks";
pub const THREATS_RISK: &str = "Risk";
pub const THREATS_MITIGATIONS: &str = "Mitigations";
pub const THREATS_CHECKS: &str = "Checked on this machine";
pub const THREATS_NO_CHECKS: &str = "Nothing about this threat can be checked from an offline console; the mitigations are organisational.";

pub const CHECKLIST_TITLE: &str = "Pre-launch checklist";
pub const POLICY_TITLE: &str = "Institutional policy";
pub const CHECKLIST_TICK_PROMPT: &str = "Tick this item as";
pub const CHECKLIST_UNTICK_PROMPT: &str = "Untick this item as";
pub const CHECKLIST_AUTO: &str = "Verified from the workspace; it cannot be ticked by hand.";

pub const AUDIT_TITLE: &str = "Audit log";
pub const AUDIT_FILTER_EVENT: &str = "Filter by event";
pub const AUDIT_FILTER_KEY: &str = "Filter by key id";
pub const AUDIT_NOT_VERIFIED: &str = "Chain not verified yet: press v.";
pub const AUDIT_EMPTY: &str = "No entries match.";
