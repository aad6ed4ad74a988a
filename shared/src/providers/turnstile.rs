//! Cloudflare Turnstile server-side validation (`siteverify`), with the request and answer
//! shapes of Cloudflare's "Validate the token" page
//! (<https://developers.cloudflare.com/turnstile/get-started/server-side-validation/>):
//!
//! - `POST https://challenges.cloudflare.com/turnstile/v0/siteverify`, form-encoded `secret`,
//!   `response` (the widget's token, at most 2048 characters), `remoteip` (the visitor's
//!   address) and `idempotency_key` (a UUID, so that our own retry of a lost answer is not
//!   refused as a replay);
//! - the JSON answer `success`, `error-codes`, `challenge_ts`, `hostname`, `action`.
//!
//! A token is valid 300 seconds and works once: Cloudflare answers a replay with
//! `timeout-or-duplicate`. Beyond `success`, the answer's `action` and `hostname` must be the
//! ones this deployment expects, or a token solved for another form or site would pass.
//!
//! Locally (`TURNSTILE_PROVIDER=local`) a stand-in answers the way Cloudflare answers for
//! its documented dummy secret keys, and says so in every log line; prod refuses it and the
//! dummy secrets.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tracing::{info, warn};

use crate::config::{ConfigError, Origin, Settings, Stage};

pub const DEFAULT_BASE_URL: &str = "https://challenges.cloudflare.com";
const SITEVERIFY_PATH: &str = "/turnstile/v0/siteverify";
/// Cloudflare's documented maximum token length.
pub const MAX_TOKEN_LEN: usize = 2048;

/// Cloudflare's documented dummy secret keys (testing only; they accept any token).
pub const DUMMY_SECRET_PASSES: &str = "1x0000000000000000000000000000000AA";
pub const DUMMY_SECRET_FAILS: &str = "2x0000000000000000000000000000000AA";
pub const DUMMY_SECRET_SPENT: &str = "3x0000000000000000000000000000000AA";
const DUMMY_SECRETS: [&str; 3] = [DUMMY_SECRET_PASSES, DUMMY_SECRET_FAILS, DUMMY_SECRET_SPENT];

/// Who answers `siteverify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnstileProvider {
    Cloudflare,
    /// The development stand-in: it applies the dummy-secret behaviour itself.
    Local,
}

