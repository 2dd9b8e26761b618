//! "Create the recovery key pair": file paths → passphrase (strength meter,
//! diceware generator) → RSA-4096 generation on a worker with its stages as
//! progress → the verification phrase, and the public key as a QR code.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::{ExposeSecret, SecretString};

use super::kit_fingerprint::qr_widget;
use super::{Action, Chrome, Screen};
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::drkit::keys::CreatedKeyPair;
use custodian_core::error::Report;
use custodian_core::passphrase;

#[derive(Debug)]
enum Step {
    Paths,
    Passphrase {
        first: TextField,
        confirm: TextField,
        on_confirm: bool,
        strength: Option<widgets::Meter>,
        generated: Option<TextField>,
    },
    Working(Progress),
    Done {
        created: CreatedKeyPair,
        qr: Vec<String>,
        show_qr: bool,
    },
    Failed(Report),
}

/// The wizard.
#[derive(Debug)]
pub struct KitKeygenWizard {
    private: TextField,
    public: TextField,
    on_public: bool,
    error: Option<Report>,
    step: Step,
}

impl KitKeygenWizard {
    /// A wizard with the default file paths filled in.
    pub fn new(private: &str, public: &str) -> Self {
        let mut p = TextField::default();
        p.set(private);
        let mut q = TextField::default();
        q.set(public);
        KitKeygenWizard {
            private: p,
            public: q,
            on_public: false,
            error: None,
            step: Step::Paths,
        }
    }

    fn passphrase_step() -> Step {
        Step::Passphrase {
            first: TextField::masked(),
            confirm: TextField::masked(),
            on_confirm: false,
            strength: None,
            generated: None,
        }
    }
}

