//! The reconstruct wizard: add shares one at a time (each read on a worker
//! and checked against those already in, so a mixed set or a duplicate is
//! named the moment it is added) → each guardian types their passphrase in
//! turn, with "2 of 3 collected" and which shares are in → a new passphrase
//! for the rebuilt identity → the rebuild on a worker thread → a summary.
//!
//! Every field is a shared [`Form`]: a mistyped path or a misread printed
//! line stays in the field with the error under it, to be fixed in place.
//! Each guardian's passphrase is checked on a worker the moment it is
//! typed (their share is opened and dropped), so a wrong one is refused
//! naming them, and only they type again; Esc steps back one guardian, and
//! leaving with shares collected asks first.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;

use super::guardians_split::{NewPassEntry, step_bar};
use super::{Action, Chrome, Screen};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::guardians::{Collection, Combined, GuardianError, ShareSet, SplitRecord};

/// The wizard's steps; each holds what it needs.
enum Step {
    Shares {
        form: Form,
        loading: bool,
        note: Option<String>,
    },
    Passphrases {
        set: ShareSet,
        collected: Vec<SecretString>,
        form: Form,
        /// The current guardian's passphrase is being checked on a worker.
        checking: bool,
    },
    NewPassphrase {
        set: ShareSet,
        collected: Vec<SecretString>,
        entry: NewPassEntry,
    },
    Working {
        set: ShareSet,
        collected: Vec<SecretString>,
        new_passphrase: SecretString,
        progress: Progress,
    },
    Done(Combined),
    Failed {
        set: ShareSet,
        collected: Vec<SecretString>,
        new_passphrase: SecretString,
        report: Report,
        /// The share whose guardian must type again, if that is the problem.
        retry_guardian: Option<usize>,
    },
    /// One guardian types their passphrase again; the rest are kept.
    Retype {
        set: ShareSet,
        collected: Vec<SecretString>,
        new_passphrase: SecretString,
        index: usize,
        form: Form,
    },
}

/// The reconstruct wizard.
pub struct GuardianReconstructWizard {
    known: Vec<SplitRecord>,
    collection: Collection,
    step: Step,
}

impl std::fmt::Debug for GuardianReconstructWizard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardianReconstructWizard")
            .field("step", &self.step_name())
            .field("shares", &self.collection.len())
            .finish_non_exhaustive()
    }
}

fn share_form() -> Form {
    Form::new(vec![FormField::path(
        strings::GREC_ADD,
        strings::GREC_ADD_HINT,
        "",
        PathKind::GuardianShare,
    )])
}

fn pass_form() -> Form {
    Form::new(vec![FormField::secret(
        strings::GREC_PASS,
        strings::GREC_PASS_HINT,
    )])
}

fn shares_step() -> Step {
    Step::Shares {
        form: share_form(),
        loading: false,
        note: None,
    }
}

impl GuardianReconstructWizard {
    /// A wizard that knows this workspace's splits (to name missing guardians).
    pub fn new(known: Vec<SplitRecord>) -> Self {
        GuardianReconstructWizard {
            known,
            collection: Collection::new(),
            step: shares_step(),
        }
    }

    /// A short name for the current step (for tests and snapshots).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Shares { .. } => "shares",
            Step::Passphrases { .. } => "passphrases",
            Step::NewPassphrase { .. } => "new-passphrase",
            Step::Working { .. } => "working",
            Step::Done(_) => "done",
            Step::Failed { .. } => "failed",
            Step::Retype { .. } => "retype",
        }
    }

    fn known_split(&self) -> Option<&SplitRecord> {
        let set_id = &self.collection.members().next()?.share.set_id;
        self.known.iter().find(|k| &k.set_id == set_id)
    }

    fn start(
        &mut self,
        set: ShareSet,
        collected: Vec<SecretString>,
        new_passphrase: SecretString,
    ) -> Action {
        self.step = Step::Working {
            set: set.clone(),
            collected: collected.clone(),
            new_passphrase: new_passphrase.clone(),
            progress: Progress::start(set.members.len() as u64, "starting"),
        };
        Action::StartGuardianCombine {
            set,
            passphrases: collected,
            new_passphrase,
        }
    }

    fn step_index(&self) -> usize {
        match self.step {
            Step::Shares { .. } => 0,
            Step::Passphrases { .. } | Step::Retype { .. } => 1,
            Step::NewPassphrase { .. } => 2,
            Step::Working { .. } => 3,
            Step::Done(_) | Step::Failed { .. } => 4,
        }
    }

    /// Lines listing the shares in and what is still needed.
    fn share_lines(&self) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        let Some(k) = self.collection.threshold() else {
            lines.push(Line::from(strings::GREC_NONE_YET));
            return lines;
        };
        let have = self.collection.len();
        let style = if have >= usize::from(k) {
            Style::default().fg(Color::Green)
        } else {
            Style::default().fg(Color::Yellow)
        };
        lines.push(Line::from(Span::styled(
            format!("{have} of {k} shares needed are in"),
            style.add_modifier(Modifier::BOLD),
        )));
        for m in self.collection.members() {
            // The file name is enough to tell shares apart; full paths wrap.
            let source = std::path::Path::new(&m.source)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| m.source.clone());
            lines.push(Line::from(format!(
                "  ✔ #{} {:<12} set {} · {} · {source}",
                m.share.index,
                m.share.guardian,
                m.share.short_set(),
                m.share.custodian,
            )));
        }
        let missing = self.collection.missing(self.known_split());
        if have < usize::from(k) && !missing.is_empty() {
            lines.push(Line::from(format!(
                "  still out: {} (any {} of them)",
                missing.join(", "),
                usize::from(k) - have
            )));
        }
        lines
    }
}

