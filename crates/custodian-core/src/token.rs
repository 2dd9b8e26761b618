//! Hardware tokens as a second factor, through age plugins.
//!
//! A token identity's secret key is first encrypted (age, binary format) to a
//! plugin recipient — `age1yubikey1…` from age-plugin-yubikey, or any
//! `age1NAME1…` whose `age-plugin-NAME` program is on the PATH — and that
//! ciphertext is what the passphrase envelope seals. Opening needs both: the
//! passphrase, then the plugin, which drives the token (PIN, touch).
//!
//! Plugins are separate processes, started by age's plugin launcher only for
//! the plugin the identity file names. What they ask of the user (a PIN, "touch
//! your token") reaches the user through a [`TokenUi`]: the command line
//! installs masked terminal prompts, the console a dialog. With none installed,
//! a token identity cannot be opened and says so.
//!
//! The age plugin protocol has no error codes: the plugin's own message is
//! always kept, and its kind (PIN refused, PIN locked, touch not given) is
//! read from it as well as it can be; a prompt the user cancelled is known
//! exactly.

use std::io::{Read, Write};
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use age::plugin;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::Explain;

/// Why a prompt got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// The user cancelled it (Esc, an empty PIN, end of the PIN file).
    Cancelled,
    /// Nobody answered within this many seconds.
    TimedOut(u64),
}

/// How a plugin's requests reach the user.
pub trait TokenUi: Send + Sync {
    /// Shows a message (for example "Touch your token now").
    fn message(&self, text: &str);
    /// Asks for a secret (a PIN), masked.
    fn request_secret(&self, prompt: &str) -> Result<SecretString, Unanswered>;
    /// Asks for a public value.
    fn request_public(&self, prompt: &str) -> Result<String, Unanswered>;
    /// Asks yes or no.
    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Result<bool, Unanswered>;
    /// Asked once the plugin has answered (after [`TokenUi::over`]):
    /// whether the user gave up while it worked (Esc on a "touch your
    /// token" message, or its time ran out). A key the token opened after
    /// that is dropped, not used.
    fn abandoned(&self) -> Option<Unanswered> {
        None
    }
    /// The UI one encryption or decryption uses, with its own give-up
    /// state, so that giving up on one call never fails the next (None:
    /// this UI is used as it is). Called once at the start of each call.
    fn for_one_call(&self) -> Option<Arc<dyn TokenUi>> {
        None
    }
    /// The plugin has answered: the call is over. A message still shown
    /// for it ("touch your token") is no longer current, and giving up on
    /// it can no longer stop anything.
    fn over(&self) {}
}

static UI: RwLock<Option<Arc<dyn TokenUi>>> = RwLock::new(None);

thread_local! {
    static THREAD_UI: std::cell::RefCell<Option<Arc<dyn TokenUi>>> =
        const { std::cell::RefCell::new(None) };
}

/// Installs the process's token UI (the CLI's prompts or the console's
/// dialog), replacing any earlier one.
pub fn install_ui(ui: Arc<dyn TokenUi>) {
    if let Ok(mut slot) = UI.write() {
        *slot = Some(ui);
    }
}

/// While the returned guard lives, this thread's token prompts go to `ui`
/// rather than the process's: the console gives each worker job the
/// dialog of the console that started it.
pub fn thread_ui(ui: Arc<dyn TokenUi>) -> ThreadUiGuard {
    let previous = THREAD_UI.with(|slot| slot.replace(Some(ui)));
    ThreadUiGuard { previous }
}

/// Restores the thread's earlier token UI when dropped.
pub struct ThreadUiGuard {
    previous: Option<Arc<dyn TokenUi>>,
}

impl Drop for ThreadUiGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        THREAD_UI.with(|slot| *slot.borrow_mut() = previous);
    }
}

fn installed_ui() -> Option<Arc<dyn TokenUi>> {
    THREAD_UI
        .with(|slot| slot.borrow().clone())
        .or_else(|| UI.read().ok().and_then(|slot| slot.clone()))
}

