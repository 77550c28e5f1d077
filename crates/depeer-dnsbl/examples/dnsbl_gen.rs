//! Generates rbldnsd-syntax zone files and a query list for the
//! conformance check and the benchmark (deterministic: same seed, same
//! files).
//!
//! ```text
//! dnsbl_gen OUTDIR [--entries N] [--queries N] [--seed S] [--bench]
//! ```
//!
//! Writes OUTDIR/ip4set.zone, ip4trie.zone, ip6trie.zone, dnset.zone
//! (ip4set gets N entries, the others N/4 each), OUTDIR/queries.txt
//! (`CATEGORY NAME TYPE` per line, or `malformed HEX`) and
//! OUTDIR/dnsperf.txt (`NAME TYPE`, what dnsperf reads). With `--bench`
//! only ip4set.zone and dnsperf.txt are written (plain /32 listings with
//! the usual DNSBL mix of values, and half listed, half unlisted queries).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn ip4(&mut self) -> u32 {
        // Avoid 0/8, 127/8 and multicast so the RFC 5782 entries stay the
        // only loopback data.
        loop {
            let a = self.next() as u32;
            let first = a >> 24;
            if first != 0 && first != 127 && first < 224 {
                return a;
            }
        }
    }
}

fn ip4(a: u32) -> String {
    std::net::Ipv4Addr::from(a).to_string()
}

fn rev4(a: u32) -> String {
    let o = a.to_be_bytes();
    format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
}

fn rev6(a: u128) -> String {
    let mut s = String::new();
    for k in 0..32 {
        let nib = (a >> (4 * k)) & 0xf;
        write!(s, "{nib:x}.").unwrap();
    }
    s.pop();
    s
}

const HEADER: &str =
    "$SOA 3600 ns1.depeer.test hostmaster.depeer.test 2026120601 3600 600 604800 300
$NS 3600 ns1.depeer.test ns2.depeer.test
$TTL 1800
$1 https://bl.depeer.test/lookup?ip=
";

fn write(path: &Path, s: &str) {
    std::fs::File::create(path)
        .unwrap()
        .write_all(s.as_bytes())
        .unwrap();
}

struct Gen {
    rng: Rng,
    queries: Vec<String>,
}

impl Gen {
    fn q(&mut self, cat: &str, name: String, t: &str) {
        self.queries.push(format!("{cat} {name} {t}"));
    }

