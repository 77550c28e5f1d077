//! Canonical botnet family names.
//!
//! Feeds, rules and analysts spell one family many ways: `Trojan.Srizbi`,
//! `SRIZBI`, `Backdoor:Win32/Srizbi.gen!A`, `Win32/Srizbi.B`. Every table
//! (`feed_entries.family`, `attribution.botnet`) stores the one canonical
//! form this module produces, so a join on the name works across sources.
//!
//! The canonical form is: lowercase; whitespace and `_` turned into `-`;
//! an anti-virus verdict suffix (`!A`, `!gen`) dropped; generic type and
//! platform prefixes (`Trojan.`, `Win32/`, `Backdoor:`...) stripped; a short
//! variant suffix (`.A`, `.gen`, `.BE`) stripped; then a small alias table
//! merges the names that denote the same family (`peacomm` -> `storm`).
//!
//! Invariant: the function is idempotent (`canonical_family(canonical_family(x)) ==
//! canonical_family(x)`), and a name it does not know is kept (lowercased),
//! never dropped: a new botnet must still be attributable under the feed's own
//! name. Families that researchers keep apart (Pushdo and Cutwail, which the
//! simulator also keeps apart) are not merged.

/// Generic prefixes that name a malware *type* or *platform*, not a family.
/// Stripped only when followed by a separator and more text, so that a
/// family really called e.g. `bot` is kept.
const GENERIC_PREFIXES: &[&str] = &[
    "trojan-spam",
    "trojan-proxy",
    "trojan-downloader",
    "trojan-dropper",
    "trojandownloader",
    "trojanproxy",
    "trojanspy",
    "trojan",
    "troj",
    "backdoor",
    "email-worm",
    "net-worm",
    "p2p-worm",
    "im-worm",
    "worm",
    "downloader",
    "dropper",
    "spambot",
    "spam-bot",
    "bot",
    "malware",
    "virus",
    "win32",
    "win64",
    "w32",
    "w64",
    "msil",
    "mal",
];

/// Separators that end a generic prefix (`Trojan.X`, `Win32/X`, `Backdoor:X`).
const PREFIX_SEPARATORS: &[u8] = b"./:-";

/// Names that denote the same family, mapped to the name most reports use.
/// Sorted by alias for binary search (a unit test checks the order).
const ALIASES: &[(&str, &str)] = &[
    ("bazaloader", "bazarloader"),
    ("bazarbackdoor", "bazarloader"),
    ("bugat", "dridex"),
    ("buzus", "donbot"),
    ("cbeplay", "srizbi"),
    ("costrat", "rustock"),
    ("cridex", "dridex"),
    ("danmec", "asprox"),
    ("geodo", "emotet"),
    ("heodo", "emotet"),
    ("kraken", "bobax"),
    ("mega-d", "megad"),
    ("nuwar", "storm"),
    ("oderoor", "bobax"),
    ("ozdok", "megad"),
    ("pandex", "cutwail"),
    ("peacomm", "storm"),
    ("pinkslipbot", "qakbot"),
    ("qbot", "qakbot"),
    ("quakbot", "qakbot"),
    ("spamnost", "festi"),
    ("storm-worm", "storm"),
    ("stormworm", "storm"),
    ("tedroo", "grum"),
    ("tibs", "storm"),
    ("trickster", "trickbot"),
    ("waled", "waledac"),
    ("zhelatin", "storm"),
];

/// The canonical name of a botnet family, or `None` when nothing is left
/// (empty or punctuation only).
///
/// ```
/// use depeer_intel::canonical_family;
/// assert_eq!(canonical_family("Trojan.Srizbi").as_deref(), Some("srizbi"));
/// assert_eq!(canonical_family("SRIZBI").as_deref(), Some("srizbi"));
/// assert_eq!(canonical_family("Backdoor:Win32/Rustock.B!rootkit").as_deref(), Some("rustock"));
/// assert_eq!(canonical_family("Peacomm").as_deref(), Some("storm"));
/// assert_eq!(canonical_family("Zyxbot").as_deref(), Some("zyxbot"));
/// assert_eq!(canonical_family("  "), None);
/// ```
pub fn canonical_family(raw: &str) -> Option<String> {
    let mut s: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    // `Rustock.B!rootkit`, `Srizbi.gen!A`: the verdict detail after `!`.
    if let Some(i) = s.find('!') {
        s.truncate(i);
    }
    let mut rest: &str = s.trim_matches(|c: char| c == '-' || c == '.' || c == '/');
    loop {
        let before = rest.len();
        rest = strip_generic_prefix(rest);
        rest = strip_variant_suffix(rest);
        if rest.len() == before {
            break;
        }
    }
    let rest = rest.trim_matches(|c: char| c == '-' || c == '.' || c == '/' || c == ':');
    if rest.is_empty() || !rest.chars().any(char::is_alphanumeric) {
        return None;
    }
    let name = match ALIASES.binary_search_by(|(alias, _)| (*alias).cmp(rest)) {
        Ok(i) => ALIASES.get(i).map_or(rest, |(_, canon)| *canon),
        Err(_) => rest,
    };
    Some(name.to_string())
}

