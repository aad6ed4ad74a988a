//! The privacy policy's storage and logging promises for sign-in.

use std::sync::OnceLock;

use secrecy::SecretString;
use shared::privacy::keyed_hash;

use crate::helpers::{CLIENT_IP, LogBuffer, latest_code, local_secrets, now, spawn_app};

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

/// "Hashed IPs — 24-48 hours ... then dropped": DynamoDB's TTL deletion may run days late,
/// so retention-cron deletes expired hashed-key windows itself, and only expired ones.
#[tokio::test]
async fn hashed_ips_are_dropped_within_hours_without_waiting_for_ttl() {
    let app = spawn_app().await;
    app.start(&app.email("early")).await;
    let early = app.scan("RateLimitsTable").await;
    assert!(!early.is_empty());
    assert!(
        early
            .iter()
            .all(|counter| counter["expiry_sweep"].as_s().unwrap() == "hashed-key"),
        "every window is listed for the sweep"
    );

    app.clock.advance(2 * 3600);
    let report = app.retention.run().await.unwrap();
    assert_eq!(
        report.count("ExpiredHashedKeysDeleted"),
        early.len() as u64,
        "{report:?}"
    );
    assert!(app.scan("RateLimitsTable").await.is_empty());

    // Windows opened now are live: a run at the same moment leaves them.
    app.start(&app.email("late")).await;
    let live = app.scan("RateLimitsTable").await.len();
    assert!(live > 0);
    let again = app.retention.run().await.unwrap();
    assert_eq!(again.count("ExpiredHashedKeysDeleted"), 0);
    assert_eq!(app.scan("RateLimitsTable").await.len(), live);
}

/// Every log line the handlers of this test binary write, as JSON, from the first call on.
/// One global subscriber: thread-local ones miss lines when tests on other threads register
/// the same call sites first.
fn captured_logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        tracing::subscriber::set_global_default(shared::logging::subscriber(
            Some("debug"),
            move || writer.clone(),
        ))
        .expect("only this test installs a subscriber");
        logs
    })
}

#[tokio::test]
async fn logs_never_hold_the_ip_the_code_the_token_or_the_email() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let email = app.email("quiet");

    app.start(&email).await;
    let code = latest_code(&email).await;
    let wrong = app.verify(&email, &crate::helpers::wrong_code(&code)).await;
    assert_eq!(wrong.status, 400);
    let verified = app.verify(&email, &code).await;
    let session = verified.cookie("session").unwrap();
    assert_eq!(app.me(&session).await.status, 200);

    let logged = logs.contents();
    // This flow's lines are there: they carry this email's keyed hash.
    let otp_key = SecretString::from(local_secrets()[2].1.clone());
    let email_hash = keyed_hash(&otp_key, "email", &email);
    let ours: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains(&email_hash[..16]))
        .collect();
    assert!(
        ours.iter().any(|line| line.contains("sign-in code sent"))
            && ours
                .iter()
                .any(|line| line.contains("sign-in code rejected"))
            && ours.iter().any(|line| line.contains("signed in")),
        "the flow was logged: {ours:?}"
    );
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
        !logged.contains(&format!("{local_part}@")),
        "the logs hold part of the email"
    );
}
