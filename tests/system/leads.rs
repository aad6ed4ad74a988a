use shared::email::EmailAddress;
use shared::leads::{Captured, LeadList, LeadSource};

use crate::helpers::{now, sdk, spawn_app};

#[tokio::test]
async fn one_lead_row_per_email_with_its_first_source_and_no_opt_in() {
    let app = spawn_app().await;
    let email = app.email("lead");
    let first_seen = now(&app);
    app.sign_in(&email).await;
    app.clock.advance(3600);
    app.sign_in(&email.to_uppercase()).await;

    let leads = LeadList::new(shared::aws::dynamodb(&sdk().await), app.table("LeadsTable"));
    let again = leads
        .capture(
            &EmailAddress::parse(&email).unwrap(),
            LeadSource::RefundForm,
            now(&app),
        )
        .await
        .unwrap();
    assert_eq!(again, Captured::AlreadyListed);

    let rows = app.scan("LeadsTable").await;
    assert_eq!(rows.len(), 1, "one row per normalized email");
    let row = &rows[0];
    assert_eq!(row["email"].as_s().unwrap(), &email.to_lowercase());
    assert_eq!(row["first_source"].as_s().unwrap(), "sign-in");
    assert_eq!(
        row["first_captured_at"].as_n().unwrap(),
        &first_seen.to_string()
    );
    assert_eq!(row["marketing_opt_in"].as_bool().unwrap(), &false);
    assert!(
        !row.contains_key("ttl"),
        "the lead list has no automatic expiry"
    );
}

#[tokio::test]
async fn concurrent_captures_keep_exactly_one_first_source() {
    let app = spawn_app().await;
    let leads = LeadList::new(shared::aws::dynamodb(&sdk().await), app.table("LeadsTable"));
    let email = EmailAddress::parse(&app.email("both")).unwrap();
    let sources = [
        LeadSource::TrialSaveLink,
        LeadSource::RefundForm,
        LeadSource::SignIn,
    ];
    let results = futures_util::future::join_all(
        sources
            .iter()
            .cycle()
            .take(9)
            .map(|source| leads.capture(&email, *source, 0)),
    )
    .await;
    let new = results
        .iter()
        .filter(|r| matches!(r, Ok(Captured::New)))
        .count();
    assert_eq!(new, 1);
    assert_eq!(app.scan("LeadsTable").await.len(), 1);
}
