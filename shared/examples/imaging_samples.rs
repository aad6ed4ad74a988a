//! Renders every kind of deliverable from `tests/fixtures/selfie.jpg` into a directory,
//! to look at: the avatar in each style, the die-cut sticker, the speech bubble and the
//! zip bundle of them all.
//!
//! `cargo run --release -p shared --example imaging_samples [output-dir] [quote]`

use std::path::PathBuf;

use shared::generation::imaging::{
    Deliverable, Quote, add_speech_bubble, bundle_zip, decode_selfie, die_cut_sticker, encode_png,
    portrait_mask, stylize, with_mask,
};
use shared::generation::style::Style;

use image::{Rgba, RgbaImage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "imaging-samples".to_owned()));
    let quote = Quote::parse(
        &args
            .next()
            .unwrap_or_else(|| "こんにちは、世界！ I'm Yui.".to_owned()),
    )?;
    std::fs::create_dir_all(&dir)?;

    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/selfie.jpg");
    let selfie = decode_selfie(&std::fs::read(fixture)?)?;
    let mut deliverables = vec![Deliverable {
        file_name: "selfie.png".to_owned(),
        content_type: "image/png",
        bytes: encode_png(&selfie.to_rgba8()),
    }];
    for style in Style::ALL {
        let avatar = stylize(&selfie, style);
        let sticker = die_cut_sticker(&with_mask(&avatar, &portrait_mask(avatar.width())), 24);
        let renders = [
            (format!("avatar-{style}.png"), avatar.clone()),
            (format!("sticker-{style}.png"), sticker.clone()),
            (
                format!("bubble-{style}.png"),
                add_speech_bubble(&avatar, &quote),
            ),
            (
                format!("sticker-bubble-{style}.png"),
                add_speech_bubble(&sticker, &quote),
            ),
            (
                format!("sticker-preview-{style}.png"),
                on_checkerboard(&sticker),
            ),
        ];
        for (file_name, image) in renders {
            deliverables.push(Deliverable {
                file_name,
                content_type: "image/png",
                bytes: encode_png(&image),
            });
        }
    }
    for file in &deliverables {
        std::fs::write(dir.join(&file.file_name), &file.bytes)?;
    }
    std::fs::write(dir.join("bundle.zip"), bundle_zip(&deliverables)?)?;
    println!(
        "wrote {} files to {}",
        deliverables.len() + 1,
        dir.display()
    );
    Ok(())
}

/// The sticker over a grey checkerboard, the way image editors show transparency, so
/// its white border is visible.
fn on_checkerboard(sticker: &RgbaImage) -> RgbaImage {
    let mut preview = RgbaImage::from_fn(sticker.width(), sticker.height(), |x, y| {
        let shade = if (x / 32 + y / 32) % 2 == 0 { 120 } else { 160 };
        Rgba([shade, shade, shade, 255])
    });
    image::imageops::overlay(&mut preview, sticker, 0, 0);
    preview
}
