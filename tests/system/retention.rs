//! retention-cron against the emulation, with the test clock moved forward: each test is
//! named after the policy promise (section 5) it proves.

use std::sync::Arc;

use serde_json::{Value, json};
use shared::clock::Clock;
use shared::config::Stage;
use shared::generations::Generations;
use shared::moderation::log::{LogEntry, ModerationLog};
use shared::providers::{Decision, ModerationVerdict, ProviderKind};
use shared::retention::{RetentionConfig, RetentionJob};
use shared::wallets::Wallets;

use crate::helpers::{TestApp, spawn_app};
use crate::pipeline::{Person, blocked_marker_png, full_order, selfie_bytes};

const DAY: i64 = 24 * 3600;

impl TestApp {
    /// A selfie ordered, uploaded and moderated (allowed); generated too when `generate`.
    pub(crate) async fn allowed_selfie(&self, person: &Person, generate: bool) -> String {
        let order = self.order(person, full_order()).await;
        assert_eq!(order.status, 201, "{}", order.body);
        let id = order.body["generation_id"].as_str().unwrap().to_owned();
        self.upload(&order, selfie_bytes()).await;
        assert!(
            self.deliver_upload_event(&id)
                .await
                .batch_item_failures
                .is_empty()
        );
        if generate {
            self.run_generation_queue().await;
            assert_eq!(
                self.generation(person, &id).await.body["status"],
                json!("ready")
            );
        }
        id
    }

    /// A selfie the moderation stand-in blocks, waiting for review.
    pub(crate) async fn blocked_selfie(&self, person: &Person) -> String {
        let bytes = blocked_marker_png();
        let order = self
            .order(
                person,
                json!({"content_type": "image/png", "content_length": bytes.len(), "style": "anime"}),
            )
            .await;
        let id = order.body["generation_id"].as_str().unwrap().to_owned();
        self.upload(&order, bytes).await;
        self.deliver_upload_event(&id).await;
        assert_eq!(
            self.generation(person, &id).await.body["status"],
            json!("blocked")
        );
        id
    }

    /// An order whose selfie never arrives.
    async fn abandoned_order(&self, person: &Person) -> String {
        let order = self
            .order(
                person,
                json!({"content_type": "image/jpeg", "content_length": 10, "style": "anime"}),
            )
            .await;
        order.body["generation_id"].as_str().unwrap().to_owned()
    }

    fn retention_generations(&self) -> Generations {
        let wallets = Wallets::new(self.dynamodb.clone(), self.table("WalletsTable"));
        Generations::new(
            self.dynamodb.clone(),
            self.table("GenerationsTable"),
            wallets,
        )
    }

    /// Signs the person in again: a session lasts 30 days, less than these tests move time.
    async fn signed_in_again(&self, person: &Person) -> Person {
        Person {
            email: person.email.clone(),
            session: self.sign_in(&person.email).await,
        }
    }

    async fn selfie_exists(&self, id: &str) -> bool {
        let key = self.selfie_key(id).await;
        self.object_exists(&self.resources["SelfieBucket"], &key)
            .await
    }

    /// The deliverable objects a generation's record names.
    async fn deliverable_keys(&self, id: &str) -> Vec<String> {
        let item = self.item_of("GenerationsTable", id).await.unwrap();
        item.get("deliverables")
            .and_then(|d| d.as_m().ok())
            .map(|files| files.values().map(|k| k.as_s().unwrap().clone()).collect())
            .unwrap_or_default()
    }

    async fn deliverables_exist(&self, id: &str) -> bool {
        let keys = self.deliverable_keys(id).await;
        assert!(!keys.is_empty(), "{id} has deliverables");
        for key in keys {
            if !self
                .object_exists(&self.resources["GeneratedBucket"], &key)
                .await
            {
                return false;
            }
        }
        true
    }
}

