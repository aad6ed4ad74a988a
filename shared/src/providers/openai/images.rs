//! `POST /v1/images/edits` as `multipart/form-data`, for one source image.
//!
//! Fields, as the API reference ("Create image edit") and the spec's `CreateImageEditRequest`
//! define them for GPT image models: `model`; `image`, the file part (a single file goes under
//! `image`, several under `image[]`), which must be PNG, WebP or JPEG under 50 MB; `prompt`,
//! at most 32000 characters; `size` (`1024x1024`); `background` (`transparent` or `opaque`;
//! transparency needs `png` or `webp` output); `output_format` (`png`); `n` (1); `quality`.
//! `response_format` is left out: it is for `dall-e-2` only, GPT image models always answer
//! with base64. The answer is `{"created", "data": [{"b64_json"}], "usage": {…}, …}`.

use std::io::Cursor;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image::ImageDecoder;
use image::codecs::png::PngDecoder;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;

use super::{Endpoint, OpenAiClient};
use crate::providers::{ImageType, ProviderError};

/// The documented maximum prompt length for GPT image models.
const MAX_PROMPT_CHARS: usize = 32_000;
/// Square avatars and stickers: one of the sizes every GPT image model supports.
const SIZE: &str = "1024x1024";
/// `medium` pins the cost of each image (output tokens grow with quality) instead of leaving
/// it to `auto`; it is the documented middle of `low`/`medium`/`high`.
const QUALITY: &str = "medium";
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The background of an edited image: transparent for stickers, opaque for avatars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    Transparent,
    Opaque,
}

impl Background {
    fn as_str(self) -> &'static str {
        match self {
            Self::Transparent => "transparent",
            Self::Opaque => "opaque",
        }
    }
}

#[derive(Debug, Deserialize)]
struct ImagesResponse {
    #[serde(default)]
    data: Vec<ImageData>,
}

#[derive(Debug, Deserialize)]
struct ImageData {
    b64_json: Option<String>,
}

impl OpenAiClient {
    /// Edits `image` as `prompt` says with the configured GPT image model; returns the
    /// 1024x1024 PNG it made.
    pub async fn edit_image(
        &self,
        image: &[u8],
        content_type: &str,
        prompt: &str,
        background: Background,
    ) -> Result<Vec<u8>, ProviderError> {
        let image_type = ImageType::from_content_type(content_type)?;
        check_prompt(prompt)?;
        let model = self.config().image_model.as_str();
        let answer = self
            .post(
                Endpoint::ImageEdits,
                model,
                self.config().image_timeout,
                |request| {
                    request.multipart(edit_form(model, image, image_type, prompt, background))
                },
            )
            .await?;
        png_from_answer(&answer)
    }
}

fn check_prompt(prompt: &str) -> Result<(), ProviderError> {
    if prompt.trim().is_empty() {
        return Err(ProviderError::InvalidInput("the prompt is empty"));
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(ProviderError::InvalidInput(
            "the prompt is longer than 32000 characters",
        ));
    }
    Ok(())
}

fn edit_form(
    model: &str,
    image: &[u8],
    image_type: ImageType,
    prompt: &str,
    background: Background,
) -> Form {
    // The content type is one of three constants, which always parse as a MIME type.
    let file = Part::bytes(image.to_vec())
        .file_name(format!("image.{}", image_type.extension()))
        .mime_str(image_type.content_type())
        .unwrap_or_else(|_| unreachable!("image content types are valid MIME types"));
    Form::new()
        .text("model", model.to_owned())
        .part("image", file)
        .text("prompt", prompt.to_owned())
        .text("size", SIZE)
        .text("background", background.as_str())
        .text("output_format", "png")
        .text("quality", QUALITY)
        .text("n", "1")
}

fn png_from_answer(answer: &[u8]) -> Result<Vec<u8>, ProviderError> {
    let response: ImagesResponse = serde_json::from_slice(answer)
        .map_err(|error| super::unparsable("image edit answer", &error))?;
    let encoded = response
        .data
        .into_iter()
        .next()
        .and_then(|image| image.b64_json)
        .ok_or_else(|| {
            ProviderError::InvalidResponse("image edit answer without data[0].b64_json".to_owned())
        })?;
    let png = STANDARD
        .decode(encoded.as_bytes())
        .map_err(|_| ProviderError::InvalidResponse("data[0].b64_json is not base64".to_owned()))?;
    check_png(&png)?;
    Ok(png)
}

/// A PNG signature followed by a readable header (dimensions, colour type); the pixels are
/// decoded by whoever uses the image.
fn check_png(bytes: &[u8]) -> Result<(), ProviderError> {
    let not_png = || ProviderError::InvalidResponse("data[0].b64_json is not a PNG".to_owned());
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(not_png());
    }
    let decoder = PngDecoder::new(Cursor::new(bytes)).map_err(|_| not_png())?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(not_png());
    }
    Ok(())
}
