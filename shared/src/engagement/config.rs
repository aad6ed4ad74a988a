use secrecy::SecretString;

use crate::config::{BaseUrl, ConfigError, EnvSource, Settings};
use crate::rate_limit::Limit;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const MIN_SECRET_BYTES: usize = 32;

/// Everything the `engagement` function needs, read once at start.
#[derive(Clone, Debug)]
pub struct EngagementConfig {
    /// `EMAIL_FROM` and `SUPPORT_EMAIL`: who email comes from, where a person writes back.
    pub email_from: crate::email::Sender,
    /// Where this API is reached from outside, path included (`API_ORIGIN`, e.g.
    /// `https://anumi.app/api`): the `List-Unsubscribe` header of marketing emails.
    pub api_origin: BaseUrl,
    pub wallets_table: String,
    pub leads_table: String,
    pub rate_limits_table: String,
    pub refund_requests_table: String,
    pub analytics_table: String,
    pub feedback_table: String,
    pub session_secret: SecretString,
    pub ip_hash_salt: SecretString,
    /// HMAC key of unsubscribe tokens, used for nothing else.
    pub unsubscribe_key: SecretString,
    pub limits: EngagementLimits,
}

/// Rate limits, each from the environment with a default.
#[derive(Clone, Copy, Debug)]
pub struct EngagementLimits {
    /// `REFUND_REQUESTS_PER_IP_PER_HOUR`, default 5.
    pub refund_requests_per_ip: Limit,
    /// `REFUND_REQUESTS_PER_EMAIL_PER_DAY`, default 3: the form emails the address, so it
    /// must not become a way to flood someone's inbox.
    pub refund_requests_per_email: Limit,
    /// `EVENTS_PER_IP_PER_HOUR`, default 600.
    pub events_per_ip: Limit,
    /// `EVENTS_PER_DEVICE_PER_HOUR`, default 300.
    pub events_per_device: Limit,
    /// `FEEDBACK_PER_IP_PER_HOUR`, default 10.
    pub feedback_per_ip: Limit,
    /// `MARKETING_CHANGES_PER_WALLET_PER_HOUR`, default 20 (each change adds a history entry).
    pub marketing_changes_per_wallet: Limit,
    /// `UNSUBSCRIBES_PER_IP_PER_HOUR`, default 60.
    pub unsubscribes_per_ip: Limit,
}

impl EngagementConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let per = |name, default, window| -> Result<Limit, ConfigError> {
            Ok(Limit::per(settings.parsed_or(name, default)?, window))
        };
        Ok(Self {
            email_from: crate::email::Sender::from_env(source)?,
            api_origin: settings.parsed("API_ORIGIN")?,
            wallets_table: settings.required("WALLETS_TABLE")?,
            leads_table: settings.required("LEADS_TABLE")?,
            rate_limits_table: settings.required("RATE_LIMITS_TABLE")?,
            refund_requests_table: settings.required("REFUND_REQUESTS_TABLE")?,
            analytics_table: settings.required("ANALYTICS_TABLE")?,
            feedback_table: settings.required("FEEDBACK_TABLE")?,
            session_secret: settings.secret("SESSION_SECRET", MIN_SECRET_BYTES)?,
            ip_hash_salt: settings.secret("IP_HASH_SALT", MIN_SECRET_BYTES)?,
            unsubscribe_key: settings.secret("UNSUBSCRIBE_KEY", MIN_SECRET_BYTES)?,
            limits: EngagementLimits {
                refund_requests_per_ip: per("REFUND_REQUESTS_PER_IP_PER_HOUR", 5, HOUR)?,
                refund_requests_per_email: per("REFUND_REQUESTS_PER_EMAIL_PER_DAY", 3, DAY)?,
                events_per_ip: per("EVENTS_PER_IP_PER_HOUR", 600, HOUR)?,
                events_per_device: per("EVENTS_PER_DEVICE_PER_HOUR", 300, HOUR)?,
                feedback_per_ip: per("FEEDBACK_PER_IP_PER_HOUR", 10, HOUR)?,
                marketing_changes_per_wallet: per(
                    "MARKETING_CHANGES_PER_WALLET_PER_HOUR",
                    20,
                    HOUR,
                )?,
                unsubscribes_per_ip: per("UNSUBSCRIBES_PER_IP_PER_HOUR", 60, HOUR)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(unsubscribe_key: &str) -> HashMap<String, String> {
        let secret = "0123456789abcdef0123456789abcdef";
        [
            ("EMAIL_FROM", "no-reply@anumi.app"),
            ("SUPPORT_EMAIL", "support@anumi.app"),
            ("API_ORIGIN", "https://api.anumi.app"),
            ("WALLETS_TABLE", "w"),
            ("LEADS_TABLE", "l"),
            ("RATE_LIMITS_TABLE", "r"),
            ("REFUND_REQUESTS_TABLE", "rr"),
            ("ANALYTICS_TABLE", "a"),
            ("FEEDBACK_TABLE", "f"),
            ("SESSION_SECRET", secret),
            ("IP_HASH_SALT", secret),
            ("UNSUBSCRIBE_KEY", unsubscribe_key),
            ("FEEDBACK_PER_IP_PER_HOUR", "4"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn reads_limits_with_defaults_and_refuses_a_short_unsubscribe_key() {
        let config =
            EngagementConfig::from_env(&env("unsubscribe-key-0123456789abcdef01")).unwrap();
        assert_eq!(config.limits.feedback_per_ip, Limit::per(4, HOUR));
        assert_eq!(config.limits.refund_requests_per_email, Limit::per(3, DAY));
        let error = EngagementConfig::from_env(&env("short")).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    name: "UNSUBSCRIBE_KEY",
                    ..
                }
            ),
            "{error}"
        );
    }
}
