//! The free trial: Cloudflare Turnstile checked through a siteverify stand-in that checks the
//! documented request shape and answers like Cloudflare does for its dummy secret keys; one
//! trial per device and per address; the trial runs through moderation and generation with
//! no wallet; "save my link" puts the email on the lead list once and sends the link.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::email::templates;
use shared::locale::Locale;
use shared::providers::turnstile::{DUMMY_SECRET_FAILS, DUMMY_SECRET_PASSES, DUMMY_SECRET_SPENT};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{Answer, CLIENT_IP, Call, TestApp, sent_mail, spawn_app_with};
use crate::pipeline::{blocked_marker_png, download, selfie_bytes};

const DEVICE: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const OTHER_DEVICE: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
/// The template's default `AppOrigin` is `https://anumi.app`.
const HOSTNAME: &str = "anumi.app";
/// Tokens that make the stand-in answer a valid token solved elsewhere.
const TOKEN_OTHER_ACTION: &str = "token-solved-for-another-action";
const TOKEN_OTHER_HOST: &str = "token-solved-on-another-site";

/// siteverify as Cloudflare documents it: a form-encoded POST of `secret`, `response`,
/// `remoteip` (and our `idempotency_key`); the dummy secrets decide the answer. A request of
/// another shape gets Cloudflare's `bad-request`, which the service must never see.
struct Siteverify;

impl Respond for Siteverify {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: HashMap<String, String> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        let form_encoded = request
            .headers
            .get("content-type")
            .is_some_and(|v| v == "application/x-www-form-urlencoded");
        let well_formed = form_encoded
            && form
                .get("remoteip")
                .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok())
            && form.get("response").is_some_and(|r| !r.is_empty())
            && form
                .get("idempotency_key")
                .is_some_and(|k| uuid::Uuid::parse_str(k).is_ok());
        if !well_formed {
            return answer(false, &["bad-request"], None);
        }
        let token = form["response"].as_str();
        match form.get("secret").map(String::as_str) {
            Some(DUMMY_SECRET_PASSES) => {
                let (action, host) = match token {
                    TOKEN_OTHER_ACTION => ("login", HOSTNAME),
                    TOKEN_OTHER_HOST => ("trial", "evil.example.com"),
                    _ => ("trial", HOSTNAME),
                };
                answer(true, &[], Some((action, host)))
            }
            Some(DUMMY_SECRET_FAILS) => answer(false, &["invalid-input-response"], None),
            Some(DUMMY_SECRET_SPENT) => answer(false, &["timeout-or-duplicate"], None),
            _ => answer(false, &["invalid-input-secret"], None),
        }
    }
}

fn answer(success: bool, codes: &[&str], passed: Option<(&str, &str)>) -> ResponseTemplate {
    let mut body = json!({ "success": success, "error-codes": codes });
    if let Some((action, hostname)) = passed {
        body["challenge_ts"] = json!("2026-11-22T07:48:54.000Z");
        body["hostname"] = json!(hostname);
        body["action"] = json!(action);
        body["cdata"] = json!("");
        body["metadata"] = json!({ "interactive": false });
    }
    ResponseTemplate::new(200).set_body_json(body)
}

pub(crate) async fn siteverify() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/turnstile/v0/siteverify"))
        .respond_with(Siteverify)
        .mount(&server)
        .await;
    server
}

pub(crate) async fn trial_app(secret: &str, server: &MockServer) -> TestApp {
    spawn_app_with(&[
        ("TURNSTILE_SECRET", secret),
        ("TURNSTILE_BASE_URL", &server.uri()),
    ])
    .await
}

pub(crate) fn trial_body(device: &str, email: Option<&str>) -> Value {
    let mut body = json!({
        "turnstile_token": "XXXX.DUMMY.TOKEN.XXXX",
        "device_id": device,
        "style": "anime",
        "content_type": "image/jpeg",
        "content_length": selfie_bytes().len(),
    });
    if let Some(email) = email {
        body["email"] = json!(email);
    }
    body
}

impl TestApp {
    pub(crate) async fn start_trial(&self, body: Value, ip: &str) -> Answer {
        Call::event("upload-presign", "trial-create.json")
            .json(body)
            .source_ip(ip)
            .send_to_uploads(self)
            .await
    }

    async fn see_trial(&self, id: &str, token: &str) -> Answer {
        Call::event("upload-presign", "trial-get.json")
            .route("GET", &format!("/trial/{id}"))
            .query(&[("token", token)])
            .send_to_uploads(self)
            .await
    }

