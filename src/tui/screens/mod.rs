//! Screens: each owns its state, turns keys into [`Action`]s without doing
//! I/O, absorbs worker messages, and renders without side effects. The app
//! (`super::app`) is the only place effects happen.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use secrecy::SecretString;

use super::worker::WorkerMsg;

pub mod audit_view;
pub mod backup;
pub mod ceremony;
pub mod checklist;
pub mod drill;
pub mod drill_card;
pub mod guardians_reconstruct;
pub mod guardians_split;
pub mod home;
pub mod kit_fingerprint;
pub mod kit_keygen;
pub mod kit_keys;
pub mod kit_menu;
pub mod kit_use;
pub mod new_identity;
pub mod recovery;
pub mod retire;
pub mod roll_call;
pub mod rotate;
pub mod scenario;
pub mod scenarios;
pub mod shard_list;
pub mod shard_rewrap;
pub mod threats;

/// What a screen asks the app to do. Imperative; carries only what the
/// effect needs.
pub enum Action {
    /// Leave the current screen.
    Back,
    /// Quit the console.
    Quit,
    /// Open the "new custodian identity" wizard.
    OpenNewIdentity,
    /// Generate a custodian identity on a worker thread.
    CreateIdentity {
        /// The custodian's name.
        name: String,
        /// The chosen passphrase.
        passphrase: SecretString,
        /// A hardware token's plugin recipient (passphrase + token).
        token: Option<String>,
    },
    /// Re-read the workspace for the home screen.
    RefreshHome,
    /// Open the vendor DR kit menu.
    OpenKitMenu,
    /// Open the quarterly drill screen.
    OpenDrill,
    /// Run the automatic drill on a worker thread.
    RunDrill {
        /// People taking part (the recovery quorum).
        participants: Vec<String>,
    },
    /// List the old drill sandboxes of the real workspace (on a worker).
    ListSandboxes,
    /// Delete an old drill sandbox (checked to be one; audited in the real
    /// workspace), on a worker.
    DeleteSandbox(std::path::PathBuf),
    /// Switch the console into a drill sandbox workspace.
    EnterSandbox(std::path::PathBuf),
    /// Return from a drill sandbox to the workspace the console opened on.
    LeaveSandbox,
    /// Open the "create recovery key pair" wizard.
    OpenKitKeygen,
    /// Open the "check a public key" screen.
    OpenKitFingerprint,
    /// Open the kit wizard to verify (false) or derive (true).
    OpenKitUse {
        /// Derive shares rather than only verify.
        derive: bool,
    },
    /// Open the kit's workspace keys wizard: verify with the owner's
    /// mobile secret (false) or recover (true).
    OpenKitKeys {
        /// Recover rather than only verify.
        recover: bool,
    },
    /// Verify or recover the kit's workspace keys on a worker thread.
    StartKitKeys(Box<kit_keys::KitKeysJob>),
    /// Record how a one-time display of recovered workspace keys ended.
    RecordKitDisplayCleared {
        /// The recovery's audit operation id.
        op: String,
        /// Shown and cleared, timed out, or abandoned.
        ended: crate::tui::output::DisplayEnd,
    },
    /// Create the recovery key pair on a worker thread.
    CreateRecoveryKey {
        /// Private key file.
        private: std::path::PathBuf,
        /// Public key file.
        public: std::path::PathBuf,
        /// The new passphrase.
        passphrase: SecretString,
    },
    /// Compute a public key file's phrase and QR code.
    CheckPublicKey {
        /// The file.
        path: std::path::PathBuf,
    },
    /// Print sheets as PDFs on the worker (`custodian print`), then send
    /// them to the default printer when one is configured; the app shows
    /// the paths in the footer.
    Print(Vec<custodian_core::print::What>),
    /// Write each guardian share's QR code as a PNG (it does not fit a
    /// terminal) on the worker; the app shows the paths in the footer.
    WriteShareQrPngs(Vec<std::path::PathBuf>),
    /// Write a public key's QR code as a PNG next to it.
    WriteQrPng {
        /// The public key file.
        public: std::path::PathBuf,
    },
    /// Verify a kit on a worker thread.
    VerifyKit {
        /// The kit zip.
        kit: std::path::PathBuf,
        /// The private key file.
        key: std::path::PathBuf,
        /// Its passphrase, if it is encrypted.
        passphrase: Option<SecretString>,
    },
    /// Open the recovery private key with a passphrase on a worker thread
    /// (checked as it is typed, before the rest of the derive form).
    CheckKitKey {
        /// The private key file.
        key: std::path::PathBuf,
        /// Its passphrase, if it is encrypted.
        passphrase: Option<SecretString>,
    },
    /// Derive shares on a worker thread.
    DeriveShares {
        /// The kit zip.
        kit: std::path::PathBuf,
        /// The private key file.
        key: std::path::PathBuf,
        /// Its passphrase, if it is encrypted.
        passphrase: Option<SecretString>,
        /// The wallet ids.
        wallets: custodian_core::drkit::derive::WalletSource,
        /// The output file.
        out: std::path::PathBuf,
        /// Format and skip-invalid.
        options: custodian_core::drkit::derive::DeriveOptions,
    },
    /// Open the shards screen.
    OpenShards,
    /// Read a shard file's public metadata on a worker thread.
    InspectShard(std::path::PathBuf),
    /// Open the rewrap or restore-to-node wizard for a loaded shard.
    OpenRewrap(Box<shard_rewrap::RewrapStart>),
    /// Rewrap a shard on a worker thread, with the override's approvers
    /// who opened their identity (typed names are in the request).
    StartRewrap(
        Box<custodian_core::shard::RewrapRequest>,
        Vec<custodian_core::approvals::Approval>,
    ),
    /// Open the recovery wizard.
    OpenRecovery,
    /// Run a recovery on a worker thread.
    StartRecovery(Box<recovery::RecoveryJob>),
    /// Open an approver's own identity on a worker thread (proof of presence).
    CheckRecoveryApprover {
        /// The approver's name.
        name: String,
        /// Their own identity passphrase.
        passphrase: SecretString,
    },
    /// Check one shard's inputs (and the passphrase) on a worker thread.
    CheckRecoveryShard {
        /// The shard and identity files.
        source: custodian_core::recovery::ShardSource,
        /// The holder's passphrase.
        passphrase: SecretString,
    },
    /// Record how a one-time key display ended.
    RecordDisplayCleared {
        /// The key id.
        key_id: String,
        /// The recovery's audit operation id.
        op: String,
        /// Shown and cleared, timed out, or abandoned.
        ended: crate::tui::output::DisplayEnd,
    },
    /// Open the scenario list.
    OpenScenarios,
    /// Open scenario `n` (resuming its open incident, if any).
    OpenScenario(u8),
    /// Open the threat screens on threat `n`.
    OpenThreats(u8),
    /// Open the pre-launch checklist and policy.
    OpenChecklist,
    /// Open the audit viewer.
    OpenAuditView,
    /// Show the drill card of the sandbox being walked.
    OpenDrillCard,
    /// Re-run the local threat checks.
    RefreshThreats,
    /// Re-read and verify the audit log.
    VerifyAudit,
    /// Open an incident for a scenario.
    StartIncident {
        /// The scenario number.
        scenario: u8,
        /// Who opens it.
        operator: String,
        /// The custodian it concerns, if any.
        affected: Option<String>,
    },
    /// Record a step of an incident as done.
    CompleteStep {
        /// The incident id.
        incident: String,
        /// The step id.
        step: String,
        /// Who confirms it.
        operator: String,
        /// How it was done.
        how: custodian_core::playbook::incident::StepHow,
        /// What the operator wrote about it.
        notes: Option<String>,
    },
    /// Take back a step's confirmation.
    ReopenStep {
        /// The incident id.
        incident: String,
        /// The step id.
        step: String,
        /// Who reopens it.
        operator: String,
        /// Why the confirmation was a mistake.
        reason: String,
    },
    /// Launch the local operation a scenario step names.
    LaunchOperation {
        /// Which operation.
        op: custodian_core::playbook::Operation,
        /// What the step knows: incident, step, operator, suggested values.
        prefill: scenario::Prefill,
    },
    /// Close an incident and write its report.
    CloseIncident {
        /// The incident id.
        incident: String,
        /// Who closes it.
        operator: String,
        /// Who approved (identities opened, or typed names).
        approvals: Vec<custodian_core::approvals::Approval>,
    },
    /// Tick or untick a manual checklist item.
    TickChecklist {
        /// The item id.
        item: String,
        /// Who ticks it.
        operator: String,
        /// Tick (true) or untick (false).
        ticked: bool,
    },
    /// Open the rotation flow for the named custodian.
    OpenRotate(String),
    /// Check a custodian's current passphrase before a rotation (audited
    /// as a failed rotation when wrong).
    CheckRotatePassphrase {
        /// The rotation's plan.
        plan: Box<custodian_core::lifecycle::rotate::RotationPlan>,
        /// The passphrase typed.
        passphrase: SecretString,
    },
    /// Run a rotation on a worker thread.
    StartRotation(Box<rotate::RotationJob>),
    /// Opens the retirement flow for a custodian (home row).
    OpenRetire(String),
    /// Plans a retirement for the chosen successor (answered with
    /// [`retire::RetireScreen::set_plan`]).
    PlanRetirement {
        /// The retiree.
        name: String,
        /// The successor.
        successor: String,
    },
    /// Opens the retiree's identity on a worker (audited when refused).
    CheckRetireePassphrase {
        /// The plan.
        plan: Box<custodian_core::lifecycle::retire::RetirementPlan>,
        /// The passphrase.
        passphrase: SecretString,
    },
    /// Runs the retirement on a worker.
    StartRetirement(Box<retire::RetirementJob>),
    /// Opens the onboarding ceremony (home).
    OpenCeremony,
    /// Runs a step of the onboarding ceremony on a worker.
    Ceremony(Box<ceremony::CeremonyJob>),
    /// Opens the guardian roll call (home).
    OpenRollCall,
    /// One guardian opens their share on a worker; a pass is recorded.
    CheckRollCallShare {
        /// Whose turn, and the share they gave.
        turn: Box<roll_call::RollCallTurn>,
        /// Their passphrase.
        passphrase: SecretString,
    },
    /// Open the backup and restore screen.
    OpenBackup,
    /// Write an encrypted backup of the workspace on a worker.
    StartBackup(backup::BackupJob),
    /// Verify and restore an archive into a new directory on a worker.
    StartRestore(Box<backup::RestoreJob>),
    /// Open the guardian split wizard.
    OpenGuardianSplit,
    /// Open the reconstruct-from-guardians wizard.
    OpenGuardianReconstruct,
    /// Check the custodian's passphrase on a worker thread before the
    /// guardians choose theirs.
    CheckSplitPassphrase {
        /// The custodian's identity file.
        identity_path: std::path::PathBuf,
        /// Its passphrase.
        identity_passphrase: SecretString,
    },
    /// Split a custodian's key among guardians on a worker thread.
    StartGuardianSplit {
        /// The custodian's identity file.
        identity_path: std::path::PathBuf,
        /// Its passphrase.
        identity_passphrase: SecretString,
        /// Shares needed.
        threshold: usize,
        /// Guardians and their new passphrases, in share order.
        guardians: Vec<(String, SecretString)>,
    },
    /// Read a share file (or parse a printed line) on a worker thread.
    LoadGuardianShare {
        /// A path or a printed custodianshare1… line.
        input: String,
    },
    /// Open one guardian's share with the passphrase they typed, on a
    /// worker thread, and drop it: their passphrase checked as typed.
    CheckGuardianShare {
        /// The share (public header and sealed envelope).
        share: Box<custodian_core::guardians::ShareFile>,
        /// The passphrase the guardian typed.
        passphrase: SecretString,
    },
    /// Rebuild a key from a validated share set on a worker thread.
    StartGuardianCombine {
        /// The validated shares.
        set: custodian_core::guardians::ShareSet,
        /// Each share's guardian passphrase, in the set's order.
        passphrases: Vec<SecretString>,
        /// The rebuilt identity's new passphrase.
        new_passphrase: SecretString,
    },
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Back => write!(f, "Back"),
            Action::Quit => write!(f, "Quit"),
            Action::OpenNewIdentity => write!(f, "OpenNewIdentity"),
            Action::CreateIdentity { name, .. } => write!(f, "CreateIdentity({name})"),
            Action::RefreshHome => write!(f, "RefreshHome"),
            Action::OpenKitMenu => write!(f, "OpenKitMenu"),
            Action::OpenDrill => write!(f, "OpenDrill"),
            Action::RunDrill { participants } => write!(f, "RunDrill({})", participants.join(", ")),
            Action::EnterSandbox(p) => write!(f, "EnterSandbox({})", p.display()),
            Action::ListSandboxes => write!(f, "ListSandboxes"),
            Action::DeleteSandbox(p) => write!(f, "DeleteSandbox({})", p.display()),
            Action::LeaveSandbox => write!(f, "LeaveSandbox"),
            Action::OpenKitKeygen => write!(f, "OpenKitKeygen"),
            Action::OpenKitFingerprint => write!(f, "OpenKitFingerprint"),
            Action::OpenKitUse { derive } => write!(f, "OpenKitUse(derive={derive})"),
            Action::OpenKitKeys { recover } => write!(f, "OpenKitKeys(recover={recover})"),
            Action::StartKitKeys(job) => write!(f, "StartKitKeys({job:?})"),
            Action::RecordKitDisplayCleared { op, ended } => {
                write!(f, "RecordKitDisplayCleared({op}, {})", ended.as_str())
            }
            Action::CreateRecoveryKey { private, .. } => {
                write!(f, "CreateRecoveryKey({})", private.display())
            }
            Action::CheckPublicKey { path } => write!(f, "CheckPublicKey({})", path.display()),
            Action::WriteQrPng { public } => write!(f, "WriteQrPng({})", public.display()),
            Action::Print(what) => write!(f, "Print({what:?})"),
            Action::WriteShareQrPngs(files) => write!(f, "WriteShareQrPngs({})", files.len()),
            Action::VerifyKit { kit, .. } => write!(f, "VerifyKit({})", kit.display()),
            Action::CheckKitKey { key, .. } => write!(f, "CheckKitKey({})", key.display()),
            Action::DeriveShares { kit, out, .. } => {
                write!(f, "DeriveShares({} -> {})", kit.display(), out.display())
            }
            Action::OpenShards => write!(f, "OpenShards"),
            Action::InspectShard(p) => write!(f, "InspectShard({})", p.display()),
            Action::OpenRewrap(s) => write!(f, "OpenRewrap({})", s.shard.display()),
            Action::StartRewrap(r, a) => write!(f, "StartRewrap({r:?}, {} approvals)", a.len()),
            Action::OpenRecovery => write!(f, "OpenRecovery"),
            Action::StartRecovery(_) => write!(f, "StartRecovery"),
            Action::CheckRecoveryApprover { name, .. } => {
                write!(f, "CheckRecoveryApprover({name})")
            }
            Action::CheckRecoveryShard { source, .. } => {
                write!(f, "CheckRecoveryShard({})", source.shard.display())
            }
            Action::RecordDisplayCleared { key_id, ended, .. } => {
                write!(f, "RecordDisplayCleared({key_id}, {})", ended.as_str())
            }
            Action::OpenScenarios => write!(f, "OpenScenarios"),
            Action::OpenScenario(n) => write!(f, "OpenScenario({n})"),
            Action::OpenThreats(n) => write!(f, "OpenThreats({n})"),
            Action::OpenChecklist => write!(f, "OpenChecklist"),
            Action::OpenAuditView => write!(f, "OpenAuditView"),
            Action::OpenDrillCard => write!(f, "OpenDrillCard"),
            Action::RefreshThreats => write!(f, "RefreshThreats"),
            Action::VerifyAudit => write!(f, "VerifyAudit"),
            Action::StartIncident { scenario, .. } => write!(f, "StartIncident({scenario})"),
            Action::CompleteStep { incident, step, .. } => {
                write!(f, "CompleteStep({incident}, {step})")
            }
            Action::LaunchOperation { op, prefill } => {
                write!(f, "LaunchOperation({op}, {})", prefill.step)
            }
            Action::CloseIncident { incident, .. } => write!(f, "CloseIncident({incident})"),
            Action::ReopenStep { incident, step, .. } => {
                write!(f, "ReopenStep({incident}, {step})")
            }
            Action::TickChecklist { item, ticked, .. } => {
                write!(f, "TickChecklist({item}, {ticked})")
            }
            Action::OpenRotate(n) => write!(f, "OpenRotate({n})"),
            Action::CheckRotatePassphrase { plan, .. } => {
                write!(f, "CheckRotatePassphrase({})", plan.custodian.name)
            }
            Action::StartRotation(job) => write!(f, "StartRotation({job:?})"),
            Action::OpenRetire(n) => write!(f, "OpenRetire({n})"),
            Action::PlanRetirement { name, successor } => {
                write!(f, "PlanRetirement({name} -> {successor})")
            }
            Action::CheckRetireePassphrase { plan, .. } => {
                write!(f, "CheckRetireePassphrase({})", plan.retiree.name)
            }
            Action::StartRetirement(job) => write!(f, "StartRetirement({job:?})"),
            Action::OpenCeremony => write!(f, "OpenCeremony"),
            Action::Ceremony(job) => write!(f, "Ceremony({job:?})"),
            Action::OpenRollCall => write!(f, "OpenRollCall"),
            Action::CheckRollCallShare { turn, .. } => {
                write!(f, "CheckRollCallShare({})", turn.guardian)
            }
            Action::OpenBackup => write!(f, "OpenBackup"),
            Action::StartBackup(job) => write!(f, "StartBackup({})", job.out.display()),
            Action::StartRestore(job) => write!(f, "StartRestore({job:?})"),
            Action::OpenGuardianSplit => write!(f, "OpenGuardianSplit"),
            Action::OpenGuardianReconstruct => write!(f, "OpenGuardianReconstruct"),
            Action::StartGuardianSplit {
                threshold,
                guardians,
                ..
            } => write!(f, "StartGuardianSplit({threshold} of {})", guardians.len()),
            Action::CheckSplitPassphrase { .. } => write!(f, "CheckSplitPassphrase"),
            Action::LoadGuardianShare { .. } => write!(f, "LoadGuardianShare"),
            Action::CheckGuardianShare { share, .. } => {
                write!(f, "CheckGuardianShare({})", share.guardian)
            }
            Action::StartGuardianCombine { set, .. } => {
                write!(f, "StartGuardianCombine({})", set.custodian)
            }
        }
    }
}

