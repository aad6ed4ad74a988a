//! Renders every kind of deliverable of the local stylizer into a directory, to look at:
//! for each input picture, the avatar in each style, the die-cut sticker (alone and on a
//! checkerboard), the speech bubble, and `overview.png`, all of them on one sheet; plus
//! the zip bundle of the first input's files. Prints how long each style took.
//!
//! `cargo run --release -p shared --example imaging_samples [output-dir] [picture...]`
//!
//! Without pictures it renders the drawn fixture `tests/fixtures/selfie.jpg`;
//! `infra/render-samples.sh` passes real photographs. Each picture gets a folder named
//! after its file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::imageops::{self, FilterType};
use image::{DynamicImage, Rgba, RgbaImage};
use shared::generation::imaging::{
    Deliverable, Quote, Stylized, add_speech_bubble, bundle_zip, decode_selfie, die_cut_sticker,
    encode_png, stylize,
};
use shared::generation::style::Style;

/// The border of the generate function's stickers.
const STICKER_BORDER_PX: u32 = 24;
const QUOTE: &str = "こんにちは、世界！ I'm Yui.";
/// Cell size on the overview sheet.
const CELL: u32 = 320;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "imaging-samples".to_owned()));
    let mut pictures: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if pictures.is_empty() {
        pictures
            .push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/selfie.jpg"));
    }
    let quote = Quote::parse(QUOTE)?;
    for (index, picture) in pictures.iter().enumerate() {
        let name = picture
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("picture");
        let out = dir.join(name);
        std::fs::create_dir_all(&out)?;
        let files = render(picture, &quote)?;
        for file in &files {
            std::fs::write(out.join(&file.file_name), &file.bytes)?;
        }
        if index == 0 {
            std::fs::write(out.join("bundle.zip"), bundle_zip(&files)?)?;
        }
        println!("wrote {} files to {}", files.len(), out.display());
    }
    Ok(())
}

fn render(picture: &Path, quote: &Quote) -> Result<Vec<Deliverable>, Box<dyn std::error::Error>> {
    let selfie = decode_selfie(&std::fs::read(picture)?)?;
    let mut files = vec![png("selfie.png", &selfie.to_rgba8())];
    let mut sheet_rows = vec![vec![square_thumbnail(&selfie)]];
    for style in Style::ALL {
        let started = Instant::now();
        let Stylized { avatar, subject } = stylize(&selfie, style);
        let stylized = started.elapsed();
        let sticker = die_cut_sticker(&subject, STICKER_BORDER_PX);
        let bubble = add_speech_bubble(&avatar, &subject, quote);
        let preview = on_checkerboard(&sticker);
        println!(
            "{}: {style} in {} ms (sticker and bubble {} ms more)",
            picture.display(),
            stylized.as_millis(),
            (started.elapsed() - stylized).as_millis()
        );
        sheet_rows.push(vec![
            thumbnail(&avatar),
            thumbnail(&preview),
            thumbnail(&bubble),
        ]);
        files.push(png(&format!("avatar-{style}.png"), &avatar));
        files.push(png(&format!("sticker-{style}.png"), &sticker));
        files.push(png(&format!("sticker-preview-{style}.png"), &preview));
        files.push(png(&format!("bubble-{style}.png"), &bubble));
    }
    files.push(png("overview.png", &sheet(&sheet_rows)));
    Ok(files)
}

fn png(file_name: &str, image: &RgbaImage) -> Deliverable {
    Deliverable {
        file_name: file_name.to_owned(),
        content_type: "image/png",
        bytes: encode_png(image),
    }
}

fn thumbnail(image: &RgbaImage) -> RgbaImage {
    imageops::resize(image, CELL, CELL, FilterType::Triangle)
}

/// The picture's centred square, as the stylizer sees it.
fn square_thumbnail(image: &DynamicImage) -> RgbaImage {
    let side = image.width().min(image.height());
    let square = image.crop_imm(
        (image.width() - side) / 2,
        (image.height() - side) / 2,
        side,
        side,
    );
    thumbnail(&square.to_rgba8())
}

/// Rows of cells on white: the input first, then a row per style (avatar, sticker,
/// bubble).
fn sheet(rows: &[Vec<RgbaImage>]) -> RgbaImage {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let gap = 8;
    let width = columns * (CELL + gap) + gap;
    let height = rows.len() as u32 * (CELL + gap) + gap;
    let mut sheet = RgbaImage::from_pixel(width, height, Rgba([255, 255, 255, 255]));
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let x = gap + c as u32 * (CELL + gap);
            let y = gap + r as u32 * (CELL + gap);
            imageops::overlay(&mut sheet, cell, i64::from(x), i64::from(y));
        }
    }
    sheet
}

/// The sticker over a grey checkerboard, the way image editors show transparency, so
/// its white border is visible.
fn on_checkerboard(sticker: &RgbaImage) -> RgbaImage {
    let mut preview = RgbaImage::from_fn(sticker.width(), sticker.height(), |x, y| {
        let shade = if (x / 32 + y / 32) % 2 == 0 { 120 } else { 160 };
        Rgba([shade, shade, shade, 255])
    });
    imageops::overlay(&mut preview, sticker, 0, 0);
    preview
}
