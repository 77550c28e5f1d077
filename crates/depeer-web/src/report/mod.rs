//! `depeer report`: one self-contained HTML file from a [`ReportData`].
//!
//! The page needs no network: the chart library (uPlot, vendored in
//! `assets/` with its version, licence and hash in `assets/README.md`), the
//! styles, the page's own script and the data are all inside it, and its
//! Content-Security-Policy (`default-src 'none'`, scripts and styles only
//! by their SHA-256) forbids every request and every script not written
//! here. Tables and the dependency graph (server-side SVG, [`svg`]) are
//! HTML and show without JavaScript; the two time charts are drawn by
//! uPlot from the JSON in `<script type="application/json">`.
//!
//! Every string of the data is adversary-controlled: it reaches the page
//! only through [`escape::html`] (text and attribute values) or
//! [`escape::script_json`] (the JSON, where `<`, `>` and `&` are `\u`
//! escapes, so `</script>` in a subject cannot end the element), and the
//! page's script only ever sets text.

mod escape;
mod svg;
mod tables;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use depeer_core::Timestamp;
use depeer_ingest::report::{ReportData, Series, Shares};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::WebError;

const UPLOT_JS: &str = include_str!("../../assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uPlot.min.css");
const REPORT_JS: &str = include_str!("../../assets/report.js");
const REPORT_CSS: &str = include_str!("../../assets/report.css");

/// One section of the report and how much it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `spam_rate`, `events`, `botnet_shares`, `botnets`,
    /// `dependency_graph`, `ranking`, `whatif`, `backtests`.
    pub name: &'static str,
    /// Its rows: buckets of the spam rate, botnets of the shares chart,
    /// nodes of the graph, rows of a table; `None` when the command behind
    /// it could not answer (the section says so).
    pub rows: Option<usize>,
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The whole HTML document.
    pub html: String,
    /// What it holds.
    pub sections: Vec<Section>,
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// What it holds.
    pub sections: Vec<Section>,
}

/// `t` (Unix seconds) as RFC 3339.
pub(crate) fn time_text(t: i64) -> String {
    Timestamp::from_secs(t).to_rfc3339()
}

/// `3600` → `hour`, `21600` → `6 h`, `86400` → `day`.
fn step_label(secs: i64) -> String {
    match secs {
        60 => "minute".into(),
        3600 => "hour".into(),
        86_400 => "day".into(),
        s if s > 0 && s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn series_json(s: &Series) -> serde_json::Value {
    json!({"times": s.times, "values": s.values, "step_label": step_label(s.step_secs)})
}

fn shares_json(s: &Shares) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = s
        .keys
        .iter()
        .map(|k| json!({"name": k.name, "values": k.values}))
        .collect();
    json!({"times": s.times, "keys": keys, "step_label": step_label(s.step_secs)})
}

/// The JSON the page's script draws from.
fn chart_data(d: &ReportData) -> serde_json::Value {
    let events: Vec<serde_json::Value> = d
        .events
        .iter()
        .map(|e| json!({"time": e.time, "kind": e.kind}))
        .collect();
    let at = Timestamp::parse(&d.at).ok().map(Timestamp::secs);
    json!({
        "at": at,
        "spam": series_json(&d.spam),
        "events": events,
        "shares": shares_json(&d.botnet_shares),
    })
}

/// `'sha256-…'` of an inline script or style, for the CSP.
fn csp_hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        escape::base64(&Sha256::digest(text.as_bytes()))
    )
}

/// The sections and their sizes.
fn sections(d: &ReportData) -> Vec<Section> {
    vec![
        Section {
            name: "spam_rate",
            rows: Some(d.spam.times.len()),
        },
        Section {
            name: "events",
            rows: Some(d.events.len()),
        },
        Section {
            name: "botnet_shares",
            rows: Some(d.botnet_shares.keys.len()),
        },
        Section {
            name: "botnets",
            rows: Some(d.botnets.len()),
        },
        Section {
            name: "dependency_graph",
            rows: Some(d.graph.nodes.len()),
        },
        Section {
            name: "ranking",
            rows: d.ranking.as_ref().map(Vec::len),
        },
        Section {
            name: "whatif",
            rows: d.whatif.as_ref().map(Vec::len),
        },
        Section {
            name: "backtests",
            rows: d.backtests.as_ref().map(Vec::len),
        },
    ]
}

