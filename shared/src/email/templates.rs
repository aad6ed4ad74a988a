//! Transactional email templates, text and HTML, in English and Japanese.
//!
//! Templates live in code rather than in SES so that they are reviewed, tested and
//! deployed with the code that sends them (the local emulation has no SES templates).

use super::EmailAddress;
use crate::locale::Locale;

/// One rendered email: its language, subject, plain-text part and HTML part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub locale: Locale,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The sign-in code email. `code` is digits only; it is still escaped like any value.
pub fn sign_in_code(locale: Locale, code: &str, valid_minutes: i64) -> Email {
    let code_html = escape_html(code);
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: format!("Your Anumi sign-in code: {code}"),
            text: format!(
                "Your sign-in code is {code}\n\n\
                 It works once and expires in {valid_minutes} minutes.\n\
                 If you did not ask for it, you can ignore this email.\n\n\
                 Anumi"
            ),
            html: layout(
                "en",
                &format!(
                    "<p>Your sign-in code is</p>\
                     <p style=\"font-size:28px;font-weight:bold;letter-spacing:4px\">{code_html}</p>\
                     <p>It works once and expires in {valid_minutes} minutes.</p>\
                     <p>If you did not ask for it, you can ignore this email.</p>"
                ),
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: format!("Anumi ログインコード: {code}"),
            text: format!(
                "ログインコードは {code} です。\n\n\
                 コードは1回だけ使えます。有効期限は{valid_minutes}分です。\n\
                 お心当たりがない場合は、このメールを無視してください。\n\n\
                 Anumi"
            ),
            html: layout(
                "ja",
                &format!(
                    "<p>ログインコード</p>\
                     <p style=\"font-size:28px;font-weight:bold;letter-spacing:4px\">{code_html}</p>\
                     <p>コードは1回だけ使えます。有効期限は{valid_minutes}分です。</p>\
                     <p>お心当たりがない場合は、このメールを無視してください。</p>"
                ),
            ),
        },
    }
}

/// "Your deliverables are ready", with the link to them in the app.
pub fn deliverables_ready(locale: Locale, link: &str) -> Email {
    let link_html = escape_html(link);
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "Your Anumi avatars are ready".to_owned(),
            text: format!(
                "Your avatars are ready.\n\nSee and download them here (sign in if asked):\n{link}\n\nAnumi"
            ),
            html: layout(
                "en",
                &format!(
                    "<p>Your avatars are ready.</p>\
                     <p><a href=\"{link_html}\">See and download them</a> (sign in if asked).</p>"
                ),
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi アバターが完成しました".to_owned(),
            text: format!(
                "アバターが完成しました。\n\nこちらから確認・ダウンロードできます（ログインが必要な場合があります）:\n{link}\n\nAnumi"
            ),
            html: layout(
                "ja",
                &format!(
                    "<p>アバターが完成しました。</p>\
                     <p><a href=\"{link_html}\">確認・ダウンロードする</a>（ログインが必要な場合があります）</p>"
                ),
            ),
        },
    }
}

/// The free trial's avatar is ready: one avatar, no account; the link is the trial's own and
/// works until `link_expires` (RFC 3339), when the avatar and the trial are deleted.
pub fn trial_ready(locale: Locale, link: &str, link_expires: &str) -> Email {
    let (link_html, expires_html) = (escape_html(link), escape_html(link_expires));
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "Your free Anumi avatar is ready".to_owned(),
            text: format!(
                "Your free trial avatar is ready.\n\nSee and download it with your trial link (no account needed):\n{link}\n\n\
                 The link works until {link_expires}; then the avatar and your photo's trial are deleted.\n\nAnumi"
            ),
            html: layout(
                "en",
                &format!(
                    "<p>Your free trial avatar is ready.</p>\
                     <p><a href=\"{link_html}\">See and download it</a> with your trial link (no account needed).</p>\
                     <p>The link works until {expires_html}; then the avatar and your photo's trial are deleted.</p>"
                ),
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi 無料お試しのアバターが完成しました".to_owned(),
            text: format!(
                "無料お試しのアバターが完成しました。\n\nお試しリンクから確認・ダウンロードできます（アカウント不要）:\n{link}\n\n\
                 リンクの有効期限は {link_expires} です。期限が来るとアバターとお試しの記録は削除されます。\n\nAnumi"
            ),
            html: layout(
                "ja",
                &format!(
                    "<p>無料お試しのアバターが完成しました。</p>\
                     <p><a href=\"{link_html}\">確認・ダウンロードする</a>（お試しリンク、アカウント不要）</p>\
                     <p>リンクの有効期限は {expires_html} です。期限が来るとアバターとお試しの記録は削除されます。</p>"
                ),
            ),
        },
    }
}

