//! `index.html` of the export archive: everything held about the person on one page, in
//! their language, pictures included, readable from the unzipped folder with no network
//! (inline CSS, no script, images by relative links into `files/`). Every value is escaped.
//!
//! The page is written while the archive is: each record and file is appended to a part file
//! on local disk as it goes into the zip (memory stays flat), and [`PageWriter::finish`]
//! puts the heading, the contents and that body into the zip.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::email::templates::escape_html;
use crate::locale::Locale;

use super::records::is_time;

/// What the page says about one store: its title and what it is, in both languages.
struct StoreText {
    store: &'static str,
    en: (&'static str, &'static str),
    ja: (&'static str, &'static str),
}

const STORES: &[StoreText] = &[
    StoreText {
        store: "wallet",
        en: (
            "Your account",
            "Your sign-in email and the ones you had before, your credit balance, language, where you are signed in and your privacy choices. Kept until you delete your account.",
        ),
        ja: (
            "アカウント",
            "サインイン用メールアドレス（以前のものを含む）、クレジット残高、言語、サインイン中の端末、プライバシーに関する選択。アカウントを削除するまで保持します。",
        ),
    },
    StoreText {
        store: "lead",
        en: (
            "Your email on our contact list",
            "Where we first received your email, and every marketing consent you gave or withdrew. Removed with your account.",
        ),
        ja: (
            "連絡先リスト",
            "メールアドレスを最初に受け取った場所と、マーケティングメールへの同意・撤回の記録。アカウント削除時に消去します。",
        ),
    },
    StoreText {
        store: "one_time_codes",
        en: (
            "Sign-in codes not yet used",
            "Codes we emailed you that are still valid for a few minutes. The code itself is kept only as a hash and is not shown.",
        ),
        ja: (
            "未使用のログインコード",
            "送信済みで、まだ数分間有効なコード。コード自体はハッシュでのみ保存しており、ここには表示しません。",
        ),
    },
    StoreText {
        store: "rate_limits",
        en: (
            "Limits on repeated requests",
            "Counters that slow down repeated requests tied to your email or account. Each ends within an hour.",
        ),
        ja: (
            "連続リクエストの制限",
            "メールアドレスやアカウントに結びついた連続リクエストを抑えるためのカウンター。それぞれ1時間以内に終了します。",
        ),
    },
    StoreText {
        store: "generations",
        en: (
            "Your avatar orders",
            "Each selfie you sent and what was made from it. Selfies are deleted 30 days after upload (5 days when held for review); the order stays while your account exists.",
        ),
        ja: (
            "アバターの注文",
            "送信いただいた写真ごとの注文と作成結果。写真はアップロードから30日後（確認待ちの場合は5日以内）に削除し、注文の記録はアカウントがある間保持します。",
        ),
    },
    StoreText {
        store: "moderation_log",
        en: (
            "Safety checks of your photos",
            "The automated content-safety decision for each photo, with its scores. Kept 90 days.",
        ),
        ja: (
            "写真の安全性チェック",
            "写真ごとの自動安全性チェックの判定とスコア。90日間保持します。",
        ),
    },
    StoreText {
        store: "ledger",
        en: (
            "Credit history",
            "Every change of your credit balance. Kept for tax law, also after your account is deleted (then without your email).",
        ),
        ja: (
            "クレジット履歴",
            "クレジット残高のすべての変動。税法上の義務により、アカウント削除後も（メールアドレスなしで）保持します。",
        ),
    },
    StoreText {
        store: "orders",
        en: (
            "Purchases",
            "Orders you paid through Polar, our payment provider, and the payment notifications we processed (kept 30 days).",
        ),
        ja: (
            "購入",
            "決済代行のPolarでお支払いいただいた注文と、処理した支払い通知（30日間保持）。",
        ),
    },
    StoreText {
        store: "analytics_events",
        en: (
            "Usage events",
            "Actions recorded in the app: never your photos or your balance. Kept 90 days.",
        ),
        ja: (
            "利用状況イベント",
            "アプリで記録した操作（写真や残高は含みません）。90日間保持します。",
        ),
    },
    StoreText {
        store: "feedback",
        en: ("Feedback you sent", "Messages from the feedback form."),
        ja: ("フィードバック", "フィードバックフォームからのメッセージ。"),
    },
    StoreText {
        store: "refund_requests",
        en: (
            "Refund requests",
            "Requests you sent through the refund form.",
        ),
        ja: (
            "返金リクエスト",
            "返金フォームから送信いただいたリクエスト。",
        ),
    },
    StoreText {
        store: "trials",
        en: (
            "Free trial",
            "Your free trial saved with your email, and the device it was taken on. Deleted when the trial link expires.",
        ),
        ja: (
            "無料お試し",
            "メールアドレスを保存した無料お試しと、利用した端末の記録。お試しリンクの期限が切れると削除します。",
        ),
    },
    StoreText {
        store: "exports",
        en: (
            "Your requests for a copy of your data",
            "Each request and its download link (this copy included). The archive and the record are deleted when the link ends after 7 days.",
        ),
        ja: (
            "データのコピーのご請求",
            "ご請求ごとの記録とダウンロードリンク（このコピーを含む）。リンクの期限（7日間）が切れるとファイルと記録を削除します。",
        ),
    },
    StoreText {
        store: "erasure_requests",
        en: (
            "Your pending requests to delete your account",
            "Carried out at the next hourly run; then only a record that names no one stays.",
        ),
        ja: (
            "処理待ちのアカウント削除のご請求",
            "次回の定時処理（1時間ごと）で実行します。その後は個人を特定しない記録のみが残ります。",
        ),
    },
    StoreText {
        store: "selfies",
        en: (
            "Your photos",
            "Selfies we still hold. Each is deleted 30 days after upload.",
        ),
        ja: (
            "アップロードした写真",
            "現在保持している写真。アップロードから30日後に削除します。",
        ),
    },
    StoreText {
        store: "generated",
        en: (
            "Pictures made for you",
            "Your avatars, stickers and bundles, kept while your account exists.",
        ),
        ja: (
            "作成した画像",
            "アバター、ステッカー、まとめファイル。アカウントがある間保持します。",
        ),
    },
];

