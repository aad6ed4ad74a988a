//! Selfie to avatars, in process: presign, upload to the emulated S3, moderation from the
//! S3 event as AWS delivers it (fixture), generation by the local stylizer, the review queue,
//! and the credits, which are reserved, charged or returned exactly once.

use std::io::Read;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use image::{GenericImageView, Rgba, RgbaImage};
use serde_json::{Value, json};
use shared::email::EmailAddress;

use crate::helpers::{Answer, Call, TestApp, repo_root, sent_mail, spawn_app};

const SELFIE: &str = "tests/fixtures/selfie.jpg";
const JAPANESE_QUOTE: &str = "こんにちは、世界！";

pub(crate) fn selfie_bytes() -> Vec<u8> {
    std::fs::read(repo_root().join(SELFIE)).expect("the selfie fixture")
}

/// A PNG that the local moderation stand-in blocks (its documented magenta test marker).
pub(crate) fn blocked_marker_png() -> Vec<u8> {
    let image = RgbaImage::from_pixel(64, 64, Rgba([255, 0, 255, 255]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgba8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

pub(crate) struct Person {
    pub(crate) email: String,
    pub(crate) session: String,
}

impl TestApp {
    pub(crate) async fn person_with_credits(&self, name: &str, credits: i64) -> Person {
        let email = self.email(name);
        let session = self.sign_in(&email).await;
        let wallets = self.wallets();
        let wallet = wallets
            .find_by_email(&EmailAddress::parse(&email).unwrap())
            .await
            .unwrap()
            .unwrap();
        if credits > 0 {
            wallets.add_credits(&wallet.id, credits).await.unwrap();
        }
        Person { email, session }
    }

    pub(crate) async fn credits(&self, person: &Person) -> i64 {
        self.me(&person.session).await.body["credits"]
            .as_i64()
            .unwrap()
    }

    pub(crate) async fn order(&self, person: &Person, body: Value) -> Answer {
        Call::event("upload-presign", "create-upload.json")
            .json(body)
            .cookies(&[&person.session])
            .send_to_uploads(self)
            .await
    }

    pub(crate) async fn generation(&self, person: &Person, id: &str) -> Answer {
        Call::event("upload-presign", "list-generations.json")
            .route("GET", &format!("/generations/{id}"))
            .cookies(&[&person.session])
            .send_to_uploads(self)
            .await
    }

    /// PUTs `bytes` to the presigned URL with exactly the headers it was signed with.
    pub(crate) async fn upload(&self, order: &Answer, bytes: Vec<u8>) {
        let upload = &order.body["upload"];
        let mut request = reqwest::Client::new().put(upload["url"].as_str().unwrap());
        for (name, value) in upload["headers"].as_object().unwrap() {
            request = request.header(name.as_str(), value.as_str().unwrap());
        }
        let response = request.body(bytes).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "upload: {}",
            response.status()
        );
    }

    /// The S3 "object created" event for a generation's selfie, delivered through SQS the
    /// way AWS delivers it (fixture events/moderate/selfie-uploaded.json).
    pub(crate) async fn deliver_upload_event(&self, generation_id: &str) -> SqsBatchResponse {
        let key = self.selfie_key(generation_id).await;
        let mut event: Value = read_event("moderate", "selfie-uploaded.json");
        let mut body: Value =
            serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
        body["Records"][0]["s3"]["bucket"]["name"] = json!(self.resources["SelfieBucket"]);
        body["Records"][0]["s3"]["object"]["key"] = json!(key);
        event["Records"][0]["body"] = json!(body.to_string());
        self.moderation
            .handle(serde_json::from_value::<SqsEvent>(event).unwrap())
            .await
    }

    /// The item of `logical_id` (keyed by `generation_id`) for a generation, if any.
    pub(crate) async fn item_of(
        &self,
        logical_id: &str,
        generation_id: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(self.table(logical_id))
            .key(
                "generation_id",
                aws_sdk_dynamodb::types::AttributeValue::S(generation_id.into()),
            )
            .send()
            .await
            .unwrap()
            .item
    }

    pub(crate) async fn selfie_key(&self, generation_id: &str) -> String {
        let item = self
            .item_of("GenerationsTable", generation_id)
            .await
            .unwrap();
        item["selfie_key"].as_s().unwrap().clone()
    }

    /// Every message on the generation queue, handed to the generate worker like the event
    /// source mapping does (one message per batch, its receive count as SQS reports it).
    pub(crate) async fn run_generation_queue(&self) -> Vec<SqsBatchResponse> {
        let sqs = shared::aws::sqs(&self.sdk);
        let queue = self.queue_url("GenerationQueue").await;
        let received = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let mut responses = Vec::new();
        for message in received.messages() {
            let event = sqs_event(message.body().unwrap(), message.message_id().unwrap(), "1");
            responses.push(self.delivery.handle(event).await);
            sqs.delete_message()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        responses
    }

    async fn queue_url(&self, logical_id: &str) -> String {
        shared::aws::sqs(&self.sdk)
            .get_queue_url()
            .queue_name(&self.resources[logical_id])
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn object_exists(&self, bucket: &str, key: &str) -> bool {
        shared::aws::s3(&self.sdk)
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .is_ok()
    }
}

pub(crate) fn read_event(function: &str, name: &str) -> Value {
    let text =
        std::fs::read_to_string(repo_root().join("events").join(function).join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An SQS event with one message, from the fixture's shape.
fn sqs_event(body: &str, message_id: &str, receive_count: &str) -> SqsEvent {
    let mut event = read_event("generate", "job.json");
    event["Records"][0]["body"] = json!(body);
    event["Records"][0]["messageId"] = json!(message_id);
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = json!(receive_count);
    serde_json::from_value(event).unwrap()
}

pub(crate) fn full_order() -> Value {
    json!({
        "content_type": "image/jpeg",
        "content_length": selfie_bytes().len(),
        "style": "anime",
        "products": ["stickers", "speech_bubble"],
        "quote": JAPANESE_QUOTE,
    })
}

pub(crate) async fn download(url: &str) -> Vec<u8> {
    let response = reqwest::get(url).await.unwrap();
    assert!(
        response.status().is_success(),
        "download {url}: {}",
        response.status()
    );
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_selfie_becomes_avatars_stickers_a_speech_bubble_and_a_bundle() {
    let app = spawn_app().await;
    let person = app.person_with_credits("yui", 5).await;

    let order = app.order(&person, full_order()).await;
    assert_eq!(order.status, 201, "{}", order.body);
    assert_eq!(order.body["cost"], json!(3));
    assert_eq!(app.credits(&person).await, 2, "reserved at presign");
    let id = order.body["generation_id"].as_str().unwrap().to_owned();

    app.upload(&order, selfie_bytes()).await;
    let moderated = app.deliver_upload_event(&id).await;
    assert!(moderated.batch_item_failures.is_empty());

    let log = app
        .item_of("ModerationLogTable", &id)
        .await
        .expect("a moderation log entry");
    assert_eq!(log["decision"].as_s().unwrap(), "allowed");
    assert_eq!(
        log["provider"].as_s().unwrap(),
        "local-stand-in",
        "the stand-in says what it is"
    );
    assert!(
        !log["scores"].as_m().unwrap().is_empty(),
        "per-category scores are recorded"
    );
    assert!(log["photo_url"].as_s().unwrap().starts_with("s3://"));
    let decided_at: i64 = log["decided_at"].as_n().unwrap().parse().unwrap();
    let ttl: i64 = log["ttl"].as_n().unwrap().parse().unwrap();
    assert!(ttl - decided_at <= 90 * 24 * 3600, "gone within 90 days");

    let responses = app.run_generation_queue().await;
    assert_eq!(responses.len(), 1);
    assert!(responses[0].batch_item_failures.is_empty());

    let generation = app.generation(&person, &id).await;
    assert_eq!(
        generation.body["status"],
        json!("ready"),
        "{}",
        generation.body
    );
    assert_eq!(generation.body["charge"], json!("charged"));
    assert_eq!(
        app.credits(&person).await,
        2,
        "charged once: the reservation"
    );
    let downloads = generation.body["downloads"].as_object().unwrap().clone();
    let names: Vec<&str> = downloads.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "README.txt",
            "avatar.png",
            "bundle.zip",
            "speech-bubble.png",
            "sticker.png"
        ]
    );

    let avatar =
        image::load_from_memory(&download(downloads["avatar.png"].as_str().unwrap()).await)
            .unwrap();
    assert_eq!(avatar.dimensions(), (1024, 1024));
    let sticker =
        image::load_from_memory(&download(downloads["sticker.png"].as_str().unwrap()).await)
            .unwrap()
            .to_rgba8();
    let (w, h) = sticker.dimensions();
    for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
        assert_eq!(
            sticker.get_pixel(x, y)[3],
            0,
            "sticker corner ({x},{y}) is transparent"
        );
    }
    let bubble =
        image::load_from_memory(&download(downloads["speech-bubble.png"].as_str().unwrap()).await)
            .unwrap()
            .to_rgba8();
    assert_ne!(
        bubble.as_raw(),
        &avatar.to_rgba8().into_raw(),
        "the quote is drawn in"
    );

    let bundle = download(downloads["bundle.zip"].as_str().unwrap()).await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bundle)).expect("the bundle opens");
    let mut entries: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "README.txt",
            "avatar.png",
            "speech-bubble.png",
            "sticker.png"
        ]
    );
    let mut readme = String::new();
    zip.by_name("README.txt")
        .unwrap()
        .read_to_string(&mut readme)
        .unwrap();
    assert!(
        readme.contains("LOCAL STYLIZER"),
        "the local stylizer says what it is: {readme}"
    );

    let mail = sent_mail(&person.email).await;
    let (subject, body) = mail.last().unwrap();
    assert!(subject.contains("ready"), "{subject}");
    assert!(
        body.contains(&format!("/generations/{id}")),
        "the email links to the generation"
    );
}

