//! The privacy rights of policy section 6: access and portability (an archive of everything
//! held about a person, emailed as a time-limited link) and erasure (recorded, acknowledged,
//! carried out by the hourly retention job, confirmed by email).
//!
//! Every store that holds personal data is one small [`PersonalData`] piece in
//! [`stores::registry`]: how to export its rows for a person and how to erase them. Export
//! and erasure walk that one list, so a new store is covered by adding one piece there.

pub mod api;
pub mod archive;
pub mod choices;
pub mod erasure;
pub mod mail;
pub mod page;
pub mod records;
pub mod requests;
pub mod stores;
pub mod worker;

use std::future::Future;
use std::pin::Pin;

use aws_config::SdkConfig;
use secrecy::SecretString;

use crate::clock::UnixSeconds;
use crate::config::{ConfigError, EnvSource, Settings};
use crate::email::EmailAddress;
use crate::locale::Locale;
use crate::privacy::keyed_hash;

pub use stores::{PersonalData, registry};

/// A boxed future, so stores can be trait objects in one registry.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Archives (and their download links) live 7 days, like the bucket's lifecycle rule.
pub const EXPORT_LIFETIME_SECONDS: i64 = 7 * 24 * 3600;

/// Where every store of personal data is, for export and erasure.
#[derive(Clone, Debug)]
pub struct StoresConfig {
    pub wallets_table: String,
    pub leads_table: String,
    pub otp_codes_table: String,
    pub rate_limits_table: String,
    pub generations_table: String,
    pub moderation_log_table: String,
    pub ledger_table: String,
    pub orders_table: String,
    pub analytics_table: String,
    pub feedback_table: String,
    pub refund_requests_table: String,
    pub trials_table: String,
    pub privacy_requests_table: String,
    pub selfie_bucket: String,
    pub generated_bucket: String,
    pub exports_bucket: String,
    /// The key of the email hash (`OTP_HASH_KEY`): codes and rate limits are keyed by it.
    pub email_hash_key: SecretString,
    /// `EMAIL_FROM` and `SUPPORT_EMAIL`: who email comes from, where a person writes back.
    pub email_from: crate::email::Sender,
}

impl StoresConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            wallets_table: settings.required("WALLETS_TABLE")?,
            leads_table: settings.required("LEADS_TABLE")?,
            otp_codes_table: settings.required("OTP_CODES_TABLE")?,
            rate_limits_table: settings.required("RATE_LIMITS_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            moderation_log_table: settings.required("MODERATION_LOG_TABLE")?,
            ledger_table: settings.required("LEDGER_TABLE")?,
            orders_table: settings.required("ORDERS_TABLE")?,
            analytics_table: settings.required("ANALYTICS_TABLE")?,
            feedback_table: settings.required("FEEDBACK_TABLE")?,
            refund_requests_table: settings.required("REFUND_REQUESTS_TABLE")?,
            trials_table: settings.required("TRIALS_TABLE")?,
            privacy_requests_table: settings.required("PRIVACY_REQUESTS_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
            generated_bucket: settings.required("GENERATED_BUCKET")?,
            exports_bucket: settings.required("EXPORTS_BUCKET")?,
            email_hash_key: settings.secret("OTP_HASH_KEY", 32)?,
            email_from: crate::email::Sender::from_env(source)?,
        })
    }
}

/// The clients every rights component uses, built once.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    pub fn new(aws: &SdkConfig) -> Self {
        Self {
            dynamodb: crate::aws::dynamodb(aws),
            s3: crate::aws::s3(aws),
        }
    }
}

/// The person a request is about: the email the request came from, its keyed hash, the
/// wallets it has had and every address of those wallets, former ones included. A person
/// is every address their wallet has ever had: what was recorded under any of them is
/// theirs to see and to have erased.
#[derive(Clone, Debug)]
pub struct Person {
    /// The address the request came from (its records are keyed by its hash).
    pub email: EmailAddress,
    pub email_hash: String,
    /// Where the person is now: the wallet's current address, else the request's.
    pub contact: EmailAddress,
    /// Every address of the person, the request's first, each with its keyed hash (how
    /// codes, rate limits and privacy requests are keyed).
    pub addresses: Vec<Address>,
    /// The wallet recorded with the request and the one the email points to now (they
    /// differ only if the person signed up again while an erasure was pending).
    pub wallet_ids: Vec<String>,
    /// The free trials whose link was saved with any of the addresses (expired ones too:
    /// their items may outlive the TTL), with the device id each was taken on.
    pub trials: Vec<LinkedTrial>,
    pub locale: Locale,
    /// The time of the run: expired items (late TTL) are left out of exports.
    pub now: UnixSeconds,
}

/// One address of a person and its keyed hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub email: EmailAddress,
    pub hash: String,
}

/// A trial found through the email: its generation is owned by `trial-<id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedTrial {
    pub trial_id: String,
    pub device_id: Option<String>,
}

impl Person {
    /// Everything that owns generations, moderation logs and files of the person: the
    /// wallets and the trials (`trial-<id>`).
    pub fn owners(&self) -> Vec<String> {
        let trials = self
            .trials
            .iter()
            .map(|trial| crate::generations::trial_owner(&trial.trial_id));
        self.wallet_ids.iter().cloned().chain(trials).collect()
    }

    /// The device ids the trials were taken on (analytics events of those devices are the
    /// person's too).
    pub fn trial_devices(&self) -> impl Iterator<Item = &str> {
        self.trials.iter().filter_map(|t| t.device_id.as_deref())
    }

    /// The addresses as emails.
    pub fn emails(&self) -> impl Iterator<Item = &EmailAddress> {
        self.addresses.iter().map(|address| &address.email)
    }

