//! The `custodian` binary: parse the command line, then run a command or
//! open the console. Everything else lives in the library.

/// Every heap block is zeroed when it is freed (and when it moves: a
/// growing buffer is copied and its old block freed). Secrets are kept in
/// zeroizing types, but their copies are not only ours: the strength
/// estimate, terminal input, serde and a `String` that outgrew its buffer
/// all leave freed blocks behind. tests/core_dump.rs checks a core of the
/// console for the passphrase and the key.
#[global_allocator]
static ALLOC: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

fn main() -> std::process::ExitCode {
    custodian::cli::main()
}
