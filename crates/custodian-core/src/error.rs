//! What every error in the crate shares: a message (its `Display`) and a
//! remedy, the line a custodian reads to know what to do next.
//!
//! Each domain module has its own `#[non_exhaustive]` error enum; they all
//! implement [`Explain`] so the CLI and the console can show "error: …" and
//! "what to do: …" the same way, without knowing the domain.

/// An error that can tell the user what to do about it.
pub trait Explain: std::error::Error {
    /// One sentence saying what to do next on the command line, when there
    /// is something to say.
    fn remedy(&self) -> Option<String> {
        self.remedy_for(Audience::CommandLine)
    }

    /// What to do next, worded for `to`: the command line names flags and
    /// commands; the console names keys, fields and screens, never a flag
    /// or a `custodian …` command.
    fn remedy_for(&self, to: Audience) -> Option<String> {
        let _ = to;
        None
    }
}

/// Who reads a remedy: the same advice is worded differently for a
/// command line (flags, commands) and for the console (keys, fields,
/// screens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `custodian …` on a command line.
    CommandLine,
    /// The full-screen console.
    Console,
}

impl Audience {
    /// `cli` for the command line, `console` for the console.
    pub fn pick(self, cli: impl Into<String>, console: impl Into<String>) -> String {
        match self {
            Audience::CommandLine => cli.into(),
            Audience::Console => console.into(),
        }
    }
}

/// A rendered error: message, causes and remedy, ready for a screen or a
/// terminal. Holds no secret: it is built from error messages, which never
/// contain one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The top-level message.
    pub message: String,
    /// The chain of underlying causes, outermost first.
    pub causes: Vec<String>,
    /// What to do next.
    pub remedy: Option<String>,
}

impl Report {
    /// A report of the console's own (no error behind it): `message`,
    /// and what to do next if there is more to say.
    pub fn note(message: impl Into<String>, remedy: Option<&str>) -> Self {
        Report {
            message: message.into(),
            causes: Vec::new(),
            remedy: remedy.map(str::to_string),
        }
    }

    /// Builds a report from any explained error, its remedy worded for the
    /// command line.
    pub fn from_error<E: Explain + ?Sized>(err: &E) -> Self {
        Self::from_error_for(err, Audience::CommandLine)
    }

    /// Builds a report from any explained error, its remedy worded for the
    /// console.
    pub fn for_console<E: Explain + ?Sized>(err: &E) -> Self {
        Self::from_error_for(err, Audience::Console)
    }

    /// Builds a report from any explained error, its remedy worded for `to`.
    pub fn from_error_for<E: Explain + ?Sized>(err: &E, to: Audience) -> Self {
        let mut causes = Vec::new();
        let mut next = err.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            // thiserror messages often already include their source; skip echoes.
            if !err.to_string().contains(&text) {
                causes.push(text);
            }
            next = cause.source();
        }
        Report {
            message: err.to_string(),
            causes,
            remedy: err.remedy_for(to),
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        for cause in &self.causes {
            write!(f, "\n  caused by: {cause}")?;
        }
        if let Some(remedy) = &self.remedy {
            write!(f, "\n  what to do: {remedy}")?;
        }
        Ok(())
    }
}
