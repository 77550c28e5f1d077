//! `depeer dossier`: a self-contained, offline-verifiable directory about
//! one AS, address, prefix or domain (docs/dossier-format.md). The claims
//! come from the read side (attribution rows, the ranking); every claim
//! cites evidence files, each a logged object (today: raw messages, kind
//! `mail`) with its own c2sp.org/tlog-proof@v1 against the log's latest
//! checkpoint. Written to the output directory only; the dataset is read.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use depeer_core::Timestamp;
use depeer_evidence::{Claim, EvidenceRef, Manifest};
use serde::Serialize;

use super::log::{LogView, log_vkey};
pub use super::subject::Subject;
use super::subject::in_prefix;
use crate::IngestError;

/// How to write a dossier.
#[derive(Debug, Clone)]
pub struct DossierOptions {
    /// The subject as given (`AS26780`, an address, a prefix, a domain).
    pub subject: String,
    /// The moment (default: the last message).
    pub at: Option<Timestamp>,
    /// Window before `at`, µs.
    pub window: i64,
    /// Most raw messages attached.
    pub max_samples: usize,
    /// Output directory (created; must be empty or absent).
    pub out: PathBuf,
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct DossierSummary {
    /// The subject.
    pub subject: String,
    /// The moment.
    pub at: String,
    /// Messages of the subject in the window.
    pub messages: usize,
    /// Evidence files written.
    pub evidence: usize,
    /// Claims made.
    pub claims: usize,
    /// The checkpoint's tree size.
    pub tree_size: u64,
}

fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

/// Writes the dossier of `opts.subject` from the dataset in `data`.
pub fn write_dossier(data: &Path, opts: &DossierOptions) -> Result<DossierSummary, IngestError> {
    let subject = Subject::parse(&opts.subject).ok_or_else(|| IngestError::BadSubject {
        subject: opts.subject.clone(),
    })?;
    let ds = depeer_store::Dataset::open(data).map_err(|source| IngestError::OpenStore {
        dir: data.to_path_buf(),
        source,
    })?;
    let rows = ds
        .read_attribution()
        .map_err(IngestError::store("reading attribution"))?;
    let at = opts
        .at
        .or_else(|| rows.iter().map(|r| r.time).max())
        .ok_or_else(|| IngestError::NoMessages {
            dir: data.to_path_buf(),
        })?;
    let from = Timestamp(at.0.saturating_sub(opts.window));
    let domain_shas: Option<std::collections::HashSet<String>> = match &subject {
        Subject::Domain(d) => Some(
            ds.read_url_hosts()
                .map_err(IngestError::store("reading message_urls"))?
                .into_iter()
                .filter(|(_, host, reg)| host == d || reg.as_deref() == Some(d.as_str()))
                .map(|(sha, _, _)| sha)
                .collect(),
        ),
        _ => None,
    };
    // An AS is also behind the spam of the botnets it hosts C&C servers for
    // (McColo relayed nothing itself): the dependency graph of the window.
    let dep = match &subject {
        Subject::Asn(a) => {
            Some(crate::read::depends::dependence(data, *a, Some(at), opts.window)?.1)
        }
        _ => None,
    };
    let cc_botnets: std::collections::HashSet<&str> = dep
        .iter()
        .flat_map(|d| d.botnets.iter())
        .filter(|b| !b.cc_servers.is_empty())
        .map(|b| b.botnet.as_str())
        .collect();
    let mut hits: Vec<&depeer_store::AttributionRow> = rows
        .iter()
        .filter(|r| r.time.0 > from.0 && r.time.0 <= at.0)
        .filter(|r| {
            let ip = r.relay_ip.as_deref().and_then(|s| s.parse::<IpAddr>().ok());
            match &subject {
                Subject::Asn(a) => {
                    r.relay_asn == Some(*a)
                        || r.botnet.as_deref().is_some_and(|b| cc_botnets.contains(b))
                }
                Subject::Ip(want) => ip == Some(*want),
                Subject::Prefix(n, l) => ip.is_some_and(|ip| in_prefix(ip, *n, *l)),
                Subject::Domain(_) => domain_shas.as_ref().is_some_and(|s| s.contains(&r.sha256)),
            }
        })
        .collect();
    hits.sort_by(|a, b| (a.time, &a.sha256).cmp(&(b.time, &b.sha256)));
    let samples = spread(&hits, opts.max_samples);
    let view = LogView::open(data)?;
    let index: HashMap<(String, String), u64> = view
        .entries
        .iter()
        .map(|e| ((e.entry.kind.clone(), e.entry.sha256_hex()), e.index))
        .collect();
    let out = &opts.out;
    for sub in ["evidence", "proofs"] {
        let p = out.join(sub);
        std::fs::create_dir_all(&p).map_err(|source| IngestError::Write {
            path: p.clone(),
            source,
        })?;
    }
    let mut evidence = Vec::new();
    let mut by_sha: HashMap<String, String> = HashMap::new();
    for r in &samples {
        let Some(&i) = index.get(&("mail".to_string(), r.sha256.clone())) else {
            return Err(IngestError::NotLogged {
                sha256: r.sha256.clone(),
            });
        };
        let mut sha = [0u8; 32];
        decode_hex(&r.sha256, &mut sha).ok_or_else(|| IngestError::NotLogged {
            sha256: r.sha256.clone(),
        })?;
        let raw = ds
            .raw_message(&sha)
            .map_err(IngestError::store("reading a raw message"))?
            .ok_or_else(|| IngestError::NotLogged {
                sha256: r.sha256.clone(),
            })?;
        let p = view.prove_index(i)?;
        let path = format!("evidence/mail-{}.eml", r.sha256);
        let proof = format!("proofs/mail-{}.tlog-proof", r.sha256);
        write(out, &path, &raw)?;
        write(out, &proof, p.proof.as_bytes())?;
        by_sha.insert(r.sha256.clone(), path.clone());
        evidence.push(EvidenceRef {
            path,
            kind: "mail".into(),
            sha256: r.sha256.clone(),
            observed: p.observed,
            log_index: i,
            proof,
            source: None,
        });
    }
    let ctx = ClaimContext {
        data,
        subject: &subject,
        hits: &hits,
        samples: &samples,
        files: &by_sha,
        at,
        opts,
        dep: dep.as_ref(),
    };
    let mut claims = claims(&ctx)?;
    let from = Timestamp(at.0.saturating_sub(opts.window));
    let sources = Attach {
        ds: &ds,
        view: &view,
        index: &index,
        out,
    };
    claims.extend(sources.claims(&subject, from, at, &mut evidence)?);
    let manifest = Manifest {
        subject: subject.label(),
        at: rfc3339(at),
        claims,
        evidence,
    };
    write(out, "checkpoint", view.latest.0.as_bytes())?;
    write(out, "vkey", format!("{}\n", log_vkey(data)?).as_bytes())?;
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    write(out, "manifest.json", &json)?;
    write(out, "index.html", super::html::render(&manifest).as_bytes())?;
    Ok(DossierSummary {
        subject: manifest.subject,
        at: manifest.at,
        messages: hits.len(),
        evidence: manifest.evidence.len(),
        claims: manifest.claims.len(),
        tree_size: view.latest.1.size,
    })
}

/// What attaching MRT and feed records to a dossier needs.
struct Attach<'a> {
    ds: &'a depeer_store::Dataset,
    view: &'a LogView,
    index: &'a HashMap<(String, String), u64>,
    out: &'a Path,
}

