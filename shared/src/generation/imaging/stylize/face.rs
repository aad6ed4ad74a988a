//! Where the face is, from skin colour: no detector model, only the observation that a
//! portrait's face is the largest patch of skin tones in its upper middle. The mask uses
//! it to put its framing prior where the person actually is (a face off centre, or small
//! in the picture, with big hair), instead of where a well-framed portrait would have it.
//!
//! Grey pictures, faces in unusual light and pictures without a face give `None`; the
//! callers then fall back to the framing the upload guidelines ask for.

use std::collections::VecDeque;

use super::plane::Plane;

/// Smallest and largest plausible face half-width, as fractions of the side.
const MIN_HALF_WIDTH: f32 = 0.04;
const MAX_HALF_WIDTH: f32 = 0.3;
/// Where a row of the skin patch is narrower than this share of its widest row, below
/// the widest row, the chin has given way to the neck.
const NECK_NARROWING: f32 = 0.5;

/// The face as an ellipse, in fractions of the picture's side (x right, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Face {
    pub cx: f32,
    pub cy: f32,
    pub rx: f32,
    pub ry: f32,
}

impl Face {
    pub(super) fn top(&self) -> f32 {
        self.cy - self.ry
    }
}

/// The face on `side`×`side` colour planes (values 0–1), if one is found.
pub(super) fn find_face(small: &[Plane]) -> Option<Face> {
    let side = small[0].width();
    if side < 16 {
        return None;
    }
    let skin: Vec<bool> = (0..side * side)
        .map(|i| is_skin([0, 1, 2].map(|c| small[c].values()[i])))
        .collect();
    let patch = best_patch(&skin, side)?;
    face_of_patch(&patch, side)
}

/// Skin tones, light to dark: red above green above blue, in the band of chroma (YCbCr)
/// that skin of every complexion falls in, and neither grey nor the saturated orange of
/// clothes and flags.
fn is_skin([r, g, b]: [f32; 3]) -> bool {
    let cb = 0.5 - 0.1687 * r - 0.3313 * g + 0.5 * b;
    let cr = 0.5 + 0.5 * r - 0.4187 * g - 0.0813 * b;
    r > 0.25
        && r > g
        && g > b
        && r - b > 0.08
        // Hue under about 32°: skin is redder than blond or brown hair.
        && g - b < 0.53 * (r - b)
        && (0.30..=0.50).contains(&cb)
        && (0.53..=0.66).contains(&cr)
}

/// The skin patch (4-neighbours) with the most pixels, each counted more the nearer it is
/// to where a face is in a portrait (the upper middle): hands and arms are lower, bits of
/// warm wall are small.
fn best_patch(skin: &[bool], side: usize) -> Option<Vec<usize>> {
    let mut seen = vec![false; side * side];
    let mut best: Option<(f32, Vec<usize>)> = None;
    let mut queue = VecDeque::new();
    for start in 0..side * side {
        if seen[start] || !skin[start] {
            continue;
        }
        seen[start] = true;
        queue.push_back(start);
        let mut patch = Vec::new();
        let mut score = 0.0;
        while let Some(i) = queue.pop_front() {
            patch.push(i);
            let (x, y) = (i % side, i / side);
            let (fx, fy) = (
                (x as f32 + 0.5) / side as f32 - 0.5,
                (y as f32 + 0.5) / side as f32 - 0.4,
            );
            score += (-(fx / 0.3).powi(2) - (fy / 0.3).powi(2)).exp();
            let steps = [
                (x > 0).then(|| i - 1),
                (x + 1 < side).then(|| i + 1),
                (y > 0).then(|| i - side),
                (y + 1 < side).then(|| i + side),
            ];
            for n in steps.into_iter().flatten() {
                if !seen[n] && skin[n] {
                    seen[n] = true;
                    queue.push_back(n);
                }
            }
        }
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, patch));
        }
    }
    best.map(|(_, patch)| patch)
}