#[tokio::test]
async fn a_redelivered_job_generates_and_charges_once() {
    let app = spawn_app().await;
    let person = app.person_with_credits("twice", 3).await;
    let order = app.order(&person, json!({
        "content_type": "image/jpeg", "content_length": selfie_bytes().len(), "style": "chibi",
    })).await;
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, selfie_bytes()).await;
    // The same S3 event twice: moderation decides and queues once.
    app.deliver_upload_event(&id).await;
    app.deliver_upload_event(&id).await;
    let job = json!({ "generation_id": id }).to_string();
    for attempt in 0..3 {
        let response = app
            .delivery
            .handle(sqs_event(&job, &format!("m-{attempt}"), "1"))
            .await;
        assert!(response.batch_item_failures.is_empty());
    }
    app.run_generation_queue().await;
    assert_eq!(app.credits(&person).await, 2, "one credit, charged once");
    let ready_mails = sent_mail(&person.email)
        .await
        .into_iter()
        .filter(|(s, _)| s.contains("ready"))
        .count();
    assert_eq!(ready_mails, 1, "one ready email");
    assert_eq!(
        app.generation(&person, &id).await.body["status"],
        json!("ready")
    );
}

#[tokio::test]
async fn a_blocked_selfie_returns_its_credits_and_waits_for_review() {
    let app = spawn_app().await;
    let person = app.person_with_credits("flagged", 2).await;
    let admin = app.person_with_credits("admin", 0).await;
    let order = app.order(&person, json!({
        "content_type": "image/png", "content_length": blocked_marker_png().len(), "style": "anime",
    })).await;
    assert_eq!(app.credits(&person).await, 1);
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, blocked_marker_png()).await;
    app.deliver_upload_event(&id).await;

    let generation = app.generation(&person, &id).await;
    assert_eq!(
        generation.body["status"],
        json!("blocked"),
        "the user can see the status"
    );
    assert_eq!(generation.body["charge"], json!("returned"));
    assert_eq!(
        app.credits(&person).await,
        2,
        "the reserved credit went back"
    );
    let tags = shared::aws::s3(&app.sdk)
        .get_object_tagging()
        .bucket(&app.resources["SelfieBucket"])
        .key(app.selfie_key(&id).await)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "moderation" && t.value() == "blocked")
    );

    let not_admin = Call::event("admin", "review-queue.json")
        .cookies(&[&person.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(
        (not_admin.status, not_admin.error_code()),
        (403, "forbidden")
    );
    let queue = Call::event("admin", "review-queue.json")
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    let listed: Vec<&str> = queue.body["review_queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["generation_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [id.as_str()]);

    // A false positive: approved, the credit is reserved again and the job runs.
    let approved = Call::event("admin", "approve.json")
        .route("POST", &format!("/admin/review/{id}/approve"))
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(app.credits(&person).await, 1);
    app.run_generation_queue().await;
    assert_eq!(
        app.generation(&person, &id).await.body["status"],
        json!("ready")
    );
    assert_eq!(app.credits(&person).await, 1, "charged once after approval");
}

#[tokio::test]
async fn a_confirmed_block_deletes_the_selfie_now() {
    let app = spawn_app().await;
    let person = app.person_with_credits("confirmed", 1).await;
    let admin = app.person_with_credits("admin", 0).await;
    let order = app.order(&person, json!({
        "content_type": "image/png", "content_length": blocked_marker_png().len(), "style": "anime",
    })).await;
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, blocked_marker_png()).await;
    app.deliver_upload_event(&id).await;
    let key = app.selfie_key(&id).await;
    assert!(
        app.object_exists(&app.resources["SelfieBucket"], &key)
            .await
    );

    let confirmed = Call::event("admin", "confirm.json")
        .route("POST", &format!("/admin/review/{id}/confirm"))
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(
        !app.object_exists(&app.resources["SelfieBucket"], &key)
            .await,
        "deleted at once"
    );
    assert_eq!(
        app.generation(&person, &id).await.body["status"],
        json!("removed")
    );
    let again = Call::event("admin", "confirm.json")
        .route("POST", &format!("/admin/review/{id}/confirm"))
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(
        (again.status, again.error_code()),
        (409, "already_reviewed")
    );
}

