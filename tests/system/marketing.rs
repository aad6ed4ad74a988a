//! Marketing consent: explicit opt-in and opt-out with their times, the signed one-click
//! unsubscribe link, and marketing email only to opted-in addresses with RFC 8058 headers.

use aws_sdk_dynamodb::types::AttributeValue;
use secrecy::SecretString;
use serde_json::json;
use shared::clock::rfc3339;
use shared::email::{Email, EmailAddress, Mailer};
use shared::leads::{LeadList, LeadSource};
use shared::locale::Locale;
use shared::marketing::{
    Consent, ConsentVia, MarketingMailer, MarketingOutcome, UnsubscribeTokens,
};

use crate::helpers::{Call, TestApp, now, sent_raw_mail, spawn_app};

fn tokens(app: &TestApp) -> UnsubscribeTokens {
    UnsubscribeTokens::new(SecretString::from(
        app.engagement_env["UNSUBSCRIBE_KEY"].clone(),
    ))
}

fn consent(app: &TestApp) -> Consent {
    Consent::new(app.dynamodb.clone(), app.table("LeadsTable"))
}

fn leads(app: &TestApp) -> LeadList {
    LeadList::new(app.dynamodb.clone(), app.table("LeadsTable"))
}

fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

async fn lead_row(app: &TestApp, address: &str) -> Option<shared::store::Item> {
    app.scan("LeadsTable")
        .await
        .into_iter()
        .find(|row| row["email"].as_s().unwrap() == address)
}

