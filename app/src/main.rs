//! The `truce` binary: hands over to the library's command line.

fn main() -> std::process::ExitCode {
    truce::cli::main()
}
