//! Finding the person: a soft mask of the subject, without a segmentation model.
//!
//! The idea is GrabCut's, simplified: colours seen along the top and sides of a portrait
//! are background, colours seen where a centred portrait has its face and chest are the
//! subject; two colour histograms learnt from that, re-learnt a few times from their own
//! answer, decide every pixel, with the framing the upload guidelines ask for (face
//! centred, head and shoulders) as a prior where colours say nothing. The answer is
//! cleaned up (the largest piece touching the centre, holes filled), then snapped to the
//! photo's own edges by a guided filter.

use std::collections::VecDeque;

use image::{GrayImage, Luma};

use super::face;
use super::plane::{Plane, Rgb, box_blur, gaussian_blur, guided_filter, luma, smoothstep};

/// Side of the square the colour model works on: enough for a head-and-shoulders
/// silhouette, and cheap.
const MODEL_SIZE: usize = 128;
/// Histogram cells per colour channel.
const BINS: usize = 12;
/// Rounds of learning the histograms from the previous answer.
const ROUNDS: usize = 4;
/// Weights of the colour evidence and of the framing prior, in log-odds.
const COLOUR_WEIGHT: f32 = 1.0;
const PRIOR_WEIGHT: f32 = 0.6;
/// Colour steps between neighbours (sum over channels, 0–3) that are noise or shading,
/// not an edge between the person and the background.
const EDGE_NOISE: f32 = 0.04;
/// Enclosed background pieces smaller than this share of the picture are holes to fill.
const MAX_HOLE: f32 = 0.015;
/// Width of the border band taken as background, as a fraction of the side; the
/// bottom edge is not in it (shoulders run off the bottom of a portrait).
const BORDER_BAND: f32 = 0.04;
/// The sides count as background down to this height only (shoulders reach them).
const SIDE_SEED_DEPTH: f32 = 0.6;
/// A head around a found face: this many face half-widths wide (ears, hair at the
/// sides), and the hair this many face half-heights above the top of the skin.
const HEAD_WIDTH: f32 = 1.4;
const HAIR_HEIGHT: f32 = 1.2;
/// How far above the top of the skin hair may reach, in face half-heights: no
/// background seeds there, colours and edges decide.
const MAX_HAIR_HEIGHT: f32 = 2.0;

/// The subject's mask on the photo (values 0–1, soft at the edge, snapped to the photo's
/// edges), at the photo's size.
pub(super) fn subject_mask(photo: &Rgb) -> Plane {
    let (width, height) = (photo[0].width(), photo[0].height());
    let side = MODEL_SIZE.min(width).min(height);
    let coarse = coarse_mask(photo, side);
    refine(&coarse, &luma(photo))
}