    async fn trial_items(&self) -> Vec<HashMap<String, AttributeValue>> {
        self.scan("TrialsTable").await
    }
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_trial_passes_turnstile_and_becomes_an_avatar_without_a_wallet() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let email = app.email("mio");

    let trial = app
        .start_trial(trial_body(DEVICE, Some(&email)), CLIENT_IP)
        .await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    let calls = server.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1);
    let form: HashMap<String, String> = form_urlencoded::parse(&calls[0].body)
        .into_owned()
        .collect();
    assert_eq!(
        form["remoteip"], CLIENT_IP,
        "the visitor's address, as API Gateway saw it"
    );
    assert_eq!(form["secret"], DUMMY_SECRET_PASSES);
    assert_eq!(form["response"], "XXXX.DUMMY.TOKEN.XXXX");
    let id = trial.body["trial_id"].as_str().unwrap().to_owned();
    let token = trial.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(trial.body["status"], json!("awaiting_upload"));
    assert_eq!(trial.body["link_emailed"], json!(true));

    app.upload(&trial, selfie_bytes()).await;
    assert!(
        app.deliver_upload_event(&id)
            .await
            .batch_item_failures
            .is_empty()
    );
    let generated = app.run_generation_queue().await;
    assert_eq!(generated.len(), 1);
    assert!(generated[0].batch_item_failures.is_empty());

    let seen = app.see_trial(&id, &token).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["status"], json!("ready"));
    assert_eq!(seen.body["cost"], json!(0));
    let avatar = download(seen.body["downloads"]["avatar.png"].as_str().unwrap()).await;
    assert!(image::load_from_memory(&avatar).is_ok());

    assert!(
        app.scan("WalletsTable").await.is_empty(),
        "a trial creates no wallet and moves no credits"
    );
    let generation = app.item_of("GenerationsTable", &id).await.unwrap();
    assert_eq!(generation["charge"].as_s().unwrap(), "charged");

    // The link email first, then the ready email with the same signed link, both in the
    // language of the `locale` cookie (ja in the fixture).
    let mail = sent_mail(&email).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    assert_eq!(mail[0].0, templates::trial_link(Locale::Ja, "").subject);
    assert!(mail[0].1.contains(&format!("/trial/{id}?token={token}")));
    // One avatar, no account: the trial's own "ready" email.
    assert_eq!(
        mail[1].0,
        templates::trial_ready(Locale::Ja, "", "").subject
    );
    assert!(mail[1].1.contains(&format!("/trial/{id}?token={token}")));
    assert!(mail[1].1.contains("アカウント不要"));

    // A wrong or another trial's token shows nothing.
    let flipped = if token.ends_with('0') { '1' } else { '0' };
    let other = format!("{}{flipped}", &token[..token.len() - 1]);
    assert_eq!(
        app.see_trial(&id, &other).await.error_code(),
        "trial_not_found"
    );
}

#[tokio::test]
async fn without_a_saved_email_nothing_is_emailed_or_kept() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let trial = app.start_trial(trial_body(DEVICE, None), CLIENT_IP).await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    assert_eq!(trial.body["link_emailed"], json!(false));
    let id = trial.body["trial_id"].as_str().unwrap().to_owned();
    app.upload(&trial, selfie_bytes()).await;
    app.deliver_upload_event(&id).await;
    app.run_generation_queue().await;
    let generation = app.item_of("GenerationsTable", &id).await.unwrap();
    assert_eq!(generation["status"].as_s().unwrap(), "ready");
    assert!(app.scan("LeadsTable").await.is_empty());
    assert!(
        app.trial_items()
            .await
            .iter()
            .all(|i| !i.contains_key("email"))
    );
}

#[tokio::test]
async fn a_failed_challenge_is_refused_and_writes_nothing() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_FAILS, &server).await;
    let email = app.email("bot");
    let refused = app
        .start_trial(trial_body(DEVICE, Some(&email)), CLIENT_IP)
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "turnstile_failed");
    assert_eq!(
        app.everything_stored().await,
        "",
        "nothing written anywhere"
    );
    assert!(sent_mail(&email).await.is_empty());
}

#[tokio::test]
async fn a_spent_token_is_refused_with_its_own_code() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_SPENT, &server).await;
    let refused = app.start_trial(trial_body(DEVICE, None), CLIENT_IP).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "turnstile_token_used");
    assert_eq!(app.everything_stored().await, "");
}

