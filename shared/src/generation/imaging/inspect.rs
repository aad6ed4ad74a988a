//! Checking uploaded selfies. What a file is comes from its bytes (the format's signature
//! and header), never from its name or the content type the client claimed: both are
//! whatever the uploader says.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The longest side accepted, in pixels. Phone cameras stay well below it.
pub const MAX_SIDE: u32 = 8000;
/// The most pixels accepted. Together with `MAX_SIDE` this refuses decompression bombs:
/// a few kilobytes of PNG can claim gigabytes of pixels.
pub const MAX_PIXELS: u64 = 40_000_000;

/// The decoder may allocate the decoded picture (4 bytes a pixel at most for these
/// formats) plus working space; anything beyond is a malformed file, not a selfie.
const MAX_DECODE_ALLOC: u64 = MAX_PIXELS * 4 + 64 * 1024 * 1024;

/// The formats a selfie may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    Jpeg,
    Png,
    WebP,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    /// The usual file-name extension, for keys and downloads.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }

    fn from_format(format: ImageFormat) -> Option<Self> {
        match format {
            ImageFormat::Jpeg => Some(Self::Jpeg),
            ImageFormat::Png => Some(Self::Png),
            ImageFormat::WebP => Some(Self::WebP),
            _ => None,
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// What an accepted selfie is, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageKind,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageCheckError {
    #[error("the file is not an image")]
    NotAnImage,
    #[error("{format} images are not accepted; send a JPEG, PNG or WebP picture")]
    UnsupportedFormat { format: &'static str },
    #[error("the image is incomplete (the file was cut short)")]
    Truncated,
    #[error("the image is damaged")]
    Corrupt(#[source] image::ImageError),
    #[error("the image has no pixels")]
    Empty,
    #[error(
        "the image is {width}×{height} pixels; at most {MAX_SIDE} a side and {} megapixels \
         are accepted",
        MAX_PIXELS / 1_000_000
    )]
    TooLarge { width: u32, height: u32 },
}

impl ImageCheckError {
    /// The stable error code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnImage => "not_an_image",
            Self::UnsupportedFormat { .. } => "unsupported_image_format",
            Self::Truncated => "image_truncated",
            Self::Corrupt(_) => "image_corrupt",
            Self::Empty => "image_empty",
            Self::TooLarge { .. } => "image_too_large",
        }
    }
}

/// Decides whether `bytes` are an acceptable selfie from the format signature, the
/// header and the file's structure, without decoding the pixels (cheap enough to run
/// on every upload).
pub fn inspect_image(bytes: &[u8]) -> Result<ImageInfo, ImageCheckError> {
    let format = sniff_format(bytes)?;
    if !is_complete(format, bytes) {
        return Err(ImageCheckError::Truncated);
    }
    let reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let (width, height) = reader.into_dimensions().map_err(ImageCheckError::Corrupt)?;
    check_dimensions(width, height)?;
    Ok(ImageInfo {
        format,
        width,
        height,
    })
}

/// Decodes a selfie after the checks of `inspect_image`, upright: phones store portraits
/// as rotated pixels plus an EXIF orientation tag, which is applied here.
pub fn decode_selfie(bytes: &[u8]) -> Result<DynamicImage, ImageCheckError> {
    let info = inspect_image(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), info.format.image_format());
    reader.limits(decode_limits());
    let mut decoder = reader.into_decoder().map_err(ImageCheckError::Corrupt)?;
    // A broken EXIF block is no reason to refuse the picture: show it as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(ImageCheckError::Corrupt)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// The format named by the file's leading signature bytes.
fn sniff_format(bytes: &[u8]) -> Result<ImageKind, ImageCheckError> {
    let format = image::guess_format(bytes).map_err(|_| ImageCheckError::NotAnImage)?;
    ImageKind::from_format(format).ok_or(ImageCheckError::UnsupportedFormat {
        format: format.extensions_str().first().copied().unwrap_or("this"),
    })
}