/// The face's ellipse from its skin patch: from the patch's top down to where it narrows
/// into the neck, as wide as its widest row there. `None` when the patch is too small,
/// too large or of no face's shape.
fn face_of_patch(patch: &[usize], side: usize) -> Option<Face> {
    let mut rows = vec![(usize::MAX, 0usize, 0usize); side];
    for i in patch {
        let (x, y) = (i % side, i / side);
        let row = &mut rows[y];
        *row = (row.0.min(x), row.1.max(x + 1), row.2 + 1);
    }
    let width = |y: usize| rows[y].2;
    let top = (0..side).find(|y| width(*y) > 0)?;
    let last = (0..side).rev().find(|y| width(*y) > 0)?;
    // The widest row in the upper part of the patch (a face is wider than its neck, but
    // shoulders of the same colour could be wider still).
    let (widest, max_width) = (top..=last)
        .take_while(|y| *y <= top + 2 * side / 5)
        .map(|y| (y, width(y)))
        .max_by_key(|(_, w)| *w)?;
    let bottom = (widest..=last)
        .find(|y| (width(*y) as f32) < NECK_NARROWING * max_width as f32)
        .unwrap_or(last + 1);
    let face_rows = top..bottom;
    let pixels: usize = face_rows.clone().map(width).sum();
    let centre_x = face_rows
        .clone()
        .filter(|y| width(*y) > 0)
        .map(|y| (rows[y].0 + rows[y].1) as f32 / 2.0 * width(y) as f32)
        .sum::<f32>()
        / pixels.max(1) as f32;
    let s = side as f32;
    let face = Face {
        cx: centre_x / s,
        cy: (top + bottom) as f32 / 2.0 / s,
        rx: max_width as f32 / 2.0 / s,
        ry: (bottom - top) as f32 / 2.0 / s,
    };
    let aspect = face.ry / face.rx;
    // A face fills most of its ellipse (π/4 of its box); a thin ring of skin does not.
    let fill = pixels as f32 / (std::f32::consts::PI * face.rx * face.ry * s * s);
    let plausible = (MIN_HALF_WIDTH..=MAX_HALF_WIDTH).contains(&face.rx)
        && (0.6..=2.0).contains(&aspect)
        && fill > 0.55
        && (0.15..=0.85).contains(&face.cx)
        && (0.08..=0.7).contains(&face.cy);
    plausible.then_some(face)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(side: usize, colour: impl Fn(f32, f32) -> [f32; 3]) -> Vec<Plane> {
        (0..3)
            .map(|c| {
                Plane::from_fn(side, side, |x, y| {
                    colour(x as f32 / side as f32, y as f32 / side as f32)[c]
                })
            })
            .collect()
    }

    #[test]
    fn a_skin_oval_off_centre_is_found() {
        let small = picture(128, |x, y| {
            if ((x - 0.4) / 0.1).powi(2) + ((y - 0.3) / 0.13).powi(2) < 1.0 {
                [0.87, 0.68, 0.56]
            } else {
                [0.6, 0.62, 0.65]
            }
        });
        let face = find_face(&small).expect("a face");
        assert!((face.cx - 0.4).abs() < 0.02, "{face:?}");
        assert!((face.cy - 0.3).abs() < 0.02, "{face:?}");
        assert!((face.rx - 0.1).abs() < 0.02, "{face:?}");
        assert!((face.ry - 0.13).abs() < 0.02, "{face:?}");
    }

    #[test]
    fn grey_pictures_and_orange_clothes_have_no_face() {
        assert_eq!(find_face(&picture(128, |x, _| [x, x, x])), None);
        let orange = picture(128, |x, y| {
            if ((x - 0.5) / 0.12).powi(2) + ((y - 0.4) / 0.15).powi(2) < 1.0 {
                [0.95, 0.4, 0.15]
            } else {
                [0.2, 0.3, 0.5]
            }
        });
        assert_eq!(find_face(&orange), None);
    }
}