#[tokio::test]
async fn a_selfie_uploaded_30_days_ago_is_gone_and_one_uploaded_29_days_ago_stays() {
    let app = spawn_app().await;
    let person = app.person_with_credits("thirty", 6).await;
    let old = app.allowed_selfie(&person, true).await;
    app.clock.advance(DAY);
    let newer = app.allowed_selfie(&person, true).await;

    app.clock.advance(29 * DAY);
    let person = app.signed_in_again(&person).await;
    let report = app.retention.run().await.unwrap();
    assert_eq!(report.count("SelfiesDeleted"), 1, "{:?}", report);

    assert!(!app.selfie_exists(&old).await, "30 days after upload: gone");
    assert!(
        app.selfie_exists(&newer).await,
        "29 days after upload: kept"
    );
    // The generation stays and says when its selfie went; the avatars stay with the wallet.
    let record = app.generation(&person, &old).await.body;
    assert_eq!(record["status"], json!("ready"), "{record}");
    assert!(record["selfie_deleted_at"].is_string(), "{record}");
    assert!(record["downloads"]["avatar.png"].is_string());
    assert!(app.generation(&person, &newer).await.body["selfie_deleted_at"].is_null());
    assert!(app.deliverables_exist(&old).await, "generated files stay");

    // A day later the second one's 30 days are up too; the first is not deleted twice.
    app.clock.advance(DAY);
    let report = app.retention.run().await.unwrap();
    assert_eq!(report.count("SelfiesDeleted"), 1);
    assert!(!app.selfie_exists(&newer).await);
    assert!(app.deliverables_exist(&newer).await);
}

#[tokio::test]
async fn a_selfie_due_before_the_next_hourly_run_is_deleted_now() {
    let app = spawn_app().await;
    let person = app.person_with_credits("hourly", 3).await;
    let id = app.allowed_selfie(&person, false).await;

    // Two hours short of day 30: the next run still comes in time.
    app.clock.advance(30 * DAY - 2 * 3600);
    app.retention.run().await.unwrap();
    assert!(app.selfie_exists(&id).await);
    // Within the last hour before day 30: waiting for the next run would be late.
    app.clock.advance(3600 + 60);
    app.retention.run().await.unwrap();
    assert!(!app.selfie_exists(&id).await);
}

#[tokio::test]
async fn a_blocked_selfie_is_gone_on_day_5_and_leaves_the_review_queue() {
    let app = spawn_app().await;
    let person = app.person_with_credits("blocked", 1).await;
    let id = app.blocked_selfie(&person).await;

    app.clock.advance(4 * DAY);
    let report = app.retention.run().await.unwrap();
    assert_eq!(report.count("BlockedSelfiesDeleted"), 0);
    assert!(app.selfie_exists(&id).await, "kept for review on day 4");

    app.clock.advance(DAY);
    let report = app.retention.run().await.unwrap();
    assert_eq!(report.count("BlockedSelfiesDeleted"), 1);
    assert!(!app.selfie_exists(&id).await, "gone on day 5");
    let record = app.generation(&person, &id).await.body;
    assert_eq!(record["status"], json!("removed"));
    assert!(record["selfie_deleted_at"].is_string());
    let queue = app.retention_generations().review_queue(100).await.unwrap();
    assert!(
        queue.iter().all(|g| g.id != id),
        "no longer awaiting review"
    );
    assert_eq!(app.credits(&person).await, 1, "its credit stayed returned");
}

