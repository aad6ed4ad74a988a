//! Which characters the speech-bubble font can draw, without loading the font: the table
//! lives in `quote_rules` (shared with the web app), generated from the font by
//! `cargo run -p shared --example make_charset_table`. Validating a quote (upload-presign,
//! the browser) then needs 33 KB of ranges instead of the 2 MB font.

use ab_glyph::{Font, FontRef};

pub use quote_rules::can_draw;

/// The characters a font has glyphs for, as sorted inclusive ranges (what the table holds).
pub fn drawable_ranges(font_bytes: &[u8]) -> Result<Vec<(u32, u32)>, ab_glyph::InvalidFont> {
    let font = FontRef::try_from_slice(font_bytes)?;
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        if font.glyph_id(c).0 == 0 {
            continue;
        }
        let code = u32::from(c);
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == code => *end = code,
            _ => ranges.push((code, code)),
        }
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_bundled_font() {
        let ranges = drawable_ranges(super::super::bubble::FONT_BYTES).unwrap();
        assert_eq!(
            ranges.as_slice(),
            quote_rules::FONT_CHARSET,
            "regenerate with `cargo run -p shared --example make_charset_table`"
        );
    }
}