#[tokio::test]
async fn an_unreviewed_blocked_selfie_is_gone_by_day_five() {
    let app = spawn_app().await;
    let person = app.person_with_credits("waiting", 1).await;
    let order = app.order(&person, json!({
        "content_type": "image/png", "content_length": blocked_marker_png().len(), "style": "anime",
    })).await;
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, blocked_marker_png()).await;
    app.deliver_upload_event(&id).await;
    let key = app.selfie_key(&id).await;

    app.clock.advance(3 * 24 * 3600);
    app.retention.run().await.unwrap();
    assert!(
        app.object_exists(&app.resources["SelfieBucket"], &key)
            .await,
        "kept for review on day 3"
    );

    // The last hourly run before day 5 ends removes it.
    app.clock.advance(2 * 24 * 3600 - 3600);
    app.retention.run().await.unwrap();
    assert!(
        !app.object_exists(&app.resources["SelfieBucket"], &key)
            .await,
        "gone by day 5"
    );
    assert_eq!(
        app.generation(&person, &id).await.body["status"],
        json!("removed")
    );
}

#[tokio::test]
async fn bytes_that_are_not_an_image_are_refused_and_the_credits_return() {
    let app = spawn_app().await;
    let person = app.person_with_credits("sneaky", 1).await;
    let fake = std::fs::read(repo_root().join("tests/fixtures/not-an-image.jpg")).unwrap();
    let order = app
        .order(
            &person,
            json!({
                "content_type": "image/jpeg", "content_length": fake.len(), "style": "anime",
            }),
        )
        .await;
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, fake).await;
    app.deliver_upload_event(&id).await;
    let generation = app.generation(&person, &id).await;
    assert_eq!(generation.body["status"], json!("failed"));
    assert_eq!(app.credits(&person).await, 1, "no credits lost");
    assert!(
        !app.object_exists(&app.resources["SelfieBucket"], &app.selfie_key(&id).await)
            .await
    );
}

