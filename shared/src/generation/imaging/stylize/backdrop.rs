//! What goes behind the person: a calm version of the photo's background, a pastel
//! pattern, or watercolour paper; and the deterministic noise that paper and washes are
//! made of.

use super::plane::{Plane, Rgb, gaussian_blur};

/// The photo's background with the person taken out and the gap filled from around it,
/// then blurred into soft shapes: a normalised convolution (the blur of the background
/// divided by the blur of its weight), worked small because it is blurred anyway.
pub(super) fn background_plate(photo: &Rgb, mask: &Plane, width: usize, height: usize) -> Rgb {
    let side = 64.min(photo[0].width());
    let weight = mask.resize(side, side).map(|m| (1.0 - m).powi(2));
    let spread = side as f32 * 0.06;
    let total = gaussian_blur(&weight, spread);
    // Where the person fills the blur's whole reach, a far wider one fills in.
    let wide_total = gaussian_blur(&weight, spread * 4.0);
    [0, 1, 2].map(|c| {
        let small = photo[c].resize(side, side);
        let weighted = small.zip(&weight, |c, w| c * w);
        let near = gaussian_blur(&weighted, spread);
        let far = gaussian_blur(&weighted, spread * 4.0);
        let filled = Plane::from_fn(side, side, |x, y| {
            let far_value = far.get(x, y) / wide_total.get(x, y).max(1e-4);
            let t = total.get(x, y);
            let near_value = near.get(x, y) / t.max(1e-4);
            // Trust the near estimate where enough background is near.
            let trust = (t / 0.15).min(1.0);
            near_value * trust + far_value * (1.0 - trust)
        });
        gaussian_blur(&filled, side as f32 / 64.0).resize(width, height)
    })
}

/// A hash of integer coordinates to 0–1: the same everywhere and every time.
fn hash(x: i32, y: i32, seed: u32) -> f32 {
    let mut h = (x as u32)
        .wrapping_mul(0x8da6_b343)
        .wrapping_add((y as u32).wrapping_mul(0xd816_3841))
        .wrapping_add(seed.wrapping_mul(0xcb1a_b31f));
    h ^= h >> 13;
    h = h.wrapping_mul(0x5bd1_e995);
    h ^= h >> 15;
    (h & 0x00ff_ffff) as f32 / 16_777_215.0
}

/// Smooth value noise: hashes on a lattice `cell` pixels apart, blended with smoothstep.
fn value_noise(x: f32, y: f32, cell: f32, seed: u32) -> f32 {
    let (gx, gy) = (x / cell, y / cell);
    let (x0, y0) = (gx.floor(), gy.floor());
    let (tx, ty) = (gx - x0, gy - y0);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (ix, iy) = (x0 as i32, y0 as i32);
    let top = hash(ix, iy, seed) + (hash(ix + 1, iy, seed) - hash(ix, iy, seed)) * sx;
    let bottom =
        hash(ix, iy + 1, seed) + (hash(ix + 1, iy + 1, seed) - hash(ix, iy + 1, seed)) * sx;
    top + (bottom - top) * sy
}

/// Noise with detail at several scales, 0–1 around 0.5; `cell` is the coarsest scale.
pub(super) fn cloudy_noise(width: usize, height: usize, cell: f32, seed: u32) -> Plane {
    Plane::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let mut sum = 0.0;
        let mut amplitude = 0.5;
        let mut scale = cell;
        for octave in 0..3 {
            sum += amplitude * value_noise(fx, fy, scale, seed + octave);
            amplitude *= 0.5;
            scale *= 0.5;
        }
        sum / 0.875
    })
}

/// Watercolour paper, as a brightness factor around 1: cold-press tooth (fine cloudy
/// bumps) plus a faint grain, at `width`×`height`.
pub(super) fn paper_texture(width: usize, height: usize, strength: f32) -> Plane {
    let scale = width as f32 / 1024.0;
    let tooth =
        cloudy_noise(width.div_ceil(2), height.div_ceil(2), 6.0 * scale, 7).resize(width, height);
    Plane::from_fn(width, height, |x, y| {
        let grain = hash(x as i32, y as i32, 11) - 0.5;
        1.0 - strength * (0.6 * (1.0 - tooth.get(x, y)) + 0.25 * grain + 0.1)
    })
}

/// A pastel backdrop for the chibi look: a soft vertical gradient of `base` with a grid
/// of lighter polka dots, anti-aliased.
pub(super) fn polka_dots(width: usize, height: usize, base: [f32; 3]) -> Rgb {
    let side = width.min(height) as f32;
    let spacing = side / 7.0;
    let radius = spacing * 0.2;
    let dot = Plane::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let row = (fy / spacing).floor();
        // Every other row shifted by half a step: the classic staggered pattern.
        let shift = if row as i32 % 2 == 0 { 0.0 } else { 0.5 };
        let cx = ((fx / spacing - shift).floor() + 0.5 + shift) * spacing;
        let cy = (row + 0.5) * spacing;
        let distance = ((fx - cx).powi(2) + (fy - cy).powi(2)).sqrt();
        (radius - distance + 0.5).clamp(0.0, 1.0)
    });
    [0, 1, 2].map(|c| {
        Plane::from_fn(width, height, |x, y| {
            let gradient = 1.0 - 0.08 * (y as f32 / height as f32);
            let shade = base[c] * gradient;
            shade + (1.0 - shade) * 0.55 * dot.get(x, y)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_and_spread() {
        let a = cloudy_noise(64, 64, 16.0, 3);
        assert_eq!(a, cloudy_noise(64, 64, 16.0, 3));
        let (low, high) = a
            .values()
            .iter()
            .fold((1f32, 0f32), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(low < 0.35 && high > 0.65, "{low}..{high}");
    }

    #[test]
    fn the_plate_fills_the_person_with_the_background() {
        // A grey backdrop with a red person in the middle: the plate is grey throughout.
        let side = 128;
        let person = Plane::from_fn(side, side, |x, y| {
            if (32..96).contains(&x) && y > 30 {
                1.0
            } else {
                0.0
            }
        });
        let red = person.map(|m| 0.4 + 0.5 * m);
        let grey = Plane::filled(side, side, 0.4);
        let plate = background_plate(&[red, grey.clone(), grey], &person, side, side);
        assert!(
            (plate[0].get(64, 100) - 0.4).abs() < 0.05,
            "{}",
            plate[0].get(64, 100)
        );
    }
}