    fn types(&mut self) -> &'static str {
        ["A", "TXT", "A", "TXT", "ANY", "AAAA", "MX"][self.rng.below(7) as usize]
    }

    fn ip4set(&mut self, dir: &Path, n: usize, zone: &str) {
        let mut s = String::from(HEADER);
        s.push_str(":127.0.0.2:Listed by depeer: $1$\n127.0.0.2\n");
        let mut listed = Vec::new();
        let mut blocks = Vec::new();
        for i in 0..n {
            let a = self.rng.ip4();
            match i % 20 {
                0 => {
                    let b = a & 0xffff_ff00;
                    writeln!(s, "{}/24 :3:C&C network $ (see $1$)", ip4(b)).unwrap();
                    blocks.push(b);
                }
                1 => {
                    // a range inside a /24, prefix-range syntax
                    let b = a & 0xffff_ff00;
                    writeln!(s, "{}.{}-{} :4", ip4(b).rsplit_once('.').unwrap().0, 10, 40).unwrap();
                    listed.push(b | 20);
                }
                2 => {
                    writeln!(s, "{} :5:", ip4(a)).unwrap();
                    listed.push(a);
                }
                3 => {
                    writeln!(s, "{}  Spam source $, $$5 fee; ask $1$", ip4(a)).unwrap();
                    listed.push(a);
                }
                4 => {
                    writeln!(s, "{} # comment after entry", ip4(a)).unwrap();
                    listed.push(a);
                }
                _ => {
                    writeln!(s, "{}", ip4(a)).unwrap();
                    listed.push(a);
                }
            }
        }
        // exclusions inside listed /24s
        let mut excluded = Vec::new();
        for &b in blocks.iter().take(blocks.len() / 2) {
            let x = b | (1 + self.rng.below(250) as u32);
            writeln!(s, "!{}", ip4(x)).unwrap();
            excluded.push(x);
        }
        s.push_str("; malformed lines rbldnsd and depeer both skip\n300.1.2.3\n1.2.3.4/33\n10.0.0.1/8\n1.2.3.4 :0:bad\n");
        write(&dir.join("ip4set.zone"), &s);
        for _ in 0..n / 3 {
            let a = listed[self.rng.below(listed.len() as u64) as usize];
            let t = self.types();
            self.q("listed4", format!("{}.{zone}", rev4(a)), t);
        }
        for &b in &blocks {
            let a = b | self.rng.below(256) as u32;
            self.q("block4", format!("{}.{zone}", rev4(a)), "A");
            self.q("block4", format!("{}.{zone}", rev4(a)), "TXT");
        }
        for &x in &excluded {
            self.q("excluded4", format!("{}.{zone}", rev4(x)), "A");
            self.q("excluded4", format!("{}.{zone}", rev4(x)), "TXT");
        }
        for _ in 0..n / 3 {
            let a = self.rng.ip4();
            let t = self.types();
            self.q("unlisted4", format!("{}.{zone}", rev4(a)), t);
        }
        for &a in listed.iter().take(200) {
            let o = a.to_be_bytes();
            self.q("ent4", format!("{}.{}.{}.{zone}", o[2], o[1], o[0]), "A");
        }
    }

    fn ip4trie(&mut self, dir: &Path, n: usize, zone: &str) {
        let mut s = String::from(HEADER);
        s.push_str(":127.0.0.3:Trie listed: $\n127.0.0.2/32\n");
        let mut nets = Vec::new();
        for i in 0..n {
            let len = [32, 32, 28, 24, 22, 19, 16, 30][i % 8];
            let a = self.rng.ip4() & (u32::MAX << (32 - len));
            if i % 10 == 0 {
                writeln!(s, "{}/{len} :6:Net $ len {len}", ip4(a)).unwrap();
            } else {
                writeln!(s, "{}/{len}", ip4(a)).unwrap();
            }
            nets.push((a, len));
        }
        for &(a, len) in nets.iter().filter(|n| n.1 <= 24).take(n / 10) {
            // a more specific exclusion and a more specific listing inside
            let host = a | (self.rng.below(1 << (32 - len)) as u32);
            writeln!(s, "!{}/32", ip4(host)).unwrap();
            self.q("excluded4t", format!("{}.{zone}", rev4(host)), "A");
        }
        write(&dir.join("ip4trie.zone"), &s);
        for _ in 0..n {
            let (a, len) = nets[self.rng.below(nets.len() as u64) as usize];
            let host = a | (self.rng.below(1u64 << (32 - len)) as u32);
            let t = self.types();
            self.q("listed4t", format!("{}.{zone}", rev4(host)), t);
        }
        for _ in 0..n / 2 {
            let a = self.rng.ip4();
            self.q("unlisted4t", format!("{}.{zone}", rev4(a)), "A");
        }
    }

    fn ip6trie(&mut self, dir: &Path, n: usize, zone: &str) {
        let mut s = String::from(HEADER);
        s.push_str(":127.0.1.2:IPv6 listed: $\n::ffff:7f00:2\n");
        let mut nets = Vec::new();
        for i in 0..n {
            let len = [64u32, 48, 56, 128, 64, 36][i % 6];
            let a = ((0x2001_0db8u128 << 96)
                | (u128::from(self.rng.next()) << 32)
                | u128::from(self.rng.next() as u32))
                & (u128::MAX << (128 - len));
            let text = std::net::Ipv6Addr::from(a).to_string();
            if i % 7 == 0 {
                writeln!(s, "{text}/{len} :7:v6 net $").unwrap();
            } else {
                writeln!(s, "{text}/{len}").unwrap();
            }
            nets.push((a, len));
        }
        for &(a, len) in nets.iter().filter(|n| n.1 <= 64).take(n / 10) {
            let host = a | 0x1234;
            writeln!(s, "!{}", std::net::Ipv6Addr::from(host)).unwrap();
            let _ = len;
            self.q("excluded6", format!("{}.{zone}", rev6(host)), "A");
        }
        write(&dir.join("ip6trie.zone"), &s);
        for _ in 0..n {
            let (a, len) = nets[self.rng.below(nets.len() as u64) as usize];
            let host = if len == 128 {
                a
            } else {
                a | (u128::from(self.rng.next()) & (u128::MAX >> len))
            };
            let t = self.types();
            self.q("listed6", format!("{}.{zone}", rev6(host)), t);
        }
        for _ in 0..n / 2 {
            let a = (0x2001_0db8u128 << 96) | u128::from(self.rng.next());
            self.q("unlisted6", format!("{}.{zone}", rev6(a)), "A");
        }
        self.q("test6", format!("{}.{zone}", rev6(0xffff_7f00_0002)), "A");
        self.q("test6", format!("{}.{zone}", rev6(0xffff_7f00_0001)), "A");
    }

    fn dnset(&mut self, dir: &Path, n: usize, zone: &str) {
        let mut s = String::from(HEADER);
        s.push_str(":127.0.1.3:Domain $ advertised in spam\ntest\n");
        let word = |r: &mut Rng| -> String {
            (0..4 + r.below(8))
                .map(|_| (b'a' + r.below(26) as u8) as char)
                .collect()
        };
        let mut names = Vec::new();
        for i in 0..n {
            let d = format!(
                "{}.{}",
                word(&mut self.rng),
                ["com", "net", "ru", "info"][i % 4]
            );
            match i % 5 {
                0 => {
                    writeln!(s, ".{d} :8:Whole domain $").unwrap();
                    self.q("dn_wild", format!("www.{d}.{zone}"), "A");
                    self.q("dn_wild", format!("{d}.{zone}"), "TXT");
                    writeln!(s, "!mail.{d}").unwrap();
                    self.q("dn_excluded", format!("mail.{d}.{zone}"), "A");
                }
                1 => {
                    writeln!(s, "*.{d}").unwrap();
                    self.q("dn_wild", format!("a.b.{d}.{zone}"), "A");
                    self.q("dn_wildbase", format!("{d}.{zone}"), "A");
                }
                2 => {
                    writeln!(s, "shop.{d} Pharmacy $").unwrap();
                    self.q("dn_ent", format!("{d}.{zone}"), "A");
                }
                _ => writeln!(s, "{d}").unwrap(),
            }
            names.push(d);
        }
        write(&dir.join("dnset.zone"), &s);
        for _ in 0..n {
            let d = names[self.rng.below(names.len() as u64) as usize].clone();
            let t = self.types();
            self.q("dn_listed", format!("{d}.{zone}"), t);
        }
        for _ in 0..n / 2 {
            let d = format!("{}.org", word(&mut self.rng));
            self.q("dn_unlisted", format!("{d}.{zone}"), "A");
        }
        self.q("dn_test", format!("test.{zone}"), "A");
        self.q("dn_test", format!("invalid.{zone}"), "A");
    }

    fn specials(&mut self, zones: &[&str]) {
        for z in zones {
            for t in ["SOA", "NS", "A", "TXT", "ANY", "MX", "AAAA"] {
                self.q("apex", (*z).to_string(), t);
            }
            self.q("apex_case", z.to_uppercase(), "SOA");
            self.q("rfc5782", format!("2.0.0.127.{z}"), "A");
            self.q("rfc5782", format!("1.0.0.127.{z}"), "A");
            self.q("notip", format!("foo.bar.{z}"), "A");
            self.q("notip", format!("1.2.3.256.{z}"), "A");
            self.q("notip", format!("1.2.3.4.5.{z}"), "A");
        }
        for name in ["example.com", "depeer.test", "com", "test"] {
            self.q("outside", name.to_string(), "A");
        }
        // malformed packets: header only, QDCOUNT 2, a truncated name, a
        // pointer loop in the question
        for hex in [
            "123401000000000000000000",
            "1234010000020000000000000178000001000101780000010001",
            "123401000001000000000000057465",
            "12340100000100000000000000c00c00010001",
            "1234",
        ] {
            self.queries.push(format!("malformed {hex}"));
        }
    }
}