#[tokio::test]
async fn bad_orders_are_refused_before_any_upload_and_cost_nothing() {
    let app = spawn_app().await;
    let person = app.person_with_credits("careful", 1).await;
    let poor = app.person_with_credits("poor", 0).await;
    let long_quote = "あ".repeat(81);
    let cases = [
        (
            json!({"content_type": "image/gif", "content_length": 10, "style": "anime"}),
            400,
            "unsupported_image_type",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 11 * 1024 * 1024, "style": "anime"}),
            400,
            "image_too_large",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 0, "style": "anime"}),
            400,
            "image_too_large",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "cubist"}),
            400,
            "unknown_style",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime", "products": ["mug"]}),
            400,
            "unknown_product",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime", "products": ["speech_bubble"]}),
            400,
            "quote_required",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime", "quote": "hi"}),
            400,
            "quote_without_speech_bubble",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime", "products": ["speech_bubble"], "quote": long_quote}),
            400,
            "quote_too_long",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime", "products": ["speech_bubble"], "quote": "a\u{7}b"}),
            400,
            "quote_invalid_characters",
        ),
        (
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime", "products": ["stickers"]}),
            402,
            "insufficient_credits",
        ),
    ];
    for (body, status, code) in cases {
        let answer = app.order(&person, body.clone()).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (status, code),
            "{body}: {}",
            answer.body
        );
    }
    let broke = app
        .order(
            &poor,
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime"}),
        )
        .await;
    assert_eq!(
        (broke.status, broke.error_code()),
        (402, "insufficient_credits")
    );
    assert_eq!(app.credits(&person).await, 1);
    assert!(
        app.scan("GenerationsTable").await.is_empty(),
        "nothing recorded"
    );
    let anonymous = Call::event("upload-presign", "create-upload.json")
        .send_to_uploads(&app)
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn concurrent_orders_never_spend_more_credits_than_the_wallet_has() {
    let app = spawn_app().await;
    let person = app.person_with_credits("racer", 3).await;
    let body = json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime"});
    let answers =
        futures_util::future::join_all((0..8).map(|_| app.order(&person, body.clone()))).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(created, 3);
    assert!(
        answers
            .iter()
            .filter(|a| a.status != 201)
            .all(|a| a.error_code() == "insufficient_credits")
    );
    assert_eq!(app.credits(&person).await, 0);
}

