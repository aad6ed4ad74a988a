//! Access and portability: `POST /me/export` and the admin route build an archive of
//! everything held about the person (JSON + images), emailed as a link that works for 7
//! days; nobody else's data is in it.

use std::collections::HashMap;
use std::io::Read;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::email::EmailAddress;
use shared::rights::worker::ExportJob;
use shared::wallets::Wallets;

use crate::helpers::{Answer, Call, TestApp, local_secrets, sent_mail, spawn_app};
use crate::pipeline::selfie_bytes;

/// A signed-in person with an item in every store and files in both buckets.
pub struct Seeded {
    pub email: String,
    pub session: String,
    pub wallet_id: String,
    pub email_hash: String,
    pub generation_id: String,
    pub selfie: Vec<u8>,
    pub avatar: Vec<u8>,
    /// Ids that name the person beyond email, wallet and email hash (device ids, the trial
    /// id that owns the trial's generation and files).
    pub extra: Vec<String>,
}

/// A person with data in every store, `seed`'s plus the stores of billing, trials and
/// engagement: a purchase through a signed Polar webhook (ledger entry, `ORDER#`,
/// `WEBHOOK#`), analytics events with and without sign-in on one device, feedback signed
/// in and by email, a refund request, a trial with "save my link" run to its avatar, and a
/// marketing opt-in. The app must be a `trial_app` (Turnstile stand-in); `ip` differs per
/// person (one trial per address).
pub struct Everywhere {
    pub seeded: Seeded,
    pub device_id: String,
    pub trial_id: String,
    pub order_id: String,
}

