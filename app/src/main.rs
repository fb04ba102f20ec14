//! The `truce` binary: the command line, and the window when no subcommand is given.

mod cli;
mod manpage;
mod terminal;

fn main() -> std::process::ExitCode {
    // Before any journal is opened: a crash must not write decrypted records or keys to a
    // core file.
    truce_core::secure_memory::harden_process();
    cli::main()
}