#[tokio::test]
async fn the_s3_test_event_is_skipped() {
    let app = spawn_app().await;
    let event: SqsEvent =
        serde_json::from_value(read_event("moderate", "s3-test-event.json")).unwrap();
    let response = app.moderation.handle(event).await;
    assert!(response.batch_item_failures.is_empty());
}

#[tokio::test]
async fn the_presigned_url_binds_type_and_length() {
    let app = spawn_app().await;
    let person = app.person_with_credits("signed", 1).await;
    let order = app
        .order(
            &person,
            json!({"content_type": "image/jpeg", "content_length": 1234, "style": "anime"}),
        )
        .await;
    let url = order.body["upload"]["url"].as_str().unwrap();
    let signed_headers = url
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
        .expect("a SigV4 presigned URL");
    let signed: Vec<&str> = signed_headers.split("%3B").collect();
    assert!(
        signed.contains(&"content-type") && signed.contains(&"content-length"),
        "{signed_headers}"
    );
    // The client is told to set only the type: a browser sets Content-Length itself (it is
    // a forbidden header for scripts), and the signature still binds it.
    assert_eq!(
        order.body["upload"]["headers"],
        json!({"content-type": "image/jpeg"})
    );

    // The emulation accepts any signature, so check it independently: the URL's signature
    // matches the signed type and length, and stops matching when either changes.
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").expect("the test credentials");
    let sent = |content_type: &str, length: &str| {
        crate::sigv4::presigned_request_matches(
            url,
            "PUT",
            &[("content-type", content_type), ("content-length", length)],
            &secret,
        )
    };
    assert!(
        sent("image/jpeg", "1234"),
        "the presigned request as issued verifies"
    );
    assert!(
        !sent("image/png", "1234"),
        "another content type breaks the signature"
    );
    assert!(
        !sent("image/jpeg", "99999999"),
        "another length breaks the signature"
    );
}

/// Drives one queued job through a worker built with `maker` (e.g. OpenAI at a stand-in).
async fn queued_job(app: &TestApp, person: &Person) -> String {
    let order = app
        .order(
            person,
            json!({"content_type": "image/jpeg", "content_length": selfie_bytes().len(), "style": "anime"}),
        )
        .await;
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, selfie_bytes()).await;
    app.deliver_upload_event(&id).await;
    assert_eq!(
        app.generation(person, &id).await.body["status"],
        json!("queued")
    );
    id
}

