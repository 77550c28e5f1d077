//! The SMTP command state machine (RFC 5321, RFC 3207 STARTTLS, RFC 1870
//! SIZE, RFC 2920 PIPELINING, RFC 6531 SMTPUTF8, RFC 2034 enhanced status
//! codes): command lines in, replies and the next thing the socket must do
//! out. Pure: no I/O, no clock, no allocation beyond the envelope; the
//! socket code (`crate::session`) owns reading, writing and timeouts.
//!
//! Hand-written rather than taken from a crate on purpose: a spamtrap must
//! *tolerate* what bots send (missing HELO, `MAIL FROM:addr` without angle
//! brackets, spaces after the colon, bare LF, NUL bytes, lower case) while
//! bounding what they can cost (recipients, errors, line length), and the
//! exact reply for each case is part of what the trap records and what the
//! tests check. The SMTP crates available either refuse malformed input or
//! bring a whole mail server; this file is small enough to read against the
//! RFCs.

use std::collections::HashSet;
use std::net::IpAddr;

/// What the machine needs to know about the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The name in the greeting, replies and `Received:` lines.
    pub hostname: String,
    /// The SIZE limit of a message, in bytes.
    pub max_size: u64,
    /// Recipients accepted per message (RFC 5321 §4.5.3.1.8: at least 100).
    pub max_rcpt: usize,
    /// Hard errors (5xx replies to commands) before the session is closed
    /// with 421, as Postfix's `smtpd_hard_error_limit`.
    pub max_errors: u32,
    /// The trap domains, lowercase; `None` accepts every domain.
    pub domains: Option<HashSet<String>>,
    /// Whether STARTTLS is offered.
    pub tls: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hostname: "depeer-trap.invalid".into(),
            max_size: 10 << 20,
            max_rcpt: 100,
            max_errors: 20,
            domains: None,
            tls: false,
        }
    }
}

/// One reply: a code, an enhanced status code (empty for the greeting and
/// EHLO) and one or more text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text lines (at least one).
    pub lines: Vec<String>,
}

impl Reply {
    fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    /// The reply on the wire (`250-a\r\n250 b\r\n`), appended to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let n = self.lines.len();
        for (i, l) in self.lines.iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{sep}{l}\r\n", self.code).as_bytes());
        }
    }
}

/// What the socket does after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send the reply and read the next command.
    Reply(Reply),
    /// Send the reply and close the connection.
    Close(Reply),
    /// Send the reply (220), drop any buffered input (RFC 3207 §4.2), run
    /// the TLS handshake, then [`Machine::tls_started`].
    StartTls(Reply),
    /// Send the reply (354) and read the message with a
    /// [`super::DataReader`], then [`Machine::data_end`].
    Data(Reply),
}

/// The envelope and session facts of one message, when DATA ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// HELO/EHLO argument, if any.
    pub helo: Option<String>,
    /// Whether the client said EHLO.
    pub esmtp: bool,
    /// MAIL FROM path (empty for `<>`).
    pub mail_from: String,
    /// Accepted recipients.
    pub rcpt_to: Vec<String>,
    /// TLS protocol and cipher, when TLS is on.
    pub tls: Option<String>,
    /// Anomalies of the session and the message, in a fixed order.
    pub anomalies: Vec<String>,
}

/// The session state (RFC 5321 §4.1.4 ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before MAIL (after the greeting, HELO, RSET or a delivery).
    Idle,
    /// After MAIL FROM.
    Mail,
    /// After at least one accepted RCPT TO.
    Rcpt,
    /// After DATA's 354, until [`Machine::data_end`].
    Data,
    /// After the message was handed over, until [`Machine::delivered`].
    Delivering,
}

/// One SMTP session's state machine.
#[derive(Debug)]
pub struct Machine<'c> {
    cfg: &'c Config,
    state: State,
    helo: Option<String>,
    esmtp: bool,
    tls: Option<String>,
    mail_from: String,
    rcpt_to: Vec<String>,
    errors: u32,
    /// Session anomalies (`no-helo`, `bare-lf-command`, `nul-command`).
    anomalies: Vec<&'static str>,
}

/// Whole-word anomalies, in the order they are reported.
const ANOMALY_ORDER: [&str; 6] = [
    "no-helo",
    "bare-lf-command",
    "nul-command",
    "bare-lf",
    "nul",
    "no-final-crlf",
];

