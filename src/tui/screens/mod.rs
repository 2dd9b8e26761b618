//! Screens: each owns its state, turns keys into [`Action`]s without doing
//! I/O, absorbs worker messages, and renders without side effects. The app
//! (`super::app`) is the only place effects happen.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use secrecy::SecretString;

use super::worker::WorkerMsg;

pub mod home;
pub mod new_identity;
pub mod recovery;
pub mod shard_list;
pub mod shard_rewrap;

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
    /// Open the shards screen.
    OpenShards,
    /// Read a shard file's public metadata on a worker thread.
    InspectShard(std::path::PathBuf),
    /// Open the rewrap or restore-to-node wizard for a loaded shard.
    OpenRewrap(Box<shard_rewrap::RewrapStart>),
    /// Rewrap a shard on a worker thread.
    StartRewrap(Box<crate::shard::RewrapRequest>),
    /// Open the recovery wizard.
    OpenRecovery,
    /// Run a recovery on a worker thread.
    StartRecovery(Box<recovery::RecoveryJob>),
    /// Record that a one-time key display was cleared.
    RecordDisplayCleared {
        /// The key id.
        key_id: String,
        /// The recovery's audit operation id.
        op: String,
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
            Action::OpenShards => write!(f, "OpenShards"),
            Action::InspectShard(p) => write!(f, "InspectShard({})", p.display()),
            Action::OpenRewrap(s) => write!(f, "OpenRewrap({})", s.shard.display()),
            Action::StartRewrap(r) => write!(f, "StartRewrap({r:?})"),
            Action::OpenRecovery => write!(f, "OpenRecovery"),
            Action::StartRecovery(_) => write!(f, "StartRecovery"),
            Action::RecordDisplayCleared { key_id, .. } => {
                write!(f, "RecordDisplayCleared({key_id})")
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
    /// Time passed (one [`crate::tui::event::TICK`]); drives countdowns.
    fn on_tick(&mut self, _tick: u64) -> Option<Action> {
        None
    }
    /// True while a worker runs for this screen: Esc and quit are refused.
    fn busy(&self) -> bool {
        false
    }
    /// Downcast hook for the home screen's data refresh.
    fn as_home(&mut self) -> Option<&mut home::HomeScreen> {
        None
    }
}
