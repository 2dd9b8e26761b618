//! Passphrases: the creation policy, a strength estimate, a diceware
//! generator, and the places a passphrase may come from.
//!
//! A passphrase is only ever held as a [`SecretString`]. It comes from the
//! terminal (masked), from a file, or from an inherited file descriptor —
//! never from argv or the environment, where other processes and shell
//! history can read it.
//!
//! The creation policy follows the institutional policy: at least 24
//! characters, or a diceware phrase of at least six words from the EFF large
//! list. On top of that the zxcvbn estimate must not call it guessable, so a
//! 24-character run of one letter is still refused.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::OnceLock;

use rand::RngExt as _;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::error::Explain;

/// Minimum length for a non-diceware passphrase, in characters.
pub const MIN_CHARS: usize = 24;
/// Minimum number of list words for a diceware passphrase.
pub const MIN_WORDS: usize = 6;
/// Words the generator uses when not told otherwise (about 90 bits).
pub const DEFAULT_WORDS: usize = 7;
/// The most words the generator will produce.
pub const MAX_WORDS: usize = 32;
/// Minimum zxcvbn score (0–4) a new passphrase must reach.
pub const MIN_SCORE: u8 = 3;
/// Longest passphrase line accepted from a file or descriptor.
const MAX_LINE: usize = 1024;

/// Why a passphrase could not be used or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PassphraseError {
    /// Too short and not a long enough diceware phrase.
    #[error(
        "the passphrase is too short: {chars} characters and {words} list words (need {MIN_CHARS} characters, or {MIN_WORDS} diceware words)"
    )]
    TooShort {
        /// Characters given.
        chars: usize,
        /// Words from the list found.
        words: usize,
    },
    /// Long enough, but the estimate says it is easy to guess.
    #[error("the passphrase is too predictable (strength {score}/4): {hint}")]
    Predictable {
        /// zxcvbn score.
        score: u8,
        /// zxcvbn's reason, or a generic one.
        hint: String,
    },
    /// The two entries did not match.
    #[error("the two passphrases do not match")]
    Mismatch,
    /// Nothing was entered.
    #[error("no passphrase was given")]
    Empty,
    /// A passphrase source (file or descriptor) ran out of lines.
    #[error("{source_name} has no more passphrase lines (needed one for: {purpose})")]
    Exhausted {
        /// The file or descriptor.
        source_name: String,
        /// What the passphrase was for.
        purpose: String,
    },
    /// Reading the terminal, file or descriptor failed.
    #[error("could not read a passphrase from {source_name}: {error}")]
    Read {
        /// The file, descriptor or terminal.
        source_name: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A line in a passphrase file is absurdly long.
    #[error("a line in {source_name} is longer than {MAX_LINE} bytes")]
    LineTooLong {
        /// The file or descriptor.
        source_name: String,
    },
    /// The generator was asked for a word count outside its range.
    #[error("a generated passphrase needs {MIN_WORDS} to {MAX_WORDS} words, not {0}")]
    WordCount(usize),
}

impl Explain for PassphraseError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(
            match self {
                PassphraseError::TooShort { .. } | PassphraseError::Predictable { .. } => {
                    return Some(to.pick("use `custodian passphrase generate` for a 7-word diceware phrase, or choose a longer, less predictable one", "choose a 7-word diceware phrase (Ctrl-G generates one where the hint offers it), or a longer, less predictable one"));
                }
                PassphraseError::Mismatch => "type the same passphrase twice",
                PassphraseError::Empty => "enter a passphrase",
                PassphraseError::Exhausted { .. } => {
                    "put one passphrase per line, in the order the command asks for them"
                }
                PassphraseError::Read { .. } => {
                    "check the file or descriptor, or run the command in a terminal"
                }
                PassphraseError::LineTooLong { .. } => "check that this is a passphrase file",
                PassphraseError::WordCount(_) => "pick a word count between 6 and 32",
            }
            .to_string(),
        )
    }
}

/// The EFF large word list (7,776 words), as a slice.
pub fn word_list() -> &'static [&'static str] {
    &diceware_wordlists::EFF_LONG_WORDLIST
}

fn word_set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| word_list().iter().copied().collect())
}

/// A strength estimate, safe to display (holds nothing of the passphrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strength {
    /// zxcvbn score, 0 (terrible) to 4 (strong).
    pub score: u8,
    /// log10 of the estimated number of guesses.
    pub guesses_log10: u32,
    /// Estimated offline crack time, for a human ("centuries").
    pub crack_time: String,
    /// Characters in the passphrase.
    pub chars: usize,
    /// Words from the diceware list, when the phrase is made only of them.
    pub diceware_words: usize,
    /// zxcvbn's warning, if it had one.
    pub warning: Option<String>,
}

impl Strength {
    /// A one-word label for the score.
    pub fn label(&self) -> &'static str {
        match self.score {
            0 => "very weak",
            1 => "weak",
            2 => "fair",
            3 => "good",
            _ => "strong",
        }
    }
}