impl<'c> Machine<'c> {
    /// A session that just connected (send [`Machine::greeting`] first).
    pub fn new(cfg: &'c Config) -> Self {
        Machine {
            cfg,
            state: State::Idle,
            helo: None,
            esmtp: false,
            tls: None,
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            errors: 0,
            anomalies: Vec::new(),
        }
    }

    /// The 220 greeting.
    pub fn greeting(&self) -> Reply {
        Reply::new(220, format!("{} ESMTP depeer-trap", self.cfg.hostname))
    }

    /// The reply when a command or the message did not arrive in time.
    pub fn timeout(&self) -> Reply {
        Reply::new(
            421,
            format!("4.4.2 {} Error: timeout exceeded", self.cfg.hostname),
        )
    }

    /// The reply when the server shuts down.
    pub fn shutdown(&self) -> Reply {
        Reply::new(
            421,
            format!("4.3.2 {} Service shutting down", self.cfg.hostname),
        )
    }

    /// The reply to a connection over the connection limits.
    pub fn too_many_connections(cfg: &Config) -> Reply {
        Reply::new(
            421,
            format!("4.7.0 {} Error: too many connections", cfg.hostname),
        )
    }

    /// Whether a message is being received or handed over (a shutdown then
    /// waits for [`Machine::delivered`]).
    pub fn in_data(&self) -> bool {
        matches!(self.state, State::Data | State::Delivering)
    }

    /// A command line that was longer than the line cap (its bytes were
    /// dropped up to the next line end).
    pub fn line_too_long(&mut self) -> Step {
        self.error(500, "5.5.2 Error: line too long")
    }