/// `trojan.srizbi` -> `srizbi`; `win32/srizbi` -> `srizbi`; `trojan` -> `trojan`.
fn strip_generic_prefix(s: &str) -> &str {
    for p in GENERIC_PREFIXES {
        if let Some(tail) = s.strip_prefix(p) {
            let mut b = tail.bytes();
            if let Some(sep) = b.next()
                && PREFIX_SEPARATORS.contains(&sep)
                && tail.len() > 1
            {
                return tail.get(1..).unwrap_or(tail);
            }
        }
    }
    s
}

/// `srizbi.a` -> `srizbi`, `rustock.gen` -> `rustock`, `cutwail.be` ->
/// `cutwail`: anti-virus variant letters. Only a suffix of at most three
/// characters after the last `.`, and only when at least three characters
/// remain, so `mega.d` style names of two letters are not eaten.
fn strip_variant_suffix(s: &str) -> &str {
    if let Some(i) = s.rfind('.') {
        let (head, tail) = s.split_at(i);
        let tail = tail.get(1..).unwrap_or("");
        if head.len() >= 3
            && !tail.is_empty()
            && tail.len() <= 3
            && tail.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return head;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonical_family(s).unwrap()
    }

    /// Checks `(name, canonical)` pairs.
    fn canonical_all(cases: &[(&str, &str)]) {
        for &(s, want) in cases {
            assert_eq!(c(s), want, "{s}");
        }
    }

    #[test]
    fn alias_table_is_sorted_for_binary_search() {
        let mut sorted = ALIASES.to_vec();
        sorted.sort_by_key(|(a, _)| *a);
        assert_eq!(sorted, ALIASES.to_vec());
        // Every target is itself canonical (idempotence).
        for (_, t) in ALIASES {
            assert_eq!(c(t), *t, "alias target {t} is not canonical");
        }
    }

    #[test]
    fn spellings_of_one_family_merge() {
        for s in [
            "srizbi",
            "SRIZBI",
            "Trojan.Srizbi",
            "Win32/Srizbi",
            "Win32/Srizbi.B",
            "Trojan:Win32/Srizbi.gen!A",
            "Backdoor.Win32.Srizbi.a",
            "Cbeplay",
            " srizbi ",
        ] {
            assert_eq!(c(s), "srizbi", "{s}");
        }
        canonical_all(&[
            ("Mega-D", "megad"),
            ("Mega D", "megad"),
            ("Ozdok", "megad"),
            ("W32.Peacomm", "storm"),
            ("Email-Worm.Win32.Zhelatin", "storm"),
            ("Heodo", "emotet"),
            ("QakBot", "qakbot"),
        ]);
    }

    #[test]
    fn families_the_simulator_keeps_apart_stay_apart() {
        canonical_all(&[
            ("Pushdo", "pushdo"),
            ("Cutwail", "cutwail"),
            ("Bobax", "bobax"),
            ("HackTool", "hacktool"),
            ("Trojan.Hacktool", "hacktool"),
        ]);
    }

    #[test]
    fn unknown_names_are_kept_and_prefix_words_alone_survive() {
        canonical_all(&[
            ("Zyxbot", "zyxbot"),
            ("Trojan.Zyxbot", "zyxbot"),
            ("trojan", "trojan"),
            ("bot", "bot"),
        ]);
        assert_eq!(canonical_family(""), None);
        assert_eq!(canonical_family("..."), None);
        assert_eq!(canonical_family("Trojan."), Some("trojan".into()));
    }

    #[test]
    fn idempotent_on_odd_input() {
        for s in [
            "Trojan.Srizbi",
            "a.b.c.d",
            "x!y!z",
            "Win32/",
            "трой.Srizbi",
            "ab.c",
            "Backdoor:Win32/Rustock.B!rootkit",
            "w32/w32/w32.storm",
        ] {
            if let Some(once) = canonical_family(s) {
                assert_eq!(
                    canonical_family(&once).as_deref(),
                    Some(once.as_str()),
                    "{s}"
                );
            }
        }
    }
}