/// The subject at `side`×`side`, 0 or 1 per pixel.
pub(super) fn coarse_mask(photo: &Rgb, side: usize) -> Plane {
    let small: Vec<Plane> = photo
        .iter()
        .map(|channel| gaussian_blur(&channel.resize(side, side), 0.8))
        .collect();
    let bins: Vec<usize> = (0..side * side)
        .map(|i| {
            let cell = |c: usize| ((small[c].values()[i] * BINS as f32) as usize).min(BINS - 1);
            (cell(0) * BINS + cell(1)) * BINS + cell(2)
        })
        .collect();
    // Where the face is decides where the prior puts the person; without one found, the
    // framing the upload guidelines ask for.
    let framing = face::find_face(&small).map_or_else(Framing::centred, Framing::around);
    let prior = framing_prior(side, &framing);
    let border = border_seeds(side, &framing);
    let core = core_seeds(side, &framing);

    // First histograms from the certain pixels only; then from the previous answer.
    let mut subject_weight: Vec<f32> = core.iter().map(|c| if *c { 1.0 } else { 0.0 }).collect();
    let mut background_weight: Vec<f32> =
        border.iter().map(|b| if *b { 1.0 } else { 0.0 }).collect();
    let mut belief = prior.clone();
    for _ in 0..ROUNDS {
        let subject = normalise(&spread(&histogram(&bins, &subject_weight)));
        let background = normalise(&spread(&histogram(&bins, &background_weight)));
        let next = Plane::from_fn(side, side, |x, y| {
            let i = y * side + x;
            let colour = (subject[bins[i]] / background[bins[i]])
                .ln()
                .clamp(-4.0, 4.0);
            let p = prior.get(x, y).clamp(0.05, 0.95);
            let framing = (p / (1.0 - p)).ln();
            sigmoid(COLOUR_WEIGHT * colour + PRIOR_WEIGHT * framing)
        });
        // Neighbours agree: the averaging is a cheap stand-in for GrabCut's graph cut.
        belief = box_blur(&next, 1);
        subject_weight = belief.values().to_vec();
        background_weight = belief
            .values()
            .iter()
            .zip(&border)
            .map(|(p, b)| if *b { 3.0 } else { 1.0 - p })
            .collect();
    }
    // Which seeds each pixel is closer to, along paths that pay for crossing colour
    // edges: the background the border reaches without crossing an edge is background,
    // whatever its colour.
    let cost = |a: usize, b: usize| -> f32 {
        let colour: f32 = (0..3)
            .map(|c| (small[c].values()[a] - small[c].values()[b]).abs())
            .sum();
        let belief_step = (belief.values()[a] - belief.values()[b]).abs();
        // Steps below the noise cost (almost) nothing: only edges separate.
        (colour - EDGE_NOISE).max(0.0) + 0.5 * (belief_step - 0.05).max(0.0) + 0.0005
    };
    let to_background = geodesic_distance(side, &border, &cost);
    let to_subject = geodesic_distance(side, &core, &cost);
    // The nearer seeds decide, unless the distances are close: then the colour model
    // and the framing have their say too.
    let binary = Plane::from_fn(side, side, |x, y| {
        let i = y * side + x;
        let geodesic = ((to_background[i] - to_subject[i]) / 0.15).clamp(-6.0, 6.0);
        let b = belief.get(x, y).clamp(0.02, 0.98);
        let p = prior.get(x, y).clamp(0.05, 0.95);
        let score = geodesic + 0.5 * (b / (1.0 - b)).ln() + (p / (1.0 - p)).ln();
        if score > 0.0 { 1.0 } else { 0.0 }
    });
    let piece = centre_piece(&binary);
    fill_holes(&piece)
}

/// The cheapest path cost from any seed to every pixel (4-neighbours), Dijkstra.
fn geodesic_distance(side: usize, seeds: &[bool], cost: &dyn Fn(usize, usize) -> f32) -> Vec<f32> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut distance = vec![f32::INFINITY; side * side];
    let mut heap = BinaryHeap::new();
    for (i, seed) in seeds.iter().enumerate() {
        if *seed {
            distance[i] = 0.0;
            heap.push((Reverse(0u32), i));
        }
    }
    // Costs as integers (millionths) so the heap orders them exactly and the same way
    // every time.
    while let Some((Reverse(d), i)) = heap.pop() {
        let d = d as f32 / 1e6;
        if d > distance[i] {
            continue;
        }
        for (nx, ny) in neighbours(i % side, i / side, side, side) {
            let n = ny * side + nx;
            let through = d + cost(i, n);
            if through < distance[n] {
                distance[n] = through;
                heap.push((Reverse((through * 1e6) as u32), n));
            }
        }
    }
    distance
}

/// Pixels taken as the subject whatever their colour: the middle of the face and of the
/// chest.
fn core_seeds(side: usize, framing: &Framing) -> Vec<bool> {
    let s = side as f32;
    let face = framing.face_core.scaled(s);
    let hair = framing.hair_core.map(|hair| hair.scaled(s));
    let chest = Ellipse::new(framing.shoulders.cx * s, 0.97 * s, 0.22 * s, 0.06 * s);
    (0..side * side)
        .map(|i| {
            let (x, y) = ((i % side) as f32 + 0.5, (i / side) as f32 + 0.5);
            face.coverage(x, y) > 0.5
                || chest.coverage(x, y) > 0.5
                || hair.is_some_and(|hair| hair.coverage(x, y) > 0.5)
        })
        .collect()
}

/// A colour histogram, each pixel counted with its weight.
fn histogram(bins: &[usize], weights: &[f32]) -> Vec<f32> {
    let mut counts = vec![0f32; BINS * BINS * BINS];
    for (bin, weight) in bins.iter().zip(weights) {
        counts[*bin] += weight;
    }
    counts
}

