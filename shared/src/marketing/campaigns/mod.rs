//! Marketing campaigns: an admin writes one (subject and text in English and Japanese), and
//! the campaign sender mails it to every address of the lead list that opted in and is not
//! restricted, once each, in the person's language.
//!
//! - The audience is the lead list's sparse `by-marketing` index (only opted-in rows carry
//!   its key, see [`crate::marketing::Consent::set`]), read page by page: a Query, never a
//!   Scan, and never a row that did not opt in.
//! - Each recipient is claimed on their own lead row before the send, by one conditional
//!   write that re-checks consent on the row itself (the index may lag behind an opt-out):
//!   an address that opted out, is restricted, is suppressed (`suppressed_at`: it bounced
//!   or complained) or already has this campaign is skipped. The
//!   claim is also the record of the message (`marketing_messages.<campaign id>`: subject
//!   and time), so the person's export shows it, and it goes with the lead row on erasure.
//! - At most once: a crash between a claim and its send leaves that address claimed and
//!   unsent, never sent twice; a send that SES refuses releases the claim, and the page is
//!   tried again later.
//! - Progress is the campaign row's cursor, advanced by compare-and-set after each page: a
//!   duplicate delivery of the queue message running beside the first loses the next
//!   advance and stops; a crashed run's message comes back and goes on from the cursor.
//!   The cursor (the last address of the last finished page) is held only while the
//!   campaign sends; finishing removes it.

pub mod api;
pub mod sender;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::clock::UnixSeconds;
use crate::email::{Email, EmailAddress};
use crate::locale::Locale;
use crate::store::{StoreError, get_n, get_s, is_condition_failed, n, require, s};

/// The lead list's sparse index of opted-in rows, and its key.
pub const AUDIENCE_INDEX: &str = "by-marketing";
pub const AUDIENCE_ATTRIBUTE: &str = "marketing_list";
pub const AUDIENCE_VALUE: &str = "opted-in";
/// On a lead row: one entry per campaign message, keyed by campaign id.
pub const MESSAGES_ATTRIBUTE: &str = "marketing_messages";

pub const MAX_SUBJECT_CHARS: usize = 150;
pub const MAX_TEXT_CHARS: usize = 10_000;

/// One string per language of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub en: String,
    pub ja: String,
}

impl Localized {
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::En => &self.en,
            Locale::Ja => &self.ja,
        }
    }
}

/// What a campaign says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignContent {
    subject: Localized,
    text: Localized,
}

/// Why a campaign's content was refused: the field and the rule, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct InvalidContent {
    pub field: &'static str,
    pub problem: &'static str,
}

impl CampaignContent {
    /// Subjects: 1-150 characters on one line (a line break in a header is an injection).
    /// Texts: 1-10,000 characters; line breaks and tabs are the only control characters.
    pub fn new(subject: Localized, text: Localized) -> Result<Self, InvalidContent> {
        let subject = Localized {
            en: checked("subject.en", &subject.en, MAX_SUBJECT_CHARS, false)?,
            ja: checked("subject.ja", &subject.ja, MAX_SUBJECT_CHARS, false)?,
        };
        let text = Localized {
            en: checked("text.en", &text.en, MAX_TEXT_CHARS, true)?,
            ja: checked("text.ja", &text.ja, MAX_TEXT_CHARS, true)?,
        };
        Ok(Self { subject, text })
    }

    pub fn subject(&self) -> &Localized {
        &self.subject
    }

    pub fn text(&self) -> &Localized {
        &self.text
    }

    /// The message in `locale`, before the unsubscribe footer.
    pub fn render(&self, locale: Locale) -> Email {
        crate::email::templates::campaign(locale, self.subject.get(locale), self.text.get(locale))
    }
}

