//! Reading one dataset in rbldnsd's own syntax (ip4set, ip4trie, ip6trie,
//! dnset): comments, `$SOA`, `$NS`, `$TTL`, `$MAXRANGE4`, `$n`/`$=`
//! substitutions, `:A:TXT` default lines, entries with values, `!`
//! exclusions; as rbldnsd(8) documents them. A malformed line is skipped
//! with a located warning (file, line) and counted; it never stops the
//! load and never panics.

use std::collections::HashMap;
use std::path::Path;

use crate::ZoneType;
use crate::addr;
use crate::dataset::{Data, Dataset, DnSet, Ns, Soa};
use crate::error::DnsblError;
use crate::ipmap::{IntervalMap, Key, NONE, Payload, Piece, SetTable};
use crate::name;
use crate::value::{Subst, Value, is_space, parse_value, trim_start};

/// Warnings kept per dataset (all are counted).
const KEEP_WARNINGS: usize = 100;
/// rbldnsd's default TTL (`-t`): 35 minutes.
pub(crate) const DEFAULT_TTL: u32 = 35 * 60;

/// Entries being collected, before painting.
enum Entries {
    Ip4 {
        pieces: Vec<Piece>,
        seen: std::collections::HashSet<(u32, u32)>,
    },
    Ip6 {
        pieces: Vec<Piece>,
        seen: std::collections::HashSet<(u128, u32)>,
    },
    Dn {
        exact: HashMap<Box<[u8]>, (bool, Vec<u32>)>,
        wild: HashMap<Box<[u8]>, (bool, Vec<u32>)>,
    },
}

/// State of one dataset load.
pub(crate) struct Loader {
    kind: ZoneType,
    entries: Entries,
    values: Vec<Value>,
    value_ids: HashMap<Value, u32, foldhash::fast::RandomState>,
    /// The id of the current default value, once an entry has used it
    /// (most entries of a large list carry no value of their own: no
    /// clone and no hash per entry).
    default_id: Option<u32>,
    subst: Subst,
    ttl: u32,
    soa: Option<Soa>,
    ns: Option<Ns>,
    maxrange4: u32,
    count: u64,
    warnings: Vec<DnsblError>,
    warning_count: u64,
}

fn is_comment(b: u8) -> bool {
    b == b'#' || b == b';'
}