impl std::str::FromStr for TurnstileProvider {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "cloudflare" => Ok(Self::Cloudflare),
            "local" => Ok(Self::Local),
            other => Err(format!("expected cloudflare or local, got {other:?}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TurnstileConfig {
    pub provider: TurnstileProvider,
    pub secret: SecretString,
    pub base_url: Origin,
    /// The widget's `action` the answer must carry (`TURNSTILE_ACTION`, default `trial`).
    pub expected_action: String,
    /// The site's hostname the answer must carry: the host of `APP_ORIGIN`.
    pub expected_hostname: String,
    pub timeout: Duration,
}

impl TurnstileConfig {
    /// `TURNSTILE_PROVIDER` (required), `TURNSTILE_SECRET`, `TURNSTILE_BASE_URL`,
    /// `TURNSTILE_ACTION`, and the hostname of `APP_ORIGIN`.
    pub fn from_settings(settings: &Settings<'_>, stage: Stage) -> Result<Self, ConfigError> {
        let provider: TurnstileProvider = settings.parsed("TURNSTILE_PROVIDER")?;
        let secret = settings.secret("TURNSTILE_SECRET", 20)?;
        let base_url: Origin = settings.parsed_or(
            "TURNSTILE_BASE_URL",
            DEFAULT_BASE_URL.parse().expect("valid"),
        )?;
        let origin: Origin = settings.parsed("APP_ORIGIN")?;
        if stage == Stage::Prod {
            let refuse = |name, reason: &str| ConfigError::Invalid {
                name,
                reason: reason.into(),
            };
            if provider == TurnstileProvider::Local {
                return Err(refuse(
                    "TURNSTILE_PROVIDER",
                    "local is a development stand-in and is refused in prod",
                ));
            }
            if DUMMY_SECRETS.contains(&secret.expose_secret()) {
                return Err(refuse(
                    "TURNSTILE_SECRET",
                    "Cloudflare's dummy secret keys accept any token and are refused in prod",
                ));
            }
            if base_url.as_str() != DEFAULT_BASE_URL {
                return Err(refuse(
                    "TURNSTILE_BASE_URL",
                    "prod verifies with Cloudflare itself",
                ));
            }
        }
        Ok(Self {
            provider,
            secret,
            base_url,
            expected_action: settings.parsed_or("TURNSTILE_ACTION", "trial".to_owned())?,
            expected_hostname: host_of(&origin),
            timeout: Duration::from_secs(settings.parsed_or("TURNSTILE_TIMEOUT_SECONDS", 5)?),
        })
    }
}

/// `https://anumi.app:443` → `anumi.app`.
fn host_of(origin: &Origin) -> String {
    let rest = origin.as_str().split("://").nth(1).unwrap_or_default();
    rest.split(':').next().unwrap_or_default().to_owned()
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TurnstileError {
    /// Cloudflare said no (`invalid-input-response`, a forged or malformed token…).
    #[error("the challenge was not passed ({0})")]
    Failed(String),
    /// `timeout-or-duplicate`: the token was already used, or is older than 5 minutes.
    #[error("the token was already used or has expired")]
    TokenUsed,
    /// A valid token, but solved for another widget action or another site.
    #[error("the token was made for another {0}")]
    Mismatch(&'static str),
    /// Cloudflare could not be reached or answered 5xx or garbage: try again later.
    #[error("siteverify is unavailable: {0}")]
    Unavailable(String),
    /// Our own secret is missing or wrong: a configuration fault, not the visitor's.
    #[error("siteverify refused our secret ({0})")]
    Misconfigured(String),
}

/// The parts of the answer we use (Cloudflare adds `cdata`, `metadata`, `messages`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SiteverifyAnswer {
    pub success: bool,
    #[serde(rename = "error-codes", default)]
    pub error_codes: Vec<String>,
    #[serde(default)]
    pub challenge_ts: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TurnstileClient {
    http: reqwest::Client,
    config: TurnstileConfig,
}

impl TurnstileClient {
    pub fn new(config: TurnstileConfig) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            name: "TURNSTILE_BASE_URL",
            reason,
        };
        let http = super::https_client_builder()
            .map_err(invalid)?
            .timeout(config.timeout)
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self { http, config })
    }

    pub fn provider_label(&self) -> &'static str {
        match self.config.provider {
            TurnstileProvider::Cloudflare => "cloudflare",
            TurnstileProvider::Local => "local-stand-in",
        }
    }

    /// Checks `token` for the visitor at `remote_ip`: success, then the expected action and
    /// hostname.
    pub async fn verify(&self, token: &str, remote_ip: &str) -> Result<(), TurnstileError> {
        let answer = match self.config.provider {
            TurnstileProvider::Cloudflare => self.siteverify(token, remote_ip).await?,
            TurnstileProvider::Local => self.local_answer(),
        };
        let result = self.judge(&answer);
        info!(
            provider = self.provider_label(),
            success = answer.success,
            error_codes = ?answer.error_codes,
            outcome = result.as_ref().err().map_or("passed", |_| "refused"),
            "turnstile verified"
        );
        result
    }

    fn judge(&self, answer: &SiteverifyAnswer) -> Result<(), TurnstileError> {
        if !answer.success {
            let codes = answer.error_codes.join(",");
            return Err(
                if answer
                    .error_codes
                    .iter()
                    .any(|c| c == "timeout-or-duplicate")
                {
                    TurnstileError::TokenUsed
                } else if answer
                    .error_codes
                    .iter()
                    .any(|c| c == "missing-input-secret" || c == "invalid-input-secret")
                {
                    TurnstileError::Misconfigured(codes)
                } else if answer.error_codes.iter().any(|c| c == "internal-error") {
                    TurnstileError::Unavailable(codes)
                } else {
                    TurnstileError::Failed(codes)
                },
            );
        }
        if answer.action.as_deref() != Some(self.config.expected_action.as_str()) {
            return Err(TurnstileError::Mismatch("action"));
        }
        if answer.hostname.as_deref() != Some(self.config.expected_hostname.as_str()) {
            return Err(TurnstileError::Mismatch("hostname"));
        }
        Ok(())
    }

