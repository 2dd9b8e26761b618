//! Careful file writing: the only way this crate puts bytes on disk.
//!
//! Every file the console produces holds key material or evidence about key
//! material, so every write follows the same discipline:
//!
//! 1. the bytes go to a temporary file in the *same* directory (so the final
//!    rename cannot cross a filesystem), created with mode 0600;
//! 2. the temporary file is fsynced, then moved into place;
//! 3. the directory is fsynced so the new name survives a power cut;
//! 4. the file is read back and compared (and, where the caller can, checked
//!    semantically — re-parsed, re-decrypted) before success is reported.
//!
//! Streamed output ([`NewFileWriter`], hundreds of megabytes of derived
//! shares) is read back while it is written, before it is published, and the
//! published name is then checked to be that same file.
//!
//! Output files are never overwritten: [`write_new`] publishes with a
//! no-clobber link, so a file that appears between our check and our rename
//! still wins. State files that the console owns (the registry) are replaced
//! with [`replace`], which uses an atomic rename over the old copy.
//!
//! Output bytes are written *unnamed* where the filesystem allows it
//! (`O_TMPFILE`, then `linkat` of `/proc/self/fd/N` with `AT_SYMLINK_FOLLOW`,
//! which needs no capability): a crash or a kill before the link leaves
//! nothing on disk. Where `O_TMPFILE` is missing (vfat/exFAT sticks), the
//! caller names the temporary file, and a transaction journals that name
//! first so the next repair removes it (see [`crate::transaction`]).
//!
//! No path this module writes is followed through a symlink: outputs are
//! published with `linkat`/`renameat2(RENAME_NOREPLACE)`, which never follow
//! the final component, and the append-only and replaced state files are
//! opened with `O_NOFOLLOW` or refused when they are links.
//!
//! Tests reach every I/O step through [`fault`], a layer compiled only into
//! test builds (`cfg(test)` or the `fault-injection` feature) that makes the
//! Nth write, fsync, rename, link or directory sync fail.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, Mode, OFlags, RenameFlags};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::Explain;

/// Why a careful write or read did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// The destination already exists; the console never overwrites output.
    #[error("{} already exists; refusing to overwrite it", .0.display())]
    AlreadyExists(PathBuf),
    /// The operating system refused an operation on a path.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("writing", "reading", …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file was written but did not read back as expected; it was removed.
    #[error("{} did not verify after writing ({reason}); it has been removed", path.display())]
    VerifyFailed {
        /// The path that failed verification.
        path: PathBuf,
        /// What the check found.
        reason: String,
    },
    /// Another file took the output's name while it was being published;
    /// that file was left alone and ours is not there.
    #[error("{} was replaced by another file while it was being published; that file was left alone", .0.display())]
    Replaced(PathBuf),
    /// A path the console writes (or its state files) is a symbolic link.
    #[error("{} is a symbolic link; the console does not follow links for its own files and outputs", .0.display())]
    Symlink(PathBuf),
    /// The filesystem cannot hold what the operation is about to write.
    #[error("{} has {available} bytes free; this operation needs about {needed} (its output plus a safety margin)", path.display())]
    NoSpace {
        /// The directory checked.
        path: PathBuf,
        /// Bytes needed, margin included.
        needed: u64,
        /// Bytes available to this user.
        available: u64,
    },
    /// An input file is larger than the console will read for its kind.
    #[error("{} is {size} bytes, more than the {limit}-byte limit for this kind of file", path.display())]
    TooLarge {
        /// The offending file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit that applies.
        limit: u64,
    },
}

impl Explain for FsError {
    fn remedy_for(&self, _to: crate::error::Audience) -> Option<String> {
        Some(match self {
            FsError::AlreadyExists(_) => {
                "choose another output path, or move the existing file away first".into()
            }
            FsError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                "check the path: the file or its directory does not exist".into()
            }
            FsError::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                "check the file's owner and permissions".into()
            }
            FsError::Io { .. } => "check the disk and the path, then try again".into(),
            FsError::VerifyFailed { .. } => {
                "the disk may be failing or full; try another location".into()
            }
            FsError::TooLarge { .. } => "check that this is the file you meant".into(),
            FsError::Symlink(_) => {
                "replace the link with the real file or directory (or pass the real path), then try again".into()
            }
            FsError::NoSpace { .. } => {
                "free some space on that disk or choose another location, then try again".into()
            }
            FsError::Replaced(_) => {
                "something else writes to that directory: look at that file, then write to a folder only you use".into()
            }
        })
    }
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> FsError + 'a {
    move |source| FsError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and parents) with mode 0700 if missing.
pub fn ensure_private_dir(dir: &Path) -> Result<(), FsError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err("creating directory", dir))
}