fn checked(
    field: &'static str,
    value: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<String, InvalidContent> {
    let value = value.replace("\r\n", "\n");
    let value = value.trim();
    let problem = |problem| Err(InvalidContent { field, problem });
    if value.is_empty() {
        return problem("is empty");
    }
    if value.chars().count() > max_chars {
        return problem(if multiline {
            "is over 10,000 characters"
        } else {
            "is over 150 characters"
        });
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return problem(if multiline {
            "holds a control character"
        } else {
            "must be one line without control characters"
        });
    }
    Ok(value.to_owned())
}

/// A campaign as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: String,
    pub content: CampaignContent,
    pub created_at: UnixSeconds,
    /// The admin's wallet id (pseudonymous, like the ledger).
    pub created_by: String,
    /// Pages of the audience finished so far: the compare-and-set token of progress.
    pub pages: i64,
    /// The last address of the last finished page, while the campaign sends.
    pub cursor: Option<String>,
    /// Messages sent (claims whose send SES accepted).
    pub sent: i64,
    pub finished_at: Option<UnixSeconds>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    New,
    /// A campaign with this id exists: the same content (a repeated request) or another.
    Exists(Box<Campaign>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advanced {
    Yes,
    /// Another run advanced the campaign first.
    Lost,
}

/// The campaigns table: one partition, `pk = "CAMPAIGN"`, sorted by id.
#[derive(Debug, Clone)]
pub struct Campaigns {
    client: Client,
    table: String,
}

const PARTITION: &str = "CAMPAIGN";

impl Campaigns {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn key(id: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([("pk".to_owned(), s(PARTITION)), ("id".to_owned(), s(id))])
    }

    /// Stores a new campaign once: a repeat of the same id answers with the one stored.
    pub async fn create(&self, campaign: &Campaign) -> Result<Created, StoreError> {
        let mut item = Self::key(&campaign.id);
        let content = &campaign.content;
        item.extend([
            ("subject_en".to_owned(), s(&content.subject.en)),
            ("subject_ja".to_owned(), s(&content.subject.ja)),
            ("text_en".to_owned(), s(&content.text.en)),
            ("text_ja".to_owned(), s(&content.text.ja)),
            ("created_at".to_owned(), n(campaign.created_at)),
            ("created_by".to_owned(), s(&campaign.created_by)),
            ("pages_done".to_owned(), n(0)),
            ("sent_count".to_owned(), n(0)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Created::New),
            Err(error) if is_condition_failed(&error) => {
                let stored = self.get(&campaign.id).await?.ok_or_else(|| {
                    StoreError::new("PutItem", &self.table, "exists, then could not be read")
                })?;
                Ok(Created::Exists(Box::new(stored)))
            }
            Err(error) => Err(StoreError::from_sdk("PutItem", &self.table, &error)),
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<Campaign>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("GetItem", &self.table, &error))?;
        output.item().map(|item| self.parse(item)).transpose()
    }

    /// The newest campaigns first, at most `limit`.
    pub async fn list(&self, limit: usize) -> Result<Vec<Campaign>, StoreError> {
        let items = crate::store::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(PARTITION)),
            &self.table,
        )
        .await?;
        let mut campaigns = items
            .iter()
            .map(|item| self.parse(item))
            .collect::<Result<Vec<_>, _>>()?;
        campaigns.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        campaigns.truncate(limit);
        Ok(campaigns)
    }

    /// Records one finished page: `sent` more messages, and the cursor moved to `next` (the
    /// last address of the page), or the campaign finished when `next` is `None`. Only from
    /// the page count `campaign` was read with.
    pub async fn advance(
        &self,
        campaign: &Campaign,
        next: Option<&str>,
        sent: i64,
        now: UnixSeconds,
    ) -> Result<Advanced, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&campaign.id)))
            .condition_expression("pages_done = :pages")
            .expression_attribute_values(":pages", n(campaign.pages))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":sent", n(sent));
        let update = match next {
            Some(cursor) => update
                .update_expression("SET resume_after = :cursor ADD pages_done :one, sent_count :sent")
                .expression_attribute_values(":cursor", s(cursor)),
            None => update
                .update_expression("SET finished_at = :now REMOVE resume_after ADD pages_done :one, sent_count :sent")
                .expression_attribute_values(":now", n(now)),
        };
        match update.send().await {
            Ok(_) => Ok(Advanced::Yes),
            Err(error) if is_condition_failed(&error) => Ok(Advanced::Lost),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// Counts messages of a run that lost the race to advance (its page was another's).
    pub async fn add_sent(&self, id: &str, sent: i64) -> Result<(), StoreError> {
        if sent == 0 {
            return Ok(());
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(id)))
            .update_expression("ADD sent_count :sent")
            .condition_expression("attribute_exists(id)")
            .expression_attribute_values(":sent", n(sent))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| StoreError::from_sdk("UpdateItem", &self.table, &error))
    }

    fn parse(&self, item: &HashMap<String, AttributeValue>) -> Result<Campaign, StoreError> {
        let text = |name: &str| require(get_s(item, name), &self.table, name).map(str::to_owned);
        let number = |name: &str| require(get_n(item, name), &self.table, name);
        Ok(Campaign {
            id: text("id")?,
            // Stored content was checked when it was created.
            content: CampaignContent {
                subject: Localized {
                    en: text("subject_en")?,
                    ja: text("subject_ja")?,
                },
                text: Localized {
                    en: text("text_en")?,
                    ja: text("text_ja")?,
                },
            },
            created_at: number("created_at")?,
            created_by: text("created_by")?,
            pages: number("pages_done")?,
            cursor: get_s(item, "resume_after").map(str::to_owned),
            sent: number("sent_count")?,
            finished_at: get_n(item, "finished_at"),
        })
    }
}

