//! The local stylizer: a cartoon effect computed on the machine, used when no OpenAI key
//! is configured. It is classic image processing, not a generative model: it keeps the
//! photo's composition and repaints it. Whatever stores or shows its results must say
//! they were stylized locally, not by the AI model.
//!
//! The pipeline, at half the output size (fast, and the look removes fine detail anyway):
//! crop to a centred square; find the person (`mask`); for chibi, enlarge the head
//! (`warp`); smooth skin and noise away with an edge-preserving guided filter; find lines
//! only on the strong dark edges that survive the smoothing (a difference of Gaussians),
//! so skin texture and soft shading never become lines; take the person's edge colours
//! from inside the silhouette so no old background clings to it. Then, at full size:
//! cel tones or washes, ink, a line along the silhouette, and a calm backdrop in place of
//! the photo's own background.

mod backdrop;
mod face;
mod mask;
mod plane;
mod warp;

use std::borrow::Cow;
use std::collections::VecDeque;

use image::imageops::{self, FilterType};
use image::{DynamicImage, Rgb as RgbPixel, RgbImage, Rgba, RgbaImage};

use crate::generation::style::{Backdrop, Style, StylizerParams};
pub use mask::portrait_mask;
use plane::{Plane, Rgb, gaussian_blur, guided_filter, luma, smoothstep};

/// Avatars are square, this many pixels a side.
pub const AVATAR_SIZE: u32 = 1024;
/// The reach of the chibi bulge, in head radii: far enough to shrink the shoulders a
/// little, not so far that the whole picture is zoomed.
const HEAD_REACH: f32 = 2.1;
/// Blur (output pixels at 1024) of the mask that gives every pixel its distance to the
/// silhouette's edge.
const EDGE_FIELD_SIGMA: f32 = 5.0;
/// How far inside the person's edge the cut-out runs (output pixels at 1024): the last
/// pixels of a photo's outline mix person and background.
const CUT_INSET: f32 = 1.5;
/// Line pieces shorter than this many working pixels (at 1024) are specks, not lines.
const MIN_LINE_PIXELS: usize = 24;
/// Paper white, slightly warm.
const PAPER: [f32; 3] = [0.985, 0.972, 0.94];

/// A locally stylized avatar.
pub struct Stylized {
    /// The square avatar, opaque, with its new backdrop.
    pub avatar: RgbaImage,
    /// The person alone on transparency, for the sticker: the alpha follows the
    /// silhouette found in the photo, a little inside it, with an anti-aliased edge.
    pub subject: RgbaImage,
}

/// Turns a selfie into a 1024×1024 avatar in the given style.
pub fn stylize(selfie: &DynamicImage, style: Style) -> Stylized {
    stylize_to_size(selfie, style, AVATAR_SIZE)
}