/// Creates the new directory `dir` (mode 0700; not its parents), then
/// fsyncs its parent so the name survives a power cut. Refuses an
/// existing `dir`.
pub fn create_new_private_dir(dir: &Path) -> Result<(), FsError> {
    fault::check(fault::Step::Mkdir)
        .and_then(|_| fs::DirBuilder::new().mode(0o700).create(dir))
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                FsError::AlreadyExists(dir.to_path_buf())
            } else {
                io_err("creating directory", dir)(e)
            }
        })?;
    sync_dir(parent_of(dir))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Fsyncs a directory so the names created or removed in it survive a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    fault::check(fault::Step::DirSync)
        .and_then(|_| File::open(dir))
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing directory", dir))
}

/// The prefix of every temporary name the console creates.
pub const TEMP_PREFIX: &str = ".custodian-tmp-";

/// True when `name` is one of the console's temporary names.
pub fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with(TEMP_PREFIX)
}

/// A random temporary name in `dir`.
pub fn temp_name_in(dir: &Path, tag: &str) -> PathBuf {
    let mut r = [0u8; 8];
    rand::Rng::fill_bytes(&mut crate::rng::os(), &mut r);
    dir.join(format!("{TEMP_PREFIX}{tag}{}", hex::encode(r)))
}

/// Refuses `path` when it is a symbolic link (a missing path is fine).
pub fn refuse_symlink(path: &Path) -> Result<(), FsError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(FsError::Symlink(path.to_path_buf())),
        _ => Ok(()),
    }
}

fn from_errno(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// True when unnamed files can be linked in through `/proc/self/fd`.
fn proc_fd_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| Path::new("/proc/self/fd").is_dir())
}

/// A new output file being written: unnamed (`O_TMPFILE`) where the
/// filesystem allows, else under a temporary name chosen by the caller.
/// Dropped before it is named, it leaves nothing behind.
#[derive(Debug)]
pub struct OutputFile {
    file: File,
    /// The temporary name, when the file has one.
    temp: Option<PathBuf>,
}

impl OutputFile {
    /// Creates the file in `dir` (mode 0600). `fallback` is called only when
    /// the filesystem has no `O_TMPFILE`: it returns the temporary name to
    /// use, after recording it wherever a later repair will look.
    pub fn create(
        dir: &Path,
        fallback: impl FnOnce() -> Result<PathBuf, FsError>,
    ) -> Result<OutputFile, FsError> {
        refuse_symlink(dir)?;
        if proc_fd_available() && !fault::named_temps_forced() {
            match rustix::fs::open(
                dir,
                OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            ) {
                Ok(fd) => {
                    return Ok(OutputFile {
                        file: File::from(fd),
                        temp: None,
                    });
                }
                Err(e)
                    if e == rustix::io::Errno::OPNOTSUPP
                        || e == rustix::io::Errno::ISDIR
                        || e == rustix::io::Errno::INVAL
                        || e == rustix::io::Errno::NOSYS => {}
                Err(e) => {
                    return Err(io_err("creating an unnamed file in", dir)(from_errno(e)));
                }
            }
        }
        let temp = fallback()?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(OFlags::NOFOLLOW.bits() as i32)
            .open(&temp)
            .map_err(io_err("creating a temporary file", &temp))?;
        Ok(OutputFile {
            file,
            temp: Some(temp),
        })
    }

    /// The open file (for reading it back).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The temporary name, if the file has one.
    pub fn temp_path(&self) -> Option<&Path> {
        self.temp.as_deref()
    }

    /// Appends `bytes`.
    pub fn write_all(&mut self, bytes: &[u8], path: &Path) -> Result<(), FsError> {
        fault::check(fault::Step::Write)
            .and_then(|_| self.file.write_all(bytes))
            .map_err(io_err("writing", path))
    }

    /// Fsyncs the file's bytes.
    pub fn sync(&self, path: &Path) -> Result<(), FsError> {
        fault::check(fault::Step::Fsync)
            .and_then(|_| self.file.sync_all())
            .map_err(io_err("syncing", path))
    }

    /// Takes the temporary name out of the file's care (it will not be
    /// removed on drop) and returns it, if the file has one.
    pub fn keep_temp(mut self) -> Option<PathBuf> {
        self.temp.take()
    }

    /// Gives the file the name `name`, never replacing an existing file:
    /// `linkat` of the unnamed file, or a no-clobber rename of its temporary
    /// name. The caller fsyncs the directory.
    pub fn link_as(mut self, name: &Path) -> Result<File, FsError> {
        let exists = |e: &io::Error| e.kind() == io::ErrorKind::AlreadyExists;
        let result = match &self.temp {
            None => fault::check(fault::Step::Link).and_then(|_| {
                rustix::fs::linkat(
                    CWD,
                    format!("/proc/self/fd/{}", self.file.as_raw_fd()),
                    CWD,
                    name,
                    AtFlags::SYMLINK_FOLLOW,
                )
                .map_err(from_errno)
            }),
            Some(temp) => rename_noreplace(temp, name),
        };
        match result {
            Ok(()) => {
                self.temp = None;
                Ok(self.file.try_clone().map_err(io_err("opening", name))?)
            }
            Err(e) if exists(&e) => Err(FsError::AlreadyExists(name.to_path_buf())),
            Err(e) => Err(io_err("publishing", name)(e)),
        }
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

/// Moves `from` to `to` without ever replacing `to` (`renameat2` with
/// `RENAME_NOREPLACE`, or link-then-unlink where the filesystem lacks it).
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    fault::check(fault::Step::Rename)?;
    match rustix::fs::renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(e)
            if e == rustix::io::Errno::INVAL
                || e == rustix::io::Errno::NOSYS
                || e == rustix::io::Errno::OPNOTSUPP =>
        {
            rustix::fs::linkat(CWD, from, CWD, to, AtFlags::empty()).map_err(from_errno)?;
            fs::remove_file(from)
        }
        Err(e) => Err(from_errno(e)),
    }
}

