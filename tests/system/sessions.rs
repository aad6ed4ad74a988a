use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use shared::auth::SESSION_TTL_SECONDS;

use crate::helpers::{Answer, Call, TestApp, local_secrets, now, spawn_app};

fn claims(wallet_id: &str, iat: i64) -> serde_json::Value {
    json!({ "sub": wallet_id, "sid": "s1", "iss": "anumi", "iat": iat, "exp": iat + 3600 })
}

fn claims_of(session_cookie: &str) -> serde_json::Value {
    let token = session_cookie.trim_start_matches("session=");
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn wallet_id_of(session_cookie: &str) -> String {
    claims_of(session_cookie)["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn logout(app: &TestApp, fixture: &str, session: Option<&str>) -> Answer {
    let cookies: Vec<&str> = session.into_iter().collect();
    Call::fixture(fixture).cookies(&cookies).send(app).await
}

/// A second sign-in of the same address (another device): the resend limit allows one
/// code a minute.
async fn sign_in_again(app: &TestApp, email: &str) -> String {
    app.clock.advance(61);
    app.sign_in(email).await
}

async fn status_of(app: &TestApp, sessions: &[&String]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for session in sessions {
        statuses.push(app.me(session).await.status);
    }
    statuses
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

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server_and_a_copied_cookie_is_refused() {
    let app = spawn_app().await;
    let email = app.email("leaver");
    let session = app.sign_in(&email).await;
    let other_device = sign_in_again(&app, &email).await;
    let someone_else = app.sign_in(&app.email("stayer")).await;
    assert_ne!(claims_of(&session)["sid"], claims_of(&other_device)["sid"]);
    // Someone kept a copy of the cookie before the person signed out.
    let copied = session.clone();

    let answer = logout(&app, "logout.json", Some(&session)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.set_cookies(),
        vec!["session=; Max-Age=0; Path=/; Secure; SameSite=Lax; HttpOnly".to_owned()]
    );
    let refused = app.me(&copied).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (401, "unauthorized")
    );
    // Every signed-in route asks the same check: the rights API refuses it too.
    let export = app.rights_call("export.json", Some(&copied), None).await;
    assert_eq!(export.status, 401);
    // The person's other device and everyone else stay signed in.
    assert_eq!(
        status_of(&app, &[&other_device, &someone_else]).await,
        [200, 200]
    );
    // Signing out twice, or with no session, answers the same.
    assert_eq!(logout(&app, "logout.json", Some(&copied)).await.status, 200);
    assert_eq!(logout(&app, "logout.json", None).await.status, 200);
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_the_wallet_and_no_other() {
    let app = spawn_app().await;
    let email = app.email("everywhere");
    let phone = app.sign_in(&email).await;
    let laptop = sign_in_again(&app, &email).await;
    let someone_else = app.sign_in(&app.email("bystander")).await;

    let refused = logout(&app, "logout-all.json", None).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (401, "unauthorized")
    );
    let answer = logout(&app, "logout-all.json", Some(&phone)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["status"], json!("signed_out"));
    assert!(answer.set_cookies()[0].starts_with("session=; Max-Age=0"));
    assert_eq!(status_of(&app, &[&phone, &laptop]).await, [401, 401]);
    assert_eq!(app.me(&someone_else).await.status, 200);
    // A dead session cannot sign out everywhere again; a new sign-in works.
    assert_eq!(
        logout(&app, "logout-all.json", Some(&laptop)).await.status,
        401
    );
    let again = sign_in_again(&app, &email).await;
    assert_eq!(app.me(&again).await.status, 200);
}

#[tokio::test]
async fn an_email_change_ends_every_session_and_the_caller_goes_on_in_a_new_one() {
    let app = spawn_app().await;
    let old = app.email("mover");
    let new = app.email("mover.new");
    let session = app.sign_in(&old).await;
    let other_device = sign_in_again(&app, &old).await;
    let someone_else = app.sign_in(&app.email("neighbour")).await;
    app.clock.advance(61);

    let asked = app
        .rights_call(
            "email.json",
            Some(&session),
            Some(json!({ "new_email": new })),
        )
        .await;
    assert_eq!(asked.status, 202, "{}", asked.body);
    let code = crate::helpers::latest_code(&new).await;
    let moved = app
        .rights_call(
            "email-verify.json",
            Some(&session),
            Some(json!({ "new_email": new, "code": code })),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let renewed = moved.cookie("session").expect("a new session cookie");
    assert_ne!(claims_of(&renewed)["sid"], claims_of(&session)["sid"]);

    assert_eq!(
        status_of(&app, &[&session, &other_device]).await,
        [401, 401]
    );
    let me = app.me(&renewed).await;
    assert_eq!((me.status, me.body["email"].clone()), (200, json!(new)));
    assert_eq!(app.me(&someone_else).await.status, 200);
}

#[tokio::test]
async fn an_erasure_ends_every_session_of_the_wallet_and_no_other() {
    let app = spawn_app().await;
    let email = app.email("eraser");
    let session = app.sign_in(&email).await;
    let other_device = sign_in_again(&app, &email).await;
    let someone_else = app.sign_in(&app.email("survivor")).await;

    let answer = app.rights_call("delete.json", Some(&session), None).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ErasuresCompleted"), 1);
    assert_eq!(
        status_of(&app, &[&session, &other_device]).await,
        [401, 401]
    );
    assert_eq!(app.me(&someone_else).await.status, 200);
}

#[tokio::test]
async fn a_wallet_keeps_at_most_twenty_live_sessions_and_drops_expired_ones() {
    let app = spawn_app().await;
    let email = app.email("many");
    let first = app.sign_in(&email).await;
    let wallet = wallet_id_of(&first);
    let wallets = app.wallets();
    let mut newest = first.clone();
    for _ in 0..shared::wallets::MAX_SESSIONS {
        // Five codes an hour per address.
        app.clock.advance(721);
        newest = app.sign_in(&email).await;
    }
    let live = wallets.get(&wallet).await.unwrap().unwrap().sessions;
    assert_eq!(live.len(), shared::wallets::MAX_SESSIONS);
    // The oldest session made room for the newest.
    assert_eq!(status_of(&app, &[&first, &newest]).await, [401, 200]);

    // Expired sessions are dropped at the next sign-in.
    app.clock.advance(SESSION_TTL_SECONDS);
    let fresh = app.sign_in(&email).await;
    let live = wallets.get(&wallet).await.unwrap().unwrap().sessions;
    assert_eq!(live.len(), 1);
    assert_eq!(app.me(&fresh).await.status, 200);
}

/// Counts the DynamoDB operations the SDK starts on this thread (one span per operation,
/// named `DynamoDB.<Operation>`).
#[derive(Clone, Default)]
struct DynamoDbCalls(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for DynamoDbCalls {
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if metadata.name().starts_with("DynamoDB.") {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.name().starts_with("DynamoDB.")
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut calls = self.0.lock().unwrap();
        calls.push(span.metadata().name().to_owned());
        tracing::span::Id::from_u64(calls.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The session check adds no read: a signed-in request reads the wallet item once, and
/// that one read also tells whether the session is live.
#[tokio::test]
async fn a_signed_in_request_reads_one_item_the_wallet_with_its_sessions() {
    let app = spawn_app().await;
    let session = app.sign_in(&app.email("counted")).await;
    let calls = DynamoDbCalls::default();
    let answer = {
        let _guard = tracing::subscriber::set_default(calls.clone());
        app.me(&session).await
    };
    assert_eq!(answer.status, 200);
    assert_eq!(*calls.0.lock().unwrap(), ["DynamoDB.GetItem"]);
}

/// What the session check costs against the emulation: `cargo test -p tests
/// sessions::session_check_cost -- --ignored --nocapture` (BENCHMARKS.md).
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn session_check_cost() {
    let app = spawn_app().await;
    let session = app.sign_in(&app.email("timed")).await;
    let wallet = wallet_id_of(&session);
    let wallets = app.wallets();
    let mut get = Vec::new();
    let mut me = Vec::new();
    for _ in 0..200 {
        let started = std::time::Instant::now();
        wallets.get(&wallet).await.unwrap().unwrap();
        get.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = std::time::Instant::now();
        assert_eq!(app.me(&session).await.status, 200);
        me.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() * 9 / 10])
    };
    println!(
        "GetItem of the wallet (p50, p90 ms): {:?}; GET /me (p50, p90 ms): {:?}",
        median(get),
        median(me)
    );
}
