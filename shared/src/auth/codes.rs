//! One-time sign-in codes.
//!
//! Data class "one-time code": six digits from the OS CSPRNG, stored only as a keyed hash
//! bound to the (hashed) email, valid ten minutes (OWASP ASVS 6.5.5), single use, and dead
//! after five guesses. A new code replaces the previous one.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValue;
use secrecy::SecretString;
use subtle::ConstantTimeEq;

use crate::clock::Clock;
use crate::email::EmailAddress;
use crate::privacy::keyed_hash;
use crate::store::{StoreError, get_s, is_condition_failed, n, s};

pub const CODE_TTL_SECONDS: i64 = 10 * 60;
/// Guesses per code, right or wrong; the fifth wrong one kills the code.
pub const MAX_ATTEMPTS: i64 = 5;
const CODE_DIGITS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    Accepted,
    /// Wrong, expired, already used, out of guesses, or never issued: the caller answers
    /// the same in every case so nothing is learned about the code's state.
    Rejected,
}

/// What a code proves. Each purpose has its own item key and hash label, so a sign-in code
/// never confirms an email change and an email-change code never signs anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodePurpose {
    #[default]
    SignIn,
    /// Proof of a new address before a wallet moves to it (`POST /me/email`).
    EmailChange,
}

impl CodePurpose {
    /// Prefix of the item key; sign-in keeps the bare email hash it always had.
    pub fn key_prefix(self) -> &'static str {
        match self {
            Self::SignIn => "",
            Self::EmailChange => "email-change#",
        }
    }

    fn hash_label(self) -> &'static str {
        match self {
            Self::SignIn => "otp",
            Self::EmailChange => "otp-email-change",
        }
    }
}

#[derive(Clone, Debug)]
pub struct OneTimeCodes {
    client: Client,
    table: String,
    key: SecretString,
    clock: Arc<dyn Clock>,
    purpose: CodePurpose,
}

