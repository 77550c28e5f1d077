//! The demo's conclusions, each the command a user would type: the
//! rogue-network ranking an hour before the depeering, how much spam
//! depends on the first network, what cutting it off would do, the drop as
//! the detector saw it with its routing cause and the backtest, and the
//! blocklists an operator would have loaded. Without a depeering in the
//! scenario the moment is the end of the data.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use super::{HOUR_US, Runner, num};

/// Rows of the ranking and botnets of the per-botnet tables shown.
const ROWS: usize = 5;

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// What the conclusions are drawn on: the dataset, and the scenario's
/// depeering when there is one.
pub(super) struct Moment<'a> {
    /// Runs the commands on the dataset.
    pub(super) r: &'a Runner,
    /// The depeering.
    pub(super) cut: Option<depeer_core::Timestamp>,
}

impl Moment<'_> {
    /// `--at` arguments for the moment: one hour before the cut, or none
    /// (the end of the data).
    fn at(&self) -> Vec<String> {
        self.cut
            .map(|c| {
                vec![
                    "--at".to_string(),
                    depeer_core::Timestamp(c.0 - HOUR_US).to_rfc3339(),
                ]
            })
            .unwrap_or_default()
    }
}

/// Stage 7: the ranking; returns the first network's AS number.
pub(super) fn rank_before(m: &Moment<'_>, out: &mut dyn Write) -> anyhow::Result<Option<u64>> {
    let when = if m.cut.is_some() {
        "an hour before the depeering"
    } else {
        "at the end of the data"
    };
    writeln!(out, "\n7. Rogue networks ranked {when} (depeer rank)")?;
    let Some(ranking) = m.r.ask(out, &["rank"], &m.at())? else {
        return Ok(None);
    };
    let rows = list(&ranking, "ranking");
    writeln!(
        out,
        "   {:>4} {:<9} {:<30} {:>6} {:>10} {:>7} {:>7}",
        "rank", "AS", "organisation", "score", "dependency", "C&C/24", "site/24"
    )?;
    for row in rows.iter().take(ROWS) {
        let f = row.get("features").cloned().unwrap_or(Value::Null);
        writeln!(
            out,
            "   {:>4} AS{:<7} {:<30} {:>6.3} {:>10} {:>7.3} {:>7.3}",
            num(row, "rank"),
            num(row, "asn"),
            text(row, "org").chars().take(30).collect::<String>(),
            num(row, "score"),
            pct(num(&f, "dependency")),
            num(&f, "cc_density"),
            num(&f, "site_density"),
        )?;
    }
    writeln!(
        out,
        "   each score explained feature by feature: depeer explain AS{} --data {}",
        rows.first().map_or(0.0, |r| num(r, "asn")),
        m.r.data.display()
    )?;
    Ok(rows
        .first()
        .and_then(|r| r.get("asn"))
        .and_then(Value::as_u64))
}

