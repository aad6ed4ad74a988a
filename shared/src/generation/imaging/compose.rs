//! Pixel compositing shared by the sticker and the speech bubble.

use image::Rgba;

/// Paints an opaque colour over `dst` with the given coverage (0–1), the Porter–Duff
/// "over" operator on straight (not premultiplied) alpha, so it is right on transparent
/// canvases (stickers) as well as opaque ones.
pub(crate) fn paint_over(dst: &mut Rgba<u8>, colour: [u8; 3], coverage: f32) {
    let coverage = coverage.clamp(0.0, 1.0);
    if coverage <= 0.0 {
        return;
    }
    let dst_alpha = f32::from(dst.0[3]) / 255.0;
    let out_alpha = coverage + dst_alpha * (1.0 - coverage);
    for (channel, source) in dst.0.iter_mut().zip(colour) {
        let mixed =
            f32::from(source) * coverage + f32::from(*channel) * dst_alpha * (1.0 - coverage);
        *channel = (mixed / out_alpha).round().clamp(0.0, 255.0) as u8;
    }
    dst.0[3] = (out_alpha * 255.0).round() as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_coverage_replaces_and_none_keeps() {
        let mut pixel = Rgba([10, 20, 30, 40]);
        paint_over(&mut pixel, [200, 100, 0], 0.0);
        assert_eq!(pixel, Rgba([10, 20, 30, 40]));
        paint_over(&mut pixel, [200, 100, 0], 1.0);
        assert_eq!(pixel, Rgba([200, 100, 0, 255]));
    }

    #[test]
    fn half_coverage_on_transparent_keeps_the_colour_at_half_alpha() {
        let mut pixel = Rgba([0, 0, 0, 0]);
        paint_over(&mut pixel, [255, 255, 255], 0.5);
        assert_eq!(pixel, Rgba([255, 255, 255, 128]));
        let mut opaque = Rgba([0, 0, 0, 255]);
        paint_over(&mut opaque, [255, 255, 255], 0.5);
        assert_eq!(opaque, Rgba([128, 128, 128, 255]));
    }
}
