use secrecy::SecretString;
use serde::Serialize;

use crate::billing::{CreditPack, parse_products};
use crate::config::{ConfigError, EnvSource, Origin, Settings, Stage};
use crate::generations::Product;
use crate::providers::turnstile::TurnstileConfig;

/// Credits each product costs (`PRICE_AVATAR`, `PRICE_STICKERS`, `PRICE_SPEECH_BUBBLE`).
/// Serialized as `GET /catalog`'s `costs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Prices {
    pub avatar: i64,
    pub stickers: i64,
    pub speech_bubble: i64,
}

impl Prices {
    pub fn from_env(settings: &Settings<'_>) -> Result<Self, ConfigError> {
        let price = |name, default| -> Result<i64, ConfigError> {
            let value: i64 = settings.parsed_or(name, default)?;
            if value < 0 {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "a price cannot be negative".into(),
                });
            }
            Ok(value)
        };
        Ok(Self {
            avatar: price("PRICE_AVATAR", 1)?,
            stickers: price("PRICE_STICKERS", 1)?,
            speech_bubble: price("PRICE_SPEECH_BUBBLE", 1)?,
        })
    }

    pub fn of(&self, product: Product) -> i64 {
        match product {
            Product::Avatar => self.avatar,
            Product::Stickers => self.stickers,
            Product::SpeechBubble => self.speech_bubble,
        }
    }

    /// The bundle of all deliverables comes with any order at no extra cost.
    pub fn cost(&self, products: &[Product]) -> i64 {
        products.iter().map(|product| self.of(*product)).sum()
    }
}

#[derive(Clone, Debug)]
pub struct UploadsConfig {
    pub session_secret: SecretString,
    pub wallets_table: String,
    /// `LEDGER_TABLE`: every credit change is recorded there.
    pub ledger_table: String,
    pub generations_table: String,
    pub selfie_bucket: String,
    pub generated_bucket: String,
    pub prices: Prices,
    /// `MAX_UPLOAD_BYTES`, default 10 MiB.
    pub max_upload_bytes: i64,
    /// `UPLOAD_URL_TTL_SECONDS`, default 10 minutes.
    pub upload_url_ttl_seconds: u64,
    /// `DOWNLOAD_URL_TTL_SECONDS`, default 1 hour.
    pub download_url_ttl_seconds: u64,
    pub trial: TrialConfig,
    pub catalog: CatalogConfig,
}

/// What `GET /catalog` publishes besides the limits enforced here: the packs for sale and
/// the Turnstile widget's public key.
#[derive(Clone, Debug)]
pub struct CatalogConfig {
    /// `POLAR_PRODUCTS`, read as polar-webhook reads it (`crate::billing::parse_products`).
    pub packs: Vec<CreditPack>,
    /// `TURNSTILE_SITE_KEY`: required in prod (the trial cannot be taken without the
    /// widget); elsewhere absent means the app's local stand-in.
    pub turnstile_site_key: Option<String>,
}

impl CatalogConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let packs = parse_products(&settings.required("POLAR_PRODUCTS")?).map_err(|reason| {
            ConfigError::Invalid {
                name: "POLAR_PRODUCTS",
                reason,
            }
        })?;
        let turnstile_site_key = settings.optional("TURNSTILE_SITE_KEY");
        if turnstile_site_key.is_none() && crate::config::stage(source)? == Stage::Prod {
            return Err(ConfigError::Missing("TURNSTILE_SITE_KEY"));
        }
        Ok(Self {
            packs,
            turnstile_site_key,
        })
    }
}

/// The free trial (`POST /trial`).
#[derive(Clone, Debug)]
pub struct TrialConfig {
    pub trials_table: String,
    pub leads_table: String,
    pub app_origin: Origin,
    /// `EMAIL_FROM` and `SUPPORT_EMAIL`: who email comes from, where a person writes back.
    pub email_from: crate::email::Sender,
    pub ip_hash_salt: SecretString,
    /// `TRIAL_LINK_SECRET`: signs the trial links.
    pub link_secret: SecretString,
    pub turnstile: TurnstileConfig,
    /// `TRIAL_WINDOW_SECONDS`: one trial per device id in this window (default 30 days);
    /// the IP-hash part covers at most its first 24 hours.
    pub window_seconds: i64,
    /// `TRIAL_LINK_TTL_SECONDS`: how long the trial link works (default 30 days).
    pub link_ttl_seconds: i64,
}

