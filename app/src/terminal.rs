//! Terminal-safe output: control characters and bidi overrides in anything printed are shown
//! as visible escapes, whatever their source (a record, a bundle, a file name, an error).
//!
//! Text from other devices reaches the coordinator's terminal: an escape sequence in it could
//! erase a line, print a fake "imported" over a refusal or hide a fingerprint, and a bidi
//! override could reorder what is read. So every byte the CLI prints goes through
//! [`TerminalWriter`] (stdout) or [`terminal_safe`]/[`terminal_line`] (stderr):
//!
//! - text for people: a C0 or C1 control character, DEL, a bidi embedding, override or isolate
//!   (U+202A–U+202E, U+2066–U+2069) becomes `\u{1b}`, `\u{202e}`...; the line breaks and tabs
//!   of the output itself stay. [`terminal_line`] also escapes line breaks and tabs, for a value
//!   printed inside a line (a name, a refusal reason, a file name).
//! - JSON: the same characters become JSON escapes (`\u001b`, `\u202e`), which every JSON
//!   parser reads back as the exact characters: JSON consumers get the data unchanged.
//!
//! The marks Arabic and Persian text needs (RLM U+200F, LRM U+200E, ZWNJ U+200C, ZWJ U+200D,
//! ALM U+061C) are not overrides and pass unchanged.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Whether `c` must not reach a terminal as it is: a control character (C0, DEL, C1) or a bidi
/// embedding, override or isolate.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character but line breaks (LF) and tabs written as a visible
/// escape (`\u{1b}`): for text of several lines.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    escape(
        text,
        |c| is_unsafe(c) && c != '\n' && c != '\t',
        rust_escape,
    )
}

/// `text` with every unsafe character written as a visible escape, line breaks and tabs
/// included: for a value printed inside a line, which must not start another.
pub fn terminal_line(text: &str) -> Cow<'_, str> {
    escape(text, is_unsafe, rust_escape)
}

/// JSON text with every unsafe character but the line breaks between values written as a JSON
/// escape (`\u001b`). Outside strings JSON holds no such character, and inside one the escape
/// reads back as the same character, so the data is unchanged.
pub fn json_safe(text: &str) -> Cow<'_, str> {
    escape(text, |c| is_unsafe(c) && c != '\n', json_escape)
}

