//! Marketing consent on the lead list, signed one-click unsubscribe links, and the only way
//! to send a marketing email.
//!
//! Consent is opt-in only: a lead row starts with `marketing_opt_in = false` and only the
//! person's own explicit choice (`POST /me/marketing`) sets it. Every change is stamped
//! (`marketing_opt_in_at` / `marketing_opt_out_at`) and appended to `consent_history`
//! (`{opt_in, at, via}`), so an export can show when and how consent was given or withdrawn.
//! These attributes live on the lead row (data class "lead list") and end with it. An
//! opted-in row also carries `marketing_list`, the key of the sparse `by-marketing` index
//! that campaigns read their audience from ([`campaigns`]).
//!
//! Unsubscribe tokens are `v1.<base64url(email)>.<base64url(HMAC-SHA256)>` under the
//! dedicated `UNSUBSCRIBE_KEY`: they need no storage, never expire (a years-old email must
//! still unsubscribe), and the version prefix lets the key or format change later.

pub mod campaigns;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use subtle::ConstantTimeEq;

use crate::clock::UnixSeconds;
use crate::config::{BaseUrl, Origin};
use crate::email::mime::Header;
use crate::email::{Email, EmailAddress, MailError, Mailer};
use crate::store::{StoreError, get_n, is_condition_failed, n, s};

const TOKEN_VERSION: &str = "v1";
const TOKEN_PURPOSE: &str = "unsubscribe-v1";
/// On a lead row: when the address was suppressed (a bounce or a complaint); no marketing
/// email goes to it after that.
pub const SUPPRESSED_ATTRIBUTE: &str = "suppressed_at";
/// The body RFC 8058 one-click unsubscribe requests carry.
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";

/// Signs and checks unsubscribe tokens.
#[derive(Clone, Debug)]
pub struct UnsubscribeTokens {
    key: SecretString,
}

impl UnsubscribeTokens {
    pub fn new(key: SecretString) -> Self {
        Self { key }
    }

