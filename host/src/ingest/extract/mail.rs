//! E-mail messages (`.eml`, RFC 5322 with MIME) through `mail-parser`: one section holding the
//! headers a reader looks for (Subject, From, To, Cc, Date), the text bodies (HTML bodies as
//! text) and the names of the attachments (their content is not read).

use mail_parser::{Address, MessageParser, MimeHeaders};

use super::{Place, Section};

/// The message as one section. Errors: bytes that are not a message.
pub fn message(bytes: &[u8]) -> Result<Vec<Section>, String> {
    let msg = MessageParser::default().parse(bytes).ok_or("not an e-mail message (RFC 5322)")?;
    if msg.headers().is_empty() {
        return Err("not an e-mail message: no headers".into());
    }
    let mut text = String::new();
    let mut header = |name: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            text.push_str(&format!("{name}: {v}\n"));
        }
    };
    header("Subject", msg.subject().map(str::to_string));
    header("From", msg.from().map(addresses));
    header("To", msg.to().map(addresses));
    header("Cc", msg.cc().map(addresses));
    header("Date", msg.date().map(|d| d.to_rfc3339()));
    text.push('\n');
    for i in 0..msg.text_body_count() {
        if let Some(body) = msg.body_text(i) {
            text.push_str(body.trim_end());
            text.push_str("\n\n");
        }
    }
    let names: Vec<&str> = msg.attachments().filter_map(|a| a.attachment_name()).collect();
    if !names.is_empty() {
        text.push_str(&format!("Attachments: {}\n", names.join(", ")));
    }
    Ok(vec![Section::text(Place::new(), text)])
}

/// "Name <address>, ..." of an address list or groups.
fn addresses(a: &Address) -> String {
    a.iter()
        .map(|x| match (x.name(), x.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => n.to_string(),
            (None, Some(e)) => e.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::Body;
    use super::*;

    #[test]
    fn headers_body_and_attachment_names() {
        let eml = "From: Ana Lima <ana@fund.example>\r\nTo: deals@fund.example\r\nSubject: Acme term sheet\r\n\
                   Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
                   Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
                   The pro rata right is agreed.\r\n--b\r\nContent-Type: application/pdf\r\n\
                   Content-Disposition: attachment; filename=\"terms.pdf\"\r\n\r\n%PDF\r\n--b--\r\n";
        let s = message(eml.as_bytes()).unwrap();
        let Body::Text(t) = &s[0].body else { panic!() };
        for want in [
            "Subject: Acme term sheet",
            "From: Ana Lima <ana@fund.example>",
            "To: deals@fund.example",
            "Date: 2026-12-07T10:00:00Z",
            "The pro rata right is agreed.",
            "Attachments: terms.pdf",
        ] {
            assert!(t.contains(want), "{want} not in {t}");
        }
        assert!(message(b"").is_err());
    }
}
