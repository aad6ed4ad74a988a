//! The local stylizer: a real cartoon effect computed on the machine, used when no OpenAI
//! key is configured. It is classic image processing, not a generative model: it keeps the
//! photo's composition and turns it into flat colour regions with dark outlines. Whatever
//! stores or shows its results must say they were stylized locally, not by the AI model.
//!
//! The pipeline: crop to a centred square, work at half the output size (fast, and the
//! effect removes fine detail anyway), flatten with a few passes of an edge-preserving
//! bilateral filter, find a small palette with k-means, find outlines with Canny, then
//! paint the palette and the inked outlines at full size.

use std::borrow::Cow;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage, RgbaImage};
use imageproc::edges::canny;
use imageproc::filter::bilateral::{GaussianEuclideanColorDistance, bilateral_filter};
use imageproc::filter::gaussian_blur_f32;
use imageproc::morphology::{Mask, grayscale_dilate};
use imageproc::region_labelling::{Connectivity, connected_components};

use crate::generation::style::{Style, StylizerParams};

/// Avatars are square, this many pixels a side.
pub const AVATAR_SIZE: u32 = 1024;
/// Bilateral window radius and spatial sigma at the working size (half the output size:
/// the filters work there, and the result is painted back at full size).
const SMOOTHING_RADIUS: u8 = 3;
const SMOOTHING_SPATIAL_SIGMA: f32 = 2.0;
/// Canny lines shorter than this (in working pixels) are texture, not features: dropped.
const MIN_LINE_PIXELS: usize = 12;
/// Pixels k-means learns the palette from; plenty for 8–16 colours, and cheap.
const PALETTE_SAMPLES: usize = 8192;
const KMEANS_ROUNDS: usize = 10;
/// Gaussian sigma, in output pixels, that anti-aliases the outlines.
const INK_SOFTENING: f32 = 0.8;
/// What the softened strokes are multiplied by, so that their cores stay fully inked.
const INK_GAIN: f32 = 1.6;
/// How much the rims of watercolour washes darken, at most.
const WET_EDGE_STRENGTH: f32 = 0.9;

/// Turns a selfie into a 1024×1024 opaque cartoon avatar in the given style.
pub fn stylize(selfie: &DynamicImage, style: Style) -> RgbaImage {
    stylize_to_size(selfie, style, AVATAR_SIZE)
}

/// `stylize` at any output size; tests use small sizes, which debug builds run faster.
fn stylize_to_size(selfie: &DynamicImage, style: Style, size: u32) -> RgbaImage {
    let params = style.stylizer();
    let working = centred_square(&opaque_rgb(selfie), (size / 2).max(1));
    let smoothed = smooth(working, &params);
    let palette = Palette::learn(&smoothed, &params);
    let ink = outline_coverage(&smoothed, &params, size);

    let smoothed_full = imageops::resize(&smoothed, size, size, FilterType::Triangle);
    drop(smoothed);
    let mut painted = palette.paint(&smoothed_full);
    drop(smoothed_full);
    if params.wash_blur > 0.0 {
        painted = wash(&painted, params.wash_blur);
    }
    apply_ink(&mut painted, &ink, &params);
    DynamicImage::ImageRgb8(painted).into_rgba8()
}

/// The selfie as opaque RGB; transparent parts (PNG, WebP) are shown over white.
fn opaque_rgb(selfie: &DynamicImage) -> Cow<'_, RgbImage> {
    if let Some(rgb) = selfie.as_rgb8() {
        return Cow::Borrowed(rgb);
    }
    if !selfie.color().has_alpha() {
        return Cow::Owned(selfie.to_rgb8());
    }
    let rgba = selfie.to_rgba8();
    Cow::Owned(RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let alpha = u32::from(a);
            ((u32::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        };
        Rgb([over_white(r), over_white(g), over_white(b)])
    }))
}

