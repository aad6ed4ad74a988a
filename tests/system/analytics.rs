//! First-party analytics: allow-listed names and context only, never a balance, a selfie or
//! an email in the payload; the wallet email after sign-in; gone within 90 days.

use serde_json::json;
use shared::analytics::{AnalyticsEvents, RETENTION_SECONDS};
use shared::email::EmailAddress;

use crate::helpers::{Call, TestApp, now, spawn_app, spawn_app_with};

const DEVICE: &str = "6f1c2a9e-3b7d-4c55-9e2a-0d4b8f1a7c33";
/// The start of a JPEG, as a browser would send a selfie inlined.
const SELFIE_B64: &str = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDA";

fn event(body: serde_json::Value) -> Call {
    Call::event("engagement", "event.json").json(body)
}

fn events(app: &TestApp) -> AnalyticsEvents {
    AnalyticsEvents::new(app.dynamodb.clone(), app.table("AnalyticsTable"))
}

#[tokio::test]
async fn only_allow_listed_context_is_stored_never_balance_selfie_or_email() {
    let app = spawn_app().await;
    let member = app.email("member");
    let cookie = app.sign_in(&member).await;
    let other = app.email("typed-into-a-field");
    let answer = event(json!({
        "name": "style_selected",
        "device_id": DEVICE,
        "context": {
            "style": "chibi",
            "balance": 987_654,
            "credits": "987654",
            "selfie": format!("data:image/jpeg;base64,{SELFIE_B64}"),
            "image": SELFIE_B64,
            "email": other,
            "page": format!("data:image/jpeg;base64,{SELFIE_B64}"),
        },
    }))
    .cookies(&[&cookie])
    .send_to_engagement(&app)
    .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["dropped"], 6);

    let stored = events(&app).for_device(DEVICE, now(&app)).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "style_selected");
    assert_eq!(
        stored[0].context,
        [("style".to_owned(), "chibi".to_owned())].into()
    );
    assert_eq!(stored[0].wallet_email.as_deref(), Some(member.as_str()));

    let everything = app.everything_stored().await;
    for secret in ["987654", "987_654", "/9j/4AAQ", "data:image", &other] {
        assert!(!everything.contains(secret), "{secret} was stored");
    }
}

#[tokio::test]
async fn unknown_names_bad_device_ids_and_oversized_bodies_are_refused() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "name": "balance_viewed", "device_id": DEVICE }),
            400,
            "unknown_event",
        ),
        (
            json!({ "name": "signed_in", "device_id": "not-a-uuid" }),
            400,
            "invalid_device_id",
        ),
        (
            json!({ "name": "signed_in", "device_id": app.email("x") }),
            400,
            "invalid_device_id",
        ),
        (
            json!({ "name": "signed_in", "device_id": DEVICE, "context": "x" }),
            400,
            "invalid_context",
        ),
        (
            json!({ "name": "signed_in", "device_id": DEVICE, "balance": 5 }),
            400,
            "unknown_field",
        ),
        (
            json!({ "name": "signed_in", "device_id": DEVICE, "context": { "selfie": SELFIE_B64.repeat(80) } }),
            413,
            "body_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let answer = event(body.clone()).send_to_engagement(&app).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (status, code),
            "{body}"
        );
    }
    assert!(app.scan("AnalyticsTable").await.is_empty());
}

#[tokio::test]
async fn events_expire_inside_ninety_days_and_are_found_by_device_and_by_email() {
    let app = spawn_app().await;
    let started = now(&app);
    let anonymous = event(
        json!({ "name": "trial_started", "device_id": DEVICE, "context": { "style": "anime" } }),
    )
    .send_to_engagement(&app)
    .await;
    assert_eq!(anonymous.status, 202, "{}", anonymous.body);
    let member = app.email("member");
    let cookie = app.sign_in(&member).await;
    app.clock.advance(60);
    let signed_in = event(json!({ "name": "checkout_started", "device_id": DEVICE, "context": { "product": "credits-10" } }))
        .cookies(&[&cookie])
        .send_to_engagement(&app)
        .await;
    assert_eq!(signed_in.status, 202);
    // A stale or forged cookie makes the event anonymous; it is still recorded.
    app.clock.advance(1);
    let forged = event(json!({ "name": "pricing_viewed", "device_id": DEVICE }))
        .cookies(&["session=not.a.token"])
        .send_to_engagement(&app)
        .await;
    assert_eq!(forged.status, 202);

    let by_device = events(&app).for_device(DEVICE, now(&app)).await.unwrap();
    assert_eq!(by_device.len(), 3);
    assert_eq!(by_device[0].wallet_email, None);
    assert_eq!(by_device[2].wallet_email, None);
    for stored in &by_device {
        assert!(stored.ttl - stored.occurred_at < RETENTION_SECONDS);
        assert!(
            stored.ttl - stored.occurred_at >= 80 * 86_400,
            "not deleted needlessly early"
        );
    }
    assert_eq!(by_device[0].occurred_at, started);
    let by_email = events(&app)
        .for_email(&EmailAddress::parse(&member).unwrap(), now(&app))
        .await
        .unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].name, "checkout_started");

    // Past the TTL the events are gone from every read, even before DynamoDB deletes them.
    app.clock.advance(by_device[2].ttl - now(&app));
    assert!(
        events(&app)
            .for_device(DEVICE, now(&app))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.scan("AnalyticsTable").await.len() == 3,
        "the emulation never deletes; reads filter"
    );
}

#[tokio::test]
async fn events_are_rate_limited_per_device() {
    let app = spawn_app_with(&[("EVENTS_PER_DEVICE_PER_HOUR", "3")]).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let answer = event(
            json!({ "name": "page_viewed", "device_id": DEVICE, "context": { "page": "/" } }),
        )
        .send_to_engagement(&app)
        .await;
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [202, 202, 202, 429]);
    let other_device = event(
        json!({ "name": "page_viewed", "device_id": "0b6a4c1e-7d2f-4a9b-8c3d-5e6f7a8b9c0d" }),
    )
    .send_to_engagement(&app)
    .await;
    assert_eq!(other_device.status, 202);
}
