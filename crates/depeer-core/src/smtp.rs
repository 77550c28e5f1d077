//! The SMTP envelope of a message received live (by `depeer trap`): who
//! connected, what it said, and how. Stored in the nullable `smtp_*`
//! columns of `messages` (docs/schema.md); messages read from files have
//! none.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The envelope of one message received over SMTP.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SmtpEnvelope {
    /// The connecting address (the relay).
    pub peer_ip: IpAddr,
    /// The HELO/EHLO argument as sent; `None` when the client sent none.
    pub helo: Option<String>,
    /// The `MAIL FROM` path without angle brackets (empty for the null
    /// sender `<>`).
    pub mail_from: Option<String>,
    /// The accepted `RCPT TO` paths in order, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The TLS protocol and cipher suite when the session used STARTTLS
    /// (`TLSv1.3 TLS13_AES_256_GCM_SHA384`).
    pub tls: Option<String>,
    /// What the client got wrong and the trap tolerated, as short words
    /// (`bare-lf`, `nul`, `no-final-crlf`, ...), in a fixed order.
    pub anomalies: Vec<String>,
}

impl SmtpEnvelope {
    /// The `smtp_rcpt_to` column: the recipients as a JSON array of
    /// strings (unambiguous whatever the addresses contain).
    pub fn rcpt_to_json(&self) -> String {
        serde_json_array(&self.rcpt_to)
    }

    /// The `smtp_anomalies` column: the words separated by one space;
    /// `None` when there were none.
    pub fn anomalies_text(&self) -> Option<String> {
        (!self.anomalies.is_empty()).then(|| self.anomalies.join(" "))
    }
}

/// A JSON array of strings, escaped as RFC 8259 requires (no serde_json in
/// core: this is the one place that writes JSON).
fn serde_json_array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_a_json_array() {
        let e = SmtpEnvelope {
            peer_ip: "192.0.2.1".parse().unwrap(),
            helo: None,
            mail_from: None,
            rcpt_to: vec![
                "a@x.example".into(),
                "\"b c\\\"\"@y.example".into(),
                "\u{1}".into(),
            ],
            tls: None,
            anomalies: vec![],
        };
        assert_eq!(
            e.rcpt_to_json(),
            r#"["a@x.example","\"b c\\\"\"@y.example","\u0001"]"#
        );
        assert_eq!(e.anomalies_text(), None);
    }
}