/// Lines showing which guardians' passphrases are in.
fn collected_lines(set: &ShareSet, collected: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(
        format!("{collected} of {} collected", set.members.len()),
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    for (i, m) in set.members.iter().enumerate() {
        let (mark, style) = if i < collected {
            ("✔", Style::default().fg(Color::Green))
        } else if i == collected {
            ("▶", Style::default().add_modifier(Modifier::BOLD))
        } else {
            ("·", crate::tui::widgets::hint())
        };
        lines.push(Line::from(Span::styled(
            format!("  {mark} #{} {}", m.share.index, m.share.guardian),
            style,
        )));
    }
    lines
}

impl Screen for GuardianReconstructWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        strings::GREC_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        let known = self.known_split().cloned();
        let held = match self.collection.len() {
            0 => None,
            n => Some(custodian_core::text::count(
                n as u64,
                "collected share",
                "collected shares",
            )),
        };
        match &mut self.step {
            Step::Shares {
                form,
                loading,
                note,
            } => {
                if *loading {
                    return None;
                }
                form.set_held(held);
                match form.handle_key(key) {
                    FormEvent::Cancel => Some(Action::Back),
                    FormEvent::Handled => None,
                    FormEvent::Submit if form.value(0).trim().is_empty() => {
                        match self.collection.clone().finish(known.as_ref()) {
                            Ok(set) => {
                                self.step = Step::Passphrases {
                                    set,
                                    collected: Vec::new(),
                                    form: pass_form(),
                                    checking: false,
                                };
                            }
                            Err(e) => form.set_error(0, Report::for_console(&e)),
                        }
                        None
                    }
                    FormEvent::Submit => {
                        // The text stays in the field until the share is in,
                        // so a mistake is fixed in place.
                        *loading = true;
                        *note = None;
                        Some(Action::LoadGuardianShare {
                            input: form.value(0).trim().to_string(),
                        })
                    }
                }
            }
            Step::Passphrases {
                set,
                collected,
                form,
                checking,
            } => {
                if *checking {
                    return None;
                }
                match form.handle_key(key) {
                    FormEvent::Cancel => {
                        // Back one guardian, or back to the shares (kept).
                        if collected.pop().is_some() {
                            *form = pass_form();
                        } else {
                            self.step = shares_step();
                        }
                        None
                    }
                    FormEvent::Handled => None,
                    FormEvent::Submit if form.value(0).is_empty() => None,
                    FormEvent::Submit => {
                        let share = set.members.get(collected.len())?.share.clone();
                        *checking = true;
                        Some(Action::CheckGuardianShare {
                            share: Box::new(share),
                            passphrase: SecretString::from(form.value(0)),
                        })
                    }
                }
            }
            Step::NewPassphrase {
                set,
                collected,
                entry,
            } => {
                if key.code == KeyCode::Esc {
                    if !entry.esc() {
                        return None;
                    }
                    let mut collected = std::mem::take(collected);
                    collected.pop();
                    self.step = Step::Passphrases {
                        set: set.clone(),
                        collected,
                        form: pass_form(),
                        checking: false,
                    };
                    return None;
                }
                let new_passphrase = entry.handle_key(key)?;
                let set = set.clone();
                let collected = std::mem::take(collected);
                Some(self.start(set, collected, new_passphrase))
            }
            Step::Retype {
                set,
                collected,
                new_passphrase,
                index,
                form,
            } => match form.handle_key(key) {
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).is_empty() => None,
                FormEvent::Submit => {
                    let mut collected = std::mem::take(collected);
                    collected[*index] = SecretString::from(form.value(0));
                    let set = set.clone();
                    let new_passphrase = new_passphrase.clone();
                    Some(self.start(set, collected, new_passphrase))
                }
            },
            Step::Working { .. } => None,
            Step::Done(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed {
                set,
                collected,
                new_passphrase,
                retry_guardian,
                ..
            } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    match retry_guardian {
                        // Ask only that guardian again.
                        Some(i) if *i < collected.len() => {
                            self.step = Step::Retype {
                                set: set.clone(),
                                collected: std::mem::take(collected),
                                new_passphrase: new_passphrase.clone(),
                                index: *i,
                                form: pass_form(),
                            };
                        }
                        // Anything else is fixed with the shares: they
                        // are kept, and can be left with Esc.
                        _ => self.step = shares_step(),
                    }
                    None
                }
                _ => None,
            },
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::Shares {
                form,
                loading: false,
                ..
            }
            | Step::Passphrases {
                form,
                checking: false,
                ..
            }
            | Step::Retype { form, .. } => {
                form.paste(text);
            }
            Step::NewPassphrase { entry, .. } => entry.paste(text),
            _ => {}
        }
        None
    }

    fn takes_text(&self) -> bool {
        matches!(
            self.step,
            Step::Shares { .. }
                | Step::Passphrases { .. }
                | Step::NewPassphrase { .. }
                | Step::Retype { .. }
        )
    }

    fn holds_input(&self) -> bool {
        match &self.step {
            Step::Shares { form, .. } => !self.collection.is_empty() || form.holds_input(),
            Step::Done(_) => false,
            _ => true,
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        match &mut self.step {
            Step::Shares {
                form,
                loading,
                note,
            } => {
                let WorkerMsg::Finished(result) = msg else {
                    return None;
                };
                *loading = false;
                match result {
                    Ok(JobResult::GuardianShareLoaded(share)) => {
                        match self.collection.add(share.as_ref().clone()) {
                            Ok(n) => {
                                *note = n;
                                form.set_value(0, "");
                            }
                            Err(e) => form.set_error(0, Report::for_console(&e)),
                        }
                    }
                    Err(report) => form.set_error(0, report.clone()),
                    Ok(_) => {}
                }
                None
            }
            Step::Passphrases {
                set,
                collected,
                form,
                checking,
            } => {
                let WorkerMsg::Finished(result) = msg else {
                    return None;
                };
                if !*checking {
                    return None;
                }
                *checking = false;
                match result {
                    Ok(JobResult::GuardianShareOpened) => {
                        collected.push(SecretString::from(form.value(0)));
                        *form = pass_form();
                        if collected.len() == set.members.len() {
                            self.step = Step::NewPassphrase {
                                set: set.clone(),
                                collected: std::mem::take(collected),
                                entry: NewPassEntry::default(),
                            };
                        }
                    }
                    // Refused in place: the field is emptied (masked), the
                    // error under it names the guardian.
                    Err(report) => form.refuse(0, report.clone()),
                    Ok(_) => {}
                }
                None
            }
            Step::Working {
                set,
                collected,
                new_passphrase,
                progress,
            } => match msg {
                WorkerMsg::Progress { .. } => {
                    progress.update(msg);
                    None
                }
                WorkerMsg::Finished(Ok(JobResult::GuardianCombined(c))) => {
                    self.step = Step::Done(c.as_ref().clone());
                    Some(Action::RefreshHome)
                }
                WorkerMsg::Finished(Err(report)) => {
                    // A wrong passphrase names its guardian; find their share.
                    let retry_guardian = set.members.iter().position(|m| {
                        report.message
                            == GuardianError::WrongPassphrase {
                                guardian: m.share.guardian.clone(),
                                index: m.share.index,
                            }
                            .to_string()
                    });
                    self.step = Step::Failed {
                        set: set.clone(),
                        collected: std::mem::take(collected),
                        new_passphrase: new_passphrase.clone(),
                        report: report.clone(),
                        retry_guardian,
                    };
                    Some(Action::RefreshHome)
                }
                WorkerMsg::Finished(Ok(_)) => None,
            },
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let mut lines: Vec<Line> = vec![
            step_bar(strings::GREC_STEPS, self.step_index()),
            Line::from(""),
        ];
        let mut gauge = None;
        match &self.step {
            Step::Shares {
                form,
                loading,
                note,
            } => {
                lines.extend(self.share_lines());
                for n in self.collection.notes() {
                    lines.push(Line::from(Span::styled(
                        format!("  note: {n}"),
                        Style::default().fg(Color::Yellow),
                    )));
                }
                if let Some(n) = note
                    && self.collection.notes().last() != Some(n)
                {
                    lines.push(Line::from(n.clone()));
                }
                lines.push(Line::from(""));
                lines.extend(form.lines());
                if *loading {
                    lines.push(Line::from(format!(
                        "{} {}",
                        widgets::spinner(chrome.tick),
                        strings::GREC_LOADING
                    )));
                }
            }
            Step::Passphrases {
                set,
                collected,
                form,
                checking,
            } => {
                let m = &set.members[collected.len().min(set.members.len() - 1)];
                lines.push(Line::from(format!(
                    "Custodian {} · set {} · {}-of-{} split",
                    set.custodian,
                    m.share.short_set(),
                    set.threshold,
                    set.total
                )));
                lines.push(Line::from(""));
                lines.extend(collected_lines(set, collected.len()));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    format!(
                        "Guardian {} (share #{}) types their passphrase:",
                        m.share.guardian, m.share.index
                    ),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                lines.extend(form.lines());
                if *checking {
                    lines.push(Line::from(format!(
                        "{} {} {}…",
                        widgets::spinner(chrome.tick),
                        strings::GREC_CHECKING,
                        m.share.guardian
                    )));
                }
            }
            Step::NewPassphrase { set, entry, .. } => {
                lines.extend(collected_lines(set, set.members.len()));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    format!("{} ({})", strings::GREC_NEW_PASS, set.custodian),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                lines.extend(entry.lines());
            }
            Step::Working { set, progress, .. } => {
                lines.push(Line::from(format!(
                    "{} {} ({})",
                    widgets::spinner(chrome.tick),
                    strings::GREC_WORKING,
                    set.custodian
                )));
                gauge = Some(progress);
            }
            Step::Done(c) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::GREC_DONE),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(""));
                lines.push(Line::from(format!("Custodian:   {}", c.custodian)));
                lines.push(Line::from(format!("Recipient:   {}", c.recipient)));
                lines.push(Line::from(format!("Fingerprint: {}", c.fingerprint)));
                lines.push(Line::from(format!(
                    "Guardians:   {}",
                    c.guardians.join(", ")
                )));
                lines.push(Line::from(format!("File:        {}", c.path.display())));
                lines.push(Line::from(if c.registered {
                    "Registry:    custodian added to this workspace"
                } else {
                    "Registry:    already registered with this key; reconstruction recorded"
                }));
                for n in &c.notes {
                    lines.push(Line::from(format!("Note:        {n}")));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(strings::GREC_DONE_HINT));
            }
            Step::Retype {
                set, index, form, ..
            } => {
                let m = &set.members[*index];
                lines.push(Line::from(Span::styled(
                    format!(
                        "{} (share #{}) types their passphrase again; the other guardians' are kept.",
                        m.share.guardian, m.share.index
                    ),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(""));
                lines.extend(form.lines());
            }
            Step::Failed { report, .. } => {
                lines.extend(widgets::failure_lines(report));
            }
        }
        let [body, bar] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        if let Some(progress) = gauge {
            frame.render_widget(widgets::progress_gauge(progress), bar);
        }
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Shares { .. } => vec![
                ("Enter", "add share / continue"),
                ("Tab", "complete path"),
                ("Ctrl-U", "clear"),
                ("Esc", "leave"),
            ],
            Step::Passphrases { .. } => vec![("Enter", "check"), ("Esc", "back one guardian")],
            Step::Retype { .. } => vec![("Enter", "rebuild"), ("Esc", "home")],
            Step::NewPassphrase { .. } => vec![
                ("Tab/↓", "next field"),
                ("Ctrl-G", "generate"),
                ("Enter", "rebuild"),
                ("Esc", "back"),
            ],
            Step::Working { .. } => vec![],
            Step::Done(_) => vec![("Enter", "home")],
            Step::Failed { .. } => vec![("Enter", "try again"), ("Esc", "home")],
        }
    }

    fn busy(&self) -> bool {
        matches!(
            self.step,
            Step::Working { .. }
                | Step::Shares { loading: true, .. }
                | Step::Passphrases { checking: true, .. }
        )
    }
}
