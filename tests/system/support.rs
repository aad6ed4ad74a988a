//! The public refund form and the feedback widget.

use serde_json::json;
use shared::email::EmailAddress;
use shared::support::feedback::FeedbackStore;
use shared::support::refunds::RefundRequests;

use crate::helpers::{Call, TestApp, now, sent_mail, spawn_app, spawn_app_with};

fn refund(body: serde_json::Value) -> Call {
    Call::event("engagement", "refund-request.json")
        .without_header("idempotency-key")
        .json(body)
}

fn requests(app: &TestApp) -> RefundRequests {
    RefundRequests::new(app.dynamodb.clone(), app.table("RefundRequestsTable"))
}

async fn lead_source(app: &TestApp, email: &str) -> String {
    let rows = app.scan("LeadsTable").await;
    let row = rows
        .iter()
        .find(|row| row["email"].as_s().unwrap() == email)
        .expect("the email is on the lead list");
    row["first_source"].as_s().unwrap().clone()
}

#[tokio::test]
async fn refund_form_captures_the_lead_records_the_request_and_emails_a_confirmation() {
    let app = spawn_app().await;
    let email = app.email("refund");
    let reason = "The avatars came out too dark, please refund.";
    let answer =
        refund(json!({ "email": email.to_uppercase(), "order_id": "ord_8Hq2x", "reason": reason }))
            .send_to_engagement(&app)
            .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["confirmation_sent"], true);
    let request_id = answer.body["request_id"].as_str().unwrap().to_owned();

    assert_eq!(lead_source(&app, &email).await, "refund-form");
    let stored = requests(&app)
        .for_email(&EmailAddress::parse(&email).unwrap())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].request_id, request_id);
    assert_eq!(stored[0].order_id.as_deref(), Some("ord_8Hq2x"));
    assert_eq!(stored[0].reason, reason);
    assert_eq!(stored[0].status, "open");
    assert_eq!(stored[0].created_at, now(&app));

    let mail = sent_mail(&email).await;
    assert_eq!(mail.len(), 1);
    let (subject, body) = &mail[0];
    assert!(subject.contains("refund request"), "{subject}");
    let reference = answer.body["reference"].as_str().unwrap();
    assert!(body.contains(reference) && body.contains("ord_8Hq2x"));
    assert!(
        !body.contains("too dark"),
        "the public form must not relay the sender's text"
    );

    // Signing in later keeps the refund form as the first source, on the one row.
    app.sign_in(&email).await;
    assert_eq!(lead_source(&app, &email).await, "refund-form");
    assert_eq!(app.scan("LeadsTable").await.len(), 1);
}

