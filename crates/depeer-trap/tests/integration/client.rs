//! A small blocking SMTP client and a trap running on its own thread.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use depeer_trap::{StopHandle, Trap, TrapOptions, TrapSummary};

/// A trap serving on 127.0.0.1 (a free port) until dropped or stopped.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) data: PathBuf,
    stop: StopHandle,
    thread: Option<std::thread::JoinHandle<TrapSummary>>,
    _tmp: tempfile::TempDir,
}

/// Options for a test trap: loopback port 0, short timeouts, no attribution.
pub(crate) fn options(tmp: &Path) -> TrapOptions {
    let mut o = TrapOptions::new(tmp.join("data"));
    o.listen = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
    o.hostname = "trap.test".into();
    o.attribute_every = None;
    o.limits.command_timeout = Duration::from_secs(5);
    o.limits.data_timeout = Duration::from_secs(10);
    o
}

impl Running {
    pub(crate) fn start(edit: impl FnOnce(&mut TrapOptions)) -> Running {
        let tmp = tempfile::tempdir().unwrap();
        let mut o = options(tmp.path());
        edit(&mut o);
        let data = o.data.clone();
        let trap = Trap::bind(o).unwrap();
        let addr = trap.local_addrs()[0];
        let stop = trap.stop_handle();
        let thread = std::thread::spawn(move || trap.run().unwrap());
        Running {
            addr,
            data,
            stop,
            thread: Some(thread),
            _tmp: tmp,
        }
    }

    pub(crate) fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Stops (drains) and returns the summary; the data stays until the
    /// value is dropped.
    pub(crate) fn stop(&mut self) -> TrapSummary {
        self.stop.stop();
        self.thread.take().unwrap().join().unwrap()
    }

    /// `SELECT count(*)` of a query's rows on the stored data.
    pub(crate) fn count(&self, where_: &str) -> i64 {
        count(&self.data, where_)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Rows of `messages` matching `where_` in the data directory.
pub(crate) fn count(data: &Path, where_: &str) -> i64 {
    let rows = query(
        data,
        &format!("SELECT count(*) AS n FROM messages WHERE {where_}"),
    );
    rows[0]["n"].as_i64().unwrap()
}

/// A query's rows as JSON objects.
pub(crate) fn query(data: &Path, sql: &str) -> Vec<serde_json::Value> {
    let batches = depeer_store::sql(data, sql).unwrap();
    let mut out = Vec::new();
    depeer_store::render(&batches, depeer_store::OutputFormat::Json, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// A blocking SMTP client.
pub(crate) struct Client {
    pub(crate) r: BufReader<TcpStream>,
    pub(crate) w: TcpStream,
}

impl Client {
    pub(crate) fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }

    /// One reply: its code and its lines; code 0 when the server closed.
    pub(crate) fn reply(&mut self) -> (u16, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            match self.r.read_line(&mut l) {
                Ok(0) | Err(_) => return (0, lines),
                Ok(_) => {}
            }
            let code = l.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let more = l.as_bytes().get(3) == Some(&b'-');
            lines.push(l.trim_end().to_string());
            if !more {
                return (code, lines);
            }
        }
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).unwrap();
    }

    /// Sends a command line and returns the reply code.
    pub(crate) fn cmd(&mut self, line: &str) -> u16 {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply().0
    }

    /// Sends `bytes` and returns the reply, while the server may still be
    /// reading (a big message): the write runs on its own thread.
    pub(crate) fn reply_after(&mut self, bytes: &[u8]) -> (u16, Vec<String>) {
        self.send(bytes);
        self.reply()
    }

    /// Whether the server closes the connection (EOF or a reset within
    /// the read timeout), after at most a few bytes more (a TLS alert).
    pub(crate) fn closed(&mut self) -> bool {
        let mut b = [0u8; 512];
        let mut total = 0;
        loop {
            match self.r.read(&mut b) {
                Ok(0) | Err(_) => return true,
                Ok(n) => total += n,
            }
            if total > 4096 {
                return false;
            }
        }
    }
}

/// A message with a unique Message-ID.
pub(crate) fn message(id: &str) -> String {
    format!(
        "From: Spammer <spam@sender.example>\r\nTo: victim@trap.example\r\nSubject: cheap pills {id}\r\n\
         Message-ID: <{id}@sender.example>\r\nDate: Mon, 07 Dec 2026 03:00:00 +0000\r\n\r\n\
         Buy now at http://pills.example/{id}\r\n"
    )
}

/// A whole session delivering one message; returns the final reply code.
pub(crate) fn deliver(c: &mut Client, id: &str) -> u16 {
    assert_eq!(c.reply().0, 220);
    assert_eq!(c.cmd("EHLO bot.example"), 250);
    assert_eq!(c.cmd("MAIL FROM:<spam@sender.example>"), 250);
    assert_eq!(c.cmd("RCPT TO:<victim@trap.example>"), 250);
    assert_eq!(c.cmd("DATA"), 354);
    c.send(message(id).as_bytes());
    c.cmd(".")
}
