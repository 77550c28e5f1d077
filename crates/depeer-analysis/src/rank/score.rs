//! From tallies to a ranking: each feature on a 0..1 scale, weighted by
//! the weights file ([`Weights`]; the default is `weights.toml` beside
//! this file), summed; or one of the two baselines. Every row keeps its
//! raw feature values and each feature's contribution, so a score can be
//! explained feature by feature.

use std::collections::BTreeMap;

use super::baselines;
use super::features::{self, Evidence, Params, Tally};
use super::{By, Method, RankInput};

const DAY: i64 = 86_400_000_000;

/// The weights file shipped with depeer.
pub const DEFAULT_WEIGHTS: &str = include_str!("weights.toml");

/// depeer's features, in the order they are shown.
pub const FEATURES: [&str; 12] = [
    "cc_density",
    "site_density",
    "bot_density",
    "persistence",
    "longevity",
    "moves",
    "dependency",
    "upstream_churn",
    "short_lived",
    "fragmentation",
    "cone",
    "evicted",
];

/// A weights file that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {detail}")]
pub struct WeightsError {
    /// The file (as named by the caller).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub detail: String,
}

/// The weights and parameters of depeer's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Weight per feature (every name of [`FEATURES`]).
    pub weights: BTreeMap<String, f64>,
    /// Persistence span (µs).
    pub persistence: i64,
    /// Gate half-point (listings).
    pub evidence_half: f64,
    /// Shrinkage prior strength in /24s (0: the median size).
    pub prior_size24: f64,
    /// Density gate half-point: the share of the window's largest
    /// density at which the corroborating features count half.
    pub density_half: f64,
    /// How much the network's share of the spam's dependencies (its
    /// impact) multiplies the score: `score × (1 − impact + impact ×
    /// dependency / the largest)`; 0 leaves the score additive.
    pub impact: f64,
}

/// The 1-based line of the first line that sets `key` under `[section]`
/// (`""`: the top level); else the section's header line (or line 1).
fn line_of(text: &str, section: &str, key: &str) -> usize {
    let mut in_section = section.is_empty();
    let mut first_key = 1;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            in_section = t.trim_matches(['[', ']', ' ']) == section;
            if in_section {
                first_key = i + 1;
            }
            continue;
        }
        let name = t.split('=').next().unwrap_or("").trim().trim_matches('"');
        if in_section && !key.is_empty() && name == key {
            return i + 1;
        }
    }
    first_key
}

fn line_at(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |s| s.matches('\n').count() + 1)
}

impl Weights {
    /// The shipped weights.
    pub fn builtin() -> Result<Weights, WeightsError> {
        Weights::parse(
            DEFAULT_WEIGHTS,
            "crates/depeer-analysis/src/rank/weights.toml",
        )
    }

