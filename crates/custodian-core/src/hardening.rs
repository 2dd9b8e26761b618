//! Process hardening, done once when the binary starts (command line and
//! console alike), before any passphrase or key is read.
//!
//! - `PR_SET_DUMPABLE 0`: no core dump, no `ptrace` attach by other
//!   processes of the same user, and `/proc/PID/mem`, `environ` and friends
//!   become root-owned.
//! - `RLIMIT_CORE` 0/0: even if something made the process dumpable again,
//!   no core file is written, and the hard limit cannot be raised back.
//!
//! - [`lock_pages`]: `mlock` of specific secret buffers (the console's
//!   passphrase fields), through the `region` crate's safe wrapper
//!   (rustix's `mlock` is an `unsafe fn`). Not `mlockall(MCL_FUTURE)`: it
//!   aborts large jobs under the default memory-lock limit. When the limit
//!   refuses even one page, [`harden`] says so; swap is then the remaining
//!   way a secret page reaches disk, which the README's security model
//!   tells operators to rule out (encrypted or no swap).
//!
//! All of it goes through safe wrappers, so the crate keeps
//! `forbid(unsafe_code)`.
//!
//! [`harden`] never fails the program: it reports what it could not do so
//! the caller can say so, and [`state`] reads back what is in force (the
//! `custodian check` process item).

use rustix::process::{DumpableBehavior, Resource, Rlimit};

/// What hardening is in force for this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessState {
    /// `PR_GET_DUMPABLE` says the process is not dumpable.
    pub non_dumpable: bool,
    /// The core-file size limit, soft and hard (`None` = unlimited).
    pub core_limit: (Option<u64>, Option<u64>),
}

impl ProcessState {
    /// True when no core file can be written and no one can attach.
    pub fn hardened(&self) -> bool {
        self.non_dumpable && self.core_limit == (Some(0), Some(0))
    }
}

/// Makes the process non-dumpable and sets its core limit to 0/0. Returns
/// one line per step that failed (empty when everything is in force).
pub fn harden() -> Vec<String> {
    let mut failed = Vec::new();
    if let Err(e) = rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        failed.push(format!("could not make the process non-dumpable: {e}"));
    }
    let zero = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    if let Err(e) = rustix::process::setrlimit(Resource::Core, zero) {
        failed.push(format!("could not set the core-file limit to 0: {e}"));
    }
    let probe = [0u8; 64];
    if let Err(e) = lock_pages(probe.as_ptr(), probe.len()) {
        failed.push(format!(
            "secret buffers cannot be locked in memory ({e}); use encrypted swap or none"
        ));
    }
    failed
}

/// Pages locked in RAM (`mlock`); unlocked when dropped.
pub struct LockedPages {
    // Boxed: the guard is a few words, and it lives inside text fields
    // that are themselves enum variants.
    _guard: Box<region::LockGuard>,
}

impl std::fmt::Debug for LockedPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockedPages")
    }
}

/// Locks the pages holding `len` bytes at `ptr` in RAM, so they are never
/// swapped out. The caller keeps the memory alive (and unmoved) while the
/// guard lives; `mlock` only pins pages, it never reads or writes them.
pub fn lock_pages(ptr: *const u8, len: usize) -> Result<LockedPages, String> {
    region::lock(ptr, len.max(1))
        .map(|guard| LockedPages {
            _guard: Box::new(guard),
        })
        .map_err(|e| e.to_string())
}

/// Reads back what is in force.
pub fn state() -> ProcessState {
    let limit = rustix::process::getrlimit(Resource::Core);
    ProcessState {
        non_dumpable: matches!(
            rustix::process::dumpable_behavior(),
            Ok(DumpableBehavior::NotDumpable)
        ),
        core_limit: (limit.current, limit.maximum),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test harness process is hardened for the rest of its life; that
    // changes nothing the other unit tests rely on.
    #[test]
    fn hardening_is_in_force_after_harden() {
        assert!(harden().is_empty());
        let s = state();
        assert!(s.non_dumpable);
        assert_eq!(s.core_limit, (Some(0), Some(0)));
        assert!(s.hardened());
    }
}
