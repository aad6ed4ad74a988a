//! Billing configuration: the Polar server, its secrets, and the credit packs for sale.

use secrecy::SecretString;

use super::signature::{KeyFormat, Verifier};
use crate::config::{ConfigError, EnvSource, Origin, Settings, Stage};

/// Which Polar API the checkout talks to (`POLAR_SERVER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolarServer {
    Production,
    Sandbox,
    /// A clearly labelled local stand-in of the hosted checkout (the local stack); refused
    /// in prod.
    Local,
    /// Any base URL, for tests against a stand-in (`POLAR_API_BASE`).
    Custom(String),
}

impl PolarServer {
    pub fn base_url(&self) -> Option<&str> {
        match self {
            Self::Production => Some("https://api.polar.sh"),
            Self::Sandbox => Some("https://sandbox-api.polar.sh"),
            Self::Local => None,
            Self::Custom(base) => Some(base),
        }
    }
}

/// A credit pack: our own name for it (what the API takes), the Polar product that sells
/// it, how many credits it buys, and the price shown for it. Clients never choose the
/// credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditPack {
    pub name: String,
    pub polar_product_id: String,
    pub credits: i64,
    /// What the catalog shows (`GET /catalog`); Polar charges its product's own price, so
    /// this must say the same. `None`: no price shown.
    pub price: Option<Price>,
}

/// An amount of money in the currency's minor units (cents for `usd`, yen for `jpy`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Price {
    pub amount: i64,
    /// ISO 4217, lowercase as Polar writes it (`usd`).
    pub currency: String,
}

impl std::str::FromStr for Price {
    type Err = String;

    /// `500usd`: minor units, then the currency's three letters.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let split = value
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(value.len());
        let (amount, currency) = value.split_at(split);
        let amount: i64 = amount.parse().map_err(|_| {
            format!("{value:?}: a price is minor units then a currency, e.g. 500usd")
        })?;
        if amount <= 0 || currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(format!(
                "{value:?}: a price is a positive amount in minor units then a lowercase ISO currency, e.g. 500usd"
            ));
        }
        Ok(Self {
            amount,
            currency: currency.to_owned(),
        })
    }
}

/// `POLAR_PRODUCTS`: `name=polar_product_id:credits[:price],…`, e.g.
/// `starter=prod_1:10:500usd,pro=prod_2:50:2000usd`; the price (minor units and a lowercase
/// ISO currency) is optional, so the older `starter=prod_1:10` still reads.
pub fn parse_products(value: &str) -> Result<Vec<CreditPack>, String> {
    let mut packs: Vec<CreditPack> = Vec::new();
    let shape = |entry: &str| format!("{entry:?} is not name=product_id:credits[:price]");
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, rest) = entry.split_once('=').ok_or_else(|| shape(entry))?;
        let (rest, last) = rest.rsplit_once(':').ok_or_else(|| shape(entry))?;
        // A last part ending in letters is a price; credits are whole numbers only.
        let (product, credits, price) = if last.trim().ends_with(|c: char| c.is_ascii_alphabetic())
        {
            let (product, credits) = rest.rsplit_once(':').ok_or_else(|| shape(entry))?;
            (product, credits, Some(last.trim().parse::<Price>()?))
        } else {
            (rest, last, None)
        };
        let credits: i64 = credits
            .trim()
            .parse()
            .map_err(|_| format!("{entry:?}: credits must be a whole number"))?;
        let (name, product) = (name.trim(), product.trim());
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid_name || product.is_empty() || credits <= 0 {
            return Err(format!(
                "{entry:?}: needs a lowercase name, a product id and a positive credit count"
            ));
        }
        if packs
            .iter()
            .any(|p| p.name == name || p.polar_product_id == product)
        {
            return Err(format!(
                "{entry:?}: a pack name or product id appears twice"
            ));
        }
        packs.push(CreditPack {
            name: name.to_owned(),
            polar_product_id: product.to_owned(),
            credits,
            price,
        });
    }
    if packs.is_empty() {
        return Err("no credit packs configured".into());
    }
    Ok(packs)
}

#[derive(Clone, Debug)]
pub struct BillingConfig {
    pub stage: Stage,
    pub app_origin: Origin,
    /// `EMAIL_FROM` and `SUPPORT_EMAIL`: who email comes from, where a person writes back.
    pub email_from: crate::email::Sender,
    pub session_secret: SecretString,
    pub wallets_table: String,
    pub ledger_table: String,
    pub orders_table: String,
    pub server: PolarServer,
    pub access_token: SecretString,
    pub webhook: Verifier,
    pub products: Vec<CreditPack>,
    /// `POLAR_LOCAL_CHECKOUT_URL`: the local stack's stand-in checkout page, used only with
    /// `POLAR_SERVER=local`.
    pub local_checkout_url: String,
    /// Where Polar sends the buyer after paying (`{APP_ORIGIN}/credits?checkout_id=…`).
    pub success_url: String,
}

