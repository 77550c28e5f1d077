//! Threat intelligence for depeer.
//!
//! Today: feeds ([`read_feed`]: C&C lists, URL and phishing lists, passive
//! DNS, bot lists, network block lists in ten built-in public formats or a
//! declared [`Mapping`]) and the canonical botnet family name
//! ([`canonical_family`]) every table uses. Botnet rules, campaign
//! clustering and the dependency graph (issue 17) will live here too.
//!
//! Parsing never panics on hostile input: a line that cannot be read is an
//! [`IntelError::Line`] with its file, line, offset and bytes, and reading
//! goes on.

mod attribution;
mod error;
mod family;
mod feed;

pub use attribution::{
    Attribution, Attributor, BUILTIN_RULES, BotList, BotListIndex, HeaderSummary, MAX_HEADER_LINES,
    MessageFeatures, NoBotList, OwnSignals, Prepared, RuleSet, RulesError, Signal, attribute_batch,
    parse_fingerprint,
};
pub use error::IntelError;
pub use family::canonical_family;
pub use feed::{
    FeedEntry, FeedKind, FeedOptions, FeedReader, FeedStats, Format, Mapping, detect_format,
    read_feed,
};