/// Automated moderation held a selfie for a person to review. `credits_returned` is `None`
/// for a free trial (nothing was paid); `review_by` (RFC 3339) is when the photo is deleted
/// if no one has reviewed it; `link` shows the order (`None`: the trial's own link, which
/// the person already has).
pub fn selfie_held(
    locale: Locale,
    credits_returned: Option<i64>,
    review_by: &str,
    link: Option<&str>,
) -> Email {
    let review_by_html = escape_html(review_by);
    match locale {
        Locale::En => {
            let credits = credits_returned.map_or(String::new(), |credits| {
                format!(" The {credits} credit(s) reserved for it are back in your balance.")
            });
            let follow = link.map_or_else(
                || "Your trial link shows where it stands.".to_owned(),
                |link| format!("See where it stands: {link}"),
            );
            let follow_html = link.map_or_else(
                || "Your trial link shows where it stands.".to_owned(),
                |link| format!("<a href=\"{}\">See where it stands</a>.", escape_html(link)),
            );
            Email {
                locale: Locale::En,
                subject: "Your Anumi photo is held for review".to_owned(),
                text: format!(
                    "Our automatic safety check held the photo you uploaded, so a person can look at it. \
                     Nothing has been made from it yet.{credits}\n\n\
                     What happens next: a reviewer looks at it within 5 days. If it is fine, we make your avatar \
                     and email you. If not, or if no one has reviewed it by {review_by}, the photo is deleted.\n\n\
                     {follow}\n\nAnumi"
                ),
                html: layout(
                    "en",
                    &format!(
                        "<p>Our automatic safety check held the photo you uploaded, so a person can look at it. \
                         Nothing has been made from it yet.{credits}</p>\
                         <p>What happens next: a reviewer looks at it within 5 days. If it is fine, we make your avatar \
                         and email you. If not, or if no one has reviewed it by {review_by_html}, the photo is deleted.</p>\
                         <p>{follow_html}</p>"
                    ),
                ),
            }
        }
        Locale::Ja => {
            let credits = credits_returned.map_or(String::new(), |credits| {
                format!("この注文のために確保した{credits}クレジットは残高に戻しました。")
            });
            let follow = link.map_or_else(
                || "状況はお試しリンクで確認できます。".to_owned(),
                |link| format!("状況の確認: {link}"),
            );
            let follow_html = link.map_or_else(
                || "状況はお試しリンクで確認できます。".to_owned(),
                |link| format!("<a href=\"{}\">状況を確認する</a>", escape_html(link)),
            );
            Email {
                locale: Locale::Ja,
                subject: "Anumi アップロードされた写真は確認待ちです".to_owned(),
                text: format!(
                    "自動安全チェックにより、アップロードされた写真を担当者が確認するまで保留しました。\
                     まだ何も作成していません。{credits}\n\n\
                     今後について: 担当者が5日以内に確認します。問題がなければアバターを作成してメールでお知らせします。\
                     問題がある場合、または {review_by} までに確認されなかった場合、写真は削除されます。\n\n\
                     {follow}\n\nAnumi"
                ),
                html: layout(
                    "ja",
                    &format!(
                        "<p>自動安全チェックにより、アップロードされた写真を担当者が確認するまで保留しました。\
                         まだ何も作成していません。{credits}</p>\
                         <p>今後について: 担当者が5日以内に確認します。問題がなければアバターを作成してメールでお知らせします。\
                         問題がある場合、または {review_by_html} までに確認されなかった場合、写真は削除されます。</p>\
                         <p>{follow_html}</p>"
                    ),
                ),
            }
        }
    }
}

