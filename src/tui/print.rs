//! The console's "print" key: sheets written as PDFs by
//! [`custodian_core::print`] on a worker thread, then handed to `lp` when a
//! default printer is configured (`lpstat -d` names one). The paper size
//! is A4 unless `CUSTODIAN_PAPER=letter`.

use std::path::{Path, PathBuf};
use std::process::Command;

use custodian_core::error::Report;
use custodian_core::print::{self, What, pdf::Paper};
use custodian_core::workspace::Workspace;

/// The environment variable choosing the console's paper size.
pub const PAPER_VAR: &str = "CUSTODIAN_PAPER";

/// The paper size the console prints on.
pub fn paper() -> Paper {
    std::env::var(PAPER_VAR)
        .ok()
        .and_then(|v| Paper::parse(&v))
        .unwrap_or_default()
}

/// The default printer's name, when `lpstat -d` names one (CUPS prints
/// `system default destination: NAME`; without one it prints `no system
/// default destination`, and without CUPS there is no `lpstat` at all).
pub fn default_printer() -> Option<String> {
    let out = Command::new("lpstat").arg("-d").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.split_once("system default destination:"))
        .map(|(_, name)| plain(name.trim()))
        .filter(|n| !n.is_empty())
}

/// Another program's words as one line of plain text for the footer:
/// control characters dropped, at most 100 characters.
fn plain(text: &str) -> String {
    let line: String = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    match line.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

/// Hands each file to `lp -d PRINTER -- FILE`; the first failure, in
/// words, stops it.
fn send_to(printer: &str, files: &[PathBuf]) -> Result<(), String> {
    for f in files {
        let out = Command::new("lp")
            .arg("-d")
            .arg(printer)
            .arg("--")
            .arg(f)
            .output()
            .map_err(|e| format!("`lp` could not be run ({e})"))?;
        if !out.status.success() {
            let said = plain(&String::from_utf8_lossy(&out.stderr));
            let status = out
                .status
                .code()
                .map_or_else(|| "was killed".to_string(), |c| format!("exited {c}"));
            return Err(if said.is_empty() {
                format!("`lp` {status}")
            } else {
                format!("`lp` {status}: {said}")
            });
        }
    }
    Ok(())
}

/// Prints every sheet in `what`; the footer line saying where they went.
/// With a default printer the line starts with what the printer did (so a
/// narrow footer still shows it); a failed `lp` keeps the PDFs and says
/// where they are before what `lp` said.
pub fn run(ws: &Workspace, what: &[What]) -> Result<String, Report> {
    let paper = paper();
    let mut files = Vec::new();
    for w in what {
        let done = print::print(ws, w, paper, None).map_err(|e| Report::for_console(&e))?;
        files.push(done.path);
    }
    let (written, kept) = match files.as_slice() {
        [one] => (
            format!("PDF written: {}", one.display()),
            format!("PDF kept: {}", one.display()),
        ),
        many => {
            let dir = many
                .first()
                .and_then(|p| p.parent())
                .unwrap_or(Path::new("."))
                .display();
            (
                format!("{} PDFs written in {dir}", many.len()),
                format!("{} PDFs kept in {dir}", many.len()),
            )
        }
    };
    Ok(match default_printer() {
        None => written,
        Some(printer) => match send_to(&printer, &files) {
            Ok(()) => format!("Sent to printer {printer} · {written}"),
            Err(e) => format!("Not printed on {printer}; {kept} · {e}"),
        },
    })
}

/// Writes each guardian share's QR code as a PNG in `<workspace>/printed`
/// ([`print::share_qr_png`]); the footer line naming them.
pub fn share_pngs(ws: &Workspace, files: &[PathBuf]) -> Result<String, Report> {
    let mut written = Vec::new();
    for f in files {
        let done = print::share_qr_png(ws, f).map_err(|e| Report::for_console(&e))?;
        written.push(done.path);
    }
    Ok(match written.as_slice() {
        [one] => format!("PNG written: {}", one.display()),
        many => format!(
            "{} PNGs written in {}: {}",
            many.len(),
            many.first()
                .and_then(|p| p.parent())
                .unwrap_or(Path::new("."))
                .display(),
            many.iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}
