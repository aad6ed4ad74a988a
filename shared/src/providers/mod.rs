//! Outside services behind small clients: OpenAI for image moderation and image edits, and
//! the local stand-in for moderation used in development, where no key is configured.
//!
//! Which provider serves each job is an explicit setting in every environment
//! ([`config::ProviderConfig`]); production refuses the local stand-ins at start.
//! Nothing here logs or returns image bytes, prompts or the API key.
//!
//! A function's `main` wires them once:
//!
//! ```no_run
//! use shared::config::{ProcessEnv, Stage};
//! use shared::providers::{Moderator, ProviderConfig};
//!
//! fn wire(stage: Stage) -> Result<Moderator, Box<dyn std::error::Error>> {
//!     let config = ProviderConfig::from_env(&ProcessEnv, stage)?;
//!     // One client (and connection pool) for every OpenAI job of the process.
//!     let openai = config.openai_client()?;
//!     Ok(Moderator::new(config.moderation, openai)?)
//! }
//! ```

pub mod config;
pub mod error;
pub mod local;
pub mod moderation;
pub mod openai;
pub mod turnstile;

pub use config::{OpenAiConfig, ProviderChoice, ProviderConfig, RetryPolicy};
pub use error::ProviderError;
pub use local::LocalModerator;
pub use moderation::{Decision, ModerationVerdict, Moderator, ProviderKind};
pub use openai::{Background, ClientBuildError, OpenAiClient};

/// The image formats both OpenAI endpoints accept (PNG, JPEG, WebP), named by content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Jpeg,
    Webp,
}

impl ImageType {
    /// The type named by a `Content-Type` value (parameters such as `; charset` ignored).
    pub fn from_content_type(content_type: &str) -> Result<Self, ProviderError> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "image/png" => Ok(Self::Png),
            "image/jpeg" | "image/jpg" => Ok(Self::Jpeg),
            "image/webp" => Ok(Self::Webp),
            _ => Err(ProviderError::InvalidInput(
                "the image must be image/png, image/jpeg or image/webp",
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// The extension OpenAI expects on an uploaded file of this type.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
        }
    }

    pub(crate) fn image_format(self) -> image::ImageFormat {
        match self {
            Self::Png => image::ImageFormat::Png,
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Webp => image::ImageFormat::WebP,
        }
    }
}

/// The HTTP client builder of every outside API (OpenAI, Polar, Cloudflare): it trusts only
/// Mozilla's roots compiled into the binary (`webpki-root-certs`), since loading the system
/// store costs milliseconds of every cold start, and never follows a redirect, which could
/// carry a key or secret elsewhere.
pub fn https_client_builder() -> Result<reqwest::ClientBuilder, String> {
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| reqwest::Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| error.to_string())?;
    Ok(reqwest::Client::builder()
        .tls_certs_only(roots)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("anumi-backend/", env!("CARGO_PKG_VERSION"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_types_are_read_from_content_types() {
        assert_eq!(
            ImageType::from_content_type("image/png"),
            Ok(ImageType::Png)
        );
        assert_eq!(
            ImageType::from_content_type("IMAGE/JPEG; q=1"),
            Ok(ImageType::Jpeg)
        );
        assert_eq!(
            ImageType::from_content_type("image/webp"),
            Ok(ImageType::Webp)
        );
        assert!(matches!(
            ImageType::from_content_type("image/gif"),
            Err(ProviderError::InvalidInput(_))
        ));
        assert_eq!(ImageType::Jpeg.extension(), "jpg");
    }
}
