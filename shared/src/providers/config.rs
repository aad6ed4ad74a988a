//! Which provider serves moderation and image edits, and how to reach OpenAI.
//!
//! | setting | meaning | default |
//! |---|---|---|
//! | `MODERATION_PROVIDER` | `openai` or `local` | none: required |
//! | `IMAGE_PROVIDER` | `openai` or `local` | none: required |
//! | `OPENAI_API_KEY` | secret; required when either provider is `openai` | |
//! | `OPENAI_BASE_URL` | scheme and host, no path | `https://api.openai.com` |
//! | `OPENAI_IMAGE_MODEL` | GPT image model of image edits | [`DEFAULT_IMAGE_MODEL`] |
//! | `OPENAI_MODERATION_MODEL` | moderation model | `omni-moderation-latest` |
//! | `OPENAI_MAX_ATTEMPTS` | tries per call, 1 to 10 | 3 |
//!
//! The providers have no default on purpose: every environment's configuration states its
//! choice, so a production deployment can never fall back to a stand-in by omission, and
//! `prod` refuses `local` outright.

use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

use super::openai::{ClientBuildError, OpenAiClient};
use crate::config::{ConfigError, EnvSource, Origin, Settings, Stage};

/// OpenAI's current GPT image model for edits, chosen on 2026-11-22 from OpenAI's own pages:
///
/// - the deprecations page (<https://developers.openai.com/api/docs/deprecations>):
///   `gpt-image-1` was shut down on 2026-10-23; `gpt-image-1.5`, `gpt-image-1-mini` and
///   `chatgpt-image-latest` shut down on 2026-12-01, with "gpt-image-2.6-sunburst or
///   gpt-image-2.6-flare" as the recommended replacement;
/// - the GPT Image 2.6 prompting guide
///   (<https://developers.openai.com/api/docs/guides/image-prompting?model=gpt-image-2.6>):
///   both 2.6 models "support image generation, editing, and transparent backgrounds";
///   Flare is the one to start with "if response time matters most", Sunburst when the
///   image needs more detail or edit accuracy.
///
/// Flare keeps a generation Lambda's run short; `OPENAI_IMAGE_MODEL=gpt-image-2.6-sunburst`
/// trades time for fidelity. (`gpt-image-2` is not a candidate: its transparent backgrounds,
/// which stickers need, were only ever a preview.)
pub const DEFAULT_IMAGE_MODEL: &str = "gpt-image-2.6-flare";
/// OpenAI's moderation model that accepts images (the `text-moderation-*` models do not).
pub const DEFAULT_MODERATION_MODEL: &str = "omni-moderation-latest";
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com";
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
const MAX_ATTEMPTS_LIMIT: u32 = 10;
/// OpenAI keys are long (`sk-…`, 50 to 200 characters); anything this short is a paste error.
const MIN_API_KEY_BYTES: usize = 20;

/// Who serves one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderChoice {
    OpenAi,
    /// The development stand-in: never a real content check or a real image model.
    Local,
}

impl FromStr for ProviderChoice {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "openai" => Ok(Self::OpenAi),
            "local" => Ok(Self::Local),
            other => Err(format!("expected openai or local, got {other:?}")),
        }
    }
}

/// How a call is retried: up to `max_attempts` tries, waiting `base_delay × 2ⁿ` with jitter
/// (or the provider's `Retry-After`) between them, and never more than `max_total_delay` in
/// all, so a Lambda does not sleep past its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_total_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_delay: Duration::from_millis(500),
            max_total_delay: Duration::from_secs(20),
        }
    }
}

/// Everything the OpenAI client needs.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub api_key: SecretString,
    pub base_url: Origin,
    pub image_model: String,
    pub moderation_model: String,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Per attempt. Moderation answers in about a second.
    pub moderation_timeout: Duration,
    /// Per attempt. An edit at 1024x1024 takes tens of seconds, longer under load.
    pub image_timeout: Duration,
}

impl OpenAiConfig {
    /// The defaults, for `api_key` at `base_url`.
    pub fn new(api_key: SecretString, base_url: Origin) -> Self {
        Self {
            api_key,
            base_url,
            image_model: DEFAULT_IMAGE_MODEL.to_owned(),
            moderation_model: DEFAULT_MODERATION_MODEL.to_owned(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            moderation_timeout: Duration::from_secs(30),
            image_timeout: Duration::from_secs(180),
        }
    }

    fn from_settings(settings: &Settings, stage: Stage) -> Result<Self, ConfigError> {
        let base_url = settings.parsed_or("OPENAI_BASE_URL", default_base_url())?;
        // The key travels in a header: never in clear text outside development.
        if stage == Stage::Prod && !base_url.as_str().starts_with("https://") {
            return Err(ConfigError::Invalid {
                name: "OPENAI_BASE_URL",
                reason: "must be https:// in prod".into(),
            });
        }
        let mut config = Self::new(
            settings.secret("OPENAI_API_KEY", MIN_API_KEY_BYTES)?,
            base_url,
        );
        config.image_model = text_or(settings, "OPENAI_IMAGE_MODEL", config.image_model)?;
        config.moderation_model =
            text_or(settings, "OPENAI_MODERATION_MODEL", config.moderation_model)?;
        config.retry.max_attempts = max_attempts(settings)?;
        Ok(config)
    }
}

/// The providers of this deployment, read once at start.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub moderation: ProviderChoice,
    pub image: ProviderChoice,
    /// Present exactly when either provider is OpenAI.
    pub openai: Option<OpenAiConfig>,
}

