//! Keyed hashing of personal identifiers, so that rate limits, codes and abuse checks can
//! work on an identifier without storing or logging it.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// HMAC-SHA256 of `value` under `key`, separated by `purpose` so that one key never yields
/// the same digest for two uses. Hex encoded.
pub fn keyed_hash(key: &SecretString, purpose: &str, value: &str) -> String {
    hex::encode(keyed_digest(key, purpose, value))
}

pub fn keyed_digest(key: &SecretString, purpose: &str, value: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Hashes client IPs with the server-side salt. The raw IP is never stored or logged: only
/// this hash is, and only in the rate-limit table, whose items expire within hours.
#[derive(Clone, Debug)]
pub struct IpHasher {
    salt: SecretString,
}

impl IpHasher {
    pub fn new(salt: SecretString) -> Self {
        Self { salt }
    }

    pub fn hash(&self, ip: &str) -> IpHash {
        IpHash(keyed_hash(&self.salt, "ip", ip.trim()))
    }

    /// The hash of the caller's address as API Gateway saw it. Requests without one (API
    /// Gateway always reports it) share one bucket rather than escaping the limits.
    pub fn hash_request(&self, request: &lambda_http::Request) -> IpHash {
        self.hash(
            crate::web::source_ip(request)
                .as_deref()
                .unwrap_or("unknown"),
        )
    }
}

/// A salted IP hash: safe to store (briefly) and to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpHash(String);

impl IpHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salt(value: &str) -> SecretString {
        SecretString::from(value.to_owned())
    }

    #[test]
    fn ip_hash_is_hmac_sha256_of_the_ip_under_the_salt() {
        let hash = IpHasher::new(salt("salt-salt-salt-salt-salt-salt-32")).hash("203.0.113.7");
        // Computed independently: python3 -c "import hmac,hashlib;
        // print(hmac.new(b'salt-salt-salt-salt-salt-salt-32', b'ip\x00203.0.113.7', hashlib.sha256).hexdigest())"
        assert_eq!(
            hash.as_str(),
            "575567e91292d89cebcf7b0f3aa593c65bf2201d47c9212f38c444baa732fd17"
        );
        assert!(!hash.as_str().contains("203.0.113.7"));
    }

    #[test]
    fn different_salts_and_purposes_give_different_hashes() {
        let a = keyed_hash(&salt("one"), "ip", "203.0.113.7");
        let b = keyed_hash(&salt("two"), "ip", "203.0.113.7");
        let c = keyed_hash(&salt("one"), "email", "203.0.113.7");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 64);
    }
}
