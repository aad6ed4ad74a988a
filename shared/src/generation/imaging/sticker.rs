//! Die-cut stickers: the subject on a transparent background inside a solid white border
//! that follows its silhouette, like a vinyl sticker cut around its picture.

use image::{GrayImage, Luma, Rgba, RgbaImage, imageops};
use imageproc::distance_transform::euclidean_squared_distance_transform;

use super::compose::paint_over;

/// Transparent space kept between the border and the canvas edge, so the cut line never
/// touches it (and anti-aliasing has room).
const CANVAS_MARGIN: u32 = 4;
/// The widest border drawn; wider requests are drawn this wide (it bounds the canvas).
pub const MAX_BORDER_PX: u32 = 256;
/// Alpha from which a pixel counts as part of the subject's silhouette.
const SILHOUETTE_ALPHA: u8 = 128;

/// The image with its alpha multiplied by `mask` (255 keeps a pixel, 0 clears it).
/// A mask of another size is stretched to the image's.
///
pub fn with_mask(image: &RgbaImage, mask: &GrayImage) -> RgbaImage {
    let resized;
    let mask = if mask.dimensions() == image.dimensions() {
        mask
    } else {
        resized = imageops::resize(
            mask,
            image.width(),
            image.height(),
            imageops::FilterType::Triangle,
        );
        &resized
    };
    let mut masked = image.clone();
    for (pixel, keep) in masked.pixels_mut().zip(mask.pixels()) {
        let alpha = u32::from(pixel.0[3]) * u32::from(keep.0[0]);
        pixel.0[3] = ((alpha + 127) / 255) as u8;
    }
    masked
}

/// A die-cut sticker of `subject`, whose alpha marks the subject: a white border
/// `border_px` wide around the silhouette (holes inside it filled, as a cutter would),
/// on a transparent canvas padded so that the border stays clear of the edges.
pub fn die_cut_sticker(subject: &RgbaImage, border_px: u32) -> RgbaImage {
    let border = border_px.min(MAX_BORDER_PX);
    let pad = border + CANVAS_MARGIN;
    let (width, height) = (subject.width() + 2 * pad, subject.height() + 2 * pad);

    let border_coverage = border_coverage(subject, pad, border as f32);
    let mut sticker = RgbaImage::from_fn(width, height, |x, y| {
        let coverage = border_coverage.get_pixel(x, y).0[0];
        Rgba([255, 255, 255, coverage])
    });
    for (x, y, pixel) in subject.enumerate_pixels() {
        let [r, g, b, a] = pixel.0;
        paint_over(
            sticker.get_pixel_mut(x + pad, y + pad),
            [r, g, b],
            f32::from(a) / 255.0,
        );
    }
    sticker
}

/// The white layer's alpha on the padded canvas: full within `border` pixels of the
/// silhouette (with a one-pixel anti-aliased edge) and inside any hole it encloses.
fn border_coverage(subject: &RgbaImage, pad: u32, border: f32) -> GrayImage {
    let (width, height) = (subject.width() + 2 * pad, subject.height() + 2 * pad);
    let silhouette = GrayImage::from_fn(width, height, |x, y| {
        let inside = x >= pad
            && y >= pad
            && x < pad + subject.width()
            && y < pad + subject.height()
            && subject.get_pixel(x - pad, y - pad).0[3] >= SILHOUETTE_ALPHA;
        Luma([if inside { 255 } else { 0 }])
    });
    let squared_distances = euclidean_squared_distance_transform(&silhouette);
    let mut coverage = GrayImage::from_fn(width, height, |x, y| {
        let distance = squared_distances.get_pixel(x, y).0[0].sqrt() as f32;
        let alpha = (border + 0.5 - distance).clamp(0.0, 1.0);
        Luma([(alpha * 255.0).round() as u8])
    });
    fill_enclosed_holes(&mut coverage);
    coverage
}

