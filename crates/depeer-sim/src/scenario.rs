//! Scenario files: the TOML schema (documented field by field in
//! docs/sim.md), the built-in scenarios embedded with `include_str!`, and
//! validation. A scenario holds every parameter of a world; `--seed` and
//! `--scale` are the only other inputs.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::timefmt::{parse_abs, parse_duration};

const BUILTIN: [(&str, &str); 4] = [
    ("mccolo-2008", include_str!("../scenarios/mccolo-2008.toml")),
    (
        "intercage-2008",
        include_str!("../scenarios/intercage-2008.toml"),
    ),
    ("3fn-2009", include_str!("../scenarios/3fn-2009.toml")),
    (
        "rustock-2011",
        include_str!("../scenarios/rustock-2011.toml"),
    ),
];

/// Names of the built-in scenarios.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// The TOML text of a built-in scenario.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A whole scenario (see docs/sim.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in file names and truth.json.
    pub name: String,
    /// One paragraph for people.
    #[serde(default)]
    pub description: String,
    /// Start of the simulated window (RFC 3339, UTC).
    pub start: String,
    /// End of the simulated window (exclusive).
    pub end: String,
    /// Key of the event the truth summary is centred on.
    pub main_event: String,
    /// Spamtrap mail.
    pub mail: MailCfg,
    /// AS topology and routing noise.
    pub topology: TopologyCfg,
    /// Threat-feed noise and delay.
    #[serde(default)]
    pub feeds: FeedsCfg,
    /// Named transit / tier-1 ASes (upstreams of the hosters).
    #[serde(default, rename = "named_as")]
    pub named_ases: Vec<NamedAsCfg>,
    /// Named hosters (bulletproof or not) that carry C&C servers and sites.
    #[serde(default, rename = "hoster")]
    pub hosters: Vec<HosterCfg>,
    /// Routing and seizure events.
    #[serde(default, rename = "event")]
    pub events: Vec<EventCfg>,
    /// Botnets.
    #[serde(rename = "botnet")]
    pub botnets: Vec<BotnetCfg>,
    /// Times at which truth.json reports volume relative to before.
    #[serde(default, rename = "checkpoint")]
    pub checkpoints: Vec<CheckpointCfg>,
}

/// `[mail]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailCfg {
    /// Spamtrap messages per hour before the main event at `--scale 1`.
    pub rate_per_hour: f64,
    /// Number of spamtrap domains.
    #[serde(default = "d_traps")]
    pub traps: u32,
    /// Legitimate mail as a share of spam before the event.
    #[serde(default)]
    pub legit_share: f64,
    /// Share of messages deliberately malformed (marked in the truth).
    #[serde(default)]
    pub malformed_share: f64,
    /// Campaigns per botnet.
    #[serde(default = "d_campaigns")]
    pub campaigns_per_botnet: u32,
    /// Advertised domains per campaign.
    #[serde(default = "d_domains")]
    pub domains_per_campaign: u32,
}

/// `[topology]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyCfg {
    /// Tier-1 ASes besides the named ones (not scaled).
    pub tier1: u32,
    /// Transit providers at `--scale 1`.
    pub transit: u32,
    /// Access / residential networks at `--scale 1`.
    pub access: u32,
    /// Ordinary hosters at `--scale 1`.
    pub hosters: u32,
    /// Cap on the number of ASes, whatever the scale.
    pub max_ases: u32,
    /// Mean IPv4 prefixes per AS.
    pub v4_per_as: f64,
    /// Share of ASes announcing IPv6.
    pub v6_share: f64,
    /// Mean IPv6 prefixes per IPv6-announcing AS.
    pub v6_per_as: f64,
    /// Collector peers (each with an IPv4 and an IPv6 session).
    pub collector_peers: u32,
    /// Share of prefixes that flap (withdrawn, re-announced minutes later) per day.
    #[serde(default)]
    pub prefix_flaps_per_day: f64,
    /// Upstream-link flaps of multihomed access networks per 1,000 ASes per day.
    #[serde(default)]
    pub link_flaps_per_day: f64,
    /// Mean time an ordinary hoster leaves a C&C server up before its
    /// abuse desk takes it down (exponential, from the server's start);
    /// the botnet then sets the server up again at another ordinary
    /// hoster. `"off"`: never. Default `"4d"`.
    #[serde(default = "d_takedown")]
    pub takedown: String,
}

