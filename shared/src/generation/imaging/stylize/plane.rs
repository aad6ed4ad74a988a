//! Single-channel float images and the few filters the local stylizer is built from.
//!
//! Values are 0–1 (colour channels, masks, line strengths). Every filter here costs the
//! same whatever its radius (running sums) or is only used with small radii, so the
//! stylizer's time does not grow with how soft a look is.

/// One channel of a picture, row by row.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

/// A colour picture as three planes (red, green, blue).
pub(super) type Rgb = [Plane; 3];

impl Plane {
    #[cfg(test)]
    pub(super) fn filled(width: usize, height: usize, value: f32) -> Self {
        Self {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    pub(super) fn from_fn(
        width: usize,
        height: usize,
        mut value: impl FnMut(usize, usize) -> f32,
    ) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                data.push(value(x, y));
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }

    pub(super) fn height(&self) -> usize {
        self.height
    }

    pub(super) fn get(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    #[cfg(test)]
    pub(super) fn set(&mut self, x: usize, y: usize, value: f32) {
        self.data[y * self.width + x] = value;
    }

    pub(super) fn values(&self) -> &[f32] {
        &self.data
    }

    pub(super) fn values_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    pub(super) fn map(&self, f: impl Fn(f32) -> f32) -> Self {
        Self {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|v| f(*v)).collect(),
        }
    }

    pub(super) fn zip(&self, other: &Self, f: impl Fn(f32, f32) -> f32) -> Self {
        debug_assert_eq!((self.width, self.height), (other.width, other.height));
        Self {
            width: self.width,
            height: self.height,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(a, b)| f(*a, *b))
                .collect(),
        }
    }

    pub(super) fn mean(&self) -> f32 {
        let sum: f64 = self.data.iter().map(|v| f64::from(*v)).sum();
        (sum / self.data.len().max(1) as f64) as f32
    }