/// The review of a held photo is done. `approved`: it was fine and the avatar is being
/// made (`credits`: reserved again for a wallet, `None` for a trial); otherwise the photo
/// is deleted and nothing was charged.
pub fn review_outcome(locale: Locale, approved: bool, credits: Option<i64>) -> Email {
    match (locale, approved) {
        (Locale::En, true) => {
            let credits = credits.map_or(String::new(), |credits| {
                format!(" The {credits} credit(s) for it are reserved again and charged once it is ready.")
            });
            let text = format!(
                "A reviewer checked your photo: it is fine. We are making your avatar now and will email you \
                 when it is ready.{credits}"
            );
            Email {
                locale: Locale::En,
                subject: "Your Anumi photo was approved".to_owned(),
                html: layout("en", &format!("<p>{}</p>", escape_html(&text))),
                text: format!("{text}\n\nAnumi"),
            }
        }
        (Locale::En, false) => {
            let text = "A reviewer checked your photo and it cannot be used, so it has been deleted. \
                        Nothing was charged for it. You are welcome to try another photo.";
            Email {
                locale: Locale::En,
                subject: "Your Anumi photo was reviewed and deleted".to_owned(),
                html: layout("en", &format!("<p>{text}</p>")),
                text: format!("{text}\n\nAnumi"),
            }
        }
        (Locale::Ja, true) => {
            let credits = credits.map_or(String::new(), |credits| {
                format!("{credits}クレジットを再度確保し、完成時にお支払いいただきます。")
            });
            let text = format!(
                "担当者が写真を確認しました。問題ありません。これからアバターを作成し、完成したらメールでお知らせします。{credits}"
            );
            Email {
                locale: Locale::Ja,
                subject: "Anumi 写真の確認が完了しました".to_owned(),
                html: layout("ja", &format!("<p>{}</p>", escape_html(&text))),
                text: format!("{text}\n\nAnumi"),
            }
        }
        (Locale::Ja, false) => {
            let text = "担当者が写真を確認した結果、ご利用いただけないため削除しました。\
                        料金は発生していません。別の写真でもう一度お試しください。";
            Email {
                locale: Locale::Ja,
                subject: "Anumi 写真を確認し、削除しました".to_owned(),
                html: layout("ja", &format!("<p>{text}</p>")),
                text: format!("{text}\n\nAnumi"),
            }
        }
    }
}

/// "Save my link": the free trial's private link, to come back to its result later.
pub fn trial_link(locale: Locale, link: &str) -> Email {
    let link_html = escape_html(link);
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "Your Anumi free trial link".to_owned(),
            text: format!(
                "Here is the link to your free trial. It shows your avatar once it is ready, \
                 no account needed:\n{link}\n\nKeep it private: anyone with the link can see the result.\n\nAnumi"
            ),
            html: layout(
                "en",
                &format!(
                    "<p>Here is the link to your free trial. It shows your avatar once it is ready, no account needed:</p>\
                     <p><a href=\"{link_html}\">Open my free trial</a></p>\
                     <p>Keep it private: anyone with the link can see the result.</p>"
                ),
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi 無料お試しのリンク".to_owned(),
            text: format!(
                "無料お試しのリンクです。アバターが完成するとこちらで確認できます（アカウント不要）:\n{link}\n\n\
                 リンクを知っている人は誰でも結果を見られます。共有しないでください。\n\nAnumi"
            ),
            html: layout(
                "ja",
                &format!(
                    "<p>無料お試しのリンクです。アバターが完成するとこちらで確認できます（アカウント不要）。</p>\
                     <p><a href=\"{link_html}\">無料お試しを開く</a></p>\
                     <p>リンクを知っている人は誰でも結果を見られます。共有しないでください。</p>"
                ),
            ),
        },
    }
}

/// "We received your refund request". The form is public, so the email echoes nothing the
/// sender typed except the (charset-checked) order id: it cannot carry someone's message to
/// an address they do not own.
pub fn refund_request_received(locale: Locale, reference: &str, order_id: Option<&str>) -> Email {
    let reference_html = escape_html(reference);
    let order_html = order_id.map(escape_html);
    match locale {
        Locale::En => {
            let order_line = order_id.map_or(String::new(), |id| format!("Order: {id}\n"));
            let order_p = order_html.map_or(String::new(), |id| format!("<p>Order: {id}</p>"));
            Email {
                locale: Locale::En,
                subject: "We received your Anumi refund request".to_owned(),
                text: format!(
                    "We received your refund request and will reply within a few business days.\n\n\
                     Reference: {reference}\n{order_line}\n\
                     If you did not send it, you can ignore this email.\n\nAnumi"
                ),
                html: layout(
                    "en",
                    &format!(
                        "<p>We received your refund request and will reply within a few business days.</p>\
                         <p>Reference: {reference_html}</p>{order_p}\
                         <p>If you did not send it, you can ignore this email.</p>"
                    ),
                ),
            }
        }
        Locale::Ja => {
            let order_line = order_id.map_or(String::new(), |id| format!("注文番号: {id}\n"));
            let order_p = order_html.map_or(String::new(), |id| format!("<p>注文番号: {id}</p>"));
            Email {
                locale,
                subject: "Anumi 返金リクエストを受け付けました".to_owned(),
                text: format!(
                    "返金リクエストを受け付けました。数営業日以内にご連絡します。\n\n\
                     受付番号: {reference}\n{order_line}\n\
                     お心当たりがない場合は、このメールを無視してください。\n\nAnumi"
                ),
                html: layout(
                    "ja",
                    &format!(
                        "<p>返金リクエストを受け付けました。数営業日以内にご連絡します。</p>\
                         <p>受付番号: {reference_html}</p>{order_p}\
                         <p>お心当たりがない場合は、このメールを無視してください。</p>"
                    ),
                ),
            }
        }
    }
}