#[tokio::test]
async fn a_signed_up_person_using_the_refund_form_keeps_sign_in_as_first_source() {
    let app = spawn_app().await;
    let email = app.email("member");
    app.sign_in(&email).await;
    let answer = refund(json!({ "email": email, "reason": "Charged twice." }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(lead_source(&app, &email).await, "sign-in");
    assert_eq!(app.scan("LeadsTable").await.len(), 1);
    assert_eq!(app.scan("RefundRequestsTable").await.len(), 1);
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_records_and_emails_once() {
    // Every attempt counts against the per-email limit; this test is about duplicates.
    let app = spawn_app_with(&[("REFUND_REQUESTS_PER_EMAIL_PER_DAY", "10")]).await;
    let email = app.email("retry");
    let body = json!({ "email": email, "reason": "Wrong style." });
    let send = |key: Option<&'static str>| {
        let call = refund(body.clone());
        let call = match key {
            Some(key) => call.header("idempotency-key", key),
            None => call,
        };
        call.send_to_engagement(&app)
    };
    let first = send(Some("retry-key-0001")).await;
    let again = send(Some("retry-key-0001")).await;
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(first.body["request_id"], again.body["request_id"]);
    assert_eq!(app.scan("RefundRequestsTable").await.len(), 1);
    assert_eq!(sent_mail(&email).await.len(), 1);

    // Without a key, two sends are two requests.
    assert_eq!(send(None).await.status, 201);
    assert_eq!(send(None).await.status, 201);
    assert_eq!(app.scan("RefundRequestsTable").await.len(), 3);
}

#[tokio::test]
async fn refund_form_is_rate_limited_per_ip_and_per_email() {
    let app = spawn_app_with(&[("REFUND_REQUESTS_PER_IP_PER_HOUR", "2")]).await;
    for name in ["a", "b"] {
        let answer = refund(json!({ "email": app.email(name), "reason": "r" }))
            .send_to_engagement(&app)
            .await;
        assert_eq!(answer.status, 201);
    }
    let limited = refund(json!({ "email": app.email("c"), "reason": "r" }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.error_code(), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));

    // Per email (3 a day by default), whatever the IP: the form must not flood an inbox.
    let victim = app.email("victim");
    let mut statuses = Vec::new();
    for i in 0..4 {
        let answer = refund(json!({ "email": victim, "reason": "r" }))
            .source_ip(&format!("198.51.100.{i}"))
            .send_to_engagement(&app)
            .await;
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [201, 201, 201, 429]);
    assert_eq!(sent_mail(&victim).await.len(), 3);
}

#[tokio::test]
async fn refund_form_refuses_bad_input_and_stores_nothing() {
    let app = spawn_app().await;
    let email = app.email("bad");
    let cases = [
        (
            json!({ "email": "not-an-email", "reason": "r" }),
            "invalid_email",
        ),
        (json!({ "email": email, "reason": "  " }), "invalid_reason"),
        (
            json!({ "email": email, "reason": "x".repeat(2001) }),
            "invalid_reason",
        ),
        (
            json!({ "email": email, "reason": "r", "order_id": "ord 1; drop" }),
            "invalid_order_id",
        ),
        (
            json!({ "email": email, "reason": "r", "balance": 10 }),
            "unknown_field",
        ),
        (json!({ "reason": "r" }), "missing_field"),
    ];
    for (body, code) in cases {
        let answer = refund(body.clone()).send_to_engagement(&app).await;
        assert_eq!((answer.status, answer.error_code()), (400, code), "{body}");
    }
    let bad_key = refund(json!({ "email": email, "reason": "r" }))
        .header("idempotency-key", "x")
        .send_to_engagement(&app)
        .await;
    assert_eq!(bad_key.error_code(), "invalid_idempotency_key");
    assert!(app.scan("RefundRequestsTable").await.is_empty());
    assert!(app.scan("LeadsTable").await.is_empty());
    assert!(sent_mail(&email).await.is_empty());
}

fn feedback(body: serde_json::Value) -> Call {
    Call::event("engagement", "feedback.json").json(body)
}

#[tokio::test]
async fn feedback_is_kept_with_the_wallet_when_signed_in_and_found_by_wallet_and_email() {
    let app = spawn_app().await;
    let member = app.email("member");
    let cookie = app.sign_in(&member).await;

    let signed_in = feedback(json!({ "message": "Love the chibi style!", "page": "/create" }))
        .cookies(&[&cookie])
        .send_to_engagement(&app)
        .await;
    assert_eq!(signed_in.status, 201, "{}", signed_in.body);
    let reply_to = app.email("reply");
    let anonymous = feedback(json!({ "message": "Add pastel please", "email": reply_to }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(anonymous.status, 201, "{}", anonymous.body);

    let store = FeedbackStore::new(app.dynamodb.clone(), app.table("FeedbackTable"));
    let wallet = app
        .scan("WalletsTable")
        .await
        .into_iter()
        .find(|item| item["pk"].as_s().unwrap().starts_with("WALLET#"))
        .unwrap();
    let id = wallet["pk"]
        .as_s()
        .unwrap()
        .trim_start_matches("WALLET#")
        .to_owned();
    let mine = store.for_wallet(&id).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].message, "Love the chibi style!");
    assert_eq!(mine[0].page.as_deref(), Some("/create"));
    assert_eq!(
        mine[0].email, None,
        "the wallet email is not copied into feedback"
    );
    let by_email = store
        .for_email(&EmailAddress::parse(&reply_to).unwrap())
        .await
        .unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].wallet_id, None);
    // Feedback is not a lead-capturing surface.
    let leads = app.scan("LeadsTable").await;
    assert!(
        leads
            .iter()
            .all(|row| row["email"].as_s().unwrap() != &reply_to)
    );
}

