//! Zones: a DNS name served from one or more datasets, as rbldnsd's
//! `zone:type:file,file` (depeer writes `NAME=TYPE:FILE,FILE`). [`Zones`]
//! is the immutable set a server answers from; a reload builds a new one
//! and swaps it in whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dataset::{Dataset, Ns, Soa};
use crate::error::DnsblError;
use crate::name;
use crate::zonefile::{DEFAULT_TTL, Loader};

/// The dataset types depeer reads, named as rbldnsd names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZoneType {
    /// IPv4 addresses, prefixes and ranges, with per-entry values.
    Ip4Set,
    /// IPv4 CIDRs, longest prefix wins.
    Ip4Trie,
    /// IPv6 CIDRs, longest prefix wins.
    Ip6Trie,
    /// Domain names, with `*.` and `.` wildcards.
    Dnset,
}

impl ZoneType {
    /// rbldnsd's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip4Set => "ip4set",
            Self::Ip4Trie => "ip4trie",
            Self::Ip6Trie => "ip6trie",
            Self::Dnset => "dnset",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ip4set" => Self::Ip4Set,
            "ip4trie" => Self::Ip4Trie,
            "ip6trie" => Self::Ip6Trie,
            "dnset" => Self::Dnset,
            _ => return None,
        })
    }
}

/// One `--zone NAME=TYPE:FILE[,FILE...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneSpec {
    /// The zone's absolute name, without trailing dot.
    pub name: String,
    /// Dataset type.
    pub kind: ZoneType,
    /// Files read as one dataset, in order.
    pub files: Vec<PathBuf>,
}

impl ZoneSpec {
    /// Parses `NAME=TYPE:FILE[,FILE...]`. `NAME` is relative to `origin`
    /// unless it ends with a dot or with the origin itself; `@` is the
    /// origin.
    pub fn parse(spec: &str, origin: &str) -> Result<Self, DnsblError> {
        let err = |reason| DnsblError::ZoneSpec {
            spec: spec.to_string(),
            reason,
        };
        let (name, rest) = spec
            .split_once('=')
            .ok_or_else(|| err("expected NAME=TYPE:FILE"))?;
        let (kind, files) = rest
            .split_once(':')
            .ok_or_else(|| err("expected NAME=TYPE:FILE"))?;
        let kind = ZoneType::parse(kind)
            .ok_or_else(|| err("TYPE must be ip4set, ip4trie, ip6trie or dnset"))?;
        let origin = origin.trim_end_matches('.').to_ascii_lowercase();
        let name = name.to_ascii_lowercase();
        let name = if name == "@" || name.is_empty() {
            origin
        } else if let Some(abs) = name.strip_suffix('.') {
            abs.to_string()
        } else if name == origin || name.ends_with(&format!(".{origin}")) || origin.is_empty() {
            name
        } else {
            format!("{name}.{origin}")
        };
        if name::parse_text(name.as_bytes()).is_none_or(|w| w.is_empty()) {
            return Err(err("invalid zone name"));
        }
        let files: Vec<PathBuf> = files
            .split(',')
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .collect();
        if files.is_empty() {
            return Err(err("no file"));
        }
        Ok(Self { name, kind, files })
    }
}

/// How zones are loaded.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// TTL when a dataset has no `$TTL` (rbldnsd's `-t`, default 35m).
    pub default_ttl: u32,
    /// Add the RFC 5782 test entries (127.0.0.2, ::ffff:7f00:2, `test`
    /// listed; 127.0.0.1, ::ffff:7f00:1, `invalid` not) whatever the files
    /// say. On by default.
    pub test_entries: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            default_ttl: DEFAULT_TTL,
            test_entries: true,
        }
    }
}

/// One served zone.
#[derive(Debug)]
pub struct Zone {
    pub(crate) name: Box<[u8]>,
    pub(crate) text: String,
    pub(crate) datasets: Vec<Arc<Dataset>>,
    pub(crate) soa: Option<Soa>,
    pub(crate) ns: Option<Ns>,
    pub(crate) has_ip4: bool,
}