/// `stylize` at any output size; tests use small sizes, which debug builds run faster.
fn stylize_to_size(selfie: &DynamicImage, style: Style, size: u32) -> Stylized {
    let params = style.stylizer();
    let out = size.max(32) as usize;
    let work = out / 2;
    // Parameters are in pixels of a 1024 output.
    let px = out as f32 / 1024.0;

    let square = centred_square(&opaque_rgb(selfie), work as u32);
    let mut photo = to_planes(&square);
    let mut mask = mask::subject_mask(&photo);
    if params.head_scale > 1.0
        && let Some(head) = warp::find_head(&mask)
    {
        // Sampled from the photo at the output size: the enlarged face keeps its detail.
        let sharper = to_planes(&centred_square(&opaque_rgb(selfie), out as u32));
        photo = sharper.map(|c| warp::bulge(&c, head, params.head_scale, HEAD_REACH, work));
        mask = warp::bulge(&mask, head, params.head_scale, HEAD_REACH, work);
    }

    let smoothed = smooth(&photo, &params, px);
    let lines = line_strength(&smoothed, &params, px);
    let field = gaussian_blur(&mask, EDGE_FIELD_SIGMA * px / 2.0);
    let mut colours = decontaminate(&smoothed, &field, px);
    if params.bleed > 0.0 {
        colours = bleed(&colours, params.bleed * px / 2.0);
    }
    let tones = ToneMap::of_subject(&smoothed, &mask, &params);

    let colours = colours.map(|c| c.resize(out, out));
    let lines = lines.resize(out, out);
    // Signed distance to the silhouette's edge, in output pixels, positive inside.
    let depth = field
        .resize(out, out)
        .map(|f| inward_distance(f, EDGE_FIELD_SIGMA * px));
    let backdrop = paint_backdrop(&photo, &mask, &params, out);
    let paper = (params.paper > 0.0).then(|| backdrop::paper_texture(out, out, params.paper));
    let ragged = (params.backdrop == Backdrop::Paper)
        .then(|| backdrop::cloudy_noise(out, out, 40.0 * px, 5));
    // Uneven pigment: a wash is never one flat density.
    let blotches = (params.backdrop == Backdrop::Paper)
        .then(|| backdrop::cloudy_noise(out, out, 90.0 * px, 3));

    let mut avatar = RgbaImage::new(out as u32, out as u32);
    let mut subject = RgbaImage::new(out as u32, out as u32);
    for y in 0..out {
        for x in 0..out {
            let d = depth.get(x, y);
            let alpha = (d - CUT_INSET * px + 0.5).clamp(0.0, 1.0);
            let contour = if params.contour_px > 0.0 {
                alpha - (d - (CUT_INSET + params.contour_px) * px + 0.5).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let colour = [
                colours[0].get(x, y),
                colours[1].get(x, y),
                colours[2].get(x, y),
            ];
            let mut fg = paint(colour, lines.get(x, y), contour, &params, &tones);
            if let Some(blotches) = &blotches {
                let density = 0.75 + 0.5 * blotches.get(x, y);
                fg = fg.map(|c| 1.0 - (1.0 - c) * density);
            }
            if let Some(paper) = &paper {
                fg = fg.map(|c| c * paper.get(x, y));
            }
            // Watercolour fades into the paper along a ragged edge; the cel looks keep
            // the cut-out's crisp one.
            let cover = match &ragged {
                Some(noise) => {
                    let wobble = 16.0 * px * (noise.get(x, y) - 0.5);
                    ((d + 4.0 * px + wobble) / (14.0 * px)).clamp(0.0, 1.0)
                }
                None => alpha,
            };
            let bg = [
                backdrop[0].get(x, y),
                backdrop[1].get(x, y),
                backdrop[2].get(x, y),
            ];
            let shown: [f32; 3] = std::array::from_fn(|c| fg[c] * cover + bg[c] * (1.0 - cover));
            avatar.put_pixel(x as u32, y as u32, to_rgba(shown, 1.0));
            subject.put_pixel(x as u32, y as u32, to_rgba(fg, alpha));
        }
    }
    Stylized { avatar, subject }
}

fn to_rgba(colour: [f32; 3], alpha: f32) -> Rgba<u8> {
    let byte = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    Rgba([
        byte(colour[0]),
        byte(colour[1]),
        byte(colour[2]),
        byte(alpha),
    ])
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
        RgbPixel([over_white(r), over_white(g), over_white(b)])
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

fn to_planes(image: &RgbImage) -> Rgb {
    let (width, height) = (image.width() as usize, image.height() as usize);
    [0, 1, 2].map(|c| {
        Plane::from_fn(width, height, |x, y| {
            f32::from(image.get_pixel(x as u32, y as u32).0[c]) / 255.0
        })
    })
}

/// Skin texture, pores, stubble and sensor noise smoothed away, edges kept: each channel
/// guided-filtered by itself, a few times.
fn smooth(photo: &Rgb, params: &StylizerParams, px: f32) -> Rgb {
    let radius = ((params.smoothing_radius * px / 2.0).round() as usize).max(1);
    let eps = (params.smoothing_range / 255.0).powi(2);
    photo.clone().map(|mut channel| {
        for _ in 0..params.smoothing_passes {
            channel = guided_filter(&channel, &channel, radius, eps);
        }
        channel
    })
}

/// Where lines go (0–1): the dark side of edges strong enough to survive the smoothing,
/// found by a difference of Gaussians at the line's width, faded in above the style's
/// threshold (so lines are soft, not jagged), without the short specks texture leaves.
fn line_strength(smoothed: &Rgb, params: &StylizerParams, px: f32) -> Plane {
    let lightness = luma(smoothed);
    let sigma = (params.line_width * px / 4.0).max(0.4);
    let narrow = gaussian_blur(&lightness, sigma);
    let wide = gaussian_blur(&lightness, sigma * 1.6);
    let threshold = params.line_threshold;
    let lines = wide.zip(&narrow, |w, n| {
        smoothstep(threshold, threshold * 2.0, w - n)
    });
    let min_pixels = ((MIN_LINE_PIXELS as f32 * px).round() as usize).max(3);
    drop_short_lines(&lines, min_pixels)
}

/// `lines` without its connected pieces (8-neighbours, where the strength is over a
/// third) smaller than `min_pixels`.
fn drop_short_lines(lines: &Plane, min_pixels: usize) -> Plane {
    let (width, height) = (lines.width(), lines.height());
    let on = |i: usize| lines.values()[i] > 0.33;
    let mut keep = vec![false; width * height];
    let mut seen = vec![false; width * height];
    let mut queue = VecDeque::new();
    let mut piece = Vec::new();
    for start in 0..width * height {
        if seen[start] || !on(start) {
            continue;
        }
        seen[start] = true;
        queue.push_back(start);
        piece.clear();
        while let Some(i) = queue.pop_front() {
            piece.push(i);
            let (x, y) = ((i % width) as isize, (i / width) as isize);
            for (dx, dy) in [
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
                    continue;
                }
                let n = ny as usize * width + nx as usize;
                if !seen[n] && on(n) {
                    seen[n] = true;
                    queue.push_back(n);
                }
            }
        }
        if piece.len() >= min_pixels {
            piece.iter().for_each(|i| keep[*i] = true);
        }
    }
    // The faint fringe of a kept line (under a third) stays with it; a dropped speck's
    // fringe goes with it, because a fringe pixel is kept only next to a kept one.
    let mut out = lines.clone();
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            if keep[i] {
                continue;
            }
            let beside_kept = !on(i)
                && (y.saturating_sub(1)..(y + 2).min(height)).any(|ny| {
                    (x.saturating_sub(1)..(x + 2).min(width)).any(|nx| keep[ny * width + nx])
                });
            if !beside_kept {
                out.values_mut()[i] = 0.0;
            }
        }
    }
    out
}