#[tokio::test]
async fn an_openai_moderation_block_is_not_retried_and_returns_the_credits() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let app = spawn_app().await;
    let person = app.person_with_credits("refused", 1).await;
    let id = queued_job(&app, &person).await;

    // OpenAI's documented refusal of an image edit by its safety system.
    let openai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/edits"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {
                "message": "Your request was rejected by the safety system.",
                "type": "image_generation_user_error",
                "param": null,
                "code": "moderation_blocked"
            }
        })))
        .expect(1)
        .mount(&openai)
        .await;
    let config = shared::providers::OpenAiConfig::new(
        secrecy::SecretString::from("sk-test-0123456789abcdef0123456789".to_owned()),
        openai.uri().parse().unwrap(),
    );
    let maker = shared::delivery::AvatarMaker::OpenAi {
        model: config.image_model.clone(),
        client: shared::providers::OpenAiClient::new(config).unwrap(),
    };
    let worker = shared::delivery::GenerationWorker::new(
        shared::delivery::DeliveryConfig {
            app_origin: "https://anumi.app".parse().unwrap(),
            email_from: shared::email::Sender {
                from: "no-reply@anumi.app".into(),
                support: EmailAddress::parse("support@anumi.app").unwrap(),
            },
            wallets_table: app.table("WalletsTable").to_owned(),
            ledger_table: app.table("LedgerTable").to_owned(),
            generations_table: app.table("GenerationsTable").to_owned(),
            selfie_bucket: app.resources["SelfieBucket"].clone(),
            generated_bucket: app.resources["GeneratedBucket"].clone(),
            trials_table: app.table("TrialsTable").to_owned(),
            trial_link_secret: secrecy::SecretString::from(
                "local-trial-link-secret-0123456789abcdef".to_owned(),
            ),
            max_receive_count: 4,
        },
        maker,
        &app.sdk,
        std::sync::Arc::new(app.clock.clone()),
    );
    let job = json!({ "generation_id": id }).to_string();
    let response = worker.handle(sqs_event(&job, "m-1", "1")).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "not handed back for a retry"
    );

    let generation = app.generation(&person, &id).await;
    assert_eq!(generation.body["status"], json!("failed"));
    assert_eq!(
        generation.body["failure"],
        json!("moderation_blocked"),
        "the job says why"
    );
    assert_eq!(app.credits(&person).await, 1, "the credit went back");
}

#[tokio::test]
async fn a_job_that_finally_fails_returns_its_credits() {
    let app = spawn_app().await;
    let person = app.person_with_credits("unlucky", 1).await;
    let id = queued_job(&app, &person).await;
    // The selfie is gone (a fault no retry can mend): early deliveries hand the job back,
    // the last one before the dead-letter queue gives up and returns the credit.
    shared::aws::s3(&app.sdk)
        .delete_object()
        .bucket(&app.resources["SelfieBucket"])
        .key(app.selfie_key(&id).await)
        .send()
        .await
        .unwrap();
    let job = json!({ "generation_id": id }).to_string();
    let first = app.delivery.handle(sqs_event(&job, "m-1", "1")).await;
    assert_eq!(
        first.batch_item_failures.len(),
        1,
        "retried while deliveries remain"
    );
    assert_eq!(app.credits(&person).await, 0);

    app.clock.advance(16 * 60); // past the first worker's lease
    let last = app.delivery.handle(sqs_event(&job, "m-1", "4")).await;
    assert!(last.batch_item_failures.is_empty());
    let generation = app.generation(&person, &id).await;
    assert_eq!(generation.body["status"], json!("failed"));
    assert_eq!(app.credits(&person).await, 1, "the credit went back once");
}

#[tokio::test]
async fn an_upload_that_never_arrives_gives_its_credits_back() {
    let app = spawn_app().await;
    let person = app.person_with_credits("forgetful", 2).await;
    let order = app
        .order(
            &person,
            json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime"}),
        )
        .await;
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    assert_eq!(app.credits(&person).await, 1);

    app.retention.run().await.unwrap();
    assert_eq!(
        app.credits(&person).await,
        1,
        "still within the upload window"
    );

    app.clock.advance(3601);
    app.retention.run().await.unwrap();
    app.retention.run().await.unwrap();
    let generation = app.generation(&person, &id).await;
    assert_eq!(generation.body["status"], json!("failed"));
    assert_eq!(generation.body["failure"], json!("upload_not_received"));
    assert_eq!(
        app.credits(&person).await,
        2,
        "returned once, however often the job runs"
    );
}