/// Renders the report.
pub fn render(d: &ReportData) -> Rendered {
    let style = format!("{UPLOT_CSS}\n{REPORT_CSS}");
    let csp = format!(
        "default-src 'none'; script-src {} {}; style-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(UPLOT_JS),
        csp_hash(REPORT_JS),
        csp_hash(&style)
    );
    let title = escape::html(&d.title);
    let mut h = String::with_capacity(UPLOT_JS.len() + 64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p class=\"meta\">Analyses at <b>{at}</b> (the dependency graph and the botnet table: the {window} before it; ranking and what-if: data up to it). The time charts show all the data, with that moment dashed. Made by {generator}; opens without a network connection.</p>\n\
         <noscript><p class=\"note\">The two charts need JavaScript; the tables and the graph do not.</p></noscript>\n",
        at = escape::html(&d.at),
        window = escape::html(&graph_window(d)),
        generator = escape::html(&d.generator),
    );
    h.push_str("<h2 id=\"spam\">Spam rate and its events</h2>\n<div id=\"spam-chart\" class=\"chart\"></div>\n<p class=\"note\">Trapped messages per bucket. Vertical lines: <span class=\"legend-key key-drop\"></span>drops, <span class=\"legend-key key-rise\"></span>rises (<code>depeer events</code>), dashed: the report's moment.</p>\n");
    h.push_str(&tables::events(&d.events));
    h.push_str("<h2 id=\"shares\">Botnet shares over time</h2>\n<div id=\"shares-chart\" class=\"chart\"></div>\n<p class=\"note\">Each botnet's share of the trapped spam per bucket (<code>depeer series --by botnet</code>).</p>\n");
    let _ = writeln!(
        h,
        "<h3>Botnets in the {} before {}</h3>",
        escape::html(&graph_window(d)),
        escape::html(&d.at)
    );
    h.push_str(&tables::botnets(&d.botnets));
    h.push_str("<h2 id=\"ranking\">Rogue networks</h2>\n");
    match &d.ranking {
        Some(r) => h.push_str(&tables::ranking(r)),
        None => h.push_str(&tables::not_built("depeer rank")),
    }
    let _ = writeln!(
        h,
        "<h2 id=\"graph\">Dependency graph around the top networks</h2>\n<p class=\"note\">What the {} of spam before {} depended on: botnets, the networks hosting their C&amp;C servers (solid) and advertised sites (dashed), and those networks' upstreams (<code>depeer depends</code>). Widths follow the share of spam; hover for the servers.</p>",
        escape::html(&graph_window(d)),
        escape::html(&d.at)
    );
    h.push_str(&svg::graph(&d.graph));
    h.push_str("<h2 id=\"whatif\">What-if depeering and backtest</h2>\n");
    match &d.whatif {
        Some(w) => h.push_str(&tables::whatif(w)),
        None => h.push_str(&tables::not_built("depeer whatif")),
    }
    match &d.backtests {
        Some(b) => h.push_str(&tables::backtests(b)),
        None => h.push_str(&tables::not_built("depeer backtest")),
    }
    let _ = write!(
        h,
        "<script type=\"application/json\" id=\"report-data\">{}</script>\n<script>{UPLOT_JS}</script>\n<script>{REPORT_JS}</script>\n</body>\n</html>\n",
        escape::script_json(&chart_data(d))
    );
    Rendered {
        html: h,
        sections: sections(d),
    }
}

/// The length of the graph's window, as text (`24 h`).
fn graph_window(d: &ReportData) -> String {
    let secs = d.graph.window_end - d.graph.window_start;
    if secs > 0 {
        step_label(secs)
            .replace("day", "24 h")
            .replace("hour", "1 h")
    } else {
        "window".to_string()
    }
}

/// Renders the report into `path` (written beside it, then renamed, so
/// that a reader never sees half a file).
pub fn write_report(path: &Path, d: &ReportData) -> Result<Written, WebError> {
    let r = render(d);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = |p: &Path| std::fs::write(p, r.html.as_bytes());
    write(&tmp)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            WebError::Write {
                path: path.to_path_buf(),
                source,
            }
        })?;
    Ok(Written {
        path: path.to_path_buf(),
        bytes: r.html.len() as u64,
        sections: r.sections,
    })
}

#[cfg(test)]
mod tests;