/// Field names in the person's words. Fields not listed read as their name.
const LABELS: &[(&str, &str, &str)] = &[
    ("wallet_id", "Account id", "アカウントID"),
    ("email", "Email", "メールアドレス"),
    ("credits", "Credits", "クレジット"),
    ("locale", "Language", "言語"),
    ("created_at", "Created", "作成日時"),
    (
        "email_changed_at",
        "Email changed",
        "メールアドレス変更日時",
    ),
    ("restricted", "Processing restricted", "処理の制限"),
    ("restricted_at", "Restriction changed", "制限の変更日時"),
    ("restriction_history", "Restriction history", "制限の履歴"),
    (
        "analytics_objected",
        "Analytics objected to",
        "分析への異議",
    ),
    (
        "analytics_objected_at",
        "Objection changed",
        "異議の変更日時",
    ),
    (
        "analytics_objection_history",
        "Objection history",
        "異議の履歴",
    ),
    ("first_source", "First received on", "最初の登録元"),
    ("first_captured_at", "First received", "最初の登録日時"),
    (
        "marketing_opt_in",
        "Marketing email",
        "マーケティングメール",
    ),
    ("marketing_opt_in_at", "Opted in", "同意日時"),
    ("marketing_opt_out_at", "Opted out", "撤回日時"),
    ("consent_history", "Consent history", "同意の履歴"),
    (
        "marketing_messages",
        "Marketing email sent",
        "送信したマーケティングメール",
    ),
    (
        "suppressed_at",
        "Suppressed (bounce or complaint)",
        "配信停止（不達・苦情）",
    ),
    ("campaign", "Campaign", "配信"),
    ("subject", "Subject", "件名"),
    ("sent_at", "Sent", "送信日時"),
    ("opt_in", "Opted in", "同意"),
    ("via", "Through", "経路"),
    ("at", "When", "日時"),
    ("email_hash", "Email (hashed)", "メールアドレス（ハッシュ）"),
    ("attempts", "Attempts", "試行回数"),
    ("expires_at", "Ends", "終了日時"),
    ("limit", "Limit", "制限"),
    ("count", "Count", "回数"),
    ("generation_id", "Order id", "注文ID"),
    ("status", "Status", "状態"),
    ("style", "Style", "スタイル"),
    ("products", "Products", "商品"),
    ("quote", "Speech-bubble text", "吹き出しの文字"),
    ("cost", "Cost (credits)", "費用（クレジット）"),
    ("charge", "Credits", "クレジットの扱い"),
    ("selfie_key", "Photo file", "写真ファイル"),
    ("content_type", "File type", "ファイル形式"),
    (
        "content_length",
        "File size (bytes)",
        "ファイルサイズ（バイト）",
    ),
    ("selfie_uploaded_at", "Photo received", "写真の受信日時"),
    ("selfie_deleted_at", "Photo deleted", "写真の削除日時"),
    ("blocked_at", "Held for review", "確認待ちになった日時"),
    ("review_outcome", "Review outcome", "確認の結果"),
    ("deliverables", "Files made", "作成したファイル"),
    ("failure", "Why it failed", "失敗の理由"),
    ("decision", "Decision", "判定"),
    ("scores", "Scores", "スコア"),
    (
        "flagged_categories",
        "Flagged categories",
        "該当したカテゴリ",
    ),
    ("photo_url", "Photo", "写真"),
    ("model", "Model", "モデル"),
    ("provider", "Checked by", "チェック提供元"),
    ("decided_at", "Decided", "判定日時"),
    ("entry", "Entry", "記録"),
    ("kind", "Kind", "種類"),
    ("order_id", "Order", "注文"),
    ("note", "Note", "メモ"),
    ("amount", "Amount", "金額"),
    ("currency", "Currency", "通貨"),
    ("record", "Record", "記録の種類"),
    ("pack", "Pack", "パック"),
    ("event_type", "Notification", "通知の種類"),
    ("event_id", "Event id", "イベントID"),
    ("name", "Action", "操作"),
    ("context", "Details", "詳細"),
    ("device_id", "Device id", "端末ID"),
    (
        "wallet_email",
        "Signed in as",
        "サインイン中のメールアドレス",
    ),
    ("occurred_at", "When", "日時"),
    ("feedback_id", "Feedback id", "フィードバックID"),
    ("message", "Message", "メッセージ"),
    ("page", "Page", "ページ"),
    ("request_id", "Reference", "受付番号"),
    ("reason", "Reason", "理由"),
    ("trial_id", "Trial id", "お試しID"),
    (
        "former_emails",
        "Former sign-in emails",
        "以前のサインイン用メールアドレス",
    ),
    ("until", "Until", "使用終了日時"),
    ("sessions", "Signed in now", "サインイン中のセッション"),
    ("signed_in_at", "Signed in", "サインイン日時"),
];