#[tokio::test]
async fn with_the_clock_moved_31_days_retention_deletes_exactly_what_is_due_and_nothing_else() {
    let app = spawn_app().await;
    let ana = app.person_with_credits("ana", 9).await;
    let ben = app.person_with_credits("ben", 4).await;
    let cai = app.person_with_credits("cai", 6).await;

    let ana_ready = app.allowed_selfie(&ana, true).await;
    let ana_queued = app.allowed_selfie(&ana, false).await; // never generated
    let ben_blocked = app.blocked_selfie(&ben).await;
    let ben_abandoned = app.abandoned_order(&ben).await;
    let cai_ready = app.allowed_selfie(&cai, true).await;

    app.clock.advance(31 * DAY);
    let (ana, ben, cai) = (
        app.signed_in_again(&ana).await,
        app.signed_in_again(&ben).await,
        app.signed_in_again(&cai).await,
    );
    // Uploaded after the move: not due for 30 more days.
    let cai_fresh = app.allowed_selfie(&cai, true).await;
    let cai_credits = app.credits(&cai).await;

    let report = app.retention.run().await.unwrap();
    assert_eq!(report.count("SelfiesDeleted"), 3, "{:?}", report);
    assert_eq!(report.count("BlockedSelfiesDeleted"), 1);
    assert_eq!(report.count("AbandonedUploadsReturned"), 1);
    assert_eq!(report.count("SelfieDeleteErrors"), 0);

    for id in [&ana_ready, &ana_queued, &ben_blocked, &cai_ready] {
        assert!(!app.selfie_exists(id).await, "{id} is due: gone");
    }
    assert!(app.selfie_exists(&cai_fresh).await, "not due: kept");
    for id in [&ana_ready, &cai_ready, &cai_fresh] {
        assert!(app.deliverables_exist(id).await, "generated files stay");
    }
    assert_eq!(
        app.generation(&ben, &ben_abandoned).await.body["failure"],
        json!("upload_not_received")
    );
    assert_eq!(
        app.credits(&ben).await,
        4,
        "blocked and abandoned: returned"
    );
    assert_eq!(app.credits(&cai).await, cai_credits, "nothing else moved");
    assert_eq!(app.credits(&ana).await, 9 - 3 - 3, "charges stand");

    // The next run finds nothing more.
    let again = app.retention.run().await.unwrap();
    for metric in [
        "SelfiesDeleted",
        "BlockedSelfiesDeleted",
        "AbandonedUploadsReturned",
    ] {
        assert_eq!(again.count(metric), 0, "{metric}");
    }
}

#[tokio::test]
async fn two_concurrent_retention_runs_delete_and_return_everything_once() {
    let app = spawn_app().await;
    let person = app.person_with_credits("twice", 20).await;
    let mut allowed = Vec::new();
    for _ in 0..4 {
        allowed.push(app.allowed_selfie(&person, false).await);
    }
    let blocked = app.blocked_selfie(&person).await;
    let abandoned = [
        app.abandoned_order(&person).await,
        app.abandoned_order(&person).await,
    ];
    let before = app.credits(&person).await;

    app.clock.advance(31 * DAY);
    let person = app.signed_in_again(&person).await;
    let (first, second) = tokio::join!(app.retention.run(), app.retention.run());
    let (first, second) = (first.unwrap(), second.unwrap());
    let total = |metric: &str| first.count(metric) + second.count(metric);
    assert_eq!(total("SelfiesDeleted"), 4, "{first:?} {second:?}");
    assert_eq!(total("BlockedSelfiesDeleted"), 1);
    assert_eq!(total("AbandonedUploadsReturned"), 2);
    assert_eq!(total("SelfieDeleteErrors"), 0);

    for id in allowed.iter().chain([&blocked]) {
        assert!(!app.selfie_exists(id).await);
        assert!(
            app.generation(&person, id).await.body["selfie_deleted_at"].is_string(),
            "{id}"
        );
    }
    for id in &abandoned {
        assert_eq!(
            app.generation(&person, id).await.body["charge"],
            json!("returned")
        );
    }
    assert_eq!(
        app.credits(&person).await,
        before + 2,
        "each abandoned order's credit returned once"
    );
}

