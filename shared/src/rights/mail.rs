//! The emails of the rights requests (en, ja; text + HTML).

use crate::email::Email;
use crate::email::templates::{escape_html, layout};
use crate::locale::Locale;

/// The archive is ready: a link valid until `valid_days` from now.
pub fn export_ready(locale: Locale, link: &str, valid_days: i64) -> Email {
    let link_html = escape_html(link);
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "Your Anumi data export is ready".to_owned(),
            text: format!(
                "The copy of your data you asked for is ready.\n\n\
                 Download it here (the link works for {valid_days} days):\n{link}\n\n\
                 It is a zip of JSON files and your images; manifest.json and EXPORT_SCHEMA.md inside describe it.\n\nAnumi"
            ),
            html: layout(
                "en",
                &format!(
                    "<p>The copy of your data you asked for is ready.</p>\
                     <p><a href=\"{link_html}\">Download it</a> (the link works for {valid_days} days).</p>\
                     <p>It is a zip of JSON files and your images; manifest.json and EXPORT_SCHEMA.md inside describe it.</p>"
                ),
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi データのエクスポートが完了しました".to_owned(),
            text: format!(
                "ご依頼のデータのコピーの準備ができました。\n\n\
                 こちらからダウンロードできます（リンクの有効期間は{valid_days}日です）:\n{link}\n\n\
                 JSONファイルと画像のzipです。内容は同梱の manifest.json と EXPORT_SCHEMA.md に記載しています。\n\nAnumi"
            ),
            html: layout(
                "ja",
                &format!(
                    "<p>ご依頼のデータのコピーの準備ができました。</p>\
                     <p><a href=\"{link_html}\">ダウンロードする</a>（リンクの有効期間は{valid_days}日です）</p>\
                     <p>JSONファイルと画像のzipです。内容は同梱の manifest.json と EXPORT_SCHEMA.md に記載しています。</p>"
                ),
            ),
        },
    }
}

/// The erasure request is recorded.
pub fn erasure_received(locale: Locale) -> Email {
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "We received your Anumi account deletion request".to_owned(),
            text: "We received your request to delete your account and its data.\n\n\
                   Everything is erased within 30 days, normally within the hour; we email you once it is done. \
                   Transaction records we must keep for tax law stay, without your email.\n\nAnumi"
                .to_owned(),
            html: layout(
                "en",
                "<p>We received your request to delete your account and its data.</p>\
                 <p>Everything is erased within 30 days, normally within the hour; we email you once it is done. \
                 Transaction records we must keep for tax law stay, without your email.</p>",
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi アカウント削除のご依頼を受け付けました".to_owned(),
            text: "アカウントとデータの削除のご依頼を受け付けました。\n\n\
                   30日以内（通常は1時間以内）にすべて削除し、完了したらお知らせします。\
                   税法上保管が必要な取引記録は、メールアドレスを除いて保管します。\n\nAnumi"
                .to_owned(),
            html: layout(
                "ja",
                "<p>アカウントとデータの削除のご依頼を受け付けました。</p>\
                 <p>30日以内（通常は1時間以内）にすべて削除し、完了したらお知らせします。\
                 税法上保管が必要な取引記録は、メールアドレスを除いて保管します。</p>",
            ),
        },
    }
}

/// The erasure is done: the last message that names the person.
pub fn erasure_done(locale: Locale) -> Email {
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "Your Anumi account and data are deleted".to_owned(),
            text: "Your account and its data are now deleted. This is the last email we send to this address \
                   unless you sign up again.\n\nAnumi"
                .to_owned(),
            html: layout(
                "en",
                "<p>Your account and its data are now deleted. This is the last email we send to this address \
                 unless you sign up again.</p>",
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi アカウントとデータを削除しました".to_owned(),
            text: "アカウントとデータの削除が完了しました。再度ご登録いただかない限り、\
                   このアドレスへのメールはこれが最後です。\n\nAnumi"
                .to_owned(),
            html: layout(
                "ja",
                "<p>アカウントとデータの削除が完了しました。再度ご登録いただかない限り、\
                 このアドレスへのメールはこれが最後です。</p>",
            ),
        },
    }
}

