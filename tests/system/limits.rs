use serde_json::json;

use crate::helpers::{Call, spawn_app, spawn_app_with};

fn retry_after(answer: &crate::helpers::Answer) -> i64 {
    answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_second_code_within_sixty_seconds_is_refused_with_retry_after() {
    let app = spawn_app().await;
    let email = app.email("impatient");
    assert_eq!(app.start(&email).await.status, 202);
    app.clock.advance(20);
    let again = app.start(&email).await;
    assert_eq!((again.status, again.error_code()), (429, "rate_limited"));
    assert_eq!(retry_after(&again), 40);
    app.clock.advance(40);
    assert_eq!(app.start(&email).await.status, 202);
}

#[tokio::test]
async fn at_most_five_codes_per_email_per_hour() {
    let app = spawn_app().await;
    let email = app.email("persistent");
    for _ in 0..5 {
        assert_eq!(app.start(&email).await.status, 202);
        app.clock.advance(61);
    }
    let sixth = app.start(&email).await;
    assert_eq!((sixth.status, sixth.error_code()), (429, "rate_limited"));
    assert_eq!(retry_after(&sixth), 3600 - 5 * 61);
    assert_eq!(crate::helpers::sent_mail(&email).await.len(), 5);
    app.clock.advance(3600);
    assert_eq!(
        app.start(&email).await.status,
        202,
        "a new hour, a new window"
    );
}

#[tokio::test]
async fn starts_per_ip_hash_are_limited_across_emails() {
    let app = spawn_app_with(&[("OTP_STARTS_PER_IP_PER_HOUR", "3")]).await;
    for n in 0..3 {
        assert_eq!(app.start(&app.email(&format!("n{n}"))).await.status, 202);
    }
    let fourth = app.start(&app.email("n3")).await;
    assert_eq!((fourth.status, fourth.error_code()), (429, "rate_limited"));
    assert!(retry_after(&fourth) > 3500);

    let elsewhere = Call::fixture("start.json")
        .json(json!({ "email": app.email("n4") }))
        .source_ip("198.51.100.23")
        .send(&app)
        .await;
    assert_eq!(elsewhere.status, 202, "another address has its own budget");
}

#[tokio::test]
async fn verifies_per_ip_hash_are_limited() {
    let app = spawn_app_with(&[("OTP_VERIFIES_PER_IP_PER_HOUR", "2")]).await;
    let email = app.email("spray");
    assert_eq!(app.verify(&email, "000000").await.status, 400);
    assert_eq!(app.verify(&email, "000001").await.status, 400);
    let third = app.verify(&email, "000002").await;
    assert_eq!((third.status, third.error_code()), (429, "rate_limited"));
}

#[tokio::test]
async fn the_limit_holds_under_concurrent_requests() {
    let app = spawn_app_with(&[("OTP_STARTS_PER_IP_PER_HOUR", "4")]).await;
    let emails: Vec<String> = (0..10).map(|n| app.email(&format!("c{n}"))).collect();
    let answers = futures_util::future::join_all(emails.iter().map(|e| app.start(e))).await;
    let sent = answers.iter().filter(|a| a.status == 202).count();
    let limited = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!((sent, limited), (4, 6));
}
