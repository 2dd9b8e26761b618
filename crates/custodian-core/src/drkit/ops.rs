//! The DR-kit operations as the command line and the console run them:
//! each bracketed by audit entries (INITIATED before any secret is touched,
//! then COMPLETED or FAILED) that name files and fingerprints, never a key,
//! a seed or a share.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_json::json;

use super::DrKitError;
use super::derive::{self, CheckedWallets, DeriveOptions, DeriveProgress, DeriveSummary, Deriver};
use super::keys::{self, CreatedKeyPair, KeygenStage};
use super::kit::{self, DrillKit, KitReport, RecoveryKit};
use crate::fsutil;
use crate::workspace::Workspace;

/// Default place for the recovery key pair: `<workspace>/drkit/`.
pub fn default_key_paths(ws: &Workspace) -> Result<(PathBuf, PathBuf), DrKitError> {
    let dir = ws.subdir("drkit")?;
    Ok((
        dir.join("recovery-private.pem"),
        dir.join("recovery-public.pem"),
    ))
}

/// Creates the recovery key pair (see [`keys::create_key_pair`]), audited.
pub fn create_recovery_key(
    ws: &Workspace,
    private: &Path,
    public: &Path,
    passphrase: &SecretString,
    progress: &mut dyn FnMut(KeygenStage),
) -> Result<CreatedKeyPair, DrKitError> {
    let op = ws.audit().begin(
        "DRKIT_KEYGEN",
        json!({ "privateKey": private, "publicKey": public, "bits": keys::KEY_BITS }),
    )?;
    op.finish(
        keys::create_key_pair(private, public, passphrase, progress).map(|c| {
            let extra = json!({
                "phrase": c.phrase,
                "publicKeySha256": fsutil::sha256_hex(c.public_pem.as_bytes()),
            });
            (c, extra)
        }),
    )?
}

/// Verifies an opened kit with a private key file, audited. The kit is
/// opened (and its metadata parsed) by the caller, so a wrong kit fails
/// before any passphrase is asked for, and the bytes audited are the bytes
/// verified.
pub fn verify(
    ws: &Workspace,
    mut opened: RecoveryKit,
    key_path: &Path,
    passphrase: Option<&SecretString>,
) -> Result<KitReport, DrKitError> {
    let op = ws.audit().begin(
        "DRKIT_VERIFY",
        json!({ "kit": opened.path, "kitSha256": opened.sha256, "key": key_path }),
    )?;
    op.finish(
        keys::load_private_key(key_path, passphrase)
            .and_then(|key| kit::verify_kit(&mut opened, &key))
            .map(|r| {
                let extra = json!({ "decrypted": r.decrypted.len() });
                (r, extra)
            }),
    )?
}