fn store_text(store: &str, locale: Locale) -> (String, Option<&'static str>) {
    match STORES.iter().find(|text| text.store == store) {
        Some(text) => {
            let (title, description) = match locale {
                Locale::En => text.en,
                Locale::Ja => text.ja,
            };
            (title.to_owned(), Some(description))
        }
        None => (store.to_owned(), None),
    }
}

fn label(field: &str, locale: Locale) -> String {
    match LABELS.iter().find(|(name, _, _)| *name == field) {
        Some((_, en, ja)) => match locale {
            Locale::En => (*en).to_owned(),
            Locale::Ja => (*ja).to_owned(),
        },
        None => field.replace('_', " "),
    }
}

/// The words of the page around the data.
struct Words {
    title: &'static str,
    intro: &'static str,
    folder: &'static str,
    contents: &'static str,
    nothing: &'static str,
    made: &'static str,
    order: &'static str,
    yes: &'static str,
    no: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            title: "Everything Anumi holds about you",
            intro: "This page shows every record and file we held about you when this copy was made.",
            folder: "The same data is in this folder for computers: data/ holds one JSON file per kind of record, files/ your pictures, and EXPORT_SCHEMA.md explains every field.",
            contents: "Contents",
            nothing: "Nothing held.",
            made: "Made",
            order: "Order",
            yes: "yes",
            no: "no",
        },
        Locale::Ja => Words {
            title: "Anumi が保持しているあなたのデータ",
            intro: "このページには、このコピーを作成した時点で保持していたすべての記録とファイルを表示しています。",
            folder: "同じデータをコンピューター向けにこのフォルダーにも収めています。data/ には記録の種類ごとの JSON ファイル、files/ には画像、EXPORT_SCHEMA.md には各項目の説明があります。",
            contents: "目次",
            nothing: "保持しているデータはありません。",
            made: "作成日時",
            order: "注文",
            yes: "はい",
            no: "いいえ",
        },
    }
}