/// The workspace's policy on hardware tokens (threat 3), kept in the
/// registry as `tokenPolicy`: `advised` (the default) or `required`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenPolicy {
    /// Custodians without a token are reported, and `custodian check` passes.
    #[default]
    Advised,
    /// A custodian without a token fails `custodian check`.
    Required,
}

impl TokenPolicy {
    /// `advised` or `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPolicy::Advised => "advised",
            TokenPolicy::Required => "required",
        }
    }

    /// True for the default, which the registry does not write.
    pub fn is_default(&self) -> bool {
        *self == TokenPolicy::Advised
    }
}

/// Registry key of the policy.
pub const POLICY_SECTION: &str = "tokenPolicy";

/// Sets the workspace's token policy, audited as `TOKEN_POLICY_SET` with
/// the old and the new value. Returns the previous policy.
pub fn set_policy(
    ws: &crate::workspace::Workspace,
    policy: TokenPolicy,
) -> Result<TokenPolicy, crate::workspace::WorkspaceError> {
    let previous = ws.registry()?.token_policy;
    let op = ws
        .audit()
        .begin(
            "TOKEN_POLICY_SET",
            serde_json::json!({ "policy": policy.as_str(), "previous": previous.as_str() }),
        )
        .map_err(crate::workspace::WorkspaceError::from)?;
    match ws.update_registry(|reg| {
        reg.token_policy = policy;
        Ok::<_, crate::workspace::WorkspaceError>(())
    }) {
        Ok(()) => {
            op.complete(serde_json::json!({}))
                .map_err(crate::workspace::WorkspaceError::from)?;
            Ok(previous)
        }
        Err(e) => {
            let _ = op.fail(&e.to_string());
            Err(e)
        }
    }
}

/// What a token identity records about its token (all public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequirement {
    /// The plugin's name (`yubikey` for `age-plugin-yubikey`).
    pub plugin: String,
    /// The plugin recipient the key was encrypted to (`age1NAME1…`).
    pub recipient: String,
}

impl TokenRequirement {
    /// The program that must be on the PATH.
    pub fn binary(&self) -> String {
        format!("age-plugin-{}", self.plugin)
    }
}

/// Everything that can go wrong with a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a plugin recipient.
    #[error("`{0}` is not an age plugin recipient (expected age1NAME1…, e.g. age1yubikey1…)")]
    NotAPluginRecipient(String),
    /// The plugin program is not on the PATH.
    #[error("the token's plugin program `{binary}` was not found on the PATH")]
    MissingPlugin {
        /// The program name.
        binary: String,
    },
    /// The token present does not hold the key this identity was sealed to.
    #[error(
        "the token did not open this identity: it is not the token the identity was sealed to ({plugin})"
    )]
    WrongToken {
        /// The plugin name.
        plugin: String,
    },
    /// The token refused the PIN.
    #[error("the token refused the PIN: {message}")]
    PinRefused {
        /// The plugin's message.
        message: String,
    },
    /// The token's PIN is locked.
    #[error("the token's PIN is locked: {message}")]
    PinLocked {
        /// The plugin's message.
        message: String,
    },
    /// The user cancelled a prompt (PIN entry, or the touch dialog).
    #[error("the token prompt was cancelled")]
    Cancelled,
    /// Nobody answered the token's prompt in time.
    #[error("the token prompt was not answered within {seconds} s")]
    PromptTimedOut {
        /// The time allowed.
        seconds: u64,
    },
    /// The touch was not given in time.
    #[error("the token was not touched in time: {message}")]
    TouchCancelled {
        /// The plugin's message.
        message: String,
    },
    /// Another refusal from the plugin.
    #[error("the token plugin `{binary}` refused: {message}")]
    Refused {
        /// The program name.
        binary: String,
        /// The plugin's message.
        message: String,
    },
    /// No way to ask the user is available here.
    #[error(
        "this identity needs its hardware token, and nothing here can ask for the token's PIN or touch"
    )]
    NoUi,
    /// The sealed key could not be encrypted or decrypted.
    #[error("token encryption failed: {0}")]
    Age(String),
}