/// The person's colours near their edge replaced by colours from a little further in, so
/// that the background the photo mixed into the outline does not show as a halo.
fn decontaminate(colours: &Rgb, field: &Plane, px: f32) -> Rgb {
    let inside = field.map(|f| smoothstep(0.8, 0.95, f));
    let spread = (3.0 * px).max(0.7);
    let weight = gaussian_blur(&inside, spread);
    colours.clone().map(|channel| {
        let carried = gaussian_blur(&channel.zip(&inside, |c, w| c * w), spread);
        Plane::from_fn(channel.width(), channel.height(), |x, y| {
            let w = inside.get(x, y);
            let total = weight.get(x, y);
            if total < 1e-3 {
                return channel.get(x, y);
            }
            channel.get(x, y) * w + carried.get(x, y) / total * (1.0 - w)
        })
    })
}

/// Watercolour washes: colours bled into each other, and pigment pooled along the rims
/// of darker washes (where a drying wash leaves its darker edge).
fn bleed(colours: &Rgb, sigma: f32) -> Rgb {
    colours.clone().map(|channel| {
        let soft = gaussian_blur(&channel, sigma);
        let wet = channel.zip(&soft, |c, s| c * 0.35 + s * 0.65);
        let around = gaussian_blur(&wet, sigma * 2.0);
        wet.zip(&around, |c, a| {
            // Pigment density is 1 - colour; it rises where the wash is denser than
            // its surroundings, most at the rim.
            let pooled = (a - c).max(0.0) * 0.8;
            (c - pooled).clamp(0.0, 1.0)
        })
    })
}

/// The cel look's tones: lightness mapped to a few flat steps with soft transitions,
/// spread over the subject's own range of lightness (so a face gets its light and its
/// shadow tone whatever the exposure).
struct ToneMap {
    steps: f32,
    softness: f32,
    low: f32,
    high: f32,
}

