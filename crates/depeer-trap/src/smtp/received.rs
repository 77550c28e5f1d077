//! The trap's own `Received:` line, prepended to every message it stores,
//! in Postfix's form so that depeer's own `Received:` parser (and
//! SpamAssassin's) read the connecting address as the relay:
//!
//! ```text
//! Received: from HELO (unknown [192.0.2.1])
//!     (using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384)
//!     by HOSTNAME (depeer-trap) with ESMTPS id ID
//!     for <first-rcpt>; Mon, 07 Dec 2026 03:30:46 +0000
//! ```
//!
//! HELO names and addresses come from the client: every byte that could
//! break the line's syntax (controls, spaces, parentheses, semicolons,
//! angle brackets, non-ASCII) becomes `?` here; the columns keep them as
//! sent.

use std::fmt::Write as _;
use std::net::IpAddr;

use depeer_core::{Timestamp, civil_from_days};

use super::Transaction;

/// The header line (with its CRLF) for one message received from `peer`
/// at `time`, stored under `id`.
pub fn received_line(
    t: &Transaction,
    peer: IpAddr,
    hostname: &str,
    id: &str,
    time: Timestamp,
) -> Vec<u8> {
    let helo = t
        .helo
        .as_deref()
        .map_or_else(|| "unknown".to_string(), |h| safe(h, 255));
    let ip = match peer {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("IPv6:{v6}"),
    };
    let mut s = format!("Received: from {helo} (unknown [{ip}])\r\n");
    if let Some(tls) = &t.tls {
        let (proto, cipher) = tls.split_once(' ').unwrap_or((tls.as_str(), ""));
        let _ = write!(
            s,
            "\t(using {} with cipher {})\r\n",
            safe(proto, 64),
            safe(cipher, 64)
        );
    }
    let with = match (t.esmtp, t.tls.is_some()) {
        (true, true) => "ESMTPS",
        (true, false) => "ESMTP",
        (false, true) => "SMTPS",
        (false, false) => "SMTP",
    };
    let _ = write!(
        s,
        "\tby {} (depeer-trap) with {with} id {id}",
        safe(hostname, 255)
    );
    if let Some(r) = t.rcpt_to.first() {
        let _ = write!(s, "\r\n\tfor <{}>", safe(r, 255));
    }
    let _ = write!(s, "; {}\r\n", rfc5322_date(time));
    s.into_bytes()
}

/// `s` with every byte that could break the header's syntax replaced.
fn safe(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '(' | ')' | ';' | '<' | '>' | '\\' | '"') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// RFC 5322 §3.3 date in UTC: `Mon, 07 Dec 2026 03:30:46 +0000`.
pub(crate) fn rfc5322_date(t: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.0.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .unwrap_or(&"Thu");
    let mon = MONTHS
        .get(usize::try_from(m).unwrap_or(1).saturating_sub(1))
        .unwrap_or(&"Jan");
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Transaction {
        Transaction {
            helo: Some("bot (evil); x".into()),
            esmtp: true,
            mail_from: "a@x".into(),
            rcpt_to: vec!["b@trap.example".into()],
            tls: Some("TLSv1.3 TLS13_AES_256_GCM_SHA384".into()),
            anomalies: vec![],
        }
    }

    #[test]
    fn dates_are_rfc5322() {
        // 2026-12-07T03:30:46Z was a Monday.
        let ts = Timestamp(1_796_614_246 * 1_000_000);
        assert_eq!(rfc5322_date(ts), "Mon, 07 Dec 2026 03:30:46 +0000");
        assert_eq!(
            rfc5322_date(Timestamp(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000"
        );
    }

    #[test]
    fn the_line_is_postfix_shaped_and_parses_back() {
        let line = received_line(
            &t(),
            "192.0.2.7".parse().unwrap(),
            "trap.example",
            "ABC",
            Timestamp(0),
        );
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(
            text.starts_with("Received: from bot??evil???x (unknown [192.0.2.7])\r\n"),
            "{text}"
        );
        assert!(text.contains("\tby trap.example (depeer-trap) with ESMTPS id ABC\r\n\tfor <b@trap.example>; Thu, 01 Jan 1970"));
        let value = text.trim_start_matches("Received:");
        let hop = depeer_mail::parse_received(value).expect("parses");
        assert_eq!(hop.from_ip, Some("192.0.2.7".parse().unwrap()));
        let v6 = received_line(&t(), "2001:db8::1".parse().unwrap(), "h", "I", Timestamp(0));
        let v6 = String::from_utf8(v6).unwrap();
        let hop = depeer_mail::parse_received(v6.trim_start_matches("Received:")).unwrap();
        assert_eq!(hop.from_ip, Some("2001:db8::1".parse().unwrap()));
    }
}
