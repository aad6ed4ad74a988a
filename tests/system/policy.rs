//! Policy conformance: promises of the privacy policy that no other module's tests prove
//! by name. POLICY.md maps every promise of sections 1, 5 and 6 to its code and its test,
//! here or in the module that owns the feature.

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::{Call, TestApp, spawn_app};
use crate::pipeline::full_order;

const DEVICE: &str = "2b1f3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

impl TestApp {
    async fn delete_generation(&self, session: &str, id: &str) -> crate::helpers::Answer {
        Call::event("upload-presign", "delete-generation.json")
            .route("DELETE", &format!("/generations/{id}"))
            .cookies(&[session])
            .send_to_uploads(self)
            .await
    }

    async fn keys_under(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let s3 = shared::aws::s3(&self.sdk);
        let listed = s3
            .list_objects_v2()
            .bucket(&self.resources[bucket])
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        listed
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect()
    }
}

/// Section 5: "Generated avatars and stickers — ... Deleted on request or on wallet
/// deletion." (Wallet deletion: `erasure::*`.)
#[tokio::test]
async fn generated_images_are_deleted_on_request() {
    let app = spawn_app().await;
    let person = app.person_with_credits("gone", 10).await;
    let id = app.allowed_selfie(&person, true).await;
    let wallet_id = app
        .wallets()
        .find_by_email(&shared::email::EmailAddress::parse(&person.email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let prefix = format!("generated/{wallet_id}/{id}/");
    assert!(!app.keys_under("GeneratedBucket", &prefix).await.is_empty());
    let credits = app.credits(&person).await;

    // Someone else's generation is as absent as a missing one.
    let stranger = app.person_with_credits("stranger", 0).await;
    assert_eq!(
        app.delete_generation(&stranger.session, &id).await.status,
        404
    );

    let deleted = app.delete_generation(&person.session, &id).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["status"], json!("deleted"));
    assert!(app.keys_under("GeneratedBucket", &prefix).await.is_empty());
    assert!(
        app.keys_under("SelfieBucket", &format!("selfies/{wallet_id}/{id}"))
            .await
            .is_empty()
    );
    assert_eq!(app.generation(&person, &id).await.status, 404);
    assert_eq!(
        app.credits(&person).await,
        credits,
        "a charge stays charged"
    );
    assert_eq!(
        app.delete_generation(&person.session, &id).await.status,
        404
    );

    // One still being made cannot be deleted yet.
    let pending = app.order(&person, full_order()).await;
    let pending_id = pending.body["generation_id"].as_str().unwrap();
    let refused = app.delete_generation(&person.session, pending_id).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.error_code(), "generation_in_progress");
}

/// Section 1: "Session cookies — a signed JWT ... plus a locale cookie ... We do not use
/// third-party advertising or tracking cookies." Every cookie the API ever sets is one of
/// the two, host-only (no `Domain`), so no other site can read it.
#[tokio::test]
async fn only_the_session_and_locale_cookies_are_ever_set() {
    let app = spawn_app().await;
    let email = app.email("cookies");
    let mut answers = vec![
        Call::fixture("start.json")
            .json(json!({ "email": email, "locale": "ja" }))
            .send(&app)
            .await,
    ];
    let code = crate::helpers::latest_code(&email).await;
    let verified = app.verify(&email, &code).await;
    let session = verified.cookie("session").expect("a session cookie");
    answers.push(verified);
    answers.push(
        Call::fixture("locale.json")
            .json(json!({ "locale": "en" }))
            .cookies(&[&session])
            .send(&app)
            .await,
    );
    answers.push(
        Call::event("engagement", "event.json")
            .json(json!({ "name": "pricing_viewed", "device_id": DEVICE }))
            .cookies(&[&session])
            .send_to_engagement(&app)
            .await,
    );
    answers.push(
        Call::fixture("logout.json")
            .cookies(&[&session])
            .send(&app)
            .await,
    );

    let mut names = BTreeSet::new();
    for answer in &answers {
        for cookie in answer.set_cookies() {
            let name = cookie.split('=').next().unwrap().to_owned();
            assert!(
                !cookie.to_ascii_lowercase().contains("domain="),
                "host-only: {cookie}"
            );
            names.insert(name);
        }
    }
    assert!(
        names.contains("session") && names.contains("locale"),
        "{names:?}"
    );
    assert_eq!(
        names,
        BTreeSet::from(["session".to_owned(), "locale".to_owned()])
    );
}

/// Section 1: "We do not run third-party advertising trackers, fingerprinting, or
/// cross-site analytics": an analytics event holds the action, its allow-listed context,
/// the anonymous device id and (signed in) the wallet email — never the address, the user
/// agent or any other header that could fingerprint a browser.
#[tokio::test]
async fn analytics_events_hold_no_ip_user_agent_or_other_fingerprint() {
    let app = spawn_app().await;
    let user_agent = "Mozilla/5.0 (FingerprintTest; rv:1) Gecko/20100101 Firefox/999";
    let ip = "198.51.100.23";
    let answer = Call::event("engagement", "event.json")
        .header("user-agent", user_agent)
        .header("accept-language", "ja-JP,ja;q=0.9")
        .source_ip(ip)
        .json(json!({ "name": "style_selected", "context": { "style": "chibi" }, "device_id": DEVICE }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);

    let events = app.scan("AnalyticsTable").await;
    assert_eq!(events.len(), 1);
    let attributes: BTreeSet<&str> = events[0].keys().map(String::as_str).collect();
    let allowed: BTreeSet<&str> = [
        "event_id",
        "name",
        "context",
        "device_id",
        "occurred_at",
        "ttl",
    ]
    .into();
    assert!(attributes.is_subset(&allowed), "{attributes:?}");
    let stored = format!("{:?}", events[0]);
    for fingerprint in [ip, user_agent, "Firefox", "ja-JP"] {
        assert!(
            !stored.contains(fingerprint),
            "{fingerprint} stored: {stored}"
        );
    }
    assert_eq!(
        events[0]["context"].as_m().unwrap()["style"]
            .as_s()
            .unwrap(),
        "chibi"
    );
}