/// The largest centred square of `image`, resized to `size`×`size`.
fn centred_square(image: &RgbImage, size: u32) -> RgbImage {
    let side = image.width().min(image.height());
    let x = (image.width() - side) / 2;
    let y = (image.height() - side) / 2;
    let square = imageops::crop_imm(image, x, y, side, side);
    imageops::resize(&*square, size, size, FilterType::Triangle)
}

/// Flattens texture (skin pores, hair strands, sensor noise) while keeping the borders
/// between regions sharp.
fn smooth(mut image: RgbImage, params: &StylizerParams) -> RgbImage {
    for _ in 0..params.smoothing_passes {
        image = bilateral_filter(
            &image,
            SMOOTHING_RADIUS,
            SMOOTHING_SPATIAL_SIGMA,
            GaussianEuclideanColorDistance::new(params.smoothing_range),
        );
    }
    image
}

/// The few colours a stylized avatar is painted with.
struct Palette {
    /// The colours pixels are matched against (what k-means found).
    centres: Vec<[i32; 3]>,
    /// The colours painted for each centre (after the style's colour treatment).
    paints: Vec<Rgb<u8>>,
}

impl Palette {
    fn learn(image: &RgbImage, params: &StylizerParams) -> Self {
        let samples = sample_pixels(image, PALETTE_SAMPLES);
        let centres = kmeans(&samples, params.palette_size);
        let paints = centres
            .iter()
            .map(|centre| treat_colour(*centre, params))
            .collect();
        let centres = centres
            .iter()
            .map(|c| c.map(|v| v.round() as i32))
            .collect();
        Self { centres, paints }
    }

    fn paint(&self, image: &RgbImage) -> RgbImage {
        RgbImage::from_fn(image.width(), image.height(), |x, y| {
            self.paints[self.nearest(image.get_pixel(x, y).0)]
        })
    }

    fn nearest(&self, pixel: [u8; 3]) -> usize {
        let pixel = pixel.map(i32::from);
        let mut best = (i32::MAX, 0);
        for (index, centre) in self.centres.iter().enumerate() {
            let distance = (0..3).map(|c| (pixel[c] - centre[c]).pow(2)).sum::<i32>();
            if distance < best.0 {
                best = (distance, index);
            }
        }
        best.1
    }
}

/// Watercolour washes: region borders blurred into each other, with a darker rim where
/// two colours meet (where pigment pools as a wash dries). The rim is strongest where
/// the blur changed the picture most, which is right at the borders.
fn wash(painted: &RgbImage, sigma: f32) -> RgbImage {
    let mut washed = gaussian_blur_f32(painted, sigma);
    for (wet, crisp) in washed.pixels_mut().zip(painted.pixels()) {
        let change = (luma(wet.0.map(f32::from)) - luma(crisp.0.map(f32::from))).abs();
        let darken = 1.0 - WET_EDGE_STRENGTH * (change / 255.0).min(1.0);
        wet.0 = wet.0.map(|c| (f32::from(c) * darken).round() as u8);
    }
    washed
}

/// An evenly spread, deterministic sample of about `count` pixels.
fn sample_pixels(image: &RgbImage, count: usize) -> Vec<[f32; 3]> {
    let pixels = image.as_raw().chunks_exact(3);
    let stride = (pixels.len() / count).max(1);
    pixels
        .step_by(stride)
        .map(|p| [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])])
        .collect()
}

/// Lloyd's k-means from deterministic starting colours, so the same picture always
/// gives the same palette.
fn kmeans(samples: &[[f32; 3]], k: usize) -> Vec<[f32; 3]> {
    let mut centres = spread_out_centres(samples, k);
    for _ in 0..KMEANS_ROUNDS {
        let mut sums = vec![[0f64; 3]; centres.len()];
        let mut counts = vec![0u32; centres.len()];
        for sample in samples {
            let index = nearest_centre(&centres, *sample);
            counts[index] += 1;
            for c in 0..3 {
                sums[index][c] += f64::from(sample[c]);
            }
        }
        for ((centre, sum), count) in centres.iter_mut().zip(&sums).zip(&counts) {
            // An empty cluster keeps its colour rather than collapsing to black.
            if *count > 0 {
                *centre = sum.map(|s| (s / f64::from(*count)) as f32);
            }
        }
    }
    centres
}