impl Attach<'_> {
    /// The routing and listing claims, each citing the MRT and feed records
    /// behind it (attached to `evidence`).
    fn claims(
        &self,
        subject: &Subject,
        from: Timestamp,
        at: Timestamp,
        evidence: &mut Vec<EvidenceRef>,
    ) -> Result<Vec<Claim>, IngestError> {
        let mut pending = super::sources::routing(self.ds, subject, from, at)?;
        pending.extend(super::sources::listings(self.ds, subject, at)?);
        let mut claims = Vec::new();
        for c in pending {
            let mut cited = Vec::new();
            for o in &c.objects {
                let path = attach_object(self, o, evidence)?;
                if !cited.contains(&path) {
                    cited.push(path);
                }
            }
            claims.push(Claim {
                id: c.id,
                text: c.text,
                value: c.value,
                evidence: cited,
            });
        }
        Ok(claims)
    }
}

/// Writes one MRT or feed record and its proof into the dossier (once)
/// and returns its path. Its stored bytes must still hash to its SHA-256.
fn attach_object(
    a: &Attach<'_>,
    o: &depeer_store::ObjectRow,
    evidence: &mut Vec<EvidenceRef>,
) -> Result<String, IngestError> {
    let (ds, view, index, out) = (a.ds, a.view, a.index, a.out);
    let ext = if o.kind == "mrt" { "mrt" } else { "txt" };
    let path = format!("evidence/{}-{}.{ext}", o.kind, o.sha256);
    if evidence.iter().any(|e| e.path == path) {
        return Ok(path);
    }
    let not_logged = || IngestError::NotLogged {
        sha256: o.sha256.clone(),
    };
    let &i = index
        .get(&(o.kind.clone(), o.sha256.clone()))
        .ok_or_else(not_logged)?;
    let raw = ds
        .object_bytes(o)
        .map_err(IngestError::store("reading an evidence object"))?;
    if depeer_store::sha256_hex(&depeer_store::sha256_of(&raw)) != o.sha256 {
        return Err(IngestError::Evidence(
            depeer_evidence::EvidenceError::Discrepancy {
                object: format!("{} {}", o.kind, o.sha256),
                file: format!("raw/{}", o.pack),
                offset: o.offset,
                reason: "stored bytes no longer hash to the logged SHA-256".into(),
            },
        ));
    }
    let p = view.prove_index(i)?;
    let proof = format!("proofs/{}-{}.tlog-proof", o.kind, o.sha256);
    write(out, &path, &raw)?;
    write(out, &proof, p.proof.as_bytes())?;
    let source = if o.kind == "mrt" {
        serde_json::json!({"file": o.source_file, "offset": o.source_offset, "record": o.source_index, "collector": o.collector})
    } else {
        serde_json::json!({"file": o.source_file, "offset": o.source_offset, "line": o.source_index})
    };
    evidence.push(EvidenceRef {
        path: path.clone(),
        kind: o.kind.clone(),
        sha256: o.sha256.clone(),
        observed: p.observed,
        log_index: i,
        proof,
        source: Some(source),
    });
    Ok(path)
}

