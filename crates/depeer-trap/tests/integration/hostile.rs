//! The hostile corpus (issue 23): each session gets the right reply or a
//! closed connection, the trap stays up with bounded memory, and a valid
//! session is accepted afterwards. One trap serves the whole corpus.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::client::{Client, Running, deliver, message};

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn greeted(trap: &Running) -> Client {
    let mut c = trap.connect();
    assert_eq!(c.reply().0, 220);
    c
}

#[test]
fn the_hostile_corpus() {
    let trap = Running::start(|o| {
        o.max_size = 64 << 10;
        o.max_conns = 600;
        o.max_conns_per_ip = 1000;
        o.limits.command_timeout = Duration::from_secs(3);
        o.limits.data_timeout = Duration::from_secs(6);
    });
    let rss_before = rss_kib();

    // A 1 MB command line: 500 5.5.2, and the session goes on.
    let mut c = greeted(&trap);
    c.send(&vec![b'A'; 1 << 20]);
    c.send(b"\r\n");
    let (code, lines) = c.reply();
    assert_eq!(code, 500, "{lines:?}");
    assert!(lines[0].starts_with("500 5.5.2"));
    assert_eq!(c.cmd("NOOP"), 250);

    // NUL bytes: in a command, 500; in a message, kept and recorded.
    let mut c = greeted(&trap);
    c.send(b"HE\0LO x\r\n");
    assert_eq!(c.reply().0, 500);
    assert_eq!(c.cmd("HELO nul.example"), 250);
    assert_eq!(c.cmd("MAIL FROM:<a@x.example>"), 250);
    assert_eq!(c.cmd("RCPT TO:<b@trap.example>"), 250);
    assert_eq!(c.cmd("DATA"), 354);
    // Bare LF line ends and NULs, as spam sends them.
    c.send(b"Subject: nul\nMessage-ID: <nul@x.example>\n\nbody\0with nul\n.\n");
    assert_eq!(c.reply().0, 250);
    let rows = crate::client::query(
        &trap.data,
        "SELECT smtp_anomalies FROM messages WHERE message_id = 'nul@x.example'",
    );
    assert_eq!(
        rows[0]["smtp_anomalies"],
        "nul-command bare-lf nul no-final-crlf"
    );

    // Pipelined garbage: 500 for each line up to the error limit, then
    // 421 and a closed connection.
    let mut c = greeted(&trap);
    let garbage: Vec<u8> = (0..100)
        .flat_map(|i| format!("GARBAGE {i} \x01\x02\r\n").into_bytes())
        .collect();
    c.send(&garbage);
    let mut codes = Vec::new();
    loop {
        let (code, _) = c.reply();
        if code == 0 {
            break;
        }
        codes.push(code);
    }
    assert_eq!(codes.len(), 21, "{codes:?}");
    assert!(codes[..20].iter().all(|&c| c == 500));
    assert_eq!(codes[20], 421);

    // DATA without its final dot, then the client leaves: nothing stored.
    let mut c = greeted(&trap);
    assert_eq!(c.cmd("HELO x"), 250);
    assert_eq!(c.cmd("MAIL FROM:<a@x.example>"), 250);
    assert_eq!(c.cmd("RCPT TO:<b@trap.example>"), 250);
    assert_eq!(c.cmd("DATA"), 354);
    c.send(message("no-dot").as_bytes());
    drop(c);
    // DATA without its final dot and a client that stays: 421 at the data timeout.
    let mut c = greeted(&trap);
    assert_eq!(c.cmd("HELO x"), 250);
    assert_eq!(c.cmd("MAIL FROM:<a@x.example>"), 250);
    assert_eq!(c.cmd("RCPT TO:<b@trap.example>"), 250);
    assert_eq!(c.cmd("DATA"), 354);
    c.send(message("no-dot-2").as_bytes());
    let (code, lines) = c.reply();
    assert_eq!(code, 421, "{lines:?}");
    assert!(c.closed());

    ten_thousand_rcpt(&trap);

    // A message over the size cap: read to its dot, 552 5.3.4, session goes on.
    let mut c = greeted(&trap);
    assert_eq!(c.cmd("EHLO x"), 250);
    assert_eq!(c.cmd("MAIL FROM:<a@x.example> SIZE=1000000"), 552);
    assert_eq!(c.cmd("MAIL FROM:<a@x.example>"), 250);
    assert_eq!(c.cmd("RCPT TO:<b@trap.example>"), 250);
    assert_eq!(c.cmd("DATA"), 354);
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(200 << 10));
    c.send(big.as_bytes());
    let (code, lines) = c.reply_after(b".\r\n");
    assert_eq!(code, 552, "{lines:?}");
    assert_eq!(c.cmd("NOOP"), 250);

    // One byte a second: cut off at the command timeout (3 s), before the
    // line is complete.
    let mut c = greeted(&trap);
    let start = Instant::now();
    let mut cut = false;
    for b in b"NOOP\r\n" {
        if c.w.write_all(&[*b]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let (code, lines) = c.reply();
    assert!(cut || code == 421, "{code} {lines:?}");
    assert!(c.closed());
    assert!(start.elapsed() < Duration::from_secs(8));

    // Garbage in the TLS handshake: the connection is closed.
    let mut c = greeted(&trap);
    assert_eq!(c.cmd("EHLO x"), 250);
    assert_eq!(c.cmd("STARTTLS"), 220);
    c.send(b"\x16\x03\x01\xff\xffthis is not a client hello\r\n\r\n");
    assert!(c.closed());

    // Still up: a valid session afterwards is accepted and stored.
    let mut c = trap.connect();
    assert_eq!(deliver(&mut c, "after-the-corpus"), 250);
    assert_eq!(
        trap.count("message_id = 'after-the-corpus@sender.example'"),
        1
    );
    assert_eq!(trap.count("message_id LIKE 'no-dot%'"), 0);
    assert_eq!(trap.count("message_id = 'many-rcpt@sender.example'"), 1);

    // 1,000 idle connections against a limit of 600: 600 greeted, 400
    // refused with 421 4.7.0. A trap of its own, whose command timeout
    // (20 s) outlasts the connecting on a loaded machine.
    let trap = Running::start(|o| {
        o.max_conns = 600;
        o.max_conns_per_ip = 1000;
        o.limits.command_timeout = Duration::from_secs(20);
    });
    let mut idle: Vec<Client> = (0..1000).map(|_| Client::connect(trap.addr)).collect();
    let mut greeted_n = 0;
    let mut refused = 0;
    for c in &mut idle {
        match c.reply() {
            (220, _) => greeted_n += 1,
            (421, l) if l[0].starts_with("421 4.7.0") => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((greeted_n, refused), (600, 400));
    let rss_idle = rss_kib();
    // The idle ones are cut at the command timeout.
    let start = Instant::now();
    for c in idle.iter_mut().take(10) {
        let (code, lines) = c.reply();
        assert_eq!(code, 421, "{lines:?}");
        assert!(lines[0].starts_with("421 4.4.2"));
    }
    assert!(start.elapsed() < Duration::from_secs(25));
    drop(idle);
    // Memory stayed bounded: the whole corpus cost less than 100 MiB.
    assert!(
        rss_idle.saturating_sub(rss_before) < 100 << 10,
        "RSS grew from {rss_before} KiB to {rss_idle} KiB"
    );

    // And this trap too takes a valid session once the idle ones are gone.
    let mut c = trap.connect();
    assert_eq!(deliver(&mut c, "after-the-idle"), 250);
    let _ = TcpStream::connect(trap.addr).unwrap();
}

/// 10,000 RCPT, pipelined: 100 accepted, the rest 452 4.5.3; the message
/// then goes to the 100.
fn ten_thousand_rcpt(trap: &Running) {
    // 10,000 RCPT, pipelined: 100 accepted, the rest 452 4.5.3.
    let mut c = greeted(trap);
    assert_eq!(c.cmd("EHLO x"), 250);
    assert_eq!(c.cmd("MAIL FROM:<a@x.example>"), 250);
    let rcpts: Vec<u8> = (0..10_000)
        .flat_map(|i| format!("RCPT TO:<v{i}@trap.example>\r\n").into_bytes())
        .collect();
    let mut w = c.w.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&rcpts).unwrap());
    let (mut ok, mut full) = (0, 0);
    for _ in 0..10_000 {
        match c.reply().0 {
            250 => ok += 1,
            452 => full += 1,
            other => panic!("unexpected {other}"),
        }
    }
    writer.join().unwrap();
    assert_eq!((ok, full), (100, 9_900));
    assert_eq!(c.cmd("DATA"), 354);
    c.send(format!("{}.\r\n", message("many-rcpt")).as_bytes());
    assert_eq!(c.reply().0, 250);
}
