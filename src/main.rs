//! The `openhouse` binary: parse the command line and run it.

fn main() -> std::process::ExitCode {
    openhouse::cli::main()
}