/// Adds the unsubscribe line every marketing email carries in its body, besides the
/// `List-Unsubscribe` header.
pub fn with_unsubscribe_footer(locale: Locale, email: Email, unsubscribe_url: &str) -> Email {
    let url_html = escape_html(unsubscribe_url);
    let (text, html) = match locale {
        Locale::En => (
            format!("\n\nUnsubscribe from these emails: {unsubscribe_url}"),
            format!(
                "<p style=\"font-size:12px\"><a href=\"{url_html}\">Unsubscribe</a> from these emails.</p>"
            ),
        ),
        Locale::Ja => (
            format!("\n\n配信停止: {unsubscribe_url}"),
            format!("<p style=\"font-size:12px\"><a href=\"{url_html}\">配信停止</a></p>"),
        ),
    };
    append(&email, &text, &html)
}

/// Adds how to reach a person to an email, in its language: every email the service sends
/// carries it (the sender address takes no replies). `Mailer` adds it to every message.
pub fn with_support(email: &Email, support: &EmailAddress) -> Email {
    let address = support.as_str();
    let address_html = escape_html(address);
    let (text, html) = match email.locale {
        Locale::En => (
            format!("\n\nQuestions, or something wrong? Write to {address} : a person answers."),
            format!(
                "<p style=\"font-size:13px;color:#555\">Questions, or something wrong? Write to \
                 <a href=\"mailto:{address_html}\">{address_html}</a> : a person answers.</p>"
            ),
        ),
        Locale::Ja => (
            format!(
                "\n\nご質問やお困りのことがあれば {address} までご連絡ください。担当者がお答えします。"
            ),
            format!(
                "<p style=\"font-size:13px;color:#555\">ご質問やお困りのことがあれば \
                 <a href=\"mailto:{address_html}\">{address_html}</a> までご連絡ください。担当者がお答えします。</p>"
            ),
        ),
    };
    append(email, &text, &html)
}

/// `email` with `text` after its text part and `html` at the end of its HTML body.
fn append(email: &Email, text: &str, html: &str) -> Email {
    let html_with_footer = match email.html.rfind("</body>") {
        Some(at) => format!("{}{html}{}", &email.html[..at], &email.html[at..]),
        None => format!("{}{html}", email.html),
    };
    Email {
        locale: email.locale,
        subject: email.subject.clone(),
        text: format!("{}{text}", email.text),
        html: html_with_footer,
    }
}

/// A marketing campaign's message in one language: the admin's subject and text as written
/// (the text's blank lines make paragraphs). The unsubscribe footer is added by the only
/// sender of marketing email, `crate::marketing::MarketingMailer`.
pub fn campaign(locale: Locale, subject: &str, text: &str) -> Email {
    let paragraphs: String = text
        .split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .map(|paragraph| format!("<p>{}</p>", escape_html(paragraph).replace('\n', "<br>")))
        .collect();
    Email {
        locale,
        subject: subject.to_owned(),
        text: format!("{}\n\nAnumi", text.trim()),
        html: layout(locale.as_str(), &paragraphs),
    }
}

