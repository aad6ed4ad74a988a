//! Configuration from the environment, read once at start. A missing or malformed setting
//! stops the function before it serves anything, with a message naming the setting.

use std::collections::HashMap;
use std::str::FromStr;

use secrecy::SecretString;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing setting {0}")]
    Missing(&'static str),
    #[error("invalid setting {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where settings come from: the process environment in Lambda, a map in tests.
pub trait EnvSource {
    fn get(&self, name: &str) -> Option<String>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl EnvSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// Reads a function's configuration from the process environment at start. A refusal is
/// logged (it names the setting) and returned, so the function stops before serving.
pub fn load<T>(
    read: impl FnOnce(&dyn EnvSource) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    read(&ProcessEnv).inspect_err(|error| tracing::error!(%error, "configuration refused"))
}

/// The deployment stage (`APP_ENV`: dev or prod).
pub fn stage(source: &dyn EnvSource) -> Result<Stage, ConfigError> {
    Settings::new(source).parsed("APP_ENV")
}

/// Typed access to settings; every accessor names the setting in its error.
pub struct Settings<'a>(&'a dyn EnvSource);

impl<'a> Settings<'a> {
    pub fn new(source: &'a dyn EnvSource) -> Self {
        Self(source)
    }

    /// A required, non-blank setting.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        match self.0.get(name) {
            Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
            _ => Err(ConfigError::Missing(name)),
        }
    }

    /// An optional setting: `None` when absent or blank.
    pub fn optional(&self, name: &'static str) -> Option<String> {
        self.0
            .get(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// A required secret of at least `min_bytes`, wrapped so it never prints.
    pub fn secret(
        &self,
        name: &'static str,
        min_bytes: usize,
    ) -> Result<SecretString, ConfigError> {
        let value = self.required(name)?;
        if value.len() < min_bytes {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("must be at least {min_bytes} bytes long"),
            });
        }
        Ok(SecretString::from(value))
    }

    /// An optional setting parsed with `FromStr`, `default` when absent.
    pub fn parsed_or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.0.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|error: T::Err| ConfigError::Invalid {
                    name,
                    reason: error.to_string(),
                }),
        }
    }

    /// A required setting parsed with `FromStr`.
    pub fn parsed<T>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.required(name)?
            .parse()
            .map_err(|error: T::Err| ConfigError::Invalid {
                name,
                reason: error.to_string(),
            })
    }
}

/// Which deployment this is. Production refuses local-only stand-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Dev,
    Prod,
}

impl FromStr for Stage {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "dev" => Ok(Self::Dev),
            "prod" => Ok(Self::Prod),
            other => Err(format!("expected dev or prod, got {other:?}")),
        }
    }
}

/// An `https://host[:port]` (or `http://` for local use) origin without a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Origin {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .ok_or("must start with https:// or http://")?;
        let valid = !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be a scheme and host only, without a path".to_owned())
        }
    }
}

/// A public base URL: an [`Origin`] with an optional path and no trailing slash, such as
/// `https://anumi.app/api` (the API behind the app's CloudFront distribution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BaseUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let scheme_end = value.find("://").map_or(0, |at| at + 3);
        let (origin, path) = match value[scheme_end..].find('/') {
            Some(at) => value.split_at(scheme_end + at),
            None => (value, ""),
        };
        origin.parse::<Origin>()?;
        let valid_path = path.is_empty()
            || (!path.ends_with('/')
                && !path.contains("//")
                && path.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '~')
                }));
        if valid_path {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be an origin and an optional path without a trailing slash, query or fragment".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn missing_and_blank_settings_are_named() {
        let source = env(&[("BLANK", "  ")]);
        let settings = Settings::new(&source);
        assert_eq!(
            settings.required("ABSENT"),
            Err(ConfigError::Missing("ABSENT"))
        );
        assert_eq!(
            settings.required("BLANK"),
            Err(ConfigError::Missing("BLANK"))
        );
        assert_eq!(
            ConfigError::Missing("ABSENT").to_string(),
            "missing setting ABSENT"
        );
    }

    #[test]
    fn malformed_numbers_name_the_setting() {
        let source = env(&[("LIMIT", "five")]);
        let error = Settings::new(&source).parsed_or("LIMIT", 5u32).unwrap_err();
        assert!(
            error.to_string().starts_with("invalid setting LIMIT:"),
            "{error}"
        );
        assert_eq!(Settings::new(&source).parsed_or("OTHER", 5u32), Ok(5));
    }

    #[test]
    fn short_secrets_are_refused_and_secrets_never_print() {
        let source = env(&[
            ("KEY", "short"),
            ("GOOD", "0123456789abcdef0123456789abcdef"),
        ]);
        let settings = Settings::new(&source);
        assert!(matches!(
            settings.secret("KEY", 32),
            Err(ConfigError::Invalid { name: "KEY", .. })
        ));
        let secret = settings.secret("GOOD", 32).unwrap();
        assert_eq!(secret.expose_secret(), "0123456789abcdef0123456789abcdef");
        assert!(!format!("{secret:?}").contains("0123456789"));
    }

    #[test]
    fn stage_and_origin_parse_strictly() {
        assert_eq!("prod".parse::<Stage>(), Ok(Stage::Prod));
        assert!("production".parse::<Stage>().is_err());
        assert!("https://anumi.app".parse::<Origin>().is_ok());
        assert!("http://127.0.0.1:3000".parse::<Origin>().is_ok());
        assert!("https://anumi.app/path".parse::<Origin>().is_err());
        assert!("anumi.app".parse::<Origin>().is_err());
    }

    #[test]
    fn base_urls_are_origins_with_an_optional_path() {
        for good in [
            "https://anumi.app/api",
            "https://anumi.app",
            "http://localhost:3120/api",
            "https://x.test/a/b",
        ] {
            assert_eq!(good.parse::<BaseUrl>().unwrap().as_str(), good);
        }
        for bad in [
            "https://anumi.app/api/",
            "https://anumi.app/",
            "https://anumi.app/api?x=1",
            "https://anumi.app//api",
            "anumi.app/api",
            "https:///api",
        ] {
            assert!(bad.parse::<BaseUrl>().is_err(), "{bad}");
        }
    }
}