fn count_diceware_words(text: &str) -> usize {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '-' || c == '.' || c == '_')
        .filter(|w| !w.is_empty())
        .collect();
    if words
        .iter()
        .all(|w| word_set().contains(&*w.to_lowercase()))
    {
        words.len()
    } else {
        0
    }
}

/// Estimates a passphrase's strength.
pub fn estimate(passphrase: &SecretString) -> Strength {
    let text = passphrase.expose_secret();
    let chars = text.chars().count();
    let diceware_words = count_diceware_words(text);
    if text.is_empty() {
        return Strength {
            score: 0,
            guesses_log10: 0,
            crack_time: "instant".into(),
            chars,
            diceware_words,
            warning: None,
        };
    }
    let entropy = zxcvbn::zxcvbn(text, &[]);
    let warning = entropy
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string());
    Strength {
        score: u8::from(entropy.score()),
        guesses_log10: entropy.guesses_log10() as u32,
        crack_time: entropy
            .crack_times()
            .offline_slow_hashing_1e4_per_second()
            .to_string(),
        chars,
        diceware_words,
        warning,
    }
}

/// Checks a passphrase someone is choosing against the creation policy.
pub fn check_new(passphrase: &SecretString) -> Result<Strength, PassphraseError> {
    let strength = estimate(passphrase);
    if strength.chars == 0 {
        return Err(PassphraseError::Empty);
    }
    if strength.chars < MIN_CHARS && strength.diceware_words < MIN_WORDS {
        return Err(PassphraseError::TooShort {
            chars: strength.chars,
            words: strength.diceware_words,
        });
    }
    if strength.score < MIN_SCORE && strength.diceware_words < MIN_WORDS {
        return Err(PassphraseError::Predictable {
            score: strength.score,
            hint: strength
                .warning
                .clone()
                .unwrap_or_else(|| "it follows a common pattern".into()),
        });
    }
    Ok(strength)
}

/// Generates a diceware passphrase of `words` words from the EFF large list,
/// chosen uniformly with the operating system's randomness, space-separated.
pub fn generate(words: usize) -> Result<SecretString, PassphraseError> {
    if !(MIN_WORDS..=MAX_WORDS).contains(&words) {
        return Err(PassphraseError::WordCount(words));
    }
    let list = word_list();
    let mut out = Zeroizing::new(String::new());
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        // gen_range is unbiased (rejection sampling).
        out.push_str(list[crate::rng::os().random_range(0..list.len())]);
    }
    Ok(SecretString::from(out.as_str()))
}

/// Bits of entropy in a generated passphrase of `words` words.
pub fn generated_bits(words: usize) -> f64 {
    words as f64 * (word_list().len() as f64).log2()
}

/// Where passphrases come from for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Prompt on the controlling terminal, masked.
    Terminal,
    /// One passphrase per line of a file, in the order they are asked for.
    File(PathBuf),
    /// One passphrase per line read from an inherited descriptor.
    Fd(u32),
}

/// Hands out passphrases one at a time from a [`Source`].
///
/// From a file or descriptor, each request consumes the next line, so a
/// command needing several passphrases (a guardian split) reads them in
/// order from one source. On the terminal, each request is a masked prompt.
pub struct Prompter {
    source: Source,
    lines: Option<Box<dyn BufRead + Send>>,
}

impl std::fmt::Debug for Prompter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompter")
            .field("source", &self.source)
            .finish()
    }
}

impl Prompter {
    /// A prompter over `source`. Files are opened lazily on first use.
    pub fn new(source: Source) -> Self {
        Prompter {
            source,
            lines: None,
        }
    }

    fn source_name(&self) -> String {
        match &self.source {
            Source::Terminal => "the terminal".into(),
            Source::File(p) => p.display().to_string(),
            Source::Fd(n) => format!("descriptor {n}"),
        }
    }

    fn read_err(&self, error: std::io::Error) -> PassphraseError {
        PassphraseError::Read {
            source_name: self.source_name(),
            error,
        }
    }

    fn next_line(&mut self, purpose: &str) -> Result<SecretString, PassphraseError> {
        if self.lines.is_none() {
            let path = match &self.source {
                Source::File(p) => p.clone(),
                // /dev/fd/N reopens an inherited descriptor without unsafe code.
                Source::Fd(n) => PathBuf::from(format!("/dev/fd/{n}")),
                Source::Terminal => unreachable_terminal()?,
            };
            let file = File::open(&path).map_err(|e| self.read_err(e))?;
            self.lines = Some(Box::new(BufReader::new(file)));
        }
        let name = self.source_name();
        let reader = self.lines.as_mut().ok_or(PassphraseError::Empty)?;
        let mut line = Zeroizing::new(String::new());
        let reader: &mut (dyn BufRead + Send) = reader.as_mut();
        let n = Read::take(reader, MAX_LINE as u64 + 2)
            .read_line(&mut line)
            .map_err(|error| PassphraseError::Read {
                source_name: name.clone(),
                error,
            })?;
        if n == 0 {
            return Err(PassphraseError::Exhausted {
                source_name: name,
                purpose: purpose.to_string(),
            });
        }
        if n > MAX_LINE && !line.ends_with('\n') {
            return Err(PassphraseError::LineTooLong { source_name: name });
        }
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if trimmed.is_empty() {
            return Err(PassphraseError::Empty);
        }
        Ok(SecretString::from(trimmed))
    }