/// The purchase receipt: what was paid and how many credits it bought, with a link to the
/// balance (the app's credits page).
pub fn purchase_receipt(
    locale: Locale,
    credits: i64,
    paid: &str,
    order_id: &str,
    credits_page: &str,
) -> Email {
    let (paid_html, order_html) = (escape_html(paid), escape_html(order_id));
    let page_html = escape_html(credits_page);
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: format!("Your Anumi receipt: {credits} credits"),
            text: format!(
                "Thank you for your purchase.\n\nCredits added: {credits}\nPaid: {paid}\nOrder: {order_id}\n\n\
                 Your balance: {credits_page}\n\n\
                 The invoice comes from Polar, our payment provider.\n\nAnumi"
            ),
            html: layout(
                "en",
                &format!(
                    "<p>Thank you for your purchase.</p>\
                     <p>Credits added: <b>{credits}</b><br>Paid: {paid_html}<br>Order: {order_html}</p>\
                     <p><a href=\"{page_html}\">See your balance</a></p>\
                     <p>The invoice comes from Polar, our payment provider.</p>"
                ),
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: format!("Anumi 領収書: {credits}クレジット"),
            text: format!(
                "ご購入ありがとうございます。\n\n追加されたクレジット: {credits}\nお支払い: {paid}\n注文番号: {order_id}\n\n\
                 残高の確認: {credits_page}\n\n\
                 請求書は決済代行のPolarから届きます。\n\nAnumi"
            ),
            html: layout(
                "ja",
                &format!(
                    "<p>ご購入ありがとうございます。</p>\
                     <p>追加されたクレジット: <b>{credits}</b><br>お支払い: {paid_html}<br>注文番号: {order_html}</p>\
                     <p><a href=\"{page_html}\">残高を確認する</a></p>\
                     <p>請求書は決済代行のPolarから届きます。</p>"
                ),
            ),
        },
    }
}

/// The refund confirmation: money back, credits taken back (and any that were already used),
/// with a link to the balance (the app's credits page).
pub fn refund_confirmation(
    locale: Locale,
    refunded: &str,
    credits_taken: i64,
    credits_already_used: i64,
    order_id: &str,
    credits_page: &str,
) -> Email {
    let (refunded_html, order_html) = (escape_html(refunded), escape_html(order_id));
    let page_html = escape_html(credits_page);
    match locale {
        Locale::En => {
            let used = if credits_already_used > 0 {
                format!(" ({credits_already_used} of the refunded credits had already been used)")
            } else {
                String::new()
            };
            Email {
                locale,
                subject: "Your Anumi refund".to_owned(),
                text: format!(
                    "Your refund is on its way.\n\nRefunded: {refunded}\nCredits taken back: {credits_taken}{used}\nOrder: {order_id}\n\n\
                     Your balance: {credits_page}\n\n\
                     It may take a few days to show on your statement.\n\nAnumi"
                ),
                html: layout(
                    "en",
                    &format!(
                        "<p>Your refund is on its way.</p>\
                         <p>Refunded: {refunded_html}<br>Credits taken back: {credits_taken}{used}<br>Order: {order_html}</p>\
                         <p><a href=\"{page_html}\">See your balance</a></p>\
                         <p>It may take a few days to show on your statement.</p>"
                    ),
                ),
            }
        }
        Locale::Ja => {
            let used = if credits_already_used > 0 {
                format!("（うち{credits_already_used}クレジットは使用済みでした）")
            } else {
                String::new()
            };
            Email {
                locale,
                subject: "Anumi 返金のお知らせ".to_owned(),
                text: format!(
                    "返金を手続きしました。\n\n返金額: {refunded}\n差し引いたクレジット: {credits_taken}{used}\n注文番号: {order_id}\n\n\
                     残高の確認: {credits_page}\n\n\
                     明細への反映には数日かかる場合があります。\n\nAnumi"
                ),
                html: layout(
                    "ja",
                    &format!(
                        "<p>返金を手続きしました。</p>\
                         <p>返金額: {refunded_html}<br>差し引いたクレジット: {credits_taken}{used}<br>注文番号: {order_html}</p>\
                         <p><a href=\"{page_html}\">残高を確認する</a></p>\
                         <p>明細への反映には数日かかる場合があります。</p>"
                    ),
                ),
            }
        }
    }
}

/// The HTML frame of every transactional email.
pub(crate) fn layout(lang: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:sans-serif\">{body}<p>Anumi</p></body></html>"
    )
}