impl BillingConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let stage: Stage = settings.parsed("APP_ENV")?;
        let server = match settings.required("POLAR_SERVER")?.as_str() {
            "production" => PolarServer::Production,
            "sandbox" => PolarServer::Sandbox,
            "local" if stage == Stage::Prod => {
                return Err(ConfigError::Invalid {
                    name: "POLAR_SERVER",
                    reason: "the local checkout stand-in is refused in prod".into(),
                });
            }
            "local" => PolarServer::Local,
            "custom" if stage != Stage::Prod => {
                PolarServer::Custom(settings.required("POLAR_API_BASE")?)
            }
            other => {
                return Err(ConfigError::Invalid {
                    name: "POLAR_SERVER",
                    reason: format!("expected production, sandbox or local, got {other:?}"),
                });
            }
        };
        if stage == Stage::Prod && server != PolarServer::Production {
            return Err(ConfigError::Invalid {
                name: "POLAR_SERVER",
                reason: "prod sells through the production Polar API".into(),
            });
        }
        let format: KeyFormat = settings.parsed_or("POLAR_WEBHOOK_KEY_FORMAT", KeyFormat::Auto)?;
        let secret = settings.secret("POLAR_WEBHOOK_SECRET", 16)?;
        let webhook = Verifier::new(&secret, format).map_err(|reason| ConfigError::Invalid {
            name: "POLAR_WEBHOOK_SECRET",
            reason,
        })?;
        let products = parse_products(&settings.required("POLAR_PRODUCTS")?).map_err(|reason| {
            ConfigError::Invalid {
                name: "POLAR_PRODUCTS",
                reason,
            }
        })?;
        let app_origin: Origin = settings.parsed("APP_ORIGIN")?;
        Ok(Self {
            success_url: format!(
                "{}/credits?checkout_id={{CHECKOUT_ID}}",
                app_origin.as_str()
            ),
            stage,
            app_origin,
            email_from: crate::email::Sender::from_env(source)?,
            session_secret: settings.secret("SESSION_SECRET", 32)?,
            wallets_table: settings.required("WALLETS_TABLE")?,
            ledger_table: settings.required("LEDGER_TABLE")?,
            orders_table: settings.required("ORDERS_TABLE")?,
            local_checkout_url: source
                .get("POLAR_LOCAL_CHECKOUT_URL")
                .unwrap_or_else(|| "http://127.0.0.1:3000/_local/polar/checkout".to_owned()),
            server,
            access_token: settings.secret("POLAR_ACCESS_TOKEN", 8)?,
            webhook,
            products,
        })
    }

    pub fn pack_named(&self, name: &str) -> Option<&CreditPack> {
        self.products.iter().find(|pack| pack.name == name)
    }

    pub fn pack_for_product(&self, polar_product_id: &str) -> Option<&CreditPack> {
        self.products
            .iter()
            .find(|pack| pack.polar_product_id == polar_product_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("APP_ENV", "dev"),
            ("APP_ORIGIN", "https://anumi.app"),
            ("EMAIL_FROM", "no-reply@anumi.app"),
            ("SUPPORT_EMAIL", "support@anumi.app"),
            ("SESSION_SECRET", "local-session-secret-0123456789abcdef"),
            ("WALLETS_TABLE", "w"),
            ("LEDGER_TABLE", "l"),
            ("ORDERS_TABLE", "o"),
            ("POLAR_SERVER", "sandbox"),
            ("POLAR_ACCESS_TOKEN", "polar_oat_test"),
            (
                "POLAR_WEBHOOK_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
            ("POLAR_PRODUCTS", "starter=prod_a:10, pro=prod_b:50"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        env
    }

    #[test]
    fn products_parse_and_are_found_both_ways() {
        let config = BillingConfig::from_env(&env(&[])).unwrap();
        assert_eq!(config.pack_named("pro").unwrap().credits, 50);
        assert_eq!(config.pack_for_product("prod_a").unwrap().name, "starter");
        assert!(config.pack_named("prod_a").is_none());
        assert_eq!(
            config.server.base_url(),
            Some("https://sandbox-api.polar.sh")
        );
        assert_eq!(
            config.success_url,
            "https://anumi.app/credits?checkout_id={CHECKOUT_ID}"
        );
    }

    #[test]
    fn bad_product_lists_are_refused() {
        for bad in [
            "",
            "starter",
            "starter=prod:0",
            "Starter=p:1",
            "a=p:1,a=q:2",
            "a=p:1,b=p:2",
            "a=p:x",
            "a=p:1:usd",
            "a=p:1:0usd",
            "a=p:1:500USD",
            "a=p:1:500us",
            "a=p:500usd",
            "a=p:x:500usd",
        ] {
            assert!(parse_products(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn packs_may_carry_the_price_shown() {
        let packs =
            parse_products("starter=prod_a:10:500usd, pro=prod_b:50, yen=prod_c:5:800jpy").unwrap();
        assert_eq!(
            packs[0].price,
            Some(Price {
                amount: 500,
                currency: "usd".into()
            })
        );
        assert_eq!(
            (packs[0].polar_product_id.as_str(), packs[0].credits),
            ("prod_a", 10)
        );
        assert_eq!(packs[1].price, None);
        assert_eq!(packs[1].credits, 50);
        assert_eq!(packs[2].price.as_ref().unwrap().amount, 800);
    }

    #[test]
    fn prod_refuses_local_and_sandbox() {
        for server in ["local", "sandbox", "custom"] {
            let error =
                BillingConfig::from_env(&env(&[("APP_ENV", "prod"), ("POLAR_SERVER", server)]))
                    .unwrap_err()
                    .to_string();
            assert!(error.contains("POLAR_SERVER"), "{error}");
        }
        assert!(
            BillingConfig::from_env(&env(&[("APP_ENV", "prod"), ("POLAR_SERVER", "production")]))
                .is_ok()
        );
        assert!(BillingConfig::from_env(&env(&[("POLAR_SERVER", "local")])).is_ok());
    }

    #[test]
    fn a_base64_key_format_needs_a_whsec_secret() {
        let error = BillingConfig::from_env(&env(&[
            ("POLAR_WEBHOOK_KEY_FORMAT", "base64"),
            ("POLAR_WEBHOOK_SECRET", "an-old-style-secret-string"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(error.contains("POLAR_WEBHOOK_SECRET"), "{error}");
    }
}
