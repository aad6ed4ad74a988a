//! Who makes the avatar: OpenAI's image edit, or the local stylizer when the configuration
//! says so (local use and CI, no keys). The local one says what it is in the bundle.

use image::{Rgba, RgbaImage};

use crate::generation::imaging::inspect::decode_selfie;
use crate::generation::imaging::stylize::{Stylized, stylize};
use crate::generation::style::Style;
use crate::providers::{Background, OpenAiClient, ProviderError};

/// The background an OpenAI avatar (made transparent, for the sticker) is shown on.
const AVATAR_BACKGROUND: Rgba<u8> = Rgba([246, 242, 236, 255]);

#[derive(Debug, Clone)]
pub enum AvatarMaker {
    /// OpenAI's image edit with the named model.
    OpenAi {
        client: OpenAiClient,
        model: String,
    },
    LocalStylizer,
}

/// One made avatar: opaque for the avatar file, and the subject on transparency for the
/// sticker.
pub struct Made {
    pub avatar: RgbaImage,
    pub subject: RgbaImage,
}

impl AvatarMaker {
    pub fn label(&self) -> &'static str {
        match self {
            Self::OpenAi { .. } => "openai",
            Self::LocalStylizer => "local-stylizer",
        }
    }

    pub async fn make(
        &self,
        selfie: &[u8],
        content_type: &str,
        style: Style,
    ) -> Result<Made, ProviderError> {
        match self {
            Self::OpenAi { client, .. } => {
                let png = client
                    .edit_image(
                        selfie,
                        content_type,
                        style.prompt(),
                        Background::Transparent,
                    )
                    .await?;
                let subject = image::load_from_memory(&png)
                    .map_err(|e| {
                        ProviderError::InvalidResponse(format!(
                            "the returned image does not decode: {e}"
                        ))
                    })?
                    .to_rgba8();
                let mut avatar =
                    RgbaImage::from_pixel(subject.width(), subject.height(), AVATAR_BACKGROUND);
                image::imageops::overlay(&mut avatar, &subject, 0, 0);
                Ok(Made { avatar, subject })
            }
            Self::LocalStylizer => {
                let selfie = decode_selfie(selfie)
                    .map_err(|_| ProviderError::InvalidInput("the selfie does not decode"))?;
                // The stylizer cuts the person out itself (from colours and framing, not
                // a segmentation model).
                let Stylized { avatar, subject } = stylize(&selfie, style);
                Ok(Made { avatar, subject })
            }
        }
    }

    /// The README that goes into each bundle: what made these images.
    pub fn provenance(&self, style: Style) -> String {
        match self {
            Self::OpenAi { model, .. } => format!(
                "Anumi avatar bundle\nStyle: {}\nMade by OpenAI image editing (model {}).\n",
                style.as_str(),
                model
            ),
            Self::LocalStylizer => format!(
                "Anumi avatar bundle\nStyle: {}\nMade by the LOCAL STYLIZER (development): colour \
                 quantization, smoothing and outlines computed on this machine, not an AI model.\n",
                style.as_str()
            ),
        }
    }
}
