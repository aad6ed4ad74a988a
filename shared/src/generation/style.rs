//! The style catalogue: what a person can ask their avatar to look like, the prompt that
//! asks OpenAI's image edit API for it, and the settings of the local stylizer that stands
//! in when no OpenAI key is configured.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One look an avatar can have. The serde names are the API's and the stored records'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    Anime,
    Chibi,
    Watercolor,
}

/// The shared half of every prompt. Likeness first, because a stylized stranger is the
/// failure people notice; then the constraints that keep the picture usable as a sticker
/// or a profile picture (a plain background to cut out, nothing written on it).
macro_rules! portrait_prompt {
    ($look:literal) => {
        concat!(
            "Turn this selfie into ",
            $look,
            " Keep the person's likeness: face shape, hairstyle and hair colour, skin tone, ",
            "eye colour, expression, glasses and clothing. Head and shoulders, centred, ",
            "facing the viewer, on a plain light background. ",
            "No text, no letters, no speech bubbles, no watermark, no signature, no border."
        )
    };
}

impl Style {
    /// Every style, in the order the catalogue lists them.
    pub const ALL: [Style; 3] = [Self::Anime, Self::Chibi, Self::Watercolor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anime => "anime",
            Self::Chibi => "chibi",
            Self::Watercolor => "watercolor",
        }
    }

    /// The prompt sent with the selfie to OpenAI's image edit endpoint.
    pub fn prompt(self) -> &'static str {
        match self {
            Self::Anime => portrait_prompt!(
                "an anime portrait in the style of a modern TV anime: clean dark line art, \
                 cel shading with two or three flat tones per colour, large expressive eyes."
            ),
            Self::Chibi => portrait_prompt!(
                "a chibi anime portrait: a cute super-deformed character with a big head, \
                 a small body, rounded features, thick dark outlines and bright flat colours."
            ),
            Self::Watercolor => portrait_prompt!(
                "a watercolor anime portrait: soft translucent washes of colour that bleed \
                 a little at their edges, light thin pencil lines, pastel tones on white paper."
            ),
        }
    }

    /// The settings the local stylizer (`imaging::stylize`) uses for this style.
    pub fn stylizer(self) -> StylizerParams {
        match self {
            // Cel look: a mid-sized palette, crisp dark outlines, a little extra colour.
            Self::Anime => StylizerParams {
                palette_size: 12,
                smoothing_passes: 3,
                smoothing_range: 28.0,
                edge_threshold: 24.0,
                outline_px: 4,
                outline_opacity: 0.95,
                ink_darkness: 0.22,
                saturation: 1.25,
                lightness_lift: 0.04,
                wash_blur: 0.0,
            },
            // Stickers-in-a-manga look: fewer, brighter colours, flatter regions, bold lines.
            Self::Chibi => StylizerParams {
                palette_size: 8,
                smoothing_passes: 4,
                smoothing_range: 36.0,
                edge_threshold: 30.0,
                outline_px: 6,
                outline_opacity: 1.0,
                ink_darkness: 0.12,
                saturation: 1.45,
                lightness_lift: 0.10,
                wash_blur: 0.0,
            },
            // Washes: more, paler colours whose borders are blurred, with faint thin lines.
            Self::Watercolor => StylizerParams {
                palette_size: 16,
                smoothing_passes: 4,
                smoothing_range: 32.0,
                edge_threshold: 20.0,
                outline_px: 2,
                outline_opacity: 0.45,
                ink_darkness: 0.45,
                saturation: 0.85,
                lightness_lift: 0.22,
                wash_blur: 3.5,
            },
        }
    }
}

/// How the local stylizer renders one style. Sizes are for the 1024×1024 output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StylizerParams {
    /// Colours left after quantization (k in k-means).
    pub palette_size: usize,
    /// Passes of the edge-preserving (bilateral) filter; more passes give flatter regions.
    pub smoothing_passes: u8,
    /// The colour distance (RGB, 0–441) over which the bilateral filter stops averaging:
    /// larger values merge more shades into one flat region.
    pub smoothing_range: f32,
    /// Canny's high threshold on the smoothed image's luma; the low one is half of it.
    /// Lower values draw more lines.
    pub edge_threshold: f32,
    /// Outline width in pixels, roughly: edges are found at half size, so a line is two
    /// pixels wide at least, and each step of two above that thickens it by dilation.
    pub outline_px: u8,
    /// How opaque outlines are, 0–1.
    pub outline_opacity: f32,
    /// Outline ink is the colour under it scaled by this factor (0 is black): tinted
    /// lines, as anime inks skin with dark brown rather than black.
    pub ink_darkness: f32,
    /// Palette saturation factor: 1 leaves colours as they are, above 1 makes them vivid.
    pub saturation: f32,
    /// How far palette colours move toward white, 0–1 (pastel tones).
    pub lightness_lift: f32,
    /// Gaussian sigma, in pixels, that softens the borders between colour regions (0: crisp).
    pub wash_blur: f32,
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Style {
    type Err = UnknownStyle;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|style| style.as_str() == value)
            .ok_or(UnknownStyle)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("style must be one of \"anime\", \"chibi\", \"watercolor\"")]
pub struct UnknownStyle;

impl UnknownStyle {
    /// The stable error code clients branch on.
    pub const CODE: &'static str = "unknown_style";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str_and_serde() {
        for style in Style::ALL {
            assert_eq!(style.as_str().parse(), Ok(style));
            let json = serde_json::to_string(&style).unwrap();
            assert_eq!(json, format!("\"{}\"", style.as_str()));
            assert_eq!(serde_json::from_str::<Style>(&json).unwrap(), style);
        }
        assert_eq!(Style::Watercolor.to_string(), "watercolor");
    }

    #[test]
    fn refuses_unknown_styles() {
        for bad in ["", "Anime", "pixel", " anime", "watercolour"] {
            assert_eq!(bad.parse::<Style>(), Err(UnknownStyle), "{bad:?}");
        }
        assert!(serde_json::from_str::<Style>("\"pixel\"").is_err());
    }

    #[test]
    fn prompts_ask_for_likeness_and_a_clean_picture() {
        for style in Style::ALL {
            let prompt = style.prompt();
            assert!(prompt.contains(style.as_str()), "{prompt}");
            for needed in [
                "likeness",
                "plain light background",
                "No text",
                "no watermark",
            ] {
                assert!(prompt.contains(needed), "{style}: {needed}");
            }
        }
    }

    #[test]
    fn styles_render_differently() {
        let [anime, chibi, watercolor] = Style::ALL.map(Style::stylizer);
        assert!(chibi.palette_size < anime.palette_size);
        assert!(chibi.outline_px > anime.outline_px);
        assert!(watercolor.outline_opacity < anime.outline_opacity);
        assert!(watercolor.wash_blur > 0.0 && anime.wash_blur == 0.0);
        for params in Style::ALL.map(Style::stylizer) {
            assert!((2..=32).contains(&params.palette_size));
            assert!(params.outline_px >= 2);
        }
    }
}