    /// One command line, without its line end; `bare_lf` when it ended in
    /// LF alone.
    pub fn line(&mut self, line: &[u8], bare_lf: bool) -> Step {
        if bare_lf {
            self.note("bare-lf-command");
        }
        if line.contains(&0) {
            self.note("nul-command");
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches([' ', '\t', '\r']);
        let (verb, arg) = match text.find([' ', '\t']) {
            Some(i) => (
                text.get(..i).unwrap_or(""),
                text.get(i..).unwrap_or("").trim_start(),
            ),
            None => (text, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => self.hello(arg, true),
            "HELO" => self.hello(arg, false),
            "MAIL" => self.mail(arg),
            "RCPT" => self.rcpt(arg),
            "DATA" => self.data(arg),
            "RSET" => {
                self.reset();
                ok("2.0.0 Ok")
            }
            "NOOP" => ok("2.0.0 Ok"),
            "QUIT" => Step::Close(Reply::new(221, "2.0.0 Bye")),
            "VRFY" => Step::Reply(Reply::new(
                252,
                "2.0.0 Cannot VRFY user; try RCPT to attempt delivery",
            )),
            "HELP" => Step::Reply(Reply::new(214, "2.0.0 See RFC 5321")),
            "STARTTLS" => self.starttls(arg),
            "EXPN" | "BDAT" | "AUTH" | "ETRN" | "TURN" | "ATRN" | "SEND" | "SOML" | "SAML" => {
                self.error(502, "5.5.1 Error: command not implemented")
            }
            _ => self.error(500, "5.5.2 Error: command not recognized"),
        }
    }

    fn note(&mut self, anomaly: &'static str) {
        if !self.anomalies.contains(&anomaly) {
            self.anomalies.push(anomaly);
        }
    }

    /// A hard error: the reply, or 421 and close past the error limit.
    fn error(&mut self, code: u16, text: &str) -> Step {
        self.errors += 1;
        if self.errors > self.cfg.max_errors {
            return Step::Close(Reply::new(
                421,
                format!("4.7.0 {} Error: too many errors", self.cfg.hostname),
            ));
        }
        Step::Reply(Reply::new(code, text))
    }

    fn reset(&mut self) {
        self.state = State::Idle;
        self.mail_from.clear();
        self.rcpt_to.clear();
    }

    fn hello(&mut self, arg: &str, esmtp: bool) -> Step {
        if arg.is_empty() {
            let verb = if esmtp { "EHLO" } else { "HELO" };
            return self.error(501, &format!("5.5.4 Syntax: {verb} hostname"));
        }
        self.reset();
        self.helo = Some(clip(arg, 255).to_string());
        self.esmtp = esmtp;
        if !esmtp {
            return Step::Reply(Reply::new(250, self.cfg.hostname.clone()));
        }
        let mut lines = vec![
            self.cfg.hostname.clone(),
            "PIPELINING".into(),
            format!("SIZE {}", self.cfg.max_size),
            "8BITMIME".into(),
            "SMTPUTF8".into(),
            "ENHANCEDSTATUSCODES".into(),
        ];
        if self.cfg.tls && self.tls.is_none() {
            lines.push("STARTTLS".into());
        }
        Step::Reply(Reply { code: 250, lines })
    }

    fn starttls(&mut self, arg: &str) -> Step {
        if !self.cfg.tls || self.tls.is_some() {
            return self.error(503, "5.5.1 Error: TLS not available");
        }
        if !arg.is_empty() {
            return self.error(501, "5.5.4 Syntax: STARTTLS");
        }
        Step::StartTls(Reply::new(220, "2.0.0 Ready to start TLS"))
    }

    /// The TLS handshake finished: the session starts over (RFC 3207 §4.2:
    /// the client must say EHLO again; what it said before is forgotten).
    pub fn tls_started(&mut self, description: String) {
        self.reset();
        self.helo = None;
        self.esmtp = false;
        self.tls = Some(description);
    }

    fn mail(&mut self, arg: &str) -> Step {
        if self.state != State::Idle {
            return self.error(503, "5.5.1 Error: nested MAIL command");
        }
        let Some(rest) = strip_keyword(arg, "FROM:") else {
            return self.error(501, "5.5.4 Syntax: MAIL FROM:<address>");
        };
        let Some((path, params)) = parse_path(rest) else {
            return self.error(501, "5.1.7 Bad sender address syntax");
        };
        for p in params.split_ascii_whitespace() {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            if k.eq_ignore_ascii_case("SIZE")
                && v.parse::<u64>().is_ok_and(|n| n > self.cfg.max_size)
            {
                return Step::Reply(Reply::new(552, "5.3.4 Message size exceeds fixed limit"));
            }
        }
        if self.helo.is_none() {
            // Tolerated (Postfix's default), and recorded.
            self.note("no-helo");
        }
        self.mail_from = clip(&path, 1024).to_string();
        self.state = State::Mail;
        ok("2.1.0 Ok")
    }

    fn rcpt(&mut self, arg: &str) -> Step {
        if self.state == State::Idle {
            return self.error(503, "5.5.1 Error: need MAIL command");
        }
        if !matches!(self.state, State::Mail | State::Rcpt) {
            return self.error(503, "5.5.1 Error: bad sequence of commands");
        }
        let Some(rest) = strip_keyword(arg, "TO:") else {
            return self.error(501, "5.5.4 Syntax: RCPT TO:<address>");
        };
        let Some((path, _params)) = parse_path(rest) else {
            return self.error(501, "5.1.3 Bad recipient address syntax");
        };
        if path.is_empty() {
            return self.error(501, "5.1.3 Bad recipient address syntax");
        }
        if self.rcpt_to.len() >= self.cfg.max_rcpt {
            return Step::Reply(Reply::new(452, "4.5.3 Error: too many recipients"));
        }
        if !self.accepts(&path) {
            return self.error(554, "5.7.1 Relay access denied");
        }
        self.rcpt_to.push(clip(&path, 1024).to_string());
        self.state = State::Rcpt;
        ok("2.1.5 Ok")
    }

    /// Whether `path` is for a trap domain (`postmaster` alone always is).
    fn accepts(&self, path: &str) -> bool {
        let Some(domains) = &self.cfg.domains else {
            return true;
        };
        match path.rsplit_once('@') {
            Some((_, d)) => domains.contains(&d.trim_end_matches('.').to_ascii_lowercase()),
            None => path.eq_ignore_ascii_case("postmaster"),
        }
    }

    fn data(&mut self, arg: &str) -> Step {
        if !arg.is_empty() {
            return self.error(501, "5.5.4 Syntax: DATA");
        }
        match self.state {
            State::Idle => self.error(503, "5.5.1 Error: need RCPT command"),
            State::Mail => self.error(554, "5.5.1 Error: no valid recipients"),
            State::Rcpt => {
                self.state = State::Data;
                Step::Data(Reply::new(354, "End data with <CR><LF>.<CR><LF>"))
            }
            State::Data | State::Delivering => {
                self.error(503, "5.5.1 Error: bad sequence of commands")
            }
        }
    }

    /// DATA ended: `Ok` hands the transaction over for storing (then
    /// [`Machine::delivered`]); `Err` is the reply when it cannot be
    /// stored (over the size cap). `message` lists the anomalies the data
    /// reader found.
    pub fn data_end(&mut self, oversize: bool, message: &[&str]) -> Result<Transaction, Step> {
        if oversize {
            self.reset();
            return Err(Step::Reply(Reply::new(
                552,
                "5.3.4 Error: message size exceeds fixed limit",
            )));
        }
        self.state = State::Delivering;
        let anomalies = ANOMALY_ORDER
            .iter()
            .filter(|a| self.anomalies.contains(a) || message.contains(a))
            .map(|a| (*a).to_string())
            .collect();
        Ok(Transaction {
            helo: self.helo.clone(),
            esmtp: self.esmtp,
            mail_from: self.mail_from.clone(),
            rcpt_to: self.rcpt_to.clone(),
            tls: self.tls.clone(),
            anomalies,
        })
    }

    /// The store answered: 250 only when the message is durable.
    pub fn delivered(&mut self, durable: bool, id: &str) -> Step {
        self.reset();
        if durable {
            ok(&format!("2.0.0 Ok: queued as {id}"))
        } else {
            Step::Reply(Reply::new(451, "4.3.0 Error: queue file write error"))
        }
    }
}

fn ok(text: &str) -> Step {
    Step::Reply(Reply::new(250, text))
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// `arg` after `kw` (case-insensitive) and any spaces.
fn strip_keyword<'a>(arg: &'a str, kw: &str) -> Option<&'a str> {
    let head = arg.get(..kw.len())?;
    head.eq_ignore_ascii_case(kw)
        .then(|| arg.get(kw.len()..).unwrap_or("").trim_start())
}

/// A reverse or forward path, tolerantly: `<a@b>`, `a@b`, `<>`, with an
/// RFC 5321 source route (`<@x,@y:a@b>`) dropped; the rest are parameters.
fn parse_path(s: &str) -> Option<(String, &str)> {
    let (path, params) = if let Some(inner) = s.strip_prefix('<') {
        let end = inner.find('>')?;
        (inner.get(..end)?, inner.get(end + 1..)?)
    } else {
        match s.find([' ', '\t']) {
            Some(i) => (s.get(..i)?, s.get(i..)?),
            None => (s, ""),
        }
    };
    let path = match path.strip_prefix('@') {
        Some(_) => path.split_once(':').map_or("", |(_, p)| p),
        None => path,
    };
    if path.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        return None;
    }
    Some((path.to_string(), params.trim()))
}