/// Starting colours: the mean, then again and again the sample farthest from every
/// colour chosen so far. Unlike random starts this is deterministic, and it gives small
/// but distinct areas (eye whites, lips, blush) a colour of their own instead of
/// spending the palette on the shades of a large gradient.
fn spread_out_centres(samples: &[[f32; 3]], k: usize) -> Vec<[f32; 3]> {
    let count = samples.len().max(1) as f32;
    let mean = samples.iter().fold([0f32; 3], |acc, s| {
        [
            acc[0] + s[0] / count,
            acc[1] + s[1] / count,
            acc[2] + s[2] / count,
        ]
    });
    let mut centres = vec![mean];
    let mut nearest: Vec<f32> = samples.iter().map(|s| squared_distance(s, &mean)).collect();
    while centres.len() < k {
        let farthest = nearest
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| a.total_cmp(b))
            .filter(|(_, distance)| **distance > 0.0);
        let Some((index, _)) = farthest else {
            break; // fewer distinct colours than k
        };
        let centre = samples[index];
        for (sample, distance) in samples.iter().zip(nearest.iter_mut()) {
            *distance = distance.min(squared_distance(sample, &centre));
        }
        centres.push(centre);
    }
    centres
}

fn squared_distance(a: &[f32; 3], b: &[f32; 3]) -> f32 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum()
}

fn nearest_centre(centres: &[[f32; 3]], sample: [f32; 3]) -> usize {
    let distance = |c: &[f32; 3]| squared_distance(c, &sample);
    centres
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| distance(a).total_cmp(&distance(b)))
        .map_or(0, |(index, _)| index)
}

fn luma([r, g, b]: [f32; 3]) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// The style's colour treatment: saturation around the colour's own grey, then a lift
/// toward white.
fn treat_colour(colour: [f32; 3], params: &StylizerParams) -> Rgb<u8> {
    let grey = luma(colour);
    Rgb(colour.map(|c| {
        let saturated = grey + (c - grey) * params.saturation;
        let lifted = saturated + (255.0 - saturated) * params.lightness_lift;
        lifted.round().clamp(0.0, 255.0) as u8
    }))
}

/// How much ink each output pixel gets (0–255): Canny edges of the smoothed picture,
/// without the short specks texture leaves, scaled up to the output size and thickened
/// to the style's line weight.
fn outline_coverage(smoothed: &RgbImage, params: &StylizerParams, size: u32) -> GrayImage {
    let grey = DynamicImage::ImageRgb8(smoothed.clone()).into_luma8();
    let edges = canny(&grey, params.edge_threshold / 2.0, params.edge_threshold);
    let lines = drop_short_lines(&edges, MIN_LINE_PIXELS);
    let ink = imageops::resize(&lines, size, size, FilterType::Triangle);
    // An edge found at half size is about two output pixels wide; dilating by r adds 2r.
    let radius = params.outline_px.saturating_sub(2) / 2;
    let ink = if radius == 0 {
        ink
    } else {
        grayscale_dilate(&ink, &Mask::disk(radius))
    };
    // The half-size edges are staircases; a slight blur turns them into smooth strokes,
    // and a gain brings the strokes' cores back to full strength.
    let mut ink = gaussian_blur_f32(&ink, INK_SOFTENING);
    for value in ink.iter_mut() {
        *value = (f32::from(*value) * INK_GAIN).min(255.0) as u8;
    }
    ink
}

/// Keeps the connected edge lines of at least `min_pixels` pixels.
fn drop_short_lines(edges: &GrayImage, min_pixels: usize) -> GrayImage {
    let labels = connected_components(edges, Connectivity::Eight, Luma([0u8]));
    let mut sizes = Vec::new();
    for label in labels.pixels() {
        let label = label.0[0] as usize;
        if label >= sizes.len() {
            sizes.resize(label + 1, 0usize);
        }
        sizes[label] += 1;
    }
    GrayImage::from_fn(edges.width(), edges.height(), |x, y| {
        let label = labels.get_pixel(x, y).0[0] as usize;
        let keep = label != 0 && sizes[label] >= min_pixels;
        Luma([if keep { 255 } else { 0 }])
    })
}