#[tokio::test]
async fn feedback_is_size_limited_and_rate_limited() {
    let app = spawn_app_with(&[("FEEDBACK_PER_IP_PER_HOUR", "2")]).await;
    for (body, status, code) in [
        (json!({ "message": "" }), 400, "invalid_message"),
        (
            json!({ "message": "x".repeat(2001) }),
            400,
            "invalid_message",
        ),
        (
            json!({ "message": "m", "page": "https://evil.example/p?token=1" }),
            400,
            "invalid_page",
        ),
        (
            json!({ "message": "m", "email": "nope" }),
            400,
            "invalid_email",
        ),
        (
            json!({ "message": "x".repeat(17_000) }),
            413,
            "body_too_large",
        ),
    ] {
        let answer = feedback(body).send_to_engagement(&app).await;
        assert_eq!((answer.status, answer.error_code()), (status, code));
    }
    assert!(app.scan("FeedbackTable").await.is_empty());
    let ok = feedback(json!({ "message": "あ".repeat(2000) }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(ok.status, 201, "2000 characters of Japanese fit");
    assert_eq!(
        feedback(json!({ "message": "two" }))
            .send_to_engagement(&app)
            .await
            .status,
        201
    );
    let limited = feedback(json!({ "message": "three" }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(app.scan("FeedbackTable").await.len(), 2);
}

/// Every email anyone gets names a working way to reach a person (the sender address takes
/// no replies), in the email's language; none asks to reply to the no-reply sender.
#[tokio::test]
async fn every_email_names_the_support_address_and_none_asks_for_a_reply_to_no_reply() {
    let server = crate::trial::siteverify().await;
    let app =
        crate::trial::trial_app(shared::providers::turnstile::DUMMY_SECRET_PASSES, &server).await;
    let support = app.function_env["OtpFunction"]["SUPPORT_EMAIL"].clone();
    let sender = app.function_env["OtpFunction"]["EMAIL_FROM"].clone();
    assert_ne!(support, sender, "support is not the no-reply sender");
    // Sign-in code, receipt, refund form, trial link and trial ready emails.
    let person = crate::export::seed_everywhere(&app, "zoe", "203.0.113.31").await;
    let me = &person.seeded;
    // The export email, then an email change: the code to the new address, and the notices
    // to both addresses.
    let export = app
        .rights_call("export.json", Some(&me.session), None)
        .await;
    assert_eq!(export.status, 202, "{}", export.body);
    app.run_export_queue().await;
    let new = app.email("zoe-new");
    let change = Call::event("dsr-export", "email.json")
        .cookies(&[&me.session])
        .json(json!({ "new_email": new }))
        .send_to_rights(&app)
        .await;
    assert!(change.status < 300, "{}", change.body);
    let code = crate::helpers::latest_code(&new).await;
    let verified = Call::event("dsr-export", "email-verify.json")
        .cookies(&[&me.session])
        .json(json!({ "new_email": new, "code": code }))
        .send_to_rights(&app)
        .await;
    assert!(verified.status < 300, "{}", verified.body);

    let mut mail = sent_mail(&me.email).await;
    mail.extend(sent_mail(&new).await);
    assert!(
        mail.len() >= 8,
        "{:?}",
        mail.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    for (subject, body) in &mail {
        assert!(body.contains(&support), "{subject}: no support address");
        let lower = body.to_lowercase();
        assert!(!lower.contains("reply to this email"), "{subject}");
        assert!(!body.contains("ご返信ください"), "{subject}");
    }
}