#[tokio::test]
async fn when_moderation_stays_unavailable_the_last_delivery_returns_the_credits() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let app = spawn_app().await;
    let person = app.person_with_credits("patient", 1).await;
    let order = app
        .order(&person, json!({"content_type": "image/jpeg", "content_length": selfie_bytes().len(), "style": "anime"}))
        .await;
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, selfie_bytes()).await;

    let openai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/moderations"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": {"message": "The server is overloaded.", "type": "server_error", "param": null, "code": null}
        })))
        .mount(&openai)
        .await;
    let mut config = shared::providers::OpenAiConfig::new(
        secrecy::SecretString::from("sk-test-0123456789abcdef0123456789".to_owned()),
        openai.uri().parse().unwrap(),
    );
    config.retry.max_attempts = 1;
    let moderator =
        shared::providers::Moderator::OpenAi(shared::providers::OpenAiClient::new(config).unwrap());
    let worker = shared::moderation::ModerationWorker::new(
        shared::moderation::ModerationConfig {
            wallets_table: app.table("WalletsTable").to_owned(),
            ledger_table: app.table("LedgerTable").to_owned(),
            generations_table: app.table("GenerationsTable").to_owned(),
            moderation_log_table: app.table("ModerationLogTable").to_owned(),
            selfie_bucket: app.resources["SelfieBucket"].clone(),
            generation_queue_url: app.queue_url("GenerationQueue").await,
            max_upload_bytes: 10 * 1024 * 1024,
            max_receive_count: 5,
            trials_table: app.table("TrialsTable").to_owned(),
            email_from: shared::email::Sender {
                from: "no-reply@anumi.app".into(),
                support: EmailAddress::parse("support@anumi.app").unwrap(),
            },
            app_origin: "https://anumi.app".parse().unwrap(),
        },
        moderator,
        &app.sdk,
        std::sync::Arc::new(app.clock.clone()),
    );
    let event = |receive_count: &str| {
        let mut event = read_event("moderate", "selfie-uploaded.json");
        let mut body: Value =
            serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
        body["Records"][0]["s3"]["bucket"]["name"] = json!(app.resources["SelfieBucket"]);
        body["Records"][0]["s3"]["object"]["key"] =
            json!(format!("selfies/{}/{id}", order_wallet(&order)));
        event["Records"][0]["body"] = json!(body.to_string());
        event["Records"][0]["attributes"]["ApproximateReceiveCount"] = json!(receive_count);
        serde_json::from_value::<SqsEvent>(event).unwrap()
    };
    let early = worker.handle(event("1")).await;
    assert_eq!(
        early.batch_item_failures.len(),
        1,
        "handed back while deliveries remain"
    );
    assert_eq!(app.credits(&person).await, 0);
    let last = worker.handle(event("5")).await;
    assert!(last.batch_item_failures.is_empty());
    let generation = app.generation(&person, &id).await;
    assert_eq!(generation.body["failure"], json!("moderation_unavailable"));
    assert_eq!(app.credits(&person).await, 1, "the credit went back");
}

/// The wallet id in an order's upload URL (`…/selfies/<wallet>/<generation>?…`).
fn order_wallet(order: &Answer) -> String {
    let url = order.body["upload"]["url"].as_str().unwrap();
    let path = url.split('?').next().unwrap();
    let parts: Vec<&str> = path.rsplit('/').collect();
    parts[1].to_owned()
}

/// The mail `to` received whose subject is `subject`.
async fn mail_titled(to: &str, subject: &str) -> Vec<String> {
    sent_mail(to)
        .await
        .into_iter()
        .filter(|(title, _)| title == subject)
        .map(|(_, body)| body)
        .collect()
}

