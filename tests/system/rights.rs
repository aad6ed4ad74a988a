//! The other rights of policy section 6: rectification (a new email proved by a code sent to
//! it), restriction (no uploads, analytics or marketing while it holds), objection and
//! withdrawal of consent (recorded with time), and an export that shows every choice.

use std::collections::HashMap;

use serde_json::{Value, json};
use shared::analytics::AnalyticsEvents;
use shared::clock::rfc3339;
use shared::email::{Email, EmailAddress, Mailer};
use shared::locale::Locale;
use shared::marketing::{Consent, MarketingMailer, MarketingOutcome, UnsubscribeTokens};

use crate::export::unzip;
use crate::helpers::{Answer, Call, TestApp, latest_code, now, sent_mail, spawn_app, wrong_code};

const DEVICE: &str = "0b5e3c1a-7d2f-4e8a-9c6b-1f2e3d4c5b6a";
const OTHER_DEVICE: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

async fn rights(app: &TestApp, fixture: &str, session: &str, body: Option<Value>) -> Answer {
    let mut call = Call::event("dsr-export", fixture).cookies(&[session]);
    if let Some(body) = body {
        call = call.json(body);
    }
    call.send_to_rights(app).await
}

async fn change_email(app: &TestApp, session: &str, new: &str) -> Answer {
    rights(
        app,
        "email.json",
        session,
        Some(json!({ "new_email": new })),
    )
    .await
}

async fn verify_change(app: &TestApp, session: &str, new: &str, code: &str) -> Answer {
    rights(
        app,
        "email-verify.json",
        session,
        Some(json!({ "new_email": new, "code": code })),
    )
    .await
}

