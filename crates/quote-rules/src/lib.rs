//! The rules a speech-bubble quote must follow, in one place for the server and the
//! browser: `shared` checks every order with [`check`], and the web app runs this same code
//! compiled to WebAssembly (`web/scripts/build-wasm.sh`, the C-ABI exports of `wasm.rs`) to
//! check the quote as it is typed. One table of cases (`cases.json`) is run against both.
//!
//! A quote is trimmed, then must be 1 to [`MAX_QUOTE_CHARS`] characters, hold no control,
//! format (category Cf: soft hyphens, zero-width and bidirectional marks) or line/paragraph
//! separator characters, and only characters the bundled speech-bubble font can draw.

mod charset_table;
mod format_table;
#[cfg(target_arch = "wasm32")]
mod wasm;

use std::fmt;

pub use charset_table::FONT_CHARSET;
pub use format_table::FORMAT_CHARACTERS;

/// The longest quote, in characters (Unicode scalar values). At the smallest font size this
/// still fits the bubble in four lines, whatever the characters (a test in `shared` checks
/// the worst cases).
pub const MAX_QUOTE_CHARS: usize = 80;

/// Why a quote is refused. The order is the numbering of the WebAssembly `check` export
/// (0 means accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteError {
    Empty = 1,
    TooLong = 2,
    InvalidCharacters = 3,
    UnsupportedCharacters = 4,
}

impl QuoteError {
    /// The stable error code clients branch on (and the browser shows in words).
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "quote_empty",
            Self::TooLong => "quote_too_long",
            Self::InvalidCharacters => "quote_invalid_characters",
            Self::UnsupportedCharacters => "quote_unsupported_characters",
        }
    }
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the quote is empty"),
            Self::TooLong => write!(f, "the quote is longer than {MAX_QUOTE_CHARS} characters"),
            Self::InvalidCharacters => f.write_str(
                "the quote contains control or invisible characters (such as line breaks)",
            ),
            Self::UnsupportedCharacters => f.write_str(
                "the quote contains characters the sticker font cannot draw (such as emoji)",
            ),
        }
    }
}

impl std::error::Error for QuoteError {}

/// The quote as it will be drawn (trimmed), or why it cannot be.
pub fn check(text: &str) -> Result<&str, QuoteError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(QuoteError::Empty);
    }
    if text.chars().count() > MAX_QUOTE_CHARS {
        return Err(QuoteError::TooLong);
    }
    if text.chars().any(is_control_or_invisible) {
        return Err(QuoteError::InvalidCharacters);
    }
    if !text.chars().all(can_draw) {
        return Err(QuoteError::UnsupportedCharacters);
    }
    Ok(text)
}

/// Controls (Cc: line breaks, tabs...), format characters (Cf, from the generated table:
/// they are invisible and can disguise text) and the line and paragraph separators (the
/// only characters of Zl and Zp).
pub fn is_control_or_invisible(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || in_ranges(FORMAT_CHARACTERS, c)
}

/// True when the bundled speech-bubble font has a glyph for `c` (the generated table:
/// checking a quote must not load the 2 MB font).
pub fn can_draw(c: char) -> bool {
    in_ranges(FONT_CHARSET, c)
}

/// `ranges` sorted, inclusive and disjoint.
fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let code = u32::from(c);
    ranges
        .binary_search_by(|&(start, end)| {
            if end < code {
                std::cmp::Ordering::Less
            } else if start > code {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cases.json`, the table the web app's unit test runs through the WebAssembly build.
    #[test]
    fn the_shared_cases_hold() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../cases.json")).expect("cases.json is JSON");
        let cases = cases["cases"].as_array().expect("a list of cases");
        assert!(cases.len() > 20);
        for case in cases {
            let text = case["text"].as_str().expect("each case has a text");
            let expected = case["error"].as_str();
            let got = check(text).err().map(QuoteError::code);
            assert_eq!(got, expected, "{text:?} ({})", case["why"]);
        }
    }

    #[test]
    fn an_accepted_quote_is_trimmed() {
        assert_eq!(check("  Hi!\u{3000}"), Ok("Hi!"));
    }

    #[test]
    fn the_tables_are_sorted_and_disjoint() {
        for table in [FONT_CHARSET, FORMAT_CHARACTERS] {
            assert!(table.iter().all(|(start, end)| start <= end));
            assert!(table.windows(2).all(|pair| pair[0].1 < pair[1].0));
        }
    }

    #[test]
    fn looks_characters_up() {
        for c in ['A', 'あ', 'ア', '漢', '、', '！'] {
            assert!(can_draw(c), "{c}");
        }
        for c in ['\u{0}', '😀', '\u{10FFFF}'] {
            assert!(!can_draw(c), "{c:?}");
        }
        for c in ['\u{AD}', '\u{200B}', '\u{202E}', '\u{FEFF}', '\u{E0001}'] {
            assert!(is_control_or_invisible(c), "{c:?}");
        }
    }

    #[test]
    fn codes_and_numbers_are_stable() {
        let all = [
            (QuoteError::Empty, "quote_empty", 1),
            (QuoteError::TooLong, "quote_too_long", 2),
            (QuoteError::InvalidCharacters, "quote_invalid_characters", 3),
            (
                QuoteError::UnsupportedCharacters,
                "quote_unsupported_characters",
                4,
            ),
        ];
        for (error, code, number) in all {
            assert_eq!(error.code(), code);
            assert_eq!(error as u32, number);
        }
    }
}