/// A histogram smoothed across neighbouring cells: a colour seen once makes its close
/// shades likely too.
fn spread(histogram: &[f32]) -> Vec<f32> {
    let at = |r: isize, g: isize, b: isize| -> f32 {
        let n = BINS as isize;
        if r < 0 || g < 0 || b < 0 || r >= n || g >= n || b >= n {
            return 0.0;
        }
        histogram[((r * n + g) * n + b) as usize]
    };
    let mut out = vec![0f32; histogram.len()];
    for r in 0..BINS as isize {
        for g in 0..BINS as isize {
            for b in 0..BINS as isize {
                let mut sum = 2.0 * at(r, g, b);
                for (dr, dg, db) in [
                    (1, 0, 0),
                    (-1, 0, 0),
                    (0, 1, 0),
                    (0, -1, 0),
                    (0, 0, 1),
                    (0, 0, -1),
                ] {
                    sum += 0.5 * at(r + dr, g + dg, b + db);
                }
                out[((r * BINS as isize + g) * BINS as isize + b) as usize] = sum;
            }
        }
    }
    out
}

fn normalise(histogram: &[f32]) -> Vec<f32> {
    let total: f32 = histogram.iter().sum::<f32>() + 1e-3;
    // A little probability everywhere: a colour neither side has seen stays undecided.
    let floor = 0.02 / histogram.len() as f32;
    histogram.iter().map(|c| c / total + floor).collect()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Where the subject is expected: the head-and-shoulders silhouette of the framing, its
/// edge softened over a tenth of the side (1 inside, 0.5 on the outline, 0 far out).
fn framing_prior(side: usize, framing: &Framing) -> Plane {
    let sharp = framing.silhouette(side);
    gaussian_blur(&sharp, side as f32 * 0.06)
}

/// Pixels taken as background whatever their colour: a band along the top and the upper
/// parts of both sides, except where hair may reach the edge.
fn border_seeds(side: usize, framing: &Framing) -> Vec<bool> {
    let band = ((side as f32 * BORDER_BAND).round() as usize).max(1);
    let depth = (side as f32 * SIDE_SEED_DEPTH) as usize;
    let s = side as f32;
    let hair = framing.hair_reach.scaled(s);
    (0..side * side)
        .map(|i| {
            let (x, y) = (i % side, i / side);
            let edge = y < band || (y < depth && (x < band || x >= side - band));
            edge && hair.coverage(x as f32 + 0.5, y as f32 + 0.5) < 0.5
        })
        .collect()
}

/// The connected piece (4-neighbours) of `binary` that holds the most pixels near the
/// centre of the picture; an empty answer if there is none.
fn centre_piece(binary: &Plane) -> Plane {
    let (width, height) = (binary.width(), binary.height());
    let mut label = vec![0u32; width * height];
    let mut best = (0usize, 0u32);
    let mut next_label = 0;
    let mut queue = VecDeque::new();
    for start in 0..width * height {
        if label[start] != 0 || binary.values()[start] < 0.5 {
            continue;
        }
        next_label += 1;
        label[start] = next_label;
        queue.push_back(start);
        let mut score = 0usize;
        while let Some(i) = queue.pop_front() {
            let (x, y) = (i % width, i / width);
            // Pixels in the middle half count more than the rest: the person, not a
            // patch of a similar colour in a corner.
            let central = x >= width / 4 && x < width * 3 / 4 && y >= height / 5;
            score += if central { 4 } else { 1 };
            for (nx, ny) in neighbours(x, y, width, height) {
                let n = ny * width + nx;
                if label[n] == 0 && binary.values()[n] >= 0.5 {
                    label[n] = next_label;
                    queue.push_back(n);
                }
            }
        }
        if score > best.0 {
            best = (score, next_label);
        }
    }
    Plane::from_fn(width, height, |x, y| {
        let l = label[y * width + x];
        if l != 0 && l == best.1 { 1.0 } else { 0.0 }
    })
}

/// `binary` with its small holes filled: background pixels that no edge of the picture
/// reaches through background, in pieces of under `MAX_HOLE` of the picture (a large
/// enclosed piece is more likely background seen between the person and something
/// wrongly taken for them).
fn fill_holes(binary: &Plane) -> Plane {
    let (width, height) = (binary.width(), binary.height());
    let background = |i: usize| binary.values()[i] < 0.5;
    let mut seen = vec![false; width * height];
    let mut filled = binary.clone();
    let mut queue = VecDeque::new();
    let mut piece = Vec::new();
    for start in 0..width * height {
        if seen[start] || !background(start) {
            continue;
        }
        seen[start] = true;
        queue.push_back(start);
        piece.clear();
        let mut touches_edge = false;
        while let Some(i) = queue.pop_front() {
            piece.push(i);
            let (x, y) = (i % width, i / width);
            touches_edge |= x == 0 || y == 0 || x == width - 1 || y == height - 1;
            for (nx, ny) in neighbours(x, y, width, height) {
                let n = ny * width + nx;
                if !seen[n] && background(n) {
                    seen[n] = true;
                    queue.push_back(n);
                }
            }
        }
        if !touches_edge && (piece.len() as f32) < MAX_HOLE * (width * height) as f32 {
            piece.iter().for_each(|i| filled.values_mut()[*i] = 1.0);
        }
    }
    filled
}

fn neighbours(
    x: usize,
    y: usize,
    width: usize,
    height: usize,
) -> impl Iterator<Item = (usize, usize)> {
    [
        (x.wrapping_sub(1), y),
        (x + 1, y),
        (x, y.wrapping_sub(1)),
        (x, y + 1),
    ]
    .into_iter()
    .filter(move |(nx, ny)| *nx < width && *ny < height)
}

/// The coarse mask at the photo's size, snapped to the photo's edges (a guided filter
/// with the photo's lightness as guide), then made firm again: 0 or 1 with a ramp of a
/// pixel or two at the outline.
fn refine(coarse: &Plane, guide: &Plane) -> Plane {
    let (width, height) = (guide.width(), guide.height());
    let smooth_coarse = gaussian_blur(coarse, 1.0);
    let upscaled = smooth_coarse.resize(width, height);
    let radius = (width / 48).max(2);
    let snapped = guided_filter(guide, &upscaled, radius, 2e-3);
    // The guided answer blurred a little, so its outline is smooth rather than every
    // hair, then a firm edge.
    gaussian_blur(&snapped, width as f32 / 512.0 * 1.5).map(|m| smoothstep(0.35, 0.65, m))
}

/// An elliptical head-and-shoulders silhouette of a centred portrait, `size`×`size`,
/// white (255) on the subject, black (0) elsewhere, with anti-aliased edges: the framing
/// the upload guidelines ask for, which the subject mask takes as its prior.
pub fn portrait_mask(size: u32) -> GrayImage {
    let silhouette = portrait_silhouette(size as usize);
    GrayImage::from_fn(size, size, |x, y| {
        Luma([(silhouette.get(x as usize, y as usize) * 255.0).round() as u8])
    })
}

fn portrait_silhouette(side: usize) -> Plane {
    Framing::centred().silhouette(side)
}

/// Where the person is expected, as ellipses in fractions of the side: the head (hair
/// included), neck and shoulders that make the prior, the middle of the face (and, above
/// a found face, a patch of hair or scalp) that is certainly the person, and how high
/// hair may reach (no background seeds there).
#[derive(Debug, Clone, Copy)]
struct Framing {
    head: Ellipse,
    neck: Ellipse,
    shoulders: Ellipse,
    face_core: Ellipse,
    hair_core: Option<Ellipse>,
    hair_reach: Ellipse,
}

impl Framing {
    /// The framing the upload guidelines ask for: face centred, head and shoulders.
    fn centred() -> Self {
        Self {
            head: Ellipse::new(0.50, 0.42, 0.255, 0.30),
            neck: Ellipse::new(0.50, 0.72, 0.11, 0.14),
            shoulders: Ellipse::new(0.50, 1.00, 0.44, 0.28),
            face_core: Ellipse::new(0.5, 0.42, 0.07, 0.1),
            hair_core: None,
            // Only the head itself: the top band stays background above a centred face.
            hair_reach: Ellipse::new(0.50, 0.42, 0.255, 0.30),
        }
    }

    /// The person around a face found in the picture: a head a little wider than the
    /// face and taller by the hair, the neck under the chin, the shoulders from there to
    /// the bottom.
    fn around(face: face::Face) -> Self {
        let top = face.top() - HAIR_HEIGHT * face.ry;
        let chin = face.cy + face.ry;
        let head = Ellipse::new(
            face.cx,
            (top + chin) / 2.0,
            HEAD_WIDTH * face.rx,
            (chin - top) / 2.0,
        );
        let neck = Ellipse::new(face.cx, chin + 0.5 * face.ry, 0.75 * face.rx, 0.9 * face.ry);
        let shoulders_top = (chin + 0.6 * face.ry).min(0.72);
        Self {
            head,
            neck,
            // Wider than the centred framing's: the shoulders start higher up here, and
            // an ellipse that tall is narrow near its top.
            shoulders: Ellipse::new((0.5 + face.cx) / 2.0, 1.0, 0.5, 1.0 - shoulders_top),
            face_core: Ellipse::new(face.cx, face.cy, 0.5 * face.rx, 0.55 * face.ry),
            // Just above the top of the skin is hair (or a bald scalp): both are the
            // person, and hair is often cut off from the face by a strong edge and
            // unlike any other colour of the person, so nothing else would claim it.
            hair_core: Some(Ellipse::new(
                face.cx,
                face.top() - 0.35 * face.ry,
                0.45 * face.rx,
                0.18 * face.ry,
            )),
            // Centred on the hairline, so it reaches as far up as down (to the chin).
            hair_reach: Ellipse::new(
                face.cx,
                face.top(),
                0.9 * face.rx,
                MAX_HAIR_HEIGHT * face.ry,
            ),
        }
    }

    /// The head, neck and shoulders at `side`×`side`, 1 inside, anti-aliased edges.
    fn silhouette(&self, side: usize) -> Plane {
        let s = side as f32;
        let parts = [self.head, self.neck, self.shoulders].map(|e| e.scaled(s));
        Plane::from_fn(side, side, |x, y| {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            parts
                .iter()
                .map(|ellipse| ellipse.coverage(px, py))
                .fold(0.0f32, f32::max)
        })
    }
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

    /// From fractions of the side to pixels of a `side`-pixel square.
    fn scaled(&self, side: f32) -> Self {
        Self::new(
            self.cx * side,
            self.cy * side,
            self.rx * side,
            self.ry * side,
        )
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
    use super::*;

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

    /// A blue backdrop with an orange blob that is not where the prior puts a person
    /// (off to the left): colours, not only the framing, decide.
    #[test]
    fn the_mask_follows_colours_rather_than_the_framing() {
        // A head, neck and shoulders off to the left, the shoulders leaving the picture at
        // the bottom and the left edge, as people sit in selfies. (A figure that does not
        // reach the bottom edge is not a selfie: the framing then adds shoulders.)
        let side = 128;
        let inside = |x: usize, y: usize| {
            let (fx, fy) = (x as f32, y as f32);
            let head = ((fx - 48.0) / 26.0).powi(2) + ((fy - 50.0) / 32.0).powi(2) < 1.0;
            let neck = (38.0..58.0).contains(&fx) && (78.0..100.0).contains(&fy);
            let shoulders = fy >= 98.0 && fx < 100.0 - (128.0 - fy) * 0.6;
            head || neck || shoulders
        };
        let channel = |subject: f32, backdrop: f32| {
            Plane::from_fn(
                side,
                side,
                |x, y| {
                    if inside(x, y) { subject } else { backdrop }
                },
            )
        };
        let photo = [channel(0.9, 0.2), channel(0.5, 0.4), channel(0.2, 0.8)];
        let mask = coarse_mask(&photo, side);
        let mut wrong = 0;
        for y in 0..side {
            for x in 0..side {
                if (mask.get(x, y) > 0.5) != inside(x, y) {
                    wrong += 1;
                }
            }
        }
        let art: String = (0..side)
            .step_by(4)
            .map(|y| {
                (0..side)
                    .step_by(2)
                    .map(|x| match (mask.get(x, y) > 0.5, inside(x, y)) {
                        (true, true) => '#',
                        (false, false) => '.',
                        (true, false) => '+',
                        (false, true) => '-',
                    })
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        assert!(wrong < side * side / 50, "{wrong} pixels wrong\n{art}");
    }

    #[test]
    fn holes_are_filled_and_stray_pieces_dropped() {
        // The hole (about 50 pixels) is under MAX_HOLE of the picture (61 pixels).
        let ring = Plane::from_fn(64, 64, |x, y| {
            let r = ((x as f32 - 20.0).powi(2) + (y as f32 - 22.0).powi(2)).sqrt();
            let speck = x < 3 && y < 3;
            if (4.0..12.0).contains(&r) || speck {
                1.0
            } else {
                0.0
            }
        });
        let cleaned = fill_holes(&centre_piece(&ring));
        assert_eq!(cleaned.get(20, 22), 1.0, "hole filled");
        assert_eq!(cleaned.get(1, 1), 0.0, "speck dropped");
        assert_eq!(cleaned.get(20, 63), 0.0, "outside kept");
    }
}
