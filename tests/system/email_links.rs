//! Every link in every email opens a page of the app (issue 9): one journey sends every
//! kind of email the service has, and each link in each part is checked to be at the app's
//! origin (`APP_ORIGIN`) and one of the app's pages, never an API route. The RFC 8058
//! `List-Unsubscribe` header is the one address of the API, which mail clients POST to.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::json;
use shared::email::{EmailAddress, Mailer};
use shared::locale::Locale;
use shared::marketing::{Consent, MarketingMailer, MarketingOutcome, UnsubscribeTokens};
use shared::providers::turnstile::DUMMY_SECRET_PASSES;

use crate::billing::{event, order};
use crate::helpers::{Call, TestApp, emulation_state, latest_code};
use crate::pipeline::{blocked_order, full_order, selfie_bytes};
use crate::trial::{siteverify, trial_app, trial_body};

/// The app's pages (the web app's routes). `{}` is one path segment.
const APP_PAGES: &[&str] = &[
    "/",
    "/trial",
    "/trial/{}",
    "/sign-in",
    "/credits",
    "/create",
    "/generations",
    "/generations/{}",
    "/privacy",
    "/export",
    "/refund",
    "/unsubscribe",
    "/admin/review",
];

/// The page pattern `path` is, if it is one.
fn page_of(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    APP_PAGES.iter().copied().find(|page| {
        let pattern: Vec<&str> = page.split('/').collect();
        pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(p, s)| *p == *s || (*p == "{}" && !s.is_empty()))
    })
}

/// Every http(s) URL in `text` (a text part, or HTML with its `&amp;` undone).
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = [rest.find("http://"), rest.find("https://")]
        .into_iter()
        .flatten()
        .min()
    {
        let link: String = rest[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '<' | '>' | '\''))
            .collect();
        rest = &rest[start + link.len()..];
        found.push(link.replace("&amp;", "&"));
    }
    found
}

/// One sent message, its parts decoded: (recipient, subject, headers, every part's text).
struct Sent {
    to: String,
    subject: String,
    headers: String,
    parts: Vec<String>,
}

/// Every message the emulation's SES accepted for this test's addresses.
async fn mail_of(app: &TestApp) -> Vec<Sent> {
    let data = emulation_state().await;
    let ours = |address: &str| address.ends_with(&format!("@{}", app.domain));
    let mut sent = Vec::new();
    for message in data["ses"]["Message"].as_array().into_iter().flatten() {
        let to = message["destinations"]["ToAddresses"][0]
            .as_str()
            .unwrap_or_default();
        if ours(to) {
            sent.push(Sent {
                to: to.to_owned(),
                subject: message["subject"].as_str().unwrap_or_default().to_owned(),
                headers: String::new(),
                // The emulation keeps the HTML part of a simple message (the text part holds
                // the same links: the templates' unit tests check both).
                parts: vec![message["body"].as_str().unwrap_or_default().to_owned()],
            });
        }
    }
    for message in data["ses"]["RawMessage"].as_array().into_iter().flatten() {
        let to = message["destinations"][0].as_str().unwrap_or_default();
        if !ours(to) {
            continue;
        }
        let raw = message["raw_data"].as_str().unwrap_or_default();
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
        let parts = body
            .split("Content-Transfer-Encoding: base64\r\n\r\n")
            .skip(1)
            .map(|part| {
                let encoded: String = part
                    .split("\r\n--")
                    .next()
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .expect("base64 parts");
                String::from_utf8(bytes).expect("UTF-8 parts")
            })
            .collect();
        sent.push(Sent {
            to: to.to_owned(),
            subject: headers
                .lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap_or_default()
                .to_owned(),
            headers: headers.to_owned(),
            parts,
        });
    }
    sent
}

