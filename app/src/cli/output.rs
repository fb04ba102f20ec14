//! Output helpers shared by the commands: messages for people on stderr, and text shortened to
//! one line. Machine output (JSON) has its own module, `json`.

/// Prints a message for people on stderr, escaped as [`crate::terminal::terminal_safe`] says:
/// the values in it (paths, names) cannot drive the terminal.
macro_rules! note {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::terminal::terminal_safe(&format!($($arg)*)))
    };
}
pub(crate) use note;

/// `text` on one line (whitespace runs become one space), cut to `max` characters with `…`.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The last 8 characters of an id (the random end of a UUID v7), which `show` and `amend`
/// accept and tables show.
pub fn short_tail(id: &str) -> &str {
    let start = id.len().saturating_sub(8);
    id.get(start..).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_and_cuts() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdefghijk", 5), "abcd…");
        assert_eq!(short_tail("0123456789abcdef"), "89abcdef");
        assert_eq!(short_tail("abc"), "abc");
    }
}