    /// The addresses' keyed hashes.
    pub fn email_hashes(&self) -> impl Iterator<Item = &str> {
        self.addresses.iter().map(|address| address.hash.as_str())
    }

    pub fn email_hash(key: &SecretString, email: &EmailAddress) -> String {
        // The same hash as one-time codes and rate limits (auth::codes), so they are found.
        keyed_hash(key, "email", email.as_str())
    }
}

/// DynamoDB items as plain JSON, for the archive.
pub fn item_json(item: &crate::store::Item) -> serde_json::Value {
    serde_json::Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), attribute_json(value)))
            .collect(),
    )
}

fn attribute_json(value: &aws_sdk_dynamodb::types::AttributeValue) -> serde_json::Value {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    use serde_json::Value;
    match value {
        A::S(text) => Value::String(text.clone()),
        A::N(number) => number
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| number.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(number.clone())),
        A::Bool(flag) => Value::Bool(*flag),
        A::Null(_) => Value::Null,
        A::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), attribute_json(v)))
                .collect(),
        ),
        A::L(list) => Value::Array(list.iter().map(attribute_json).collect()),
        A::Ss(list) => Value::from(list.clone()),
        A::Ns(list) => Value::Array(
            list.iter()
                .map(|n| attribute_json(&A::N(n.clone())))
                .collect(),
        ),
        A::B(blob) => {
            use base64::Engine;
            Value::String(base64::engine::general_purpose::STANDARD.encode(blob.as_ref()))
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue as A;

    #[test]
    fn items_become_plain_json() {
        let item: crate::store::Item = [
            ("s".to_owned(), A::S("x".into())),
            ("n".to_owned(), A::N("42".into())),
            ("f".to_owned(), A::N("0.5".into())),
            ("b".to_owned(), A::Bool(true)),
            (
                "m".to_owned(),
                A::M([("k".to_owned(), A::L(vec![A::N("1".into())]))].into()),
            ),
        ]
        .into();
        assert_eq!(
            item_json(&item),
            serde_json::json!({"s": "x", "n": 42, "f": 0.5, "b": true, "m": {"k": [1]}})
        );
    }
}

/// The person behind a request, now: the recorded wallet plus whatever wallet the email
/// points to at this moment; the addresses of the request and of those wallets, current and
/// former; the trials saved with any of the addresses.
///
/// A former address that another wallet has taken since (it signed in there) is that
/// account's now: what is recorded under it goes with that account, not this person.
pub async fn resolve(
    requester: &requests::Requester,
    rights: &Rights,
    now: crate::clock::UnixSeconds,
) -> Result<Person, crate::store::StoreError> {
    let wallets = &rights.wallets;
    let mut wallet_ids: Vec<String> = requester.wallet_id.iter().cloned().collect();
    if let Some(current) = wallets.find_by_email(&requester.email).await?
        && !wallet_ids.contains(&current.id)
    {
        wallet_ids.push(current.id);
    }
    let mut emails = vec![requester.email.clone()];
    let mut contact = None;
    for id in &wallet_ids {
        let Some(wallet) = wallets.get(id).await? else {
            continue;
        };
        contact.get_or_insert_with(|| wallet.email.clone());
        emails.push(wallet.email);
        for former in wallet.former_emails {
            let taken = wallets
                .find_by_email(&former)
                .await?
                .is_some_and(|owner| !wallet_ids.contains(&owner.id));
            if !taken {
                emails.push(former);
            }
        }
    }
    let mut addresses: Vec<Address> = Vec::new();
    for email in emails {
        if !addresses.iter().any(|known| known.email == email) {
            addresses.push(Address {
                hash: Person::email_hash(&rights.config.email_hash_key, &email),
                email,
            });
        }
    }
    let mut trials = Vec::new();
    for address in &addresses {
        for trial in stores::linked_trials(rights, &address.email).await? {
            if !trials.contains(&trial) {
                trials.push(trial);
            }
        }
    }
    Ok(Person {
        email: requester.email.clone(),
        email_hash: requester.email_hash.clone(),
        contact: contact.unwrap_or_else(|| requester.email.clone()),
        addresses,
        wallet_ids,
        trials,
        locale: requester.locale,
        now,
    })
}

/// The download link's signature: the link names the person's hash and the request, and
/// only the service can sign one.
pub fn link_signature(key: &SecretString, email_hash: &str, request_id: &str) -> String {
    keyed_hash(key, "export-link", &format!("{email_hash}:{request_id}"))
}

/// Everything a rights component needs, built once per cold start.
#[derive(Clone, Debug)]
pub struct Rights {
    pub config: StoresConfig,
    pub clients: Clients,
    pub requests: requests::PrivacyRequests,
    pub wallets: crate::wallets::Wallets,
    pub mailer: crate::email::Mailer,
}

impl Rights {
    pub fn new(config: StoresConfig, aws: &SdkConfig) -> Self {
        let clients = Clients::new(aws);
        Self {
            requests: requests::PrivacyRequests::new(
                clients.dynamodb.clone(),
                &config.privacy_requests_table,
            ),
            wallets: crate::wallets::Wallets::new(clients.dynamodb.clone(), &config.wallets_table),
            mailer: crate::email::Mailer::new(crate::aws::sesv2(aws), &config.email_from),
            clients,
            config,
        }
    }

    pub fn stores(&self) -> Vec<Box<dyn PersonalData>> {
        registry(&self.config, &self.clients)
    }

    pub fn requester(
        &self,
        email: EmailAddress,
        wallet_id: Option<String>,
        locale: Locale,
    ) -> requests::Requester {
        requests::Requester {
            email_hash: Person::email_hash(&self.config.email_hash_key, &email),
            email,
            wallet_id,
            locale,
        }
    }
}