#[allow(clippy::too_many_arguments)]
/// Derives shares for a checked list of wallets into a new file, audited.
/// A list with bad lines is refused before any key is touched (unless
/// `options.skip_invalid`); callers check it first with
/// [`CheckedWallets::check`], before asking for a passphrase.
pub fn derive(
    ws: &Workspace,
    mut opened: RecoveryKit,
    key_path: &Path,
    passphrase: Option<&SecretString>,
    wallets: &CheckedWallets,
    out: &Path,
    options: &DeriveOptions,
    progress: &mut dyn FnMut(DeriveProgress),
) -> Result<DeriveSummary, DrKitError> {
    if out.symlink_metadata().is_ok() {
        return Err(fsutil::FsError::AlreadyExists(out.to_path_buf()).into());
    }
    wallets.require_usable(options.skip_invalid)?;
    let master = opened.metadata.ncw_master()?.clone();
    let mut tx = ws.begin(
        "DRKIT_DERIVE",
        json!({
            "kit": opened.path, "kitSha256": opened.sha256, "key": key_path,
            "masterKeyId": master.id, "out": out, "format": options.format.name(),
            "wallets": wallets.valid(),
        }),
    )?;
    // The output is streamed into an unnamed file (or a journaled
    // temporary name), so a kill at any instant leaves no key share on disk.
    let staged = keys::load_private_key(key_path, passphrase)
        .and_then(|key| opened.decrypt_master_keys(&key))
        .and_then(|mks| {
            let deriver = Deriver {
                wallet_seed: master.wallet_seed,
                asset_seed: master.asset_seed,
                master_keys: &mks,
            };
            let dir = out
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            tx.reserve(dir, deriver.estimated_output(wallets.valid()))?;
            progress(DeriveProgress {
                done: 0,
                total: wallets.valid(),
            });
            let writer = tx.stream_output(out)?;
            let (done, writer) =
                derive::derive_stream(&deriver, wallets, writer, options, progress)?;
            let size = writer.len();
            let sha = tx.stage_stream(out, writer)?;
            // Plaintext key shares: recorded until destroyed (custody hygiene).
            tx.track_plaintext(out, crate::outputs::OutputKind::KeyShares, size, &sha);
            Ok(derive::summary(&deriver, wallets, out, options, done, sha))
        });
    let summary = match staged {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    tx.commit(
        |_| Ok::<_, DrKitError>(summary),
        |s| {
            json!({
                "wallets": s.wallets, "shares": s.shares, "skipped": s.skipped.len(),
                "outSha256": s.out_sha256,
            })
        },
    )
}

/// Writes a synthetic drill kit for a public key file, audited, its
/// owner's entries under [`kit::DRILL_OWNER_PASSPHRASE`].
pub fn make_drill_kit(ws: &Workspace, public: &Path, out: &Path) -> Result<DrillKit, DrKitError> {
    make_drill_kit_with(
        ws,
        public,
        out,
        &secrecy::SecretString::from(kit::DRILL_OWNER_PASSPHRASE),
    )
}

/// Writes a complete synthetic drill kit for a public key file, the
/// owner's (mobile) entries under `owner_passphrase`; audited.
pub fn make_drill_kit_with(
    ws: &Workspace,
    public: &Path,
    out: &Path,
    owner_passphrase: &secrecy::SecretString,
) -> Result<DrillKit, DrKitError> {
    let (key, _) = keys::load_public_key(public)?;
    let op = ws.audit().begin(
        "DRKIT_MAKE_DRILL_KIT",
        json!({ "publicKey": public, "out": out }),
    )?;
    op.finish(kit::make_drill_kit(&key, out, owner_passphrase).map(|k| {
        let extra = json!({ "masterKeyId": k.master_key_id, "entry": k.entry, "keys": k.keys });
        (k, extra)
    }))?
}

/// A public key's phrase and QR code, for the "check a public key" screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyCheck {
    /// The file.
    pub path: PathBuf,
    /// Its verification phrase.
    pub phrase: String,
    /// The modulus size.
    pub bits: usize,
    /// The QR code rows.
    pub qr: Vec<String>,
}

/// Writes the QR code of the public key in `public` as a PNG image next to
/// it (`<name>.qr.png`, or `<name>.qr-2.png`… when that exists): never over
/// a file, mode 0600, read back and compared before success. The key is
/// public; the image holds nothing else.
pub fn write_public_key_qr_png(public: &Path) -> Result<PathBuf, DrKitError> {
    let (_, text) = keys::load_public_key(public)?;
    let png = keys::qr_png(&text)?;
    let dir = public.parent().unwrap_or(Path::new("."));
    let stem = public
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public-key".into());
    let mut n = 1;
    loop {
        let name = if n == 1 {
            format!("{stem}.qr.png")
        } else {
            format!("{stem}.qr-{n}.png")
        };
        let path = dir.join(name);
        let written = fsutil::write_new_checked(&path, &png, |read| {
            if read == png.as_slice() {
                Ok(())
            } else {
                Err("the PNG read back differs".into())
            }
        });
        match written {
            Ok(()) => return Ok(path),
            Err(_) if path.exists() && n < 100 => n += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads a public key file and computes its phrase and QR code.
pub fn check_public_key(path: &Path) -> Result<PublicKeyCheck, DrKitError> {
    let (key, text) = keys::load_public_key(path)?;
    Ok(PublicKeyCheck {
        path: path.to_path_buf(),
        phrase: keys::verification_phrase(&text),
        bits: keys::key_bits(&key),
        qr: keys::qr_lines(&text)?,
    })
}
