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
            // Cel look: skin smoothed flat, a few soft tones, thin dark-brown lines on the
            // strong edges only, the background thrown out of focus.
            Self::Anime => StylizerParams {
                smoothing_passes: 2,
                smoothing_radius: 6.0,
                smoothing_range: 30.0,
                tones: 4,
                tone_softness: 0.35,
                saturation: 1.25,
                lightness_lift: 0.05,
                line_width: 2.5,
                line_threshold: 0.035,
                line_opacity: 0.85,
                ink_darkness: 0.3,
                contour_px: 3.0,
                head_scale: 1.0,
                bleed: 0.0,
                paper: 0.0,
                backdrop: Backdrop::SoftFocus,
            },
            // Super-deformed: a big head, flatter and brighter colours, fewer and rounder
            // lines, a thick outline, a pastel polka-dot background.
            Self::Chibi => StylizerParams {
                smoothing_passes: 3,
                smoothing_radius: 6.0,
                smoothing_range: 36.0,
                tones: 3,
                tone_softness: 0.5,
                saturation: 1.45,
                lightness_lift: 0.16,
                line_width: 4.0,
                line_threshold: 0.05,
                line_opacity: 0.9,
                ink_darkness: 0.35,
                contour_px: 6.0,
                head_scale: 1.7,
                bleed: 0.0,
                paper: 0.0,
                backdrop: Backdrop::PolkaDots,
            },
            // Washes: pale layers of colour with very soft steps, bleeding at their borders
            // and pooling at their rims, faint pencil lines, on paper that shows through.
            Self::Watercolor => StylizerParams {
                smoothing_passes: 2,
                smoothing_radius: 8.0,
                smoothing_range: 36.0,
                tones: 5,
                tone_softness: 0.9,
                saturation: 0.9,
                lightness_lift: 0.25,
                line_width: 2.0,
                line_threshold: 0.045,
                line_opacity: 0.45,
                ink_darkness: 0.45,
                contour_px: 0.0,
                head_scale: 1.0,
                bleed: 3.0,
                paper: 0.14,
                backdrop: Backdrop::Paper,
            },
        }
    }
}

/// How the local stylizer renders one style. Sizes are in pixels of the 1024×1024 output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StylizerParams {
    /// Passes of the edge-preserving smoother (a guided filter) that takes skin texture,
    /// pores and noise away while keeping the outlines of eyes, mouth and hair.
    pub smoothing_passes: u8,
    /// Its window radius; larger windows flatten larger areas.
    pub smoothing_radius: f32,
    /// The contrast (0–255) below which it flattens: texture under it goes, edges above
    /// it stay.
    pub smoothing_range: f32,
    /// Cel tones of lightness across the subject (0: continuous shading).
    pub tones: u8,
    /// How soft the step from one tone to the next is, as a fraction of a tone (0–1).
    pub tone_softness: f32,
    /// Saturation factor: 1 leaves colours as they are, above 1 makes them vivid.
    pub saturation: f32,
    /// How far colours move toward white, 0–1 (pastel tones).
    pub lightness_lift: f32,
    /// Line width: lines are drawn only where the smoothed picture has a dark edge.
    pub line_width: f32,
    /// The edge contrast (0–1) a line needs: higher draws fewer, only the strongest.
    pub line_threshold: f32,
    /// How opaque lines are, 0–1.
    pub line_opacity: f32,
    /// Ink is the colour under it scaled by this factor (0 is black): tinted lines, as
    /// anime inks skin with dark brown rather than black.
    pub ink_darkness: f32,
    /// Width of the line drawn along the person's silhouette (0: none).
    pub contour_px: f32,
    /// How many times the head is enlarged at its centre (1: not at all).
    pub head_scale: f32,
    /// Blur, in pixels, by which colours bleed into each other (0: crisp).
    pub bleed: f32,
    /// How strongly paper texture shows (0: none).
    pub paper: f32,
    /// What is painted behind the person.
    pub backdrop: Backdrop,
}

/// The background of a locally stylized avatar: never the photo's own busy background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backdrop {
    /// The photo's background with the person removed, blurred and lightened.
    SoftFocus,
    /// A pastel colour with polka dots.
    PolkaDots,
    /// Watercolour paper with a pale wash of the background's colours.
    Paper,
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
        assert!(chibi.head_scale > 1.2 && anime.head_scale == 1.0);
        assert!(chibi.contour_px > anime.contour_px && watercolor.contour_px == 0.0);
        assert!(watercolor.line_opacity < anime.line_opacity);
        assert!(watercolor.bleed > 0.0 && anime.bleed == 0.0);
        assert!(chibi.lightness_lift > anime.lightness_lift);
        let backdrops = [anime.backdrop, chibi.backdrop, watercolor.backdrop];
        assert!(backdrops[0] != backdrops[1] && backdrops[1] != backdrops[2]);
    }
}
