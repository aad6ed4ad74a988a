//! The local mail viewer: `GET /_local/mail` shows every email SES accepted, newest first,
//! both parts (the HTML in a sandboxed frame, the text as it is) and their links;
//! `GET /_local/mail.json` gives the same to tests.

use crate::gateway::event::readable_time;
use crate::pages::{escape, page};

use super::SentEmail;

/// Where the viewer lives on the gateway (loopback clients only, like every `/_local/` route).
pub const PATH: &str = "/_local/mail";
/// The JSON form: `[{id, from, to, subject, text, html, links, sent_at}]`, newest first.
pub const JSON_PATH: &str = "/_local/mail.json";

/// The viewer page for `messages` (newest first).
pub fn render(messages: &[SentEmail]) -> String {
    let mut body = format!(
        "<h1>Mail</h1><p class=\"meta\">Every email the service sent through the emulated SES \
         ({} so far), newest first. Nothing leaves this machine. Reload for new mail; \
         <a href=\"{JSON_PATH}\">JSON</a> for scripts.</p>",
        messages.len()
    );
    if messages.is_empty() {
        body.push_str(
            "<div class=\"card\"><p>No email yet. Sign in on the app and the code arrives here.</p></div>",
        );
    }
    for message in messages {
        body.push_str(&card(message));
    }
    page("Mail", &body)
}

fn card(message: &SentEmail) -> String {
    let when = message
        .sent_at
        .map(|secs| readable_time(secs as u64))
        .unwrap_or_else(|| "time unknown".to_owned());
    let mut out = format!(
        "<article class=\"card\" id=\"{id}\"><h2>{subject}</h2>\
         <p class=\"meta\">To {to} · from {from} · {when}</p>",
        id = escape(&message.id),
        subject = escape(&message.subject),
        to = escape(&message.to.join(", ")),
        from = escape(&message.from),
        when = escape(&when),
    );
    if let Some(html) = &message.html {
        // Links open in the viewer's tab; the email's own scripts never run (no
        // allow-scripts), and it cannot reach the viewer (no allow-same-origin).
        let document = format!("<base target=\"_top\">{html}");
        out.push_str(&format!(
            "<iframe title=\"HTML part of: {title}\" sandbox=\"allow-top-navigation-by-user-activation allow-popups allow-popups-to-escape-sandbox\" srcdoc=\"{doc}\"></iframe>",
            title = escape(&message.subject),
            doc = escape(&document),
        ));
    }
    out.push_str(&format!(
        "<details{open}><summary>Text part</summary><pre>{}</pre></details>",
        escape(&message.text),
        open = if message.html.is_none() { " open" } else { "" },
    ));
    if !message.links.is_empty() {
        out.push_str("<details open><summary>Links</summary><ul class=\"links\">");
        for link in &message.links {
            out.push_str(&format!("<li><a href=\"{0}\">{0}</a></li>", escape(link)));
        }
        out.push_str("</ul></details>");
    }
    out.push_str("</article>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> SentEmail {
        SentEmail::new(
            "m1".into(),
            "no-reply@anumi.app".into(),
            vec!["yui@example.com".into()],
            "Your code <123456>".into(),
            Some("Code 123456: https://anumi.app/sign-in".into()),
            Some("<p style=\"color:red\">Code <b>123456</b> <a href=\"https://anumi.app/sign-in\">sign in</a></p>\"".into()),
            Some(1_795_950_063.0),
        )
    }

    #[test]
    fn both_parts_and_clickable_links_are_shown_escaped() {
        let document = render(&[message()]);
        assert!(document.contains("<h2>Your code &lt;123456&gt;</h2>"));
        assert!(document.contains("To yui@example.com"));
        assert!(document.contains("2026-11-29 "));
        assert!(document.contains("<pre>Code 123456: https://anumi.app/sign-in</pre>"));
        assert!(
            document
                .contains("<a href=\"https://anumi.app/sign-in\">https://anumi.app/sign-in</a>")
        );
        // The HTML part stays inside the srcdoc attribute: its quotes are escaped.
        let frame = &document[document.find("<iframe").unwrap()..];
        let frame = &frame[..frame.find("</iframe>").unwrap()];
        assert!(frame.contains("sandbox=\"allow-top-navigation-by-user-activation"));
        assert!(!frame.contains("allow-scripts") && !frame.contains("allow-same-origin"));
        assert!(frame.contains(
            "srcdoc=\"&lt;base target=&quot;_top&quot;&gt;&lt;p style=&quot;color:red&quot;&gt;"
        ));
        assert_eq!(frame.matches('"').count() % 2, 0);
    }

    #[test]
    fn an_empty_mailbox_says_so() {
        assert!(render(&[]).contains("No email yet"));
    }
}