pub async fn seed_everywhere(app: &TestApp, name: &str, ip: &str) -> Everywhere {
    let mut seeded = seed(app, name).await;
    let order_id = format!("ord-{name}");
    let paid = crate::billing::event(
        "order.paid",
        crate::billing::order(&seeded.wallet_id, &order_id, "paid", 0),
    );
    let delivered = app.deliver(&paid, &format!("msg-{name}")).await;
    assert_eq!(delivered.status, 200, "{}", delivered.body);

    let device_id = uuid::Uuid::new_v4().to_string();
    for cookies in [vec![], vec![seeded.session.as_str()]] {
        let answer = Call::event("engagement", "event.json")
            .json(json!({"name": "pricing_viewed", "device_id": device_id, "context": {"page": "/pricing"}}))
            .cookies(&cookies)
            .send_to_engagement(app)
            .await;
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    for (message, cookies, email) in [
        ("Love the chibi style", vec![seeded.session.as_str()], None),
        ("Please add pastel", vec![], Some(seeded.email.as_str())),
    ] {
        let mut body = json!({"message": message, "page": "/create"});
        if let Some(email) = email {
            body["email"] = json!(email);
        }
        let answer = Call::event("engagement", "feedback.json")
            .json(body)
            .cookies(&cookies)
            .send_to_engagement(app)
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    let refund = Call::event("engagement", "refund-request.json")
        .without_header("idempotency-key")
        .json(json!({"email": seeded.email, "order_id": order_id, "reason": "Too dark, sorry."}))
        .send_to_engagement(app)
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    let opt_in = Call::event("engagement", "marketing.json")
        .json(json!({ "opt_in": true }))
        .cookies(&[&seeded.session])
        .send_to_engagement(app)
        .await;
    assert!(opt_in.status < 300, "{}", opt_in.body);

    let trial = app
        .start_trial(
            crate::trial::trial_body(&device_id, Some(&seeded.email)),
            ip,
        )
        .await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    let trial_id = trial.body["trial_id"].as_str().unwrap().to_owned();
    app.upload(&trial, selfie_bytes()).await;
    assert!(
        app.deliver_upload_event(&trial_id)
            .await
            .batch_item_failures
            .is_empty()
    );
    let generated = app.run_generation_queue().await;
    assert!(generated.iter().all(|g| g.batch_item_failures.is_empty()));

    // The trial's generation and files are owned by `trial-<id>`; the bare trial id names
    // the trial record and its generation (the IP# claim holds only its expiry).
    seeded.extra = vec![
        device_id.clone(),
        shared::generations::trial_owner(&trial_id),
        trial_id.clone(),
    ];
    Everywhere {
        seeded,
        device_id,
        trial_id,
        order_id,
    }
}

pub fn email_hash(email: &str) -> String {
    let key = local_secrets()
        .into_iter()
        .find(|(name, _)| *name == "OTP_HASH_KEY")
        .unwrap()
        .1;
    shared::privacy::keyed_hash(&secrecy::SecretString::from(key), "email", email)
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub async fn seed(app: &TestApp, name: &str) -> Seeded {
    let email = app.email(name);
    // Sign-in: wallet + pointer, lead row, the email's rate-limit windows.
    let session = app.sign_in(&email).await;
    // A second code, left pending: a one-time-code item.
    app.clock.advance(61);
    assert_eq!(app.start(&email).await.status, 202);
    let wallet = Wallets::new(app.dynamodb.clone(), app.table("WalletsTable"))
        .find_by_email(&EmailAddress::parse(&email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let generation_id = uuid::Uuid::new_v4().to_string();
    let now = app.clock_now();
    let put = |table: &str, item: HashMap<String, AttributeValue>| {
        let table = app.table(table).to_owned();
        async move {
            app.dynamodb
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .send()
                .await
                .unwrap();
        }
    };
    put(
        "GenerationsTable",
        [
            ("generation_id".to_owned(), s(&generation_id)),
            ("wallet_id".to_owned(), s(&wallet.id)),
            ("created_at".to_owned(), n(now)),
            ("status".to_owned(), s("ready")),
            ("quote".to_owned(), s("こんにちは")),
            (
                "selfie_key".to_owned(),
                s(&format!("selfies/{}/{generation_id}", wallet.id)),
            ),
        ]
        .into(),
    )
    .await;
    put(
        "ModerationLogTable",
        [
            ("generation_id".to_owned(), s(&generation_id)),
            ("wallet_id".to_owned(), s(&wallet.id)),
            ("decided_at".to_owned(), n(now)),
            ("decision".to_owned(), s("allowed")),
            ("ttl".to_owned(), n(now + 88 * 86_400)),
        ]
        .into(),
    )
    .await;
    let selfie = format!("selfie of {name}").into_bytes();
    let avatar = format!("avatar of {name}").into_bytes();
    let s3 = shared::aws::s3(&app.sdk);
    for (bucket, key, body, content_type) in [
        (
            "SelfieBucket",
            format!("selfies/{}/{generation_id}", wallet.id),
            &selfie,
            "image/jpeg",
        ),
        (
            "GeneratedBucket",
            format!("generated/{}/{generation_id}/avatar.png", wallet.id),
            &avatar,
            "image/png",
        ),
    ] {
        s3.put_object()
            .bucket(&app.resources[bucket])
            .key(key)
            .content_type(content_type)
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
    }
    Seeded {
        email_hash: email_hash(&email),
        email,
        session,
        wallet_id: wallet.id,
        generation_id,
        selfie,
        avatar,
        extra: Vec::new(),
    }
}

impl TestApp {
    pub fn clock_now(&self) -> i64 {
        shared::clock::Clock::now(&self.clock)
    }

    pub async fn rights_call(
        &self,
        fixture: &str,
        session: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut call = Call::event("dsr-export", fixture);
        call = match session {
            Some(session) => call.cookies(&[session]),
            None => call.cookies(&[]),
        };
        if let Some(body) = body {
            call = call.json(body);
        }
        call.send_to_rights(self).await
    }

    /// Hands every message of the export queue to the archive worker, as the event source
    /// mapping would; returns how many jobs it ran.
    pub async fn run_export_queue(&self) -> usize {
        let sqs = shared::aws::sqs(&self.sdk);
        let queue = sqs
            .get_queue_url()
            .queue_name(&self.resources["ExportQueue"])
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let received = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let mut ran = 0;
        for message in received.messages() {
            let job: ExportJob = serde_json::from_str(message.body().unwrap()).unwrap();
            self.archive
                .process(&job)
                .await
                .expect("the export job succeeds");
            sqs.delete_message()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            ran += 1;
        }
        ran
    }

    /// Follows the emailed link as its app page does: the page's query to the download
    /// route, then the route's presigned URL; the zip bytes.
    pub async fn download_from_mail(&self, to: &str) -> Result<Vec<u8>, Answer> {
        let mail = sent_mail(to).await;
        // Found by its link (the subject is in the person's language).
        let page = format!(
            "{}/export?",
            self.function_env["DsrArchiveFunction"]["APP_ORIGIN"]
        );
        let (_, body) = mail
            .iter()
            .rev()
            .find(|(_, body)| body.contains(&page))
            .expect("an export email");
        let start = body.find(&page).expect("a link to the app's export page");
        let link = &body[start..];
        // The HTML part may be what the emulation keeps: the link ends at its quote.
        let link = link
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let query = link.split_once('?').unwrap().1;
        let mut call = Call::event("dsr-export", "download.json");
        call = call.raw_query(query);
        let answer = call.send_to_rights(self).await;
        if answer.status != 303 {
            return Err(answer);
        }
        let url = answer.headers["location"].to_str().unwrap().to_owned();
        let response = reqwest::get(&url).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        Ok(response.bytes().await.unwrap().to_vec())
    }
}

pub fn unzip(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut files = HashMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().unwrap().into_owned(), content);
    }
    files
}

pub fn rows(files: &HashMap<String, Vec<u8>>, store: &str) -> Vec<Value> {
    serde_json::from_slice(&files[&format!("data/{store}.json")]).expect("a JSON array")
}

#[tokio::test]
async fn an_export_holds_everything_about_the_person_and_nothing_of_anyone_else() {
    let app = spawn_app().await;
    let person = seed(&app, "ann").await;
    let other = seed(&app, "bob").await;

    let answer = app
        .rights_call("export.json", Some(&person.session), None)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let request_id = answer.body["request_id"].as_str().unwrap().to_owned();
    // A second click while it is pending is the same request.
    let again = app
        .rights_call("export.json", Some(&person.session), None)
        .await;
    assert_eq!(again.body["request_id"], json!(request_id));
    assert!(app.run_export_queue().await >= 1);

    let files = unzip(
        &app.download_from_mail(&person.email)
            .await
            .expect("the link works"),
    );
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["schema_version"], json!(1));
    assert_eq!(manifest["request_id"], json!(request_id));
    assert!(files.contains_key("EXPORT_SCHEMA.md"));
    for listed in manifest["files"].as_array().unwrap() {
        assert!(
            files.contains_key(listed["path"].as_str().unwrap()),
            "{listed}"
        );
    }
    assert_eq!(
        rows(&files, "wallet")[0]["wallet_id"],
        json!(person.wallet_id)
    );
    assert_eq!(rows(&files, "wallet")[0]["email"], json!(person.email));
    assert_eq!(rows(&files, "lead")[0]["first_source"], json!("sign-in"));
    let codes = rows(&files, "one_time_codes");
    assert_eq!(codes.len(), 1);
    assert!(
        codes[0].get("code_hash").is_none(),
        "the code's hash stays out"
    );
    assert!(!rows(&files, "rate_limits").is_empty());
    assert_eq!(
        rows(&files, "generations")[0]["generation_id"],
        json!(person.generation_id)
    );
    assert_eq!(rows(&files, "generations")[0]["quote"], json!("こんにちは"));
    assert_eq!(
        rows(&files, "moderation_log")[0]["decision"],
        json!("allowed")
    );
    assert_eq!(
        files[&format!("files/selfies/{}.jpg", person.generation_id)],
        person.selfie
    );
    assert_eq!(
        files[&format!("files/generated/{}/avatar.png", person.generation_id)],
        person.avatar
    );

    let everything: String = files
        .values()
        .map(|content| String::from_utf8_lossy(content).into_owned())
        .collect();
    for needle in [
        &other.email,
        &other.wallet_id,
        &other.email_hash,
        &other.generation_id,
    ] {
        assert!(
            !everything.contains(needle.as_str()),
            "another person's data in the export"
        );
    }
}

#[tokio::test]
async fn an_admin_exports_for_an_email_that_wrote_in_and_the_link_dies_after_seven_days() {
    let app = spawn_app().await;
    let person = seed(&app, "carol").await;
    let admin = app.sign_in(&app.email("admin")).await;

    let refused = app
        .rights_call(
            "admin-export.json",
            Some(&person.session),
            Some(json!({"email": person.email})),
        )
        .await;
    assert_eq!(refused.status, 403);

    let answer = app
        .rights_call(
            "admin-export.json",
            Some(&admin),
            Some(json!({"email": person.email})),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    app.run_export_queue().await;
    let files = unzip(
        &app.download_from_mail(&person.email)
            .await
            .expect("the link works"),
    );
    assert_eq!(
        rows(&files, "wallet")[0]["wallet_id"],
        json!(person.wallet_id)
    );

    app.clock.advance(7 * 86_400 + 1);
    let expired = app
        .download_from_mail(&person.email)
        .await
        .expect_err("expired");
    assert_eq!(expired.error_code(), "export_not_found");
    // The hourly job removes the archive and its record.
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ExpiredExportsRemoved"), 1);
    let left = shared::aws::s3(&app.sdk)
        .list_objects_v2()
        .bucket(&app.resources["ExportsBucket"])
        .send()
        .await
        .unwrap();
    assert_eq!(left.key_count(), Some(0));
}

#[tokio::test]
async fn a_forged_download_link_is_refused() {
    let app = spawn_app().await;
    let person = seed(&app, "dave").await;
    app.rights_call("export.json", Some(&person.session), None)
        .await;
    app.run_export_queue().await;
    let forged = Call::event("dsr-export", "download.json")
        .raw_query(&format!("p={}&r=x&sig=00", person.email_hash))
        .send_to_rights(&app)
        .await;
    assert_eq!(forged.status, 404);
    assert_eq!(forged.error_code(), "export_not_found");
}

#[tokio::test]
async fn rights_routes_refuse_strangers_and_bad_input() {
    let app = spawn_app().await;
    let person = seed(&app, "ivy").await;
    let admin = app.sign_in(&app.email("admin")).await;
    for fixture in ["export.json", "delete.json"] {
        let answer = app.rights_call(fixture, None, None).await;
        assert_eq!(answer.status, 401, "{fixture}");
        assert_eq!(answer.error_code(), "unauthorized");
    }
    let bad_email = app
        .rights_call(
            "admin-delete.json",
            Some(&admin),
            Some(json!({"email": "not an email"})),
        )
        .await;
    assert_eq!(bad_email.error_code(), "invalid_email");
    let unknown = app
        .rights_call(
            "admin-export.json",
            Some(&admin),
            Some(json!({"email": person.email, "all": true})),
        )
        .await;
    assert_eq!(unknown.error_code(), "unknown_field");
    let wrong_method = Call::event("dsr-export", "export.json")
        .route("GET", "/me/export")
        .cookies(&[&person.session])
        .send_to_rights(&app)
        .await;
    assert_eq!(wrong_method.status, 405);
    // Nothing was recorded for the refused calls.
    assert!(app.scan("PrivacyRequestsTable").await.is_empty());
}

#[tokio::test]
async fn an_export_holds_every_store_of_billing_trials_and_engagement_and_nothing_of_anyone_else() {
    let server = crate::trial::siteverify().await;
    let app =
        crate::trial::trial_app(shared::providers::turnstile::DUMMY_SECRET_PASSES, &server).await;
    let person = seed_everywhere(&app, "nora", "203.0.113.21").await;
    let other = seed_everywhere(&app, "otto", "203.0.113.22").await;
    let me = &person.seeded;

    let answer = app
        .rights_call("export.json", Some(&me.session), None)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(app.run_export_queue().await >= 1);
    let files = unzip(
        &app.download_from_mail(&me.email)
            .await
            .expect("the link works"),
    );

    let ledger = rows(&files, "ledger");
    assert!(
        ledger.iter().any(|entry| entry["kind"] == json!("purchase")
            && entry["order_id"] == json!(person.order_id)),
        "{ledger:?}"
    );
    let orders = rows(&files, "orders");
    assert!(
        orders
            .iter()
            .any(|o| o["record"] == json!("order") && o["order_id"] == json!(person.order_id)),
        "{orders:?}"
    );
    assert!(
        orders
            .iter()
            .any(|o| o["record"] == json!("payment_notification")),
        "{orders:?}"
    );

    let events = rows(&files, "analytics_events");
    assert_eq!(
        events.len(),
        2,
        "signed in and anonymous on the same device: {events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["device_id"] == json!(person.device_id))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.get("wallet_email").is_none())
            .count(),
        1,
        "the anonymous event of the device"
    );
    let feedback = rows(&files, "feedback");
    assert_eq!(
        feedback.len(),
        2,
        "by wallet and by email, once each: {feedback:?}"
    );
    let refunds = rows(&files, "refund_requests");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["order_id"], json!(person.order_id));

    let trials = rows(&files, "trials");
    let records: Vec<&str> = trials.iter().filter_map(|t| t["record"].as_str()).collect();
    assert_eq!(records.len(), 2, "{trials:?}");
    assert!(records.contains(&"trial") && records.contains(&"device_claim"));
    assert!(
        trials
            .iter()
            .all(|t| t["trial_id"] == json!(person.trial_id)),
        "{trials:?}"
    );
    assert!(
        trials
            .iter()
            .any(|t| t["device_id"] == json!(person.device_id)),
        "{trials:?}"
    );
    let owner = shared::generations::trial_owner(&person.trial_id);
    assert!(
        rows(&files, "generations")
            .iter()
            .any(|g| g["generation_id"] == json!(person.trial_id) && g["wallet_id"] == json!(owner)),
        "the trial's generation"
    );
    assert!(
        files
            .keys()
            .any(|path| path.starts_with(&format!("files/generated/{}/", person.trial_id))),
        "the trial's generated files: {:?}",
        files.keys().collect::<Vec<_>>()
    );

    let lead = &rows(&files, "lead")[0];
    assert_eq!(lead["marketing_opt_in"], json!(true));
    assert!(is_rfc3339(&lead["marketing_opt_in_at"]), "{lead}");
    assert!(
        !lead["consent_history"].as_array().unwrap().is_empty(),
        "{lead}"
    );

    let everything: String = files
        .values()
        .map(|content| String::from_utf8_lossy(content).into_owned())
        .collect();
    let theirs = &other.seeded;
    for needle in [
        &theirs.email,
        &theirs.wallet_id,
        &theirs.email_hash,
        &other.device_id,
        &other.trial_id,
        &other.order_id,
    ] {
        assert!(
            !everything.contains(needle.as_str()),
            "another person's {needle} in the export"
        );
    }
}

/// `2026-11-29T11:04:05Z`: a time as the archive writes it.
pub fn is_rfc3339(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        let bytes = text.as_bytes();
        text.len() == 20
            && bytes[4] == b'-'
            && bytes[10] == b'T'
            && bytes[19] == b'Z'
            && text
                .chars()
                .filter(|c| !matches!(c, '-' | 'T' | ':' | 'Z'))
                .all(|c| c.is_ascii_digit())
    })
}