pub fn escape_html(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_email_has_the_code_in_both_parts_in_each_language() {
        for locale in [Locale::En, Locale::Ja] {
            let email = sign_in_code(locale, "042917", 10);
            assert!(email.text.contains("042917"));
            assert!(email.html.contains("042917"));
            assert!(email.text.contains("10"));
            assert!(
                email
                    .html
                    .contains(&format!("lang=\"{}\"", locale.as_str()))
            );
        }
        assert!(
            sign_in_code(Locale::Ja, "042917", 10)
                .subject
                .contains("ログインコード")
        );
        assert!(
            sign_in_code(Locale::En, "042917", 10)
                .subject
                .contains("sign-in code")
        );
    }

    #[test]
    fn trial_link_email_carries_the_escaped_link_in_each_language() {
        let link = "https://anumi.app/trial/t1?token=1.ab&x=<y>";
        for locale in [Locale::En, Locale::Ja] {
            let email = trial_link(locale, link);
            assert!(email.text.contains(link));
            assert!(email.html.contains("token=1.ab&amp;x=&lt;y&gt;"));
            assert!(!email.html.contains("<y>"));
        }
        assert!(trial_link(Locale::Ja, "x").subject.contains("無料お試し"));
    }

    #[test]
    fn refund_confirmation_names_the_reference_and_order_in_each_language() {
        for locale in [Locale::En, Locale::Ja] {
            let email = refund_request_received(locale, "R-1234", Some("ord_<9>"));
            assert!(email.text.contains("R-1234") && email.html.contains("R-1234"));
            assert!(email.text.contains("ord_<9>"));
            assert!(email.html.contains("ord_&lt;9&gt;"));
            let without = refund_request_received(locale, "R-1234", None);
            assert!(!without.text.contains("ord_"));
        }
    }

    #[test]
    fn marketing_footer_links_the_unsubscribe_url_in_both_parts() {
        let base = deliverables_ready(Locale::Ja, "https://anumi.app/x");
        let email =
            with_unsubscribe_footer(Locale::Ja, base, "https://anumi.app/unsubscribe?token=a&b");
        assert!(
            email
                .text
                .contains("https://anumi.app/unsubscribe?token=a&b")
        );
        assert!(email.html.contains("token=a&amp;b"));
        assert!(email.html.find("配信停止").unwrap() < email.html.find("</body>").unwrap());
    }

    #[test]
    fn every_email_names_the_support_address_in_its_language() {
        let support = EmailAddress::parse("support@anumi.app").unwrap();
        for locale in [Locale::En, Locale::Ja] {
            for email in [
                sign_in_code(locale, "123456", 10),
                deliverables_ready(locale, "https://anumi.app/generations/g"),
                trial_ready(locale, "https://anumi.app/trial/t", "2026-12-01T00:00:00Z"),
                trial_link(locale, "https://anumi.app/trial/t"),
                selfie_held(locale, Some(2), "2026-12-01T00:00:00Z", Some("https://x")),
                selfie_held(locale, None, "2026-12-01T00:00:00Z", None),
                review_outcome(locale, true, Some(2)),
                review_outcome(locale, false, None),
                refund_request_received(locale, "R-1", None),
                purchase_receipt(locale, 10, "$5.00", "o1", "https://anumi.app/credits"),
                refund_confirmation(locale, "$5.00", 10, 0, "o1", "https://anumi.app/credits"),
            ] {
                assert_eq!(email.locale, locale);
                let with = with_support(&email, &support);
                assert!(with.text.contains("support@anumi.app"), "{}", with.subject);
                assert!(with.html.contains("mailto:support@anumi.app"));
                assert!(with.html.find("support@").unwrap() < with.html.find("</body>").unwrap());
                let words = match locale {
                    Locale::En => "Write to",
                    Locale::Ja => "までご連絡ください",
                };
                assert!(with.text.contains(words), "{}", with.text);
            }
        }
    }

    #[test]
    fn the_trial_ready_email_speaks_of_one_avatar_and_no_account() {
        let email = trial_ready(
            Locale::En,
            "https://anumi.app/trial/t",
            "2026-12-01T00:00:00Z",
        );
        let all = format!("{} {} {}", email.subject, email.text, email.html).to_lowercase();
        assert!(!all.contains("avatars"), "{all}");
        assert!(!all.contains("sign in"), "{all}");
        assert!(all.contains("no account needed"));
        assert!(all.contains("2026-12-01t00:00:00z"));
    }

    #[test]
    fn the_held_email_says_why_that_credits_came_back_and_what_happens_next() {
        for (locale, words) in [
            (
                Locale::En,
                [
                    "held",
                    "credit(s) reserved for it are back",
                    "within 5 days",
                    "deleted",
                ],
            ),
            (Locale::Ja, ["保留", "残高に戻しました", "5日以内", "削除"]),
        ] {
            let email = selfie_held(locale, Some(2), "2026-12-01T00:00:00Z", Some("https://x"));
            for word in words {
                assert!(
                    email.text.contains(word) && email.html.contains(word),
                    "{word}"
                );
            }
            let trial = selfie_held(locale, None, "2026-12-01T00:00:00Z", None);
            assert!(!trial.text.contains("credit") && !trial.text.contains("クレジット"));
        }
    }

    #[test]
    fn html_values_are_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