/// A time as a person reads it: `2026-11-29 11:04 UTC`.
fn readable_time(rfc3339: &str) -> String {
    match rfc3339.split_once('T') {
        Some((date, time)) if rfc3339.ends_with('Z') => {
            let time = time.trim_end_matches('Z');
            let minutes = time.get(..5).unwrap_or(time);
            format!("{date} {minutes} UTC")
        }
        _ => rfc3339.to_owned(),
    }
}

/// One section of the page, as listed in its contents.
#[derive(Debug, Clone)]
struct Section {
    store: String,
    count: u64,
}

#[derive(Debug)]
pub struct PageWriter {
    body: BufWriter<File>,
    path: PathBuf,
    locale: Locale,
    sections: Vec<Section>,
    open: Option<Section>,
    /// The gallery open in the section: `Some(order)` for the files of one order (grouped
    /// under its heading), `Some(None)` for files of no order.
    gallery: Option<Option<String>>,
}

impl PageWriter {
    /// The body is written to `path` (removed by `finish`).
    pub fn create(path: &Path, locale: Locale) -> std::io::Result<Self> {
        Ok(Self {
            body: BufWriter::new(File::create(path)?),
            path: path.to_owned(),
            locale,
            sections: Vec::new(),
            open: None,
            gallery: None,
        })
    }

    fn begin(&mut self, store: &str) -> std::io::Result<()> {
        if self.open.as_ref().is_some_and(|open| open.store == store) {
            return Ok(());
        }
        self.end()?;
        let (title, description) = store_text(store, self.locale);
        write!(
            self.body,
            "<section id=\"{id}\"><h2>{title}</h2>",
            id = escape_html(store),
            title = escape_html(&title)
        )?;
        if let Some(description) = description {
            write!(
                self.body,
                "<p class=\"about\">{}</p>",
                escape_html(description)
            )?;
        }
        self.open = Some(Section {
            store: store.to_owned(),
            count: 0,
        });
        Ok(())
    }

    /// Closes the open section (an empty one says so).
    pub fn end(&mut self) -> std::io::Result<()> {
        if let Some(section) = self.open.take() {
            self.close_gallery()?;
            if section.count == 0 {
                write!(
                    self.body,
                    "<p class=\"empty\">{}</p>",
                    words(self.locale).nothing
                )?;
            }
            write!(self.body, "</section>")?;
            self.sections.push(section);
        }
        Ok(())
    }

    /// Starts the section of `store` (rows follow).
    pub fn begin_rows(&mut self, store: &str) -> std::io::Result<()> {
        self.end()?;
        self.begin(store)
    }

    /// One record of the open section, as a table of its fields.
    pub fn record(&mut self, record: &Value) -> std::io::Result<()> {
        let html = self.record_html(record);
        self.body.write_all(html.as_bytes())?;
        if let Some(open) = self.open.as_mut() {
            open.count += 1;
        }
        Ok(())
    }

