//! Exit codes and the one-line error message: the part of the CLI contract that says how a
//! command failed (exit 0 ok, 1 operational error, 2 usage error; `error: ...` on stderr).

use std::process::ExitCode;

use crate::terminal::terminal_line;

/// Exit status of a usage error (a bad flag value, a missing confirmation).
pub const EXIT_USAGE: u8 = 2;
/// Exit status of an operational error (a wrong passphrase, a refused bundle, a full disk).
pub const EXIT_FAILURE: u8 = 1;

/// A usage error: exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Shorthand: a [`UsageError`] as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Prints a failed command's error on stderr and returns its exit status. A reader that
/// stopped early (`truce list | head`) is not an error.
pub fn report(e: &anyhow::Error) -> ExitCode {
    if e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    // Errors quote what they refuse (a file name, a serde message naming a field of a hostile
    // file): one line, every control character escaped.
    eprintln!("error: {}", terminal_line(&error_text(e)));
    ExitCode::from(exit_code(e))
}

/// The exit status for `e`: 2 for a usage error, 1 for anything else.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}

/// The error and its causes on one line, `outer: cause: ...`, leaving out a cause whose text
/// the message already quotes (Truce's errors keep their source and also say it).
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use truce_core::journal::JournalError;

    #[test]
    fn an_error_names_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let quoted = anyhow::Error::from(JournalError::Io {
            action: "read",
            path: "/media/usb/x".into(),
            cause: io,
        });
        assert_eq!(
            error_text(&quoted),
            "cannot read /media/usb/x: no such file"
        );
        let outer =
            anyhow::Error::from(std::io::Error::other("disk gone")).context("cannot export");
        assert_eq!(error_text(&outer), "cannot export: disk gone");
    }

    #[test]
    fn usage_errors_exit_2_and_others_1() {
        assert_eq!(exit_code(&usage("bad flag")), EXIT_USAGE);
        assert_eq!(
            exit_code(&usage("bad flag").context("while parsing")),
            EXIT_USAGE
        );
        assert_eq!(exit_code(&anyhow::anyhow!("disk full")), EXIT_FAILURE);
    }
}