/// Refuses to go on when the filesystem holding `dir` cannot take `bytes`
/// more plus a margin (4 MiB and 5 %), so a sensitive operation does not
/// start only to run out of space half-way.
pub fn ensure_free_space(dir: &Path, bytes: u64) -> Result<(), FsError> {
    let st = rustix::fs::statvfs(dir)
        .map_err(|e| io_err("checking free space on", dir)(from_errno(e)))?;
    let available = st.f_bavail.saturating_mul(st.f_frsize);
    let needed = bytes.saturating_add(bytes / 20).saturating_add(4 << 20);
    if available < needed {
        return Err(FsError::NoSpace {
            path: dir.to_path_buf(),
            needed,
            available,
        });
    }
    Ok(())
}

/// Writes `bytes` to a new unnamed file in `dir` (journaled fallback name
/// from `fallback`), fsyncs it and reads it back through the same open
/// file, running `check` on what was read. The file is not named yet.
pub fn write_unnamed<F>(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
    fallback: impl FnOnce() -> Result<PathBuf, FsError>,
    check: F,
) -> Result<OutputFile, FsError>
where
    F: FnOnce(&[u8]) -> Result<(), String>,
{
    let mut out = OutputFile::create(dir, fallback)?;
    out.write_all(bytes, path)?;
    out.sync(path)?;
    let fail = |reason: String| FsError::VerifyFailed {
        path: path.to_path_buf(),
        reason,
    };
    let mut got = Zeroizing::new(vec![0u8; bytes.len()]);
    out.file
        .read_exact_at(&mut got, 0)
        .map_err(io_err("reading back", path))?;
    let mut extra = [0u8; 1];
    if &got[..] != bytes
        || out
            .file
            .read_at(&mut extra, bytes.len() as u64)
            .unwrap_or(1)
            != 0
    {
        return Err(fail("contents differ from what was written".into()));
    }
    let mode = out
        .file
        .metadata()
        .map_err(io_err("checking", path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(fail(format!("mode is {:o}, expected 600", mode & 0o777)));
    }
    check(&got).map_err(fail)?;
    Ok(out)
}

/// Checks that the name `path` is the very file `file` (same inode).
fn same_file(path: &Path, file: &File) -> Result<bool, FsError> {
    let named = fs::symlink_metadata(path).map_err(io_err("checking", path))?;
    let open = file.metadata().map_err(io_err("checking", path))?;
    Ok((named.dev(), named.ino()) == (open.dev(), open.ino()))
}

/// Reads back `path` and checks it equals `expected`, then runs `check`.
/// On any mismatch the file is removed and [`FsError::VerifyFailed`] returned.
fn read_back<F>(path: &Path, expected: &[u8], check: F) -> Result<(), FsError>
where
    F: FnOnce(&[u8]) -> Result<(), String>,
{
    let fail = |reason: String| {
        let _ = fs::remove_file(path);
        FsError::VerifyFailed {
            path: path.to_path_buf(),
            reason,
        }
    };
    let got = fs::read(path).map_err(io_err("reading back", path))?;
    if got != expected {
        return Err(fail("contents differ from what was written".into()));
    }
    let mode = fs::metadata(path)
        .map_err(io_err("checking", path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(fail(format!("mode is {:o}, expected 600", mode & 0o777)));
    }
    check(&got).map_err(fail)
}

/// Writes a new file atomically with mode 0600, refusing to overwrite, then
/// reads it back and runs `check` on the bytes read. Nothing is left behind
/// on failure: the bytes are written unnamed and only linked in once they
/// have read back correctly.
///
/// Operations on a workspace use [`crate::transaction::Transaction`]
/// instead, which also journals the output so a crash is repaired.
pub fn write_new_checked<F>(path: &Path, bytes: &[u8], check: F) -> Result<(), FsError>
where
    F: FnOnce(&[u8]) -> Result<(), String>,
{
    if path.symlink_metadata().is_ok() {
        return Err(FsError::AlreadyExists(path.to_path_buf()));
    }
    let dir = parent_of(path);
    let out = write_unnamed(dir, path, bytes, || Ok(temp_name_in(dir, "")), check)?;
    let file = out.link_as(path)?;
    let take_back = |err: FsError| {
        if same_file(path, &file).unwrap_or(false) {
            let _ = fs::remove_file(path);
        }
        err
    };
    sync_dir(dir).map_err(take_back)?;
    if !same_file(path, &file)? {
        return Err(FsError::Replaced(path.to_path_buf()));
    }
    Ok(())
}

/// [`write_new_checked`] with only the byte-for-byte read-back check.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    write_new_checked(path, bytes, |_| Ok(()))
}

/// Atomically replaces (or creates) a state file the console owns, with mode
/// 0600, and reads it back. Callers serialise concurrent writers themselves
/// (the workspace holds a lock around registry updates). A symlink at
/// `path` is refused, never replaced.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    refuse_symlink(path)?;
    let dir = parent_of(path);
    let temp = temp_name_in(dir, "");
    let out = write_unnamed(dir, path, bytes, || Ok(temp.clone()), |_| Ok(()))?;
    // Unnamed bytes get a temporary name first: only a rename can replace.
    let named = match out.temp_path() {
        Some(_) => out.keep_temp().unwrap_or(temp),
        None => {
            out.link_as(&temp)?;
            temp
        }
    };
    let renamed = fault::check(fault::Step::Rename)
        .and_then(|_| fs::rename(&named, path))
        .map_err(io_err("replacing", path));
    if let Err(e) = renamed {
        let _ = fs::remove_file(&named);
        return Err(e);
    }
    sync_dir(dir)?;
    read_back(path, bytes, |_| Ok(()))
}

