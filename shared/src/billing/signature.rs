//! Standard Webhooks signatures (the scheme Polar signs its webhooks with).
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`; the signature is
//! HMAC-SHA256 under the endpoint secret, base64, sent as `v1,<base64>` in
//! `webhook-signature` (several, space-separated, during secret rotation). The timestamp
//! must be within five minutes of our clock, so a captured delivery cannot be replayed.
//!
//! Key derivation: Polar changed it on 2026-09-08. Newer endpoint secrets are
//! `whsec_<base64>` and the key is the base64 decode of the part after `whsec_` (the
//! Standard Webhooks rule); older secrets are used as the UTF-8 bytes of the whole string.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far `webhook-timestamp` may be from our clock, either way.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// The base64 decode of the part after `whsec_` (secrets since 2026-09-08).
    Base64,
    /// The UTF-8 bytes of the whole secret string (older secrets).
    Raw,
    /// Accept a signature under either key.
    Auto,
}

impl std::str::FromStr for KeyFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "base64" => Ok(Self::Base64),
            "raw" => Ok(Self::Raw),
            "auto" => Ok(Self::Auto),
            other => Err(format!("expected base64, raw or auto, got {other:?}")),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("a webhook header is missing")]
    MissingHeader,
    #[error("the webhook timestamp is malformed or outside the tolerance")]
    StaleTimestamp,
    #[error("no signature matches")]
    NoMatch,
}

/// The keys a signature may be made with.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Verifier {
    /// Fails when `format` is base64 and the secret is not `whsec_<base64>`.
    pub fn new(secret: &SecretString, format: KeyFormat) -> Result<Self, String> {
        let secret = secret.expose_secret();
        let decoded = secret
            .strip_prefix("whsec_")
            .and_then(|encoded| STANDARD.decode(encoded).ok())
            .filter(|key| !key.is_empty());
        let raw = secret.as_bytes().to_vec();
        let keys = match (format, decoded) {
            (KeyFormat::Base64, Some(key)) => vec![key],
            (KeyFormat::Base64, None) => {
                return Err("a base64 webhook secret must be whsec_ followed by base64".into());
            }
            (KeyFormat::Raw, _) => vec![raw],
            (KeyFormat::Auto, Some(key)) => vec![key, raw],
            (KeyFormat::Auto, None) => vec![raw],
        };
        Ok(Self { keys })
    }

    /// Checks the headers' signature over the raw body at time `now`.
    pub fn verify(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signatures: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let (Some(id), Some(timestamp), Some(signatures)) = (id, timestamp, signatures) else {
            return Err(SignatureError::MissingHeader);
        };
        let at: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| SignatureError::StaleTimestamp)?;
        if (now - at).abs() > TOLERANCE_SECONDS {
            return Err(SignatureError::StaleTimestamp);
        }
        let candidates: Vec<Vec<u8>> = signatures
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|encoded| STANDARD.decode(encoded).ok())
            .collect();
        let matched = self.keys.iter().any(|key| {
            let expected = sign(key, id, timestamp, body);
            candidates
                .iter()
                .any(|candidate| bool::from(candidate.as_slice().ct_eq(&expected)))
        });
        if matched {
            Ok(())
        } else {
            Err(SignatureError::NoMatch)
        }
    }
}

/// HMAC-SHA256 of `{id}.{timestamp}.{body}` under `key`.
pub fn sign(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The `webhook-signature` header value for `body`, as a sender makes it (local stand-in
/// checkout, tests).
pub fn signature_header(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(sign(key, id, timestamp, body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed once by tests/vectors/standard_webhooks.py with the Python
    // `standardwebhooks` package (pinned in infra/requirements.txt), an implementation
    // independent of this one:
    //   Webhook(SECRET).sign(MSG_ID, datetime.fromtimestamp(TIMESTAMP, tz=utc), BODY)
    // and, for the older raw-bytes derivation, Python's own hmac over the same content with
    // the whole secret string as the key.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: &str = "1614265330";
    const BODY: &str = r#"{"test": 2432232314}"#;
    const BASE64_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const RAW_SIGNATURE: &str = "v1,TcxlhK9b6UD6iVI1ZU2tTqp8PEVfYRseNNfa6b+LcUg=";

    fn verifier(format: KeyFormat) -> Verifier {
        Verifier::new(&SecretString::from(SECRET.to_owned()), format).unwrap()
    }

    fn check(
        format: KeyFormat,
        signature: &str,
        body: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        verifier(format).verify(
            Some(MSG_ID),
            Some(TIMESTAMP),
            Some(signature),
            body.as_bytes(),
            now,
        )
    }

    const AT: i64 = 1_614_265_330;

    #[test]
    fn base64_key_matches_the_standard_webhooks_vector() {
        assert_eq!(check(KeyFormat::Base64, BASE64_SIGNATURE, BODY, AT), Ok(()));
        assert_eq!(check(KeyFormat::Auto, BASE64_SIGNATURE, BODY, AT), Ok(()));
        assert_eq!(
            check(KeyFormat::Raw, BASE64_SIGNATURE, BODY, AT),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn raw_key_matches_the_python_hmac_vector() {
        assert_eq!(check(KeyFormat::Raw, RAW_SIGNATURE, BODY, AT), Ok(()));
        assert_eq!(check(KeyFormat::Auto, RAW_SIGNATURE, BODY, AT), Ok(()));
        assert_eq!(
            check(KeyFormat::Base64, RAW_SIGNATURE, BODY, AT),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let header = format!("v1,bm9wZQ== v2,abc {BASE64_SIGNATURE}");
        assert_eq!(check(KeyFormat::Base64, &header, BODY, AT), Ok(()));
        assert_eq!(
            check(KeyFormat::Base64, "v1,bm9wZQ== v1,!!", BODY, AT),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn a_changed_body_or_id_does_not_verify() {
        assert_eq!(
            check(
                KeyFormat::Auto,
                BASE64_SIGNATURE,
                r#"{"test": 2432232315}"#,
                AT
            ),
            Err(SignatureError::NoMatch)
        );
        let result = verifier(KeyFormat::Auto).verify(
            Some("msg_other"),
            Some(TIMESTAMP),
            Some(BASE64_SIGNATURE),
            BODY.as_bytes(),
            AT,
        );
        assert_eq!(result, Err(SignatureError::NoMatch));
    }

    #[test]
    fn timestamps_outside_five_minutes_are_refused() {
        assert_eq!(
            check(KeyFormat::Base64, BASE64_SIGNATURE, BODY, AT + 300),
            Ok(())
        );
        assert_eq!(
            check(KeyFormat::Base64, BASE64_SIGNATURE, BODY, AT - 300),
            Ok(())
        );
        assert_eq!(
            check(KeyFormat::Base64, BASE64_SIGNATURE, BODY, AT + 301),
            Err(SignatureError::StaleTimestamp)
        );
        assert_eq!(
            check(KeyFormat::Base64, BASE64_SIGNATURE, BODY, AT - 301),
            Err(SignatureError::StaleTimestamp)
        );
    }

    #[test]
    fn missing_headers_and_bad_secrets_are_refused() {
        let result = verifier(KeyFormat::Auto).verify(
            Some(MSG_ID),
            None,
            Some(BASE64_SIGNATURE),
            BODY.as_bytes(),
            AT,
        );
        assert_eq!(result, Err(SignatureError::MissingHeader));
        let not_base64 = SecretString::from("plain-old-secret".to_owned());
        assert!(Verifier::new(&not_base64, KeyFormat::Base64).is_err());
        assert!(Verifier::new(&not_base64, KeyFormat::Auto).is_ok());
    }

    #[test]
    fn our_signer_round_trips() {
        let header = signature_header(b"key", "id", "1", b"body");
        let secret = SecretString::from("key".to_owned());
        let verifier = Verifier::new(&secret, KeyFormat::Raw).unwrap();
        assert_eq!(
            verifier.verify(Some("id"), Some("1"), Some(&header), b"body", 1),
            Ok(())
        );
    }
}