impl Zone {
    /// The zone's name.
    pub fn name(&self) -> &str {
        &self.text
    }

    /// Its datasets, in command-line order.
    pub fn datasets(&self) -> &[Arc<Dataset>] {
        &self.datasets
    }
}

/// Everything a server answers from.
#[derive(Debug, Default)]
pub struct Zones {
    pub(crate) zones: Vec<Zone>,
    load_time: Duration,
}

impl Zones {
    /// Loads every zone. I/O errors are fatal; malformed lines are counted
    /// in each dataset's warnings.
    pub fn load(specs: &[ZoneSpec], opts: &LoadOptions) -> Result<Self, DnsblError> {
        let start = Instant::now();
        let mut zones: Vec<Zone> = Vec::new();
        for spec in specs {
            let mut loader = Loader::new(spec.kind, opts.default_ttl);
            for f in &spec.files {
                loader.read_file(f)?;
            }
            Self::add(&mut zones, spec, loader.finish(opts.test_entries));
        }
        Ok(Self {
            zones,
            load_time: start.elapsed(),
        })
    }

    /// Builds zones from zone text held in memory (tests, generated data):
    /// `(name, type, text)`; `name` is absolute.
    pub fn from_texts(texts: &[(&str, ZoneType, &[u8])], opts: &LoadOptions) -> Self {
        let start = Instant::now();
        let mut zones = Vec::new();
        for &(name, kind, text) in texts {
            let spec = ZoneSpec {
                name: name.trim_end_matches('.').to_ascii_lowercase(),
                kind,
                files: vec![],
            };
            let mut loader = Loader::new(kind, opts.default_ttl);
            loader.read_bytes(Path::new(name), text);
            Self::add(&mut zones, &spec, loader.finish(opts.test_entries));
        }
        Self {
            zones,
            load_time: start.elapsed(),
        }
    }

    fn add(zones: &mut Vec<Zone>, spec: &ZoneSpec, ds: Dataset) {
        let wire: Box<[u8]> = name::parse_text(spec.name.as_bytes())
            .unwrap_or_default()
            .into();
        let ds = Arc::new(ds);
        // rbldnsd: SOA and NS come from the first dataset (in command-line
        // order) that has them.
        if let Some(z) = zones.iter_mut().find(|z| z.name == wire) {
            if z.soa.is_none() {
                z.soa.clone_from(&ds.soa);
            }
            if z.ns.is_none() {
                z.ns.clone_from(&ds.ns);
            }
            z.has_ip4 |= matches!(ds.kind, ZoneType::Ip4Set | ZoneType::Ip4Trie);
            z.datasets.push(ds);
            return;
        }
        zones.push(Zone {
            name: wire,
            text: spec.name.clone(),
            soa: ds.soa.clone(),
            ns: ds.ns.clone(),
            has_ip4: matches!(ds.kind, ZoneType::Ip4Set | ZoneType::Ip4Trie),
            datasets: vec![ds],
        });
    }

    /// The zones.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// How long the load took.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// The most specific zone containing `qname` (lowercase wire, no root
    /// byte) whose name starts at one of `label_starts`; returns the zone
    /// and the offset of its apex inside `qname`.
    pub(crate) fn find(&self, qname: &[u8], label_starts: &[u8]) -> Option<(&Zone, usize)> {
        let mut best: Option<(&Zone, usize)> = None;
        for z in &self.zones {
            let Some(at) = qname.len().checked_sub(z.name.len()) else {
                continue;
            };
            let at_label = at == qname.len() || label_starts.iter().any(|&s| usize::from(s) == at);
            if at_label && qname.get(at..) == Some(&z.name[..]) && best.is_none_or(|(_, b)| at < b)
            {
                best = Some((z, at));
            }
        }
        best
    }
}
