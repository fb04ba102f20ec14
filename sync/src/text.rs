//! Text checks shared by every text field that crosses devices: no control characters.
//!
//! A C0 or C1 control character (or DEL) in a name can move a terminal's cursor, erase a line
//! or change colours when the text is printed, so names and one-line fields refuse all of them.
//! Free text (a narrative) keeps its line breaks (LF, or CR LF) and tabs, and refuses the rest.
//! Printing escapes them anyway (the CLI's `terminal` module); refusing them here keeps them
//! out of every journal in the first place.

/// The first control character (C0, DEL or C1) in `text`, which a name or any other one-line
/// field must not hold.
pub fn line_control(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control())
}

/// The first control character in free text other than a line break (LF, or CR right before
/// LF) or a tab.
pub fn free_text_control(text: &str) -> Option<char> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => {}
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control() => return Some(c),
            _ => {}
        }
    }
    None
}

/// How a refused character is named in a message: `U+001B`, never the character itself.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The message for a one-line field holding `c`.
pub fn line_control_message(c: char) -> String {
    format!(
        "holds the control character {}; names and one-line fields cannot hold control characters",
        code_point(c)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_every_control_character() {
        for c in [
            '\u{0}', '\u{7}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}',
        ] {
            let name = format!("Ana{c}K.");
            assert_eq!(line_control(&name), Some(c), "{c:?}");
        }
        assert_eq!(line_control("Ana K."), None);
        // Arabic and Persian keep their marks: RLM, LRM, ZWNJ, ZWJ are not control characters.
        assert_eq!(
            line_control("آنا\u{200f} می\u{200c}خواهد \u{200e}\u{200d}"),
            None
        );
    }

    #[test]
    fn free_text_keeps_line_breaks_and_tabs_only() {
        assert_eq!(free_text_control("one\ntwo\r\nthree\tfour"), None);
        assert_eq!(free_text_control("over\rwrite"), Some('\r'));
        assert_eq!(free_text_control("end\r"), Some('\r'));
        assert_eq!(free_text_control("\u{1b}[2K"), Some('\u{1b}'));
        assert_eq!(free_text_control("csi \u{9b}2K"), Some('\u{9b}'));
        assert_eq!(code_point('\u{1b}'), "U+001B");
        assert!(!line_control_message('\u{1b}').contains('\u{1b}'));
    }
}
