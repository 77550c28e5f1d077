//! Which collector each MRT file belongs to, and the order files are
//! replayed in: per collector, by the time of the first record, then by name
//! (a collector's history must be built in time order).

use std::io::Read;
use std::path::Path;

use depeer_io::{Input, InputPath};
use depeer_mrt::Framer;

use crate::input::open_input;

/// One input in replay order.
#[derive(Debug)]
pub(super) struct Planned<'a> {
    pub(super) collector: String,
    /// Seconds of the first record (0 for stdin or an unreadable start).
    pub(super) first: u32,
    pub(super) input: &'a Input,
}

/// How far into a file to look for its first record.
const FIRST_RECORD_WINDOW: u64 = 1 << 20;

/// Orders `inputs` for replay; `collector` overrides the names from paths.
pub(super) fn plan<'a>(
    inputs: &'a [Input],
    collector: Option<&str>,
    max_decompressed: u64,
) -> Vec<Planned<'a>> {
    let mut plan: Vec<Planned<'a>> = inputs
        .iter()
        .map(|input| Planned {
            collector: collector
                .map_or_else(|| collector_name(Path::new(&input.display)), str::to_string),
            first: first_record_time(input, max_decompressed),
            input,
        })
        .collect();
    plan.sort_by(|a, b| {
        (&a.collector, a.first, &a.input.display).cmp(&(&b.collector, b.first, &b.input.display))
    });
    plan
}

/// The time of a file's first record; stdin cannot be read twice.
fn first_record_time(input: &Input, max_decompressed: u64) -> u32 {
    if matches!(input.path, InputPath::Stdin) {
        return 0;
    }
    open_input(input, max_decompressed)
        .ok()
        .and_then(|r| Framer::new(r.take(FIRST_RECORD_WINDOW), "").next())
        .and_then(Result::ok)
        .map_or(0, |r| r.header.timestamp)
}

/// The collector a file came from, by its path: `rrc00`, `route-views.jinx`,
/// `route-views2`, ... else the name of its directory.
pub fn collector_name(path: &Path) -> String {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for c in comps.iter().rev() {
        if let Some(name) = collector_in(c) {
            return name;
        }
    }
    match comps.as_slice() {
        [] => "-".into(),
        [only] => only.clone(),
        [.., dir, _] => dir.clone(),
    }
}

/// A collector named in one path component.
fn collector_in(c: &str) -> Option<String> {
    for token in c.split(['.', '_', '-']) {
        if let Some(digits) = token.strip_prefix("rrc")
            && digits.len() == 2
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Some(token.to_string());
        }
    }
    if let Some(i) = c.find("route-views") {
        let rest = c.get(i..).unwrap_or_default();
        let end = rest
            .find(".updates")
            .or_else(|| rest.find(".rib"))
            .or_else(|| rest.find(".bview"))
            .unwrap_or(rest.len());
        return Some(rest.get(..end).unwrap_or(rest).to_string());
    }
    let rest = c.strip_prefix("routeviews")?;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(format!("route-views{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_names_from_paths() {
        for (p, want) in [
            (
                "data/mrt/bgpkit/rrc00/2000.01/bview.20000111.0032.gz",
                "rrc00",
            ),
            (
                "x/routeviews.route-views.jinx.updates.1427846400.bz2",
                "route-views.jinx",
            ),
            ("x/ris.rrc06.updates.1427846400.gz", "rrc06"),
            (
                "mrt/routeviews2-2008-02/updates.20080224.1824.bz2",
                "route-views2",
            ),
            (
                "mrt/bgpdump/test_data/updates.20020722.2238.gz",
                "test_data",
            ),
            ("rib.bz2", "rib.bz2"),
            ("", "-"),
            ("x/rrc1/rrcab/f", "rrcab"),
        ] {
            assert_eq!(collector_name(Path::new(p)), want, "{p}");
        }
    }
}
