//! The local stand-in for moderation, used in development where no OpenAI key is configured.
//!
//! It is **not a content check** and says so in every verdict it gives. It exists so both
//! paths of the pipeline (allowed, blocked) run end to end without a network, by a rule a
//! tester can trigger on purpose: an image is blocked when at least 90% of its pixels are the
//! test marker colour, pure magenta (#FF00FF). Every other image is allowed, whatever it shows.

use std::collections::BTreeMap;

use image::{GenericImageView, Rgba};

use super::moderation::{Decision, ModerationVerdict, ProviderKind};
use super::{ImageType, ProviderError};

/// The only category the stand-in scores: the fraction of marker-coloured pixels.
pub const MARKER_CATEGORY: &str = "local-test-marker";
pub const LOCAL_MODEL: &str = "local-stand-in";
/// The share of marker pixels from which an image is blocked.
pub const BLOCK_THRESHOLD: f64 = 0.9;
/// How far each channel may stray from #FF00FF and still count, so a JPEG-encoded marker
/// image (whose compression shifts colours slightly) behaves like a PNG one.
const CHANNEL_TOLERANCE: u8 = 8;
pub const LOCAL_LIMITATION: &str = "local stand-in, not a content check: it blocks only images \
     that are at least 90% pure magenta (#FF00FF), a test marker, and allows everything else";

/// See the module documentation: a deterministic test rule, not moderation.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalModerator;

impl LocalModerator {
    pub fn moderate(
        &self,
        image: &[u8],
        content_type: &str,
    ) -> Result<ModerationVerdict, ProviderError> {
        let format = ImageType::from_content_type(content_type)?.image_format();
        let decoded = image::load_from_memory_with_format(image, format)
            .map_err(|_| ProviderError::InvalidInput("the image could not be decoded"))?;
        let share = marker_share(&decoded);
        let blocked = share >= BLOCK_THRESHOLD;
        Ok(ModerationVerdict {
            decision: if blocked {
                Decision::Blocked
            } else {
                Decision::Allowed
            },
            scores: BTreeMap::from([(MARKER_CATEGORY.to_owned(), share)]),
            flagged_categories: if blocked {
                vec![MARKER_CATEGORY.to_owned()]
            } else {
                Vec::new()
            },
            model: LOCAL_MODEL.to_owned(),
            provider: ProviderKind::LocalStandIn,
            limitation: Some(LOCAL_LIMITATION),
        })
    }
}

/// The fraction of pixels in the marker colour; 0 for an empty image.
fn marker_share(image: &image::DynamicImage) -> f64 {
    let total = u64::from(image.width()) * u64::from(image.height());
    if total == 0 {
        return 0.0;
    }
    // Pixel by pixel rather than `to_rgb8`: a 12-megapixel selfie would otherwise be copied
    // into a 36 MB buffer first.
    let marked = image
        .pixels()
        .filter(|(_, _, pixel)| is_marker(*pixel))
        .count();
    // Pixel counts stay far below 2^53, where f64 would start rounding.
    marked as f64 / total as f64
}

fn is_marker(Rgba([red, green, blue, _]): Rgba<u8>) -> bool {
    red >= u8::MAX - CHANNEL_TOLERANCE
        && green <= CHANNEL_TOLERANCE
        && blue >= u8::MAX - CHANNEL_TOLERANCE
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::{ImageFormat, Rgb, RgbImage};
    use std::io::Cursor;

    const MAGENTA: Rgb<u8> = Rgb([255, 0, 255]);

    /// An image of `width`×`height` whose first `marked` pixels (row by row) are magenta and
    /// the rest a skin-like tone.
    pub(crate) fn image_with_marker(
        width: u32,
        height: u32,
        marked: u32,
        format: ImageFormat,
    ) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            if y * width + x < marked {
                MAGENTA
            } else {
                Rgb([224, 172, 140])
            }
        });
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    fn moderate(bytes: &[u8], content_type: &str) -> ModerationVerdict {
        LocalModerator.moderate(bytes, content_type).unwrap()
    }

    #[test]
    fn a_magenta_marker_image_is_blocked() {
        let png = image_with_marker(40, 40, 40 * 40, ImageFormat::Png);
        let verdict = moderate(&png, "image/png");
        assert_eq!(verdict.decision, Decision::Blocked);
        assert_eq!(verdict.scores[MARKER_CATEGORY], 1.0);
        assert_eq!(verdict.flagged_categories, vec![MARKER_CATEGORY.to_owned()]);
        assert_eq!(verdict.provider, ProviderKind::LocalStandIn);
        assert_eq!(verdict.model, "local-stand-in");
        assert!(verdict.limitation.unwrap().contains("not a content check"));
    }

    #[test]
    fn the_threshold_is_ninety_percent_of_the_pixels() {
        let at_threshold = image_with_marker(10, 10, 90, ImageFormat::Png);
        let verdict = moderate(&at_threshold, "image/png");
        assert_eq!(verdict.decision, Decision::Blocked);
        assert!((verdict.scores[MARKER_CATEGORY] - 0.9).abs() < 1e-12);

        let below = image_with_marker(10, 10, 89, ImageFormat::Png);
        let verdict = moderate(&below, "image/png");
        assert_eq!(verdict.decision, Decision::Allowed);
        assert!((verdict.scores[MARKER_CATEGORY] - 0.89).abs() < 1e-12);
        assert!(verdict.flagged_categories.is_empty());
    }

    #[test]
    fn an_ordinary_image_is_allowed_with_its_score() {
        let jpeg = image_with_marker(64, 48, 0, ImageFormat::Jpeg);
        let verdict = moderate(&jpeg, "image/jpeg");
        assert_eq!(verdict.decision, Decision::Allowed);
        assert_eq!(verdict.scores[MARKER_CATEGORY], 0.0);
        assert!(verdict.limitation.is_some());
    }

    #[test]
    fn a_jpeg_marker_survives_compression() {
        let jpeg = image_with_marker(64, 64, 64 * 64, ImageFormat::Jpeg);
        let verdict = moderate(&jpeg, "image/jpeg");
        assert_eq!(verdict.decision, Decision::Blocked, "{:?}", verdict.scores);
        assert!(verdict.scores[MARKER_CATEGORY] >= 0.9);
    }

    #[test]
    fn undecodable_or_unsupported_images_are_invalid_input() {
        assert_eq!(
            LocalModerator.moderate(b"not an image", "image/png"),
            Err(ProviderError::InvalidInput(
                "the image could not be decoded"
            ))
        );
        let png = image_with_marker(4, 4, 0, ImageFormat::Png);
        assert!(matches!(
            LocalModerator.moderate(&png, "image/gif"),
            Err(ProviderError::InvalidInput(_))
        ));
    }
}
