//! Writes `tests/fixtures/selfie.jpg`: a 1024×1024 JPEG that looks like a simple
//! head-and-shoulders portrait (face, hair, eyes, mouth, neck, shirt, a gradient
//! background and a little sensor-like noise), for the system tests and the stylizer
//! benchmark. No photograph of anyone is involved. Also writes
//! `tests/fixtures/not-an-image.jpg` (text with an image's name).
//!
//! `cargo run -p shared --example make_test_selfie [output-dir]`

use std::path::PathBuf;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_ellipse_mut, draw_polygon_mut};
use imageproc::point::Point;

const SIZE: u32 = 1024;
/// Drawn at twice the size and scaled down, which anti-aliases every edge.
const SUPERSAMPLE: u32 = 2;
const JPEG_QUALITY: u8 = 85;

const SKIN: [u8; 3] = [236, 192, 160];
const SKIN_SHADE: [u8; 3] = [214, 160, 128];
const HAIR: [u8; 3] = [58, 38, 30];
const SHIRT: [u8; 3] = [48, 92, 150];
const IRIS: [u8; 3] = [92, 58, 40];
const LIPS: [u8; 3] = [196, 96, 100];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures"));
    std::fs::create_dir_all(&dir)?;

    let portrait = imageops::resize(&draw_portrait(), SIZE, SIZE, FilterType::Triangle);
    let portrait = add_noise(portrait);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY).encode_image(&portrait)?;
    std::fs::write(dir.join("selfie.jpg"), &jpeg)?;
    std::fs::write(
        dir.join("not-an-image.jpg"),
        "This file is named like a JPEG but holds text: uploads are judged by their bytes.\n",
    )?;
    println!("selfie.jpg: {} bytes", jpeg.len());
    Ok(())
}

/// The portrait at `SIZE * SUPERSAMPLE`, in painter's order (back to front).
fn draw_portrait() -> RgbImage {
    let side = SIZE * SUPERSAMPLE;
    let mut canvas = RgbImage::from_fn(side, side, |_, y| {
        let t = y as f32 / side as f32;
        let mix = |top: f32, bottom: f32| (top + (bottom - top) * t) as u8;
        Rgb([mix(168.0, 214.0), mix(204.0, 196.0), mix(232.0, 226.0)])
    });
    let s = side as f32;
    let mut ellipse = |cx: f32, cy: f32, rx: f32, ry: f32, colour: [u8; 3]| {
        draw_filled_ellipse_mut(
            &mut canvas,
            ((cx * s) as i32, (cy * s) as i32),
            (rx * s) as i32,
            (ry * s) as i32,
            Rgb(colour),
        );
    };
    ellipse(0.50, 0.99, 0.42, 0.27, SHIRT); // shoulders
    ellipse(0.50, 0.43, 0.245, 0.29, HAIR); // hair behind the head
    ellipse(0.50, 0.56, 0.225, 0.14, HAIR); // hair falling to the shoulders
    ellipse(0.50, 0.69, 0.065, 0.10, SKIN_SHADE); // neck
    ellipse(0.50, 0.43, 0.185, 0.245, SKIN); // face
    ellipse(0.50, 0.285, 0.20, 0.10, HAIR); // fringe
    for side_x in [0.42, 0.58] {
        ellipse(side_x, 0.385, 0.04, 0.008, HAIR); // eyebrow
        ellipse(side_x, 0.43, 0.038, 0.022, [250, 250, 248]); // eye white
        ellipse(side_x, 0.43, 0.018, 0.02, IRIS);
        ellipse(side_x, 0.43, 0.009, 0.01, [20, 14, 12]); // pupil
        ellipse(side_x + 0.007, 0.423, 0.004, 0.004, [255, 255, 255]); // highlight
        ellipse(side_x, 0.50, 0.03, 0.015, [240, 168, 160]); // cheek
    }
    ellipse(0.50, 0.49, 0.012, 0.02, SKIN_SHADE); // nose
    ellipse(0.50, 0.56, 0.045, 0.014, LIPS); // mouth
    ellipse(0.50, 0.555, 0.045, 0.006, [150, 60, 70]); // lips' parting
    // The shirt's V-neck, showing skin.
    let point = |x: f32, y: f32| Point::new((x * s) as i32, (y * s) as i32);
    draw_polygon_mut(
        &mut canvas,
        &[point(0.44, 0.745), point(0.56, 0.745), point(0.50, 0.84)],
        Rgb(SKIN_SHADE),
    );
    canvas
}

/// A little deterministic noise, as a phone camera leaves, so the stylizer's smoothing
/// has something to do.
fn add_noise(mut image: RgbImage) -> RgbImage {
    let mut state = 0x9E37_79B9_u32;
    for pixel in image.pixels_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 9) as i16 - 4;
        pixel.0 = pixel.0.map(|c| (i16::from(c) + noise).clamp(0, 255) as u8);
    }
    image
}