    pub fn token(&self, email: &EmailAddress) -> String {
        let mac = crate::privacy::keyed_digest(&self.key, TOKEN_PURPOSE, email.as_str());
        format!(
            "{TOKEN_VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(email.as_str()),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// The address a genuine token was made for; `None` for anything forged or malformed.
    pub fn verify(&self, token: &str) -> Option<EmailAddress> {
        let mut parts = token.split('.');
        let (version, email, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if version != TOKEN_VERSION || parts.next().is_some() {
            return None;
        }
        let email = String::from_utf8(URL_SAFE_NO_PAD.decode(email).ok()?).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let expected = crate::privacy::keyed_digest(&self.key, TOKEN_PURPOSE, &email);
        if !bool::from(expected.as_slice().ct_eq(&mac)) {
            return None;
        }
        // Only addresses we normalized are ever signed; anything else is not ours.
        EmailAddress::parse(&email)
            .ok()
            .filter(|parsed| parsed.as_str() == email)
    }
}

/// The RFC 8058 `List-Unsubscribe` target: mail clients `POST` the one-click body to the
/// API itself (`GET` there shows a confirmation page). The link in the body opens the app's
/// page instead ([`crate::email::AppPage::Unsubscribe`]).
pub fn one_click_unsubscribe_url(api: &BaseUrl, token: &str) -> String {
    format!("{}/unsubscribe?token={token}", api.as_str())
}

/// Where a consent change came from, recorded with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentVia {
    /// The signed-in person's own choice (`POST /me/marketing`).
    Account,
    /// The one-click link in a marketing email.
    UnsubscribeLink,
    /// A privacy-rights request (`POST /me/consent`).
    Dsr,
}

impl ConsentVia {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::UnsubscribeLink => "unsubscribe-link",
            Self::Dsr => "dsr",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentChange {
    Changed,
    /// Already in that state, or (for unsubscribes) not on the list: nothing written.
    Unchanged,
}

/// A lead row's marketing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsentState {
    pub opt_in: bool,
    pub opt_in_at: Option<UnixSeconds>,
    pub opt_out_at: Option<UnixSeconds>,
    /// Set by a restriction or objection request (issue 5): no marketing whatever `opt_in`.
    pub restricted: bool,
    /// `suppressed_at` on the row: the address bounced or complained, and is mailed no
    /// marketing again (set by the bounce and complaint handling).
    pub suppressed: bool,
}

/// Marketing consent on the lead list (the `LeadsTable` rows of `crate::leads`).
#[derive(Clone, Debug)]
pub struct Consent {
    client: Client,
    table: String,
}

impl Consent {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Sets `email`'s consent to `opt_in` on its existing lead row. Writes (and records in the
    /// history) only a real change, so repeats and retries add nothing; an address not on
    /// the list is left absent.
    pub async fn set(
        &self,
        email: &EmailAddress,
        opt_in: bool,
        via: ConsentVia,
        now: UnixSeconds,
    ) -> Result<ConsentChange, StoreError> {
        let stamp = if opt_in {
            "marketing_opt_in_at"
        } else {
            "marketing_opt_out_at"
        };
        let change = AttributeValue::M(
            [
                ("opt_in".to_owned(), AttributeValue::Bool(opt_in)),
                ("at".to_owned(), n(now)),
                ("via".to_owned(), s(via.as_str())),
            ]
            .into(),
        );
        // An opted-in row carries the audience index's key; opting out takes it away.
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("email", s(email.as_str()))
            .update_expression(if opt_in {
                "SET marketing_opt_in = :value, #stamp = :now, #list = :list, \
                 consent_history = list_append(if_not_exists(consent_history, :empty), :change)"
            } else {
                "SET marketing_opt_in = :value, #stamp = :now, \
                 consent_history = list_append(if_not_exists(consent_history, :empty), :change) \
                 REMOVE #list"
            })
            .condition_expression(
                "attribute_exists(email) AND \
                 (attribute_not_exists(marketing_opt_in) OR marketing_opt_in <> :value)",
            )
            .expression_attribute_names("#stamp", stamp)
            .expression_attribute_names("#list", campaigns::AUDIENCE_ATTRIBUTE)
            .expression_attribute_values(":value", AttributeValue::Bool(opt_in))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":change", AttributeValue::L(vec![change]));
        if opt_in {
            update = update.expression_attribute_values(":list", s(campaigns::AUDIENCE_VALUE));
        }
        let result = update.send().await;
        match result {
            Ok(_) => Ok(ConsentChange::Changed),
            Err(error) if is_condition_failed(&error) => Ok(ConsentChange::Unchanged),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// Mirrors a restriction of processing on `email`'s existing lead row (`restricted`,
    /// `restricted_at`), which [`MarketingMailer`] checks before every send.
    pub async fn set_restricted(
        &self,
        email: &EmailAddress,
        restricted: bool,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("email", s(email.as_str()))
            .update_expression("SET restricted = :value, restricted_at = :now")
            .condition_expression("attribute_exists(email)")
            .expression_attribute_values(":value", AttributeValue::Bool(restricted))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failed(&error) => Ok(()),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// The consent state of `email`; `None` when it is not on the lead list.
    pub async fn state(&self, email: &EmailAddress) -> Result<Option<ConsentState>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("email", s(email.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("GetItem", &self.table, &error))?;
        Ok(output.item().map(|item| {
            let flag = |name: &str| item.get(name).and_then(|v| v.as_bool().ok()) == Some(&true);
            ConsentState {
                opt_in: flag("marketing_opt_in"),
                opt_in_at: get_n(item, "marketing_opt_in_at"),
                opt_out_at: get_n(item, "marketing_opt_out_at"),
                restricted: flag("restricted"),
                suppressed: item.contains_key(SUPPRESSED_ATTRIBUTE),
            }
        }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketingOutcome {
    /// Sent; the SES message id.
    Sent(String),
    /// Not sent: the address did not opt in, is restricted or suppressed, or is not on the
    /// list.
    NotPermitted,
}

#[derive(Debug, thiserror::Error)]
pub enum MarketingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// The one way to send a marketing email: only to addresses that opted in and are not
/// restricted, always with the unsubscribe link in the body (the app's page) and the
/// RFC 8058 headers (the API).
#[derive(Clone, Debug)]
pub struct MarketingMailer {
    mailer: Mailer,
    consent: Consent,
    tokens: UnsubscribeTokens,
    /// `APP_ORIGIN`: the body's link.
    app_origin: Origin,
    /// `API_ORIGIN`: the `List-Unsubscribe` header's.
    api: BaseUrl,
}

impl MarketingMailer {
    pub fn new(
        mailer: Mailer,
        consent: Consent,
        tokens: UnsubscribeTokens,
        app_origin: Origin,
        api: BaseUrl,
    ) -> Self {
        Self {
            mailer,
            consent,
            tokens,
            app_origin,
            api,
        }
    }

    pub async fn send(
        &self,
        to: &EmailAddress,
        locale: crate::locale::Locale,
        email: Email,
    ) -> Result<MarketingOutcome, MarketingError> {
        let permitted = self
            .consent
            .state(to)
            .await?
            .is_some_and(|state| state.opt_in && !state.restricted && !state.suppressed);
        if !permitted {
            return Ok(MarketingOutcome::NotPermitted);
        }
        Ok(MarketingOutcome::Sent(
            self.send_consented(to, locale, email).await?,
        ))
    }

    /// Sends to an address whose consent the caller has just established on the lead row
    /// itself (a campaign's claim re-checks it in the same conditional write); returns the
    /// SES message id.
    pub(crate) async fn send_consented(
        &self,
        to: &EmailAddress,
        locale: crate::locale::Locale,
        email: Email,
    ) -> Result<String, MailError> {
        let token = self.tokens.token(to);
        let page = crate::email::AppPage::Unsubscribe { token: &token }.url(&self.app_origin);
        let email = crate::email::templates::with_unsubscribe_footer(locale, email, &page);
        let headers = [
            Header {
                name: "List-Unsubscribe",
                value: format!("<{}>", one_click_unsubscribe_url(&self.api, &token)),
            },
            Header {
                name: "List-Unsubscribe-Post",
                value: ONE_CLICK_BODY.to_owned(),
            },
        ];
        self.mailer.send_with_headers(to, &email, &headers).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(key: &str) -> UnsubscribeTokens {
        UnsubscribeTokens::new(SecretString::from(key.to_owned()))
    }

    #[test]
    fn a_token_verifies_to_its_address_and_nothing_else_does() {
        let signer = tokens("unsubscribe-key-0123456789abcdef0123");
        let email = EmailAddress::parse("yui@example.com").unwrap();
        let token = signer.token(&email);
        assert!(token.starts_with("v1."));
        assert_eq!(signer.verify(&token), Some(email.clone()));
        assert_eq!(
            tokens("another-key-0123456789abcdef012345").verify(&token),
            None
        );
        // The address swapped under the same signature.
        let (_, mac) = token.rsplit_once('.').unwrap();
        let swapped = format!("v1.{}.{mac}", URL_SAFE_NO_PAD.encode("mio@example.com"));
        assert_eq!(signer.verify(&swapped), None);
        for bad in [
            "",
            "v1",
            "v1..",
            "v2.eXVp.AAAA",
            &format!("{token}.x"),
            &token[..token.len() - 2],
        ] {
            assert_eq!(signer.verify(bad), None, "{bad}");
        }
    }

    #[test]
    fn token_matches_an_independent_hmac() {
        let signer = tokens("unsubscribe-key-0123456789abcdef0123");
        let email = EmailAddress::parse("yui@example.com").unwrap();
        // python3 -c "import hmac,hashlib,base64; print(base64.urlsafe_b64encode(hmac.new(
        //   b'unsubscribe-key-0123456789abcdef0123', b'unsubscribe-v1\x00yui@example.com',
        //   hashlib.sha256).digest()).decode().rstrip('='))"
        let expected_mac = "AUF6dSX1FwtL0x-DYyEwFgK6Ai6ba0tfCfJ4ShiYqb4";
        let token = signer.token(&email);
        assert_eq!(token, format!("v1.eXVpQGV4YW1wbGUuY29t.{expected_mac}"));
    }
}
