//! Erasure: `POST /me/delete` (or the admin route) is recorded and acknowledged by email;
//! the next retention run erases every item and object that names the person, ends their
//! sessions, sends the closing email and keeps only an email-free proof.

use serde_json::json;

use crate::export::{Seeded, rows, seed, seed_everywhere, unzip};
use crate::helpers::{Call, TestApp, sent_mail, spawn_app};

/// Every table of this test (Scan: tests may, production code may not) and every bucket
/// (keys and contents): where the person's email, wallet id, email hash or other ids
/// (device, trial) still appear. The ledger and `ORDER#` rows are the tax record that
/// erasure keeps: the wallet id may stay there, nothing else that names the person.
async fn sweep(app: &TestApp, person: &Seeded) -> Vec<String> {
    sweep_with(app, person, true).await
}

/// Like `sweep`, without the tax exception: every place that names the person at all.
async fn sweep_everything(app: &TestApp, person: &Seeded) -> Vec<String> {
    sweep_with(app, person, false).await
}

fn is_tax_row(logical_id: &str, text: &str) -> bool {
    logical_id == "LedgerTable" || (logical_id == "OrdersTable" && text.contains("S(\"ORDER#"))
}

async fn sweep_with(app: &TestApp, person: &Seeded, tax_exempt: bool) -> Vec<String> {
    let mut names: Vec<&String> = vec![&person.email, &person.email_hash];
    names.extend(&person.extra);
    let mut found = Vec::new();
    for (logical_id, table) in &app.tables {
        for item in app.scan(logical_id).await {
            let text = format!("{item:?}");
            let wallet_named = text.contains(person.wallet_id.as_str())
                && !(tax_exempt && is_tax_row(logical_id, &text));
            if wallet_named || names.iter().any(|needle| text.contains(needle.as_str())) {
                found.push(format!("{logical_id} {table}: {text}"));
            }
        }
    }
    names.push(&person.wallet_id);
    let s3 = shared::aws::s3(&app.sdk);
    for (logical_id, bucket) in &app.resources {
        if !logical_id.ends_with("Bucket") {
            continue;
        }
        let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
        for object in listed.contents() {
            let key = object.key().unwrap();
            let body = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            let bytes = body.body.collect().await.unwrap().into_bytes();
            let text = format!("{key} {}", String::from_utf8_lossy(&bytes));
            if names.iter().any(|needle| text.contains(needle.as_str())) {
                found.push(format!("{bucket}/{key}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn erasure_leaves_nothing_that_names_the_person_and_spares_everyone_else() {
    let app = spawn_app().await;
    let person = seed(&app, "erin").await;
    let other = seed(&app, "frank").await;
    // An export archive of the person exists too: it goes with the erasure.
    app.rights_call("export.json", Some(&person.session), None)
        .await;
    app.run_export_queue().await;
    assert!(
        !sweep(&app, &person).await.is_empty(),
        "the sweep finds seeded data"
    );

    let answer = app
        .rights_call("delete.json", Some(&person.session), None)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let request_id = answer.body["request_id"].as_str().unwrap().to_owned();
    let again = app
        .rights_call("delete.json", Some(&person.session), None)
        .await;
    assert_eq!(
        again.body["request_id"],
        json!(request_id),
        "one request per person"
    );
    let mail = sent_mail(&person.email).await;
    let acks = mail
        .iter()
        .filter(|(subject, _)| subject.contains("deletion request"))
        .count();
    assert_eq!(acks, 1, "acknowledged once, at once");

    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ErasuresCompleted"), 1);

    assert_eq!(sweep(&app, &person).await, Vec::<String>::new());
    // The session issued before the erasure is no session any more.
    assert_eq!(app.me(&person.session).await.status, 401);
    let mail = sent_mail(&person.email).await;
    assert!(
        mail.last().unwrap().0.contains("deleted"),
        "the closing email is the last one: {:?}",
        mail.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    // The proof of erasure stays, without anything that names the person.
    let proof = app
        .dynamodb
        .get_item()
        .table_name(app.table("PrivacyRequestsTable"))
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ERASED#{request_id}")),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("a proof of erasure");
    assert!(proof.contains_key("completed_at"));

    // The other person is untouched.
    assert_eq!(app.me(&other.session).await.status, 200);
    let others = sweep(&app, &other).await;
    for place in [
        "Wallets",
        "Leads",
        "Generations",
        "ModerationLog",
        "selfies/",
        "generated/",
    ] {
        assert!(
            others.iter().any(|found| found.contains(place)),
            "{place} of the other person kept: {others:?}"
        );
    }

    // A second run has nothing left to do.
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ErasuresCompleted"), 0);
}

#[tokio::test]
async fn two_concurrent_runs_erase_once_and_send_one_closing_email() {
    let app = spawn_app().await;
    let person = seed(&app, "gina").await;
    let admin = app.sign_in(&app.email("admin")).await;
    let answer = app
        .rights_call(
            "admin-delete.json",
            Some(&admin),
            Some(json!({"email": person.email})),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);

    let (a, b) = tokio::join!(app.retention.run(), app.retention.run());
    let completed = a.unwrap().count("ErasuresCompleted") + b.unwrap().count("ErasuresCompleted");
    assert_eq!(completed, 1);
    assert_eq!(sweep(&app, &person).await, Vec::<String>::new());
    let closing = sent_mail(&person.email)
        .await
        .iter()
        .filter(|(subject, _)| subject.contains("are deleted"))
        .count();
    assert_eq!(closing, 1);
}

#[tokio::test]
async fn an_erasure_cut_short_is_finished_by_the_next_run() {
    let app = spawn_app().await;
    let person = seed(&app, "hank").await;
    app.rights_call("delete.json", Some(&person.session), None)
        .await;
    // A run that died after deleting the wallet alone: the rest is still there.
    app.dynamodb
        .delete_item()
        .table_name(app.table("WalletsTable"))
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("WALLET#{}", person.wallet_id)),
        )
        .send()
        .await
        .unwrap();
    assert!(!sweep(&app, &person).await.is_empty());
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ErasuresCompleted"), 1);
    assert_eq!(sweep(&app, &person).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_admin_erases_an_email_that_never_signed_in() {
    let app = spawn_app().await;
    let email = app.email("lead-only");
    // A code asked for but never used: a lead row, a code and rate-limit windows, no wallet.
    assert_eq!(app.start(&email).await.status, 202);
    let person = Seeded {
        email_hash: crate::export::email_hash(&email),
        wallet_id: "no-wallet-".to_owned() + &app.domain,
        email: email.clone(),
        session: String::new(),
        generation_id: String::new(),
        selfie: Vec::new(),
        avatar: Vec::new(),
        extra: Vec::new(),
    };
    assert!(!sweep(&app, &person).await.is_empty());
    let admin = app.sign_in(&app.email("admin")).await;
    let answer = app
        .rights_call(
            "admin-delete.json",
            Some(&admin),
            Some(json!({"email": email})),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    app.retention.run().await.unwrap();
    assert_eq!(sweep(&app, &person).await, Vec::<String>::new());
    assert!(
        sent_mail(&email)
            .await
            .last()
            .unwrap()
            .0
            .contains("are deleted")
    );
}

#[tokio::test]
async fn erasure_reaches_every_store_of_billing_trials_and_engagement_and_keeps_the_tax_rows() {
    let server = crate::trial::siteverify().await;
    let app =
        crate::trial::trial_app(shared::providers::turnstile::DUMMY_SECRET_PASSES, &server).await;
    let person = seed_everywhere(&app, "pia", "203.0.113.31").await;
    let other = seed_everywhere(&app, "quin", "203.0.113.32").await;
    let me = &person.seeded;
    let before = sweep(&app, me).await;
    for place in [
        "AnalyticsTable",
        "FeedbackTable",
        "RefundRequestsTable",
        "TrialsTable",
        "GenerationsTable",
        "OrdersTable",
        "generated/trial-",
    ] {
        assert!(
            before.iter().any(|found| found.contains(place)),
            "the sweep sees the seeded {place}: {before:?}"
        );
    }

    let answer = app
        .rights_call("delete.json", Some(&me.session), None)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ErasuresCompleted"), 1);

    assert_eq!(sweep(&app, me).await, Vec::<String>::new());
    // The tax record stays: the ledger entry and the order, pseudonymous (no email; the
    // sweep above found no email, email hash or device id anywhere).
    let kept = sweep_everything(&app, me).await;
    assert!(
        kept.iter()
            .any(|row| row.starts_with("LedgerTable ") && row.contains("purchase")),
        "{kept:?}"
    );
    assert!(
        kept.iter()
            .any(|row| row.starts_with("OrdersTable ") && row.contains(&person.order_id)),
        "{kept:?}"
    );
    assert!(
        kept.iter()
            .all(|row| row.starts_with("LedgerTable ") || row.starts_with("OrdersTable ")),
        "{kept:?}"
    );
    assert_eq!(app.ledger().balance(&me.wallet_id).await.unwrap(), 10);

    // The other person keeps everything, in every store.
    let theirs = sweep_everything(&app, &other.seeded).await;
    for place in [
        "WalletsTable",
        "LedgerTable",
        "OrdersTable",
        "AnalyticsTable",
        "FeedbackTable",
        "RefundRequestsTable",
        "TrialsTable",
        "generated/trial-",
    ] {
        assert!(
            theirs.iter().any(|found| found.contains(place)),
            "{place} of the other person kept: {theirs:?}"
        );
    }
    // And their export still holds their analytics events.
    app.rights_call("export.json", Some(&other.seeded.session), None)
        .await;
    app.run_export_queue().await;
    let files = unzip(&app.download_from_mail(&other.seeded.email).await.unwrap());
    assert_eq!(rows(&files, "analytics_events").len(), 2);
}

/// A person who changed their email twice: what they left under each address.
struct Addresses {
    a: String,
    b: String,
    c: String,
}

async fn change_email_to(app: &TestApp, session: &str, new: &str) -> String {
    app.clock.advance(61);
    let asked = app
        .rights_call(
            "email.json",
            Some(session),
            Some(json!({ "new_email": new })),
        )
        .await;
    assert_eq!(asked.status, 202, "{}", asked.body);
    let code = crate::helpers::latest_code(new).await;
    let moved = app
        .rights_call(
            "email-verify.json",
            Some(session),
            Some(json!({ "new_email": new, "code": code })),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    moved.cookie("session").expect("the caller's new session")
}

/// Refund form, feedback with the typed address, signed out (what anyone can send).
async fn typed_under(app: &TestApp, address: &str, reason: &str) {
    let refund = Call::event("engagement", "refund-request.json")
        .without_header("idempotency-key")
        .json(json!({"email": address, "order_id": "ord-1", "reason": reason}))
        .send_to_engagement(app)
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    let feedback = Call::event("engagement", "feedback.json")
        .json(json!({"message": format!("feedback {reason}"), "page": "/create", "email": address}))
        .cookies(&[])
        .send_to_engagement(app)
        .await;
    assert_eq!(feedback.status, 201, "{}", feedback.body);
}

async fn saved_trial(app: &TestApp, address: &str, ip: &str) -> (String, String) {
    let device = uuid::Uuid::new_v4().to_string();
    let trial = app
        .start_trial(crate::trial::trial_body(&device, Some(address)), ip)
        .await;
    assert_eq!(trial.status, 201, "{}", trial.body);
    (device, trial.body["trial_id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_person_is_every_address_their_wallet_has_had_for_export_and_erasure() {
    let server = crate::trial::siteverify().await;
    let app =
        crate::trial::trial_app(shared::providers::turnstile::DUMMY_SECRET_PASSES, &server).await;
    let to = Addresses {
        a: app.email("ada"),
        b: app.email("ada.b"),
        c: app.email("ada.c"),
    };
    let mut needles = Vec::new();

    // Under A: signed-in analytics, an export (archive and emailed link), the refund form
    // and feedback with the typed address, a trial saved with it.
    let session = app.sign_in(&to.a).await;
    let wallet_id = app
        .wallets()
        .find_by_email(&shared::email::EmailAddress::parse(&to.a).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let device = uuid::Uuid::new_v4().to_string();
    let event = Call::event("engagement", "event.json")
        .json(
            json!({"name": "pricing_viewed", "device_id": device, "context": {"page": "/pricing"}}),
        )
        .cookies(&[&session])
        .send_to_engagement(&app)
        .await;
    assert_eq!(event.status, 202, "{}", event.body);
    assert_eq!(
        app.rights_call("export.json", Some(&session), None)
            .await
            .status,
        202
    );
    assert_eq!(app.run_export_queue().await, 1);
    assert!(
        app.download_from_mail(&to.a).await.is_ok(),
        "A's link works"
    );
    typed_under(&app, &to.a, "reason typed under A").await;
    let (device_a, trial_a) = saved_trial(&app, &to.a, "203.0.113.41").await;

    // Under B: the same again, a sign-in code asked for the old address (lead row, code
    // and limits under A again), and an erasure request.
    let session = change_email_to(&app, &session, &to.b).await;
    typed_under(&app, &to.b, "reason typed under B").await;
    let (device_b, trial_b) = saved_trial(&app, &to.b, "203.0.113.42").await;
    app.clock.advance(61);
    assert_eq!(app.start(&to.a).await.status, 202);
    let erasure = app.rights_call("delete.json", Some(&session), None).await;
    assert_eq!(erasure.status, 202, "{}", erasure.body);
    let erasure_id = erasure.body["request_id"].as_str().unwrap().to_owned();

    // Under C: more, a second erasure request, then the export.
    let session = change_email_to(&app, &session, &to.c).await;
    typed_under(&app, &to.c, "reason typed under C").await;
    assert_eq!(
        app.rights_call("delete.json", Some(&session), None)
            .await
            .status,
        202
    );
    assert_eq!(
        app.rights_call("export.json", Some(&session), None)
            .await
            .status,
        202
    );
    assert_eq!(app.run_export_queue().await, 1);
    let files = unzip(&app.download_from_mail(&to.c).await.expect("C's link"));

    // Every record, the new ones included, in its documented shape.
    crate::export::assert_documented(&files);
    let wallet = &rows(&files, "wallet")[0];
    assert_eq!(wallet["email"], json!(to.c));
    let former: Vec<&str> = wallet["former_emails"]
        .as_array()
        .expect("the former addresses")
        .iter()
        .map(|entry| entry["email"].as_str().unwrap())
        .collect();
    assert_eq!(former, [to.a.as_str(), to.b.as_str()]);
    let reasons: Vec<String> = rows(&files, "refund_requests")
        .iter()
        .map(|row| row["reason"].as_str().unwrap().to_owned())
        .collect();
    for typed in ["A", "B", "C"] {
        let reason = format!("reason typed under {typed}");
        assert!(reasons.contains(&reason), "{reason}: {reasons:?}");
    }
    assert_eq!(rows(&files, "feedback").len(), 3);
    let trials: Vec<String> = rows(&files, "trials")
        .iter()
        .filter(|row| row["record"] == json!("trial"))
        .filter_map(|row| row["trial_id"].as_str().map(str::to_owned))
        .collect();
    for trial in [&trial_a, &trial_b] {
        assert!(trials.contains(trial), "{trials:?}");
    }
    let leads: Vec<String> = rows(&files, "lead")
        .iter()
        .map(|row| row["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(leads.len(), 2, "{leads:?}");
    assert!(leads.contains(&to.a) && leads.contains(&to.c));
    let hash_a = crate::export::email_hash(&to.a);
    assert!(
        rows(&files, "one_time_codes")
            .iter()
            .any(|code| code["email_hash"] == json!(hash_a)),
        "the code asked for A after the change"
    );
    let exports: Vec<String> = rows(&files, "exports")
        .iter()
        .map(|row| row["email"].as_str().unwrap().to_owned())
        .collect();
    assert!(exports.contains(&to.a), "{exports:?}");
    assert_eq!(rows(&files, "erasure_requests").len(), 2);
    assert!(!rows(&files, "analytics_events").is_empty());

    // The erasure: both requests are one person's; the older is carried out.
    let run = app.retention.run().await.unwrap();
    assert_eq!(run.count("ErasuresCompleted"), 1);
    needles.extend([
        to.a.clone(),
        to.b.clone(),
        crate::export::email_hash(&to.a),
        crate::export::email_hash(&to.b),
        device.clone(),
        device_a,
        device_b,
        trial_a,
        trial_b,
    ]);
    needles.extend(["A", "B", "C"].map(|typed| format!("reason typed under {typed}")));
    let person = Seeded {
        email_hash: crate::export::email_hash(&to.c),
        email: to.c.clone(),
        wallet_id,
        session: session.clone(),
        generation_id: String::new(),
        selfie: Vec::new(),
        avatar: Vec::new(),
        extra: needles,
    };
    assert_eq!(sweep(&app, &person).await, Vec::<String>::new());
    for address in [&to.a, &to.c] {
        let dead = app
            .download_from_mail(address)
            .await
            .expect_err("the emailed link is dead");
        assert_eq!((dead.status, dead.error_code()), (404, "export_not_found"));
    }
    assert_eq!(app.me(&session).await.status, 401);
    // The closing email goes where the person is now.
    assert!(sent_mail(&to.c).await.last().unwrap().0.contains("deleted"));

    // The proof counts what went, per store.
    let proofs: Vec<_> = app
        .scan("PrivacyRequestsTable")
        .await
        .into_iter()
        .filter(|item| item["pk"].as_s().unwrap().starts_with("ERASED#"))
        .collect();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0]["request_id"].as_s().unwrap(), &erasure_id);
    let counts = proofs[0]["deleted"].as_m().unwrap();
    let count = |store: &str| -> i64 { counts[store].as_n().unwrap().parse().unwrap() };
    assert_eq!(count("refund_requests"), 3);
    assert_eq!(count("feedback"), 3);
    assert_eq!(count("lead"), 2, "A's and C's rows (B's moved to C)");
    // Two export records and their two archives.
    assert_eq!(count("exports"), 4);
    // C's request, fulfilled by this erasure; B's is replaced by the proof.
    assert_eq!(count("erasure_requests"), 1);
    // Each trial's record and device claim.
    assert_eq!(count("trials"), 4);
    // The wallet and the pointer of its current address.
    assert_eq!(count("wallet"), 2);
}