fn history(row: &shared::store::Item) -> Vec<(bool, i64, String)> {
    row.get("consent_history")
        .map(|list| {
            list.as_l()
                .unwrap()
                .iter()
                .map(|entry| {
                    let entry = entry.as_m().unwrap();
                    (
                        *entry["opt_in"].as_bool().unwrap(),
                        entry["at"].as_n().unwrap().parse().unwrap(),
                        entry["via"].as_s().unwrap().clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn choose(app: &TestApp, cookie: &str, opt_in: bool) -> crate::helpers::Answer {
    Call::event("engagement", "marketing.json")
        .json(json!({ "opt_in": opt_in }))
        .cookies(&[cookie])
        .send_to_engagement(app)
        .await
}

#[tokio::test]
async fn opt_in_and_out_are_explicit_and_recorded_with_their_time() {
    let app = spawn_app().await;
    let address = app.email("consent");
    let cookie = app.sign_in(&address).await;
    let state = Call::event("engagement", "marketing.json")
        .route("GET", "/me/marketing")
        .cookies(&[&cookie])
        .send_to_engagement(&app)
        .await;
    assert_eq!(state.status, 200);
    assert_eq!(state.body["opt_in"], false, "signing in never opts in");

    let opted_in_at = now(&app);
    let answer = choose(&app, &cookie, true).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["opt_in"], true);
    assert_eq!(answer.body["opt_in_at"], rfc3339(opted_in_at));

    app.clock.advance(86_400);
    let opted_out_at = now(&app);
    let answer = choose(&app, &cookie, false).await;
    assert_eq!(answer.body["opt_in"], false);
    assert_eq!(answer.body["opt_in_at"], rfc3339(opted_in_at));
    assert_eq!(answer.body["opt_out_at"], rfc3339(opted_out_at));
    // Repeating a choice records nothing new.
    app.clock.advance(60);
    assert_eq!(choose(&app, &cookie, false).await.status, 200);

    let row = lead_row(&app, &address).await.unwrap();
    assert_eq!(
        history(&row),
        [
            (true, opted_in_at, "account".to_owned()),
            (false, opted_out_at, "account".to_owned())
        ]
    );
    assert_eq!(row["first_source"].as_s().unwrap(), "sign-in");

    let anonymous = Call::event("engagement", "marketing.json")
        .json(json!({ "opt_in": true }))
        .send_to_engagement(&app)
        .await;
    assert_eq!(anonymous.status, 401);
    let bad_body = Call::event("engagement", "marketing.json")
        .json(json!({ "opt_in": "yes" }))
        .cookies(&[&cookie])
        .send_to_engagement(&app)
        .await;
    assert_eq!(bad_body.error_code(), "invalid_field");
}

#[tokio::test]
async fn choosing_creates_the_lead_row_when_the_wallet_email_has_none() {
    let app = spawn_app().await;
    let address = app.email("norow");
    let cookie = app.sign_in(&address).await;
    app.dynamodb
        .delete_item()
        .table_name(app.table("LeadsTable"))
        .key("email", AttributeValue::S(address.clone()))
        .send()
        .await
        .unwrap();
    let answer = choose(&app, &cookie, true).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let row = lead_row(&app, &address).await.expect("the row is created");
    assert_eq!(row["first_source"].as_s().unwrap(), "sign-in");
    assert_eq!(row["marketing_opt_in"].as_bool().unwrap(), &true);
}

/// A refund-form lead (never signed in) that opted in earlier.
async fn opted_in_lead(app: &TestApp, name: &str) -> EmailAddress {
    let address = email(&app.email(name));
    leads(app)
        .capture(&address, LeadSource::RefundForm, now(app))
        .await
        .unwrap();
    consent(app)
        .set(&address, true, ConsentVia::Account, now(app))
        .await
        .unwrap();
    address
}

fn unsubscribe_post(token: &str) -> Call {
    Call::event("engagement", "unsubscribe.json").query(&[("token", token)])
}

#[tokio::test]
async fn the_link_confirms_on_get_and_unsubscribes_on_one_click_post_without_sign_in() {
    let app = spawn_app().await;
    let address = opted_in_lead(&app, "listed").await;
    let token = tokens(&app).token(&address);

    // GET changes nothing: mail scanners follow links.
    let (status, headers, page) = Call::event("engagement", "unsubscribe-page.json")
        .query(&[("token", &token)])
        .page_from_engagement(&app)
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    // Relative, so it posts back to this route whatever prefix the API sits under.
    assert!(page.contains(&format!("action=\"?token={token}\"")));
    assert!(page.contains("name=\"List-Unsubscribe\" value=\"One-Click\""));
    assert!(page.contains(address.as_str()));
    let row = lead_row(&app, address.as_str()).await.unwrap();
    assert_eq!(row["marketing_opt_in"].as_bool().unwrap(), &true);

    app.clock.advance(3600);
    let at = now(&app);
    let answer = unsubscribe_post(&token).send_to_engagement(&app).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, json!({ "status": "unsubscribed" }));
    let row = lead_row(&app, address.as_str()).await.unwrap();
    assert_eq!(row["marketing_opt_in"].as_bool().unwrap(), &false);
    assert_eq!(row["marketing_opt_out_at"].as_n().unwrap(), &at.to_string());
    assert_eq!(
        history(&row).last().unwrap(),
        &(false, at, "unsubscribe-link".to_owned())
    );

    // Idempotent: a second click answers the same and records nothing more.
    app.clock.advance(60);
    let again = unsubscribe_post(&token).send_to_engagement(&app).await;
    assert_eq!(
        (again.status, again.body.clone()),
        (200, answer.body.clone())
    );
    let row = lead_row(&app, address.as_str()).await.unwrap();
    assert_eq!(history(&row).len(), 2);

    // The browser path: the confirmation page's form, answered with a page.
    let (status, _, page) = unsubscribe_post(&token)
        .header("accept", "text/html")
        .page_from_engagement(&app)
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("unsubscribed"));

    // A genuine token for an address not on the list: the same answer, nothing created.
    let stranger = email(&app.email("stranger"));
    let answer = unsubscribe_post(&tokens(&app).token(&stranger))
        .send_to_engagement(&app)
        .await;
    assert_eq!(
        (answer.status, answer.body),
        (200, json!({ "status": "unsubscribed" }))
    );
    assert!(lead_row(&app, stranger.as_str()).await.is_none());
}

#[tokio::test]
async fn forged_tokens_and_bodies_without_one_click_are_refused() {
    let app = spawn_app().await;
    let address = opted_in_lead(&app, "target").await;
    let other_key = UnsubscribeTokens::new(SecretString::from(
        "someone-elses-key-0123456789abcdef".to_owned(),
    ));
    let genuine = tokens(&app).token(&address);
    let (_, mac) = genuine.rsplit_once('.').unwrap();
    let victim = tokens(&app).token(&email(&app.email("victim")));
    let (victim_prefix, _) = victim.rsplit_once('.').unwrap();
    for forged in [
        other_key.token(&address),
        format!("{victim_prefix}.{mac}"),
        "v1.abc.def".to_owned(),
        String::new(),
    ] {
        let answer = unsubscribe_post(&forged).send_to_engagement(&app).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (400, "invalid_token"),
            "{forged}"
        );
        let (status, _, _) = Call::event("engagement", "unsubscribe-page.json")
            .query(&[("token", &forged)])
            .page_from_engagement(&app)
            .await;
        assert_eq!(status, 400);
    }
    let no_one_click = unsubscribe_post(&genuine).body("List-Unsubscribe=Later");
    let answer = no_one_click.send_to_engagement(&app).await;
    assert_eq!(answer.error_code(), "invalid_unsubscribe_body");
    let row = lead_row(&app, address.as_str()).await.unwrap();
    assert_eq!(row["marketing_opt_in"].as_bool().unwrap(), &true);
}

fn newsletter() -> Email {
    Email {
        locale: shared::locale::Locale::Ja,
        subject: "Anumi: 新しいスタイル".to_owned(),
        text: "Watercolor is here.".to_owned(),
        html: "<!doctype html><html><body><p>Watercolor is here.</p></body></html>".to_owned(),
    }
}

#[tokio::test]
async fn marketing_email_goes_only_to_opted_in_unrestricted_addresses_with_rfc8058_headers() {
    let app = spawn_app().await;
    let env = &app.engagement_env;
    let marketing = MarketingMailer::new(
        Mailer::new(
            shared::aws::sesv2(&app.sdk),
            &shared::email::Sender::from_env(env).unwrap(),
        ),
        consent(&app),
        tokens(&app),
        env["APP_ORIGIN"].parse().unwrap(),
        env["API_ORIGIN"].parse().unwrap(),
    );
    let subscriber = app.email("subscriber");
    let cookie = app.sign_in(&subscriber).await;
    assert_eq!(choose(&app, &cookie, true).await.status, 200);
    let captured_only = email(&app.email("captured"));
    leads(&app)
        .capture(&captured_only, LeadSource::TrialSaveLink, now(&app))
        .await
        .unwrap();
    let restricted = opted_in_lead(&app, "restricted").await;
    app.dynamodb
        .update_item()
        .table_name(app.table("LeadsTable"))
        .key("email", AttributeValue::S(restricted.as_str().to_owned()))
        .update_expression("SET restricted = :yes")
        .expression_attribute_values(":yes", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    let unknown = email(&app.email("unknown"));

    for not_permitted in [&captured_only, &restricted, &unknown] {
        let outcome = marketing
            .send(not_permitted, Locale::En, newsletter())
            .await
            .unwrap();
        assert_eq!(outcome, MarketingOutcome::NotPermitted);
        assert!(sent_raw_mail(not_permitted.as_str()).await.is_empty());
    }
    let outcome = marketing
        .send(&email(&subscriber), Locale::Ja, newsletter())
        .await
        .unwrap();
    assert!(matches!(outcome, MarketingOutcome::Sent(_)), "{outcome:?}");

    let raw = sent_raw_mail(&subscriber).await;
    assert_eq!(raw.len(), 1);
    let raw = &raw[0];
    let header = |name: &str| {
        raw.split("\r\n\r\n")
            .next()
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .map(str::to_owned)
    };
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let list_unsubscribe = header("List-Unsubscribe").expect("a List-Unsubscribe header");
    let prefix = format!("<{}/unsubscribe?token=", env["API_ORIGIN"]);
    let token = list_unsubscribe
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or_else(|| panic!("{list_unsubscribe}"));
    // The same token is in the body, for people whose mail client has no button: a link to
    // the app's page, whose button posts to the API.
    let text = text_part(raw);
    assert!(
        text.contains(&format!("{}/unsubscribe?token={token}", env["APP_ORIGIN"])),
        "{text}"
    );

    // The header's link unsubscribes, and the next campaign skips the address.
    let answer = unsubscribe_post(token).send_to_engagement(&app).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let outcome = marketing
        .send(&email(&subscriber), Locale::Ja, newsletter())
        .await
        .unwrap();
    assert_eq!(outcome, MarketingOutcome::NotPermitted);
    assert_eq!(sent_raw_mail(&subscriber).await.len(), 1);
}

/// The decoded text/plain part of a raw message.
fn text_part(raw: &str) -> String {
    use base64::Engine;
    let part = raw
        .split(
            "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        )
        .nth(1)
        .expect("a base64 text part");
    let encoded: String = part
        .split("--")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}