    async fn siteverify(
        &self,
        token: &str,
        remote_ip: &str,
    ) -> Result<SiteverifyAnswer, TurnstileError> {
        let idempotency_key = uuid::Uuid::new_v4().to_string();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("secret", self.config.secret.expose_secret())
            .append_pair("response", token)
            .append_pair("remoteip", remote_ip)
            .append_pair("idempotency_key", &idempotency_key)
            .finish();
        let url = format!("{}{SITEVERIFY_PATH}", self.config.base_url.as_str());
        // One retry with the same idempotency key: a lost answer must not burn the token.
        let mut last = String::new();
        for attempt in 1..=2 {
            let sent = self
                .http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    return response.json::<SiteverifyAnswer>().await.map_err(|e| {
                        TurnstileError::Unavailable(format!("unreadable answer: {e}"))
                    });
                }
                Ok(response) if response.status().is_server_error() => {
                    last = format!("status {}", response.status().as_u16());
                }
                Ok(response) => {
                    return Err(TurnstileError::Unavailable(format!(
                        "status {}",
                        response.status().as_u16()
                    )));
                }
                // Without the URL: reqwest errors name it, and it is ours anyway.
                Err(error) => last = error.without_url().to_string(),
            }
            warn!(attempt, reason = %last, "siteverify failed");
        }
        Err(TurnstileError::Unavailable(last))
    }

    /// What Cloudflare answers for its dummy secrets, with our expected action and hostname
    /// (a real dummy answer carries Cloudflare's placeholders, which no site expects).
    fn local_answer(&self) -> SiteverifyAnswer {
        let secret = self.config.secret.expose_secret();
        let (success, codes) = match secret {
            DUMMY_SECRET_PASSES => (true, vec![]),
            DUMMY_SECRET_SPENT => (false, vec!["timeout-or-duplicate".to_owned()]),
            DUMMY_SECRET_FAILS => (false, vec!["invalid-input-response".to_owned()]),
            _ => (false, vec!["invalid-input-secret".to_owned()]),
        };
        SiteverifyAnswer {
            success,
            error_codes: codes,
            challenge_ts: None,
            hostname: success.then(|| self.config.expected_hostname.clone()),
            action: success.then(|| self.config.expected_action.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TURNSTILE_PROVIDER", "cloudflare"),
            ("TURNSTILE_SECRET", "0x4AAAAAAAreal-secret-of-a-widget"),
            ("APP_ORIGIN", "https://anumi.app"),
        ]
    }

    #[test]
    fn prod_refuses_the_stand_in_dummy_secrets_and_other_hosts() {
        let ok = env(&base());
        let config = TurnstileConfig::from_settings(&Settings::new(&ok), Stage::Prod).unwrap();
        assert_eq!(config.expected_hostname, "anumi.app");
        assert_eq!(config.expected_action, "trial");
        for (name, value) in [
            ("TURNSTILE_PROVIDER", "local"),
            ("TURNSTILE_SECRET", DUMMY_SECRET_PASSES),
            ("TURNSTILE_BASE_URL", "http://127.0.0.1:9"),
        ] {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let source = env(&pairs);
            let error = TurnstileConfig::from_settings(&Settings::new(&source), Stage::Prod)
                .unwrap_err()
                .to_string();
            assert!(error.contains(name), "{error}");
            assert!(TurnstileConfig::from_settings(&Settings::new(&source), Stage::Dev).is_ok());
        }
    }

    #[test]
    fn answers_are_judged_on_success_action_and_hostname() {
        let source = env(&base());
        let client = TurnstileClient::new(
            TurnstileConfig::from_settings(&Settings::new(&source), Stage::Dev).unwrap(),
        )
        .unwrap();
        let answer = |success: bool, codes: &[&str], action: &str, host: &str| SiteverifyAnswer {
            success,
            error_codes: codes.iter().map(|c| (*c).to_owned()).collect(),
            challenge_ts: None,
            hostname: Some(host.to_owned()),
            action: Some(action.to_owned()),
        };
        assert_eq!(
            client.judge(&answer(true, &[], "trial", "anumi.app")),
            Ok(())
        );
        assert_eq!(
            client.judge(&answer(true, &[], "login", "anumi.app")),
            Err(TurnstileError::Mismatch("action"))
        );
        assert_eq!(
            client.judge(&answer(true, &[], "trial", "evil.example")),
            Err(TurnstileError::Mismatch("hostname"))
        );
        assert_eq!(
            client.judge(&answer(false, &["timeout-or-duplicate"], "", "")),
            Err(TurnstileError::TokenUsed)
        );
        assert!(matches!(
            client.judge(&answer(false, &["invalid-input-response"], "", "")),
            Err(TurnstileError::Failed(_))
        ));
        assert!(matches!(
            client.judge(&answer(false, &["invalid-input-secret"], "", "")),
            Err(TurnstileError::Misconfigured(_))
        ));
    }
}