/// The fields `EXPORT_SCHEMA.md` lists for each store: the first column of the table under
/// each `### `store`` heading (`name` or `name[].field` for the objects of a list).
pub fn schema_fields(schema: &str) -> HashMap<String, Vec<String>> {
    let mut fields: HashMap<String, Vec<String>> = HashMap::new();
    let mut store: Option<String> = None;
    for line in schema.lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            store = heading.split('`').next().map(str::to_owned);
            continue;
        }
        if line.starts_with("## ") {
            store = None;
        }
        let Some(store) = &store else { continue };
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let name = cell.split('`').next().unwrap().to_owned();
        fields.entry(store.clone()).or_default().push(name);
    }
    fields
}

/// Checks every record of the archive against the schema inside it: no storage key, every
/// field (and every field of a listed object) described, times as RFC 3339; every file has
/// an extension. Returns how many stores wrote a rows file.
pub fn assert_documented(files: &HashMap<String, Vec<u8>>) -> usize {
    // The schema read is the one inside the archive: what the person gets is what is checked.
    let schema = schema_fields(std::str::from_utf8(&files["EXPORT_SCHEMA.md"]).unwrap());
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let mut stores_seen = 0;
    for listed in manifest["files"].as_array().unwrap() {
        let path = listed["path"].as_str().unwrap();
        if listed["kind"] == json!("file") {
            let name = path.rsplit('/').next().unwrap();
            assert!(name.contains('.'), "{path} has no extension");
            continue;
        }
        let store = listed["store"].as_str().unwrap();
        let documented = schema
            .get(store)
            .unwrap_or_else(|| panic!("EXPORT_SCHEMA.md has no section for `{store}`"));
        stores_seen += 1;
        for record in rows(files, store) {
            for (field, value) in record.as_object().unwrap() {
                assert!(
                    !STORAGE_KEYS.contains(&field.as_str()),
                    "{store}: the storage key `{field}` is in the archive"
                );
                assert!(
                    documented.contains(field),
                    "{store}: `{field}` is not in EXPORT_SCHEMA.md: {record}"
                );
                if shared::rights::records::is_time(field) {
                    assert!(is_rfc3339(value), "{store}.{field} = {value}");
                }
                for item in value.as_array().into_iter().flatten() {
                    for (inner, inner_value) in item.as_object().into_iter().flatten() {
                        let path = format!("{field}[].{inner}");
                        assert!(
                            documented.contains(&path),
                            "{store}: `{path}` is not in EXPORT_SCHEMA.md"
                        );
                        if shared::rights::records::is_time(inner) {
                            assert!(is_rfc3339(inner_value), "{store}.{path} = {inner_value}");
                        }
                    }
                }
            }
        }
    }
    stores_seen
}