/// Reads a whole file, refusing anything larger than `limit` bytes so a
/// wrong or hostile input cannot exhaust memory.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, FsError> {
    let file = File::open(path).map_err(io_err("opening", path))?;
    let size = file.metadata().map_err(io_err("checking", path))?.len();
    if size > limit {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    read_to_end_capped(file, path, limit, size as usize)
}

/// Reads `file` (opened from `path`) to its end, refusing more than `limit`
/// bytes even if it grew after it was measured.
fn read_to_end_capped(
    file: File,
    path: &Path,
    limit: u64,
    capacity: usize,
) -> Result<Vec<u8>, FsError> {
    let mut buf = Vec::with_capacity(capacity);
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(io_err("reading", path))?;
    if buf.len() as u64 > limit {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(buf)
}

/// A new output file written as a stream, with the same discipline as
/// [`write_new_checked`]: the bytes go to a 0600 temporary file in the same
/// directory and are read back and compared before the file is published
/// with a no-clobber link (never overwriting); the directory is then
/// fsynced and the published name is checked to be that same, verified
/// file (same inode, length and 0600 mode).
///
/// Output of this kind can be hundreds of megabytes, so the read-back does
/// not wait for the end: a checker thread takes each buffer once it is
/// written, reads that range back from the file, compares it byte for byte
/// and hashes what it read (the SHA-256 that [`NewFileWriter::finish`]
/// returns). It also starts each range's writeback to disk (`fdatasync`
/// every [`FLUSH_EVERY`] bytes), so the final fsync has little left to do.
/// Buffers wait for the checker in a bounded queue, so memory stays
/// constant, and every buffer (written or read back) is zeroized when
/// dropped: these files hold key shares.
///
/// Dropping the writer without `finish` deletes the temporary file, so a
/// failed run leaves nothing behind.
pub struct NewFileWriter {
    path: PathBuf,
    out: OutputFile,
    len: u64,
    checker: ReadBackChecker,
}

/// Bytes written between two `fdatasync` calls of the read-back checker.
pub const FLUSH_EVERY: u64 = 64 << 20;

/// Buffers written but not yet read back, at most.
const CHECK_QUEUE: usize = 64;

/// Checked buffers kept for reuse (see [`NewFileWriter::spares`]), at most.
const SPARES: usize = 16;

/// Why the read-back did not match.
enum ReadBackError {
    /// The file could not be read.
    Io(io::Error),
    /// The file differs from what was written at this offset.
    Differs(u64),
    /// The file ends before what was written does.
    Short(u64),
    /// The file has more bytes than were written.
    Long,
}

/// The thread that reads a growing file back behind its writer.
struct ReadBackChecker {
    /// Each buffer once it is written (None once the writer is done).
    written: Option<std::sync::mpsc::SyncSender<Zeroizing<Vec<u8>>>>,
    /// Each buffer once it is read back, emptied, for reuse (until taken,
    /// or when nobody takes them, dropped and so wiped as before).
    spares: Option<std::sync::mpsc::Receiver<Zeroizing<Vec<u8>>>>,
    /// The SHA-256 and length of what was read back.
    done: Option<std::thread::JoinHandle<ReadBack>>,
}

/// What the checker thread found: the SHA-256 and length read back.
type ReadBack = Result<([u8; 32], u64), ReadBackError>;

impl ReadBackChecker {
    fn start(file: File) -> ReadBackChecker {
        let (written, rx) = std::sync::mpsc::sync_channel::<Zeroizing<Vec<u8>>>(CHECK_QUEUE);
        let (spare, spares) = std::sync::mpsc::sync_channel::<Zeroizing<Vec<u8>>>(SPARES);
        let done = std::thread::spawn(move || {
            use std::os::unix::fs::FileExt;
            let mut hasher = Sha256::new();
            let mut buf = Zeroizing::new(vec![0u8; 1 << 20]);
            let (mut checked, mut synced) = (0u64, 0u64);
            // The loop ends when the writer is finished (the sender dropped).
            for mut expected in rx {
                for want in expected.chunks(buf.len()) {
                    let got = &mut buf[..want.len()];
                    file.read_exact_at(got, checked).map_err(|e| {
                        if e.kind() == io::ErrorKind::UnexpectedEof {
                            ReadBackError::Short(checked)
                        } else {
                            ReadBackError::Io(e)
                        }
                    })?;
                    if got != want {
                        let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
                        return Err(ReadBackError::Differs(checked + at as u64));
                    }
                    hasher.update(&got[..]);
                    checked += want.len() as u64;
                }
                if checked - synced >= FLUSH_EVERY {
                    file.sync_data().map_err(ReadBackError::Io)?;
                    synced = checked;
                }
                // Offered for reuse; a full queue or nobody taking them
                // drops (wipes) it here, as before.
                expected.clear();
                let _ = spare.try_send(expected);
            }
            // Anything beyond what was written is a difference too.
            let mut extra = [0u8; 1];
            if file
                .read_at(&mut extra, checked)
                .map_err(ReadBackError::Io)?
                != 0
            {
                return Err(ReadBackError::Long);
            }
            Ok((hasher.finalize().into(), checked))
        });
        ReadBackChecker {
            written: Some(written),
            spares: Some(spares),
            done: Some(done),
        }
    }

    /// Ends the read-back (no more buffers) and waits for its verdict on a
    /// file of `len` bytes at `path`: the SHA-256 of what was read back.
    fn outcome(&mut self, path: &Path, len: u64) -> Result<[u8; 32], FsError> {
        let verify_failed = |reason: String| FsError::VerifyFailed {
            path: path.to_path_buf(),
            reason,
        };
        self.written = None;
        let Some(done) = self.done.take() else {
            return Err(verify_failed("the read-back already ended".into()));
        };
        match done.join() {
            Ok(Ok((sha256, read))) if read == len => Ok(sha256),
            Ok(Ok((_, read))) => Err(verify_failed(format!(
                "read back {read} bytes of the {len} written"
            ))),
            Ok(Err(ReadBackError::Io(e))) => Err(io_err("reading back", path)(e)),
            Ok(Err(ReadBackError::Differs(at))) => Err(verify_failed(format!(
                "byte {at} read back differs from what was written"
            ))),
            Ok(Err(ReadBackError::Short(at))) => Err(verify_failed(format!(
                "it ends at byte {at}, {len} were written"
            ))),
            Ok(Err(ReadBackError::Long)) => Err(verify_failed(format!(
                "it is longer than the {len} bytes written"
            ))),
            Err(_) => Err(verify_failed("the read-back checker stopped".into())),
        }
    }
}

impl std::fmt::Debug for NewFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewFileWriter")
            .field("path", &self.path)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl NewFileWriter {
    /// Starts a new file at `path`; fails at once if `path` exists.
    pub fn create(path: &Path) -> Result<NewFileWriter, FsError> {
        let dir = parent_of(path).to_path_buf();
        NewFileWriter::create_with(path, || Ok(temp_name_in(&dir, "")))
    }

    /// [`NewFileWriter::create`] with the temporary name (used only where
    /// the filesystem has no `O_TMPFILE`) chosen and recorded by `fallback`.
    pub fn create_with(
        path: &Path,
        fallback: impl FnOnce() -> Result<PathBuf, FsError>,
    ) -> Result<NewFileWriter, FsError> {
        if path.symlink_metadata().is_ok() {
            return Err(FsError::AlreadyExists(path.to_path_buf()));
        }
        let out = OutputFile::create(parent_of(path), fallback)?;
        let reader = out
            .file()
            .try_clone()
            .map_err(io_err("opening for read-back a temporary file for", path))?;
        Ok(NewFileWriter {
            path: path.to_path_buf(),
            out,
            len: 0,
            checker: ReadBackChecker::start(reader),
        })
    }

    /// Appends a copy of `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), FsError> {
        self.write_owned(Zeroizing::new(bytes.to_vec()))
    }

    /// Appends `bytes`, handing the buffer on to the read-back check (no
    /// copy); it is zeroized once checked.
    pub fn write_owned(&mut self, bytes: Zeroizing<Vec<u8>>) -> Result<(), FsError> {
        self.out.write_all(&bytes, &self.path)?;
        self.len += bytes.len() as u64;
        let sent = match &self.checker.written {
            Some(tx) => tx.send(bytes).is_ok(),
            None => false,
        };
        if !sent {
            // The checker stopped: it found a difference or could not read.
            // Say so now rather than after writing everything else.
            let len = self.len;
            self.checker.outcome(&self.path, len)?;
            return Err(FsError::VerifyFailed {
                path: self.path.clone(),
                reason: "the read-back stopped early".into(),
            });
        }
        Ok(())
    }

    /// The buffers already read back, emptied, to be filled again and
    /// handed to [`NewFileWriter::write_owned`] (once; None after). Reusing
    /// them spares a producer of many buffers an allocation each, and the
    /// wiping of each buffer every time: a reused buffer's old bytes are
    /// overwritten by the next, and it is wiped once, when it is dropped.
    pub fn spares(&mut self) -> Option<std::sync::mpsc::Receiver<Zeroizing<Vec<u8>>>> {
        self.checker.spares.take()
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fsyncs the file and waits for the read-back to end; returns the file,
    /// still unnamed, and the SHA-256 hex of what was read back. A
    /// transaction names and publishes it.
    pub fn finish_unnamed(self) -> Result<(OutputFile, String), FsError> {
        let NewFileWriter {
            path,
            out,
            len,
            mut checker,
        } = self;
        // The checker reads the last buffers back while the file is fsynced.
        checker.written = None;
        out.sync(&path)?;
        let sha256 = checker.outcome(&path, len)?;
        let meta = out.file().metadata().map_err(io_err("checking", &path))?;
        let mode = meta.permissions().mode();
        let problem = if meta.len() != len {
            Some(format!("it is {} bytes, {len} were written", meta.len()))
        } else if mode & 0o077 != 0 {
            Some(format!("mode is {:o}, expected 600", mode & 0o777))
        } else {
            None
        };
        if let Some(reason) = problem {
            return Err(FsError::VerifyFailed { path, reason });
        }
        Ok((out, hex::encode(sha256)))
    }

    /// Publishes the file (see the type's docs) and returns its SHA-256 hex.
    pub fn finish(self) -> Result<String, FsError> {
        let path = self.path.clone();
        let (out, sha256) = self.finish_unnamed()?;
        let file = out.link_as(&path)?;
        // From here the file is published: a failure must take it back
        // (only if it is still ours), so an error leaves nothing behind.
        let take_back = |err: FsError| {
            if same_file(&path, &file).unwrap_or(false) {
                let _ = fs::remove_file(&path);
            }
            err
        };
        sync_dir(parent_of(&path)).map_err(take_back)?;
        // The published name must be the very file that was read back.
        if !same_file(&path, &file)? {
            return Err(FsError::Replaced(path));
        }
        Ok(sha256)
    }
}

/// Opens (creating if needed, mode 0600) a file for appending.
/// A symbolic link at `path` is refused (`O_NOFOLLOW`), never appended through.
pub fn open_append(path: &Path) -> Result<File, FsError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(0o600)
        .custom_flags(OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                FsError::Symlink(path.to_path_buf())
            } else {
                io_err("opening for append", path)(e)
            }
        })
}

