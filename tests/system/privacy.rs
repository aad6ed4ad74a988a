//! The privacy policy's storage and logging promises for sign-in.

use crate::helpers::{CLIENT_IP, LogBuffer, latest_code, now, spawn_app};

#[tokio::test]
async fn no_raw_ip_and_no_plain_code_is_stored_anywhere() {
    let app = spawn_app().await;
    let email = app.email("private");
    app.start(&email).await;
    let code = latest_code(&email).await;
    let stored = app.everything_stored().await;
    assert!(!stored.contains(CLIENT_IP), "raw IP stored");
    assert!(!stored.contains(&code), "plain one-time code stored");

    let codes = app.scan("OtpCodesTable").await;
    assert_eq!(codes.len(), 1);
    assert!(
        !format!("{:?}", codes[0]).contains(&email),
        "the code table holds only a hash of the email"
    );
    assert_eq!(codes[0]["code_hash"].as_s().unwrap().len(), 64);
}

#[tokio::test]
async fn codes_and_ip_hashes_expire_inside_their_windows() {
    let app = spawn_app().await;
    let email = app.email("ttl");
    let issued_at = now(&app);
    app.start(&email).await;

    let code = &app.scan("OtpCodesTable").await[0];
    let ttl: i64 = code["ttl"].as_n().unwrap().parse().unwrap();
    assert_eq!(ttl, issued_at + 600, "a code lives ten minutes");

    let counters = app.scan("RateLimitsTable").await;
    assert!(!counters.is_empty());
    for counter in &counters {
        let ttl: i64 = counter["ttl"].as_n().unwrap().parse().unwrap();
        assert!(
            ttl > issued_at && ttl <= issued_at + 3600,
            "hashed identifiers expire within the hour"
        );
    }
    let ip_counters = counters
        .iter()
        .filter(|c| c["pk"].as_s().unwrap().starts_with("otp-start-ip#"))
        .count();
    assert_eq!(
        ip_counters, 1,
        "the IP is represented by its salted hash only"
    );
}

#[tokio::test]
async fn logs_never_hold_the_ip_the_code_the_token_or_the_email() {
    let app = spawn_app().await;
    let email = app.email("quiet");
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = shared::logging::subscriber(Some("trace"), move || writer.clone());
    let guard = tracing::subscriber::set_default(subscriber);

    app.start(&email).await;
    let code = latest_code(&email).await;
    let wrong = app.verify(&email, &crate::helpers::wrong_code(&code)).await;
    assert_eq!(wrong.status, 400);
    let verified = app.verify(&email, &code).await;
    let session = verified.cookie("session").unwrap();
    assert_eq!(app.me(&session).await.status, 200);
    drop(guard);

    let logged = logs.contents();
    assert!(
        logged.contains("sign-in code sent"),
        "the flow was logged: {logged}"
    );
    assert!(logged.contains("email_hash"));
    let token = session.trim_start_matches("session=");
    for (what, secret) in [
        ("IP", CLIENT_IP),
        ("code", code.as_str()),
        ("token", token),
        ("email", email.as_str()),
    ] {
        assert!(!logged.contains(secret), "the logs hold the {what}");
    }
    let local_part = email.split('@').next().unwrap();
    assert!(
        !logged.contains(local_part),
        "the logs hold part of the email"
    );
}
