//! The signature rules file: per-family conjunctions of header facts
//! (X-Mailer, the order of the first non-trace header fields, Message-ID
//! and HELO shapes, where the Message-ID's domain comes from, the forged
//! `Received:` lines below the trap's own hop, the top-level media type
//! and MIME boundary). Syntax in docs/attribution.md.
//!
//! Why shapes and not regular expressions: a rule is a handful of exact
//! comparisons and left-to-right shape matches with no backtracking, so
//! evaluating every rule on every message costs well under a microsecond;
//! rules are first dispatched on the exact `X-Mailer` value (or its
//! absence), so a message is only checked against the rules that can fire.

use serde::Deserialize;

use super::features::MessageFeatures;

/// The rules shipped with depeer (`rules/botnets.toml`).
pub const BUILTIN_RULES: &str = include_str!("../../rules/botnets.toml");

/// Names skipped when a rule checks the order of the first header fields:
/// the ones the receiving side adds (trace and delivery fields).
const TRACE: &[&str] = &[
    "return-path",
    "x-original-to",
    "delivered-to",
    "received",
    "envelope-to",
    "x-envelope-from",
    "x-envelope-to",
    "status",
    "x-status",
    "x-uid",
    "x-keywords",
    "x-uidl",
];

/// Whether a header name is a trace or delivery field ([`TRACE`]); the
/// length is compared first, which rules out most names at once.
pub(crate) fn is_trace(name: &str) -> bool {
    TRACE
        .iter()
        .any(|t| t.len() == name.len() && t.eq_ignore_ascii_case(name))
}

/// A rules file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The file is not valid TOML or has unknown keys.
    #[error("{file}: {detail}")]
    Syntax {
        /// The rules file.
        file: String,
        /// The TOML reader's message (it names the line and column).
        detail: String,
    },
    /// A rule is invalid.
    #[error("{file}: rule {rule:?}: {detail}")]
    Rule {
        /// The rules file.
        file: String,
        /// The rule's id.
        rule: String,
        /// What is wrong.
        detail: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    version: u32,
    #[serde(default)]
    rule: Vec<RuleToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    id: String,
    family: String,
    confidence: f64,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    x_mailer: Option<Vec<String>>,
    #[serde(default)]
    order: Vec<String>,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    message_id_domain: Option<String>,
    #[serde(default)]
    helo: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    boundary: Option<String>,
    #[serde(default)]
    received_below: Option<u32>,
    #[serde(default)]
    received_below_contains: Option<String>,
    #[serde(default)]
    present: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
}

/// One element of a shape.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Class {
        class: Class,
        min: usize,
        max: usize,
    },
    Ip,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Hex,
    HexUpper,
    Dec,
    Alpha,
}

impl Class {
    fn has(self, b: u8) -> bool {
        match self {
            Class::Hex => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            Class::HexUpper => b.is_ascii_digit() || (b'A'..=b'F').contains(&b),
            Class::Dec => b.is_ascii_digit(),
            Class::Alpha => b.is_ascii_lowercase(),
        }
    }
}

/// A compiled shape: literal bytes and `{class:N-M}`, `{ip}`, `{any}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape(Vec<Tok>);