async fn restrict(app: &TestApp, session: &str, restricted: bool) -> Answer {
    let answer = rights(
        app,
        "restriction.json",
        session,
        Some(json!({ "restricted": restricted })),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

async fn consent(app: &TestApp, session: &str, body: Value) -> Answer {
    let answer = rights(app, "consent.json", session, Some(body)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

async fn opt_in_to_marketing(app: &TestApp, session: &str) {
    let answer = Call::event("engagement", "marketing.json")
        .json(json!({ "opt_in": true }))
        .cookies(&[session])
        .send_to_engagement(app)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

async fn event(app: &TestApp, device: &str, session: Option<&str>) -> Answer {
    let mut call = Call::event("engagement", "event.json")
        .json(json!({ "name": "page_viewed", "device_id": device, "context": {"page": "/"} }));
    call = match session {
        Some(session) => call.cookies(&[session]),
        None => call.cookies(&[]),
    };
    call.send_to_engagement(app).await
}

async fn stored_events(app: &TestApp, device: &str) -> usize {
    AnalyticsEvents::new(app.dynamodb.clone(), app.table("AnalyticsTable"))
        .for_device(device, now(app))
        .await
        .unwrap()
        .len()
}

async fn events_of(app: &TestApp, address: &str) -> usize {
    AnalyticsEvents::new(app.dynamodb.clone(), app.table("AnalyticsTable"))
        .for_email(&email(address), now(app))
        .await
        .unwrap()
        .len()
}

async fn upload(app: &TestApp, session: &str) -> Answer {
    Call::event("upload-presign", "create-upload.json")
        .json(json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime"}))
        .cookies(&[session])
        .send_to_uploads(app)
        .await
}

fn marketing(app: &TestApp) -> MarketingMailer {
    let env = &app.engagement_env;
    MarketingMailer::new(
        Mailer::new(
            shared::aws::sesv2(&app.sdk),
            &shared::email::Sender::from_env(env).unwrap(),
        ),
        Consent::new(app.dynamodb.clone(), app.table("LeadsTable")),
        UnsubscribeTokens::new(secrecy::SecretString::from(env["UNSUBSCRIBE_KEY"].clone())),
        env["APP_ORIGIN"].parse().unwrap(),
        env["API_ORIGIN"].parse().unwrap(),
    )
}

fn newsletter() -> Email {
    Email {
        locale: shared::locale::Locale::En,
        subject: "New styles".to_owned(),
        text: "Three new styles this month.".to_owned(),
        html: "<p>Three new styles this month.</p>".to_owned(),
    }
}

async fn lead_row(app: &TestApp, address: &str) -> Option<shared::store::Item> {
    app.scan("LeadsTable")
        .await
        .into_iter()
        .find(|row| row["email"].as_s().unwrap() == address)
}

async fn wallet_item(app: &TestApp, wallet_id: &str) -> shared::store::Item {
    app.wallets().item(wallet_id).await.unwrap().unwrap()
}

async fn wallet_id(app: &TestApp, address: &str) -> Option<String> {
    app.wallets()
        .find_by_email(&email(address))
        .await
        .unwrap()
        .map(|wallet| wallet.id)
}

#[tokio::test]
async fn a_new_email_proved_by_a_code_sent_to_it_moves_the_wallet_lead_row_and_events() {
    let app = spawn_app().await;
    let old = app.email("yui");
    let new = app.email("yui.new");
    let session = app.sign_in(&old).await;
    opt_in_to_marketing(&app, &session).await;
    let id = wallet_id(&app, &old).await.unwrap();
    app.wallets().add_credits(&id, 7).await.unwrap();
    let before = lead_row(&app, &old).await.unwrap();
    let mails_to_old = sent_mail(&old).await.len();
    assert_eq!(
        event(&app, DEVICE, Some(&session)).await.body["status"],
        json!("recorded")
    );
    app.clock.advance(120);

    let answer = change_email(&app, &session, &new).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    // The code goes to the new address only.
    assert_eq!(sent_mail(&new).await.len(), 1);
    assert_eq!(sent_mail(&old).await.len(), mails_to_old);
    let code = latest_code(&new).await;

    let wrong = verify_change(&app, &session, &new, &wrong_code(&code)).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.error_code(), "invalid_code");
    assert_eq!(wallet_id(&app, &new).await, None);

    let moved = verify_change(&app, &session, &new, &code).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["email"], json!(new));
    // Every session ended with the change; the caller goes on in a new one.
    assert_eq!(app.me(&session).await.status, 401);
    let session = moved.cookie("session").expect("a new session");
    let me = app.me(&session).await;
    assert_eq!(me.body["email"], json!(new));
    assert_eq!(wallet_id(&app, &new).await.as_deref(), Some(id.as_str()));
    assert_eq!(wallet_id(&app, &old).await, None);

    // The lead row moved, keeping its first source, first capture and consents.
    let after = lead_row(&app, &new).await.expect("the lead row moved");
    assert!(lead_row(&app, &old).await.is_none());
    for kept in [
        "first_source",
        "first_captured_at",
        "marketing_opt_in",
        "marketing_opt_in_at",
        "consent_history",
    ] {
        assert_eq!(after.get(kept), before.get(kept), "{kept}");
    }

    // Events stored before follow the wallet to the new address, and so do later ones.
    assert_eq!(events_of(&app, &old).await, 0);
    assert_eq!(events_of(&app, &new).await, 1);
    event(&app, DEVICE, Some(&session)).await;
    assert_eq!(events_of(&app, &new).await, 2);

    // Both addresses are told.
    assert!(sent_mail(&old).await.last().unwrap().0.contains("changed"));
    assert!(sent_mail(&new).await.last().unwrap().0.contains("changed"));
    // The code is spent.
    assert_eq!(
        verify_change(&app, &session, &new, &code)
            .await
            .error_code(),
        "invalid_code"
    );

    // The new address signs in to this wallet; the old one no longer does.
    app.clock.advance(120);
    let with_new = app.sign_in(&new).await;
    assert_eq!(app.me(&with_new).await.body["credits"], json!(7));
    app.clock.advance(120);
    let with_old = app.sign_in(&old).await;
    let fresh = app.me(&with_old).await;
    assert_eq!(fresh.body["credits"], json!(0));
    assert_ne!(wallet_id(&app, &old).await.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn changing_to_an_address_that_has_a_wallet_is_refused_with_409_after_the_code() {
    let app = spawn_app().await;
    let mine = app.email("mio");
    let theirs = app.email("taken");
    let session = app.sign_in(&mine).await;
    app.sign_in(&theirs).await;
    let their_wallet = wallet_id(&app, &theirs).await.unwrap();
    app.clock.advance(120);

    // Asking answers the same as for a free address: the code is what proves the address.
    assert_eq!(change_email(&app, &session, &theirs).await.status, 202);
    let code = latest_code(&theirs).await;
    let answer = verify_change(&app, &session, &theirs, &code).await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(answer.error_code(), "email_taken");
    assert_eq!(
        wallet_id(&app, &theirs).await.as_deref(),
        Some(their_wallet.as_str())
    );
    assert_eq!(app.me(&session).await.body["email"], json!(mine));
    assert!(wallet_id(&app, &mine).await.is_some());
}

#[tokio::test]
async fn sign_in_codes_and_email_change_codes_do_not_stand_in_for_each_other() {
    let app = spawn_app().await;
    let old = app.email("aoi");
    let new = app.email("aoi.new");
    let session = app.sign_in(&old).await;
    app.clock.advance(120);
    assert_eq!(change_email(&app, &session, &new).await.status, 202);
    let change_code = latest_code(&new).await;

    // The email-change code does not sign in as the new address.
    let signed = app.verify(&new, &change_code).await;
    assert_eq!(signed.status, 400, "{}", signed.body);
    assert!(wallet_id(&app, &new).await.is_none());

    // A sign-in code for the new address does not confirm the change.
    app.clock.advance(120);
    assert_eq!(app.start(&new).await.status, 202);
    let sign_in_code = latest_code(&new).await;
    assert_ne!(sign_in_code, change_code);
    let answer = verify_change(&app, &session, &new, &sign_in_code).await;
    assert_eq!(answer.error_code(), "invalid_code");

    // A code asked for by one wallet confirms nothing for another.
    let other = app.sign_in(&app.email("someone")).await;
    let stolen = verify_change(&app, &other, &new, &change_code).await;
    assert_eq!(stolen.error_code(), "invalid_code");

    // The change code itself still works for the wallet that asked.
    let moved = verify_change(&app, &session, &new, &change_code).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
}

#[tokio::test]
async fn asking_for_email_change_codes_is_rate_limited_like_sign_in() {
    let app = spawn_app().await;
    let session = app.sign_in(&app.email("rin")).await;
    let new = app.email("rin.new");
    assert_eq!(change_email(&app, &session, &new).await.status, 202);
    // The one-a-minute resend limit of sign-in, on the same key.
    let again = change_email(&app, &session, &new).await;
    assert_eq!(again.status, 429, "{}", again.body);
    assert_eq!(sent_mail(&new).await.len(), 1);
}

#[tokio::test]
async fn a_restriction_stops_uploads_analytics_and_marketing_until_it_is_lifted() {
    let app = spawn_app().await;
    let address = app.email("kai");
    let session = app.sign_in(&address).await;
    opt_in_to_marketing(&app, &session).await;
    let id = wallet_id(&app, &address).await.unwrap();
    app.wallets().add_credits(&id, 100).await.unwrap();
    app.clock.advance(60);

    let answer = restrict(&app, &session, true).await;
    assert_eq!(answer.body["restricted"], json!(true));
    assert_eq!(
        answer.body["restricted_at"],
        json!(shared::clock::rfc3339(now(&app)))
    );

    let refused = upload(&app, &session).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.error_code(), "processing_restricted");
    assert!(app.scan("GenerationsTable").await.is_empty());

    let dropped = event(&app, DEVICE, Some(&session)).await;
    assert_eq!(dropped.status, 202);
    assert_eq!(dropped.body["status"], json!("dropped"));
    assert_eq!(dropped.body["reason"], json!("restricted"));
    assert_eq!(stored_events(&app, DEVICE).await, 0);

    let mailer = marketing(&app);
    assert_eq!(
        mailer
            .send(&email(&address), Locale::En, newsletter())
            .await
            .unwrap(),
        MarketingOutcome::NotPermitted
    );
    // Existing data stays: restriction is not erasure.
    assert!(lead_row(&app, &address).await.is_some());
    assert_eq!(app.me(&session).await.body["credits"], json!(100));

    app.clock.advance(60);
    let lifted = restrict(&app, &session, false).await;
    assert_eq!(lifted.body["restricted"], json!(false));
    assert_eq!(upload(&app, &session).await.status, 201);
    assert_eq!(
        event(&app, DEVICE, Some(&session)).await.body["status"],
        json!("recorded")
    );
    assert_eq!(stored_events(&app, DEVICE).await, 1);
    assert!(matches!(
        mailer
            .send(&email(&address), Locale::En, newsletter())
            .await
            .unwrap(),
        MarketingOutcome::Sent(_)
    ));
    let history = wallet_item(&app, &id).await["restriction_history"]
        .as_l()
        .unwrap()
        .len();
    assert_eq!(history, 2);
}

#[tokio::test]
async fn an_objection_to_analytics_stops_storing_this_sessions_events_only() {
    let app = spawn_app().await;
    let address = app.email("sora");
    let session = app.sign_in(&address).await;

    let answer = consent(&app, &session, json!({ "analytics": false })).await;
    assert_eq!(answer.body["analytics_objected"], json!(true));
    assert_eq!(
        answer.body["analytics_objected_at"],
        json!(shared::clock::rfc3339(now(&app)))
    );

    let dropped = event(&app, DEVICE, Some(&session)).await;
    assert_eq!(dropped.status, 202);
    assert_eq!(dropped.body["reason"], json!("objected"));
    assert_eq!(stored_events(&app, DEVICE).await, 0);
    let by_email = AnalyticsEvents::new(app.dynamodb.clone(), app.table("AnalyticsTable"))
        .for_email(&email(&address), now(&app))
        .await
        .unwrap();
    assert!(by_email.is_empty());

    // A signed-out event from another device cannot be linked to the person: unaffected.
    let anonymous = event(&app, OTHER_DEVICE, None).await;
    assert_eq!(anonymous.body["status"], json!("recorded"));
    assert_eq!(stored_events(&app, OTHER_DEVICE).await, 1);

    app.clock.advance(60);
    let allowed = consent(&app, &session, json!({ "analytics": true })).await;
    assert_eq!(allowed.body["analytics_objected"], json!(false));
    event(&app, DEVICE, Some(&session)).await;
    assert_eq!(stored_events(&app, DEVICE).await, 1);
}

#[tokio::test]
async fn withdrawing_marketing_consent_through_me_consent_is_in_the_consent_history() {
    let app = spawn_app().await;
    let address = app.email("nao");
    let session = app.sign_in(&address).await;
    opt_in_to_marketing(&app, &session).await;
    app.clock.advance(300);

    let answer = consent(&app, &session, json!({ "marketing": false })).await;
    assert_eq!(answer.body["marketing_opt_in"], json!(false));
    let withdrawn_at = now(&app);
    assert_eq!(
        answer.body["marketing_opt_out_at"],
        json!(shared::clock::rfc3339(withdrawn_at))
    );
    let row = lead_row(&app, &address).await.unwrap();
    let history = row["consent_history"].as_l().unwrap();
    let last = history.last().unwrap().as_m().unwrap();
    assert_eq!(last["opt_in"].as_bool().unwrap(), &false);
    assert_eq!(last["at"].as_n().unwrap(), &withdrawn_at.to_string());
    assert_eq!(last["via"].as_s().unwrap(), "dsr");
    assert_eq!(history.len(), 2);

    let privacy = rights(&app, "privacy.json", &session, None).await;
    assert_eq!(privacy.status, 200, "{}", privacy.body);
    assert_eq!(privacy.body["marketing_opt_in"], json!(false));
    assert_eq!(privacy.body["restricted"], json!(false));
    assert_eq!(privacy.body["analytics_objected"], json!(false));

    let empty = rights(&app, "consent.json", &session, Some(json!({}))).await;
    assert_eq!(empty.error_code(), "nothing_to_change");
}

fn rows(files: &HashMap<String, Vec<u8>>, store: &str) -> Vec<Value> {
    serde_json::from_slice(&files[&format!("data/{store}.json")]).expect("a JSON array")
}

#[tokio::test]
async fn an_export_shows_restriction_objection_and_withdrawal_with_their_times() {
    let app = spawn_app().await;
    let address = app.email("emi");
    let session = app.sign_in(&address).await;
    opt_in_to_marketing(&app, &session).await;
    app.clock.advance(100);
    restrict(&app, &session, true).await;
    let restricted_at = now(&app);
    app.clock.advance(100);
    consent(
        &app,
        &session,
        json!({ "analytics": false, "marketing": false }),
    )
    .await;
    let objected_at = now(&app);

    let answer = rights(&app, "export.json", &session, None).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(app.run_export_queue().await >= 1);
    let files = unzip(&app.download_from_mail(&address).await.expect("the link"));

    let wallet = &rows(&files, "wallet")[0];
    assert_eq!(wallet["restricted"], json!(true));
    assert_eq!(wallet["restricted_at"], json!(rfc3339(restricted_at)));
    assert_eq!(
        wallet["restriction_history"],
        json!([{ "restricted": true, "at": rfc3339(restricted_at) }])
    );
    assert_eq!(wallet["analytics_objected"], json!(true));
    assert_eq!(wallet["analytics_objected_at"], json!(rfc3339(objected_at)));
    assert_eq!(
        wallet["analytics_objection_history"],
        json!([{ "analytics_objected": true, "at": rfc3339(objected_at) }])
    );
    let lead = &rows(&files, "lead")[0];
    assert_eq!(lead["restricted"], json!(true));
    assert_eq!(lead["restricted_at"], json!(rfc3339(restricted_at)));
    assert_eq!(lead["marketing_opt_out_at"], json!(rfc3339(objected_at)));
    let last = lead["consent_history"].as_array().unwrap().last().unwrap();
    assert_eq!(
        last,
        &json!({ "opt_in": false, "at": rfc3339(objected_at), "via": "dsr" })
    );
}