/// Whether the file reaches its format's end: JPEG's end-of-image marker after the
/// compressed scans, PNG's IEND chunk, the whole RIFF container of a WebP. This catches
/// uploads cut off in transit, which the JPEG decoder would otherwise accept and fill
/// with grey. Data after the end (phones append videos to "motion photos") is allowed.
fn is_complete(kind: ImageKind, bytes: &[u8]) -> bool {
    match kind {
        ImageKind::Jpeg => jpeg_reaches_end(bytes),
        ImageKind::Png => png_reaches_end(bytes),
        ImageKind::WebP => webp_reaches_end(bytes),
    }
}

/// Walks the JPEG marker segments from the start-of-image marker, skipping each
/// segment by its length and each scan's entropy-coded data (where 0xFF is always
/// followed by 0x00 or a restart marker), until the end-of-image marker.
fn jpeg_reaches_end(bytes: &[u8]) -> bool {
    const END_OF_IMAGE: u8 = 0xD9;
    const START_OF_SCAN: u8 = 0xDA;
    let mut at = 2; // past the start-of-image marker
    loop {
        if bytes.get(at) != Some(&0xFF) {
            return false;
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        while bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = bytes.get(at + 1) else {
            return false;
        };
        match marker {
            END_OF_IMAGE => return true,
            // Markers without a segment: restarts and TEM.
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                let Some(length) = bytes.get(at + 2..at + 4) else {
                    return false;
                };
                let segment_end = at + 2 + usize::from(u16::from_be_bytes([length[0], length[1]]));
                at = if marker == START_OF_SCAN {
                    match next_marker_after_scan(bytes, segment_end) {
                        Some(next) => next,
                        None => return false,
                    }
                } else {
                    segment_end
                };
            }
        }
    }
}

/// The position of the first marker after entropy-coded data starting at `from`.
fn next_marker_after_scan(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + 1 < bytes.len() {
        if bytes[at] == 0xFF && !matches!(bytes[at + 1], 0x00 | 0xD0..=0xD7) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Walks the PNG chunks (length, type, data, CRC) up to IEND.
fn png_reaches_end(bytes: &[u8]) -> bool {
    let mut at = 8; // past the signature
    while let Some(header) = bytes.get(at..at + 8) {
        if &header[4..8] == b"IEND" {
            return bytes.len() >= at + 12;
        }
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let Some(next) = usize::try_from(length)
            .ok()
            .and_then(|length| at.checked_add(12 + length))
        else {
            return false;
        };
        at = next;
    }
    false
}

/// A WebP is one RIFF container whose header states its size.
fn webp_reaches_end(bytes: &[u8]) -> bool {
    let Some(size) = bytes.get(4..8) else {
        return false;
    };
    let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]);
    usize::try_from(size).is_ok_and(|size| bytes.len() >= 8 + size)
}

fn check_dimensions(width: u32, height: u32) -> Result<(), ImageCheckError> {
    if width == 0 || height == 0 {
        return Err(ImageCheckError::Empty);
    }
    let pixels = u64::from(width) * u64::from(height);
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(ImageCheckError::TooLarge { width, height });
    }
    Ok(())
}

