//! Structured JSON logs through `tracing`.
//!
//! What may be logged is decided where events are written: code logs hashed identifiers
//! (`email_hash`, `ip_hash`) and outcomes, never a raw IP, one-time code, token or email.
//! The SDK's wire-level targets are capped at `warn` whatever `RUST_LOG` says, because at
//! debug and trace they print request bodies, which hold emails.

use std::str::FromStr;

use tracing::Subscriber;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

const WIRE_LEVEL_TARGETS: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sigv4",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
];

/// The filter: `RUST_LOG`-style directives (`info`, `shared=debug,info`), default `info`,
/// with the wire-level targets capped.
pub fn filter(directives: Option<&str>) -> Targets {
    let mut targets = directives
        .and_then(|d| Targets::from_str(d).ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    for target in WIRE_LEVEL_TARGETS {
        targets = targets.with_target(*target, LevelFilter::WARN);
    }
    targets
}

/// A JSON subscriber writing to `writer`. Tests use it with a buffer to read what was logged.
pub fn subscriber<W>(directives: Option<&str>, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(false)
        .with_ansi(false)
        .with_writer(writer);
    tracing_subscriber::registry()
        .with(json)
        .with(filter(directives))
}

/// Installs JSON logging to stdout for a Lambda process.
pub fn init() {
    let directives = std::env::var("RUST_LOG").ok();
    // A second init (tests) keeps the first subscriber; that is fine.
    let _ =
        tracing::subscriber::set_global_default(subscriber(directives.as_deref(), std::io::stdout));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_level_targets_stay_at_warn_even_when_trace_is_asked_for() {
        let targets = filter(Some("trace"));
        assert!(!targets.would_enable("aws_smithy_runtime::client", &tracing::Level::DEBUG));
        assert!(targets.would_enable("shared::auth", &tracing::Level::TRACE));
    }

    #[test]
    fn default_is_info() {
        let targets = filter(None);
        assert!(targets.would_enable("otp", &tracing::Level::INFO));
        assert!(!targets.would_enable("otp", &tracing::Level::DEBUG));
    }
}