/// Makes opaque every transparent pixel that cannot reach the canvas edge without
/// crossing the border: the gaps a die-cut line goes around rather than into.
fn fill_enclosed_holes(coverage: &mut GrayImage) {
    let (width, height) = coverage.dimensions();
    let index = |x: u32, y: u32| (y * width + x) as usize;
    let mut outside = vec![false; (width * height) as usize];
    let mut stack: Vec<(u32, u32)> = Vec::new();
    let edges = (0..width)
        .flat_map(|x| [(x, 0), (x, height - 1)])
        .chain((0..height).flat_map(|y| [(0, y), (width - 1, y)]));
    for (x, y) in edges {
        stack.push((x, y));
    }
    while let Some((x, y)) = stack.pop() {
        if outside[index(x, y)] || coverage.get_pixel(x, y).0[0] == 255 {
            continue;
        }
        outside[index(x, y)] = true;
        if x > 0 {
            stack.push((x - 1, y));
        }
        if y > 0 {
            stack.push((x, y - 1));
        }
        if x + 1 < width {
            stack.push((x + 1, y));
        }
        if y + 1 < height {
            stack.push((x, y + 1));
        }
    }
    for (pixel, is_outside) in coverage.pixels_mut().zip(outside) {
        if !is_outside {
            pixel.0[0] = 255;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generation::imaging::stylize::portrait_mask;

    const SKIN: Rgba<u8> = Rgba([230, 180, 150, 255]);

    fn masked_portrait(size: u32) -> RgbaImage {
        let solid = RgbaImage::from_pixel(size, size, SKIN);
        with_mask(&solid, &portrait_mask(size))
    }

    #[test]
    fn with_mask_cuts_the_alpha_and_keeps_the_colour() {
        let masked = masked_portrait(200);
        assert_eq!(masked.get_pixel(100, 80), &SKIN);
        assert_eq!(masked.get_pixel(0, 0).0[3], 0);
        assert_eq!(&masked.get_pixel(0, 0).0[..3], &SKIN.0[..3]);
        // A mask of another size is stretched to fit.
        let stretched = with_mask(&RgbaImage::from_pixel(400, 400, SKIN), &portrait_mask(100));
        assert_eq!(stretched.get_pixel(200, 160).0[3], 255);
        assert_eq!(stretched.get_pixel(2, 2).0[3], 0);
    }

    #[test]
    fn sticker_has_transparent_corners_and_a_white_border_outside_the_subject() {
        let border = 12;
        let sticker = die_cut_sticker(&masked_portrait(200), border);
        let pad = border + CANVAS_MARGIN;
        assert_eq!(sticker.dimensions(), (200 + 2 * pad, 200 + 2 * pad));
        let (w, h) = sticker.dimensions();
        for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
            assert_eq!(sticker.get_pixel(x, y).0[3], 0, "corner {x},{y}");
        }
        // The head's left side is at x = 49 (radius 0.255 of 200 around 100) on row 84.
        let row = pad + 84;
        let head_left = pad + 49;
        assert_eq!(sticker.get_pixel(head_left + 3, row), &SKIN, "subject kept");
        for gap in [2, border / 2, border - 2] {
            assert_eq!(
                sticker.get_pixel(head_left - gap, row),
                &Rgba([255, 255, 255, 255]),
                "white {gap} px outside the subject"
            );
        }
        assert_eq!(sticker.get_pixel(head_left - border - 2, row).0[3], 0);
        // The canvas edges stay clear of the border everywhere.
        for x in 0..w {
            assert_eq!(sticker.get_pixel(x, 0).0[3], 0);
            assert_eq!(sticker.get_pixel(x, h - 1).0[3], 0);
        }
        for y in 0..h {
            assert_eq!(sticker.get_pixel(0, y).0[3], 0);
            assert_eq!(sticker.get_pixel(w - 1, y).0[3], 0);
        }
    }

    #[test]
    fn holes_inside_the_silhouette_are_filled_white() {
        // A thick ring: its inside is far from the ring itself but enclosed by it.
        let ring = RgbaImage::from_fn(120, 120, |x, y| {
            let r = ((x as f32 - 60.0).powi(2) + (y as f32 - 60.0).powi(2)).sqrt();
            if (40.0..55.0).contains(&r) {
                SKIN
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let sticker = die_cut_sticker(&ring, 4);
        let pad = 4 + CANVAS_MARGIN;
        assert_eq!(
            sticker.get_pixel(pad + 60, pad + 60),
            &Rgba([255, 255, 255, 255])
        );
        assert_eq!(sticker.get_pixel(0, 0).0[3], 0);
    }

    #[test]
    fn a_fully_transparent_subject_gives_a_transparent_sticker() {
        let sticker = die_cut_sticker(&RgbaImage::new(30, 20), 5);
        assert!(sticker.pixels().all(|p| p.0[3] == 0));
    }

    #[test]
    fn border_width_is_capped() {
        let sticker = die_cut_sticker(&RgbaImage::new(10, 10), 100_000);
        let side = 10 + 2 * (MAX_BORDER_PX + CANVAS_MARGIN);
        assert_eq!(sticker.dimensions(), (side, side));
    }
}