impl ProviderConfig {
    pub fn from_env(source: &dyn EnvSource, stage: Stage) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let moderation = choice(&settings, "MODERATION_PROVIDER", stage)?;
        let image = choice(&settings, "IMAGE_PROVIDER", stage)?;
        let openai = if moderation == ProviderChoice::OpenAi || image == ProviderChoice::OpenAi {
            Some(OpenAiConfig::from_settings(&settings, stage)?)
        } else {
            None
        };
        Ok(Self {
            moderation,
            image,
            openai,
        })
    }

    /// The process's OpenAI client, when either provider is OpenAI; build it once at start
    /// and share it (clones share the connection pool).
    pub fn openai_client(&self) -> Result<Option<OpenAiClient>, ClientBuildError> {
        self.openai.clone().map(OpenAiClient::new).transpose()
    }
}

/// An optional text setting; blank counts as absent (a template parameter left empty).
fn text_or(
    settings: &Settings,
    name: &'static str,
    default: String,
) -> Result<String, ConfigError> {
    let value: String = settings.parsed_or(name, default.clone())?;
    Ok(if value.is_empty() { default } else { value })
}

fn choice(
    settings: &Settings,
    name: &'static str,
    stage: Stage,
) -> Result<ProviderChoice, ConfigError> {
    let choice = settings.parsed(name)?;
    if choice == ProviderChoice::Local && stage == Stage::Prod {
        return Err(ConfigError::Invalid {
            name,
            reason: "local is a development stand-in and is refused in prod; use openai".into(),
        });
    }
    Ok(choice)
}

fn max_attempts(settings: &Settings) -> Result<u32, ConfigError> {
    let name = "OPENAI_MAX_ATTEMPTS";
    let attempts = settings.parsed_or(name, DEFAULT_MAX_ATTEMPTS)?;
    if (1..=MAX_ATTEMPTS_LIMIT).contains(&attempts) {
        Ok(attempts)
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}"),
        })
    }
}