/// Draws the outlines: each pixel darkened toward a deep shade of its own colour.
fn apply_ink(painted: &mut RgbImage, ink: &GrayImage, params: &StylizerParams) {
    for (pixel, coverage) in painted.pixels_mut().zip(ink.pixels()) {
        let amount = f32::from(coverage.0[0]) / 255.0 * params.outline_opacity;
        if amount > 0.0 {
            pixel.0 = pixel.0.map(|c| {
                let c = f32::from(c);
                (c + (c * params.ink_darkness - c) * amount).round() as u8
            });
        }
    }
}

/// An elliptical head-and-shoulders mask of a centred portrait, `size`×`size`, white
/// (255) on the subject, black (0) elsewhere, with anti-aliased edges.
///
/// This is the local stylizer's stand-in for cutting the subject out: it has no
/// segmentation model, so it assumes the framing the upload guidelines ask for (face
/// centred, head and shoulders) rather than finding the person. OpenAI's results carry a
/// real cut-out in their alpha channel instead.
pub fn portrait_mask(size: u32) -> GrayImage {
    let s = size as f32;
    let head = Ellipse::new(0.50 * s, 0.42 * s, 0.255 * s, 0.30 * s);
    let neck = Ellipse::new(0.50 * s, 0.72 * s, 0.11 * s, 0.14 * s);
    let shoulders = Ellipse::new(0.50 * s, 1.00 * s, 0.44 * s, 0.28 * s);
    GrayImage::from_fn(size, size, |x, y| {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        let coverage = [head, neck, shoulders]
            .iter()
            .map(|ellipse| ellipse.coverage(px, py))
            .fold(0.0f32, f32::max);
        Luma([(coverage * 255.0).round() as u8])
    })
}

#[derive(Debug, Clone, Copy)]
struct Ellipse {
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
}

impl Ellipse {
    fn new(cx: f32, cy: f32, rx: f32, ry: f32) -> Self {
        Self { cx, cy, rx, ry }
    }

    /// How much of the pixel centred at (x, y) lies inside, from an approximate distance
    /// to the border (exact on the axes, close enough elsewhere for a one-pixel ramp).
    fn coverage(&self, x: f32, y: f32) -> f32 {
        let (nx, ny) = ((x - self.cx) / self.rx, (y - self.cy) / self.ry);
        let normalized = (nx * nx + ny * ny).sqrt();
        let gradient = ((nx / self.rx).powi(2) + (ny / self.ry).powi(2)).sqrt();
        let distance = if gradient > 0.0 {
            (normalized - 1.0) * normalized / gradient
        } else {
            -self.rx.min(self.ry)
        };
        (0.5 - distance).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// A noisy picture: every pixel a different random-looking colour over a soft
    /// "face" shape, the worst case for a palette.
    fn noisy_portrait(size: u32) -> RgbImage {
        let mut state = 0x2545_f491_u32;
        RgbImage::from_fn(size, size, |x, y| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = |shift: u32| ((state >> shift) & 0x3f) as i32 - 32;
            let dx = x as i32 - size as i32 / 2;
            let dy = y as i32 - size as i32 * 2 / 5;
            let inside = dx * dx + dy * dy < (size as i32 / 4).pow(2);
            let base = if inside {
                [224, 180, 150]
            } else {
                [70, 110, 170]
            };
            Rgb([
                (base[0] + noise(0)).clamp(0, 255) as u8,
                (base[1] + noise(8)).clamp(0, 255) as u8,
                (base[2] + noise(16)).clamp(0, 255) as u8,
            ])
        })
    }

    fn distinct_colours(pixels: impl Iterator<Item = [u8; 3]>) -> usize {
        pixels.collect::<HashSet<_>>().len()
    }

