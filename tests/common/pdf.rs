//! Reading printed PDFs back with real tools: `pdftotext` and `pdfinfo`
//! (poppler-utils) for the text and the page size, `pdftoppm` to render
//! each page and `zbarimg` (zbar-tools) to decode the QR codes on it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// The PDF's text as `pdftotext` extracts it, with every run of
/// whitespace made one space (so layout does not matter to a search).
pub fn text(pdf: &Path) -> String {
    // -layout keeps each printed line one line (a label and its value
    // side by side), as a person reads the sheet.
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(out.status.success(), "pdftotext failed: {:?}", out);
    squash(&String::from_utf8_lossy(&out.stdout))
}

/// Every run of whitespace as one space, trimmed.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that the PDF's text holds each of `expected` (whitespace squashed).
pub fn assert_has_text(pdf: &Path, expected: &[String]) {
    let have = text(pdf);
    for e in expected {
        assert!(
            have.contains(&squash(e)),
            "{} lacks {e:?}; it has:\n{have}",
            pdf.display()
        );
    }
}

/// A hash as the sheets print it in large groups for hand comparison:
/// four groups of four characters a line.
pub fn hash_rows(hash: &str) -> Vec<String> {
    let groups: Vec<String> = hash
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    groups.chunks(4).map(|r| r.join(" ")).collect()
}

/// How many raster images the PDF holds (`pdfimages -list`): a QR code
/// drawn as vectors is none.
pub fn image_count(pdf: &Path) -> usize {
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(pdf)
        .output()
        .expect("pdfimages runs");
    assert!(out.status.success(), "pdfimages failed: {:?}", out);
    // Two header lines, then one line per image.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// Pages and the first page's size in points, from `pdfinfo`.
pub fn info(pdf: &Path) -> (usize, String) {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo runs");
    assert!(out.status.success(), "pdfinfo failed: {:?}", out);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    (field("Pages:").parse().unwrap_or(0), field("Page size:"))
}

/// Renders each page at 150 dpi with `pdftoppm` and decodes the QR codes
/// on it with `zbarimg`: per page, what each code holds, exactly.
pub fn qr_codes(pdf: &Path) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let st = Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm runs");
    assert!(st.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    pages
        .iter()
        .map(|png| qr_of_png(png).into_iter().collect())
        .collect()
}

/// What the QR code in image `png` holds, exactly, as `zbarimg` decodes
/// it (None: no code in the image).
pub fn qr_of_png(png: &Path) -> Option<String> {
    // One symbol per call is what the sheets draw per page; -S binary
    // keeps the bytes as they are.
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sbinary"])
        .arg(png)
        .output()
        .expect("zbarimg runs");
    // Exit 4: no symbol in this image.
    if out.status.code() == Some(4) {
        return None;
    }
    assert!(
        out.status.success(),
        "zbarimg failed on {}: {:?}",
        png.display(),
        out
    );
    // In binary mode zbarimg adds nothing after the data.
    Some(String::from_utf8(out.stdout).unwrap())
}

/// The file's mode bits.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