impl Shape {
    fn compile(p: &str) -> Result<Shape, String> {
        let mut toks = Vec::new();
        let b = p.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            if c != b'{' {
                toks.push(Tok::Lit(c));
                i += 1;
                continue;
            }
            let end = memchr::memchr(b'}', b.get(i..).unwrap_or_default())
                .ok_or_else(|| format!("unclosed '{{' in shape {p:?}"))?;
            let inner = p.get(i + 1..i + end).unwrap_or_default();
            i += end + 1;
            let (name, range) = inner.split_once(':').unwrap_or((inner, ""));
            let class = match name {
                "hex" => Class::Hex,
                "HEX" => Class::HexUpper,
                "dec" => Class::Dec,
                "alpha" => Class::Alpha,
                "ip" => {
                    toks.push(Tok::Ip);
                    continue;
                }
                "any" => {
                    if i != b.len() {
                        return Err(format!("{{any}} must end the shape {p:?}"));
                    }
                    toks.push(Tok::Any);
                    continue;
                }
                _ => return Err(format!("unknown class {{{inner}}} in shape {p:?}")),
            };
            let (min, max) = match range.split_once('-') {
                Some((a, z)) => (a.parse(), z.parse()),
                None if range.is_empty() => (Ok(1), Ok(64)),
                None => (range.parse(), range.parse()),
            };
            let (Ok(min), Ok(max)) = (min, max) else {
                return Err(format!("bad count in {{{inner}}} of shape {p:?}"));
            };
            if min == 0 || max < min {
                return Err(format!("bad count in {{{inner}}} of shape {p:?}"));
            }
            toks.push(Tok::Class { class, min, max });
        }
        Ok(Shape(toks))
    }

    /// Whether `s` has this shape. Classes match greedily (no
    /// backtracking): write shapes where a class is followed by a byte
    /// outside it.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let b = s.as_bytes();
        let mut i = 0;
        for t in &self.0 {
            match *t {
                Tok::Lit(c) => {
                    if b.get(i) != Some(&c) {
                        return false;
                    }
                    i += 1;
                }
                Tok::Class { class, min, max } => {
                    let n = b
                        .get(i..)
                        .unwrap_or_default()
                        .iter()
                        .take(max + 1)
                        .take_while(|&&c| class.has(c))
                        .count();
                    if n < min || n > max {
                        return false;
                    }
                    i += n;
                }
                Tok::Ip => {
                    let rest = b.get(i..).unwrap_or_default();
                    let n = rest
                        .iter()
                        .take_while(|&&c| c.is_ascii_digit() || c == b'.')
                        .count();
                    let txt = std::str::from_utf8(rest.get(..n).unwrap_or_default()).unwrap_or("");
                    if txt.parse::<std::net::Ipv4Addr>().is_err() {
                        return false;
                    }
                    i += n;
                }
                Tok::Any => return i < b.len(),
            }
        }
        i == b.len()
    }
}

/// Where a rule's Message-ID domain must come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DomainFrom {
    Helo,
    From,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) family: String,
    pub(crate) confidence: f64,
    order: Vec<String>,
    message_id: Option<Shape>,
    message_id_domain: Option<DomainFrom>,
    helo: Option<Shape>,
    content_type: Option<String>,
    boundary: Option<Shape>,
    received_below: Option<u32>,
    received_below_contains: Option<String>,
    present: Vec<String>,
    absent: Vec<String>,
}

/// The compiled rules file.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Rule indexes by exact X-Mailer value; `None` key = no X-Mailer.
    by_mailer: foldhash::HashMap<Option<String>, Vec<usize>>,
    /// Rules with no X-Mailer condition.
    any_mailer: Vec<usize>,
}

impl RuleSet {
    /// The rules shipped with depeer.
    pub fn builtin() -> Result<RuleSet, RulesError> {
        RuleSet::parse(BUILTIN_RULES, "rules/botnets.toml")
    }

