use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use shared::auth::SESSION_TTL_SECONDS;

use crate::helpers::{Call, local_secrets, now, spawn_app};

fn claims(wallet_id: &str, iat: i64) -> serde_json::Value {
    json!({ "sub": wallet_id, "iss": "anumi", "iat": iat, "exp": iat + 3600 })
}

fn wallet_id_of(session_cookie: &str) -> String {
    let token = session_cookie.trim_start_matches("session=");
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn me_without_a_session_is_401() {
    let app = spawn_app().await;
    let answer = Call::fixture("me.json")
        .cookies(&["locale=en"])
        .send(&app)
        .await;
    assert_eq!((answer.status, answer.error_code()), (401, "unauthorized"));
}

#[tokio::test]
async fn forged_expired_and_alg_none_tokens_are_refused() {
    let app = spawn_app().await;
    let session = app.sign_in(&app.email("target")).await;
    let wallet_id = wallet_id_of(&session);
    let iat = now(&app);

    let other_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&wallet_id, iat),
        &EncodingKey::from_secret(b"a-key-that-is-not-the-service-key!!"),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(&wallet_id, iat).to_string())
    );
    let service_key = local_secrets()[0].1.clone();
    let hs384 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS384),
        &claims(&wallet_id, iat),
        &EncodingKey::from_secret(service_key.as_bytes()),
    )
    .unwrap();

    for (what, token) in [
        ("another key", other_key),
        ("alg none", none),
        ("HS384", hs384),
        ("garbage", "x.y.z".to_owned()),
    ] {
        let answer = app.me(&format!("session={token}")).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (401, "unauthorized"),
            "{what}"
        );
    }

    assert_eq!(app.me(&session).await.status, 200);
    app.clock.advance(SESSION_TTL_SECONDS);
    let expired = app.me(&session).await;
    assert_eq!(
        (expired.status, expired.error_code()),
        (401, "unauthorized"),
        "expired after 30 days"
    );
}

#[tokio::test]
async fn a_valid_token_for_a_wallet_that_does_not_exist_is_refused() {
    let app = spawn_app().await;
    let service_key = local_secrets()[0].1.clone();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("no-such-wallet", now(&app)),
        &EncodingKey::from_secret(service_key.as_bytes()),
    )
    .unwrap();
    assert_eq!(app.me(&format!("session={token}")).await.status, 401);
}
