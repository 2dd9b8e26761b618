//! Screens: each owns its state, turns keys into [`Action`]s without doing
//! I/O, absorbs worker messages, and renders without side effects. The app
//! (`super::app`) is the only place effects happen.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use secrecy::SecretString;

use super::worker::WorkerMsg;

pub mod guardians_reconstruct;
pub mod guardians_split;
pub mod home;
pub mod new_identity;

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
    },
    /// Re-read the workspace for the home screen.
    RefreshHome,
    /// Open the guardian split wizard.
    OpenGuardianSplit,
    /// Open the reconstruct-from-guardians wizard.
    OpenGuardianReconstruct,
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
    /// Rebuild a key from a validated share set on a worker thread.
    StartGuardianCombine {
        /// The validated shares.
        set: crate::guardians::ShareSet,
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
            Action::OpenGuardianSplit => write!(f, "OpenGuardianSplit"),
            Action::OpenGuardianReconstruct => write!(f, "OpenGuardianReconstruct"),
            Action::StartGuardianSplit {
                threshold,
                guardians,
                ..
            } => write!(f, "StartGuardianSplit({threshold} of {})", guardians.len()),
            Action::LoadGuardianShare { .. } => write!(f, "LoadGuardianShare"),
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
}

/// One full-screen view.
pub trait Screen {
    /// Title for the frame.
    fn title(&self) -> String;
    /// Turns a key into an action. No I/O.
    fn handle_key(&mut self, key: KeyEvent) -> Option<Action>;
    /// Absorbs a worker message; may ask for a follow-up action.
    fn on_worker(&mut self, _msg: &WorkerMsg) -> Option<Action> {
        None
    }
    /// Draws the screen. Pure.
    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome);
    /// Key hints for the help bar and overlay: (key, what it does).
    fn commands(&self) -> Vec<(&'static str, &'static str)>;
    /// True while a worker runs for this screen: Esc and quit are refused.
    fn busy(&self) -> bool {
        false
    }
    /// Downcast hook for the home screen's data refresh.
    fn as_home(&mut self) -> Option<&mut home::HomeScreen> {
        None
    }
}