/// The code that proves the new address of an email change (sent to the new address only).
pub fn email_change_code(locale: Locale, code: &str, minutes: i64) -> Email {
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "Confirm your new Anumi sign-in email".to_owned(),
            text: format!(
                "Your code to make this address the sign-in email of your Anumi account: {code}\n\n\
                 It works for {minutes} minutes. If you did not ask for this, ignore this email.\n\nAnumi"
            ),
            html: layout(
                "en",
                &format!(
                    "<p>Your code to make this address the sign-in email of your Anumi account:</p>\
                     <p style=\"font-size:24px;letter-spacing:4px\"><b>{code}</b></p>\
                     <p>It works for {minutes} minutes. If you did not ask for this, ignore this email.</p>"
                ),
            ),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi の新しいサインイン用メールアドレスの確認".to_owned(),
            text: format!(
                "このアドレスを Anumi アカウントのサインイン用メールアドレスにするための確認コード: {code}\n\n\
                 有効期間は{minutes}分です。お心当たりがない場合はこのメールを無視してください。\n\nAnumi"
            ),
            html: layout(
                "ja",
                &format!(
                    "<p>このアドレスを Anumi アカウントのサインイン用メールアドレスにするための確認コード:</p>\
                     <p style=\"font-size:24px;letter-spacing:4px\"><b>{code}</b></p>\
                     <p>有効期間は{minutes}分です。お心当たりがない場合はこのメールを無視してください。</p>"
                ),
            ),
        },
    }
}

/// The email change is done. `to_new`: the message for the new address; otherwise the one
/// for the old address, which names no address (it may no longer be the person's).
pub fn email_changed(locale: Locale, to_new: bool) -> Email {
    let (en, ja) = if to_new {
        (
            "This address is now the sign-in email of your Anumi account.",
            "このアドレスが Anumi アカウントのサインイン用メールアドレスになりました。",
        )
    } else {
        (
            "The sign-in email of your Anumi account was changed to another address; \
             this address no longer signs in to it. If you did not do this, write to our support address \
             below at once.",
            "Anumi アカウントのサインイン用メールアドレスが別のアドレスに変更されました。\
             このアドレスではサインインできなくなります。お心当たりがない場合は、下記のサポート窓口まですぐにご連絡ください。",
        )
    };
    match locale {
        Locale::En => Email {
            locale: Locale::En,
            subject: "Your Anumi sign-in email was changed".to_owned(),
            text: format!("{en}\n\nAnumi"),
            html: layout("en", &format!("<p>{en}</p>")),
        },
        Locale::Ja => Email {
            locale: Locale::Ja,
            subject: "Anumi のサインイン用メールアドレスを変更しました".to_owned(),
            text: format!("{ja}\n\nAnumi"),
            html: layout("ja", &format!("<p>{ja}</p>")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rights_email_exists_in_both_languages_with_both_parts() {
        for locale in [Locale::En, Locale::Ja] {
            let ready = export_ready(locale, "https://x.test/e?a=1&b=2", 7);
            assert!(ready.text.contains("https://x.test/e?a=1&b=2"));
            assert!(ready.html.contains("https://x.test/e?a=1&amp;b=2"));
            let code = email_change_code(locale, "123456", 10);
            assert!(code.text.contains("123456") && code.html.contains("123456"));
            for email in [
                ready,
                erasure_received(locale),
                erasure_done(locale),
                code,
                email_changed(locale, true),
                email_changed(locale, false),
            ] {
                assert!(
                    email
                        .html
                        .contains(&format!("lang=\"{}\"", locale.as_str()))
                );
                assert!(!email.text.is_empty() && !email.subject.is_empty());
            }
        }
        assert!(erasure_done(Locale::Ja).subject.contains("削除"));
    }
}