fn rust_escape(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

fn json_escape(out: &mut String, c: char) {
    // Every unsafe character is in the Basic Multilingual Plane: one \uXXXX escape.
    let _ = write!(out, "\\u{:04x}", u32::from(c));
}

fn escape(
    text: &str,
    unsafe_char: impl Fn(char) -> bool,
    write_escape: fn(&mut String, char),
) -> Cow<'_, str> {
    let Some(first) = text.find(&unsafe_char) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if unsafe_char(c) {
            write_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// How a [`TerminalWriter`] escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Text for people: [`terminal_safe`].
    Text,
    /// JSON or JSON Lines: [`json_safe`].
    Json,
}

/// A writer that escapes everything written through it, as [`OutputKind`] says. Bytes that
/// are not UTF-8 are written as `\x..` escapes; a character split between two writes is held
/// until its end arrives.
pub struct TerminalWriter<W: Write> {
    inner: W,
    kind: OutputKind,
    /// The start of a character whose remaining bytes have not been written yet.
    partial: Vec<u8>,
}

impl<W: Write> TerminalWriter<W> {
    /// Escapes into `inner`.
    pub fn new(inner: W, kind: OutputKind) -> Self {
        TerminalWriter {
            inner,
            kind,
            partial: Vec::new(),
        }
    }

    fn emit(&mut self, text: &str) -> io::Result<()> {
        let safe = match self.kind {
            OutputKind::Text => terminal_safe(text),
            OutputKind::Json => json_safe(text),
        };
        self.inner.write_all(safe.as_bytes())
    }

    fn emit_invalid(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut text = String::new();
        for b in bytes {
            let _ = write!(text, "\\x{b:02x}");
        }
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: Write> Write for TerminalWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.partial);
        bytes.extend_from_slice(buf);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    self.emit(text)?;
                    rest = &[];
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // The prefix is UTF-8, as the error says.
                    self.emit(std::str::from_utf8(valid).unwrap_or_default())?;
                    match e.error_len() {
                        Some(n) => {
                            self.emit_invalid(&after[..n])?;
                            rest = &after[n..];
                        }
                        None => {
                            // A character cut short: wait for the rest of it.
                            self.partial = after.to_vec();
                            rest = &[];
                        }
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalWriter<W> {
    fn drop(&mut self) {
        // A character never finished is not text: show its bytes.
        if !self.partial.is_empty() {
            let partial = std::mem::take(&mut self.partial);
            let _ = self.emit_invalid(&partial);
        }
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ARABIC: &str = "قصف شمال\u{200f} الحاجز ٤ — مشاهدة\u{200c}ها \u{200e}(82mm)\u{200d}";

    fn written(kind: OutputKind, chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut w = TerminalWriter::new(&mut out, kind);
            for chunk in chunks {
                w.write_all(chunk).expect("write");
            }
        }
        String::from_utf8(out).expect("the output is UTF-8")
    }

    /// No C0 or C1 control character (but those allowed) and no bidi override in `text`.
    fn clean(text: &str, allowed: &[char]) -> bool {
        !text.chars().any(|c| is_unsafe(c) && !allowed.contains(&c))
    }

    #[test]
    fn escapes_are_visible_and_name_the_character() {
        let hostile = "ok\u{1b}[2K\r\u{1b}[1Aimported\u{9b}31m \u{202e}txt.exe\u{7f}";
        assert_eq!(
            terminal_line(hostile),
            "ok\\u{1b}[2K\\u{d}\\u{1b}[1Aimported\\u{9b}31m \\u{202e}txt.exe\\u{7f}"
        );
        assert_eq!(terminal_line("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert_eq!(terminal_safe("a\nb\tc\u{1b}"), "a\nb\tc\\u{1b}");
        assert_eq!(json_safe("\"\u{85}\u{2066}\"\n"), "\"\\u0085\\u2066\"\n");
    }

    #[test]
    fn arabic_and_persian_marks_pass_unchanged() {
        assert!(matches!(terminal_line(ARABIC), Cow::Borrowed(_)));
        assert!(matches!(terminal_safe(ARABIC), Cow::Borrowed(_)));
        assert!(matches!(json_safe(ARABIC), Cow::Borrowed(_)));
        assert_eq!(written(OutputKind::Text, &[ARABIC.as_bytes()]), ARABIC);
    }

    #[test]
    fn json_output_reads_back_as_the_exact_data() {
        let value = serde_json::json!({"observer": "Ana\u{1b}[2K\u{85}\u{202e}\u{7f}", "n": 1});
        let line = format!("{value}\n");
        let safe = written(OutputKind::Json, &[line.as_bytes()]);
        assert!(clean(&safe, &['\n']), "{safe:?}");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn characters_split_between_writes_and_invalid_bytes() {
        let text = "é\u{202e}x".as_bytes();
        // é is two bytes, U+202E three: cut inside each.
        let out = written(OutputKind::Text, &[&text[..1], &text[1..3], &text[3..]]);
        assert_eq!(out, "é\\u{202e}x");
        let out = written(OutputKind::Text, &[b"a\xffb\xe2\x80"]);
        assert_eq!(out, "a\\xffb\\xe2\\x80");
    }

    proptest! {
        #[test]
        fn no_unsafe_character_survives(text in any::<String>()) {
            let line = terminal_line(&text);
            prop_assert!(clean(&line, &[]), "{:?}", line);
            let safe = terminal_safe(&text);
            prop_assert!(clean(&safe, &['\n', '\t']), "{:?}", safe);
            let written = written(OutputKind::Text, &[text.as_bytes()]);
            prop_assert!(clean(&written, &['\n', '\t']));
            // Text without unsafe characters is left as it is.
            if clean(&text, &[]) {
                prop_assert_eq!(line.as_ref(), text.as_str());
            }
        }

        #[test]
        fn no_control_byte_survives(bytes in proptest::collection::vec(any::<u8>(), 0..64), cut in 0usize..64) {
            let cut = cut.min(bytes.len());
            let out = written(OutputKind::Text, &[&bytes[..cut], &bytes[cut..]]);
            prop_assert!(clean(&out, &['\n', '\t']), "{:?}", out);
            prop_assert!(!out.bytes().any(|b| b < 0x20 && b != b'\n' && b != b'\t' || b == 0x7f));
        }

        #[test]
        fn strings_with_hostile_characters_round_trip_through_json(
            text in proptest::collection::vec(
                prop_oneof![
                    any::<char>(),
                    (0x80u32..0xa0).prop_map(|c| char::from_u32(c).unwrap_or('x')),
                    (0x202au32..0x202f).prop_map(|c| char::from_u32(c).unwrap_or('x')),
                    Just('\u{1b}'),
                ],
                0..40,
            ).prop_map(|chars| chars.into_iter().collect::<String>())
        ) {
            let value = serde_json::json!([text]);
            let out = written(OutputKind::Json, &[format!("{value}\n").as_bytes()]);
            prop_assert!(clean(&out, &['\n']));
            let back: serde_json::Value = serde_json::from_str(&out).expect("JSON");
            prop_assert_eq!(back, value);
        }
    }
}