/// Storage names that must never reach a person's archive.
const STORAGE_KEYS: [&str; 6] = [
    "pk",
    "sk",
    "ttl",
    "expiry_sweep",
    "selfie_held",
    "selfie_due_at",
];

#[tokio::test]
async fn every_record_is_in_its_documented_shape_with_rfc3339_times_and_every_file_has_its_extension()
 {
    let server = crate::trial::siteverify().await;
    let app =
        crate::trial::trial_app(shared::providers::turnstile::DUMMY_SECRET_PASSES, &server).await;
    let person = seed_everywhere(&app, "rita", "203.0.113.23").await;
    let me = &person.seeded;
    let answer = app
        .rights_call("export.json", Some(&me.session), None)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(app.run_export_queue().await >= 1);
    let files = unzip(&app.download_from_mail(&me.email).await.expect("the link"));

    let stores_seen = assert_documented(&files);
    assert!(stores_seen >= 12, "every store wrote its file");
    assert!(
        files.contains_key(&format!("files/selfies/{}.jpg", me.generation_id)),
        "the selfie is named from its type: {:?}",
        files.keys().collect::<Vec<_>>()
    );
    assert!(
        files.contains_key(&format!("files/selfies/{}.jpg", person.trial_id)),
        "the trial's selfie too"
    );
}