impl ToneMap {
    fn of_subject(smoothed: &Rgb, mask: &Plane, params: &StylizerParams) -> Self {
        let lightness = luma(smoothed);
        let mut values: Vec<f32> = lightness
            .values()
            .iter()
            .zip(mask.values())
            .filter(|(_, m)| **m > 0.5)
            .map(|(l, _)| *l)
            .collect();
        let (low, high) = if values.len() < 16 {
            (0.0, 1.0)
        } else {
            values.sort_by(f32::total_cmp);
            let at = |q: f32| values[((values.len() - 1) as f32 * q) as usize];
            (at(0.03), at(0.97).max(at(0.03) + 0.1))
        };
        Self {
            steps: f32::from(params.tones),
            softness: params.tone_softness.clamp(0.01, 1.0),
            low,
            high,
        }
    }

    fn apply(&self, lightness: f32) -> f32 {
        if self.steps == 0.0 {
            return lightness;
        }
        let t = ((lightness - self.low) / (self.high - self.low)).clamp(0.0, 1.0) * self.steps;
        let step = t.floor();
        let within = t - step;
        let half = self.softness / 2.0;
        let stepped = (step + smoothstep(0.5 - half, 0.5 + half, within)) / self.steps;
        let toned = self.low + stepped * (self.high - self.low);
        // A quarter of the photo's own shading stays: kinder to a face than hard bands.
        toned * 0.75 + lightness * 0.25
    }
}

/// One subject pixel: tones, colour treatment, then ink (lines and the silhouette's
/// contour), darkening the colour toward a deep shade of itself.
fn paint(
    colour: [f32; 3],
    line: f32,
    contour: f32,
    params: &StylizerParams,
    tones: &ToneMap,
) -> [f32; 3] {
    let lightness = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
    let toned = tones.apply(lightness);
    let ink = (line * params.line_opacity).max(contour * 0.95).min(1.0);
    colour.map(|c| {
        let saturated = toned + (c - lightness) * params.saturation;
        let lifted = saturated + (1.0 - saturated) * params.lightness_lift;
        let lifted = lifted.clamp(0.0, 1.0);
        lifted * (1.0 - ink * (1.0 - params.ink_darkness))
    })
}

/// What is painted behind the person, at `size`×`size`.
fn paint_backdrop(photo: &Rgb, mask: &Plane, params: &StylizerParams, size: usize) -> Rgb {
    let plate = backdrop::background_plate(photo, mask, size, size);
    match params.backdrop {
        // Out of focus, lighter and a little paler: the person stands out.
        Backdrop::SoftFocus => plate.map(|channel| channel.map(|c| c + (1.0 - c) * 0.3)),
        Backdrop::PolkaDots => backdrop::polka_dots(size, size, pastel(&plate)),
        Backdrop::Paper => {
            let paper = backdrop::paper_texture(size, size, params.paper);
            let wash = backdrop::cloudy_noise(size, size, size as f32 / 5.0, 9);
            [0, 1, 2].map(|c| {
                Plane::from_fn(size, size, |x, y| {
                    // A pale wash of the background's colour, heavier in places.
                    let tint = plate[c].get(x, y) + (1.0 - plate[c].get(x, y)) * 0.55;
                    let amount = smoothstep(0.3, 0.75, wash.get(x, y)) * 0.7;
                    let pigment = PAPER[c] * (1.0 - amount) + PAPER[c] * tint * amount;
                    pigment * paper.get(x, y)
                })
            })
        }
    }
}

/// A pastel colour for the chibi backdrop: the hue of the photo's background made
/// light and clearly coloured; a grey background gets a soft pink.
fn pastel(plate: &Rgb) -> [f32; 3] {
    let mean = [plate[0].mean(), plate[1].mean(), plate[2].mean()];
    let grey = (mean[0] + mean[1] + mean[2]) / 3.0;
    let spread = mean.iter().map(|c| (c - grey).abs()).fold(0.0f32, f32::max);
    let hue = if spread < 0.03 {
        [1.0, -0.35, 0.1]
    } else {
        mean.map(|c| (c - grey) / spread)
    };
    hue.map(|h| (0.86 + 0.1 * h).clamp(0.0, 1.0))
}

/// The signed distance (in pixels, positive inside) to the edge of a mask that was
/// blurred by a Gaussian of `sigma` pixels, from the blurred value: the inverse of the
/// normal curve, in its logistic approximation.
fn inward_distance(blurred: f32, sigma: f32) -> f32 {
    let p = blurred.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln() / 1.702 * sigma
}

#[cfg(test)]
mod tests;