    fn record_html(&self, record: &Value) -> String {
        let Value::Object(fields) = record else {
            return format!("<p>{}</p>", self.value_html("", record));
        };
        let mut html = String::from("<table class=\"record\">");
        for (name, value) in fields {
            html.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape_html(&label(name, self.locale)),
                self.value_html(name, value)
            ));
        }
        html.push_str("</table>");
        html
    }

    fn value_html(&self, name: &str, value: &Value) -> String {
        let w = words(self.locale);
        match value {
            Value::Null => "—".to_owned(),
            Value::Bool(flag) => (if *flag { w.yes } else { w.no }).to_owned(),
            Value::Number(number) => number.to_string(),
            Value::String(text) if is_time(name) => escape_html(&readable_time(text)),
            Value::String(text) => escape_html(text),
            Value::Array(items) if items.iter().all(|item| !item.is_object()) => items
                .iter()
                .map(|item| self.value_html(name, item))
                .collect::<Vec<_>>()
                .join(", "),
            Value::Array(items) => {
                let entries: String = items
                    .iter()
                    .map(|item| format!("<li>{}</li>", self.inline_html(item)))
                    .collect();
                format!("<ul>{entries}</ul>")
            }
            Value::Object(_) => self.inline_html(value),
        }
    }

    /// A nested object on one line: `label: value · label: value`.
    fn inline_html(&self, value: &Value) -> String {
        match value {
            Value::Object(fields) => fields
                .iter()
                .map(|(name, value)| {
                    format!(
                        "<span class=\"pair\"><span class=\"key\">{}</span> {}</span>",
                        escape_html(&label(name, self.locale)),
                        self.value_html(name, value)
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
            other => self.value_html("", other),
        }
    }

    /// One file of the archive at `path` (relative to the archive's root): pictures are
    /// shown, other files linked. Files of one order (`files/<store>/<order>/…`) are grouped.
    pub fn file(&mut self, store: &str, path: &str) -> std::io::Result<()> {
        self.begin(store)?;
        let relative = path
            .strip_prefix(&format!("files/{store}/"))
            .unwrap_or(path);
        let (group, name) = match relative.rsplit_once('/') {
            Some((group, name)) => (Some(group.to_owned()), name.to_owned()),
            None => (None, relative.to_owned()),
        };
        if self.gallery.as_ref() != Some(&group) {
            self.close_gallery()?;
            match &group {
                Some(order) => write!(
                    self.body,
                    "<div class=\"group\"><h3>{} {}</h3><div class=\"gallery\">",
                    words(self.locale).order,
                    escape_html(order)
                )?,
                None => write!(self.body, "<div class=\"gallery\">")?,
            }
            self.gallery = Some(group);
        }
        let href = escape_html(&url_path(path));
        let caption = escape_html(&name);
        let picture = [".png", ".jpg", ".jpeg", ".webp"]
            .iter()
            .any(|extension| name.to_ascii_lowercase().ends_with(extension));
        if picture {
            write!(
                self.body,
                "<figure><a href=\"{href}\"><img src=\"{href}\" alt=\"{caption}\" loading=\"lazy\"></a>\
                 <figcaption>{caption}</figcaption></figure>"
            )?;
        } else {
            write!(
                self.body,
                "<figure class=\"file\"><a href=\"{href}\">{caption}</a></figure>"
            )?;
        }
        if let Some(open) = self.open.as_mut() {
            open.count += 1;
        }
        Ok(())
    }

    fn close_gallery(&mut self) -> std::io::Result<()> {
        match self.gallery.take() {
            Some(Some(_)) => write!(self.body, "</div></div>"),
            Some(None) => write!(self.body, "</div>"),
            None => Ok(()),
        }
    }

    /// The whole page: heading, contents, then the body written so far.
    pub fn finish(mut self, out: &mut impl Write, generated_at: &str) -> std::io::Result<()> {
        self.end()?;
        self.body.flush()?;
        let w = words(self.locale);
        let contents: String = self
            .sections
            .iter()
            .map(|section| {
                let (title, _) = store_text(&section.store, self.locale);
                format!(
                    "<li><a href=\"#{id}\">{title}</a> <span class=\"count\">{count}</span></li>",
                    id = escape_html(&section.store),
                    title = escape_html(&title),
                    count = section.count
                )
            })
            .collect();
        write!(
            out,
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'\">\
             <title>{title}</title><style>{STYLE}</style></head><body><main>\
             <header><h1>{title}</h1><p>{intro}</p><p class=\"about\">{made}: {generated}</p>\
             <p class=\"about\">{folder}</p></header>\
             <nav aria-label=\"{contents_label}\"><h2>{contents_label}</h2><ul>{contents}</ul></nav>",
            lang = self.locale.as_str(),
            title = w.title,
            intro = w.intro,
            made = w.made,
            generated = escape_html(&readable_time(generated_at)),
            folder = w.folder,
            contents_label = w.contents,
        )?;
        let mut body = File::open(&self.path)?;
        std::io::copy(&mut body, out)?;
        write!(out, "</main></body></html>")
        // Dropping the writer removes the part file.
    }
}

impl Drop for PageWriter {
    fn drop(&mut self) {
        // A page never finished (the export failed) leaves no part file behind.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A relative URL for an archive path: each segment percent-encoded where a file name
/// could hold characters a URL cannot.
fn url_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|byte| match byte {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (byte as char).to_string()
                    }
                    other => format!("%{other:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

const STYLE: &str = "\
:root{color-scheme:light;--ink:#1f2430;--soft:#5b6275;--line:#e3e6ee;--bg:#f7f7fb;--card:#fff;--accent:#5a4fcf}\
*{box-sizing:border-box}\
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.55 system-ui,-apple-system,'Segoe UI','Hiragino Sans','Noto Sans JP',sans-serif}\
main{max-width:880px;margin:0 auto;padding:32px 20px 64px}\
header h1{font-size:28px;margin:0 0 8px}\
h2{font-size:20px;margin:0 0 4px}\
h3{font-size:15px;margin:16px 0 8px;color:var(--soft);font-weight:600;word-break:break-all}\
.about{color:var(--soft);margin:4px 0 12px}\
nav{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 20px;margin:24px 0}\
nav ul{margin:8px 0 0;padding:0;list-style:none;columns:2}\
nav li{margin:2px 0}\
a{color:var(--accent)}\
.count{display:inline-block;min-width:1.6em;padding:0 6px;border-radius:10px;background:var(--bg);color:var(--soft);font-size:13px;text-align:center}\
section{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px;margin:16px 0}\
table.record{width:100%;border-collapse:collapse;margin:12px 0;border-top:1px solid var(--line)}\
table.record+table.record{margin-top:24px}\
table.record th,table.record td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}\
table.record th{width:34%;color:var(--soft);font-weight:500}\
table.record td{word-break:break-word}\
table.record ul{margin:0;padding-left:18px}\
.pair{display:inline-block;margin-right:12px}\
.key{color:var(--soft)}\
.empty{color:var(--soft);font-style:italic}\
.gallery{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}\
figure{margin:0;width:200px}\
figure img{width:200px;height:200px;object-fit:contain;background:var(--bg);border:1px solid var(--line);border-radius:8px}\
figcaption{font-size:13px;color:var(--soft);word-break:break-all}\
figure.file{width:auto;padding:8px 12px;border:1px solid var(--line);border-radius:8px}\
@media (max-width:600px){nav ul{columns:1}table.record th{width:42%}}";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(locale: Locale, build: impl FnOnce(&mut PageWriter)) -> String {
        let path = std::env::temp_dir().join(format!("page-test-{}", uuid::Uuid::new_v4()));
        let mut writer = PageWriter::create(&path, locale).unwrap();
        build(&mut writer);
        let mut out = Vec::new();
        writer.finish(&mut out, "2026-11-29T11:04:05Z").unwrap();
        assert!(!path.exists(), "the part file is removed");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_value_is_escaped_and_nothing_loads_from_outside() {
        let html = page(Locale::En, |w| {
            w.begin_rows("feedback").unwrap();
            w.record(&json!({"message": "<script>alert(1)</script>", "page": "\"/x\" onload='y'"}))
                .unwrap();
            w.file("generated", "files/generated/g<1>/a b.png").unwrap();
        });
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&quot;/x&quot; onload=&#39;y&#39;"));
        assert!(html.contains("src=\"files/generated/g%3C1%3E/a%20b.png\""));
        for outside in ["http://", "https://", "src=\"//", "<link", "@import"] {
            assert!(!html.contains(outside), "{outside}");
        }
    }

    #[test]
    fn the_page_speaks_the_persons_language_and_says_when_nothing_is_held() {
        let html = page(Locale::Ja, |w| {
            w.begin_rows("wallet").unwrap();
            w.record(
                &json!({"credits": 3, "created_at": "2026-11-29T11:04:05Z", "restricted": false}),
            )
            .unwrap();
            w.begin_rows("lead").unwrap();
        });
        assert!(html.contains("<html lang=\"ja\">"));
        assert!(html.contains("アカウント") && html.contains("クレジット"));
        assert!(html.contains("2026-11-29 11:04 UTC"));
        assert!(html.contains("いいえ"));
        assert!(html.contains("保持しているデータはありません。"));
        assert!(html.contains("href=\"#wallet\""));
    }

    #[test]
    fn the_files_of_one_order_are_grouped_and_pictures_shown() {
        let html = page(Locale::En, |w| {
            w.file("selfies", "files/selfies/g1.jpg").unwrap();
            w.file("generated", "files/generated/g1/avatar.png")
                .unwrap();
            w.file("generated", "files/generated/g1/bundle.zip")
                .unwrap();
        });
        assert!(html.contains("<img src=\"files/selfies/g1.jpg\""));
        assert!(html.contains("<img src=\"files/generated/g1/avatar.png\""));
        assert!(html.contains("<a href=\"files/generated/g1/bundle.zip\">bundle.zip</a>"));
        assert_eq!(html.matches("<h3>Order g1</h3>").count(), 1);
        let opened = html.matches("<div").count();
        assert_eq!(opened, html.matches("</div>").count(), "balanced: {html}");
    }
}