#[tokio::test]
async fn every_link_of_every_email_opens_a_page_of_the_app() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let env = &app.function_env;
    let app_origin = env["GenerateFunction"]["APP_ORIGIN"].clone();
    let api_origin = env["EngagementFunction"]["API_ORIGIN"].clone();
    assert_ne!(app_origin, api_origin);

    // Sign-in code, then a generation with every product: the "ready" email.
    let person = app.person_with_credits("ren", 5).await;
    let wallet_id = app
        .wallets()
        .find_by_email(&EmailAddress::parse(&person.email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let upload = app.order(&person, full_order()).await;
    assert_eq!(upload.status, 201, "{}", upload.body);
    app.upload(&upload, selfie_bytes()).await;
    app.deliver_upload_event(upload.body["generation_id"].as_str().unwrap())
        .await;
    app.run_generation_queue().await;

    // A selfie held by moderation: the "held for review" email, then the review's outcome.
    let held = blocked_order(&app, &person).await;
    let admin = app.person_with_credits("admin", 0).await;
    let approved = Call::event("admin", "approve.json")
        .route("POST", &format!("/admin/review/{held}/approve"))
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    app.run_generation_queue().await;

    // A free trial with "save my link": the link email, then its "ready" email.
    let trial = app
        .start_trial(
            trial_body(
                "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
                Some(&app.email("visitor")),
            ),
            "198.51.100.23",
        )
        .await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    app.upload(&trial, selfie_bytes()).await;
    app.deliver_upload_event(trial.body["trial_id"].as_str().unwrap())
        .await;
    app.run_generation_queue().await;

    // A purchase and its refund: receipt and refund confirmation.
    let paid = event("order.paid", order(&wallet_id, "ord-links", "paid", 0));
    assert_eq!(app.deliver(&paid, "links-paid").await.status, 200);
    let refunded = event(
        "order.refunded",
        order(&wallet_id, "ord-links", "refunded", 1000),
    );
    assert_eq!(app.deliver(&refunded, "links-refund").await.status, 200);

    // The public refund form's confirmation.
    let form = Call::event("engagement", "refund-request.json")
        .json(json!({ "email": app.email("former"), "reason": "Charged twice." }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(form.status, 201, "{}", form.body);

    // An export: the archive's link.
    let export = app
        .rights_call("export.json", Some(&person.session), None)
        .await;
    assert_eq!(export.status, 202, "{}", export.body);
    assert_eq!(app.run_export_queue().await, 1);

    // A marketing email to the opted-in person.
    let opt_in = Call::event("engagement", "marketing.json")
        .json(json!({ "opt_in": true }))
        .cookies(&[&person.session])
        .send_to_engagement(&app)
        .await;
    assert_eq!(opt_in.status, 200, "{}", opt_in.body);
    let engagement = &env["EngagementFunction"];
    let marketing = MarketingMailer::new(
        Mailer::new(
            shared::aws::sesv2(&app.sdk),
            &shared::email::Sender::from_env(engagement).unwrap(),
        ),
        Consent::new(app.dynamodb.clone(), app.table("LeadsTable")),
        UnsubscribeTokens::new(secrecy::SecretString::from(
            engagement["UNSUBSCRIBE_KEY"].clone(),
        )),
        app_origin.parse().unwrap(),
        api_origin.parse().unwrap(),
    );
    let newsletter = shared::email::Email {
        locale: Locale::En,
        subject: "New styles".to_owned(),
        text: "Watercolor is here.".to_owned(),
        html: "<!doctype html><html><body><p>Watercolor is here.</p></body></html>".to_owned(),
    };
    let outcome = marketing
        .send(
            &EmailAddress::parse(&person.email).unwrap(),
            Locale::En,
            newsletter,
        )
        .await
        .unwrap();
    assert!(matches!(outcome, MarketingOutcome::Sent(_)), "{outcome:?}");

    // A change of email: the code to the new address, the notices to both.
    let new_email = app.email("ren-new");
    let change = app
        .rights_call(
            "email.json",
            Some(&person.session),
            Some(json!({ "new_email": new_email })),
        )
        .await;
    assert_eq!(change.status, 202, "{}", change.body);
    let code = latest_code(&new_email).await;
    let verified = app
        .rights_call(
            "email-verify.json",
            Some(&person.session),
            Some(json!({ "new_email": new_email, "code": code })),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    // The change ended every session; the caller goes on in the new one.
    let session = verified.cookie("session").expect("a new session");

    // Account deletion: the acknowledgement, then the closing email.
    let delete = app.rights_call("delete.json", Some(&session), None).await;
    assert_eq!(delete.status, 202, "{}", delete.body);
    assert_eq!(
        app.retention
            .run()
            .await
            .unwrap()
            .count("ErasuresCompleted"),
        1
    );

    let sent = mail_of(&app).await;
    let subjects: BTreeSet<&str> = sent.iter().map(|m| m.subject.as_str()).collect();
    // sign-in code, ready (account), held for review, review outcome, trial link, trial
    // ready, receipt, refund, refund request, export, marketing, change code, changed (new,
    // old), deletion received, deleted.
    assert!(subjects.len() >= 15, "{subjects:#?}");

    let mut pages_seen = BTreeSet::new();
    for message in &sent {
        for part in &message.parts {
            for link in links(part) {
                let path = link
                    .strip_prefix(&app_origin)
                    .unwrap_or_else(|| {
                        panic!(
                            "{} ({}) links outside the app: {link}",
                            message.subject, message.to
                        )
                    })
                    .split(['?', '#'])
                    .next()
                    .unwrap_or_default();
                let page = page_of(if path.is_empty() { "/" } else { path }).unwrap_or_else(|| {
                    panic!(
                        "{} ({}) links to no page of the app: {link}",
                        message.subject, message.to
                    )
                });
                pages_seen.insert(page);
            }
        }
        if let Some(target) = message
            .headers
            .lines()
            .find_map(|line| line.strip_prefix("List-Unsubscribe: "))
        {
            assert!(
                target.starts_with(&format!("<{api_origin}/unsubscribe?token=")),
                "one-click unsubscribe posts to the API: {target}"
            );
        }
    }
    assert_eq!(
        pages_seen,
        BTreeSet::from([
            "/credits",
            "/export",
            "/generations/{}",
            "/trial/{}",
            "/unsubscribe"
        ]),
        "every page an email links to was seen"
    );
}

#[test]
fn links_and_pages_are_recognised() {
    assert_eq!(
        links("see https://a.test/x?p=1&amp;r=2 and <a href=\"http://b.test/y\">y</a>"),
        ["https://a.test/x?p=1&r=2", "http://b.test/y"]
    );
    assert_eq!(page_of("/generations/abc"), Some("/generations/{}"));
    assert_eq!(page_of("/export"), Some("/export"));
    assert_eq!(page_of("/exports/download"), None);
    assert_eq!(page_of("/generations/"), None);
    assert_eq!(page_of("/api/unsubscribe"), None);
}