fn d_takedown() -> String {
    "4d".into()
}

/// A `takedown` value: `Some(None)` for `"off"`, `Some(Some(secs))` for a
/// positive duration, `None` when it is neither.
pub(crate) fn takedown_secs(text: &str) -> Option<Option<i64>> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Some(None);
    }
    parse_duration(text).filter(|&s| s > 0).map(Some)
}

/// `[feeds]`: noise and delay of the threat feeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedsCfg {
    /// Share of C&C servers (per location) the C&C list ever reports.
    pub cc_recall: f64,
    /// False C&C entries as a share of true ones.
    pub cc_false_positives: f64,
    /// Mean delay between a C&C going up and its listing (duration).
    pub cc_delay: String,
    /// Mean time a dead C&C stays listed (duration).
    pub cc_linger: String,
    /// Share of advertised URLs the malicious-URL list reports.
    pub url_recall: f64,
    /// Legitimate URLs listed, as a share of true ones.
    pub url_false_positives: f64,
    /// Mean listing delay of URLs (duration).
    pub url_delay: String,
    /// Share of (name, address) intervals passive DNS observed.
    pub pdns_coverage: f64,
    /// Bots listed per botnet, as a share of its bots.
    pub bots_listed: f64,
    /// Share of listed bots tagged with the wrong family.
    pub bots_mislabelled: f64,
    /// Non-bot addresses listed, as a share of listed bots.
    pub bots_false_positives: f64,
    /// Share of listed bots whose C&C contact was observed (a sinkhole or
    /// drone report records the server the bot talked to, as
    /// Shadowserver's drone reports do in their `cc` column).
    pub bots_cc: f64,
}

impl Default for FeedsCfg {
    fn default() -> Self {
        FeedsCfg {
            cc_recall: 0.85,
            cc_false_positives: 0.1,
            cc_delay: "36h".into(),
            cc_linger: "3d".into(),
            url_recall: 0.7,
            url_false_positives: 0.05,
            url_delay: "12h".into(),
            pdns_coverage: 0.8,
            bots_listed: 0.2,
            bots_mislabelled: 0.03,
            bots_false_positives: 0.02,
            bots_cc: 0.5,
        }
    }
}

/// `[[named_as]]`: a transit or tier-1 AS the scenario refers to by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedAsCfg {
    /// Key used by hosters and events.
    pub key: String,
    /// AS name (as2org `name`).
    pub name: String,
    /// Organisation name.
    pub org: String,
    /// ISO country code.
    pub country: String,
    /// `tier1` or `transit`.
    pub tier: Tier,
}

/// Tier of a named AS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Member of the tier-1 clique.
    Tier1,
    /// A transit provider with tier-1 upstreams.
    Transit,
}

/// `[[hoster]]`: a hoster the scenario names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HosterCfg {
    /// Key used by botnets and events.
    pub key: String,
    /// AS name.
    pub name: String,
    /// Organisation name.
    pub org: String,
    /// ISO country code.
    pub country: String,
    /// Bulletproof: few upstreams, dense in abuse, moves reported servers.
    #[serde(default)]
    pub bulletproof: bool,
    /// Keys of named ASes that are its upstreams at the start.
    #[serde(default)]
    pub upstreams: Vec<String>,
    /// Further upstreams drawn among transit providers.
    #[serde(default)]
    pub random_upstreams: u32,
    /// IPv4 prefix lengths it announces.
    pub v4: Vec<u8>,
    /// IPv6 prefix lengths it announces.
    #[serde(default)]
    pub v6: Vec<u8>,
    /// Mean time between moves of a server to another address of the AS.
    #[serde(default)]
    pub move_every: Option<String>,
    /// Mean time its abuse desk leaves a C&C server up before taking it
    /// down (as `topology.takedown`); unset: never, whatever the topology
    /// says (a named hoster's behaviour is the scenario's to give).
    #[serde(default)]
    pub takedown: Option<String>,
}

/// Kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The link between `as` and its upstream `upstream` goes down.
    LinkDown,
    /// A (possibly new) link between `as` and upstream `upstream` comes up.
    LinkUp,
    /// Every upstream link of `as` goes down.
    Isolate,
    /// The C&C servers of `family` at `as` are seized (no routing change).
    Seize,
}

/// `[[event]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCfg {
    /// Key (other times may be written `key+36h`).
    pub key: String,
    /// What happens.
    pub kind: EventKind,
    /// When (absolute, or relative to an earlier event).
    pub at: String,
    /// Uniform jitter, ± this duration, drawn per seed.
    #[serde(default)]
    pub jitter: Option<String>,
    /// Hoster key.
    #[serde(rename = "as")]
    pub asn: String,
    /// Named-AS key of the upstream (link-down, link-up).
    #[serde(default)]
    pub upstream: Option<String>,
    /// Botnet family (seize).
    #[serde(default)]
    pub family: Option<String>,
    /// Text for people.
    #[serde(default)]
    pub note: String,
}

/// How a botnet reacts to losing its C&C (documentation and validation:
/// `fallback` requires a C&C entry with `from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reaction {
    /// Bots whose C&C is lost stop sending.
    Silent,
    /// Bots find a backup / generated-domain C&C after a while.
    Fallback,
}

/// `[[botnet]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotnetCfg {
    /// Family name (lower case).
    pub family: String,
    /// Share of world spam before the main event.
    pub share: f64,
    /// Bots at `--scale 1`.
    pub bots: u32,
    /// Cap on bots whatever the scale (public figure where known).
    pub max_bots: u32,
    /// Reaction to losing C&C.
    pub reaction: Reaction,
    /// Template style (defaults to the family).
    #[serde(default)]
    pub style: Option<String>,
    /// Campaign topics.
    pub topics: Vec<String>,
    /// Hosters of the advertised sites (keys, or `*` for ordinary hosters).
    pub sites: Vec<String>,
    /// C&C servers, primary and fallback.
    pub cc: Vec<CcCfg>,
    /// Volume multiplier over time (piecewise linear, 1 before the first point).
    #[serde(default)]
    pub growth: Vec<GrowthCfg>,
}

/// `[[botnet.cc]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CcCfg {
    /// Hoster key, or `*` for an ordinary hoster drawn per seed.
    pub hoster: String,
    /// Servers in this group.
    #[serde(default = "d_one")]
    pub servers: u32,
    /// Share of the botnet's before-volume this group controls.
    pub weight: f64,
    /// TCP port.
    #[serde(default = "d_port")]
    pub port: u16,
    /// Share of the bots that listen to this group.
    #[serde(default = "d_onef")]
    pub bot_fraction: f64,
    /// When the group starts (absent: before the window); fallbacks set it.
    #[serde(default)]
    pub from: Option<String>,
    /// Jitter of `from`, ±.
    #[serde(default)]
    pub jitter: Option<String>,
    /// Linear ramp-up after `from`.
    #[serde(default)]
    pub ramp: Option<String>,
    /// When the operators abandon the group.
    #[serde(default)]
    pub until: Option<String>,
    /// Whether the group resumes when its routes come back (default: lost for good).
    #[serde(default)]
    pub resume: bool,
    /// Text for people.
    #[serde(default)]
    pub note: String,
}

/// `[[botnet.growth]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowthCfg {
    /// When.
    pub at: String,
    /// Multiplier reached at that time.
    pub factor: f64,
}

/// `[[checkpoint]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointCfg {
    /// Name in truth.json.
    pub name: String,
    /// Start of the window measured.
    pub at: String,
    /// Length of the window (default 24h).
    #[serde(default = "d_window")]
    pub window: String,
}

fn d_traps() -> u32 {
    3
}
fn d_campaigns() -> u32 {
    4
}
fn d_domains() -> u32 {
    3
}
fn d_one() -> u32 {
    1
}
fn d_onef() -> f64 {
    1.0
}
fn d_port() -> u16 {
    80
}
fn d_window() -> String {
    "24h".into()
}

impl Scenario {
    /// Parses and validates scenario TOML.
    pub fn from_toml(text: &str, origin: &str) -> Result<Scenario, SimError> {
        let s: Scenario = toml::from_str(text).map_err(|e| SimError::ScenarioParse {
            name: origin.to_string(),
            source: Box::new(e),
        })?;
        s.validate()?;
        Ok(s)
    }