pub(crate) async fn blocked_order(app: &TestApp, person: &Person) -> String {
    let order = app
        .order(person, json!({
            "content_type": "image/png", "content_length": blocked_marker_png().len(), "style": "anime",
        }))
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    let id = order.body["generation_id"].as_str().unwrap().to_owned();
    app.upload(&order, blocked_marker_png()).await;
    assert!(
        app.deliver_upload_event(&id)
            .await
            .batch_item_failures
            .is_empty()
    );
    id
}

#[tokio::test]
async fn a_held_selfie_is_explained_once_in_the_persons_language_and_so_is_its_approval() {
    use shared::email::templates::{review_outcome, selfie_held};
    use shared::locale::Locale;
    let app = spawn_app().await;
    let person = app.person_with_credits("held", 2).await;
    let admin = app.person_with_credits("admin", 0).await;
    let chosen = Call::fixture("locale.json")
        .json(json!({ "locale": "ja" }))
        .cookies(&[&person.session])
        .send(&app)
        .await;
    assert_eq!(chosen.status, 200, "{}", chosen.body);
    let id = blocked_order(&app, &person).await;
    // S3 and SQS deliver at least once: the redelivered event tells no one twice.
    assert!(
        app.deliver_upload_event(&id)
            .await
            .batch_item_failures
            .is_empty()
    );

    let held_subject = selfie_held(Locale::Ja, Some(1), "", None).subject;
    let held = mail_titled(&person.email, &held_subject).await;
    assert_eq!(
        held.len(),
        1,
        "one email: {:?}",
        sent_mail(&person.email).await
    );
    for words in [
        "保留",
        "1クレジットは残高に戻しました",
        "5日以内",
        "削除",
        &format!("/generations/{id}"),
    ] {
        assert!(held[0].contains(words), "{words}: {}", held[0]);
    }

    let view = app.generation(&person, &id).await;
    assert_eq!(view.body["status"], json!("blocked"));
    assert_eq!(view.body["reason"], json!("held_for_review"));
    let blocked_at = shared::clock::Clock::now(&app.clock);
    assert_eq!(
        view.body["review_by"],
        json!(shared::clock::rfc3339(blocked_at + 5 * 24 * 3600))
    );
    assert_eq!(view.body["charge"], json!("returned"));

    for _ in 0..2 {
        let approved = Call::event("admin", "approve.json")
            .route("POST", &format!("/admin/review/{id}/approve"))
            .cookies(&[&admin.session])
            .send_to_admin(&app)
            .await;
        assert_eq!(approved.status, 200, "{}", approved.body);
    }
    let outcome = mail_titled(
        &person.email,
        &review_outcome(Locale::Ja, true, None).subject,
    )
    .await;
    assert_eq!(outcome.len(), 1, "approving twice tells once");
    assert!(outcome[0].contains("問題ありません") && outcome[0].contains("アバターを作成"));
    assert_eq!(
        app.generation(&person, &id).await.body["reason"],
        json!("approved_after_review")
    );
    // A late redelivery of the upload event after the approval sends no held email.
    assert!(
        app.deliver_upload_event(&id)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(mail_titled(&person.email, &held_subject).await.len(), 1);
}

#[tokio::test]
async fn a_confirmed_block_is_told_once_and_the_api_says_the_photo_is_gone() {
    use shared::email::templates::review_outcome;
    use shared::locale::Locale;
    let app = spawn_app().await;
    let person = app.person_with_credits("refused", 1).await;
    let admin = app.person_with_credits("admin", 0).await;
    let id = blocked_order(&app, &person).await;
    let confirmed = Call::event("admin", "confirm.json")
        .route("POST", &format!("/admin/review/{id}/confirm"))
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let again = Call::event("admin", "confirm.json")
        .route("POST", &format!("/admin/review/{id}/confirm"))
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(again.status, 409);
    let told = mail_titled(
        &person.email,
        &review_outcome(Locale::En, false, None).subject,
    )
    .await;
    assert_eq!(told.len(), 1);
    assert!(told[0].contains("deleted") && told[0].contains("Nothing was charged"));
    let held = sent_mail(&person.email)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.contains("held for review"))
        .count();
    assert_eq!(held, 1, "the held email came first");
    let view = app.generation(&person, &id).await;
    assert_eq!(view.body["status"], json!("removed"));
    assert_eq!(view.body["reason"], json!("removed_after_review"));
    assert!(view.body.get("review_by").is_none());
}