#[tokio::test]
async fn a_token_solved_for_another_action_or_site_is_refused() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    for token in [TOKEN_OTHER_ACTION, TOKEN_OTHER_HOST] {
        let mut body = trial_body(DEVICE, None);
        body["turnstile_token"] = json!(token);
        let refused = app.start_trial(body, CLIENT_IP).await;
        assert_eq!(refused.status, 403, "{token}");
        assert_eq!(refused.error_code(), "turnstile_failed");
    }
    assert_eq!(app.everything_stored().await, "");
}

#[tokio::test]
async fn siteverify_outages_are_503_and_bad_input_never_reaches_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/turnstile/v0/siteverify"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let down = app.start_trial(trial_body(DEVICE, None), CLIENT_IP).await;
    assert_eq!(down.status, 503);
    assert_eq!(down.error_code(), "turnstile_unavailable");
    let calls = server.received_requests().await.unwrap().len();

    for (field, value, code) in [
        ("device_id", json!("not-a-uuid"), "invalid_device_id"),
        ("style", json!("oil"), "unknown_style"),
        ("content_type", json!("image/gif"), "unsupported_image_type"),
        ("content_length", json!(11 * 1024 * 1024), "image_too_large"),
        ("email", json!("nope"), "invalid_email"),
        ("turnstile_token", json!(""), "invalid_turnstile_token"),
        (
            "turnstile_token",
            json!("x".repeat(2049)),
            "invalid_turnstile_token",
        ),
    ] {
        let mut body = trial_body(DEVICE, None);
        body[field] = value;
        let refused = app.start_trial(body, CLIENT_IP).await;
        assert_eq!(
            (refused.status, refused.error_code()),
            (400, code),
            "{field}"
        );
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        calls,
        "bad input is refused before any token is spent"
    );
    assert_eq!(app.everything_stored().await, "");
}

#[tokio::test]
async fn one_trial_per_device_and_per_address_and_the_ip_hash_lives_a_day_at_most() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let other_ip = "198.51.100.23";
    let first = app.start_trial(trial_body(DEVICE, None), CLIENT_IP).await;
    assert_eq!(first.status, 201, "{}", first.body);

    let same_device = app.start_trial(trial_body(DEVICE, None), other_ip).await;
    assert_eq!(same_device.status, 409);
    assert_eq!(same_device.error_code(), "trial_already_used");
    let same_address = app
        .start_trial(trial_body(OTHER_DEVICE, None), CLIENT_IP)
        .await;
    assert_eq!(same_address.status, 429);
    assert_eq!(same_address.error_code(), "trial_limit_reached");
    let retry_after: i64 = same_address.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 24 * 3600);

    // Only the first trial is recorded, and no raw IP anywhere.
    let items = app.trial_items().await;
    assert_eq!(items.len(), 3, "device claim, IP claim, trial: {items:?}");
    let stored = app.everything_stored().await;
    assert!(!stored.contains(CLIENT_IP) && !stored.contains(other_ip));
    let now = crate::helpers::now(&app);
    let ip_claim = items
        .iter()
        .find(|i| i["pk"].as_s().unwrap().starts_with("IP#"))
        .unwrap();
    assert_eq!(ip_claim["pk"].as_s().unwrap().len(), "IP#".len() + 64);
    // The claim holds its expiry and nothing else: nothing ties the hashed IP to the trial.
    let mut attributes: Vec<&str> = ip_claim.keys().map(String::as_str).collect();
    attributes.sort_unstable();
    assert_eq!(attributes, ["expires_at", "expiry_sweep", "pk", "ttl"]);
    let trial_id = first.body["trial_id"].as_str().unwrap();
    assert!(!format!("{ip_claim:?}").contains(trial_id));
    assert!(
        number(ip_claim, "ttl") <= now + 24 * 3600,
        "hashed IP gone within a day"
    );
    assert!(number(ip_claim, "expires_at") <= now + 24 * 3600);

    // A day later the address may try again (its hash is gone); the device may not.
    app.clock.advance(24 * 3600 + 1);
    let next_day = app
        .start_trial(trial_body(OTHER_DEVICE, None), CLIENT_IP)
        .await;
    assert_eq!(next_day.status, 201, "{}", next_day.body);
    let again = app
        .start_trial(trial_body(DEVICE, None), "192.0.2.99")
        .await;
    assert_eq!(again.error_code(), "trial_already_used");
}

