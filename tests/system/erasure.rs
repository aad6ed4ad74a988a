//! Erasure: `POST /me/delete` (or the admin route) is recorded and acknowledged by email;
//! the next retention run erases every item and object that names the person, ends their
//! sessions, sends the closing email and keeps only an email-free proof.

use serde_json::json;

use crate::export::{Seeded, seed};
use crate::helpers::{TestApp, sent_mail, spawn_app};

/// Every table of this test (Scan: tests may, production code may not) and every bucket
/// (keys and contents): where the person's email, wallet id or email hash still appear.
async fn sweep(app: &TestApp, person: &Seeded) -> Vec<String> {
    let needles = [&person.email, &person.wallet_id, &person.email_hash];
    let mut found = Vec::new();
    for (logical_id, table) in &app.tables {
        for item in app.scan(logical_id).await {
            let text = format!("{item:?}");
            if needles.iter().any(|needle| text.contains(needle.as_str())) {
                found.push(format!("{table}: {text}"));
            }
        }
    }
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
            if needles.iter().any(|needle| text.contains(needle.as_str())) {
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