impl Explain for TokenError {
    fn remedy_for(&self, _to: crate::error::Audience) -> Option<String> {
        Some(match self {
            TokenError::NotAPluginRecipient(_) => {
                "give the recipient your token's plugin printed (age-plugin-yubikey --list, or age-plugin-NAME's generate output)".into()
            }
            TokenError::MissingPlugin { binary } => format!(
                "install `{binary}` and put it on the PATH (README: hardware tokens), then try again; nothing was changed"
            ),
            TokenError::WrongToken { .. } => {
                "insert the token this identity was sealed to; if it is lost, rebuild the identity from its guardians (the rebuild can enrol a new token)".into()
            }
            TokenError::PinRefused { .. } => {
                "try again with the token's PIN; tokens lock after a few wrong PINs".into()
            }
            TokenError::PinLocked { .. } => {
                "unlock the token with its PUK (for a YubiKey: ykman piv access unblock-pin), or rebuild the identity from its guardians onto a new token".into()
            }
            TokenError::Cancelled => {
                "try again and answer the token's prompt (its PIN); nothing was changed".into()
            }
            TokenError::PromptTimedOut { .. } => {
                "try again and answer the token's prompt (its PIN, then touch) before the countdown ends; nothing was changed".into()
            }
            TokenError::TouchCancelled { .. } => {
                "try again and touch the token when it blinks; nothing was changed".into()
            }
            TokenError::Refused { .. } => "see the plugin's message; nothing was changed".into(),
            TokenError::NoUi => {
                "open this identity from the command line or the console, where the token can be asked for".into()
            }
            TokenError::Age(_) => "check the token and its plugin; nothing was changed".into(),
        })
    }
}

/// Parses a plugin recipient (`age1NAME1…`) into a token requirement. An
/// X25519 recipient is refused: it is not a token.
pub fn parse_recipient(text: &str) -> Result<TokenRequirement, TokenError> {
    let text = text.trim();
    let short = crate::text::short_prefix(text);
    let r =
        plugin::Recipient::from_str(text).map_err(|_| TokenError::NotAPluginRecipient(short))?;
    Ok(TokenRequirement {
        plugin: r.plugin().to_string(),
        recipient: text.to_string(),
    })
}

/// The age callbacks that forward to the installed UI and remember a
/// prompt that went unanswered.
#[derive(Clone)]
struct Forward {
    ui: Arc<dyn TokenUi>,
    unanswered: Arc<std::sync::Mutex<Option<Unanswered>>>,
}

impl Forward {
    fn note<T>(&self, answer: Result<T, Unanswered>) -> Option<T> {
        match answer {
            Ok(v) => Some(v),
            Err(why) => {
                if let Ok(mut slot) = self.unanswered.lock() {
                    slot.get_or_insert(why);
                }
                None
            }
        }
    }

    /// The plugin has answered: ends the call on the UI's side, and says
    /// why the user's side gave up, if it did: a prompt left unanswered,
    /// or a message (touch) the user abandoned.
    fn finish(&self) -> Option<TokenError> {
        self.ui.over();
        let why = self
            .unanswered
            .lock()
            .ok()
            .and_then(|slot| *slot)
            .or_else(|| self.ui.abandoned())?;
        Some(match why {
            Unanswered::Cancelled => TokenError::Cancelled,
            Unanswered::TimedOut(seconds) => TokenError::PromptTimedOut { seconds },
        })
    }
}

impl age::Callbacks for Forward {
    fn display_message(&self, message: &str) {
        self.ui.message(&plain_text(message));
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let answer = self.note(self.ui.confirm(&plain_text(message), yes, no))?;
        if !answer {
            self.note::<()>(Err(Unanswered::Cancelled));
        }
        Some(answer)
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        self.note(self.ui.request_public(&plain_text(description)))
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        self.note(self.ui.request_secret(&plain_text(description)))
    }
}