impl Screen for KitKeygenWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        strings::KIT_KEYGEN_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Paths => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                    self.on_public = !self.on_public;
                    None
                }
                KeyCode::Enter if !self.on_public => {
                    self.on_public = true;
                    None
                }
                KeyCode::Enter => {
                    let (a, b) = (self.private.text().trim(), self.public.text().trim());
                    if a.is_empty() || b.is_empty() || a == b {
                        self.error = Some(Report {
                            message: "give two different file paths".into(),
                            causes: Vec::new(),
                            remedy: None,
                        });
                        return None;
                    }
                    self.error = None;
                    self.step = Self::passphrase_step();
                    None
                }
                _ => {
                    let f = if self.on_public {
                        &mut self.public
                    } else {
                        &mut self.private
                    };
                    if f.input(key) {
                        self.error = None;
                    }
                    None
                }
            },
            Step::Passphrase {
                first,
                confirm,
                on_confirm,
                strength,
                generated,
            } => match key.code {
                KeyCode::Esc => {
                    self.step = Step::Paths;
                    None
                }
                KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                    *on_confirm = !*on_confirm;
                    None
                }
                KeyCode::Char('g') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    match passphrase::generate(passphrase::DEFAULT_WORDS) {
                        Ok(p) => {
                            first.set(p.expose_secret());
                            confirm.set(p.expose_secret());
                            let mut shown = TextField::default();
                            shown.set(p.expose_secret());
                            *generated = Some(shown);
                            *strength = Some(widgets::meter(&p));
                            self.error = None;
                        }
                        Err(e) => self.error = Some(Report::from_error(&e)),
                    }
                    None
                }
                KeyCode::Enter if !*on_confirm => {
                    *on_confirm = true;
                    None
                }
                KeyCode::Enter => {
                    let pass = SecretString::from(first.text());
                    if let Err(e) = passphrase::check_new(&pass) {
                        self.error = Some(Report::from_error(&e));
                        *on_confirm = false;
                        return None;
                    }
                    if first.text() != confirm.text() {
                        self.error =
                            Some(Report::from_error(&passphrase::PassphraseError::Mismatch));
                        confirm.set("");
                        return None;
                    }
                    self.error = None;
                    self.step = Step::Working(Progress::start(3, ""));
                    Some(Action::CreateRecoveryKey {
                        private: PathBuf::from(self.private.text().trim()),
                        public: PathBuf::from(self.public.text().trim()),
                        passphrase: pass,
                    })
                }
                _ => {
                    let f = if *on_confirm { confirm } else { first };
                    if f.input(key) {
                        self.error = None;
                        if !*on_confirm {
                            *generated = None;
                            *strength = Some(widgets::meter(&SecretString::from(f.text())));
                        }
                    }
                    None
                }
            },
            Step::Working(_) => None,
            Step::Done { show_qr, .. } => match key.code {
                KeyCode::Char('v') => {
                    *show_qr = !*show_qr;
                    None
                }
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed(_) => match key.code {
                KeyCode::Enter => {
                    self.step = Step::Paths;
                    None
                }
                KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if !matches!(self.step, Step::Working(_)) {
            return None;
        }
        match msg {
            WorkerMsg::Progress { .. } => {
                if let Step::Working(progress) = &mut self.step {
                    progress.update(msg);
                }
                None
            }
            WorkerMsg::Finished(Ok(JobResult::RecoveryKeyCreated(created, qr))) => {
                self.step = Step::Done {
                    created: created.clone(),
                    qr: qr.clone(),
                    show_qr: false,
                };
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Err(report)) => {
                self.step = Step::Failed(report.clone());
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Ok(_)) => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let dim = crate::tui::widgets::hint();
        let mut lines: Vec<Line> = Vec::new();
        match &self.step {
            Step::Paths => {
                lines.push(
                    self.private
                        .line(strings::KIT_PRIVATE_PROMPT, !self.on_public),
                );
                lines.push(self.public.line(strings::KIT_PUBLIC_PROMPT, self.on_public));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(strings::KIT_PATHS_HINT, dim)));
            }
            Step::Passphrase {
                first,
                confirm,
                on_confirm,
                strength,
                generated,
            } => {
                lines.push(Line::from(format!("Private key: {}", self.private.text())));
                lines.push(Line::from(""));
                lines.push(first.line(strings::NEWID_PASS_PROMPT, !*on_confirm));
                lines.push(confirm.line(strings::NEWID_CONFIRM_PROMPT, *on_confirm));
                lines.push(Line::from(""));
                if let Some(s) = strength {
                    lines.push(widgets::strength_line(s));
                }
                lines.push(Line::from(Span::styled(strings::KIT_KEY_PASS_HINT, dim)));
                if let Some(g) = generated {
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        strings::NEWID_GENERATED,
                        Style::default().fg(Color::Yellow),
                    )));
                    lines.push(Line::from(Span::styled(
                        format!("  {}", g.text()),
                        Style::default().add_modifier(Modifier::BOLD),
                    )));
                }
            }
            Step::Working(progress) => {
                let [top, gauge] =
                    Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(area);
                frame.render_widget(
                    Paragraph::new(format!(
                        "{} {}",
                        widgets::spinner(chrome.tick),
                        strings::KIT_KEYGEN_WORKING
                    )),
                    top,
                );
                frame.render_widget(widgets::progress_gauge(progress), gauge);
                return;
            }
            Step::Done {
                qr, show_qr: true, ..
            } => {
                frame.render_widget(qr_widget(qr, area, frame.area()), area);
                return;
            }
            Step::Done { created, .. } => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::KIT_KEYGEN_DONE),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(""));
                lines.push(Line::from(format!(
                    "Private key: {}",
                    created.private_path.display()
                )));
                lines.push(Line::from(format!(
                    "Public key:  {}",
                    created.public_path.display()
                )));
                lines.push(Line::from(vec![
                    Span::raw(format!("{}: ", strings::KIT_PHRASE)),
                    Span::styled(
                        created.phrase.clone(),
                        Style::default()
                            .fg(Color::Cyan)
                            .add_modifier(Modifier::BOLD),
                    ),
                ]));
                lines.push(Line::from(""));
                lines.push(Line::from(strings::KIT_KEYGEN_DONE_HINT));
                lines.push(Line::from(strings::KIT_QR_HINT));
            }
            Step::Failed(report) => {
                lines.extend(widgets::failure_lines(report));
            }
        }
        if let Some(r) = &self.error {
            lines.push(Line::from(""));
            lines.extend(widgets::report_lines(r));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Paths => vec![
                ("Tab", "switch field"),
                ("Enter", "next"),
                ("Esc", "cancel"),
            ],
            Step::Passphrase { .. } => vec![
                ("Tab", "switch field"),
                ("Ctrl-G", "generate"),
                ("Enter", "create"),
                ("Esc", "back"),
            ],
            Step::Working(_) => vec![],
            Step::Done { .. } => vec![("v", "QR code / summary"), ("Enter", "back")],
            Step::Failed(_) => vec![("Enter", "try again"), ("Esc", "back")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working(_))
    }
}