/// One page of the audience: addresses in index order, and the last one when more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudiencePage {
    pub addresses: Vec<EmailAddress>,
    pub next: Option<String>,
}

/// The opted-in rows of the lead list, and the per-recipient claim on each.
#[derive(Debug, Clone)]
pub struct Audience {
    client: Client,
    table: String,
}

impl Audience {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Up to `size` opted-in addresses after `after` (index order).
    pub async fn page(&self, after: Option<&str>, size: i32) -> Result<AudiencePage, StoreError> {
        let start = after.map(|email| {
            HashMap::from([
                (AUDIENCE_ATTRIBUTE.to_owned(), s(AUDIENCE_VALUE)),
                ("email".to_owned(), s(email)),
            ])
        });
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(AUDIENCE_INDEX)
            .key_condition_expression("#list = :list")
            .expression_attribute_names("#list", AUDIENCE_ATTRIBUTE)
            .expression_attribute_values(":list", s(AUDIENCE_VALUE))
            .set_exclusive_start_key(start)
            .limit(size)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("Query", &self.table, &error))?;
        // Rows we wrote hold normalized addresses; anything else is skipped, not sent to.
        let addresses = output
            .items()
            .iter()
            .filter_map(|item| get_s(item, "email"))
            .filter_map(|email| EmailAddress::parse(email).ok())
            .collect();
        let next = output
            .last_evaluated_key()
            .and_then(|key| get_s(key, "email"))
            .map(str::to_owned);
        Ok(AudiencePage { addresses, next })
    }

    /// Claims `email` for `campaign` and records the message on the lead row, if the row
    /// still opts in, is neither restricted nor suppressed, and has no message of this
    /// campaign. `false`: skip.
    pub async fn claim(
        &self,
        email: &EmailAddress,
        campaign: &str,
        subject: &str,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        // A nested entry needs its map: create it once (a no-op when it exists).
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("email", s(email.as_str()))
            .update_expression("SET #messages = if_not_exists(#messages, :empty)")
            .condition_expression("attribute_exists(email)")
            .expression_attribute_names("#messages", MESSAGES_ATTRIBUTE)
            .expression_attribute_values(":empty", AttributeValue::M(HashMap::new()))
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(error) if is_condition_failed(&error) => return Ok(false),
            Err(error) => return Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
        let entry = AttributeValue::M(HashMap::from([
            ("subject".to_owned(), s(subject)),
            ("sent_at".to_owned(), n(now)),
        ]));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("email", s(email.as_str()))
            .update_expression("SET #messages.#campaign = :entry")
            .condition_expression(
                "marketing_opt_in = :yes \
                 AND (attribute_not_exists(restricted) OR restricted = :no) \
                 AND attribute_not_exists(#suppressed) \
                 AND attribute_not_exists(#messages.#campaign)",
            )
            .expression_attribute_names("#suppressed", crate::marketing::SUPPRESSED_ATTRIBUTE)
            .expression_attribute_names("#messages", MESSAGES_ATTRIBUTE)
            .expression_attribute_names("#campaign", campaign)
            .expression_attribute_values(":entry", entry)
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// Undoes a claim whose send SES refused, so a later run sends it.
    pub async fn release(&self, email: &EmailAddress, campaign: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("email", s(email.as_str()))
            .update_expression("REMOVE #messages.#campaign")
            .condition_expression("attribute_exists(email)")
            .expression_attribute_names("#messages", MESSAGES_ATTRIBUTE)
            .expression_attribute_names("#campaign", campaign)
            .send()
            .await
            .map(|_| ())
            .or_else(|error| {
                if is_condition_failed(&error) {
                    Ok(())
                } else {
                    Err(StoreError::from_sdk("UpdateItem", &self.table, &error))
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn localized(en: &str, ja: &str) -> Localized {
        Localized {
            en: en.to_owned(),
            ja: ja.to_owned(),
        }
    }

    #[test]
    fn content_is_trimmed_and_checked_field_by_field() {
        let content = CampaignContent::new(
            localized("  New: watercolor ", "新スタイル"),
            localized("Line one\r\nline two\n\nAnother paragraph.", "本文"),
        )
        .unwrap();
        assert_eq!(content.subject().en, "New: watercolor");
        assert_eq!(
            content.text().en,
            "Line one\nline two\n\nAnother paragraph."
        );

        let refused = |subject: Localized, text: Localized| {
            CampaignContent::new(subject, text).unwrap_err().field
        };
        assert_eq!(
            refused(localized("", "件名"), localized("a", "b")),
            "subject.en"
        );
        assert_eq!(
            refused(localized("a", " "), localized("a", "b")),
            "subject.ja"
        );
        assert_eq!(
            refused(localized("a\nBcc: x@example.com", "b"), localized("a", "b")),
            "subject.en"
        );
        assert_eq!(
            refused(localized(&"a".repeat(151), "b"), localized("a", "b")),
            "subject.en"
        );
        assert_eq!(
            refused(localized("a", "b"), localized("a", &"本".repeat(10_001))),
            "text.ja"
        );
        assert_eq!(
            refused(localized("a", "b"), localized("a\u{7}", "b")),
            "text.en"
        );
        // At the limits: accepted.
        CampaignContent::new(
            localized(&"a".repeat(150), "b"),
            localized("a\tb", &"本".repeat(10_000)),
        )
        .unwrap();
    }

    #[test]
    fn the_message_is_in_the_language_asked_with_paragraphs_escaped() {
        let content = CampaignContent::new(
            localized("Watercolor is here", "水彩スタイル登場"),
            localized("Try <b>it</b>.\n\nSecond & last.", "お試しください。"),
        )
        .unwrap();
        let en = content.render(Locale::En);
        assert_eq!(en.subject, "Watercolor is here");
        assert!(
            en.html
                .contains("<p>Try &lt;b&gt;it&lt;/b&gt;.</p><p>Second &amp; last.</p>")
        );
        assert!(en.text.starts_with("Try <b>it</b>."));
        let ja = content.render(Locale::Ja);
        assert_eq!(ja.subject, "水彩スタイル登場");
        assert!(ja.html.contains("lang=\"ja\"") && ja.html.contains("お試しください。"));
    }
}
