//! Sessions: an HS256 JWT in an `HttpOnly; Secure; SameSite=Lax` cookie, valid 30 days.
//! The token names the wallet (`sub`) and the session (`sid`); the session is live only
//! while the wallet lists its id (`wallets::WalletSession`), which `SignedIn` checks on the
//! wallet read every signed-in request makes anyway, so a session can end on the server.
//!
//! The algorithm is pinned: a token whose header names any other algorithm, or `none`, is
//! refused before its signature is looked at. Expiry is checked against our clock, not the
//! library's, so tests can move time.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::clock::UnixSeconds;
use crate::wallets::WalletSession;
use crate::web::SetCookie;

pub const SESSION_COOKIE: &str = "session";
pub const SESSION_TTL_SECONDS: i64 = 30 * 24 * 3600;
const ISSUER: &str = "anumi";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The wallet id; never the email.
    pub sub: String,
    /// The session id, listed on the wallet while the session is live.
    pub sid: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session token is invalid")]
    Invalid,
    #[error("the session has expired")]
    Expired,
}

pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}

impl SessionKeys {
    pub fn new(secret: &SecretString) -> Self {
        let key = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        // `sid` is required too: a struct field without a default.
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
        }
    }

    /// A new session (a random id from the OS CSPRNG), to record on the wallet.
    pub fn new_session(now: UnixSeconds) -> WalletSession {
        WalletSession {
            id: uuid::Uuid::new_v4().simple().to_string(),
            issued_at: now,
            expires_at: now + SESSION_TTL_SECONDS,
        }
    }

    pub fn issue(&self, wallet_id: &str, session: &WalletSession) -> String {
        let claims = SessionClaims {
            sub: wallet_id.to_owned(),
            sid: session.id.clone(),
            iss: ISSUER.to_owned(),
            iat: session.issued_at,
            exp: session.expires_at,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    pub fn verify(&self, token: &str, now: UnixSeconds) -> Result<SessionClaims, SessionError> {
        let claims = jsonwebtoken::decode::<SessionClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| SessionError::Invalid)?
            .claims;
        if claims.exp <= now {
            return Err(SessionError::Expired);
        }
        Ok(claims)
    }

    pub fn cookie(&self, wallet_id: &str, session: &WalletSession) -> SetCookie {
        SetCookie {
            name: SESSION_COOKIE,
            value: self.issue(wallet_id, session),
            max_age: SESSION_TTL_SECONDS,
            http_only: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const NOW: i64 = 1_795_333_734;

    fn keys(secret: &str) -> SessionKeys {
        SessionKeys::new(&SecretString::from(secret.to_owned()))
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn issued_tokens_verify_until_thirty_days_pass() {
        let keys = keys("0123456789abcdef0123456789abcdef");
        let session = SessionKeys::new_session(NOW);
        let token = keys.issue("wallet-1", &session);
        let claims = keys.verify(&token, NOW + SESSION_TTL_SECONDS - 1).unwrap();
        assert_eq!(claims.sub, "wallet-1");
        assert_eq!(claims.sid, session.id);
        assert_eq!(claims.exp - claims.iat, 30 * 24 * 3600);
        assert_eq!(
            keys.verify(&token, NOW + SESSION_TTL_SECONDS),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn tokens_signed_with_another_key_are_refused() {
        let token = keys("another-key-another-key-another-k")
            .issue("wallet-1", &SessionKeys::new_session(NOW));
        assert_eq!(
            keys("0123456789abcdef0123456789abcdef").verify(&token, NOW),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let keys = keys("0123456789abcdef0123456789abcdef");
        let claims = format!(
            r#"{{"sub":"wallet-1","sid":"s1","iss":"anumi","iat":{NOW},"exp":{}}}"#,
            NOW + 60
        );
        let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert_eq!(keys.verify(&none, NOW), Err(SessionError::Invalid));

        // HS512 over the same secret: a valid signature, but not the pinned algorithm.
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &serde_json::from_str::<serde_json::Value>(&claims).unwrap(),
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert_eq!(keys.verify(&hs512, NOW), Err(SessionError::Invalid));
    }

    #[test]
    fn tampered_claims_and_garbage_are_refused() {
        let keys = keys("0123456789abcdef0123456789abcdef");
        let token = keys.issue("wallet-1", &SessionKeys::new_session(NOW));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(&format!(
            r#"{{"sub":"wallet-2","sid":"s1","iss":"anumi","iat":{NOW},"exp":{}}}"#,
            NOW + 60
        ));
        parts[1] = &forged;
        assert_eq!(
            keys.verify(&parts.join("."), NOW),
            Err(SessionError::Invalid)
        );
        assert_eq!(keys.verify("not-a-token", NOW), Err(SessionError::Invalid));
        assert_eq!(keys.verify("", NOW), Err(SessionError::Invalid));
    }

    #[test]
    fn a_token_without_a_session_id_is_refused() {
        // A token issued before sessions had ids names no session that could be ended.
        let keys = keys("0123456789abcdef0123456789abcdef");
        let old = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "wallet-1", "iss": "anumi", "iat": NOW, "exp": NOW + 60}),
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert_eq!(keys.verify(&old, NOW), Err(SessionError::Invalid));
    }

    #[test]
    fn the_cookie_is_http_only_secure_lax_for_thirty_days() {
        let cookie = keys("0123456789abcdef0123456789abcdef")
            .cookie("wallet-1", &SessionKeys::new_session(NOW))
            .to_string();
        assert!(cookie.starts_with("session=ey"), "{cookie}");
        assert!(
            cookie.ends_with("; Max-Age=2592000; Path=/; Secure; SameSite=Lax; HttpOnly"),
            "{cookie}"
        );
    }
}
