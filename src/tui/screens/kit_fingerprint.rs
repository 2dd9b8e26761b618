//! "Check a public key": its verification phrase and a QR code of the PEM,
//! so the key the vendor received can be compared with the one made here.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::drkit::ops::PublicKeyCheck;

#[derive(Debug)]
enum Step {
    Path,
    Working,
    Shown {
        check: PublicKeyCheck,
        qr: bool,
        /// The PNG written for a QR code the terminal cannot show, or why not.
        png: Option<Result<std::path::PathBuf, custodian_core::error::Report>>,
    },
}

/// The screen.
#[derive(Debug)]
pub struct KitFingerprintScreen {
    /// The path form (shared form component): kept across a failed check,
    /// so a mistyped path is corrected in place.
    form: Form,
    step: Step,
}

impl KitFingerprintScreen {
    /// A screen with `path` prefilled.
    pub fn new(path: &str) -> Self {
        KitFingerprintScreen {
            form: Form::new(vec![FormField::plain(
                strings::KIT_FP_PROMPT,
                strings::KIT_FP_HINT,
                path,
            )]),
            step: Step::Path,
        }
    }
}

/// The QR code's size in character cells (two modules per cell vertically).
fn qr_size(qr: &[String]) -> (u16, u16) {
    let width = qr.first().map(|l| l.chars().count()).unwrap_or(0);
    (
        u16::try_from(width).unwrap_or(u16::MAX),
        u16::try_from(qr.len()).unwrap_or(u16::MAX),
    )
}

/// True when the QR rows fit in `area`.
pub fn qr_fits(qr: &[String], area: Rect) -> bool {
    let (w, h) = qr_size(qr);
    w <= area.width && h <= area.height
}

/// The line saying how big the terminal (`screen`, the whole frame) must be
/// for the QR code: its size plus whatever the frame around `area` takes.
fn qr_widget_text(qr: &[String], area: Rect, screen: Rect) -> Vec<Line<'static>> {
    let (width, height) = qr_size(qr);
    let around_w = screen.width.saturating_sub(area.width);
    let around_h = screen.height.saturating_sub(area.height);
    vec![Line::from(format!(
        "{} {}×{} characters (now {}×{}).",
        strings::KIT_QR_TOO_SMALL,
        width.saturating_add(around_w),
        height.saturating_add(around_h),
        screen.width,
        screen.height
    ))]
}

/// Renders QR rows if they fit in `area`, else a line saying how big the
/// terminal (`screen`, the whole frame) must be: the QR's size plus
/// whatever the frame around `area` takes.
pub fn qr_widget(qr: &[String], area: Rect, screen: Rect) -> Paragraph<'static> {
    if !qr_fits(qr, area) {
        return Paragraph::new(qr_widget_text(qr, area, screen)).wrap(Wrap { trim: false });
    }
    // Fixed colours: the QR must read as black on white whatever the theme.
    let style = Style::default().fg(Color::White).bg(Color::Black);
    Paragraph::new(
        qr.iter()
            .map(|l| Line::from(Span::styled(l.clone(), style)))
            .collect::<Vec<_>>(),
    )
}

impl KitFingerprintScreen {
    /// The outcome of writing the QR code as a PNG.
    pub fn set_png(&mut self, result: Result<std::path::PathBuf, custodian_core::error::Report>) {
        if let Step::Shown { png, .. } = &mut self.step {
            *png = Some(result);
        }
    }
}

impl Screen for KitFingerprintScreen {
    fn title(&self) -> String {
        strings::KIT_FP_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Path => match self.form.handle_key(key) {
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Submit => {
                    let path = self.form.value(0).trim().into();
                    self.step = Step::Working;
                    Some(Action::CheckPublicKey { path })
                }
                FormEvent::Handled => None,
            },
            Step::Working => None,
            Step::Shown { qr, check, .. } => match key.code {
                KeyCode::Char('v') => {
                    *qr = !*qr;
                    None
                }
                // Offered where the QR code does not fit the terminal.
                KeyCode::Char('w') if *qr => Some(Action::WriteQrPng {
                    public: check.path.clone(),
                }),
                KeyCode::Char('p') => Some(Action::Print(vec![
                    custodian_core::print::What::RecoveryKey(check.path.clone()),
                ])),
                KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (Step::Working, WorkerMsg::Finished(result)) = (&self.step, msg) {
            self.step = match result {
                Ok(JobResult::PublicKeyChecked(check)) => Step::Shown {
                    check: check.clone(),
                    qr: false,
                    png: None,
                },
                Err(report) => {
                    self.form.refuse(0, report.clone());
                    Step::Path
                }
                Ok(_) => return None,
            };
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let lines = match &self.step {
            Step::Path => self.form.lines(),
            Step::Working => vec![Line::from(format!("{} …", widgets::spinner(chrome.tick)))],
            Step::Shown {
                check,
                qr: true,
                png,
            } => {
                if qr_fits(&check.qr, area) {
                    frame.render_widget(qr_widget(&check.qr, area, frame.area()), area);
                    return;
                }
                // Too big: say how big the terminal must be, and offer a PNG.
                let mut lines = qr_widget_text(&check.qr, area, frame.area());
                lines.push(Line::from(""));
                match png {
                    None => lines.push(Line::from(strings::KIT_QR_PNG_OFFER)),
                    Some(Ok(path)) => lines.push(Line::from(Span::styled(
                        format!("{} {}", strings::KIT_QR_PNG_WRITTEN, path.display()),
                        Style::default().fg(Color::Green),
                    ))),
                    Some(Err(r)) => lines.extend(widgets::report_lines(r)),
                }
                lines
            }
            Step::Shown {
                check, qr: false, ..
            } => vec![
                Line::from(format!("File: {}", check.path.display())),
                Line::from(format!("Key:  RSA-{}", check.bits)),
                Line::from(""),
                Line::from(vec![
                    Span::raw(format!("{}: ", strings::KIT_PHRASE)),
                    Span::styled(
                        check.phrase.clone(),
                        Style::default()
                            .fg(Color::Cyan)
                            .add_modifier(Modifier::BOLD),
                    ),
                ]),
                Line::from(""),
                Line::from(strings::KIT_FP_HINT),
                Line::from(strings::KIT_QR_HINT),
            ],
        };
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Path => vec![("Enter", "check"), ("Esc", "back")],
            Step::Working => vec![],
            Step::Shown { qr: true, .. } => vec![
                ("v", "QR code / phrase"),
                ("w", "write QR as PNG"),
                ("p", "print PDF"),
                ("Enter", "back"),
            ],
            Step::Shown { .. } => vec![
                ("v", "QR code / phrase"),
                ("p", "print PDF"),
                ("Enter", "back"),
            ],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working)
    }

    fn takes_text(&self) -> bool {
        matches!(self.step, Step::Path)
    }

    fn holds_input(&self) -> bool {
        matches!(self.step, Step::Path) && self.form.holds_input()
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
