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
