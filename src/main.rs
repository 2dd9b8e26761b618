//! The `custodian` binary: parse the command line, then run a command or
//! open the console. Everything else lives in the library.

fn main() -> std::process::ExitCode {
    custodian::cli::main()
}