    #[test]
    fn makes_a_1024_square_avatar_of_flat_palette_colours() {
        let input = noisy_portrait(600);
        let before = distinct_colours(input.pixels().map(|p| p.0));
        assert!(before > 100_000, "the input is noisy: {before}");
        // Wider than tall, to exercise the centred crop.
        let wide = imageops::resize(&input, 800, 600, FilterType::Nearest);
        let avatar = stylize(&DynamicImage::ImageRgb8(wide), Style::Chibi);
        assert_eq!(avatar.dimensions(), (AVATAR_SIZE, AVATAR_SIZE));
        assert!(avatar.pixels().all(|p| p.0[3] == 255), "opaque");
        let after = distinct_colours(avatar.pixels().map(|p| [p.0[0], p.0[1], p.0[2]]));
        assert!(after * 50 < before, "{after} colours from {before}");
        // Rows of flat background far from any outline hold palette colours only.
        let top_rows = avatar.rows().take(40).flatten();
        let background = distinct_colours(top_rows.map(|p| [p.0[0], p.0[1], p.0[2]]));
        assert!(
            background <= Style::Chibi.stylizer().palette_size,
            "{background}"
        );
    }

    /// Every style, at a quarter of the size (each full-size run takes seconds in debug
    /// builds).
    #[test]
    fn every_style_reduces_colours_drastically_and_deterministically() {
        let input = noisy_portrait(600);
        let before = distinct_colours(input.pixels().map(|p| p.0));
        let input = DynamicImage::ImageRgb8(input);
        for style in Style::ALL {
            let avatar = stylize_to_size(&input, style, 256);
            assert_eq!(avatar.dimensions(), (256, 256));
            let after = distinct_colours(avatar.pixels().map(|p| [p.0[0], p.0[1], p.0[2]]));
            assert!(
                after * 50 < before,
                "{style}: {after} colours from {before}"
            );
            let again = stylize_to_size(&input, style, 256);
            assert_eq!(avatar.as_raw(), again.as_raw(), "{style}: deterministic");
        }
    }

    #[test]
    fn transparent_selfies_are_shown_over_white() {
        let clear = DynamicImage::ImageRgba8(RgbaImage::new(64, 64));
        assert!(opaque_rgb(&clear).pixels().all(|p| p.0 == [255, 255, 255]));
    }

    #[test]
    fn kmeans_finds_the_colours_of_a_two_colour_picture() {
        let mut samples = vec![[10.0, 20.0, 30.0]; 500];
        samples.extend(vec![[200.0, 150.0, 100.0]; 300]);
        let centres = kmeans(&samples, 2);
        assert_eq!(centres, vec![[10.0, 20.0, 30.0], [200.0, 150.0, 100.0]]);
    }

    #[test]
    fn short_specks_are_not_outlines() {
        let mut edges = GrayImage::new(40, 40);
        for x in 5..35 {
            edges.put_pixel(x, 10, Luma([255]));
        }
        edges.put_pixel(20, 30, Luma([255]));
        edges.put_pixel(21, 30, Luma([255]));
        let lines = drop_short_lines(&edges, MIN_LINE_PIXELS);
        assert_eq!(lines.get_pixel(20, 10).0[0], 255);
        assert_eq!(lines.get_pixel(20, 30).0[0], 0);
    }

    #[test]
    fn portrait_mask_covers_head_and_shoulders_only() {
        let mask = portrait_mask(200);
        let at = |x: u32, y: u32| mask.get_pixel(x, y).0[0];
        assert_eq!(at(100, 80), 255, "face");
        assert_eq!(at(100, 150), 255, "neck");
        assert_eq!(at(20, 199), 255, "shoulder");
        assert_eq!(at(0, 0), 0, "top-left corner");
        assert_eq!(at(199, 0), 0, "top-right corner");
        assert_eq!(at(10, 80), 0, "beside the head");
        let soft_edge = (0..200)
            .map(|x| at(x, 50))
            .filter(|v| *v > 0 && *v < 255)
            .count();
        assert!((1..=4).contains(&soft_edge), "anti-aliased: {soft_edge}");
    }
}
