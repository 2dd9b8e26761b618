//! A strict look at a kit zip's own structure, before the zip reader is
//! trusted with it.
//!
//! A zip names each entry twice: in a local header before the entry's data
//! and again in the central directory at the end. Readers differ in which
//! one they believe, and a reader that keeps entries by name keeps only one
//! of two entries with the same name. A kit in which the two copies
//! disagree, or in which a name appears twice, could show one tool one key
//! and another tool another, so it is refused here with the entry named.
//!
//! Only what a kit needs is read: the end-of-central-directory record, each
//! central header and the local header it points to. ZIP64 (for archives
//! over 4 GiB or 65,535 entries) is not: a kit is a few kilobytes.

use std::collections::HashSet;

use super::DrKitError;

const EOCD_SIG: u32 = 0x0605_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
/// General-purpose flag bit 3: sizes and CRC follow the data instead.
const DATA_DESCRIPTOR: u16 = 1 << 3;

/// One entry as the central directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralEntry {
    /// Its name, exactly as stored (lossily decoded if not UTF-8).
    pub name: String,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads the central directory of `zip` and checks every entry's local
/// header against it. Returns the entries in central-directory order.
///
/// `not_zip` turns a structural problem into the caller's error; a name
/// listed twice and headers that disagree get their own errors.
pub fn check(
    zip: &[u8],
    not_zip: impl Fn(String) -> DrKitError,
) -> Result<Vec<CentralEntry>, DrKitError> {
    // The end record is 22 bytes plus a comment of at most 65,535.
    let lowest = zip.len().saturating_sub(22 + 65_535);
    let eocd = (lowest..=zip.len().saturating_sub(22))
        .rev()
        .find(|&at| u32_at(zip, at) == Some(EOCD_SIG))
        .ok_or_else(|| not_zip("no end-of-central-directory record".into()))?;
    let short = || not_zip("the end-of-central-directory record is cut short".into());
    let count = u16_at(zip, eocd + 10).ok_or_else(short)?;
    let cd_size = u32_at(zip, eocd + 12).ok_or_else(short)?;
    let cd_offset = u32_at(zip, eocd + 16).ok_or_else(short)?;
    if count == u16::MAX || cd_size == u32::MAX || cd_offset == u32::MAX {
        return Err(not_zip(
            "it is a ZIP64 archive, which no vendor kit is".into(),
        ));
    }
    let mut at = cd_offset as usize;
    let mut entries = Vec::with_capacity(count.into());
    let mut seen = HashSet::new();
    for _ in 0..count {
        let cut = || not_zip("the central directory is cut short".into());
        if u32_at(zip, at) != Some(CENTRAL_SIG) {
            return Err(cut());
        }
        let flags = u16_at(zip, at + 8).ok_or_else(cut)?;
        let method = u16_at(zip, at + 10).ok_or_else(cut)?;
        let crc = u32_at(zip, at + 16).ok_or_else(cut)?;
        let csize = u32_at(zip, at + 20).ok_or_else(cut)?;
        let usize_ = u32_at(zip, at + 24).ok_or_else(cut)?;
        let name_len = usize::from(u16_at(zip, at + 28).ok_or_else(cut)?);
        let extra_len = usize::from(u16_at(zip, at + 30).ok_or_else(cut)?);
        let comment_len = usize::from(u16_at(zip, at + 32).ok_or_else(cut)?);
        let local = u32_at(zip, at + 42).ok_or_else(cut)? as usize;
        let raw_name = zip.get(at + 46..at + 46 + name_len).ok_or_else(cut)?;
        let name = String::from_utf8_lossy(raw_name).into_owned();
        at += 46 + name_len + extra_len + comment_len;

        if !seen.insert(raw_name.to_vec()) {
            return Err(DrKitError::DuplicateEntry { entry: name });
        }
        let disagree = |field: &'static str| DrKitError::ZipHeadersDisagree {
            entry: name.clone(),
            field,
        };
        if u32_at(zip, local) != Some(LOCAL_SIG) {
            return Err(disagree(
                "no local header where the central directory points",
            ));
        }
        let lcut = || disagree("the local header is cut short");
        let l_flags = u16_at(zip, local + 6).ok_or_else(lcut)?;
        let l_method = u16_at(zip, local + 8).ok_or_else(lcut)?;
        let l_crc = u32_at(zip, local + 14).ok_or_else(lcut)?;
        let l_csize = u32_at(zip, local + 18).ok_or_else(lcut)?;
        let l_usize = u32_at(zip, local + 22).ok_or_else(lcut)?;
        let l_name_len = usize::from(u16_at(zip, local + 26).ok_or_else(lcut)?);
        let l_name = zip
            .get(local + 30..local + 30 + l_name_len)
            .ok_or_else(lcut)?;
        if l_name != raw_name {
            return Err(disagree("name"));
        }
        if l_method != method {
            return Err(disagree("compression method"));
        }
        if (l_flags & DATA_DESCRIPTOR) != (flags & DATA_DESCRIPTOR) {
            return Err(disagree("flags"));
        }
        // With a data descriptor the local copy may hold zeros instead.
        let deferred = flags & DATA_DESCRIPTOR != 0;
        if !(deferred && l_crc == 0) && l_crc != crc {
            return Err(disagree("CRC-32"));
        }
        if !(deferred && l_csize == 0) && l_csize != csize {
            return Err(disagree("compressed size"));
        }
        if !(deferred && l_usize == 0) && l_usize != usize_ {
            return Err(disagree("size"));
        }
        entries.push(CentralEntry { name });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            zip.start_file(*name, opts).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn not_zip(reason: String) -> DrKitError {
        DrKitError::NotAZip {
            path: "kit.zip".into(),
            reason,
        }
    }

    /// Replaces every occurrence of `from` by `to` (same length).
    fn patch(bytes: &mut [u8], from: &[u8], to: &[u8], which: impl Fn(usize) -> bool) {
        let mut n = 0;
        for i in 0..=bytes.len() - from.len() {
            if &bytes[i..i + from.len()] == from {
                if which(n) {
                    bytes[i..i + to.len()].copy_from_slice(to);
                }
                n += 1;
            }
        }
    }

    #[test]
    fn a_plain_zip_lists_its_entries() {
        let zip = zip_of(&[("metadata.json", b"{}"), ("1_x", b"k")]);
        let names: Vec<String> = check(&zip, not_zip)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["metadata.json", "1_x"]);
    }

    #[test]
    fn a_name_listed_twice_is_refused() {
        let mut zip = zip_of(&[
            ("metadata.json", b"{\"a\":1}"),
            ("metadata.jsoo", b"{\"b\":2}"),
        ]);
        patch(&mut zip, b"metadata.jsoo", b"metadata.json", |_| true);
        let err = check(&zip, not_zip).unwrap_err();
        assert!(
            matches!(&err, DrKitError::DuplicateEntry { entry } if entry == "metadata.json"),
            "{err}"
        );
    }

    #[test]
    fn local_and_central_headers_that_disagree_are_refused() {
        // The local copy of the name says one thing, the central another.
        let mut zip = zip_of(&[("metadata.json", b"{}"), ("1_aaaa", b"k")]);
        patch(&mut zip, b"1_aaaa", b"1_bbbb", |n| n == 0);
        let err = check(&zip, not_zip).unwrap_err();
        assert!(
            matches!(&err, DrKitError::ZipHeadersDisagree { entry, field: "name" } if entry == "1_aaaa"),
            "{err}"
        );
        // A CRC changed in the local header only.
        let mut zip = zip_of(&[("metadata.json", b"{}")]);
        zip[14] ^= 1;
        let err = check(&zip, not_zip).unwrap_err();
        assert!(
            matches!(
                &err,
                DrKitError::ZipHeadersDisagree {
                    field: "CRC-32",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn damaged_bytes_are_refused_without_panicking() {
        let zip = zip_of(&[("metadata.json", b"{}"), ("1_x", b"k")]);
        for cut in 0..zip.len() {
            let _ = check(&zip[..cut], not_zip);
        }
        for i in 0..zip.len() {
            let mut z = zip.clone();
            z[i] ^= 0xff;
            let _ = check(&z, not_zip);
        }
    }
}