/// Limits the decoder enforces itself while reading the pixels, in case a file's header
/// and its data disagree.
fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage};

    fn gradient(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        })
    }

    fn encoded(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// The smallest well-formed GIF: 1×1, two-colour palette, one LZW block.
    const TINY_GIF: &[u8] = &[
        b'G', b'I', b'F', b'8', b'9', b'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x2C,
        0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B,
    ];

    #[test]
    fn accepts_small_jpeg_png_and_webp() {
        let image = gradient(48, 32);
        for (format, kind) in [
            (ImageFormat::Jpeg, ImageKind::Jpeg),
            (ImageFormat::Png, ImageKind::Png),
            (ImageFormat::WebP, ImageKind::WebP),
        ] {
            let bytes = encoded(&image, format);
            let info = inspect_image(&bytes).unwrap();
            assert_eq!(
                info,
                ImageInfo {
                    format: kind,
                    width: 48,
                    height: 32
                }
            );
            let decoded = decode_selfie(&bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (48, 32));
        }
    }

    #[test]
    fn content_types_match_the_formats() {
        assert_eq!(ImageKind::Jpeg.content_type(), "image/jpeg");
        assert_eq!(ImageKind::Png.content_type(), "image/png");
        assert_eq!(ImageKind::WebP.content_type(), "image/webp");
    }

    #[test]
    fn refuses_text_even_when_it_claims_to_be_a_jpeg() {
        let text = b"Hello! This is not a picture, whatever the file name says.jpg";
        let error = inspect_image(text).unwrap_err();
        assert!(matches!(error, ImageCheckError::NotAnImage), "{error:?}");
        assert_eq!(error.code(), "not_an_image");
        assert!(matches!(
            inspect_image(b""),
            Err(ImageCheckError::NotAnImage)
        ));
    }

    #[test]
    fn refuses_a_jpeg_cut_off_inside_its_header() {
        let jpeg = encoded(&gradient(64, 64), ImageFormat::Jpeg);
        for length in [3, 20, 100] {
            let error = inspect_image(&jpeg[..length]).unwrap_err();
            assert!(
                matches!(error, ImageCheckError::Truncated),
                "{length}: {error:?}"
            );
            assert_eq!(error.code(), "image_truncated");
            assert!(decode_selfie(&jpeg[..length]).is_err());
        }
    }

    #[test]
    fn refuses_files_cut_off_inside_their_pixels() {
        let image = gradient(256, 256);
        for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP] {
            let bytes = encoded(&image, format);
            for cut in [bytes.len() / 2, bytes.len() - 1] {
                let error = inspect_image(&bytes[..cut]).unwrap_err();
                assert!(
                    matches!(error, ImageCheckError::Truncated),
                    "{format:?} cut at {cut}: {error:?}"
                );
                assert!(decode_selfie(&bytes[..cut]).is_err());
            }
        }
    }

    /// A progressive JPEG (ten scans, with Huffman tables between them) with restart
    /// markers, the kind web tools save. Made with libjpeg-turbo 2.1.5:
    /// `djpeg -scale 1/8 selfie.jpg | cjpeg -progressive -restart 1 -quality 80`.
    const PROGRESSIVE_JPEG: &[u8] =
        include_bytes!("../../../../tests/fixtures/selfie-progressive.jpg");

    #[test]
    fn accepts_progressive_jpegs_with_restart_markers() {
        let info = inspect_image(PROGRESSIVE_JPEG).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageKind::Jpeg, 128, 128)
        );
        assert!(decode_selfie(PROGRESSIVE_JPEG).is_ok());
        let cut = &PROGRESSIVE_JPEG[..PROGRESSIVE_JPEG.len() - 2];
        assert!(matches!(
            inspect_image(cut),
            Err(ImageCheckError::Truncated)
        ));
    }

    #[test]
    fn the_system_test_fixtures_are_what_they_say() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/");
        let selfie = std::fs::read(format!("{fixtures}selfie.jpg")).unwrap();
        assert!(selfie.len() < 200_000);
        let info = inspect_image(&selfie).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageKind::Jpeg, 1024, 1024)
        );
        let text = std::fs::read(format!("{fixtures}not-an-image.jpg")).unwrap();
        assert!(matches!(
            inspect_image(&text),
            Err(ImageCheckError::NotAnImage)
        ));
    }

    #[test]
    fn accepts_data_after_the_end_of_the_image() {
        // Motion photos append a video to the JPEG; some tools append bytes to PNGs.
        for format in [ImageFormat::Jpeg, ImageFormat::Png] {
            let mut bytes = encoded(&gradient(32, 32), format);
            bytes.extend_from_slice(b"\0\0\0\x18ftypmp42 trailing video data");
            assert!(inspect_image(&bytes).is_ok(), "{format:?}");
        }
    }

    #[test]
    fn the_png_decoder_refuses_damaged_pixel_data() {
        let mut png = encoded(&gradient(64, 64), ImageFormat::Png);
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        for byte in &mut png[idat + 8..idat + 40] {
            *byte ^= 0x5A;
        }
        assert!(inspect_image(&png).is_ok(), "the structure is intact");
        let error = decode_selfie(&png).unwrap_err();
        assert!(matches!(error, ImageCheckError::Corrupt(_)), "{error:?}");
        assert_eq!(error.code(), "image_corrupt");
    }

    #[test]
    fn refuses_other_formats() {
        assert!(
            image::load_from_memory(TINY_GIF).is_err(),
            "no GIF decoder is built in"
        );
        let error = inspect_image(TINY_GIF).unwrap_err();
        assert!(
            matches!(error, ImageCheckError::UnsupportedFormat { format: "gif" }),
            "{error:?}"
        );
        assert_eq!(error.code(), "unsupported_image_format");

        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 64]);
        assert!(matches!(
            inspect_image(&bmp),
            Err(ImageCheckError::UnsupportedFormat { format: "bmp" })
        ));
    }

    #[test]
    fn refuses_huge_dimensions_from_the_header() {
        // 9000×10 is only 90,000 pixels but wider than any selfie: a PNG of that size
        // compresses to a few hundred bytes, the shape of a decompression bomb.
        let wide = encoded(&RgbImage::new(9000, 10), ImageFormat::Png);
        assert!(wide.len() < 2000);
        let error = inspect_image(&wide).unwrap_err();
        assert!(
            matches!(
                error,
                ImageCheckError::TooLarge {
                    width: 9000,
                    height: 10
                }
            ),
            "{error:?}"
        );
        assert_eq!(error.code(), "image_too_large");
        assert!(matches!(
            decode_selfie(&wide),
            Err(ImageCheckError::TooLarge { .. })
        ));
    }

    #[test]
    fn checks_sides_and_total_pixels() {
        assert!(check_dimensions(8000, 5000).is_ok());
        assert!(check_dimensions(1, 1).is_ok());
        assert!(matches!(
            check_dimensions(8001, 10),
            Err(ImageCheckError::TooLarge { .. })
        ));
        assert!(matches!(
            check_dimensions(7000, 7000),
            Err(ImageCheckError::TooLarge { .. })
        ));
        assert!(matches!(
            check_dimensions(0, 10),
            Err(ImageCheckError::Empty)
        ));
        assert!(matches!(
            check_dimensions(10, 0),
            Err(ImageCheckError::Empty)
        ));
    }

    #[test]
    fn decoding_applies_the_exif_orientation() {
        // A 40×20 picture stored with "rotate 90° clockwise" shows as 20×40.
        let image = gradient(40, 20);
        let mut jpeg = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new(&mut jpeg);
        let mut encoder = encoder;
        encoder.set_exif_metadata(exif_orientation(6)).unwrap();
        encoder
            .write_image(image.as_raw(), 40, 20, image::ExtendedColorType::Rgb8)
            .unwrap();
        assert_eq!(
            inspect_image(&jpeg).unwrap().width,
            40,
            "the header is as stored"
        );
        let decoded = decode_selfie(&jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (20, 40));
    }

    /// A minimal little-endian TIFF block holding one Orientation (0x0112) entry.
    fn exif_orientation(value: u16) -> Vec<u8> {
        let mut exif = b"II*\0".to_vec();
        exif.extend_from_slice(&8u32.to_le_bytes());
        exif.extend_from_slice(&1u16.to_le_bytes());
        exif.extend_from_slice(&0x0112u16.to_le_bytes());
        exif.extend_from_slice(&3u16.to_le_bytes());
        exif.extend_from_slice(&1u32.to_le_bytes());
        exif.extend_from_slice(&u32::from(value).to_le_bytes());
        exif.extend_from_slice(&0u32.to_le_bytes());
        exif
    }
}