    /// A built-in scenario by name, or a scenario file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, SimError> {
        if let Some(text) = builtin_text(name_or_path) {
            return Scenario::from_toml(text, name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|e| SimError::ScenarioRead {
                path: path.to_path_buf(),
                source: e,
            })?;
            return Scenario::from_toml(&text, name_or_path);
        }
        Err(SimError::UnknownScenario {
            name: name_or_path.to_string(),
            known: builtin_names().join(", "),
        })
    }

    fn invalid(&self, field: impl Into<String>, reason: impl Into<String>) -> SimError {
        SimError::ScenarioInvalid {
            name: self.name.clone(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Checks cross references, times and ranges.
    pub fn validate(&self) -> Result<(), SimError> {
        let start = parse_abs(&self.start).ok_or_else(|| self.invalid("start", "not a time"))?;
        let end = parse_abs(&self.end).ok_or_else(|| self.invalid("end", "not a time"))?;
        if end <= start {
            return Err(self.invalid("end", "must be after start"));
        }
        if self.mail.rate_per_hour.is_nan() || self.mail.rate_per_hour <= 0.0 {
            return Err(self.invalid("mail.rate_per_hour", "must be > 0"));
        }
        if self.mail.traps == 0 {
            return Err(self.invalid("mail.traps", "must be >= 1"));
        }
        for (f, v) in [
            ("mail.legit_share", self.mail.legit_share),
            ("mail.malformed_share", self.mail.malformed_share),
            ("topology.v6_share", self.topology.v6_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(self.invalid(f, "must be within 0..=1"));
            }
        }
        let t = &self.topology;
        if t.tier1 + self.named_ases.len() as u32 == 0 || t.transit == 0 || t.access == 0 {
            return Err(self.invalid("topology", "needs tier-1, transit and access ASes"));
        }
        if t.collector_peers == 0 || t.collector_peers > t.tier1 + t.transit {
            return Err(self.invalid("topology.collector_peers", "1..=tier1+transit"));
        }
        for d in [
            &self.feeds.cc_delay,
            &self.feeds.cc_linger,
            &self.feeds.url_delay,
        ] {
            parse_duration(d)
                .ok_or_else(|| self.invalid("feeds", format!("bad duration {d:?}")))?;
        }
        takedown_secs(&t.takedown)
            .ok_or_else(|| self.invalid("topology.takedown", "a duration or \"off\""))?;
        self.validate_hosters()?;
        let event_keys = self.validate_events()?;
        if !event_keys.contains(self.main_event.as_str()) {
            return Err(self.invalid("main_event", "not an event key"));
        }
        self.validate_botnets()
    }

    /// Unique keys of named ASes and hosters; hosters' upstreams, prefixes
    /// and moves.
    fn validate_hosters(&self) -> Result<(), SimError> {
        let mut keys = BTreeSet::new();
        for n in &self.named_ases {
            if !keys.insert(n.key.as_str()) {
                return Err(self.invalid("named_as.key", format!("duplicate {:?}", n.key)));
            }
        }
        let named = self.named_keys();
        for h in &self.hosters {
            if !keys.insert(h.key.as_str()) {
                return Err(self.invalid("hoster.key", format!("duplicate {:?}", h.key)));
            }
            for u in &h.upstreams {
                if !named.contains(u.as_str()) {
                    return Err(self.invalid("hoster.upstreams", format!("unknown named AS {u:?}")));
                }
            }
            if h.upstreams.is_empty() && h.random_upstreams == 0 {
                return Err(self.invalid(format!("hoster.{}", h.key), "has no upstream"));
            }
            if h.v4.is_empty() || h.v4.iter().any(|&l| !(8..=24).contains(&l)) {
                return Err(self.invalid(
                    format!("hoster.{}.v4", h.key),
                    "lengths 8..=24, at least one",
                ));
            }
            if h.v6.iter().any(|&l| !(19..=48).contains(&l)) {
                return Err(self.invalid(format!("hoster.{}.v6", h.key), "lengths 19..=48"));
            }
            if let Some(m) = &h.move_every {
                parse_duration(m)
                    .ok_or_else(|| self.invalid("hoster.move_every", "bad duration"))?;
            }
            if let Some(m) = &h.takedown {
                takedown_secs(m).ok_or_else(|| {
                    self.invalid(
                        format!("hoster.{}.takedown", h.key),
                        "a duration or \"off\"",
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Keys of the named ASes.
    fn named_keys(&self) -> BTreeSet<&str> {
        self.named_ases.iter().map(|n| n.key.as_str()).collect()
    }

    /// Keys of the hosters.
    fn hoster_keys(&self) -> BTreeSet<&str> {
        self.hosters.iter().map(|h| h.key.as_str()).collect()
    }

    /// Unique event keys, each event's AS, upstream and family; returns the keys.
    fn validate_events(&self) -> Result<BTreeSet<&str>, SimError> {
        let named = self.named_keys();
        let hosters = self.hoster_keys();
        let mut event_keys = BTreeSet::new();
        for e in &self.events {
            if !event_keys.insert(e.key.as_str()) {
                return Err(self.invalid("event.key", format!("duplicate {:?}", e.key)));
            }
            if !hosters.contains(e.asn.as_str()) {
                return Err(self.invalid(format!("event.{}.as", e.key), "not a hoster key"));
            }
            match e.kind {
                EventKind::LinkDown | EventKind::LinkUp => {
                    let u = e.upstream.as_deref().unwrap_or("");
                    if !named.contains(u) {
                        return Err(
                            self.invalid(format!("event.{}.upstream", e.key), "not a named AS")
                        );
                    }
                }
                EventKind::Seize => {
                    let f = e.family.as_deref().unwrap_or("");
                    if !self.botnets.iter().any(|b| b.family == f) {
                        return Err(
                            self.invalid(format!("event.{}.family", e.key), "no such botnet")
                        );
                    }
                }
                EventKind::Isolate => {}
            }
        }
        Ok(event_keys)
    }

    /// Botnet shares, families, hosters and C&C groups.
    fn validate_botnets(&self) -> Result<(), SimError> {
        let hosters = self.hoster_keys();
        let total: f64 = self.botnets.iter().map(|b| b.share).sum();
        if self.botnets.is_empty() || total > 1.0 + 1e-9 {
            return Err(self.invalid(
                "botnet.share",
                format!("shares sum to {total}, must be <= 1"),
            ));
        }
        let mut fams = BTreeSet::new();
        for b in &self.botnets {
            if !fams.insert(b.family.as_str()) {
                return Err(self.invalid("botnet.family", format!("duplicate {:?}", b.family)));
            }
            if b.topics.is_empty() || b.sites.is_empty() || b.cc.is_empty() || b.bots == 0 {
                return Err(self.invalid(
                    format!("botnet.{}", b.family),
                    "needs topics, sites, cc and bots",
                ));
            }
            for s in b.sites.iter().chain(b.cc.iter().map(|c| &c.hoster)) {
                if s != "*" && !hosters.contains(s.as_str()) {
                    return Err(self.invalid(
                        format!("botnet.{}", b.family),
                        format!("unknown hoster {s:?}"),
                    ));
                }
            }
            let primary: f64 =
                b.cc.iter()
                    .filter(|c| c.from.is_none())
                    .map(|c| c.weight)
                    .sum();
            if (primary - 1.0).abs() > 1e-6 {
                return Err(self.invalid(
                    format!("botnet.{}.cc", b.family),
                    format!("weights of C&C groups without `from` sum to {primary}, must be 1"),
                ));
            }
            if b.reaction == Reaction::Fallback && !b.cc.iter().any(|c| c.from.is_some()) {
                return Err(self.invalid(
                    format!("botnet.{}", b.family),
                    "reaction = fallback needs a cc with `from`",
                ));
            }
            for c in &b.cc {
                if !(0.0..=1.0).contains(&c.bot_fraction) || c.bot_fraction == 0.0 || c.servers == 0
                {
                    return Err(self.invalid(
                        format!("botnet.{}.cc", b.family),
                        "bot_fraction in (0,1], servers >= 1",
                    ));
                }
            }
        }
        Ok(())
    }
}
