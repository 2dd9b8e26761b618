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

/// The default printer's name, when `lpstat -d` names one.
pub fn default_printer() -> Option<String> {
    let out = Command::new("lpstat").arg("-d").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.split_once("system default destination:"))
        .map(|(_, name)| name.trim().to_string())
        .filter(|n| !n.is_empty())
}

fn send_to(printer: &str, files: &[PathBuf]) -> Result<(), String> {
    for f in files {
        let out = Command::new("lp")
            .arg("-d")
            .arg(printer)
            .arg("--")
            .arg(f)
            .output()
            .map_err(|e| format!("lp: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "lp: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// Prints every sheet in `what`; the footer line saying where they went.
pub fn run(ws: &Workspace, what: &[What]) -> Result<String, Report> {
    let paper = paper();
    let mut files = Vec::new();
    for w in what {
        let done = print::print(ws, w, paper, None).map_err(|e| Report::from_error(&e))?;
        files.push(done.path);
    }
    let mut line = match files.as_slice() {
        [one] => format!("PDF written: {}", one.display()),
        many => format!(
            "{} PDFs written in {}",
            many.len(),
            many.first()
                .and_then(|p| p.parent())
                .unwrap_or(Path::new("."))
                .display()
        ),
    };
    if let Some(printer) = default_printer() {
        match send_to(&printer, &files) {
            Ok(()) => line.push_str(&format!(" · sent to {printer}")),
            Err(e) => line.push_str(&format!(" · not sent ({e})")),
        }
    }
    Ok(line)
}

/// Writes each guardian share's QR code as a PNG in `<workspace>/printed`
/// ([`print::share_qr_png`]); the footer line naming them.
pub fn share_pngs(ws: &Workspace, files: &[PathBuf]) -> Result<String, Report> {
    let mut written = Vec::new();
    for f in files {
        let done = print::share_qr_png(ws, f).map_err(|e| Report::from_error(&e))?;
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
