//! "Create the recovery key pair": file paths → passphrase (strength meter,
//! diceware generator) → RSA-4096 generation on a worker with its stages as
//! progress → the verification phrase, and the public key as a QR code.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::guardians_split::NewPassEntry;
use super::kit_fingerprint::qr_widget;
use super::{Action, Chrome, Screen};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::drkit::keys::CreatedKeyPair;
use custodian_core::error::Report;

/// The paths form's fields.
const K_PRIVATE: usize = 0;
const K_PUBLIC: usize = 1;

#[derive(Debug)]
enum Step {
    Paths,
    Passphrase(NewPassEntry),
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
    /// The two file paths (kept through every step).
    paths: Form,
    step: Step,
}

impl KitKeygenWizard {
    /// A wizard with the default file paths filled in.
    pub fn new(private: &str, public: &str) -> Self {
        KitKeygenWizard {
            paths: Form::new(vec![
                FormField::path(
                    strings::KIT_PRIVATE_PROMPT,
                    strings::KIT_PATHS_HINT,
                    private,
                    PathKind::KeyFile,
                ),
                FormField::path(
                    strings::KIT_PUBLIC_PROMPT,
                    strings::KIT_PATHS_HINT,
                    public,
                    PathKind::KeyFile,
                ),
            ]),
            step: Step::Paths,
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
            Step::Paths => match self.paths.handle_key(key) {
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Handled => None,
                FormEvent::Submit => {
                    let (a, b) = (
                        self.paths.value(K_PRIVATE).trim(),
                        self.paths.value(K_PUBLIC).trim(),
                    );
                    let problem = if a.is_empty() {
                        Some((K_PRIVATE, "give the private key file's path"))
                    } else if b.is_empty() || a == b {
                        Some((K_PUBLIC, "give the public key a different file path"))
                    } else {
                        None
                    };
                    match problem {
                        Some((at, message)) => self.paths.set_error(
                            at,
                            Report {
                                message: message.into(),
                                causes: Vec::new(),
                                remedy: None,
                            },
                        ),
                        None => self.step = Step::Passphrase(NewPassEntry::default()),
                    }
                    None
                }
            },
            Step::Passphrase(entry) => {
                if key.code == KeyCode::Esc {
                    if entry.esc() {
                        self.step = Step::Paths;
                    }
                    return None;
                }
                let pass = entry.handle_key(key)?;
                self.step = Step::Working(Progress::start(3, ""));
                Some(Action::CreateRecoveryKey {
                    private: PathBuf::from(self.paths.value(K_PRIVATE).trim()),
                    public: PathBuf::from(self.paths.value(K_PUBLIC).trim()),
                    passphrase: pass,
                })
            }
            Step::Working(_) => None,
            Step::Done { show_qr, .. } => match key.code {
                KeyCode::Char('v') => {
                    *show_qr = !*show_qr;
                    None
                }
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed(report) => match key.code {
                KeyCode::Enter => {
                    // Back to the paths (a file that exists, a folder that
                    // does not), the error under the path it names.
                    let public = self.paths.value(K_PUBLIC).trim().to_string();
                    let at = if !public.is_empty() && report.to_string().contains(&public) {
                        K_PUBLIC
                    } else {
                        K_PRIVATE
                    };
                    self.paths.set_error(at, report.clone());
                    self.step = Step::Paths;
                    None
                }
                KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::Paths => {
                self.paths.paste(text);
            }
            Step::Passphrase(entry) => entry.paste(text),
            _ => {}
        }
        None
    }

    fn takes_text(&self) -> bool {
        matches!(self.step, Step::Paths | Step::Passphrase(_))
    }

    fn holds_input(&self) -> bool {
        matches!(self.step, Step::Passphrase(_) | Step::Working(_))
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
            Step::Paths => lines.extend(self.paths.lines()),
            Step::Passphrase(entry) => {
                lines.push(Line::from(format!(
                    "Private key: {}",
                    self.paths.value(K_PRIVATE)
                )));
                lines.push(Line::from(""));
                lines.extend(entry.lines());
                lines.push(Line::from(Span::styled(strings::KIT_KEY_PASS_HINT, dim)));
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
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Paths => vec![
                ("Tab/↓", "next field / complete"),
                ("Enter", "next"),
                ("Esc", "cancel"),
            ],
            Step::Passphrase(_) => vec![
                ("Tab/↓", "next field"),
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