    /// Parses and validates a weights file (`file` names it in errors):
    /// `version = 1`, a `[weights]` table naming every feature with a
    /// finite weight >= 0 (not all 0), and an optional `[params]` table.
    pub fn parse(text: &str, file: &str) -> Result<Weights, WeightsError> {
        let err = |line: usize, detail: String| WeightsError {
            file: file.to_string(),
            line,
            detail,
        };
        let doc: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_at(text, s.start));
            err(line, e.message().to_string())
        })?;
        match doc.get("version").and_then(toml::Value::as_integer) {
            Some(1) => {}
            Some(v) => {
                return Err(err(
                    line_of(text, "", "version"),
                    format!("version {v}: this depeer reads version 1"),
                ));
            }
            None => return Err(err(1, "`version = 1` is missing".into())),
        }
        for k in doc.keys() {
            if !["version", "weights", "params"].contains(&k.as_str()) {
                return Err(err(
                    line_of(text, "", k),
                    format!("unknown key {k:?} (version, [weights], [params])"),
                ));
            }
        }
        let table = doc
            .get("weights")
            .and_then(toml::Value::as_table)
            .ok_or_else(|| err(1, "a [weights] table is missing".into()))?;
        let mut weights = BTreeMap::new();
        for (k, v) in table {
            let line = line_of(text, "weights", k);
            if !FEATURES.contains(&k.as_str()) {
                return Err(err(
                    line,
                    format!("unknown feature {k:?} (features: {})", FEATURES.join(", ")),
                ));
            }
            let w = v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .filter(|w| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| err(line, format!("weight of {k}: {v:?} is not a number >= 0")))?;
            if k == "evicted" && w > 1.0 {
                return Err(err(
                    line,
                    format!("weight of evicted: {v:?} is not between 0 and 1 (it multiplies)"),
                ));
            }
            weights.insert(k.clone(), w);
        }
        // `evicted` came after the first weights files: one that does not
        // name it ranks as it did (no eviction).
        weights.entry("evicted".to_string()).or_insert(0.0);
        if let Some(missing) = FEATURES.iter().find(|f| !weights.contains_key(**f)) {
            return Err(err(
                line_of(text, "weights", ""),
                format!("[weights] does not name {missing:?} (give it 0 to leave it out)"),
            ));
        }
        if weights
            .iter()
            .filter(|(k, _)| k.as_str() != "evicted")
            .map(|(_, v)| v)
            .sum::<f64>()
            <= 0.0
        {
            return Err(err(
                line_of(text, "weights", ""),
                "every weight is 0".into(),
            ));
        }
        let mut w = Weights {
            weights,
            persistence: DAY,
            evidence_half: 2.0,
            prior_size24: 0.0,
            density_half: 0.05,
            impact: 0.0,
        };
        if let Some(params) = doc.get("params") {
            let params = params
                .as_table()
                .ok_or_else(|| err(line_of(text, "", "params"), "params must be a table".into()))?;
            for (k, v) in params {
                let line = line_of(text, "params", k);
                let num = || {
                    v.as_float()
                        .or_else(|| v.as_integer().map(|i| i as f64))
                        .filter(|x| x.is_finite() && *x >= 0.0)
                        .ok_or_else(|| err(line, format!("{k}: {v:?} is not a number >= 0")))
                };
                match k.as_str() {
                    "persistence" => {
                        w.persistence = v
                            .as_str()
                            .and_then(|s| crate::series::parse_duration(s).ok())
                            .ok_or_else(|| err(line, format!("persistence: {v:?} is not a duration like \"1d\" or \"36h\"")))?;
                    }
                    "evidence_half" => w.evidence_half = num()?,
                    "prior_size24" => w.prior_size24 = num()?,
                    "density_half" => w.density_half = num()?,
                    "impact" => {
                        w.impact = num()?;
                        if w.impact > 1.0 {
                            return Err(err(line, format!("impact: {v:?} is not between 0 and 1")));
                        }
                    }
                    _ => {
                        return Err(err(
                            line,
                            format!(
                                "unknown parameter {k:?} (persistence, evidence_half, prior_size24, density_half, impact)"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(w)
    }

    fn get(&self, f: &str) -> f64 {
        self.weights.get(f).copied().unwrap_or(0.0)
    }
}

/// One ranked network.
#[derive(Debug, Clone, PartialEq)]
pub struct RankRow {
    /// 1-based place.
    pub rank: usize,
    /// The network's key: the AS number, the organisation or the prefix.
    pub key: String,
    /// The AS (for an organisation its largest AS, for a prefix its first
    /// origin).
    pub asn: u32,
    /// Its organisation (else its AS name).
    pub org: Option<String>,
    /// The prefix (`--by prefix`).
    pub prefix: Option<String>,
    /// The score of the method.
    pub score: f64,
    /// Raw feature values, by name.
    pub features: BTreeMap<String, f64>,
    /// Each feature's part of the score (depeer's method), by name.
    pub contributions: BTreeMap<String, f64>,
    /// The network's evidence.
    pub tally: Tally,
}

/// A ranking and the evidence behind it.
#[derive(Debug, Clone)]
pub struct Ranking {
    /// The moment (Unix µs).
    pub at: i64,
    /// Networks with any evidence, best first.
    pub rows: Vec<RankRow>,
    /// The evidence the tallies index.
    pub evidence: Vec<Evidence>,
}

/// The tallies of the window per network, with the evidence.
pub fn tallies(input: &RankInput, by: By, w: &Weights) -> (Vec<Evidence>, BTreeMap<String, Tally>) {
    features::tally(
        input,
        by,
        &Params {
            persistence: w.persistence,
        },
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(1.0)
}

/// Population figures the features are scaled by.
struct Scale {
    prior: f64,
    rate_cc: f64,
    rate_site: f64,
    rate_bot: f64,
    max: BTreeMap<&'static str, f64>,
}

impl Scale {
    fn shrunk(&self, n: f64, size: f64, rate: f64) -> f64 {
        (n + rate * self.prior) / (size + self.prior)
    }
}

/// Raw values and 0..1 values (before the gate) of one tally.
fn raw(t: &Tally, s: &Scale, window_days: f64) -> BTreeMap<&'static str, (f64, f64)> {
    let listed = (t.cc_all + t.sites_all) as f64;
    let services = t.services.len() as f64;
    let longevity = if services > 0.0 {
        t.services
            .values()
            .map(|v| {
                let (first, last) = features::span(v);
                (last - first) as f64 / DAY as f64
            })
            .sum::<f64>()
            / services
    } else {
        0.0
    };
    let moved = t
        .services
        .values()
        .filter(|v| features::moved(v, &t.active))
        .count() as f64;
    let size = t.size24.max(1.0);
    let cone = if t.cone_count > 0.0 {
        s.shrunk(t.cone_count, size + t.cone_size24, s.rate_cc + s.rate_site)
    } else {
        0.0
    };
    let ratio = |x: f64, d: f64| if d > 0.0 { x / d } else { 0.0 };
    BTreeMap::from([
        (
            "cc_density",
            (t.cc as f64 / size, s.shrunk(t.cc as f64, size, s.rate_cc)),
        ),
        (
            "site_density",
            (
                t.sites as f64 / size,
                s.shrunk(t.sites as f64, size, s.rate_site),
            ),
        ),
        (
            "bot_density",
            (
                t.bots as f64 / size,
                s.shrunk(t.bots as f64, size, s.rate_bot),
            ),
        ),
        (
            "persistence",
            (
                ratio(t.hosting() as f64, listed),
                ratio(t.hosting() as f64, listed),
            ),
        ),
        ("longevity", (longevity, (longevity / window_days).min(1.0))),
        ("moves", (moved, ratio(moved, services))),
        ("dependency", (t.dependency, t.dependency)),
        ("upstream_churn", {
            let c = t.providers.saturating_sub(1) as f64 + t.upstream_events as f64;
            (c, c)
        }),
        (
            "short_lived",
            (
                t.short_lived as f64,
                ratio(t.short_lived as f64, t.prefixes as f64),
            ),
        ),
        (
            "fragmentation",
            (t.prefixes as f64 / size, t.prefixes as f64 / size),
        ),
        ("cone", (ratio(t.cone_count, size + t.cone_size24), cone)),
        ("evicted", {
            let e = t.evicted.len() as f64;
            (e, ratio(e, t.judged as f64).min(1.0))
        }),
    ])
}

/// Features scaled by the population's maximum (the densities and the
/// cone by the largest direct density, so a cone never counts more than
/// the densest network itself).
const BY_MAX: [&str; 7] = [
    "cc_density",
    "site_density",
    "bot_density",
    "dependency",
    "upstream_churn",
    "short_lived",
    "fragmentation",
];

fn scale(tallies: &BTreeMap<String, Tally>, w: &Weights, window_days: f64) -> Scale {
    let sized: Vec<f64> = tallies
        .values()
        .filter(|t| t.prefixes > 0)
        .map(|t| t.size24)
        .collect();
    let total: f64 = sized.iter().sum::<f64>().max(1.0);
    let sum = |f: fn(&Tally) -> u64| tallies.values().map(|t| f(t) as f64).sum::<f64>() / total;
    let mut s = Scale {
        prior: if w.prior_size24 > 0.0 {
            w.prior_size24
        } else {
            median(sized).max(1.0)
        },
        rate_cc: sum(|t| t.cc),
        rate_site: sum(|t| t.sites),
        rate_bot: sum(|t| t.bots),
        max: BTreeMap::new(),
    };
    let mut max: BTreeMap<&'static str, f64> = BTreeMap::new();
    for t in tallies.values().filter(|t| evidence_of(t)) {
        for (k, (_, v)) in raw(t, &s, window_days) {
            let m = max.entry(k).or_insert(0.0);
            *m = m.max(v);
        }
    }
    let direct = ["cc_density", "site_density"]
        .iter()
        .map(|k| max.get(k).copied().unwrap_or(0.0))
        .fold(0.0, f64::max);
    max.insert("cone", direct);
    s.max = max;
    s
}

fn evidence_of(t: &Tally) -> bool {
    t.cc_all + t.sites_all + t.bots_all > 0 || t.cone_count > 0.0 || t.dependency > 0.0
}

/// depeer's score of one tally: (score, raw features, contributions).
///
/// Two gates keep what corroborates hosting evidence from making a
/// network rogue alone. The count gate `n / (n + evidence_half)` of its
/// persistent listings `n`; and the density gate `D / (D +
/// density_half)`, `D` the larger of its two hosting densities on the
/// 0..1 scale: a large legitimate hoster passes the first by its sheer
/// number of listings, but its density is a small fraction of a rogue
/// network's, so its lifetimes, moves, routing and the spam's
/// dependency on it (which all grow with size) count for little.
/// Then the impact factor `1 − impact + impact × dependency / the
/// largest × the density gate`: among networks alike rogue, the one the
/// spam depends on most comes first (the next McColo is the one whose
/// cut matters).
fn depeer_score(
    t: &Tally,
    s: &Scale,
    w: &Weights,
    window_days: f64,
) -> (f64, BTreeMap<String, f64>, BTreeMap<String, f64>) {
    let total: f64 = w
        .weights
        .iter()
        .filter(|(k, _)| k.as_str() != "evicted")
        .map(|(_, v)| v)
        .sum();
    let n = t.hosting() as f64;
    let gate = n / (n + w.evidence_half.max(1e-9));
    let cone_gate = t.cone_count / (t.cone_count + w.evidence_half.max(1e-9));
    let features = raw(t, s, window_days);
    let unit = |k: &str, v: f64| {
        if BY_MAX.contains(&k) || k == "cone" {
            let m = s.max.get(k).copied().unwrap_or(0.0);
            if m > 0.0 { (v / m).min(1.0) } else { 0.0 }
        } else {
            v
        }
    };
    let scaled = |k: &str| features.get(k).map_or(0.0, |&(_, v)| unit(k, v));
    let per24 = |k: &str| features.get(k).map_or(0.0, |&(v, _)| v);
    let density = per24("cc_density").max(per24("site_density"));
    let density_gate = if w.density_half > 0.0 {
        density / (density + w.density_half)
    } else {
        1.0
    };
    let impact = 1.0 - w.impact + w.impact * scaled("dependency") * density_gate;
    let (mut score, mut feats, mut contrib) = (0.0, BTreeMap::new(), BTreeMap::new());
    for (k, (value, u)) in &features {
        let x = unit(k, *u)
            * match *k {
                "cc_density" | "site_density" | "bot_density" => 1.0,
                "dependency" => density_gate,
                "cone" => cone_gate,
                _ => gate * density_gate,
            };
        if *k == "evicted" {
            continue;
        }
        let c = w.get(k) * x / total * impact;
        score += c;
        feats.insert((*k).to_string(), round6(*value));
        contrib.insert((*k).to_string(), round6(c));
    }
    // `evicted` multiplies what the rest adds up to: a network that took
    // down every C&C address it could be judged on keeps 1 − weight of
    // its score (weight clamped to 0..1); its contribution is the loss.
    if let Some(&(value, share)) = features.get("evicted") {
        let loss = score * w.get("evicted").clamp(0.0, 1.0) * share;
        score -= loss;
        feats.insert("evicted".to_string(), round6(value));
        contrib.insert("evicted".to_string(), round6(-loss));
    }
    (score, feats, contrib)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Ranks the networks of the window by `method`.
pub fn rank(input: &RankInput, by: By, method: Method, w: &Weights) -> Ranking {
    let (evidence, tallies) = tallies(input, by, w);
    let window_days = (input.window as f64 / DAY as f64).max(1.0);
    let s = scale(&tallies, w, window_days);
    let mut rows: Vec<RankRow> = Vec::new();
    for (key, t) in tallies {
        if !evidence_of(&t) {
            continue;
        }
        let (score, features, contributions) = match method {
            Method::Depeer => depeer_score(&t, &s, w, window_days),
            Method::Circl => {
                let (sc, f) = baselines::circl(&t, window_days);
                (sc, f, BTreeMap::new())
            }
            Method::Fire => {
                let (sc, f) = baselines::fire(&t);
                (sc, f, BTreeMap::new())
            }
        };
        let asn = match by {
            By::As => key.parse().unwrap_or(0),
            _ => largest_as(input, &t),
        };
        let org = match by {
            By::Org => Some(key.clone()),
            _ => Some(features::org_key(input, asn)),
        };
        rows.push(RankRow {
            rank: 0,
            prefix: (by == By::Prefix).then(|| key.clone()),
            key,
            asn,
            org,
            score: round6(score),
            features,
            contributions,
            tally: t,
        });
    }
    rows.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.tally.hosting().cmp(&a.tally.hosting()))
            .then(a.key.cmp(&b.key))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ranking {
        at: input.at,
        rows,
        evidence,
    }
}

/// The AS of a network with the most announced space (ties: the lowest).
fn largest_as(input: &RankInput, t: &Tally) -> u32 {
    let mut size: BTreeMap<u32, f64> = BTreeMap::new();
    for r in &input.routes {
        if t.asns.contains(&r.origin) && r.first <= input.at && r.last >= input.at - input.window {
            *size.entry(r.origin).or_insert(0.0) += 2f64.powi(32 - i32::from(r.len.min(32)));
        }
    }
    t.asns
        .iter()
        .copied()
        .max_by(|a, b| {
            let (x, y) = (size.get(a).unwrap_or(&0.0), size.get(b).unwrap_or(&0.0));
            x.total_cmp(y).then(b.cmp(a))
        })
        .unwrap_or(0)
}