    fn prompt_terminal(&self, prompt: &str) -> Result<SecretString, PassphraseError> {
        let text = Zeroizing::new(
            rpassword::prompt_password(format!("{prompt}: ")).map_err(|e| self.read_err(e))?,
        );
        if text.is_empty() {
            return Err(PassphraseError::Empty);
        }
        Ok(SecretString::from(text.as_str()))
    }

    /// Asks for an existing passphrase (one entry).
    pub fn existing(&mut self, prompt: &str) -> Result<SecretString, PassphraseError> {
        match self.source {
            Source::Terminal => self.prompt_terminal(prompt),
            _ => self.next_line(prompt),
        }
    }

    /// Asks for a new passphrase: twice on the terminal (with the strength
    /// shown through `show`), once from a file; checks it against the policy.
    pub fn new_passphrase(
        &mut self,
        prompt: &str,
        show: &mut dyn FnMut(&Strength),
    ) -> Result<SecretString, PassphraseError> {
        match self.source {
            Source::Terminal => {
                let first = self.prompt_terminal(prompt)?;
                let strength = estimate(&first);
                show(&strength);
                check_new(&first)?;
                let second = self.prompt_terminal(&format!("{prompt} (again)"))?;
                if first.expose_secret() != second.expose_secret() {
                    return Err(PassphraseError::Mismatch);
                }
                Ok(first)
            }
            _ => {
                let pass = self.next_line(prompt)?;
                let strength = check_new(&pass)?;
                show(&strength);
                Ok(pass)
            }
        }
    }
}

fn unreachable_terminal() -> Result<PathBuf, PassphraseError> {
    Err(PassphraseError::Read {
        source_name: "the terminal".into(),
        error: std::io::Error::other("terminal prompts do not read lines"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> SecretString {
        SecretString::from(x)
    }

    #[test]
    fn policy_accepts_long_or_diceware_and_refuses_the_rest() {
        assert!(check_new(&s("Tr0ub4dor&3-but-much-longer-now!")).is_ok());
        let six = "abacus abdomen abdominal abide abiding ability";
        assert_eq!(check_new(&s(six)).unwrap().diceware_words, 6);
        // Five short list words: under 24 characters and under 6 words.
        let short: Vec<&str> = word_list()
            .iter()
            .copied()
            .filter(|w| w.len() <= 3)
            .take(5)
            .collect();
        assert!(matches!(
            check_new(&s(&short.join(" "))),
            Err(PassphraseError::TooShort { words: 5, .. })
        ));
        // Six short list words pass on word count alone.
        let six: Vec<&str> = word_list()
            .iter()
            .copied()
            .filter(|w| w.len() <= 3)
            .take(6)
            .collect();
        assert!(six.join(" ").len() < MIN_CHARS);
        assert_eq!(check_new(&s(&six.join(" "))).unwrap().diceware_words, 6);
        assert!(matches!(
            check_new(&s("short")),
            Err(PassphraseError::TooShort { chars: 5, .. })
        ));
        assert!(matches!(
            check_new(&s(&"a".repeat(30))),
            Err(PassphraseError::Predictable { .. })
        ));
        assert!(matches!(check_new(&s("")), Err(PassphraseError::Empty)));
    }

    #[test]
    fn generated_phrases_use_list_words_and_pass_the_policy() {
        let p = generate(7).unwrap();
        let words: Vec<&str> = p.expose_secret().split(' ').collect();
        assert_eq!(words.len(), 7);
        assert!(words.iter().all(|w| word_set().contains(w)));
        assert!(check_new(&p).is_ok());
        assert_eq!(word_list().len(), 7776);
        assert!(matches!(generate(5), Err(PassphraseError::WordCount(5))));
        assert!(generated_bits(7) > 90.0);
    }

    #[test]
    fn file_source_hands_out_lines_in_order_then_says_it_ran_out() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pass");
        std::fs::write(&p, "first one\r\nsecond\n").unwrap();
        let mut pr = Prompter::new(Source::File(p));
        assert_eq!(pr.existing("a").unwrap().expose_secret(), "first one");
        assert_eq!(pr.existing("b").unwrap().expose_secret(), "second");
        assert!(matches!(
            pr.existing("guardian Cy"),
            Err(PassphraseError::Exhausted { ref purpose, .. }) if purpose == "guardian Cy"
        ));
    }
}
