//! The one source of randomness for keys, salts, nonces and ids: the
//! operating system's generator (`getrandom`), in the `rand_core` 0.10 form
//! that the RustCrypto crates (`rsa`, `k256`) and `blahaj` take.
//!
//! [`os`] never caches or expands entropy in user space: every call reads
//! fresh bytes from the kernel. A failing kernel generator is not something
//! an operation could recover from, so it panics (as `rand` 0.8's `OsRng`
//! did) instead of producing weak keys.

/// The operating system's generator as an infallible `rand_core` RNG.
pub type OsRng = rand::rand_core::UnwrapErr<rand::rngs::SysRng>;

/// The operating system's generator (see the module header).
pub fn os() -> OsRng {
    rand::rand_core::UnwrapErr(rand::rngs::SysRng)
}

#[cfg(test)]
mod tests {
    use rand::Rng as _;

    #[test]
    fn two_draws_differ() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        super::os().fill_bytes(&mut a);
        super::os().fill_bytes(&mut b);
        assert_ne!(a, [0u8; 32]);
        assert_ne!(a, b);
    }
}
