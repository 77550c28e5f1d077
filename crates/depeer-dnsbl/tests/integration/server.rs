//! The real server on 127.0.0.1 port 0: UDP, TCP, reload under load, RRL.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use depeer_dnsbl::{LoadOptions, RrlConfig, Server, ServerConfig, ZoneSpec};
use hickory_proto::op::{Message, ResponseCode};

use crate::common::{ZONE4, packet, rev4};

fn start(dir: &std::path::Path, rrl: RrlConfig) -> Server {
    std::fs::write(dir.join("bl.zone"), ZONE4).unwrap();
    let spec = ZoneSpec::parse(
        &format!("@=ip4set:{}", dir.join("bl.zone").display()),
        "bl.depeer.test",
    )
    .unwrap();
    Server::start(ServerConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        zones: vec![spec],
        load: LoadOptions::default(),
        rrl,
        threads: 2,
        before_reload: None,
    })
    .unwrap()
}

fn udp_ask(sock: &UdpSocket, to: SocketAddr, p: &[u8]) -> Option<Message> {
    let mut buf = [0u8; 2048];
    for _ in 0..3 {
        sock.send_to(p, to).unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            return Some(Message::from_vec(&buf[..n]).unwrap());
        }
    }
    None
}

fn tcp_ask(stream: &mut TcpStream, p: &[u8]) -> Message {
    let mut msg = (p.len() as u16).to_be_bytes().to_vec();
    msg.extend_from_slice(p);
    stream.write_all(&msg).unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).unwrap();
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).unwrap();
    Message::from_vec(&buf).unwrap()
}

#[test]
fn udp_and_tcp_answer_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), RrlConfig::default());
    let (udp, tcp) = (server.udp_addrs()[0], server.tcp_addrs()[0]);
    assert_eq!(udp.port(), tcp.port());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut stream = TcpStream::connect(tcp).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for (ip, rcode) in [
        ("192.0.2.10", ResponseCode::NoError),
        ("192.0.2.66", ResponseCode::NXDomain),
        ("127.0.0.2", ResponseCode::NoError),
    ] {
        for qtype in [1u16, 16] {
            let p = packet(42, &format!("{}.bl.depeer.test", rev4(ip)), qtype, None);
            let u = udp_ask(&sock, udp, &p).expect("UDP answer");
            let t = tcp_ask(&mut stream, &p);
            assert_eq!(u.metadata.response_code, rcode, "{ip}");
            assert_eq!(u.answers, t.answers);
            assert_eq!(u.metadata.id, 42);
        }
    }
    // A malformed packet gets FORMERR and counts; the server keeps going.
    let bad = udp_ask(&sock, udp, &[0, 7, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(bad.metadata.response_code, ResponseCode::FormErr);
    // Counters are added once per receive batch, after its answers are
    // sent: give the worker a moment to add them.
    let counted = (0..200).any(|_| {
        let n = server.stats().formerr.load(Ordering::Relaxed);
        if n == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        n != 0
    });
    assert!(counted, "FORMERR not counted within 2 s");
    assert_eq!(server.stats().formerr.load(Ordering::Relaxed), 1);
    assert!(server.stats().tcp.load(Ordering::Relaxed) >= 6);
    server.shutdown();
}

#[test]
fn reload_under_load_loses_no_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(start(dir.path(), RrlConfig::default()));
    let udp = server.udp_addrs()[0];
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, lost, wrong) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let clients: Vec<_> = (0..2)
        .map(|c| {
            let (stop, ok, lost, wrong) = (
                Arc::clone(&stop),
                Arc::clone(&ok),
                Arc::clone(&lost),
                Arc::clone(&wrong),
            );
            std::thread::spawn(move || {
                let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
                sock.set_read_timeout(Some(Duration::from_millis(500)))
                    .unwrap();
                let mut buf = [0u8; 2048];
                let mut i = 0u16;
                // bounded: at most 200,000 queries per client
                while !stop.load(Ordering::Relaxed) && i < 60_000 {
                    i += 1;
                    // 192.0.2.10 is listed in both versions of the zone
                    let p = packet(i ^ (c << 15), "10.2.0.192.bl.depeer.test", 1, None);
                    sock.send_to(&p, udp).unwrap();
                    match sock.recv_from(&mut buf) {
                        Ok((n, _)) => {
                            let m = Message::from_vec(&buf[..n]).unwrap();
                            if m.metadata.response_code == ResponseCode::NoError
                                && m.answers.len() == 1
                            {
                                ok.fetch_add(1, Ordering::Relaxed);
                            } else {
                                wrong.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(_) => {
                            lost.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    // Ten reloads while the clients run, alternating the zone text.
    for k in 0..10 {
        std::thread::sleep(Duration::from_millis(50));
        let extra = if k % 2 == 0 { "198.18.0.0/15\n" } else { "" };
        let tmp = dir.path().join("bl.zone.tmp");
        std::fs::write(&tmp, format!("{ZONE4}{extra}")).unwrap();
        std::fs::rename(&tmp, dir.path().join("bl.zone")).unwrap();
        server.reload().unwrap();
        let now_listed = server.zones().zones()[0].datasets()[0].entries();
        assert_eq!(now_listed, if k % 2 == 0 { 7 } else { 6 });
    }
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let (ok, lost, wrong) = (
        ok.load(Ordering::Relaxed),
        lost.load(Ordering::Relaxed),
        wrong.load(Ordering::Relaxed),
    );
    eprintln!("during 10 reloads: {ok} answered, {lost} lost, {wrong} wrong");
    assert!(ok > 100);
    assert_eq!((lost, wrong), (0, 0));
    assert_eq!(server.stats().reloads.load(Ordering::Relaxed), 10);
}

#[test]
fn rate_limit_drops_and_slips() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        RrlConfig {
            rate: 10,
            slip: 2,
            ..RrlConfig::default()
        },
    );
    let udp = server.udp_addrs()[0];
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let p = packet(5, "10.2.0.192.bl.depeer.test", 1, None);
    for _ in 0..60 {
        sock.send_to(&p, udp).unwrap();
    }
    let (mut full, mut truncated) = (0, 0);
    let mut buf = [0u8; 2048];
    while let Ok((n, _)) = sock.recv_from(&mut buf) {
        let m = Message::from_vec(&buf[..n]).unwrap();
        if m.metadata.truncation {
            assert!(m.answers.is_empty());
            truncated += 1;
        } else {
            full += 1;
        }
    }
    // 60 queries at once from one /24: about 10 answered (plus what the
    // bucket refilled meanwhile), half of the rest slipped as TC.
    assert!((10..=20).contains(&full), "{full}");
    assert!((18..=26).contains(&truncated), "{truncated}");
    assert!(server.stats().rrl_dropped.load(Ordering::Relaxed) >= 18);
}