/// Stage 8: the share of the day's spam that depends on `asn`.
pub(super) fn depends_on(m: &Moment<'_>, out: &mut dyn Write, asn: u64) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n8. How much of the day's spam depends on AS{asn} (depeer depends)"
    )?;
    let Some(d) = m.r.ask(out, &["depends", &asn.to_string()], &m.at())? else {
        return Ok(());
    };
    writeln!(
        out,
        "   {} of {} messages come from botnets controlled from there, {} advertise sites hosted there",
        pct(num(&d, "cc_share")),
        num(&d, "messages"),
        pct(num(&d, "site_share")),
    )?;
    for b in list(&d, "botnets").iter().take(ROWS) {
        writeln!(
            out,
            "   {:<12} {:>6} of the spam, C&C {}",
            text(b, "botnet"),
            pct(num(b, "share")),
            list(b, "cc_servers")
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

/// Stage 9: the what-if of cutting `asn` off.
pub(super) fn whatif(m: &Moment<'_>, out: &mut dyn Write, asn: u64) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n9. What cutting AS{asn} off would do (depeer whatif)"
    )?;
    let Some(w) =
        m.r.ask(out, &["whatif", "--cut", &asn.to_string()], &m.at())?
    else {
        return Ok(());
    };
    writeln!(
        out,
        "   {} prefixes and {} C&C servers go dark; predicted drop of the spam rate {} ({} to {})",
        num(&w, "unreachable_prefix_count"),
        list(&w, "cc_dark").len(),
        pct(num(&w, "predicted_drop")),
        pct(num(&w, "low")),
        pct(num(&w, "high")),
    )?;
    for b in list(&w, "per_botnet")
        .iter()
        .filter(|b| num(b, "predicted_drop") > 0.0)
        .take(ROWS)
    {
        writeln!(
            out,
            "   {:<12} {:>6} of the spam, {} of {} C&C dark: predicted {}",
            text(b, "botnet"),
            pct(num(b, "share")),
            num(b, "cc_dark"),
            num(b, "cc_listed"),
            pct(num(b, "predicted_drop")),
        )?;
    }
    Ok(())
}

/// Stage 10: the drops the detector found, with their causes, and each
/// drop's backtest.
pub(super) fn drops(m: &Moment<'_>, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n10. The drop as detected, its cause, and the prediction made just before it (depeer events, depeer backtest)"
    )?;
    let Some(events) = m.r.ask(out, &["events"], &[])? else {
        return Ok(());
    };
    let all = list(&events, "events");
    writeln!(out, "   {} events in the total spam rate", all.len())?;
    let near = |e: &&Value| match (m.cut, depeer_core::Timestamp::parse(text(e, "time"))) {
        (Some(c), Ok(t)) => (t.0 - c.0).abs() <= 6 * HOUR_US,
        (None, _) => true,
        (Some(_), Err(_)) => false,
    };
    for e in all.iter().filter(near).take(ROWS) {
        let cause = list(e, "causes").first().map_or_else(
            || "no routing event explains it".to_string(),
            |c| {
                format!(
                    "AS{} {} ({}) explains {}",
                    num(c, "asn"),
                    text(c, "org"),
                    text(c, "kind"),
                    pct(num(c, "explains"))
                )
            },
        );
        writeln!(
            out,
            "   {} {} {:+.0} % ({:+.0} to {:+.0}), confidence {:.2}: {cause}",
            text(e, "time"),
            text(e, "kind"),
            num(e, "magnitude") * 100.0,
            num(e, "low") * 100.0,
            num(e, "high") * 100.0,
            num(e, "confidence"),
        )?;
    }
    let Some(bt) = m.r.ask(out, &["backtest"], &[])? else {
        return Ok(());
    };
    for b in list(&bt, "backtests") {
        let cut: Vec<String> = list(b, "cut").iter().map(|a| format!("AS{a}")).collect();
        writeln!(
            out,
            "   backtest {}: cutting {} predicted {} ({} to {}), observed {}",
            text(b, "event_time"),
            cut.join("+"),
            pct(num(b, "predicted_drop")),
            pct(num(b, "low")),
            pct(num(b, "high")),
            pct(num(b, "observed_drop")),
        )?;
    }
    Ok(())
}

/// Stage 11: the blocklists as of the ranking's moment, written beside the
/// dataset when the demo keeps its files.
pub(super) fn blocklists(m: &Moment<'_>, out: &mut dyn Write, root: &Path) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n11. Blocklists an operator could have loaded then (depeer export)"
    )?;
    let at = m.at();
    for (format, file) in [("drop", "drop.txt"), ("rbldnsd", "depeer.zone")] {
        let path = root.join(file).display().to_string();
        if let Some(v) = m.r.ask(out, &["export", format, "--out", &path], &at)? {
            let per: Vec<String> = v
                .get("by_list")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, n)| format!("{k} {n}")).collect())
                .unwrap_or_default();
            writeln!(
                out,
                "   {format:<8} {} entries ({}) -> {path}",
                num(&v, "entries"),
                per.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "   served as DNS zones bots/cc/drop/dbl.bl.depeer.test: depeer serve dnsbl --data {}",
        m.r.data.display()
    )?;
    Ok(())
}
