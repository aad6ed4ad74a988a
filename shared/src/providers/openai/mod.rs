//! A small client for the two OpenAI endpoints the service uses, with the request shapes of
//! OpenAI's API reference (checked against <https://developers.openai.com/api/reference> and
//! the `openai/openai-openapi` spec, `openapi.yaml` of 2026-08-21):
//!
//! - `POST /v1/moderations` ([`OpenAiClient::moderate_image`], see `moderations.rs`);
//! - `POST /v1/images/edits` as `multipart/form-data` ([`OpenAiClient::edit_image`], see
//!   `images.rs`).
//!
//! Every call is retried here when the failure is temporary (429 other than
//! `insufficient_quota`, 408, 5xx, timeouts, connection errors), with exponential backoff and
//! jitter, honouring `Retry-After`, within [`RetryPolicy`](crate::providers::RetryPolicy)'s
//! limits. Log lines carry the endpoint, model, attempt, status and error codes, never the
//! key, the image or the prompt.

mod errors;
mod images;
mod moderations;
mod retry;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::{OpenAiConfig, ProviderError};

pub use images::Background;
pub use moderations::IMAGE_MODERATION_LIMITATION;

/// The building of the HTTPS client failed: only possible if a compiled-in root
/// certificate did not parse.
#[derive(Debug, thiserror::Error)]
#[error("building the OpenAI HTTPS client failed: {0}")]
pub struct ClientBuildError(String);

/// One OpenAI client per process; cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct OpenAiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: OpenAiConfig,
}

impl fmt::Debug for OpenAiClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OpenAiClient")
            .field("base_url", &self.inner.config.base_url)
            .field("image_model", &self.inner.config.image_model)
            .field("moderation_model", &self.inner.config.moderation_model)
            .finish_non_exhaustive()
    }
}

/// Which endpoint a call goes to: its path, and the name logs use for it.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Moderations,
    ImageEdits,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Self::Moderations => "/v1/moderations",
            Self::ImageEdits => "/v1/images/edits",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Moderations => "moderations",
            Self::ImageEdits => "images.edits",
        }
    }
}

impl OpenAiClient {
    /// Builds the HTTPS client once, trusting the Mozilla root certificates compiled into the
    /// binary (`webpki-root-certs`) rather than the system's store. reqwest's default verifier
    /// (rustls-platform-verifier) reads and parses every system certificate as the client is
    /// built: 2-6 ms of each cold start, against about 0.13 ms for this (release builds,
    /// x86_64). OpenAI sits behind a CDN that changes certificate authorities, so the roots
    /// cannot be narrowed to one CA as they are for AWS; the Mozilla list moves with the crate.
    pub fn new(config: OpenAiConfig) -> Result<Self, ClientBuildError> {
        let http = crate::providers::https_client_builder()
            .map_err(ClientBuildError)?
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|error| ClientBuildError(error.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner { http, config }),
        })
    }

    fn config(&self) -> &OpenAiConfig {
        &self.inner.config
    }

    fn url(&self, endpoint: Endpoint) -> String {
        format!("{}{}", self.config().base_url.as_str(), endpoint.path())
    }

    /// Sends the request `build` makes (once per attempt: multipart bodies cannot be reused)
    /// until it succeeds or the retry policy gives up; returns the success body.
    async fn post<F>(
        &self,
        endpoint: Endpoint,
        model: &str,
        timeout: Duration,
        build: F,
    ) -> Result<Vec<u8>, ProviderError>
    where
        F: Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    {
        let policy = self.config().retry;
        let mut waited = Duration::ZERO;
        let mut attempt = 1;
        loop {
            let request = self
                .inner
                .http
                .post(self.url(endpoint))
                .bearer_auth(self.config().api_key.expose_secret())
                .timeout(timeout);
            let error = match self.send(build(request)).await {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            log_failure(endpoint, model, attempt, &error);
            let Some(delay) = retry::next_delay(&policy, &error, attempt, waited, retry::jitter())
            else {
                return Err(error);
            };
            tokio::time::sleep(delay).await;
            waited += delay;
            attempt += 1;
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, ProviderError> {
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(errors::error_from_answer(
                status,
                &headers,
                &body,
                self.config().api_key.expose_secret(),
            ))
        }
    }
}

/// A request that got no complete answer. reqwest's messages name the URL, never the key or
/// the body, but only the kind is kept: it is all the caller can act on.
fn transport_error(error: reqwest::Error) -> ProviderError {
    if error.is_builder() {
        return ProviderError::InvalidInput("the request could not be built");
    }
    tracing::debug!(
        timeout = error.is_timeout(),
        connect = error.is_connect(),
        "OpenAI request got no answer"
    );
    ProviderError::Unavailable { status: None }
}

/// An answer body that does not parse. serde's messages can quote the offending value (a
/// whole base64 image, say), so only the kind of error and its position are kept.
fn unparsable(what: &str, error: &serde_json::Error) -> ProviderError {
    ProviderError::InvalidResponse(format!(
        "{what}: {:?} error at line {} column {}",
        error.classify(),
        error.line(),
        error.column()
    ))
}

fn log_failure(endpoint: Endpoint, model: &str, attempt: u32, error: &ProviderError) {
    let (status, provider_code) = match error {
        ProviderError::Rejected { status, code, .. } => (Some(*status), code.as_deref()),
        ProviderError::ContentRejected { code, .. } => (None, Some(code.as_str())),
        ProviderError::RateLimited { .. } => (Some(429), None),
        ProviderError::Unavailable { status } => (*status, None),
        ProviderError::InvalidResponse(_) | ProviderError::InvalidInput(_) => (None, None),
    };
    tracing::warn!(
        endpoint = endpoint.name(),
        model,
        attempt,
        status,
        error_code = error.code(),
        provider_code,
        retryable = error.is_retryable(),
        "OpenAI call failed"
    );
}