impl OneTimeCodes {
    pub fn new(
        client: Client,
        table: impl Into<String>,
        key: SecretString,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            key,
            clock,
            purpose: CodePurpose::SignIn,
        }
    }

    /// The same table and key, for codes of another purpose.
    pub fn for_purpose(mut self, purpose: CodePurpose) -> Self {
        self.purpose = purpose;
        self
    }

    /// The keyed hash that stands for an email in code and rate-limit keys and in logs.
    pub fn email_hash(&self, email: &EmailAddress) -> String {
        keyed_hash(&self.key, "email", email.as_str())
    }

    /// The code's hash, bound to the email and (for bound purposes) to `binding`, e.g. the
    /// wallet that asked, so a code issued for one wallet confirms nothing for another.
    fn code_hash(&self, email_hash: &str, binding: &str, code: &str) -> String {
        let bound = if binding.is_empty() {
            format!("{email_hash}:{code}")
        } else {
            format!("{email_hash}:{binding}:{code}")
        };
        keyed_hash(&self.key, self.purpose.hash_label(), &bound)
    }

    fn item_key(&self, email: &EmailAddress) -> String {
        format!("{}{}", self.purpose.key_prefix(), self.email_hash(email))
    }

    /// Issues a new code for `email`, replacing any earlier one. Returns the plain code,
    /// which exists only in memory and in the email.
    pub async fn issue(&self, email: &EmailAddress) -> Result<String, StoreError> {
        self.issue_bound(email, "").await
    }

    /// [`Self::issue`] for a code that is valid only together with `binding`.
    pub async fn issue_bound(
        &self,
        email: &EmailAddress,
        binding: &str,
    ) -> Result<String, StoreError> {
        let code = random_code();
        let email_hash = self.email_hash(email);
        let now = self.clock.now();
        let expires_at = now + CODE_TTL_SECONDS;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("email_hash", s(self.item_key(email)))
            .item("code_hash", s(self.code_hash(&email_hash, binding, &code)))
            .item("attempts", n(0))
            .item("created_at", n(now))
            .item("expires_at", n(expires_at))
            .item("ttl", n(expires_at))
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("PutItem", &self.table, &error))?;
        Ok(code)
    }

    /// Withdraws the current code of `email` (used when its email could not be sent).
    pub async fn withdraw(&self, email: &EmailAddress) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("email_hash", s(self.item_key(email)))
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("DeleteItem", &self.table, &error))?;
        Ok(())
    }

    /// Checks `code` for `email`. Every guess first takes one of the code's attempts in a
    /// conditional update, so parallel guesses cannot exceed the limit; a right guess then
    /// deletes the code conditionally, so it signs in once only.
    pub async fn verify(
        &self,
        email: &EmailAddress,
        code: &str,
    ) -> Result<VerifyOutcome, StoreError> {
        self.verify_bound(email, "", code).await
    }

    /// [`Self::verify`] for a code issued with [`Self::issue_bound`].
    pub async fn verify_bound(
        &self,
        email: &EmailAddress,
        binding: &str,
        code: &str,
    ) -> Result<VerifyOutcome, StoreError> {
        let email_hash = self.email_hash(email);
        let item_key = self.item_key(email);
        let now = self.clock.now();
        let attempt = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("email_hash", s(&item_key))
            .update_expression("SET attempts = attempts + :one")
            .condition_expression(
                "attribute_exists(email_hash) AND attempts < :max AND expires_at > :now",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(MAX_ATTEMPTS))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let stored = match attempt {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(error) if is_condition_failed(&error) => return Ok(VerifyOutcome::Rejected),
            Err(error) => return Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        };
        let Some(stored_hash) = get_s(&stored, "code_hash") else {
            return Ok(VerifyOutcome::Rejected);
        };
        let given_hash = self.code_hash(&email_hash, binding, code);
        if !bool::from(given_hash.as_bytes().ct_eq(stored_hash.as_bytes())) {
            return Ok(VerifyOutcome::Rejected);
        }
        let consumed = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("email_hash", s(&item_key))
            .condition_expression("code_hash = :hash")
            .expression_attribute_values(":hash", s(stored_hash))
            .send()
            .await;
        match consumed {
            Ok(_) => Ok(VerifyOutcome::Accepted),
            Err(error) if is_condition_failed(&error) => Ok(VerifyOutcome::Rejected),
            Err(error) => Err(StoreError::from_sdk("DeleteItem", &self.table, &error)),
        }
    }
}

/// Six uniformly distributed digits from the OS CSPRNG (rejection sampling: no modulo bias).
fn random_code() -> String {
    const RANGE: u32 = 1_000_000;
    const ZONE: u32 = u32::MAX - (u32::MAX % RANGE);
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        let value = u32::from_le_bytes(bytes);
        if value < ZONE {
            return format!("{:0width$}", value % RANGE, width = CODE_DIGITS);
        }
    }
}

/// True for exactly six ASCII digits; anything else is refused before it reaches storage.
pub fn is_well_formed(code: &str) -> bool {
    code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: HashSet<String> = (0..200).map(|_| random_code()).collect();
        assert!(codes.iter().all(|code| is_well_formed(code)));
        // 200 draws from a million values: a repeat is possible but a handful is not.
        assert!(codes.len() > 195, "only {} distinct codes", codes.len());
    }

    #[test]
    fn digit_distribution_is_not_skewed() {
        let mut counts = [0u32; 10];
        for _ in 0..2_000 {
            for digit in random_code().bytes() {
                counts[usize::from(digit - b'0')] += 1;
            }
        }
        // 12,000 digits, 1,200 expected each; a fair source stays well inside ±25%.
        assert!(
            counts.iter().all(|&c| (900..1500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn well_formed_means_exactly_six_ascii_digits() {
        assert!(is_well_formed("012345"));
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", " 12345", ""] {
            assert!(!is_well_formed(bad), "{bad:?}");
        }
    }
}
