//! Marketing campaigns: an admin starts one; it goes only to opted-in, unrestricted
//! addresses, one message each, in their language, with the one-click headers and their own
//! unsubscribe link; paced; safe against concurrent runs, redeliveries and a run cut short;
//! each message recorded on the person's lead row for the export.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::email::EmailAddress;
use shared::leads::{LeadList, LeadSource};
use shared::locale::Locale;
use shared::marketing::UnsubscribeTokens;
use shared::marketing::campaigns::api::{CampaignApi, CampaignConfig};
use shared::marketing::campaigns::sender::{CampaignSender, CampaignSenderConfig};
use shared::marketing::campaigns::{AUDIENCE_INDEX, Audience, MESSAGES_ATTRIBUTE};
use shared::moderation::review::ReviewConfig;

use crate::export::{assert_documented, is_rfc3339, rows, unzip};
use crate::helpers::{Answer, Call, TestApp, now, sent_raw_mail, spawn_app};

const LONG: Duration = Duration::from_secs(600);

struct Campaigning {
    api: CampaignApi,
    sender: CampaignSender,
    queue_url: String,
}

fn campaigning(app: &TestApp, page_size: i32, send_rate: u32) -> Campaigning {
    let admin_env = &app.function_env["AdminFunction"];
    let api = CampaignApi::new(
        &ReviewConfig::from_env(admin_env).expect("admin configuration"),
        CampaignConfig::from_env(admin_env).expect("campaign configuration"),
        &app.sdk,
        Arc::new(app.clock.clone()),
    );
    let mut config = CampaignSenderConfig::from_env(&app.function_env["CampaignSendFunction"])
        .expect("campaign-send configuration");
    config.page_size = page_size;
    config.send_rate = send_rate;
    Campaigning {
        api,
        sender: CampaignSender::new(config, &app.sdk, Arc::new(app.clock.clone())),
        queue_url: admin_env["CAMPAIGN_QUEUE_URL"].clone(),
    }
}

impl Campaigning {
    async fn call(&self, request: Call) -> Answer {
        Answer::from(self.api.handle(request.request()).await)
    }

    async fn start(&self, cookie: &str, body: Value) -> Answer {
        self.call(
            Call::event("engagement", "marketing.json")
                .route("POST", "/admin/campaigns")
                .json(body)
                .cookies(&[cookie]),
        )
        .await
    }

    /// An admin's session and a campaign that admin started (202).
    async fn started(&self, app: &TestApp) -> (String, String) {
        let admin = admin(app).await;
        let id = new_id();
        let answer = self.start(&admin, campaign(&id)).await;
        assert_eq!(answer.status, 202, "{}", answer.body);
        (admin, id)
    }

    async fn list(&self, cookie: &str) -> Answer {
        self.call(
            Call::event("engagement", "marketing.json")
                .route("GET", "/admin/campaigns")
                .cookies(&[cookie]),
        )
        .await
    }