    /// Bilinear sample at (x, y) in pixel units, pixel (i, j) covering [i, i+1)×[j, j+1);
    /// outside the picture the nearest edge pixel is repeated.
    pub(super) fn sample(&self, x: f32, y: f32) -> f32 {
        let fx = (x - 0.5).clamp(0.0, (self.width - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (fx as usize, fy as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let top = self.get(x0, y0) + (self.get(x1, y0) - self.get(x0, y0)) * tx;
        let bottom = self.get(x0, y1) + (self.get(x1, y1) - self.get(x0, y1)) * tx;
        top + (bottom - top) * ty
    }

    /// Resized: averaged first when shrinking (no aliasing), bilinear otherwise.
    pub(super) fn resize(&self, width: usize, height: usize) -> Self {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let (sx, sy) = (
            self.width as f32 / width as f32,
            self.height as f32 / height as f32,
        );
        let shrink = sx.max(sy);
        let source = if shrink >= 2.0 {
            box_blur(self, (shrink / 2.0) as usize)
        } else {
            self.clone()
        };
        Self::from_fn(width, height, |x, y| {
            source.sample((x as f32 + 0.5) * sx, (y as f32 + 0.5) * sy)
        })
    }
}

/// The mean over the (2r+1)² window around each pixel; near the edges, over the part of
/// the window inside the picture.
pub(super) fn box_blur(plane: &Plane, radius: usize) -> Plane {
    if radius == 0 {
        return plane.clone();
    }
    let (width, height) = (plane.width, plane.height);
    let mut out = plane.clone();
    let mut line = Vec::new();
    let mut blurred = Vec::new();
    for y in 0..height {
        line.clear();
        line.extend_from_slice(&out.data[y * width..(y + 1) * width]);
        running_mean(&line, radius, &mut blurred);
        out.data[y * width..(y + 1) * width].copy_from_slice(&blurred);
    }
    for x in 0..width {
        line.clear();
        line.extend((0..height).map(|y| out.data[y * width + x]));
        running_mean(&line, radius, &mut blurred);
        for (y, value) in blurred.iter().enumerate() {
            out.data[y * width + x] = *value;
        }
    }
    out
}

/// `out[i]` = the mean of `line[i-r..=i+r]` clipped to the line, in one pass.
fn running_mean(line: &[f32], radius: usize, out: &mut Vec<f32>) {
    out.clear();
    let len = line.len();
    let mut sum: f64 = line[..radius.min(len)].iter().map(|v| f64::from(*v)).sum();
    for i in 0..len {
        if i + radius < len {
            sum += f64::from(line[i + radius]);
        }
        if i > radius {
            sum -= f64::from(line[i - radius - 1]);
        }
        let count = (i + radius).min(len - 1) + 1 - i.saturating_sub(radius);
        out.push((sum / count as f64) as f32);
    }
}

/// A Gaussian blur: an exact kernel for small sigmas, three box passes (which converge on
/// a Gaussian) for large ones, so a wide blur costs no more than a narrow one.
pub(super) fn gaussian_blur(plane: &Plane, sigma: f32) -> Plane {
    if sigma <= 0.0 {
        return plane.clone();
    }
    if sigma > 3.0 {
        // Three boxes of width w have variance 3(w²-1)/12.
        let radius = (((4.0 * sigma * sigma + 1.0).sqrt() - 1.0) / 2.0).round() as usize;
        return box_blur(&box_blur(&box_blur(plane, radius), radius), radius);
    }
    let reach = (3.0 * sigma).ceil() as usize;
    let mut kernel: Vec<f32> = (0..=2 * reach)
        .map(|i| {
            let d = i as f32 - reach as f32;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= total);
    let (width, height) = (plane.width, plane.height);
    let convolve = |at: &dyn Fn(isize) -> f32, i: usize| -> f32 {
        kernel
            .iter()
            .enumerate()
            .map(|(k, weight)| weight * at(i as isize + k as isize - reach as isize))
            .sum()
    };
    let horizontal = Plane::from_fn(width, height, |x, y| {
        let row = &plane.data[y * width..(y + 1) * width];
        convolve(&|i| row[i.clamp(0, width as isize - 1) as usize], x)
    });
    Plane::from_fn(width, height, |x, y| {
        convolve(
            &|i| horizontal.data[i.clamp(0, height as isize - 1) as usize * width + x],
            y,
        )
    })
}

/// He, Sun and Tang's guided filter of `input` by `guide`: within each window the output
/// is a linear function of the guide, so edges of the guide survive while variations
/// smaller than sqrt(`eps`) are averaged away. Guided by itself it is an edge-preserving
/// smoother (skin texture goes, the outline of an eye stays); guided by a photo, a rough
/// mask snaps to the photo's edges.
pub(super) fn guided_filter(guide: &Plane, input: &Plane, radius: usize, eps: f32) -> Plane {
    let mean_guide = box_blur(guide, radius);
    let mean_input = box_blur(input, radius);
    let correlation = box_blur(&guide.zip(input, |g, p| g * p), radius);
    let mean_square = box_blur(&guide.map(|g| g * g), radius);
    let mut slope = correlation.clone();
    let mut offset = correlation;
    for i in 0..slope.data.len() {
        let (mg, mp) = (mean_guide.data[i], mean_input.data[i]);
        let variance = (mean_square.data[i] - mg * mg).max(0.0);
        let a = (slope.data[i] - mg * mp) / (variance + eps);
        slope.data[i] = a;
        offset.data[i] = mp - a * mg;
    }
    let slope = box_blur(&slope, radius);
    let offset = box_blur(&offset, radius);
    Plane::from_fn(guide.width, guide.height, |x, y| {
        let i = y * guide.width + x;
        slope.data[i] * guide.data[i] + offset.data[i]
    })
}

pub(super) fn luma(rgb: &Rgb) -> Plane {
    Plane::from_fn(rgb[0].width, rgb[0].height, |x, y| {
        0.299 * rgb[0].get(x, y) + 0.587 * rgb[1].get(x, y) + 0.114 * rgb[2].get(x, y)
    })
}

pub(super) fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_blur_averages_and_keeps_flat_areas() {
        let flat = Plane::filled(9, 7, 0.25);
        assert_eq!(box_blur(&flat, 3), flat);
        let spike = Plane::from_fn(5, 1, |x, _| if x == 2 { 1.0 } else { 0.0 });
        let blurred = box_blur(&spike, 1);
        assert!((blurred.get(1, 0) - 1.0 / 3.0).abs() < 1e-6);
        assert!((blurred.get(0, 0)).abs() < 1e-6);
    }

    #[test]
    fn gaussian_blur_keeps_the_mean() {
        let step = Plane::from_fn(64, 64, |x, _| if x < 32 { 0.0 } else { 1.0 });
        for sigma in [0.8, 2.0, 6.0] {
            let blurred = gaussian_blur(&step, sigma);
            assert!((blurred.mean() - 0.5).abs() < 0.01, "{sigma}");
            assert!(blurred.get(31, 10) > 0.05 && blurred.get(31, 10) < 0.5);
        }
    }

    #[test]
    fn guided_filter_smooths_texture_but_keeps_a_strong_edge() {
        let textured = Plane::from_fn(64, 64, |x, y| {
            let base = if x < 32 { 0.2 } else { 0.8 };
            base + if (x + y) % 2 == 0 { 0.03 } else { -0.03 }
        });
        let smoothed = guided_filter(&textured, &textured, 4, 0.01);
        assert!(
            (smoothed.get(10, 10) - smoothed.get(11, 10)).abs() < 0.01,
            "texture"
        );
        assert!(
            smoothed.get(28, 10) < 0.3 && smoothed.get(35, 10) > 0.7,
            "edge"
        );
    }

    #[test]
    fn resize_samples_pixel_centres() {
        let ramp = Plane::from_fn(4, 4, |x, _| x as f32);
        let bigger = ramp.resize(8, 8);
        assert!((bigger.get(0, 0) - 0.0).abs() < 1e-6);
        assert!((bigger.get(3, 0) - 1.25).abs() < 1e-6);
        let smaller = Plane::filled(40, 40, 0.5).resize(10, 10);
        assert!(smaller.values().iter().all(|v| (v - 0.5).abs() < 1e-6));
    }
}