#[tokio::test]
async fn an_approved_false_positive_is_kept_for_30_days_from_its_upload() {
    let app = spawn_app().await;
    let person = app.person_with_credits("approved", 2).await;
    let admin = app.person_with_credits("admin", 0).await;
    let id = app.blocked_selfie(&person).await;
    let approved = crate::helpers::Call::event("admin", "approve.json")
        .route("POST", &format!("/admin/review/{id}/approve"))
        .cookies(&[&admin.session])
        .send_to_admin(&app)
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);

    app.clock.advance(6 * DAY);
    app.retention.run().await.unwrap();
    assert!(
        app.selfie_exists(&id).await,
        "no longer under the 5-day rule"
    );
    app.clock.advance(24 * DAY);
    app.retention.run().await.unwrap();
    assert!(!app.selfie_exists(&id).await, "30 days after upload: gone");
}

#[tokio::test]
async fn production_refuses_a_clock_offset_and_other_stages_honour_it() {
    let app = spawn_app().await;
    let person = app.person_with_credits("offset", 3).await;
    let id = app.allowed_selfie(&person, false).await;
    let event = |offset: i64| -> Value {
        json!({"detail-type": "Scheduled Event", "source": "aws.events",
               "detail": {"clock_offset_seconds": offset}})
    };
    // The test stack runs as dev: the offset moves this run only.
    app.retention.handle(&event(31 * DAY)).await.unwrap();
    assert!(!app.selfie_exists(&id).await);

    let prod = RetentionJob::new(
        RetentionConfig {
            stage: Stage::Prod,
            ..RetentionConfig::from_env(&app.function_env["RetentionCronFunction"]).unwrap()
        },
        &app.sdk,
        Arc::new(app.clock.clone()),
    );
    let refused = prod.handle(&event(DAY)).await;
    assert!(refused.is_err(), "{refused:?}");
}

/// A moderation-log entry decided at `decided_at` for a new generation id of `wallet`.
fn log_entry(wallet: &str, decided_at: i64) -> LogEntry {
    let verdict = ModerationVerdict {
        decision: Decision::Allowed,
        scores: [("violence".to_owned(), 0.01)].into_iter().collect(),
        flagged_categories: vec![],
        model: "omni-moderation-latest".to_owned(),
        provider: ProviderKind::LocalStandIn,
        limitation: None,
    };
    let id = uuid::Uuid::new_v4().to_string();
    LogEntry::new(
        &id,
        wallet,
        format!("s3://b/selfies/{wallet}/{id}"),
        &verdict,
        decided_at,
    )
}

#[tokio::test]
async fn moderation_logs_are_kept_90_days_and_an_expired_entry_is_never_read() {
    let app = spawn_app().await;
    let log = ModerationLog::new(app.dynamodb.clone(), app.table("ModerationLogTable"));
    let now = app.clock.now();
    let expired = log.record(log_entry("w1", now - 89 * DAY)).await.unwrap();
    let current = log.record(log_entry("w1", now - 87 * DAY)).await.unwrap();

    // The TTL written lands early enough that DynamoDB's late deletion stays inside 90 days.
    for entry in [&expired, &current] {
        let item = app
            .item_of("ModerationLogTable", &entry.generation_id)
            .await
            .unwrap();
        let ttl: i64 = item["ttl"].as_n().unwrap().parse().unwrap();
        assert_eq!(ttl, entry.decided_at + 88 * DAY);
    }
    // DynamoDB (and the emulation) may still hold the expired item; no read returns it.
    assert!(
        app.item_of("ModerationLogTable", &expired.generation_id)
            .await
            .is_some()
    );
    assert_eq!(log.get(&expired.generation_id, now).await.unwrap(), None);
    assert_eq!(
        log.get(&current.generation_id, now).await.unwrap(),
        Some(current.clone())
    );
    let listed = log.list_for_wallet("w1", now).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&current));
    // Two days on, the other one has expired too.
    let later = now + 2 * DAY;
    assert!(log.list_for_wallet("w1", later).await.unwrap().is_empty());
    assert_eq!(log.get(&current.generation_id, later).await.unwrap(), None);
}
