use std::time::Duration;

/// Why a call to an outside provider failed, sorted by what the caller should do next.
///
/// Messages come from the provider's error body (OpenAI's documented
/// `{"error": {"message", "type", "param", "code"}}`), cleaned of anything that looks like an
/// API key; they never hold image bytes or prompts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider's own safety system refused the content (OpenAI's `moderation_blocked`).
    /// Sending the same content again gives the same answer, so it is never retried.
    #[error("the provider refused the content ({code}): {message}")]
    ContentRejected { code: String, message: String },
    /// Too many requests for now; `retry_after` is the provider's `Retry-After`, when given.
    #[error("rate limited by the provider")]
    RateLimited { retry_after: Option<Duration> },
    /// A 5xx answer (`status`), or no answer at all: timeout or connection error (`None`).
    #[error("the provider is unavailable (status {status:?})")]
    Unavailable { status: Option<u16> },
    /// Any other 4xx answer: the request itself is wrong (bad key, unknown model, quota
    /// exhausted…) and will fail again the same way.
    #[error("the provider rejected the request with status {status} ({code:?}): {message}")]
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// A success status whose body is not what the API reference documents.
    #[error("invalid response from the provider: {0}")]
    InvalidResponse(String),
    /// The image given to us cannot be sent or read (unsupported type, undecodable bytes);
    /// found before any request is made.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
}

impl ProviderError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable { .. })
    }

    /// A stable, machine-readable code for logs and records.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ContentRejected { .. } => "provider_content_rejected",
            Self::RateLimited { .. } => "provider_rate_limited",
            Self::Unavailable { .. } => "provider_unavailable",
            Self::Rejected { .. } => "provider_rejected",
            Self::InvalidResponse(_) => "provider_invalid_response",
            Self::InvalidInput(_) => "provider_invalid_input",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rate_limits_and_outages_are_retryable() {
        let retryable = [
            ProviderError::RateLimited { retry_after: None },
            ProviderError::Unavailable { status: Some(503) },
            ProviderError::Unavailable { status: None },
        ];
        let permanent = [
            ProviderError::ContentRejected {
                code: "moderation_blocked".into(),
                message: "no".into(),
            },
            ProviderError::Rejected {
                status: 401,
                code: Some("invalid_api_key".into()),
                message: "no".into(),
            },
            ProviderError::InvalidResponse("no".into()),
            ProviderError::InvalidInput("no"),
        ];
        assert!(retryable.iter().all(ProviderError::is_retryable));
        assert!(!permanent.iter().any(ProviderError::is_retryable));
        assert_eq!(permanent[0].code(), "provider_content_rejected");
    }
}
