//! Deliverables and the zip bundle that carries them all in one download.

use std::io::{Cursor, Write};

use image::RgbaImage;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The longest file name kept in a bundle (longer ones are cut, extension kept).
const MAX_FILE_NAME_CHARS: usize = 100;

/// One file handed to a person: an avatar, a sticker, a bundle.
#[derive(Clone, PartialEq, Eq)]
pub struct Deliverable {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Deliverable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverable")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("a bundle needs at least one file")]
    Empty,
    #[error("writing the zip failed")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the zip failed")]
    Io(#[from] std::io::Error),
}

/// The image as a PNG (lossless, keeps transparency).
pub fn encode_png(image: &RgbaImage) -> Vec<u8> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgba8,
        )
        // An RgbaImage's buffer always matches its size, and writing to a Vec cannot
        // fail, so the encoder has nothing to refuse.
        .expect("encoding an RgbaImage to PNG in memory cannot fail");
    png
}

/// A zip of `files`, compressed with deflate. Names are made safe (no paths, no
/// surprises in any unzip tool) and unique; every entry carries the same fixed
/// timestamp and permissions, so the same files always give the same bytes.
pub fn bundle_zip(files: &[Deliverable]) -> Result<Vec<u8>, BundleError> {
    if files.is_empty() {
        return Err(BundleError::Empty);
    }
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut used = Vec::with_capacity(files.len());
    for file in files {
        let name = unique_name(sanitize_file_name(&file.file_name), &used);
        zip.start_file(name.as_str(), options)?;
        zip.write_all(&file.bytes)?;
        used.push(name);
    }
    Ok(zip.finish()?.into_inner())
}

/// Keeps ASCII letters, digits, '-', '_' and '.', replaces anything else with '_',
/// drops leading dots (hidden files, "..") and caps the length.
fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    let (stem, extension) = split_extension(cleaned);
    let room = MAX_FILE_NAME_CHARS.saturating_sub(extension.len());
    let stem: String = stem.chars().take(room).collect();
    if stem.is_empty() {
        format!("file{extension}")
    } else {
        format!("{stem}{extension}")
    }
}

/// ("avatar", ".png") from "avatar.png"; the extension is empty when there is none
/// or when it is implausibly long.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 8 => name.split_at(dot),
        _ => (name, ""),
    }
}

/// `name`, or `name-2`, `name-3`... before the extension, whichever is not taken yet.
fn unique_name(name: String, used: &[String]) -> String {
    if !used.contains(&name) {
        return name;
    }
    let (stem, extension) = split_extension(&name);
    (2..)
        .map(|n| format!("{stem}-{n}{extension}"))
        .find(|candidate| !used.contains(candidate))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    use image::Rgba;

    fn deliverable(name: &str, bytes: &[u8]) -> Deliverable {
        Deliverable {
            file_name: name.to_owned(),
            content_type: "image/png",
            bytes: bytes.to_vec(),
        }
    }

    fn entries(zip_bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).unwrap();
                assert_eq!(file.compression(), CompressionMethod::Deflated);
                (file.name().unwrap().into_owned(), bytes)
            })
            .collect()
    }

    #[test]
    fn png_round_trips_with_transparency() {
        let mut image = RgbaImage::from_pixel(3, 2, Rgba([10, 20, 30, 255]));
        image.put_pixel(1, 1, Rgba([0, 0, 0, 0]));
        let png = encode_png(&image);
        assert!(png.starts_with(b"\x89PNG"));
        let decoded = image::load_from_memory(&png).unwrap().into_rgba8();
        assert_eq!(decoded, image);
    }

    #[test]
    fn bundle_round_trips_through_zip_archive() {
        let avatar = encode_png(&RgbaImage::from_pixel(16, 16, Rgba([200, 100, 50, 255])));
        let files = [
            deliverable("avatar-anime.png", &avatar),
            deliverable("sticker.png", b"sticker bytes"),
            deliverable("README.txt", &b"hello ".repeat(100)),
        ];
        let zip = bundle_zip(&files).unwrap();
        let unpacked = entries(&zip);
        assert_eq!(unpacked.len(), 3);
        for (file, (name, bytes)) in files.iter().zip(&unpacked) {
            assert_eq!(name, &file.file_name);
            assert_eq!(bytes, &file.bytes);
        }
        assert!(zip.len() < 600 + avatar.len(), "deflated: {}", zip.len());
    }

    #[test]
    fn bundles_are_deterministic() {
        let files = [deliverable("a.png", b"aaaa"), deliverable("b.png", b"bbbb")];
        let first = bundle_zip(&files).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(first, bundle_zip(&files).unwrap());
        let mut archive = zip::ZipArchive::new(Cursor::new(&first)).unwrap();
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.last_modified(), Some(DateTime::default()));
    }

    #[test]
    fn names_are_sanitized_and_made_unique() {
        let files = [
            deliverable("../../etc/passwd", b"1"),
            deliverable("C:\\Users\\yui\\avatar.png", b"2"),
            deliverable("avatar.png", b"3"),
            deliverable(".hidden", b"4"),
            deliverable("ユイのアバター.png", b"5"),
            deliverable("", b"6"),
            deliverable(&format!("{}.png", "x".repeat(300)), b"7"),
        ];
        let names: Vec<String> = entries(&bundle_zip(&files).unwrap())
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names[0], "passwd");
        assert_eq!(names[1], "avatar.png");
        assert_eq!(names[2], "avatar-2.png");
        assert_eq!(names[3], "hidden");
        assert_eq!(names[4], "_______.png");
        assert_eq!(names[5], "file");
        assert_eq!(names[6], format!("{}.png", "x".repeat(96)));
    }

    #[test]
    fn an_empty_bundle_is_refused() {
        assert!(matches!(bundle_zip(&[]), Err(BundleError::Empty)));
    }
}