    /// The messages the admin route queued, as the SQS event source hands them over.
    async fn queued(&self, app: &TestApp) -> SqsEvent {
        let sqs = shared::aws::sqs(&app.sdk);
        let output = sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let records: Vec<Value> = output
            .messages()
            .iter()
            .map(|message| {
                json!({
                    "messageId": message.message_id(),
                    "receiptHandle": message.receipt_handle(),
                    "body": message.body(),
                    "attributes": {"ApproximateReceiveCount": "1"},
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }
}

fn campaign(id: &str) -> Value {
    json!({
        "id": id,
        "subject": {"en": "Watercolor is here", "ja": "水彩スタイル登場"},
        "text": {"en": "Try the new style.\n\nAnumi", "ja": "新しいスタイルをお試しください。"},
    })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn admin(app: &TestApp) -> String {
    app.sign_in(&format!("admin@{}", app.domain)).await
}

/// A person who signed in and opted in to marketing, with their account in `locale`.
async fn subscriber(app: &TestApp, name: &str, locale: Locale) -> String {
    subscribed(app, name, locale).await.0
}

/// The same, with the session cookie.
async fn subscribed(app: &TestApp, name: &str, locale: Locale) -> (String, String) {
    let address = app.email(name);
    let cookie = app.sign_in(&address).await;
    if locale == Locale::Ja {
        let wallet = app
            .wallets()
            .find_by_email(&EmailAddress::parse(&address).unwrap())
            .await
            .unwrap()
            .unwrap();
        app.wallets().set_locale(&wallet.id, locale).await.unwrap();
    }
    choose(app, &cookie, true).await;
    (address, cookie)
}

async fn choose(app: &TestApp, cookie: &str, opt_in: bool) {
    let answer = Call::event("engagement", "marketing.json")
        .json(json!({ "opt_in": opt_in }))
        .cookies(&[cookie])
        .send_to_engagement(app)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// `count` subscribers in English, `fan0@…` and on.
async fn fans(app: &TestApp, count: usize) -> Vec<String> {
    let mut audience = Vec::new();
    for n in 0..count {
        audience.push(subscriber(app, &format!("fan{n}"), Locale::En).await);
    }
    audience
}

/// Everyone who must never get a campaign: captured but never opted in, signed in but never
/// opted in, opted in then out, opted in but restricted, and opted in but suppressed.
async fn not_permitted(app: &TestApp) -> Vec<String> {
    let captured = app.email("captured");
    LeadList::new(app.dynamodb.clone(), app.table("LeadsTable"))
        .capture(
            &EmailAddress::parse(&captured).unwrap(),
            LeadSource::TrialSaveLink,
            now(app),
        )
        .await
        .unwrap();
    let silent = app.email("silent");
    app.sign_in(&silent).await;
    let left = app.email("left");
    let cookie = app.sign_in(&left).await;
    choose(app, &cookie, true).await;
    choose(app, &cookie, false).await;
    let restricted = subscriber(app, "restricted", Locale::En).await;
    app.dynamodb
        .update_item()
        .table_name(app.table("LeadsTable"))
        .key("email", AttributeValue::S(restricted.clone()))
        .update_expression("SET restricted = :yes")
        .expression_attribute_values(":yes", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    // Opted in, then the address bounced: suppressed.
    let bounced = subscriber(app, "bounced", Locale::En).await;
    app.dynamodb
        .update_item()
        .table_name(app.table("LeadsTable"))
        .key("email", AttributeValue::S(bounced.clone()))
        .update_expression("SET suppressed_at = :now")
        .expression_attribute_values(":now", AttributeValue::N(now(app).to_string()))
        .send()
        .await
        .unwrap();
    vec![captured, silent, left, restricted, bounced]
}

async fn lead_row(app: &TestApp, address: &str) -> shared::store::Item {
    app.dynamodb
        .get_item()
        .table_name(app.table("LeadsTable"))
        .key("email", AttributeValue::S(address.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("a lead row")
}

fn header(raw: &str, name: &str) -> Option<String> {
    raw.split("\r\n\r\n")
        .next()
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .map(str::to_owned)
}

#[tokio::test]
async fn a_campaign_reaches_each_opted_in_unrestricted_address_once_in_its_language() {
    let app = spawn_app().await;
    let campaigns = campaigning(&app, 2, 100);
    let (yui, yui_session) = subscribed(&app, "yui", Locale::Ja).await;
    let mio = subscriber(&app, "mio", Locale::En).await;
    let ren = subscriber(&app, "ren", Locale::En).await;
    let never = not_permitted(&app).await;
    let admin = admin(&app).await;

    let id = new_id();
    let started = campaigns.start(&admin, campaign(&id)).await;
    assert_eq!(started.status, 202, "{}", started.body);
    assert_eq!(started.body["campaign"]["status"], "sending");
    let queued = campaigns.queued(&app).await;
    assert_eq!(queued.records.len(), 1, "one message queued");
    let response = campaigns.sender.handle(queued, LONG).await;
    assert!(response.batch_item_failures.is_empty());

    for address in &never {
        assert!(sent_raw_mail(address).await.is_empty(), "{address} got one");
    }
    let tokens = UnsubscribeTokens::new(secrecy::SecretString::from(
        app.function_env["CampaignSendFunction"]["UNSUBSCRIBE_KEY"].clone(),
    ));
    let env = &app.function_env["CampaignSendFunction"];
    for (address, subject) in [
        (&yui, "水彩スタイル登場"),
        (&mio, "Watercolor is here"),
        (&ren, "Watercolor is here"),
    ] {
        let raw = sent_raw_mail(address).await;
        assert_eq!(raw.len(), 1, "{address}: one message");
        let parsed = local_stack::mailbox::mime::parse(&raw[0]);
        assert_eq!(parsed.subject, subject);
        assert_eq!(
            header(&raw[0], "List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        // The unsubscribe link is this person's own: its token verifies to their address.
        let list_unsubscribe = header(&raw[0], "List-Unsubscribe").unwrap();
        let token = list_unsubscribe
            .strip_prefix(&format!("<{}/unsubscribe?token=", env["API_ORIGIN"]))
            .and_then(|rest| rest.strip_suffix('>'))
            .unwrap_or_else(|| panic!("{list_unsubscribe}"));
        assert_eq!(tokens.verify(token).unwrap().as_str(), address.as_str());
        assert!(
            parsed.text.unwrap_or_default().contains(token),
            "the body links to the unsubscribe page too"
        );
        // Recorded on the person's lead row (exported and erased with it).
        let row = lead_row(&app, address).await;
        let entry = row[MESSAGES_ATTRIBUTE].as_m().unwrap()[&id].as_m().unwrap();
        assert_eq!(entry["subject"].as_s().unwrap(), subject);
        assert!(entry.contains_key("sent_at"));
    }

    let list = campaigns.list(&admin).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["campaigns"][0]["id"], json!(id));
    assert_eq!(list.body["campaigns"][0]["status"], "sent");
    assert_eq!(list.body["campaigns"][0]["sent"], 3);

    // The person's export shows the message, in its documented shape.
    let answer = app
        .rights_call("export.json", Some(&yui_session), None)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(app.run_export_queue().await >= 1);
    let files = unzip(&app.download_from_mail(&yui).await.expect("the link"));
    assert_documented(&files);
    let lead = rows(&files, "lead");
    assert_eq!(
        lead[0]["marketing_messages"],
        json!([{"campaign": id, "subject": "水彩スタイル登場", "sent_at": lead[0]["marketing_messages"][0]["sent_at"]}])
    );
    assert!(is_rfc3339(&lead[0]["marketing_messages"][0]["sent_at"]));
    assert!(
        lead[0].get("marketing_list").is_none(),
        "the index key is bookkeeping"
    );
}

#[tokio::test]
async fn only_opted_in_rows_are_in_the_audience_index() {
    let app = spawn_app().await;
    let kept = subscriber(&app, "kept", Locale::En).await;
    not_permitted(&app).await;
    // The index is sparse: opting out took the row out of it (the restricted row stays in
    // it, and every claim re-checks the row itself).
    let audience = Audience::new(app.dynamodb.clone(), app.table("LeadsTable"));
    let page = audience.page(None, 100).await.unwrap();
    let listed: Vec<&str> = page.addresses.iter().map(|a| a.as_str()).collect();
    assert!(listed.contains(&kept.as_str()), "{listed:?}");
    assert!(
        !listed
            .iter()
            .any(|a| a.starts_with("left") || a.starts_with("silent"))
    );
    assert_eq!(AUDIENCE_INDEX, "by-marketing");
}

#[tokio::test]
async fn concurrent_runs_and_redeliveries_never_send_anyone_two_messages() {
    let app = spawn_app().await;
    let campaigns = campaigning(&app, 2, 200);
    let audience = fans(&app, 7).await;
    let never = not_permitted(&app).await;
    let (admin, id) = campaigns.started(&app).await;
    // A double click: the same campaign again, queued again.
    assert_eq!(campaigns.start(&admin, campaign(&id)).await.status, 202);

    // Three runs at once (SQS delivers at least once), then a redelivery after they finish.
    let started = Instant::now();
    let (a, b, c) = tokio::join!(
        campaigns.sender.run(&id, started, LONG),
        campaigns.sender.run(&id, started, LONG),
        campaigns.sender.run(&id, started, LONG),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    campaigns
        .sender
        .run(&id, Instant::now(), LONG)
        .await
        .unwrap();
    let queued = campaigns.queued(&app).await;
    assert!(!queued.records.is_empty());
    campaigns.sender.handle(queued, LONG).await;

    for address in &audience {
        assert_eq!(sent_raw_mail(address).await.len(), 1, "{address}");
    }
    for address in &never {
        assert!(sent_raw_mail(address).await.is_empty(), "{address}");
    }
    let list = campaigns.list(&admin).await;
    assert_eq!(list.body["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["campaigns"][0]["sent"], 7);
    assert_eq!(list.body["campaigns"][0]["status"], "sent");
}

#[tokio::test]
async fn a_run_cut_short_goes_on_from_its_cursor_and_sends_nobody_twice() {
    let app = spawn_app().await;
    // 5 a second: most of a run is spent waiting between sends, where a cut leaves no claim.
    let campaigns = campaigning(&app, 2, 5);
    let audience = fans(&app, 6).await;
    let (_, id) = campaigns.started(&app).await;

    // The invocation dies midway (a timeout or a crash drops the run where it is).
    let cut = tokio::time::timeout(
        Duration::from_millis(700),
        campaigns.sender.run(&id, Instant::now(), LONG),
    )
    .await;
    assert!(cut.is_err(), "the run was still going when it was cut");
    let midway: usize = messages_sent(&audience).await;
    assert!(
        midway > 0 && midway < audience.len(),
        "cut midway: {midway}"
    );

    // SQS delivers the message again: the run goes on and finishes.
    let queued = campaigns.queued(&app).await;
    let response = campaigns.sender.handle(queued, LONG).await;
    assert!(response.batch_item_failures.is_empty());
    let mut missing = 0;
    for address in &audience {
        match sent_raw_mail(address).await.len() {
            1 => {}
            // Cut between its claim and its send: never sent rather than sent twice.
            0 => missing += 1,
            n => panic!("{address} got {n} messages"),
        }
    }
    assert!(missing <= 1, "{missing} addresses missed");
}

async fn messages_sent(audience: &[String]) -> usize {
    let mut sent = 0;
    for address in audience {
        sent += sent_raw_mail(address).await.len();
    }
    sent
}

#[tokio::test]
async fn a_run_out_of_time_queues_the_campaign_to_go_on_and_sending_is_paced() {
    let app = spawn_app().await;
    let campaigns = campaigning(&app, 3, 5);
    let audience = fans(&app, 6).await;
    let (admin, id) = campaigns.started(&app).await;
    campaigns.queued(&app).await;

    // No time left after the first page: the cursor is saved and the campaign queued again.
    let started = Instant::now();
    campaigns
        .sender
        .run(&id, started, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(messages_sent(&audience).await, 3);
    let queued = campaigns.queued(&app).await;
    assert_eq!(queued.records.len(), 1, "queued to go on");
    campaigns.sender.handle(queued, LONG).await;
    assert_eq!(messages_sent(&audience).await, 6);
    // Two runs of three messages at five a second: each run waits 200 ms twice.
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        campaigns.list(&admin).await.body["campaigns"][0]["status"],
        "sent"
    );
}

#[tokio::test]
async fn only_admins_start_campaigns_and_bad_ones_are_refused_in_words() {
    let app = spawn_app().await;
    let campaigns = campaigning(&app, 25, 10);
    let admin = admin(&app).await;
    let person = app.sign_in(&app.email("person")).await;

    let anonymous = campaigns
        .call(
            Call::event("engagement", "marketing.json")
                .route("POST", "/admin/campaigns")
                .json(campaign(&new_id())),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    let forbidden = campaigns.start(&person, campaign(&new_id())).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.error_code(), "forbidden");
    assert_eq!(campaigns.list(&person).await.status, 403);

    let refused = |body: Value| async { campaigns.start(&admin, body).await };
    let mut header_injection = campaign(&new_id());
    header_injection["subject"]["en"] = json!("Hi\r\nBcc: everyone@example.com");
    let answer = refused(header_injection).await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (400, "invalid_campaign")
    );
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("subject.en")
    );
    let mut empty = campaign(&new_id());
    empty["text"]["ja"] = json!("   ");
    assert_eq!(refused(empty).await.error_code(), "invalid_campaign");
    let answer = refused(campaign("not-a-uuid")).await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (400, "invalid_campaign")
    );
    let mut missing = campaign(&new_id());
    missing.as_object_mut().unwrap().remove("text");
    assert_eq!(refused(missing).await.error_code(), "missing_field");
    let mut extra = campaign(&new_id());
    extra["audience"] = json!("everyone");
    assert_eq!(refused(extra).await.error_code(), "unknown_field");

    // The same id with other content is another campaign: refused, the first one kept.
    let id = new_id();
    assert_eq!(campaigns.start(&admin, campaign(&id)).await.status, 202);
    let mut other = campaign(&id);
    other["subject"]["en"] = json!("Something else");
    let answer = campaigns.start(&admin, other).await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (409, "campaign_exists")
    );
    let list = campaigns.list(&admin).await;
    assert_eq!(list.body["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(
        list.body["campaigns"][0]["subject"]["en"],
        "Watercolor is here"
    );
}