/// The connecting address as the `Received:` line and the columns show
/// it: IPv4-mapped IPv6 as IPv4.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &Step) -> u16 {
        match s {
            Step::Reply(r) | Step::Close(r) | Step::StartTls(r) | Step::Data(r) => r.code,
        }
    }

    fn run(m: &mut Machine<'_>, line: &str) -> Step {
        m.line(line.as_bytes(), false)
    }

    #[test]
    fn a_plain_helo_session_delivers() {
        let cfg = Config::default();
        let mut m = Machine::new(&cfg);
        assert_eq!(m.greeting().code, 220);
        assert_eq!(code(&run(&mut m, "HELO bot.example")), 250);
        assert_eq!(code(&run(&mut m, "MAIL FROM:<a@x.example>")), 250);
        assert_eq!(code(&run(&mut m, "RCPT TO:<b@trap.example>")), 250);
        assert!(matches!(run(&mut m, "DATA"), Step::Data(r) if r.code == 354));
        let t = m.data_end(false, &["bare-lf"]).unwrap();
        assert_eq!(t.helo.as_deref(), Some("bot.example"));
        assert!(!t.esmtp);
        assert_eq!(t.mail_from, "a@x.example");
        assert_eq!(t.rcpt_to, vec!["b@trap.example".to_string()]);
        assert_eq!(t.anomalies, vec!["bare-lf".to_string()]);
        assert_eq!(code(&m.delivered(true, "X")), 250);
        // A second transaction on the same session.
        assert_eq!(code(&run(&mut m, "MAIL FROM:<>")), 250);
        assert!(matches!(run(&mut m, "QUIT"), Step::Close(r) if r.code == 221));
    }

    /// RFC 5321 §4.1.1.1: "the server MUST return a 250 reply" to EHLO
    /// listing the extensions; STARTTLS is offered only before TLS.
    #[test]
    fn ehlo_lists_the_extensions() {
        let cfg = Config {
            tls: true,
            ..Config::default()
        };
        let mut m = Machine::new(&cfg);
        let Step::Reply(r) = run(&mut m, "ehlo x") else {
            panic!()
        };
        let mut wire = Vec::new();
        r.write_to(&mut wire);
        let wire = String::from_utf8(wire).unwrap();
        for ext in [
            "250-PIPELINING",
            "250-SIZE 10485760",
            "250-8BITMIME",
            "250-SMTPUTF8",
            "250-ENHANCEDSTATUSCODES",
            "250 STARTTLS\r\n",
        ] {
            assert!(wire.contains(ext), "{ext} in {wire}");
        }
        assert!(matches!(run(&mut m, "STARTTLS"), Step::StartTls(r) if r.code == 220));
        m.tls_started("TLSv1.3 X".into());
        let Step::Reply(r) = run(&mut m, "EHLO x") else {
            panic!()
        };
        assert!(!r.lines.iter().any(|l| l == "STARTTLS"));
        assert_eq!(code(&run(&mut m, "STARTTLS")), 503);
    }

    #[test]
    fn tolerant_paths_and_sequence_errors() {
        let cfg = Config::default();
        let mut m = Machine::new(&cfg);
        assert_eq!(code(&run(&mut m, "RCPT TO:<b@x>")), 503);
        assert_eq!(code(&run(&mut m, "DATA")), 503);
        // No HELO, no angle brackets, a space after the colon: tolerated.
        assert_eq!(code(&run(&mut m, "mail from: a@x.example SIZE=100")), 250);
        assert_eq!(code(&run(&mut m, "MAIL FROM:<a@x>")), 503);
        assert_eq!(code(&run(&mut m, "DATA")), 554);
        assert_eq!(
            code(&run(&mut m, "RCPT TO:<@relay.example:b@x.example>")),
            250
        );
        assert!(matches!(run(&mut m, "DATA"), Step::Data(_)));
        let t = m.data_end(false, &[]).unwrap();
        assert_eq!(t.rcpt_to, vec!["b@x.example".to_string()]);
        assert_eq!(t.anomalies, vec!["no-helo".to_string()]);
        assert_eq!(code(&m.delivered(false, "X")), 451);
    }

    #[test]
    fn size_domains_and_recipient_limit() {
        let cfg = Config {
            max_size: 1000,
            max_rcpt: 2,
            domains: Some(["trap.example".to_string()].into_iter().collect()),
            ..Config::default()
        };
        let mut m = Machine::new(&cfg);
        run(&mut m, "EHLO x");
        assert_eq!(code(&run(&mut m, "MAIL FROM:<a@x> SIZE=1001")), 552);
        assert_eq!(code(&run(&mut m, "MAIL FROM:<a@x> SIZE=1000")), 250);
        assert_eq!(code(&run(&mut m, "RCPT TO:<b@other.example>")), 554);
        assert_eq!(code(&run(&mut m, "RCPT TO:<b@TRAP.example.>")), 250);
        assert_eq!(code(&run(&mut m, "RCPT TO:<postmaster>")), 250);
        assert_eq!(code(&run(&mut m, "RCPT TO:<c@trap.example>")), 452);
        assert!(matches!(run(&mut m, "DATA"), Step::Data(_)));
        assert!(matches!(m.data_end(true, &[]), Err(s) if code(&s) == 552));
    }

    #[test]
    fn garbage_is_answered_then_cut_off() {
        let cfg = Config::default();
        let mut m = Machine::new(&cfg);
        for _ in 0..cfg.max_errors {
            assert_eq!(code(&m.line(b"GET / HTTP/1.1\0", true)), 500);
        }
        assert!(matches!(m.line(b"xyzzy", false), Step::Close(r) if r.code == 421));
        assert_eq!(code(&m.line_too_long()), 421);
        run(&mut m, "HELO x");
        run(&mut m, "MAIL FROM:<a@x>");
    }

    #[test]
    fn bad_syntax_gets_501() {
        let cfg = Config::default();
        let mut m = Machine::new(&cfg);
        assert_eq!(code(&run(&mut m, "HELO")), 501);
        assert_eq!(code(&run(&mut m, "MAIL TO:<a@x>")), 501);
        assert_eq!(code(&run(&mut m, "MAIL FROM:<a@x")), 501);
        assert_eq!(code(&run(&mut m, "BDAT 10 LAST")), 502);
        assert_eq!(code(&run(&mut m, "VRFY root")), 252);
        assert_eq!(code(&run(&mut m, "STARTTLS")), 503);
    }
}