    /// Parses a rules file (`file` names it in errors).
    pub fn parse(text: &str, file: &str) -> Result<RuleSet, RulesError> {
        let parsed: FileToml = toml::from_str(text).map_err(|e| RulesError::Syntax {
            file: file.to_owned(),
            detail: e.to_string(),
        })?;
        if parsed.version != 1 {
            return Err(RulesError::Syntax {
                file: file.to_owned(),
                detail: format!("version {} (this depeer reads version 1)", parsed.version),
            });
        }
        let mut set = RuleSet::default();
        for r in parsed.rule {
            let err = |detail: String| RulesError::Rule {
                file: file.to_owned(),
                rule: r.id.clone(),
                detail,
            };
            let family = crate::canonical_family(&r.family)
                .ok_or_else(|| err(format!("family {:?} has no name", r.family)))?;
            if !(r.confidence > 0.0 && r.confidence <= 1.0) {
                return Err(err("confidence must be in (0, 1]".into()));
            }
            let shape = |s: &Option<String>| s.as_deref().map(Shape::compile).transpose();
            let message_id_domain = match r.message_id_domain.as_deref() {
                None => None,
                Some("helo") => Some(DomainFrom::Helo),
                Some("from") => Some(DomainFrom::From),
                Some(o) => return Err(err(format!("message_id_domain {o:?}: helo or from"))),
            };
            let conditions = usize::from(r.x_mailer.is_some())
                + usize::from(!r.order.is_empty())
                + usize::from(r.message_id.is_some())
                + usize::from(r.helo.is_some())
                + usize::from(r.content_type.is_some())
                + usize::from(r.received_below.is_some());
            if conditions < 3 {
                return Err(err(
                    "a rule needs at least three of x_mailer, order, message_id, helo, content_type, received_below".into(),
                ));
            }
            let rule = Rule {
                id: r.id.clone(),
                family,
                confidence: r.confidence,
                order: r.order.iter().map(|s| s.to_ascii_lowercase()).collect(),
                message_id: shape(&r.message_id).map_err(err)?,
                message_id_domain,
                helo: shape(&r.helo).map_err(err)?,
                content_type: r.content_type.as_ref().map(|s| s.to_ascii_lowercase()),
                boundary: shape(&r.boundary).map_err(err)?,
                received_below: r.received_below,
                received_below_contains: r.received_below_contains.clone(),
                present: r.present.iter().map(|s| s.to_ascii_lowercase()).collect(),
                absent: r.absent.iter().map(|s| s.to_ascii_lowercase()).collect(),
            };
            let idx = set.rules.len();
            match &r.x_mailer {
                None => set.any_mailer.push(idx),
                Some(list) => {
                    for m in list {
                        let key = (m != "absent").then(|| m.clone());
                        set.by_mailer.entry(key).or_default().push(idx);
                    }
                }
            }
            set.rules.push(rule);
        }
        Ok(set)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The canonical families the rules name, sorted, without repeats.
    pub fn families(&self) -> Vec<String> {
        let mut f: Vec<String> = self.rules.iter().map(|r| r.family.clone()).collect();
        f.sort();
        f.dedup();
        f
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule that fires on `f`, as (family, confidence, rule id).
    /// Mailing-list mail never matches.
    pub fn first_match(&self, f: &MessageFeatures) -> Option<(&str, f64, &str)> {
        let i = self.first_match_index(f)?;
        let r = self.rules.get(i)?;
        Some((r.family.as_str(), r.confidence, r.id.as_str()))
    }

    /// The index of the first rule that fires on `f` (its position in the
    /// file), with its family and confidence.
    pub(crate) fn first_match_at(&self, f: &MessageFeatures) -> Option<(usize, &str, f64)> {
        let i = self.first_match_index(f)?;
        let r = self.rules.get(i)?;
        Some((i, r.family.as_str(), r.confidence))
    }

    fn first_match_index(&self, f: &MessageFeatures) -> Option<usize> {
        if f.headers.is_list_mail() {
            return None;
        }
        let by = self
            .by_mailer
            .get(&f.headers.x_mailer)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut candidates = by.iter().chain(self.any_mailer.iter()).copied().peekable();
        candidates.peek()?;
        let firsts = FirstFields::of(&f.headers.names);
        candidates.find(|&i| self.rules.get(i).is_some_and(|r| r.fires(f, &firsts)))
    }
}

/// How many of a message's first non-trace header names are kept apart.
const FIRST_FIELDS: usize = 12;

/// A message's first non-trace header names, found once per message
/// rather than once per rule tried.
#[derive(Debug)]
pub(crate) struct FirstFields<'a> {
    names: [&'a str; FIRST_FIELDS],
    n: usize,
    /// Every non-trace name is among them.
    all: bool,
    rest: &'a [String],
}

impl<'a> FirstFields<'a> {
    pub(crate) fn of(names: &'a [String]) -> Self {
        let mut out = FirstFields {
            names: [""; FIRST_FIELDS],
            n: 0,
            all: true,
            rest: names,
        };
        for name in names.iter().filter(|n| !is_trace(n)) {
            match out.names.get_mut(out.n) {
                Some(slot) => {
                    *slot = name.as_str();
                    out.n += 1;
                }
                None => {
                    out.all = false;
                    break;
                }
            }
        }
        out
    }

    /// The names kept, in order.
    pub(crate) fn names(&self) -> &[&'a str] {
        self.names.get(..self.n).unwrap_or_default()
    }
}

/// Whether the first non-trace header names are `want` (lowercase), in order.
fn first_fields_match(firsts: &FirstFields<'_>, want: &[String]) -> bool {
    if want.len() <= firsts.n || firsts.all {
        let mut it = firsts.names().iter();
        return want
            .iter()
            .all(|w| it.next().is_some_and(|n| n.eq_ignore_ascii_case(w)));
    }
    let mut it = firsts.rest.iter().filter(|n| !is_trace(n));
    want.iter()
        .all(|w| it.next().is_some_and(|n| n.eq_ignore_ascii_case(w)))
}

fn has_header(names: &[String], want: &str) -> bool {
    names
        .iter()
        .any(|n| n.len() == want.len() && n.eq_ignore_ascii_case(want))
}

/// The `boundary=` parameter of a Content-Type value.
fn boundary_of(ct: &str) -> Option<&str> {
    let lower = ct.to_ascii_lowercase();
    let at = lower.find("boundary=")? + "boundary=".len();
    let rest = ct.get(at..)?.trim_start();
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let end = rest
        .find(|c: char| c == '"' || c == ';' || c.is_whitespace())
        .unwrap_or(rest.len());
    rest.get(..end)
}

impl Rule {
    fn fires(&self, f: &MessageFeatures, firsts: &FirstFields<'_>) -> bool {
        // Cheap conditions first: most messages fail on a count or a shape.
        let h = &f.headers;
        let below = h.received.get(1..).unwrap_or_default();
        if self
            .received_below
            .is_some_and(|n| below.len() != n as usize)
        {
            return false;
        }
        if let Some(s) = &self.message_id
            && !f.message_id.as_deref().is_some_and(|v| s.matches(v))
        {
            return false;
        }
        if !self.order.is_empty() && !first_fields_match(firsts, &self.order) {
            return false;
        }
        if self.received_below.is_some()
            && let Some(c) = &self.received_below_contains
            && !below.iter().all(|r| r.contains(c.as_str()))
        {
            return false;
        }
        if let Some(ct) = &self.content_type {
            let top = h.content_type.as_deref().unwrap_or("text/plain");
            let media = top.split(';').next().unwrap_or("").trim();
            if !media.eq_ignore_ascii_case(ct) {
                return false;
            }
        }
        if let Some(b) = &self.boundary
            && !h
                .content_type
                .as_deref()
                .and_then(boundary_of)
                .is_some_and(|v| b.matches(v))
        {
            return false;
        }
        if let Some(s) = &self.helo
            && !f.relay_helo.as_deref().is_some_and(|v| s.matches(v))
        {
            return false;
        }
        if let Some(d) = self.message_id_domain {
            let Some(domain) = f
                .message_id
                .as_deref()
                .and_then(|m| m.rsplit_once('@'))
                .map(|x| x.1)
            else {
                return false;
            };
            let want = match d {
                DomainFrom::Helo => f.relay_helo.as_deref(),
                DomainFrom::From => f
                    .from_addr
                    .as_deref()
                    .and_then(|a| a.rsplit_once('@'))
                    .map(|x| x.1),
            };
            if !want.is_some_and(|w| w.eq_ignore_ascii_case(domain)) {
                return false;
            }
        }
        self.present.iter().all(|p| has_header(&h.names, p))
            && !self.absent.iter().any(|p| has_header(&h.names, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_exactly() {
        let s = Shape::compile("{hex:12}.{dec:1-6}@{any}").unwrap();
        assert!(s.matches("0a1b2c3d4e5f.123@x.com"));
        assert!(!s.matches("0a1b2c3d4e5.123@x.com"));
        assert!(!s.matches("0A1B2C3D4E5F.123@x.com"));
        assert!(!s.matches("0a1b2c3d4e5f.1234567@x.com"));
        assert!(!s.matches("0a1b2c3d4e5f.12@"));
        let ip = Shape::compile("[{ip}]").unwrap();
        assert!(ip.matches("[192.0.2.1]"));
        assert!(!ip.matches("[192.0.2.300]"));
        assert!(!ip.matches("[192.0.2.1"));
        assert!(Shape::compile("{any}x").is_err());
        assert!(Shape::compile("{nope}").is_err());
        assert!(Shape::compile("{hex:0}").is_err());
        assert!(Shape::compile("{hex").is_err());
    }

    #[test]
    fn builtin_rules_compile() {
        let r = RuleSet::builtin().unwrap();
        assert!(r.len() >= 9);
    }

    #[test]
    fn weak_rules_and_bad_files_are_refused_with_the_file_named() {
        let weak = "version = 1\n[[rule]]\nid = \"w\"\nfamily = \"x\"\nconfidence = 0.9\nx_mailer = [\"a\"]\n";
        let e = RuleSet::parse(weak, "w.toml").unwrap_err().to_string();
        assert!(e.contains("w.toml") && e.contains("three"), "{e}");
        let e = RuleSet::parse("version = 1\n[[rule]]\nidd = 1\n", "b.toml").unwrap_err();
        assert!(e.to_string().contains("b.toml"), "{e}");
        let e = RuleSet::parse("version = 2\n", "v.toml").unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
    }
}