#[tokio::test]
async fn save_my_link_keeps_one_lead_row_with_the_first_source() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let signed_up = app.email("aki");
    app.sign_in(&signed_up).await;
    let trial = app
        .start_trial(trial_body(DEVICE, Some(&signed_up)), CLIENT_IP)
        .await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    let newcomer = app.email("ren");
    let second = app
        .start_trial(
            trial_body(OTHER_DEVICE, Some(&newcomer.to_uppercase())),
            "198.51.100.4",
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);

    let leads = app.scan("LeadsTable").await;
    let source_of = |email: &str| -> Vec<String> {
        leads
            .iter()
            .filter(|row| row["email"].as_s().unwrap() == email)
            .map(|row| row["first_source"].as_s().unwrap().clone())
            .collect()
    };
    assert_eq!(source_of(&signed_up), ["sign-in"], "first source kept");
    assert_eq!(source_of(&newcomer), ["trial-save-link"]);
    assert_eq!(leads.len(), 2);

    let mail = sent_mail(&newcomer).await;
    assert_eq!(mail.len(), 1);
    let id = second.body["trial_id"].as_str().unwrap();
    assert!(
        mail[0].1.contains(&format!("/trial/{id}?token=")),
        "{}",
        mail[0].1
    );
    assert!(
        sent_mail(&signed_up)
            .await
            .iter()
            .any(|(_, body)| body.contains("/trial/")),
        "the signed-up person gets the link too"
    );
    // The saved email is findable for export and erasure.
    let trials = shared::trials::Trials::new(app.dynamodb.clone(), app.table("TrialsTable"));
    let found = trials
        .by_email(&shared::email::EmailAddress::parse(&newcomer).unwrap())
        .await
        .unwrap();
    assert_eq!(found, [id.to_owned()]);
}

/// The policy's "single de-duplicated lead list along with which page first captured it",
/// across all three capture surfaces in one life: trial first, then sign-in, then the
/// refund form (in another letter case).
#[tokio::test]
async fn one_lead_row_per_email_across_trial_sign_in_and_refund_form_with_the_first_source() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let email = app.email("mika");
    let trial = app
        .start_trial(trial_body(DEVICE, Some(&email)), CLIENT_IP)
        .await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    app.clock.advance(600);
    app.sign_in(&email).await;
    app.clock.advance(600);
    let refund = Call::event("engagement", "refund-request.json")
        .without_header("idempotency-key")
        .json(json!({ "email": email.to_uppercase(), "reason": "Changed my mind." }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);

    let rows = app.scan("LeadsTable").await;
    assert_eq!(rows.len(), 1, "one row per email: {rows:?}");
    assert_eq!(rows[0]["email"].as_s().unwrap(), &email);
    assert_eq!(rows[0]["first_source"].as_s().unwrap(), "trial-save-link");
    assert_eq!(rows[0]["marketing_opt_in"].as_bool().unwrap(), &false);
}

