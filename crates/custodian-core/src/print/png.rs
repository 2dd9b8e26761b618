//! QR codes as PNG images, for when a terminal cannot show one (a guardian
//! share's line, a recovery public key): 8-bit greyscale, black modules on
//! white, 8 pixels a module, the standard's 4-module quiet zone.
//!
//! The matrix comes from `qrcode` (as on the PDF sheets); the image data is
//! deflated by `flate2` and its chunks checksummed by `crc32fast`, both
//! maintained crates already in the tree (through `zip`). The `image`
//! crate's `png` feature would add `png`, `fdeflate` and `simd-adler32`
//! for the same three chunks, so it is not used (CLARIFICATIONS 19).

use std::io::Write as _;

/// Pixels per QR module: large enough for any phone camera from a screen
/// or a print.
pub(crate) const MODULE_PX: usize = 8;
/// The quiet zone around the code, in modules (the standard's minimum).
pub(crate) const QUIET: usize = 4;

/// `data` as a QR code (error correction `ec`) in a PNG image.
pub fn qr(data: &[u8], ec: qrcode::EcLevel) -> Result<Vec<u8>, String> {
    let code = qrcode::QrCode::with_error_correction_level(data, ec)
        .map_err(|e| format!("QR code: {e}"))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * MODULE_PX;
    let dark = |x: usize, y: usize| {
        let (mx, my) = (x / MODULE_PX, y / MODULE_PX);
        mx >= QUIET
            && my >= QUIET
            && mx < QUIET + modules
            && my < QUIET + modules
            && colors[(my - QUIET) * modules + (mx - QUIET)] == qrcode::Color::Dark
    };
    // Each scanline: filter type 0 (none), then one byte per pixel.
    let mut raw = Vec::with_capacity(side * (side + 1));
    for y in 0..side {
        raw.push(0u8);
        raw.extend((0..side).map(|x| if dark(x, y) { 0u8 } else { 255u8 }));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let deflated = z
        .write_all(&raw)
        .and_then(|()| z.finish())
        .map_err(|e| format!("PNG: {e}"))?;
    let side32 = u32::try_from(side).map_err(|_| "PNG: too large".to_string())?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&side32.to_be_bytes());
    // Bit depth 8, colour type 0 (greyscale), deflate, filter 0, no interlace.
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", ihdr.as_slice()),
        (b"IDAT", &deflated),
        (b"IEND", &[]),
    ] {
        let len = u32::try_from(data.len()).map_err(|_| "PNG: too large".to_string())?;
        png.extend_from_slice(&len.to_be_bytes());
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        png.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    Ok(png)
}