fn forward() -> Result<Forward, TokenError> {
    let ui = installed_ui().ok_or(TokenError::NoUi)?;
    // Each call gives up (or not) on its own: an earlier call's cancelled
    // touch is that call's answer only.
    let ui = ui.for_one_call().unwrap_or(ui);
    Ok(Forward {
        ui,
        unanswered: Arc::new(std::sync::Mutex::new(None)),
    })
}

fn resolve_err(req: &TokenRequirement, e: plugin::ResolveError) -> TokenError {
    match e {
        plugin::ResolveError::MissingPlugin { binary_name } => TokenError::MissingPlugin {
            binary: binary_name,
        },
        other => TokenError::Refused {
            binary: req.binary(),
            message: other.to_string(),
        },
    }
}

/// age's messages come through its translations with Unicode isolation
/// marks around each inserted value; the terminal and the audit log get the
/// plain text.
fn plain_text(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{2066}'..='\u{2069}'))
        .collect()
}

/// Reads a plugin's message for its kind; the message itself is kept.
fn classify(req: &TokenRequirement, message: String) -> TokenError {
    let lower = message.to_lowercase();
    if lower.contains("pin") && (lower.contains("locked") || lower.contains("blocked")) {
        TokenError::PinLocked { message }
    } else if lower.contains("pin")
        && (lower.contains("wrong") || lower.contains("incorrect") || lower.contains("invalid"))
    {
        TokenError::PinRefused { message }
    } else if lower.contains("cancel") && lower.contains("pin") {
        TokenError::Cancelled
    } else if lower.contains("touch") || lower.contains("timed out") || lower.contains("timeout") {
        TokenError::TouchCancelled { message }
    } else if lower.contains("wrong token") || lower.contains("not the one") {
        TokenError::WrongToken {
            plugin: req.plugin.clone(),
        }
    } else {
        TokenError::Refused {
            binary: req.binary(),
            message,
        }
    }
}

/// Encrypts `plain` (the identity's secret key text) to the token's
/// recipient; the result is a binary age file. Encrypting to a plugin
/// recipient does not need the token itself, only its plugin program.
pub fn encrypt(req: &TokenRequirement, plain: &[u8]) -> Result<Vec<u8>, TokenError> {
    let recipient = plugin::Recipient::from_str(&req.recipient)
        .map_err(|_| TokenError::NotAPluginRecipient(crate::text::short_prefix(&req.recipient)))?;
    let callbacks = forward()?;
    let p = plugin::RecipientPluginV1::new(&req.plugin, &[recipient], &[], callbacks.clone())
        .map_err(|e| resolve_err(req, e))?;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&p as &dyn age::Recipient));
    // The plugin has answered. A prompt the user cancelled (or let time
    // out) is that, not whatever the plugin then said.
    if let Some(e) = callbacks.finish() {
        return Err(e);
    }
    let encryptor = encryptor.map_err(|e| match e {
        age::EncryptError::PluginResolve(e) => resolve_err(req, e),
        age::EncryptError::Plugin(errors) => classify(
            req,
            errors
                .iter()
                .map(|e| plain_text(&e.to_string()))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => TokenError::Age(other.to_string()),
    })?;
    let mut out = Vec::new();
    let mut w = encryptor
        .wrap_output(&mut out)
        .map_err(|e| TokenError::Age(e.to_string()))?;
    w.write_all(plain)
        .map_err(|e| TokenError::Age(e.to_string()))?;
    w.finish().map_err(|e| TokenError::Age(e.to_string()))?;
    Ok(out)
}