fn decode_hex(s: &str, out: &mut [u8; 32]) -> Option<()> {
    if s.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(())
}

/// At most `n` rows spread evenly over `rows` (first and last included).
fn spread<'a>(
    rows: &[&'a depeer_store::AttributionRow],
    n: usize,
) -> Vec<&'a depeer_store::AttributionRow> {
    if rows.len() <= n {
        return rows.to_vec();
    }
    if n == 0 {
        return Vec::new();
    }
    (0..n)
        .filter_map(|k| {
            rows.get(if n == 1 {
                0
            } else {
                k * (rows.len() - 1) / (n - 1)
            })
            .copied()
        })
        .collect()
}

fn write(out: &Path, rel: &str, bytes: &[u8]) -> Result<(), IngestError> {
    let p = out.join(rel);
    std::fs::write(&p, bytes).map_err(|source| IngestError::Write { path: p, source })
}

struct ClaimContext<'a> {
    data: &'a Path,
    subject: &'a Subject,
    hits: &'a [&'a depeer_store::AttributionRow],
    samples: &'a [&'a depeer_store::AttributionRow],
    files: &'a HashMap<String, String>,
    at: Timestamp,
    opts: &'a DossierOptions,
    dep: Option<&'a depeer_analysis::AsDependence>,
}

