//! The `truce` binary: the command line, and the window when no subcommand is given.

mod cli;
mod manpage;
mod terminal;

fn main() -> std::process::ExitCode {
    cli::main()
}