/// Shared, read-only facts every screen may show.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// Spinner/countdown tick.
    pub tick: u64,
    /// The workspace is a drill sandbox.
    pub sandbox: bool,
    /// Live network interfaces (or why they could not be listed), as last
    /// checked; None when the machine is offline.
    pub network_up: Option<String>,
    /// What is wrong with the audit chain, as last checked.
    pub audit_broken: Option<String>,
}

/// One full-screen view.
pub trait Screen {
    /// Title for the frame.
    fn title(&self) -> String;
    /// True for screens that handle secrets (passphrases, keys, shares):
    /// the air-gap banner and a broken-audit warning show above them.
    fn touches_secrets(&self) -> bool {
        false
    }
    /// Turns a key into an action. No I/O.
    fn handle_key(&mut self, key: KeyEvent) -> Option<Action>;
    /// Pasted text (bracketed paste). Screens with a form put it in the
    /// focused field; by default a screen that takes text gets it as typed
    /// characters (line breaks dropped) and any other screen ignores it,
    /// so a paste never fires a command.
    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        if !self.takes_text() {
            return None;
        }
        let mut last = None;
        for c in text.chars().filter(|c| !c.is_control()) {
            last = self
                .handle_key(KeyEvent::from(crossterm::event::KeyCode::Char(c)))
                .or(last);
        }
        last
    }
    /// Absorbs a worker message; may ask for a follow-up action.
    fn on_worker(&mut self, _msg: &WorkerMsg) -> Option<Action> {
        None
    }
    /// Draws the screen. Pure.
    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome);
    /// Key hints for the help overlay: (key, what it does).
    fn commands(&self) -> Vec<(&'static str, &'static str)>;
    /// The few hints the footer bar shows (all of [`Screen::commands`] by default).
    fn footer(&self) -> Vec<(&'static str, &'static str)> {
        self.commands()
    }
    /// True when the screen has a text field that takes `?` as a character;
    /// help then opens with F1 only.
    fn takes_text(&self) -> bool {
        true
    }
    /// Time passed (one [`crate::tui::event::TICK`]); drives countdowns.
    fn on_tick(&mut self, _tick: u64) -> Option<Action> {
        None
    }
    /// True while a worker runs for this screen: Esc is refused and
    /// quitting asks first.
    fn busy(&self) -> bool {
        false
    }
    /// True while something on the screen moves on its own (a spinner, a
    /// countdown): the console makes ticks only then, so an idle console
    /// uses no CPU. Busy screens show a spinner, hence the default.
    fn animating(&self) -> bool {
        self.busy()
    }
    /// True when the screen holds something typed (or a result not yet
    /// acknowledged) that quitting would lose: quitting asks first.
    /// Screens with text fields are wizards, so that is the default.
    fn holds_input(&self) -> bool {
        self.takes_text()
    }
    /// The console is quitting: a last action to record how this screen
    /// ended (e.g. a one-time key display abandoned).
    fn on_quit(&mut self) -> Option<Action> {
        None
    }
    /// Downcast hook for the home screen's data refresh.
    fn as_home(&mut self) -> Option<&mut home::HomeScreen> {
        None
    }
    /// Downcast hook for screens the app feeds after an effect (playbook).
    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}