fn claims(c: &ClaimContext<'_>) -> Result<Vec<Claim>, IngestError> {
    let (data, subject, hits, samples, files, at, opts) =
        (c.data, c.subject, c.hits, c.samples, c.files, c.at, c.opts);
    let all: Vec<String> = samples
        .iter()
        .filter_map(|r| files.get(&r.sha256).cloned())
        .collect();
    let mut out = Vec::new();
    if all.is_empty() {
        return Ok(out);
    }
    let label = subject.label();
    let from = Timestamp(at.0.saturating_sub(opts.window));
    let how = match subject {
        Subject::Domain(_) => "advertising",
        Subject::Asn(_) => "relayed from, or sent by botnets controlled from,",
        _ => "relayed from",
    };
    out.push(Claim {
        id: "messages".into(),
        text: format!(
            "{} messages {how} {label} reached the trap between {} and {}; {} of them are attached",
            hits.len(),
            rfc3339(from),
            rfc3339(at),
            all.len()
        ),
        value: serde_json::json!({"messages": hits.len(), "attached": all.len(), "from": rfc3339(from), "at": rfc3339(at)}),
        evidence: all.clone(),
    });
    let mut botnets: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for r in hits {
        let b = r.botnet.clone().unwrap_or_else(|| "unattributed".into());
        botnets.entry(b).or_default().0 += 1;
    }
    for r in samples {
        let b = r.botnet.clone().unwrap_or_else(|| "unattributed".into());
        if let Some(f) = files.get(&r.sha256) {
            botnets.entry(b).or_default().1.push(f.clone());
        }
    }
    for (b, (n, ev)) in botnets.into_iter().filter(|(_, (_, ev))| !ev.is_empty()) {
        out.push(Claim {
            id: format!("botnet-{b}"),
            text: format!("{n} of these messages are attributed to the botnet {b}"),
            value: serde_json::json!({"botnet": b, "messages": n}),
            evidence: ev,
        });
    }
    if let Some(d) = c.dep {
        for b in d.botnets.iter().filter(|b| !b.cc_servers.is_empty()) {
            let ev: Vec<String> = samples
                .iter()
                .filter(|r| r.botnet.as_deref() == Some(b.botnet.as_str()))
                .filter_map(|r| files.get(&r.sha256).cloned())
                .collect();
            if ev.is_empty() {
                continue;
            }
            out.push(Claim {
                id: format!("cc-{}", b.botnet),
                text: format!(
                    "{:.1} % of the window's messages ({} of {}) come from the botnet {}, whose C&C servers {} were hosted in {label}",
                    b.share * 100.0,
                    b.messages,
                    d.messages,
                    b.botnet,
                    b.cc_servers.join(", ")
                ),
                value: serde_json::json!({"botnet": b.botnet, "share": b.share, "messages": b.messages, "window_messages": d.messages, "cc_servers": b.cc_servers}),
                evidence: ev,
            });
        }
    }
    if let Subject::Asn(asn) = subject {
        let rank = crate::rank::rank(
            data,
            &crate::RankOptions {
                at: Some(at),
                window: opts.window,
                by: depeer_analysis::rank::By::As,
                method: depeer_analysis::rank::Method::Depeer,
                weights: depeer_analysis::rank::Weights::builtin().map_err(|e| {
                    IngestError::BadSubject {
                        subject: format!("ranking weights: {e}"),
                    }
                })?,
            },
        )?;
        if let Some(row) = rank.ranking.rows.iter().find(|r| r.asn == *asn) {
            out.push(Claim {
                id: "rank".into(),
                text: format!(
                    "{label} ranks #{} of {} networks by depeer's score ({:.3}) over the window; the attached messages are the trapped spam it relayed or controlled",
                    row.rank,
                    rank.ranking.rows.len(),
                    row.score
                ),
                value: serde_json::json!({"rank": row.rank, "of": rank.ranking.rows.len(), "score": row.score, "features": row.features}),
                evidence: all,
            });
        }
    }
    Ok(out)
}
