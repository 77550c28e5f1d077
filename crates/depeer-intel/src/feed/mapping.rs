//! Declared layouts for feeds no built-in format knows: a TOML mapping
//! file that says how fields are separated, which lines are comments,
//! whether a header names the columns, which column holds what and how its
//! times are written. Every mistake is reported with the mapping file and
//! line (or the feed file and its header line when a named column is
//! missing there). The syntax is documented in `docs/intel.md`.
//!
//! ```toml
//! source = "example-bots"      # default source name
//! kind = "bots"                # cnc | url | pdns | bots | net
//! delimiter = ","              # one character, "\t", or "whitespace"
//! quote = "\""                 # "" for none
//! comment = ["#", "//"]        # prefixes of comment lines
//! header = true                # the first non-comment line names the columns
//!
//! [columns]                    # a header name, or a 1-based column number
//! ip = "src_ip"
//! family = 4
//! first_seen = { column = "seen", format = "%d/%m/%Y %H:%M" }
//!
//! [constants]
//! family = "srizbi"            # one family for every row
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::FeedKind;
use super::lines::{Delim, Field, split_fields};
use super::row::{Columns, RowLayout, Target};
use super::timefmt::TimeFormat;
use crate::IntelError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    source: Option<String>,
    kind: Option<Spanned<String>>,
    delimiter: Option<Spanned<String>>,
    quote: Option<Spanned<String>>,
    comment: Option<Comments>,
    header: Option<bool>,
    columns: Spanned<BTreeMap<String, Spanned<ColumnSpec>>>,
    #[serde(default)]
    constants: Constants,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Constants {
    family: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Comments {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum ColumnRef {
    Number(i64),
    Name(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ColumnSpec {
    Ref(ColumnRef),
    Full {
        column: ColumnRef,
        format: Option<String>,
    },
}

/// The fields a mapping can name.
const FIELDS: &[&str] = &[
    "ip",
    "url",
    "name",
    "address",
    "family",
    "port",
    "first_seen",
    "last_seen",
];

/// One declared column: where it is and (for times) how it is written.
#[derive(Debug, Clone)]
struct Col {
    at: ColAt,
    format: TimeFormat,
    /// Line in the mapping file, for errors found later (header lookup).
    line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ColAt {
    Index(usize),
    Name(String),
}

/// A validated mapping file. Build it with [`Mapping::from_toml`] or
/// [`Mapping::load`], then pass it in [`crate::FeedOptions`].
#[derive(Debug, Clone)]
pub struct Mapping {
    path: String,
    source: Option<String>,
    kind: Option<FeedKind>,
    delim: Delim,
    quote: Option<u8>,
    comments: Vec<String>,
    header: bool,
    columns: BTreeMap<String, Col>,
    columns_line: u64,
    family_const: Option<String>,
}

fn line_of(text: &str, pos: usize) -> u64 {
    let upto = text.get(..pos.min(text.len())).unwrap_or(text);
    memchr::memchr_iter(b'\n', upto.as_bytes()).count() as u64 + 1
}

impl Mapping {
    /// Reads a mapping file from disk.
    pub fn load(path: &std::path::Path) -> Result<Mapping, IntelError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| IntelError::Mapping {
            file: name.clone(),
            line: 0,
            detail: format!("cannot read the mapping file: {e}"),
        })?;
        Mapping::from_toml(&name, &text)
    }

    /// Parses and validates mapping text; `path` names it in errors.
    pub fn from_toml(path: &str, text: &str) -> Result<Mapping, IntelError> {
        let err = |pos: usize, detail: String| IntelError::Mapping {
            file: path.to_string(),
            line: line_of(text, pos),
            detail,
        };
        let f: File = toml::from_str(text).map_err(|e| {
            let pos = e.span().map_or(0, |s| s.start);
            err(pos, e.message().trim().to_string())
        })?;
        let kind = match &f.kind {
            Some(k) => Some(
                k.get_ref()
                    .parse::<FeedKind>()
                    .map_err(|e| err(k.span().start, e))?,
            ),
            None => None,
        };
        let delim = match &f.delimiter {
            None => Delim::Byte(b','),
            Some(d) => match d.get_ref().as_str() {
                "whitespace" => Delim::Whitespace,
                "\\t" | "tab" => Delim::Byte(b'\t'),
                s if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" => {
                    Delim::Byte(s.as_bytes().first().copied().unwrap_or(b','))
                }
                s => {
                    return Err(err(
                        d.span().start,
                        format!(
                            "delimiter {s:?}: use one ASCII character, \"\\t\" or \"whitespace\""
                        ),
                    ));
                }
            },
        };
        let quote = match &f.quote {
            None => Some(b'"'),
            Some(q) => match q.get_ref().as_str() {
                "" => None,
                s if s.len() == 1 && s.is_ascii() => s.as_bytes().first().copied(),
                s => {
                    return Err(err(
                        q.span().start,
                        format!("quote {s:?}: use one ASCII character or \"\""),
                    ));
                }
            },
        };
        let comments = match f.comment {
            None => vec!["#".to_string()],
            Some(Comments::One(s)) => vec![s],
            Some(Comments::Many(v)) => v,
        }
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
        let header = f.header.unwrap_or(false);
        let columns_line = line_of(text, f.columns.span().start);
        let mut columns = BTreeMap::new();
        for (key, spec) in f.columns.into_inner() {
            let line = line_of(text, spec.span().start);
            let at_err = |d: String| IntelError::Mapping {
                file: path.to_string(),
                line,
                detail: d,
            };
            if !FIELDS.contains(&key.as_str()) {
                return Err(at_err(format!(
                    "unknown column key {key:?}; known: {}",
                    FIELDS.join(", ")
                )));
            }
            let (r, fmt) = match spec.into_inner() {
                ColumnSpec::Ref(r) => (r, None),
                ColumnSpec::Full { column, format } => (column, format),
            };
            let at = match r {
                ColumnRef::Number(n) if (1..=10_000).contains(&n) => ColAt::Index(n as usize - 1),
                ColumnRef::Number(n) => {
                    return Err(at_err(format!(
                        "{key}: column number {n} must be 1 or more"
                    )));
                }
                ColumnRef::Name(_) if !header => {
                    return Err(at_err(format!(
                        "{key}: a column name needs `header = true`; without a header use a 1-based number"
                    )));
                }
                ColumnRef::Name(s) => ColAt::Name(s),
            };
            if fmt.is_some() && key != "first_seen" && key != "last_seen" {
                return Err(at_err(format!(
                    "{key}: only first_seen and last_seen take a format"
                )));
            }
            let format = match fmt {
                Some(s) => TimeFormat::from_decl(&s).map_err(|e| at_err(format!("{key}: {e}")))?,
                None => TimeFormat::Auto,
            };
            columns.insert(key, Col { at, format, line });
        }
        let m = Mapping {
            path: path.to_string(),
            source: f.source,
            kind,
            delim,
            quote,
            comments,
            header,
            columns,
            columns_line,
            family_const: f.constants.family,
        };
        // Check the columns against the kind now when it is declared, so a
        // wrong file fails before any feed is read.
        if let Some(k) = m.kind {
            m.target_for(k)?;
        }
        Ok(m)
    }

    /// The default source name declared in the file.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The kind declared in the file.
    pub fn kind(&self) -> Option<FeedKind> {
        self.kind
    }

    /// The path the mapping was read from.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Comment prefixes.
    pub(crate) fn comments(&self) -> &[String] {
        &self.comments
    }

    /// Whether the first non-comment line is a header.
    pub(crate) fn has_header(&self) -> bool {
        self.header
    }

    /// The kind the columns imply when none is declared: a url column is a
    /// URL feed, name + address passive DNS; an ip column needs a kind.
    pub(crate) fn implied_kind(&self) -> Option<FeedKind> {
        if self.columns.contains_key("url") {
            Some(FeedKind::Url)
        } else if self.columns.contains_key("name") && self.columns.contains_key("address") {
            Some(FeedKind::Pdns)
        } else {
            None
        }
    }

    fn target_for(&self, kind: FeedKind) -> Result<Target, IntelError> {
        let (target, need): (Target, &[&str]) = match kind {
            FeedKind::Url => (Target::Url, &["url"]),
            FeedKind::Pdns => (Target::Pdns, &["name", "address"]),
            FeedKind::Cnc | FeedKind::Bots => (Target::Ip, &["ip"]),
            FeedKind::Net => (Target::Net, &["ip"]),
        };
        for n in need {
            if !self.columns.contains_key(*n) {
                return Err(IntelError::Mapping {
                    file: self.path.clone(),
                    line: self.columns_line,
                    detail: format!(
                        "a {} feed needs a `{n}` column in [columns] (the network column of a net feed is `ip`)",
                        kind.as_str()
                    ),
                });
            }
        }
        Ok(target)
    }

    /// The row layout for `kind`, with named columns looked up in the
    /// feed's header line (`header`, at `feed_file:header_line`).
    pub(crate) fn layout(
        &self,
        kind: FeedKind,
        header: Option<(&str, &str, u64)>,
    ) -> Result<RowLayout, IntelError> {
        let target = self.target_for(kind)?;
        let mut names: Vec<String> = Vec::new();
        if let Some((line, _, _)) = header {
            let mut f: Vec<Field> = Vec::new();
            split_fields(line, self.delim, self.quote, &mut f)
                .map_err(|e| self.header_err(header, e.to_string()))?;
            names = f
                .iter()
                .map(|x| {
                    x.text(line, self.quote)
                        .trim_start_matches('#')
                        .trim()
                        .to_string()
                })
                .collect();
        }
        let mut cols = Columns::default();
        let mut fmts = (TimeFormat::Auto, TimeFormat::Auto);
        for (key, col) in &self.columns {
            let idx = match &col.at {
                ColAt::Index(i) => *i,
                ColAt::Name(n) => names
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(n))
                    .ok_or_else(|| {
                        self.header_err(
                            header,
                            format!(
                                "column {n:?} (mapping {}:{}) is not in the header; it has: {}",
                                self.path,
                                col.line,
                                names.join(", ")
                            ),
                        )
                    })?,
            };
            let slot = match key.as_str() {
                "ip" => &mut cols.ip,
                "url" => &mut cols.url,
                "name" => &mut cols.name,
                "address" => &mut cols.address,
                "family" => &mut cols.family,
                "port" => &mut cols.port,
                "first_seen" => {
                    fmts.0 = col.format.clone();
                    &mut cols.first_seen
                }
                _ => {
                    fmts.1 = col.format.clone();
                    &mut cols.last_seen
                }
            };
            *slot = Some(idx);
        }
        Ok(RowLayout {
            delim: self.delim,
            quote: self.quote,
            cols,
            target,
            first_fmt: fmts.0,
            last_fmt: fmts.1,
            family_const: self.family_const.clone(),
        })
    }

    fn header_err(&self, header: Option<(&str, &str, u64)>, detail: String) -> IntelError {
        let (file, line) = header.map_or((self.path.clone(), self.columns_line), |(_, f, l)| {
            (f.to_string(), l)
        });
        IntelError::Mapping { file, line, detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_line(text: &str) -> (u64, String) {
        match Mapping::from_toml("m.toml", text).unwrap_err() {
            IntelError::Mapping { file, line, detail } => {
                assert_eq!(file, "m.toml");
                (line, detail)
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn valid_mapping_resolves_names_against_the_header() {
        let m = Mapping::from_toml(
            "m.toml",
            "kind = \"bots\"\ndelimiter = \";\"\nheader = true\n[columns]\nip = \"addr\"\nfamily = 3\nfirst_seen = { column = \"seen\", format = \"%d/%m/%Y\" }\n",
        )
        .unwrap();
        let l = m
            .layout(FeedKind::Bots, Some(("seen;addr;fam", "f.csv", 4)))
            .unwrap();
        assert_eq!(
            (l.cols.ip, l.cols.family, l.cols.first_seen),
            (Some(1), Some(2), Some(0))
        );
        let mut f = Vec::new();
        let p = l.parse("11/11/2008;192.0.2.1;Srizbi", &mut f).unwrap();
        assert_eq!(p.indicator, "192.0.2.1");
        assert_eq!(
            p.first_seen,
            depeer_core::Timestamp::parse("2008-11-11").ok()
        );
        match m
            .layout(FeedKind::Bots, Some(("when;ip;fam", "f.csv", 4)))
            .unwrap_err()
        {
            IntelError::Mapping { file, line, detail } => {
                assert_eq!((file.as_str(), line), ("f.csv", 4));
                assert!(
                    detail.contains("\"seen\"") && detail.contains("m.toml:7"),
                    "{detail}"
                );
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            err_line("kind = \"bots\"\n[columns]\nip = 1\nwhat = 2\n").0,
            4
        );
        assert_eq!(err_line("kind = \"bots\"\n\n[columns]\nip = \"a\"\n").0, 4);
        assert_eq!(err_line("kind = \"bogus\"\n[columns]\nip = 1\n").0, 1);
        assert_eq!(
            err_line("kind = \"bots\"\ndelimiter = \"::\"\n[columns]\nip = 1\n").0,
            2
        );
        assert_eq!(
            err_line(
                "kind = \"bots\"\n[columns]\nip = 1\nfirst_seen = { column = 2, format = \"%Q\" }\n"
            )
            .0,
            4
        );
        assert_eq!(err_line("kind = \"url\"\n\n[columns]\nip = 1\n").0, 3);
        assert_eq!(err_line("kind = \"bots\"\n[columns]\nip = 0\n").0, 3);
        assert_eq!(
            err_line("kind = \"bots\"\ncolor = 1\n[columns]\nip = 1\n").0,
            2
        );
        let (line, d) = err_line("kind = \"bots\"\n[columns\nip = 1\n");
        assert_eq!(line, 2, "{d}");
        assert_eq!(
            err_line(
                "kind = \"bots\"\n[columns]\nip = 1\nport = { column = 2, format = \"unix\" }\n"
            )
            .0,
            4
        );
    }

    #[test]
    fn implied_kinds() {
        let m = Mapping::from_toml("m", "[columns]\nurl = 1\n").unwrap();
        assert_eq!(m.implied_kind(), Some(FeedKind::Url));
        let m = Mapping::from_toml("m", "[columns]\nip = 1\n").unwrap();
        assert_eq!(m.implied_kind(), None);
    }
}