fn default_base_url() -> Origin {
    // A constant known to parse: covered by a test below.
    DEFAULT_BASE_URL
        .parse()
        .unwrap_or_else(|_| unreachable!("the default base URL is a valid origin"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    const KEY: &str = "sk-test-0123456789abcdef0123456789";

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn openai_everywhere() -> HashMap<String, String> {
        env(&[
            ("MODERATION_PROVIDER", "openai"),
            ("IMAGE_PROVIDER", "openai"),
            ("OPENAI_API_KEY", KEY),
        ])
    }

    fn error(source: &HashMap<String, String>, stage: Stage) -> String {
        ProviderConfig::from_env(source, stage)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn openai_defaults_apply_when_only_the_key_is_set() {
        let config = ProviderConfig::from_env(&openai_everywhere(), Stage::Prod).unwrap();
        assert_eq!(config.moderation, ProviderChoice::OpenAi);
        assert_eq!(config.image, ProviderChoice::OpenAi);
        let openai = config.openai.unwrap();
        assert_eq!(openai.api_key.expose_secret(), KEY);
        assert_eq!(openai.base_url.as_str(), "https://api.openai.com");
        assert_eq!(openai.image_model, DEFAULT_IMAGE_MODEL);
        assert_eq!(openai.moderation_model, "omni-moderation-latest");
        assert_eq!(openai.retry.max_attempts, 3);
    }

    #[test]
    fn the_default_image_model_is_not_a_shut_down_one() {
        let shut_down = [
            "gpt-image-1",
            "gpt-image-1-mini",
            "gpt-image-1.5",
            "chatgpt-image-latest",
            "dall-e-2",
            "dall-e-3",
        ];
        assert!(!shut_down.contains(&DEFAULT_IMAGE_MODEL));
    }

    #[test]
    fn openai_settings_can_be_overridden() {
        let mut source = openai_everywhere();
        source.extend(env(&[
            ("OPENAI_BASE_URL", "http://127.0.0.1:9000"),
            ("OPENAI_IMAGE_MODEL", "gpt-image-2.6-sunburst"),
            ("OPENAI_MODERATION_MODEL", "omni-moderation-2024-09-26"),
            ("OPENAI_MAX_ATTEMPTS", "5"),
        ]));
        let openai = ProviderConfig::from_env(&source, Stage::Dev)
            .unwrap()
            .openai
            .unwrap();
        assert_eq!(openai.base_url.as_str(), "http://127.0.0.1:9000");
        assert_eq!(openai.image_model, "gpt-image-2.6-sunburst");
        assert_eq!(openai.moderation_model, "omni-moderation-2024-09-26");
        assert_eq!(openai.retry.max_attempts, 5);
    }

    #[test]
    fn providers_have_no_default() {
        for name in ["MODERATION_PROVIDER", "IMAGE_PROVIDER"] {
            let mut source = openai_everywhere();
            source.remove(name);
            assert_eq!(
                error(&source, Stage::Dev),
                format!("missing setting {name}")
            );
        }
    }

    #[test]
    fn unknown_providers_are_named() {
        let mut source = openai_everywhere();
        source.insert("IMAGE_PROVIDER".into(), "OpenAI".into());
        let message = error(&source, Stage::Dev);
        assert!(
            message.starts_with("invalid setting IMAGE_PROVIDER:"),
            "{message}"
        );
    }

    #[test]
    fn the_key_is_required_when_either_provider_is_openai() {
        for (moderation, image) in [("openai", "local"), ("local", "openai")] {
            let source = env(&[
                ("MODERATION_PROVIDER", moderation),
                ("IMAGE_PROVIDER", image),
            ]);
            assert_eq!(error(&source, Stage::Dev), "missing setting OPENAI_API_KEY");
        }
        let short = env(&[
            ("MODERATION_PROVIDER", "openai"),
            ("IMAGE_PROVIDER", "openai"),
            ("OPENAI_API_KEY", "sk-short"),
        ]);
        assert!(error(&short, Stage::Dev).contains("OPENAI_API_KEY"));
    }

    #[test]
    fn local_everywhere_needs_no_openai_setting() {
        let source = env(&[
            ("MODERATION_PROVIDER", "local"),
            ("IMAGE_PROVIDER", "local"),
        ]);
        let config = ProviderConfig::from_env(&source, Stage::Dev).unwrap();
        assert_eq!(config.moderation, ProviderChoice::Local);
        assert_eq!(config.image, ProviderChoice::Local);
        assert!(config.openai.is_none());
    }

    #[test]
    fn prod_refuses_each_local_provider_by_name() {
        for name in ["MODERATION_PROVIDER", "IMAGE_PROVIDER"] {
            let mut source = openai_everywhere();
            source.insert(name.into(), "local".into());
            let message = error(&source, Stage::Prod);
            assert!(
                message.starts_with(&format!("invalid setting {name}:")),
                "{message}"
            );
            assert!(message.contains("refused in prod"), "{message}");
            assert!(ProviderConfig::from_env(&source, Stage::Dev).is_ok());
        }
    }

    #[test]
    fn malformed_openai_settings_are_named() {
        for (name, value) in [
            ("OPENAI_BASE_URL", "api.openai.com"),
            ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
            ("OPENAI_MAX_ATTEMPTS", "three"),
            ("OPENAI_MAX_ATTEMPTS", "0"),
            ("OPENAI_MAX_ATTEMPTS", "11"),
        ] {
            let mut source = openai_everywhere();
            source.insert(name.into(), value.into());
            let message = error(&source, Stage::Dev);
            assert!(
                message.starts_with(&format!("invalid setting {name}:")),
                "{name}={value}: {message}"
            );
        }
    }

    #[test]
    fn prod_sends_the_key_over_https_only() {
        let mut source = openai_everywhere();
        source.insert("OPENAI_BASE_URL".into(), "http://127.0.0.1:9000".into());
        let message = error(&source, Stage::Prod);
        assert!(
            message.starts_with("invalid setting OPENAI_BASE_URL:"),
            "{message}"
        );
        assert!(ProviderConfig::from_env(&source, Stage::Dev).is_ok());
    }

    #[test]
    fn blank_model_settings_fall_back_to_the_defaults() {
        let mut source = openai_everywhere();
        source.insert("OPENAI_IMAGE_MODEL".into(), "  ".into());
        let openai = ProviderConfig::from_env(&source, Stage::Dev)
            .unwrap()
            .openai
            .unwrap();
        assert_eq!(openai.image_model, DEFAULT_IMAGE_MODEL);
    }

    #[test]
    fn the_client_is_built_only_for_openai() {
        let config = ProviderConfig::from_env(&openai_everywhere(), Stage::Dev).unwrap();
        assert!(config.openai_client().unwrap().is_some());
        let local = env(&[
            ("MODERATION_PROVIDER", "local"),
            ("IMAGE_PROVIDER", "local"),
        ]);
        let config = ProviderConfig::from_env(&local, Stage::Dev).unwrap();
        assert!(config.openai_client().unwrap().is_none());
    }

    #[test]
    fn the_key_never_prints() {
        let config = ProviderConfig::from_env(&openai_everywhere(), Stage::Dev).unwrap();
        assert!(!format!("{config:?}").contains(KEY));
    }

    #[test]
    fn the_default_base_url_is_a_valid_origin() {
        assert!(DEFAULT_BASE_URL.parse::<Origin>().is_ok());
    }
}