/// Decrypts an age file sealed to the token (asking, through the installed
/// UI, for what the plugin needs).
pub fn decrypt(req: &TokenRequirement, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
    let identity =
        plugin::Identity::default_for_plugin(&req.plugin).map_err(|e| resolve_err(req, e))?;
    let callbacks = forward()?;
    let p = plugin::IdentityPluginV1::new(&req.plugin, &[identity], callbacks.clone())
        .map_err(|e| resolve_err(req, e))?;
    let decryptor = age::Decryptor::new(sealed).map_err(|e| TokenError::Age(e.to_string()))?;
    let result = decryptor.decrypt(std::iter::once(&p as &dyn age::Identity));
    // The user gave up (a prompt cancelled or timed out, or the touch
    // dialog left): that is the error, whatever the plugin then said, and
    // a key it opened anyway is dropped unread.
    if let Some(e) = callbacks.finish() {
        return Err(e);
    }
    let mut reader = match result {
        Ok(r) => r,
        Err(age::DecryptError::NoMatchingKeys) => {
            return Err(TokenError::WrongToken {
                plugin: req.plugin.clone(),
            });
        }
        Err(age::DecryptError::Plugin(errors)) => {
            // age's plugin error type is not public; its text carries the
            // plugin's own message.
            let message = errors
                .iter()
                .map(|e| plain_text(&e.to_string()))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(classify(req, message));
        }
        Err(e) => return Err(TokenError::Age(e.to_string())),
    };
    let mut plain = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plain)
        .map_err(|e| TokenError::Age(e.to_string()))?;
    Ok(plain)
}

/// The command line's token UI: messages on stderr, the PIN from a masked
/// prompt on the terminal — or, for scripted use and tests, line by line
/// from the file `CUSTODIAN_TOKEN_PIN_FILE` names (never the PIN itself in
/// the environment or argv). End of that file is a cancelled prompt.
pub struct TerminalUi {
    lines: std::sync::Mutex<Option<Box<dyn std::io::BufRead + Send>>>,
    file: Option<std::path::PathBuf>,
}

impl TerminalUi {
    /// Reads `CUSTODIAN_TOKEN_PIN_FILE`; the terminal when it is unset.
    pub fn from_env() -> Self {
        TerminalUi {
            lines: std::sync::Mutex::new(None),
            file: std::env::var_os("CUSTODIAN_TOKEN_PIN_FILE").map(Into::into),
        }
    }

    fn next_line(&self) -> Option<Zeroizing<String>> {
        let path = self.file.as_ref()?;
        let mut guard = self.lines.lock().ok()?;
        if guard.is_none() {
            let f = std::fs::File::open(path).ok()?;
            *guard = Some(Box::new(std::io::BufReader::new(f)));
        }
        let reader = guard.as_mut()?;
        let mut line = Zeroizing::new(String::new());
        match std::io::BufRead::read_line(reader, &mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(Zeroizing::new(
                line.trim_end_matches(['\n', '\r']).to_string(),
            )),
        }
    }
}

impl TokenUi for TerminalUi {
    fn message(&self, text: &str) {
        eprintln!("token: {text}");
    }

    fn request_secret(&self, prompt: &str) -> Result<SecretString, Unanswered> {
        if self.file.is_some() {
            eprintln!("token: {prompt} (from CUSTODIAN_TOKEN_PIN_FILE)");
            // End of the file, or an empty line, is a cancelled prompt.
            return self
                .next_line()
                .filter(|l| !l.is_empty())
                .map(|l| SecretString::from(l.as_str()))
                .ok_or(Unanswered::Cancelled);
        }
        let pin = Zeroizing::new(
            rpassword::prompt_password(format!("token: {prompt}: "))
                .map_err(|_| Unanswered::Cancelled)?,
        );
        if pin.is_empty() {
            Err(Unanswered::Cancelled)
        } else {
            Ok(SecretString::from(pin.as_str()))
        }
    }

    fn request_public(&self, prompt: &str) -> Result<String, Unanswered> {
        if self.file.is_some() {
            return self
                .next_line()
                .map(|l| l.to_string())
                .ok_or(Unanswered::Cancelled);
        }
        eprint!("token: {prompt}: ");
        let tty = std::fs::File::open("/dev/tty").map_err(|_| Unanswered::Cancelled)?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(tty), &mut line)
            .map_err(|_| Unanswered::Cancelled)?;
        Ok(line.trim_end().to_string())
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Result<bool, Unanswered> {
        let no = no.unwrap_or("no");
        let answer = self.request_public(&format!("{message} [{yes}/{no}]"))?;
        Ok(answer.eq_ignore_ascii_case(yes) || answer.eq_ignore_ascii_case("y"))
    }
}