#[tokio::test]
async fn the_archive_has_a_page_that_shows_everything_offline_in_the_persons_language() {
    let server = crate::trial::siteverify().await;
    let app =
        crate::trial::trial_app(shared::providers::turnstile::DUMMY_SECRET_PASSES, &server).await;
    let person = seed_everywhere(&app, "sora", "203.0.113.24").await;
    let me = &person.seeded;
    // A message that would be markup if it were not escaped.
    let feedback = Call::event("engagement", "feedback.json")
        .json(json!({"message": "<img src=x onerror=alert(1)> & thanks", "page": "/create"}))
        .cookies(&[me.session.as_str()])
        .send_to_engagement(&app)
        .await;
    assert_eq!(feedback.status, 201, "{}", feedback.body);
    let chosen = Call::fixture("locale.json")
        .json(json!({ "locale": "ja" }))
        .cookies(&[&me.session])
        .send(&app)
        .await;
    assert_eq!(chosen.status, 200, "{}", chosen.body);

    let answer = app
        .rights_call("export.json", Some(&me.session), None)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(app.run_export_queue().await >= 1);
    let files = unzip(&app.download_from_mail(&me.email).await.expect("the link"));
    if let Ok(dir) = std::env::var("EXPORT_SAMPLE_DIR") {
        // To look at the page: the archive unzipped where asked.
        for (path, content) in &files {
            let target = std::path::Path::new(&dir).join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, content).unwrap();
        }
    }
    let page = String::from_utf8(files["index.html"].clone()).expect("UTF-8");

    assert!(
        page.starts_with("<!doctype html><html lang=\"ja\">"),
        "in the person's language"
    );
    assert!(page.contains("Anumi が保持しているあなたのデータ"));
    for held in [
        me.email.as_str(),
        me.wallet_id.as_str(),
        person.trial_id.as_str(),
        person.order_id.as_str(),
        "Love the chibi style",
        "こんにちは",
    ] {
        assert!(page.contains(held), "the page shows {held}");
    }
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; &amp; thanks"));
    assert!(!page.contains("<img src=x"), "values are escaped");
    assert!(!page.contains("<script"), "no script");
    // Every link and picture is a file of the archive (or a place on the page): nothing is
    // fetched from anywhere.
    let mut pictures = 0;
    for attribute in ["src=\"", "href=\""] {
        for reference in page.split(attribute).skip(1) {
            let target = reference.split('"').next().unwrap();
            if target.starts_with('#') {
                continue;
            }
            let decoded = target.replace("%20", " ");
            assert!(
                files.contains_key(&decoded),
                "{target} is not in the archive"
            );
            if attribute == "src=\"" {
                pictures += 1;
            }
        }
    }
    for picture in [
        format!("files/selfies/{}.jpg", me.generation_id),
        format!("files/generated/{}/avatar.png", me.generation_id),
        format!("files/generated/{}/avatar.png", person.trial_id),
    ] {
        assert!(
            page.contains(&format!("src=\"{picture}\"")),
            "shows {picture}"
        );
    }
    assert!(pictures >= 3);
    for outside in [
        "http:",
        "https:",
        "src=\"//",
        "href=\"//",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(!page.contains(outside), "{outside} in the page");
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["page"], json!("index.html"));
}
