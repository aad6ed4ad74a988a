use serde_json::json;
use shared::auth::{CODE_TTL_SECONDS, MAX_ATTEMPTS};

use crate::helpers::{Call, latest_code, sent_mail, spawn_app, wrong_code};

#[tokio::test]
async fn sign_in_with_the_emailed_code_creates_a_wallet_and_a_session() {
    let app = spawn_app().await;
    let email = app.email("Yui");

    let started = Call::fixture("start.json")
        .json(json!({ "email": format!("  {}  ", email.to_uppercase()), "locale": "ja" }))
        .send(&app)
        .await;
    assert_eq!(started.status, 202, "{}", started.body);
    assert_eq!(
        started.body,
        json!({ "status": "code_sent", "expires_in": 600 })
    );
    assert_eq!(started.cookie("locale").as_deref(), Some("locale=ja"));

    let normalized = email.to_lowercase();
    let mail = sent_mail(&normalized).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].0.contains("ログインコード"),
        "Japanese subject: {}",
        mail[0].0
    );
    let code = latest_code(&normalized).await;

    let verified = Call::fixture("verify.json")
        .json(json!({ "email": normalized, "code": code }))
        .cookies(&["locale=ja"])
        .send(&app)
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["wallet"]["email"], json!(normalized));
    assert_eq!(verified.body["wallet"]["credits"], json!(0));
    assert_eq!(verified.body["wallet"]["locale"], json!("ja"));
    let session = verified
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("session="))
        .expect("a session cookie");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=2592000",
    ] {
        assert!(
            session.split("; ").any(|a| a == attribute),
            "{attribute} missing: {session}"
        );
    }

    let me = app.me(&verified.cookie("session").unwrap()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["email"], json!(normalized));
    assert_eq!(me.body["credits"], json!(0));
    assert_eq!(me.body["locale"], json!("ja"));
    assert!(me.body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(me.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_second_sign_in_finds_the_same_wallet() {
    let app = spawn_app().await;
    let email = app.email("repeat");
    let first = app.sign_in(&email).await;
    app.clock.advance(120);
    let second = app.sign_in(&email).await;
    assert_ne!(first, second);
    assert_eq!(app.me(&first).await.body, app.me(&second).await.body);
    let wallet_items = app.scan("WalletsTable").await;
    assert_eq!(wallet_items.len(), 2, "one wallet and one email pointer");
}

#[tokio::test]
async fn a_used_code_is_refused_the_second_time() {
    let app = spawn_app().await;
    let email = app.email("replay");
    app.start(&email).await;
    let code = latest_code(&email).await;
    assert_eq!(app.verify(&email, &code).await.status, 200);
    let replay = app.verify(&email, &code).await;
    assert_eq!((replay.status, replay.error_code()), (400, "invalid_code"));
}

#[tokio::test]
async fn the_code_dies_after_five_wrong_guesses() {
    let app = spawn_app().await;
    let email = app.email("guesser");
    app.start(&email).await;
    let code = latest_code(&email).await;
    for _ in 0..MAX_ATTEMPTS {
        let guess = app.verify(&email, &wrong_code(&code)).await;
        assert_eq!((guess.status, guess.error_code()), (400, "invalid_code"));
    }
    let sixth = app.verify(&email, &code).await;
    assert_eq!(
        (sixth.status, sixth.error_code()),
        (400, "invalid_code"),
        "even the right code is refused after five wrong guesses"
    );
}

#[tokio::test]
async fn four_wrong_guesses_still_leave_the_right_code_usable() {
    let app = spawn_app().await;
    let email = app.email("typo");
    app.start(&email).await;
    let code = latest_code(&email).await;
    for _ in 0..MAX_ATTEMPTS - 1 {
        assert_eq!(app.verify(&email, &wrong_code(&code)).await.status, 400);
    }
    assert_eq!(app.verify(&email, &code).await.status, 200);
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_five_and_a_code_signs_in_once() {
    let app = spawn_app().await;
    let email = app.email("race");
    app.start(&email).await;
    let code = latest_code(&email).await;
    let right = (0..8).map(|_| app.verify(&email, &code));
    let answers = futures_util::future::join_all(right).await;
    let accepted = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(
        accepted, 1,
        "exactly one of eight concurrent uses of one code succeeds"
    );
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let app = spawn_app().await;
    let email = app.email("slow");
    app.start(&email).await;
    let code = latest_code(&email).await;
    app.clock.advance(CODE_TTL_SECONDS);
    let late = app.verify(&email, &code).await;
    assert_eq!((late.status, late.error_code()), (400, "invalid_code"));
}

#[tokio::test]
async fn a_new_code_replaces_the_previous_one() {
    let app = spawn_app().await;
    let email = app.email("twice");
    app.start(&email).await;
    let first = latest_code(&email).await;
    app.clock.advance(61);
    assert_eq!(app.start(&email).await.status, 202);
    let second = latest_code(&email).await;
    if first != second {
        assert_eq!(
            app.verify(&email, &first).await.error_code(),
            "invalid_code"
        );
    }
    assert_eq!(app.verify(&email, &second).await.status, 200);
}

#[tokio::test]
async fn known_and_unknown_emails_get_the_same_answer() {
    let app = spawn_app().await;
    let known = app.email("known");
    app.sign_in(&known).await;
    app.clock.advance(61);
    let for_known = app.start(&known).await;
    let for_unknown = app.start(&app.email("stranger")).await;
    assert_eq!(for_known.status, for_unknown.status);
    assert_eq!(for_known.body, for_unknown.body);
    assert_eq!(for_known.set_cookies(), for_unknown.set_cookies());
}

#[tokio::test]
async fn a_code_that_cannot_be_emailed_is_withdrawn() {
    // The emulation, like SES, refuses a sender that is not a verified identity.
    let app = crate::helpers::spawn_app_with(&[("EMAIL_FROM", "unverified@nowhere.example")]).await;
    let email = app.email("unlucky");
    let answer = app.start(&email).await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (503, "email_unavailable")
    );
    assert!(
        app.scan("OtpCodesTable").await.is_empty(),
        "no code left behind"
    );
    // The policy records every email given at any surface, sent or not.
    assert_eq!(app.scan("LeadsTable").await.len(), 1);
}

#[tokio::test]
async fn logout_clears_the_session_cookie() {
    let app = spawn_app().await;
    let answer = Call::fixture("logout.json").send(&app).await;
    assert_eq!(answer.status, 200);
    let cleared = answer.set_cookies();
    assert_eq!(
        cleared,
        vec!["session=; Max-Age=0; Path=/; Secure; SameSite=Lax; HttpOnly".to_owned()]
    );
}

#[tokio::test]
async fn the_locale_choice_is_remembered_in_a_cookie_and_on_the_wallet() {
    let app = spawn_app().await;
    let email = app.email("polyglot");
    let session = app.sign_in(&email).await;
    assert_eq!(app.me(&session).await.body["locale"], json!("en"));

    let chosen = Call::fixture("locale.json")
        .json(json!({ "locale": "ja" }))
        .cookies(&[&session])
        .send(&app)
        .await;
    assert_eq!(chosen.status, 200, "{}", chosen.body);
    assert_eq!(chosen.cookie("locale").as_deref(), Some("locale=ja"));
    assert_eq!(app.me(&session).await.body["locale"], json!("ja"));

    let bad = Call::fixture("locale.json")
        .json(json!({ "locale": "xx" }))
        .send(&app)
        .await;
    assert_eq!((bad.status, bad.error_code()), (400, "invalid_locale"));
}