/// `123`, `35m`, `2h`, `1d`, `1w`: seconds.
fn parse_time(w: &[u8]) -> Option<u32> {
    let digits = w.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let n: u32 = std::str::from_utf8(w.get(..digits)?).ok()?.parse().ok()?;
    let mult = match w.get(digits..)? {
        b"" | b"s" | b"S" => 1,
        b"m" | b"M" => 60,
        b"h" | b"H" => 3600,
        b"d" | b"D" => 86400,
        b"w" | b"W" => 604_800,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn words(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|&b| is_space(b)).filter(|w| !w.is_empty())
}

impl Loader {
    pub(crate) fn new(kind: ZoneType, default_ttl: u32) -> Self {
        let entries = match kind {
            ZoneType::Ip4Set | ZoneType::Ip4Trie => Entries::Ip4 {
                pieces: Vec::new(),
                seen: Default::default(),
            },
            ZoneType::Ip6Trie => Entries::Ip6 {
                pieces: Vec::new(),
                seen: Default::default(),
            },
            ZoneType::Dnset => Entries::Dn {
                exact: HashMap::new(),
                wild: HashMap::new(),
            },
        };
        Self {
            kind,
            entries,
            values: Vec::new(),
            value_ids: HashMap::default(),
            default_id: None,
            subst: Subst::default(),
            ttl: default_ttl,
            soa: None,
            ns: None,
            maxrange4: 0,
            count: 0,
            warnings: Vec::new(),
            warning_count: 0,
        }
    }

    fn warn(&mut self, path: &Path, line: u64, reason: &'static str) {
        self.warning_count += 1;
        if self.warnings.len() < KEEP_WARNINGS {
            self.warnings.push(DnsblError::Line {
                path: path.to_path_buf(),
                line,
                reason,
            });
        }
    }

    fn value_id(&mut self, v: &Value) -> u32 {
        if let Some(&id) = self.value_ids.get(v) {
            return id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(NONE - 1);
        self.values.push(v.clone());
        self.value_ids.insert(v.clone(), id);
        id
    }

    /// Reads one file of the dataset. The default value is per file, as in
    /// rbldnsd ("for all subsequent entries up to end of current file").
    pub(crate) fn read_file(&mut self, path: &Path) -> Result<(), DnsblError> {
        let data = std::fs::read(path).map_err(|source| DnsblError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.read_bytes(path, &data);
        Ok(())
    }

    /// Reads zone text (`path` only names it in warnings).
    pub(crate) fn read_bytes(&mut self, path: &Path, data: &[u8]) {
        let mut default = Value::default();
        self.default_id = None;
        for (n, raw) in data.split(|&b| b == b'\n').enumerate() {
            let lineno = n as u64 + 1;
            let line = trim_start(raw);
            let end = line
                .iter()
                .rposition(|&b| !is_space(b) && b != b'\r')
                .map_or(0, |p| p + 1);
            let line = line.get(..end).unwrap_or_default();
            let (first, second) = (line.first().copied(), line.get(1).copied());
            match (first, second) {
                (None, _) => {}
                (Some(b'$'), _) => self.special(path, lineno, line.get(1..).unwrap_or_default()),
                (Some(b'#' | b';' | b':'), Some(b'$')) => {
                    self.special(path, lineno, line.get(2..).unwrap_or_default())
                }
                (Some(c), _) if is_comment(c) => {}
                _ => {
                    if let Err(reason) = self.entry(line, &mut default) {
                        self.warn(path, lineno, reason);
                    }
                }
            }
        }
    }

    fn special(&mut self, path: &Path, lineno: u64, line: &[u8]) {
        if let Some(ok) = self.subst.set(line) {
            if !ok {
                self.warn(path, lineno, "invalid or unrecognized special entry");
            }
            return;
        }
        let mut w = words(line);
        let key = w.next().unwrap_or_default().to_ascii_lowercase();
        let ok = match &key[..] {
            b"soa" => self.soa.is_some() || self.parse_soa(w).is_some(),
            b"ns" | b"nameserver" => self.ns.is_some() || self.parse_ns(w).is_some(),
            b"ttl" => match (w.next().and_then(parse_time), w.next()) {
                (Some(t), None) => {
                    self.ttl = if t == 0 { DEFAULT_TTL } else { t };
                    true
                }
                _ => false,
            },
            b"maxrange4" => self.parse_maxrange(w).is_some(),
            b"timestamp" => true, // accepted; expiry is not implemented (README)
            _ => false,
        };
        if !ok {
            self.warn(path, lineno, "invalid or unrecognized special entry");
        }
    }

    fn parse_soa<'a>(&mut self, mut w: impl Iterator<Item = &'a [u8]>) -> Option<()> {
        let ttl = parse_time(w.next()?)?;
        let mname = name::parse_text(w.next()?)?;
        let rname = name::parse_text(w.next()?)?;
        let serial: u32 = std::str::from_utf8(w.next()?).ok()?.parse().ok()?;
        let mut t = [0u32; 4];
        for x in &mut t {
            *x = parse_time(w.next()?)?;
        }
        if w.next().is_some() {
            return None;
        }
        let [refresh, retry, expire, minimum] = t;
        self.soa = Some(Soa {
            ttl: if ttl == 0 { self.ttl } else { ttl },
            mname: mname.into(),
            rname: rname.into(),
            serial,
            refresh,
            retry,
            expire,
            minimum,
        });
        Some(())
    }

    fn parse_ns<'a>(&mut self, mut w: impl Iterator<Item = &'a [u8]>) -> Option<()> {
        let ttl = parse_time(w.next()?)?;
        let mut names: Vec<Box<[u8]>> = Vec::new();
        for n in w {
            if n.starts_with(b"-") {
                continue; // "prefixed with a minus sign (-), ... will be ignored"
            }
            let n = name::parse_text(n)?;
            if names.len() < 32 && !names.iter().any(|x| **x == n[..]) {
                names.push(n.into());
            }
        }
        self.ns = Some(Ns {
            ttl: if ttl == 0 { self.ttl } else { ttl },
            names,
        });
        Some(())
    }

    fn parse_maxrange<'a>(&mut self, mut w: impl Iterator<Item = &'a [u8]>) -> Option<()> {
        let word = w.next()?;
        if w.next().is_some() {
            return None;
        }
        let r: u32 = match word.strip_prefix(b"/") {
            Some(b) => {
                let bits: u32 = std::str::from_utf8(b).ok()?.parse().ok()?;
                if bits > 32 || bits == 0 {
                    return None;
                }
                u32::try_from(1u64 << (32 - bits)).unwrap_or(u32::MAX)
            }
            None => std::str::from_utf8(word)
                .ok()?
                .parse()
                .ok()
                .filter(|&r| r > 0)?,
        };
        // "can be overwritten ... by a smaller value, but can not be increased"
        if self.maxrange4 == 0 || r < self.maxrange4 {
            self.maxrange4 = r;
        }
        Some(())
    }

    /// The value of an entry from the text after its key.
    fn value_of(&mut self, rest: &[u8], default: &Value) -> Result<u32, &'static str> {
        let rest = trim_start(rest);
        match rest.first() {
            Some(&c) if !is_comment(c) => {
                let v = parse_value(rest, default)?;
                Ok(self.value_id(&v))
            }
            _ => {
                let id = match self.default_id {
                    Some(id) => id,
                    None => self.value_id(default),
                };
                self.default_id = Some(id);
                Ok(id)
            }
        }
    }

    fn entry(&mut self, line: &[u8], default: &mut Value) -> Result<(), &'static str> {
        // A default line; in ip6trie "::" starts an address instead.
        if line.starts_with(b":") && !(self.kind == ZoneType::Ip6Trie && line.starts_with(b"::")) {
            *default = parse_value(line, default)?;
            self.default_id = None;
            return Ok(());
        }
        let (excluded, key) = match line.strip_prefix(b"!") {
            Some(k) => (true, trim_start(k)),
            None => (false, line),
        };
        match self.kind {
            ZoneType::Ip4Set => self.ip4set(key, excluded, default),
            ZoneType::Ip4Trie => self.ip4trie(key, excluded, default),
            ZoneType::Ip6Trie => self.ip6trie(key, excluded, default),
            ZoneType::Dnset => self.dnset(key, excluded, default),
        }?;
        self.count += 1;
        Ok(())
    }

    fn payload(
        &mut self,
        excluded: bool,
        rest: &[u8],
        default: &Value,
    ) -> Result<Payload, &'static str> {
        if excluded {
            return Ok(Payload::Excluded); // "any value for this record is ignored"
        }
        Ok(Payload::Value(self.value_of(rest, default)?))
    }

    fn ip4set(&mut self, key: &[u8], excluded: bool, default: &Value) -> Result<(), &'static str> {
        let (a, b, bits, rest) = addr::range4(key).ok_or("invalid address")?;
        check_tail(rest)?;
        if addr::host_bits4(a, bits) {
            return Err("invalid range (non-zero host part)");
        }
        if self.maxrange4 != 0 && self.maxrange4 <= b - a {
            return Err("too large range ignored ($MAXRANGE4)");
        }
        let payload = self.payload(excluded, rest, default)?;
        let Entries::Ip4 { pieces, .. } = &mut self.entries else {
            return Err("internal: wrong dataset");
        };
        addr::split_ip4set(a, b, |first, last, level| {
            pieces.push(piece(first.into(), last.into(), level, payload));
        });
        Ok(())
    }

    fn ip4trie(&mut self, key: &[u8], excluded: bool, default: &Value) -> Result<(), &'static str> {
        let (a, bits, rest) = addr::cidr4(key).ok_or("invalid address")?;
        check_tail(rest)?;
        if addr::host_bits4(a, bits) {
            return Err("invalid range (non-zero host part)");
        }
        let last = addr::last4(a, bits);
        if self.maxrange4 != 0 && self.maxrange4 <= last - a {
            return Err("too large range ignored ($MAXRANGE4)");
        }
        let payload = self.payload(excluded, rest, default)?;
        let Entries::Ip4 { pieces, seen } = &mut self.entries else {
            return Err("internal: wrong dataset");
        };
        push_once(
            pieces,
            seen,
            (a, bits),
            piece(a.into(), last.into(), bits, payload),
        )
    }

    fn ip6trie(&mut self, key: &[u8], excluded: bool, default: &Value) -> Result<(), &'static str> {
        let (a, bits, rest) = addr::cidr6(key).ok_or("invalid address")?;
        check_tail(rest)?;
        if addr::host_bits6(a, bits) {
            return Err("invalid range (non-zero host part)");
        }
        let payload = self.payload(excluded, rest, default)?;
        let Entries::Ip6 { pieces, seen } = &mut self.entries else {
            return Err("internal: wrong dataset");
        };
        push_once(
            pieces,
            seen,
            (a, bits),
            piece(a, addr::last6(a, bits), bits, payload),
        )
    }

    fn dnset(&mut self, key: &[u8], excluded: bool, default: &Value) -> Result<(), &'static str> {
        // ".example.com": the domain and its subdomains; "*.example.com":
        // the subdomains only.
        let (key, plain, wild) = if let Some(k) = key.strip_prefix(b".") {
            (k, true, true)
        } else if let Some(k) = key.strip_prefix(b"*.") {
            (k, false, true)
        } else {
            (key, true, false)
        };
        let end = key.iter().position(|&b| is_space(b)).unwrap_or(key.len());
        let (dn, rest) = key.split_at(end);
        let wire = name::parse_text(dn)
            .filter(|w| !w.is_empty())
            .ok_or("invalid domain name")?;
        let payload = self.payload(excluded, rest, default)?;
        let Entries::Dn { exact, wild: wmap } = &mut self.entries else {
            return Err("internal: wrong dataset");
        };
        let add = |map: &mut HashMap<Box<[u8]>, (bool, Vec<u32>)>| {
            let e = map.entry(wire.clone().into()).or_default();
            match payload {
                Payload::Excluded => e.0 = true,
                Payload::Value(v) => e.1.push(v),
            }
        };
        if plain {
            add(exact);
        }
        if wild {
            add(wmap);
        }
        Ok(())
    }

    /// Finishes the dataset: paints the address map, adds the RFC 5782 test
    /// entries when asked.
    pub(crate) fn finish(mut self, test_entries: bool) -> Dataset {
        let mut sets = SetTable::default();
        let entries = std::mem::replace(
            &mut self.entries,
            Entries::Ip6 {
                pieces: Vec::new(),
                seen: Default::default(),
            },
        );
        let data = match entries {
            // RFC 5782 section 5: "IPv4-based DNSxLs MUST contain an entry
            // for 127.0.0.2 for testing purposes. IPv4-based DNSxLs MUST NOT
            // contain an entry for 127.0.0.1."; IPv6 lists carry
            // ::FFFF:7F00:2 and never ::FFFF:7F00:1.
            Entries::Ip4 { pieces, .. } => Data::Ip4(self.ip_map(
                pieces,
                &mut sets,
                test_entries.then_some((0x7f00_0002, 0x7f00_0001)),
            )),
            Entries::Ip6 { pieces, .. } => Data::Ip6(self.ip_map(
                pieces,
                &mut sets,
                test_entries.then_some((0xffff_7f00_0002, 0xffff_7f00_0001)),
            )),
            Entries::Dn { exact, wild } => {
                let mut dn = DnSet::build(exact, wild, &mut sets);
                if test_entries {
                    let test = self.value_id(&test_value());
                    dn.ensure_test_entries(test, &mut sets);
                }
                Data::Dn(dn)
            }
        };
        Dataset {
            kind: self.kind,
            data,
            values: self.values,
            sets,
            subst: self.subst,
            ttl: self.ttl,
            soa: self.soa,
            ns: self.ns,
            entries: self.count,
            warnings: self.warnings,
            warning_count: self.warning_count,
        }
    }

    /// Paints `pieces` into a map. With `test` = `(listed, unlisted)`, the
    /// RFC 5782 test addresses: lists `listed` and not `unlisted`, adding
    /// pieces over everything and painting again where the file did not.
    fn ip_map<K: Key>(
        &mut self,
        mut pieces: Vec<Piece>,
        sets: &mut SetTable,
        test: Option<(K, K)>,
    ) -> IntervalMap<K> {
        let map = IntervalMap::<K>::build(&pieces, sets);
        let Some((listed, unlisted)) = test else {
            return map;
        };
        let mut changed = false;
        if map.get(listed) == NONE {
            let v = self.value_id(&test_value());
            let at = listed.into();
            pieces.push(piece(at, at, u16::MAX, Payload::Value(v)));
            changed = true;
        }
        if map.get(unlisted) != NONE {
            let at = unlisted.into();
            pieces.push(piece(at, at, u16::MAX, Payload::Excluded));
            changed = true;
        }
        if changed {
            IntervalMap::<K>::build(&pieces, sets)
        } else {
            map
        }
    }
}

/// A piece `start..=end` of priority `prio` (a prefix length or a block
/// level; more specific wins).
fn piece(start: u128, end: u128, prio: impl TryInto<u16>, payload: Payload) -> Piece {
    Piece {
        start,
        end,
        prio: prio.try_into().unwrap_or(0),
        payload,
    }
}

/// Files a trie entry once: rbldnsd keeps the first of duplicated entries.
fn push_once<K: Eq + std::hash::Hash>(
    pieces: &mut Vec<Piece>,
    seen: &mut std::collections::HashSet<K>,
    key: K,
    piece: Piece,
) -> Result<(), &'static str> {
    if !seen.insert(key) {
        return Err("duplicated entry");
    }
    pieces.push(piece);
    Ok(())
}

/// The value given to an RFC 5782 test entry the zone file did not list.
fn test_value() -> Value {
    Value {
        a: [127, 0, 0, 2],
        txt: (*b"RFC 5782 test entry").into(),
    }
}

/// After an address: nothing, a space, a comment or a value.
fn check_tail(rest: &[u8]) -> Result<(), &'static str> {
    match rest.first() {
        None | Some(b' ' | b'\t' | b'#' | b';' | b':') => Ok(()),
        Some(_) => Err("invalid address"),
    }
}