/// The trial's hashed-IP claim is swept by retention-cron once its day is over, without
/// waiting for DynamoDB's TTL; the device claim and the trial itself stay until theirs.
#[tokio::test]
async fn a_trials_hashed_ip_is_dropped_after_its_day_and_the_trial_stays() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let trial = app.start_trial(trial_body(DEVICE, None), CLIENT_IP).await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    let kinds = |items: &[HashMap<String, AttributeValue>]| -> Vec<String> {
        let mut kinds: Vec<String> = items
            .iter()
            .map(|i| {
                i["pk"]
                    .as_s()
                    .unwrap()
                    .split('#')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        kinds.sort();
        kinds
    };
    app.clock.advance(23 * 3600);
    app.retention.run().await.unwrap();
    assert_eq!(kinds(&app.trial_items().await), ["DEVICE", "IP", "TRIAL"]);

    app.clock.advance(3600 + 1);
    let report = app.retention.run().await.unwrap();
    assert!(report.count("ExpiredHashedKeysDeleted") >= 1, "{report:?}");
    assert_eq!(kinds(&app.trial_items().await), ["DEVICE", "TRIAL"]);
}

#[tokio::test]
async fn a_trials_avatar_selfie_and_records_are_deleted_when_its_link_expires() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let email = app.email("kai");
    let trial = app
        .start_trial(trial_body(DEVICE, Some(&email)), CLIENT_IP)
        .await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    let id = trial.body["trial_id"].as_str().unwrap().to_owned();
    let token = trial.body["access_token"].as_str().unwrap().to_owned();
    let link_expires = shared::clock::Clock::now(&app.clock) + 30 * 24 * 3600;
    assert_eq!(
        trial.body["link_expires_at"],
        json!(shared::clock::rfc3339(link_expires))
    );
    app.upload(&trial, selfie_bytes()).await;
    assert!(
        app.deliver_upload_event(&id)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert!(
        app.run_generation_queue()
            .await
            .iter()
            .all(|r| r.batch_item_failures.is_empty())
    );
    let owner = shared::generations::trial_owner(&id);
    let generated = |app: &TestApp| {
        let (s3, bucket) = (
            shared::aws::s3(&app.sdk),
            app.resources["GeneratedBucket"].clone(),
        );
        let prefix = format!("generated/{owner}/");
        async move {
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .send()
                .await
                .unwrap()
                .key_count()
                .unwrap_or_default()
        }
    };
    assert!(generated(&app).await > 0, "the avatar is stored");

    // An hour before the link ends, everything is still there.
    app.clock
        .advance(link_expires - shared::clock::Clock::now(&app.clock) - 3600);
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ExpiredTrialsDeleted"), 0);
    assert_eq!(app.see_trial(&id, &token).await.status, 200);
    assert!(generated(&app).await > 0);
    // Another trial, on another device and address, whose link has a month left.
    let other = app
        .start_trial(trial_body(OTHER_DEVICE, None), "203.0.113.99")
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    let other_id = other.body["trial_id"].as_str().unwrap().to_owned();

    // The run after the link expired deletes the trial with its avatar.
    app.clock.advance(3600 + 1);
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ExpiredTrialsDeleted"), 1);
    assert_eq!(generated(&app).await, 0, "the avatar and bundle are gone");
    let selfie = format!("selfies/{owner}/{id}");
    assert!(
        !app.object_exists(&app.resources["SelfieBucket"], &selfie)
            .await
    );
    assert!(
        app.item_of("GenerationsTable", &id).await.is_none(),
        "the generation record"
    );
    let items = app.trial_items().await;
    assert!(
        !items
            .iter()
            .any(|item| item["pk"].as_s().unwrap() == &format!("TRIAL#{id}")),
        "the trial record"
    );
    assert!(
        !items
            .iter()
            .any(|item| item.get("trial_id").and_then(|t| t.as_s().ok()) == Some(&id)),
        "nothing names the trial any more: {items:?}"
    );
    assert_eq!(
        app.see_trial(&id, &token).await.error_code(),
        "trial_not_found"
    );
    // The other trial is untouched; a second run finds nothing more.
    assert!(app.item_of("GenerationsTable", &other_id).await.is_some());
    let again = app.retention.run().await.unwrap();
    assert_eq!(again.count("ExpiredTrialsDeleted"), 0);
}

#[tokio::test]
async fn a_held_trial_selfie_is_explained_only_to_a_saved_email() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let email = app.email("yui");
    let blocked = |device: &str, email: Option<&str>| {
        let mut body = trial_body(device, email);
        body["content_type"] = json!("image/png");
        body["content_length"] = json!(blocked_marker_png().len());
        body
    };
    let saved = app
        .start_trial(blocked(DEVICE, Some(&email)), CLIENT_IP)
        .await;
    assert_eq!(saved.status, 201, "{}", saved.body);
    let unsaved = app
        .start_trial(blocked(OTHER_DEVICE, None), "203.0.113.98")
        .await;
    assert_eq!(unsaved.status, 201, "{}", unsaved.body);
    for trial in [&saved, &unsaved] {
        let id = trial.body["trial_id"].as_str().unwrap();
        app.upload(trial, blocked_marker_png()).await;
        assert!(
            app.deliver_upload_event(id)
                .await
                .batch_item_failures
                .is_empty(),
            "nobody to tell is no failure"
        );
        let token = trial.body["access_token"].as_str().unwrap();
        let seen = app.see_trial(id, token).await;
        assert_eq!(seen.body["status"], json!("blocked"));
        assert_eq!(seen.body["reason"], json!("held_for_review"));
    }
    let held = templates::selfie_held(Locale::Ja, None, "", None).subject;
    let mail = sent_mail(&email).await;
    let told: Vec<_> = mail
        .iter()
        .filter(|(subject, _)| *subject == held)
        .collect();
    assert_eq!(told.len(), 1, "{mail:?}");
    assert!(
        !told[0].1.contains("クレジット"),
        "a free trial paid nothing"
    );
    assert!(told[0].1.contains("お試しリンク"));
}