impl TrialConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let positive = |name: &'static str, default: i64| -> Result<i64, ConfigError> {
            let value: i64 = settings.parsed_or(name, default)?;
            if value < 1 {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "must be at least 1 second".into(),
                });
            }
            Ok(value)
        };
        Ok(Self {
            trials_table: settings.required("TRIALS_TABLE")?,
            leads_table: settings.required("LEADS_TABLE")?,
            app_origin: settings.parsed("APP_ORIGIN")?,
            email_from: crate::email::Sender::from_env(source)?,
            ip_hash_salt: settings.secret("IP_HASH_SALT", 32)?,
            link_secret: settings.secret("TRIAL_LINK_SECRET", 32)?,
            turnstile: TurnstileConfig::from_settings(&settings, crate::config::stage(source)?)?,
            window_seconds: positive("TRIAL_WINDOW_SECONDS", 30 * 24 * 3600)?,
            link_ttl_seconds: positive("TRIAL_LINK_TTL_SECONDS", 30 * 24 * 3600)?,
        })
    }
}

impl UploadsConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            session_secret: settings.secret("SESSION_SECRET", 32)?,
            wallets_table: settings.required("WALLETS_TABLE")?,
            ledger_table: settings.required("LEDGER_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
            generated_bucket: settings.required("GENERATED_BUCKET")?,
            prices: Prices::from_env(&settings)?,
            max_upload_bytes: settings.parsed_or("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)?,
            upload_url_ttl_seconds: settings.parsed_or("UPLOAD_URL_TTL_SECONDS", 600)?,
            download_url_ttl_seconds: settings.parsed_or("DOWNLOAD_URL_TTL_SECONDS", 3600)?,
            trial: TrialConfig::from_env(source)?,
            catalog: CatalogConfig::from_env(source)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn prices_add_up_and_refuse_negatives() {
        let env: HashMap<String, String> = [("PRICE_STICKERS".to_owned(), "2".to_owned())].into();
        let prices = Prices::from_env(&Settings::new(&env)).unwrap();
        assert_eq!(
            prices.cost(&[Product::Avatar, Product::Stickers, Product::SpeechBubble]),
            4
        );
        let env: HashMap<String, String> = [("PRICE_AVATAR".to_owned(), "-1".to_owned())].into();
        let error = Prices::from_env(&Settings::new(&env))
            .unwrap_err()
            .to_string();
        assert!(error.contains("PRICE_AVATAR"), "{error}");
    }

    #[test]
    fn the_catalog_reads_the_packs_and_needs_a_site_key_in_prod() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let dev = env(&[
            ("APP_ENV", "dev"),
            ("POLAR_PRODUCTS", "starter=prod_a:10:500usd"),
            ("TURNSTILE_SITE_KEY", " "),
        ]);
        let catalog = CatalogConfig::from_env(&dev).unwrap();
        assert_eq!(catalog.packs[0].credits, 10);
        assert_eq!(catalog.turnstile_site_key, None);
        let prod = env(&[("APP_ENV", "prod"), ("POLAR_PRODUCTS", "starter=prod_a:10")]);
        let error = CatalogConfig::from_env(&prod).unwrap_err().to_string();
        assert!(error.contains("TURNSTILE_SITE_KEY"), "{error}");
        let keyed = env(&[
            ("APP_ENV", "prod"),
            ("POLAR_PRODUCTS", "starter=prod_a:10"),
            ("TURNSTILE_SITE_KEY", "0x4AAAAAAA"),
        ]);
        assert_eq!(
            CatalogConfig::from_env(&keyed)
                .unwrap()
                .turnstile_site_key
                .as_deref(),
            Some("0x4AAAAAAA")
        );
    }
}