/// Reads a state file the console owns (the registry), refusing a symlink
/// (`O_NOFOLLOW`) and anything larger than `limit` bytes.
pub fn read_state_file(path: &Path, limit: u64) -> Result<Vec<u8>, FsError> {
    refuse_symlink(path)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                FsError::Symlink(path.to_path_buf())
            } else {
                io_err("opening", path)(e)
            }
        })?;
    read_to_end_capped(file, path, limit, 0)
}

/// The SHA-256 of some bytes, as lowercase hex: how files are named in the
/// audit log and in reports.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The SHA-256 fingerprint of a file on disk.
pub fn file_fingerprint(path: &Path) -> Result<String, FsError> {
    let mut file = File::open(path).map_err(io_err("opening", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err("reading", path)(e)),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The test-only fault layer: every write, fsync, rename, link and
/// directory sync this module makes first asks [`fault::check`], which in
/// test builds can be armed to fail the Nth such step of this thread with
/// `ENOSPC` or `EIO` (SQLite's way of reaching every I/O step). In other
/// builds it is an inline `Ok(())`.
pub mod fault {
    /// The kinds of I/O step that can be made to fail.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Step {
        /// Writing bytes to a file.
        Write,
        /// Fsyncing a file.
        Fsync,
        /// Renaming a file.
        Rename,
        /// Linking a file under a name.
        Link,
        /// Fsyncing a directory.
        DirSync,
        /// Creating a directory.
        Mkdir,
    }

    #[cfg(any(test, feature = "fault-injection"))]
    mod armed {
        use std::cell::Cell;
        use std::sync::Mutex;

        /// (steps counted, the step that fails and its errno). Global, not
        /// per thread, so the steps of helper threads (a derive run's
        /// writer) count too; tests that arm it run one at a time.
        static PLAN: Mutex<Option<Plan>> = Mutex::new(None);

        /// Steps counted so far, and the step that fails with its errno.
        type Plan = (u64, Option<(u64, i32)>);

        thread_local! {
            static NAMED: Cell<bool> = const { Cell::new(false) };
            /// Only the arming thread, and threads it hands work to (see
            /// [`Inherit`]), count: other tests' I/O in the same process
            /// is left alone.
            static ENROLLED: Cell<bool> = const { Cell::new(false) };
        }

        /// Starts counting this thread's steps from zero; the `n`th step
        /// from now (1-based) fails with `errno` (`None` only counts).
        pub fn arm(n: Option<u64>, errno: i32) {
            ENROLLED.with(|e| e.set(true));
            if let Ok(mut p) = PLAN.lock() {
                *p = Some((0, n.map(|n| (n, errno))));
            }
        }

        /// Stops counting and failing; returns how many steps were counted.
        pub fn disarm() -> u64 {
            ENROLLED.with(|e| e.set(false));
            PLAN.lock()
                .ok()
                .and_then(|mut p| p.take())
                .map_or(0, |(count, _)| count)
        }

        /// Whether the current thread counts, to carry into a helper thread.
        #[derive(Debug, Clone, Copy)]
        pub struct Inherit(bool);

        impl Inherit {
            /// The current thread's enrolment.
            pub fn current() -> Inherit {
                Inherit(ENROLLED.with(|e| e.get()))
            }

            /// Makes the calling (helper) thread count like the one that
            /// made this value.
            pub fn enter(self) {
                ENROLLED.with(|e| e.set(self.0));
            }
        }

        /// Makes [`super::super::OutputFile`] on this thread use named
        /// temporary files, as on a filesystem without `O_TMPFILE`.
        pub fn force_named_temps(on: bool) {
            NAMED.with(|n| n.set(on));
        }

        pub(crate) fn named_temps_forced() -> bool {
            NAMED.with(|n| n.get())
        }

        pub(crate) fn check(_step: super::Step) -> std::io::Result<()> {
            let Ok(mut plan) = PLAN.lock() else {
                return Ok(());
            };
            let Some((count, fail)) = plan.as_mut() else {
                return Ok(());
            };
            if !ENROLLED.with(|e| e.get()) {
                return Ok(());
            }
            *count += 1;
            match fail {
                Some((at, errno)) if *at == *count => {
                    Err(std::io::Error::from_raw_os_error(*errno))
                }
                _ => Ok(()),
            }
        }
    }
    #[cfg(any(test, feature = "fault-injection"))]
    pub use armed::{Inherit, arm, disarm, force_named_temps};
    #[cfg(any(test, feature = "fault-injection"))]
    pub(crate) use armed::{check, named_temps_forced};

    #[cfg(not(any(test, feature = "fault-injection")))]
    #[inline(always)]
    pub(crate) fn check(_step: Step) -> std::io::Result<()> {
        Ok(())
    }

    #[cfg(not(any(test, feature = "fault-injection")))]
    #[inline(always)]
    pub(crate) fn named_temps_forced() -> bool {
        false
    }

    /// Carries a test thread's fault counting into a helper thread (a
    /// no-op outside test builds).
    #[cfg(not(any(test, feature = "fault-injection")))]
    #[derive(Debug, Clone, Copy)]
    pub struct Inherit;

    #[cfg(not(any(test, feature = "fault-injection")))]
    impl Inherit {
        /// The current thread's state.
        #[inline(always)]
        pub fn current() -> Inherit {
            Inherit
        }

        /// Applies it to the calling thread.
        #[inline(always)]
        pub fn enter(self) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_new_refuses_to_overwrite_and_keeps_the_old_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_new(&p, b"first").unwrap();
        let err = write_new(&p, b"second").unwrap_err();
        assert!(matches!(err, FsError::AlreadyExists(ref q) if q == &p));
        assert_eq!(fs::read(&p).unwrap(), b"first");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn a_failed_semantic_check_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        let err = write_new_checked(&p, b"x", |_| Err("nope".into())).unwrap_err();
        assert!(matches!(err, FsError::VerifyFailed { .. }));
        assert!(!p.exists());
        // no temporary files left behind either
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// The one temporary file a writer has open in `dir`.
    fn temp_of(dir: &Path) -> PathBuf {
        let mut temps: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".custodian-tmp-"))
            })
            .collect();
        assert_eq!(temps.len(), 1);
        temps.remove(0)
    }

    #[test]
    fn the_read_back_checker_names_the_first_differing_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"hello world").unwrap();
        let run = |sent: &[&[u8]]| {
            let mut c = ReadBackChecker::start(File::open(&p).unwrap());
            for s in sent {
                let tx = c.written.as_ref().unwrap();
                // The checker may already have stopped at a difference.
                let _ = tx.send(Zeroizing::new(s.to_vec()));
            }
            c.written = None;
            c.done.take().unwrap().join().unwrap()
        };
        assert!(matches!(
            run(&[b"hello ", b"there"]),
            Err(ReadBackError::Differs(6))
        ));
        assert!(matches!(
            run(&[b"hello world, again"]),
            Err(ReadBackError::Short(0))
        ));
        assert!(matches!(run(&[b"hello"]), Err(ReadBackError::Long)));
        let Ok((sha, n)) = run(&[b"hello", b" world"]) else {
            panic!("the same bytes read back")
        };
        assert_eq!((hex::encode(sha), n), (sha256_hex(b"hello world"), 11));
    }

    #[test]
    fn a_difference_stops_the_writer_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other");
        fs::write(&other, vec![b'x'; 1 << 20]).unwrap();
        // A writer whose checker reads a different file: the first buffer
        // it compares differs, and writing must stop there, not at finish.
        let mut w = NewFileWriter {
            path: dir.path().join("out"),
            out: OutputFile::create(dir.path(), || Ok(temp_name_in(dir.path(), ""))).unwrap(),
            len: 0,
            checker: ReadBackChecker::start(File::open(&other).unwrap()),
        };
        let stopped = (0..CHECK_QUEUE + 2).find_map(|_| w.write_all(b"abc").err());
        assert!(
            matches!(&stopped, Some(FsError::VerifyFailed { reason, .. }) if reason.contains("byte 0")),
            "{stopped:?}"
        );
    }

    #[test]
    fn a_streamed_file_changed_behind_the_writer_is_not_published() {
        let dir = tempfile::tempdir().unwrap();
        // Named temporary files, so the test can reach them from outside.
        fault::force_named_temps(true);
        // Many writes, so the checker reads back while writing goes on.
        let block = vec![b'a'; 64 * 1024];
        let write = |w: &mut NewFileWriter| {
            for _ in 0..64 {
                w.write_all(&block).unwrap();
            }
        };

        // Bytes added by someone else: the read-back finds more than was written.
        let grown = dir.path().join("grown.json");
        let mut w = NewFileWriter::create(&grown).unwrap();
        write(&mut w);
        OpenOptions::new()
            .append(true)
            .open(temp_of(dir.path()))
            .unwrap()
            .write_all(b"extra")
            .unwrap();
        let err = w.finish().unwrap_err();
        assert!(matches!(err, FsError::VerifyFailed { .. }), "{err}");
        assert!(!grown.exists());

        // Cut short by someone else: whether the checker had already read it
        // or not, the published file is refused and removed.
        let cut = dir.path().join("cut.json");
        let mut w = NewFileWriter::create(&cut).unwrap();
        write(&mut w);
        OpenOptions::new()
            .write(true)
            .open(temp_of(dir.path()))
            .unwrap()
            .set_len(10)
            .unwrap();
        let err = w.finish().unwrap_err();
        assert!(matches!(err, FsError::VerifyFailed { .. }), "{err}");
        assert!(!cut.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing left behind"
        );

        // Untouched, the same writes publish, with the SHA-256 of the bytes.
        let good = dir.path().join("good.json");
        let mut w = NewFileWriter::create(&good).unwrap();
        write(&mut w);
        let sha = w.finish().unwrap();
        assert_eq!(sha, sha256_hex(&fs::read(&good).unwrap()));
        assert_eq!(fs::metadata(&good).unwrap().len(), 64 * 64 * 1024);
        fault::force_named_temps(false);
    }

    #[test]
    fn streamed_files_publish_once_and_vanish_when_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        let mut w = NewFileWriter::create(&p).unwrap();
        w.write_all(b"one\n").unwrap();
        w.write_all(b"two\n").unwrap();
        assert!(!p.exists(), "nothing is visible before finish");
        let sha = w.finish().unwrap();
        assert_eq!(sha, sha256_hex(b"one\ntwo\n"));
        assert_eq!(fs::read(&p).unwrap(), b"one\ntwo\n");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(
            NewFileWriter::create(&p),
            Err(FsError::AlreadyExists(_))
        ));

        let q = dir.path().join("abandoned.jsonl");
        let mut w = NewFileWriter::create(&q).unwrap();
        w.write_all(b"partial").unwrap();
        drop(w);
        assert!(!q.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

        // A file that appears while we write still wins.
        let r = dir.path().join("raced.jsonl");
        let mut w = NewFileWriter::create(&r).unwrap();
        w.write_all(b"ours").unwrap();
        fs::write(&r, b"theirs").unwrap();
        assert!(matches!(w.finish(), Err(FsError::AlreadyExists(_))));
        assert_eq!(fs::read(&r).unwrap(), b"theirs");
    }

    #[test]
    fn free_space_is_checked_against_the_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        ensure_free_space(dir.path(), 1).unwrap();
        let err = ensure_free_space(dir.path(), u64::MAX / 4).unwrap_err();
        assert!(
            matches!(err, FsError::NoSpace { needed, available, .. } if needed > available),
            "{err}"
        );
        assert!(err.to_string().contains("bytes free"));
    }

    #[test]
    fn symlinked_state_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, b"").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(open_append(&link), Err(FsError::Symlink(_))));
        assert!(matches!(replace(&link, b"x"), Err(FsError::Symlink(_))));
        assert!(matches!(
            read_state_file(&link, 10),
            Err(FsError::Symlink(_))
        ));
        assert_eq!(fs::read(&real).unwrap(), b"");
    }

    #[test]
    fn replace_swaps_contents_and_read_limited_enforces_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        replace(&p, b"one").unwrap();
        replace(&p, b"two").unwrap();
        assert_eq!(read_limited(&p, 3).unwrap(), b"two");
        assert!(matches!(read_limited(&p, 2), Err(FsError::TooLarge { .. })));
    }
}