fn bench(dir: &Path, n: usize, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut s = String::from(HEADER);
    s.push_str(":127.0.0.2:Listed by depeer: $1$\n127.0.0.2\n");
    let mut listed = Vec::with_capacity(n);
    for i in 0..n {
        let a = rng.ip4();
        if i % 10 == 0 {
            writeln!(s, "{} :4:Botnet {}; see $1$", ip4(a), i % 7).unwrap();
        } else {
            writeln!(s, "{}", ip4(a)).unwrap();
        }
        listed.push(a);
    }
    write(&dir.join("ip4set.zone"), &s);
    let mut q = String::new();
    for i in 0..1_000_000usize {
        let a = if i % 2 == 0 {
            listed[rng.below(n as u64) as usize]
        } else {
            rng.ip4()
        };
        let t = if i % 4 == 0 { "TXT" } else { "A" };
        writeln!(q, "{}.bl.depeer.test {t}", rev4(a)).unwrap();
    }
    write(&dir.join("dnsperf.txt"), &q);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(
        args.get(1)
            .expect("usage: dnsbl_gen OUTDIR [--entries N] [--seed S] [--bench]"),
    );
    std::fs::create_dir_all(dir).unwrap();
    let opt = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().unwrap())
    };
    if let Some(i) = args.iter().position(|a| a == "--time-load") {
        // Rebuild time of a zone file, best of 3 (what a reload costs).
        let spec =
            depeer_dnsbl::ZoneSpec::parse(&format!("@=ip4set:{}", args[i + 1]), "bl.depeer.test")
                .unwrap();
        let mut best = f64::MAX;
        let mut entries = 0;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let z = depeer_dnsbl::Zones::load(
                std::slice::from_ref(&spec),
                &depeer_dnsbl::LoadOptions::default(),
            )
            .unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            entries = z.zones()[0].datasets()[0].entries();
        }
        println!("{entries} entries loaded in {best:.3} s (best of 3)");
        return;
    }
    let n = opt("--entries", 40_000) as usize;
    let seed = opt("--seed", 20_081_111);
    if args.iter().any(|a| a == "--bench") {
        bench(dir, n, seed);
        return;
    }
    let mut g = Gen {
        rng: Rng(seed | 1),
        queries: Vec::new(),
    };
    g.ip4set(dir, n, "bl.depeer.test");
    g.ip4trie(dir, n / 4, "trie.depeer.test");
    g.ip6trie(dir, n / 4, "v6.depeer.test");
    g.dnset(dir, n / 4, "dbl.depeer.test");
    g.specials(&[
        "bl.depeer.test",
        "trie.depeer.test",
        "v6.depeer.test",
        "dbl.depeer.test",
    ]);
    let mut all = g.queries.join("\n");
    all.push('\n');
    write(&dir.join("queries.txt"), &all);
    let perf: String = g
        .queries
        .iter()
        .filter(|l| !l.starts_with("malformed"))
        .map(|l| {
            let mut p = l.splitn(2, ' ');
            p.next();
            format!("{}\n", p.next().unwrap())
        })
        .collect();
    write(&dir.join("dnsperf.txt"), &perf);
    eprintln!("{} queries in {}", g.queries.len(), dir.display());
}
