//! Free trials: who has had one, and how the trial's result is reached without an account.
//!
//! `TrialsTable` holds three kinds of item, all with a TTL:
//!
//! - `DEVICE#<device id>`: the anonymous device id (from the browser's localStorage) that
//!   took a trial, until the trial window (`TRIAL_WINDOW_SECONDS`) ends;
//! - `IP#<salted IP hash>`: the address that took a trial. Hashed IPs may be kept 24 to 48
//!   hours only, so this claim lasts at most 24 hours whatever the window: beyond a day, the
//!   device id is the only limit. It holds its expiry and nothing else (no trial id, no
//!   time): nothing links the hashed IP to a trial, a device or a person;
//! - `TRIAL#<trial id>`: the trial itself (device id, language, the saved email if the
//!   person asked for their link by email), until the trial link expires. Found from an
//!   email through the sparse `by-email` index, from a device id through its claim. When the
//!   link expires, retention-cron deletes the trial with its avatar, selfie and generation
//!   record ([`Trials::expired`] lists them, through the `expiring` index under
//!   [`TRIAL_LINK_SWEEP`]); the record's TTL is only the safety net, set later so the
//!   record is never gone before the job has found it.
//!
//! The claims, the trial and its generation are written in one transaction whose conditions
//! let an expired claim be overwritten, so two concurrent trials from one device or address
//! give exactly one, and a refused trial writes nothing. Reads treat an expired item as
//! absent (DynamoDB's TTL deletes late).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::clock::UnixSeconds;
use crate::config::Origin;
use crate::email::EmailAddress;
use crate::locale::Locale;
use crate::privacy::IpHash;
use crate::store::{Item, StoreError, get_n, get_s, n, s};

/// Hashed IPs are kept 24 hours at most (the policy allows 24 to 48).
pub const MAX_IP_CLAIM_SECONDS: i64 = 24 * 60 * 60;
/// The `expiry_sweep` value of trial records in the `expiring` index (hashed keys use
/// `expiring::HASHED_KEY`): retention-cron finds the trials whose link has expired there.
pub const TRIAL_LINK_SWEEP: &str = "trial-link";
/// A trial record's TTL comes this long after its link expires: DynamoDB's TTL deletion
/// must never take the record (the only way to its avatar) before retention-cron does.
pub const TRIAL_RECORD_TTL_MARGIN_SECONDS: i64 = 7 * 24 * 3600;
const BY_EMAIL: &str = "by-email";

/// A new trial, as recorded.
#[derive(Debug, Clone)]
pub struct NewTrial<'a> {
    pub id: &'a str,
    pub device_id: &'a str,
    pub ip_hash: &'a IpHash,
    pub email: Option<&'a EmailAddress>,
    pub locale: Locale,
    pub now: UnixSeconds,
    /// End of the one-trial-per-device window.
    pub window_ends: UnixSeconds,
    /// End of the trial link (and of the trial record).
    pub link_expires: UnixSeconds,
}

/// Why a trial was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum TrialRefused {
    #[error("this device already had its free trial")]
    DeviceUsed,
    #[error("this address already had a free trial today")]
    AddressUsed { retry_after: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a trial's "ready" email goes, if the person saved their link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialContact {
    pub email: EmailAddress,
    pub locale: Locale,
    pub link_expires: UnixSeconds,
}

/// A trial whose link has expired: its id and the device it was taken on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredTrial {
    pub trial_id: String,
    pub device_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Trials {
    client: Client,
    table: String,
}

