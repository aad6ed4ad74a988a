use secrecy::SecretString;

use crate::config::{ConfigError, EnvSource, Origin, Settings, Stage};
use crate::rate_limit::Limit;

const HOUR: i64 = 3600;
/// Every key is an HMAC or HS256 key: 32 bytes is the floor for 128-bit security margins.
const MIN_SECRET_BYTES: usize = 32;

/// Everything the `otp` function needs, read once at start.
#[derive(Clone, Debug)]
pub struct OtpConfig {
    pub stage: Stage,
    pub app_origin: Origin,
    /// `EMAIL_FROM` and `SUPPORT_EMAIL`: who email comes from, where a person writes back.
    pub email_from: crate::email::Sender,
    pub tables: Tables,
    pub secrets: Secrets,
    pub limits: OtpLimits,
}

#[derive(Clone, Debug)]
pub struct Tables {
    pub wallets: String,
    pub leads: String,
    pub otp_codes: String,
    pub rate_limits: String,
}

#[derive(Clone, Debug)]
pub struct Secrets {
    /// HS256 key of session JWTs.
    pub session: SecretString,
    /// Salt of the IP hashes.
    pub ip_hash_salt: SecretString,
    /// Key of the one-time-code hashes and of the email hashes used as keys.
    pub otp_hash_key: SecretString,
}

/// Sign-in limits; defaults follow common practice and each can be set in the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtpLimits {
    /// Codes sent to one email per hour (`OTP_CODES_PER_EMAIL_PER_HOUR`, default 5).
    pub codes_per_email: Limit,
    /// Minimum seconds between two codes to one email (`OTP_RESEND_INTERVAL_SECONDS`, 60).
    pub resend_interval: Limit,
    /// Sign-in starts per IP hash per hour (`OTP_STARTS_PER_IP_PER_HOUR`, default 30).
    pub starts_per_ip: Limit,
    /// Code checks per IP hash per hour (`OTP_VERIFIES_PER_IP_PER_HOUR`, default 60), so
    /// nobody can spread guesses over many emails.
    pub verifies_per_ip: Limit,
}

impl Default for OtpLimits {
    fn default() -> Self {
        Self {
            codes_per_email: Limit::per(5, HOUR),
            resend_interval: Limit::per(1, 60),
            starts_per_ip: Limit::per(30, HOUR),
            verifies_per_ip: Limit::per(60, HOUR),
        }
    }
}

impl OtpConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let defaults = OtpLimits::default();
        let per_hour = |name, default: Limit| -> Result<Limit, ConfigError> {
            Ok(Limit::per(settings.parsed_or(name, default.limit)?, HOUR))
        };
        Ok(Self {
            stage: settings.parsed("APP_ENV")?,
            app_origin: settings.parsed("APP_ORIGIN")?,
            email_from: crate::email::Sender::from_env(source)?,
            tables: Tables {
                wallets: settings.required("WALLETS_TABLE")?,
                leads: settings.required("LEADS_TABLE")?,
                otp_codes: settings.required("OTP_CODES_TABLE")?,
                rate_limits: settings.required("RATE_LIMITS_TABLE")?,
            },
            secrets: Secrets {
                session: settings.secret("SESSION_SECRET", MIN_SECRET_BYTES)?,
                ip_hash_salt: settings.secret("IP_HASH_SALT", MIN_SECRET_BYTES)?,
                otp_hash_key: settings.secret("OTP_HASH_KEY", MIN_SECRET_BYTES)?,
            },
            limits: OtpLimits {
                codes_per_email: per_hour(
                    "OTP_CODES_PER_EMAIL_PER_HOUR",
                    defaults.codes_per_email,
                )?,
                resend_interval: Limit::per(
                    1,
                    settings.parsed_or(
                        "OTP_RESEND_INTERVAL_SECONDS",
                        defaults.resend_interval.window,
                    )?,
                ),
                starts_per_ip: per_hour("OTP_STARTS_PER_IP_PER_HOUR", defaults.starts_per_ip)?,
                verifies_per_ip: per_hour(
                    "OTP_VERIFIES_PER_IP_PER_HOUR",
                    defaults.verifies_per_ip,
                )?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn complete() -> HashMap<String, String> {
        [
            ("APP_ENV", "dev"),
            ("APP_ORIGIN", "https://anumi.app"),
            ("EMAIL_FROM", "no-reply@anumi.app"),
            ("SUPPORT_EMAIL", "support@anumi.app"),
            ("WALLETS_TABLE", "w"),
            ("LEADS_TABLE", "l"),
            ("OTP_CODES_TABLE", "o"),
            ("RATE_LIMITS_TABLE", "r"),
            ("SESSION_SECRET", "s".repeat(32).as_str()),
            ("IP_HASH_SALT", "i".repeat(32).as_str()),
            ("OTP_HASH_KEY", "k".repeat(32).as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn loads_with_default_limits() {
        let config = OtpConfig::from_env(&complete()).unwrap();
        assert_eq!(config.limits, OtpLimits::default());
        assert_eq!(config.tables.otp_codes, "o");
    }

    #[test]
    fn each_required_setting_is_named_when_missing() {
        for name in complete().keys() {
            let mut env = complete();
            env.remove(name);
            let error = OtpConfig::from_env(&env).unwrap_err().to_string();
            assert!(error.contains(name.as_str()), "{name}: {error}");
        }
    }

    #[test]
    fn limits_can_be_configured_and_malformed_ones_are_named() {
        let mut env = complete();
        env.insert("OTP_CODES_PER_EMAIL_PER_HOUR".into(), "3".into());
        env.insert("OTP_RESEND_INTERVAL_SECONDS".into(), "30".into());
        let limits = OtpConfig::from_env(&env).unwrap().limits;
        assert_eq!(limits.codes_per_email, Limit::per(3, 3600));
        assert_eq!(limits.resend_interval, Limit::per(1, 30));

        env.insert("OTP_STARTS_PER_IP_PER_HOUR".into(), "-1".into());
        let error = OtpConfig::from_env(&env).unwrap_err().to_string();
        assert!(error.contains("OTP_STARTS_PER_IP_PER_HOUR"), "{error}");
    }
}