impl Trials {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Records the trial and its claims together with `generation` (the generation's own
    /// conditional put), all or nothing.
    pub async fn create(
        &self,
        trial: &NewTrial<'_>,
        generation: TransactWriteItem,
    ) -> Result<(), TrialRefused> {
        let ip_expires = trial.now + MAX_IP_CLAIM_SECONDS.min(trial.window_ends - trial.now);
        let expiring = |pk: String, expires_at: UnixSeconds, ttl: UnixSeconds| -> Item {
            [
                ("pk".to_owned(), s(pk)),
                ("expires_at".to_owned(), n(expires_at)),
                ("ttl".to_owned(), n(ttl)),
            ]
            .into()
        };
        let claim = |pk: String, expires_at: UnixSeconds, ttl: UnixSeconds| -> Item {
            [
                ("pk".to_owned(), s(pk)),
                ("trial_id".to_owned(), s(trial.id)),
                ("created_at".to_owned(), n(trial.now)),
                ("expires_at".to_owned(), n(expires_at)),
                ("ttl".to_owned(), n(ttl)),
            ]
            .into()
        };
        // The device claim outlives its window until the trial record ends, so the device
        // id still leads to the trial (export, erasure) while the trial exists.
        let device = claim(
            format!("DEVICE#{}", trial.device_id),
            trial.window_ends,
            trial.window_ends.max(trial.link_expires),
        );
        // Its expiry only: a hashed IP that named the trial would tie the address to the
        // trial (and so to the device and the saved email) for a day after an erasure.
        let mut address = expiring(
            format!("IP#{}", trial.ip_hash.as_str()),
            ip_expires,
            ip_expires,
        );
        // A hashed IP: swept by retention-cron within the hour after it expires.
        let (sweep, listed) = crate::expiring::marker();
        address.insert(sweep, listed);
        let mut record = claim(
            format!("TRIAL#{}", trial.id),
            trial.link_expires,
            trial.link_expires + TRIAL_RECORD_TTL_MARGIN_SECONDS,
        );
        record.insert(crate::expiring::ATTRIBUTE.to_owned(), s(TRIAL_LINK_SWEEP));
        record.insert("device_id".to_owned(), s(trial.device_id));
        record.insert("locale".to_owned(), s(trial.locale.as_str()));
        if let Some(email) = trial.email {
            record.insert("email".to_owned(), s(email.as_str()));
        }
        let items = vec![
            generation,
            self.claim_put(device, trial.now)?,
            self.claim_put(address, trial.now)?,
            self.put(record, "attribute_not_exists(pk)", None)?,
        ];
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            error.as_service_error()
        else {
            return Err(StoreError::from_sdk("TransactWriteItems", &self.table, &error).into());
        };
        let failed = |index: usize| {
            cancelled
                .cancellation_reasons()
                .get(index)
                .and_then(|reason| reason.code())
                == Some("ConditionalCheckFailed")
        };
        if failed(1) {
            Err(TrialRefused::DeviceUsed)
        } else if failed(2) {
            Err(TrialRefused::AddressUsed {
                retry_after: self
                    .claim_end(&format!("IP#{}", trial.ip_hash.as_str()), trial.now)
                    .await?
                    .map_or(1, |end| (end - trial.now).max(1)),
            })
        } else {
            Err(StoreError::new(
                "TransactWriteItems",
                &self.table,
                "trial transaction cancelled for another reason",
            )
            .into())
        }
    }

    /// The saved email of a trial that is still live, if any.
    pub async fn contact(
        &self,
        trial_id: &str,
        now: UnixSeconds,
    ) -> Result<Option<TrialContact>, StoreError> {
        let Some(item) = self.live_item(&format!("TRIAL#{trial_id}"), now).await? else {
            return Ok(None);
        };
        let Some(email) = get_s(&item, "email").and_then(|e| EmailAddress::parse(e).ok()) else {
            return Ok(None);
        };
        Ok(Some(TrialContact {
            email,
            locale: get_s(&item, "locale")
                .and_then(|l| l.parse().ok())
                .unwrap_or_default(),
            link_expires: get_n(&item, "expires_at").unwrap_or(now),
        }))
    }

    /// Trial ids whose saved email is `email` (for export and erasure).
    pub async fn by_email(&self, email: &EmailAddress) -> Result<Vec<String>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_EMAIL)
            .key_condition_expression("email = :email")
            .expression_attribute_values(":email", s(email.as_str()))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", &self.table, &e))?;
        Ok(output
            .items()
            .iter()
            .filter_map(|item| get_s(item, "trial_id").map(str::to_owned))
            .collect())
    }

    /// One page of the trials whose link expired by `now` (keys from the `expiring` index),
    /// each with its device id, and where the next page starts.
    pub async fn expired(
        &self,
        now: UnixSeconds,
        limit: i32,
        start: Option<Item>,
    ) -> Result<(Vec<ExpiredTrial>, Option<Item>), StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(crate::expiring::INDEX)
            .key_condition_expression("#sweep = :sweep AND #ttl <= :cutoff")
            .expression_attribute_names("#sweep", crate::expiring::ATTRIBUTE)
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":sweep", s(TRIAL_LINK_SWEEP))
            .expression_attribute_values(":cutoff", n(now + TRIAL_RECORD_TTL_MARGIN_SECONDS))
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", &self.table, &e))?;
        let next = output.last_evaluated_key.filter(|key| !key.is_empty());
        let mut trials = Vec::new();
        for key in output.items.unwrap_or_default() {
            let Some(id) = get_s(&key, "pk").and_then(|pk| pk.strip_prefix("TRIAL#")) else {
                continue;
            };
            // The index holds keys only: the device id is on the record.
            let device_id = self
                .get(&format!("TRIAL#{id}"))
                .await?
                .and_then(|item| get_s(&item, "device_id").map(str::to_owned));
            trials.push(ExpiredTrial {
                trial_id: id.to_owned(),
                device_id,
            });
        }
        Ok((trials, next))
    }

    /// The last step of deleting an expired trial: its device claim forgets the trial (it
    /// still limits the device until its own end) and the trial record goes. Both are
    /// conditional, so a claim taken by a later trial and a record already gone are left
    /// alone; true when the record was deleted by this call.
    pub async fn forget_expired(
        &self,
        trial: &ExpiredTrial,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        if let Some(device) = &trial.device_id {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(format!("DEVICE#{device}")))
                .update_expression("REMOVE trial_id")
                .condition_expression("trial_id = :trial")
                .expression_attribute_values(":trial", s(&trial.trial_id))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(error) if crate::store::is_condition_failed(&error) => {}
                Err(error) => return Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
            }
        }
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("TRIAL#{}", trial.trial_id)))
            .condition_expression("expires_at <= :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if crate::store::is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("DeleteItem", &self.table, &error)),
        }
    }

    async fn get(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("GetItem", &self.table, &e))?;
        Ok(output.item)
    }

    async fn claim_end(
        &self,
        pk: &str,
        now: UnixSeconds,
    ) -> Result<Option<UnixSeconds>, StoreError> {
        Ok(self
            .live_item(pk, now)
            .await?
            .and_then(|item| get_n(&item, "expires_at")))
    }

    async fn live_item(&self, pk: &str, now: UnixSeconds) -> Result<Option<Item>, StoreError> {
        Ok(self
            .get(pk)
            .await?
            .filter(|item| get_n(item, "expires_at").is_some_and(|end| end > now)))
    }

    /// A claim may replace an expired one (DynamoDB's TTL deletes it days late).
    fn claim_put(&self, item: Item, now: UnixSeconds) -> Result<TransactWriteItem, StoreError> {
        self.put(
            item,
            "attribute_not_exists(pk) OR expires_at <= :now",
            Some(now),
        )
    }

    fn put(
        &self,
        item: Item,
        condition: &str,
        now: Option<UnixSeconds>,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(now.map(|now| [(":now".to_owned(), n(now))].into()))
            .build()
            .map_err(|e| StoreError::new("TransactWriteItems", &self.table, e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

/// Signed, time-limited access to one trial without an account:
/// `<expires_at>.<hex HMAC-SHA256(key, "trial-link" 0 "<trial id>.<expires_at>")>`.
#[derive(Clone, Debug)]
pub struct TrialLinks {
    key: SecretString,
}

impl TrialLinks {
    pub fn new(key: SecretString) -> Self {
        Self { key }
    }

    pub fn token(&self, trial_id: &str, expires_at: UnixSeconds) -> String {
        format!(
            "{expires_at}.{}",
            hex::encode(self.mac(trial_id, expires_at))
        )
    }

    /// The page of the trial in the app; the app calls `GET /trial/{id}?token=…`.
    pub fn link(&self, origin: &Origin, trial_id: &str, expires_at: UnixSeconds) -> String {
        let token = self.token(trial_id, expires_at);
        crate::email::AppPage::Trial {
            id: trial_id,
            token: &token,
        }
        .url(origin)
    }

    /// True when `token` was made for this trial and has not expired.
    pub fn verify(&self, trial_id: &str, token: &str, now: UnixSeconds) -> bool {
        let Some((expires, mac)) = token.split_once('.') else {
            return false;
        };
        let (Ok(expires_at), Ok(mac)) = (expires.parse::<UnixSeconds>(), hex::decode(mac)) else {
            return false;
        };
        expires_at > now && bool::from(self.mac(trial_id, expires_at).ct_eq(mac.as_slice()))
    }

    fn mac(&self, trial_id: &str, expires_at: UnixSeconds) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret().as_bytes())
                .expect("HMAC accepts keys of any length");
        mac.update(b"trial-link\0");
        mac.update(format!("{trial_id}.{expires_at}").as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_tokens_are_bound_to_the_trial_the_key_and_the_time() {
        let links = TrialLinks::new(SecretString::from(
            "trial-link-key-0123456789abcdef".to_owned(),
        ));
        let token = links.token("t1", 1_000);
        assert!(links.verify("t1", &token, 999));
        assert!(!links.verify("t1", &token, 1_000), "expired at its end");
        assert!(!links.verify("t2", &token, 999), "another trial");
        let other = TrialLinks::new(SecretString::from(
            "another-key-0123456789abcdef0000".to_owned(),
        ));
        assert!(!other.verify("t1", &token, 999), "another key");
        let stretched = token.replacen("1000", "2000", 1);
        assert!(!links.verify("t1", &stretched, 999), "a changed expiry");
        assert!(!links.verify("t1", "garbage", 0));
        // Computed independently: python3 -c "import hmac,hashlib;
        // print(hmac.new(b'trial-link-key-0123456789abcdef', b'trial-link\x00t1.1000', hashlib.sha256).hexdigest())"
        assert_eq!(
            token,
            "1000.ce5ec50f2419dfb678950790b2c2866ca1e0419b1885d80639fe070716c27f30"
        );
    }
}
