//! The Arrow schema of every table and how each table is laid out on disk.
//! docs/schema.md documents the same thing for people; a test checks that
//! every column named here appears there.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The name of the hive partition column of day-partitioned tables.
pub const DAY_COLUMN: &str = "day";

/// How a table's files are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `tables/<name>/day=YYYY-MM-DD/part-*.parquet`.
    ByDay,
    /// `tables/<name>/part-*.parquet`.
    Flat,
}

/// A table of the dataset.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// Table name (also its directory name under `tables/`).
    pub name: &'static str,
    /// Day-partitioned or flat.
    pub layout: Layout,
    /// Schema of the columns stored in the files (without `day`).
    pub schema: SchemaRef,
}

pub(crate) fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// A table's schema from its columns in order: `name: Type` for a required
/// column, `name: Type?` for a nullable one. `Type` is an Arrow
/// [`DataType`] variant without fields, or `Ts` for [`ts`].
macro_rules! columns {
    (@fields [$($out:expr),*] $name:ident : $ty:ident ? $(, $($rest:tt)*)?) => {
        columns!(@fields [$($out,)* columns!(@field $name $ty true)] $($($rest)*)?)
    };
    (@fields [$($out:expr),*] $name:ident : $ty:ident $(, $($rest:tt)*)?) => {
        columns!(@fields [$($out,)* columns!(@field $name $ty false)] $($($rest)*)?)
    };
    (@fields [$($out:expr),*]) => { vec![$($out),*] };
    (@field $name:ident Ts $nullable:literal) => { Field::new(stringify!($name), ts(), $nullable) };
    (@field $name:ident $ty:ident $nullable:literal) => {
        Field::new(stringify!($name), DataType::$ty, $nullable)
    };
    [$($cols:tt)*] => { Schema::new(columns!(@fields [] $($cols)*)) };
}

fn messages() -> Schema {
    columns![
        sha256: Utf8,
        arrival_time: Ts,
        arrival_source: Utf8,
        relay_ip: Utf8?,
        relay_helo: Utf8?,
        relay_rdns: Utf8?,
        envelope_from: Utf8?,
        from_addr: Utf8?,
        to_addr: Utf8?,
        subject: Utf8?,
        message_id: Utf8?,
        date_header: Ts?,
        size: Int64,
        fingerprint: Utf8,
        url_count: Int64,
        source_file: Utf8,
        source_offset: Int64,
        source_index: Int64,
        raw_pack: Utf8,
        raw_offset: Int64,
        raw_len: Int64,
        raw_inner_offset: Int64,
        // Added for `depeer trap` (issue 23): null for messages read from
        // files and absent from older parts, which read as null.
        smtp_peer_ip: Utf8?,
        smtp_helo: Utf8?,
        smtp_mail_from: Utf8?,
        smtp_rcpt_to: Utf8?,
        smtp_tls: Utf8?,
        smtp_anomalies: Utf8?,
    ]
}

fn message_urls() -> Schema {
    columns![
        sha256: Utf8,
        url: Utf8,
        host: Utf8,
        registrable_domain: Utf8?,
    ]
}

fn quarantine() -> Schema {
    columns![
        source_file: Utf8,
        source_offset: Int64,
        source_index: Int64,
        reason: Utf8,
        detail: Utf8,
        raw_sha256: Utf8,
        size: Int64,
        truncated: Boolean,
        ingest_time: Ts,
        raw_pack: Utf8,
        raw_offset: Int64,
        raw_len: Int64,
    ]
}

fn routes() -> Schema {
    columns![
        prefix: Utf8,
        origin_asn: Int64,
        first_seen: Ts,
        last_seen: Ts,
        peer_count: Int64,
        collector: Utf8,
    ]
}

fn as_links() -> Schema {
    columns![
        asn: Int64,
        neighbor_asn: Int64,
        relationship: Utf8,
        first_seen: Ts,
        last_seen: Ts,
    ]
}

fn routing_events() -> Schema {
    columns![
        time: Ts,
        kind: Utf8,
        asn: Int64?,
        prefix: Utf8?,
        detail: Utf8,
    ]
}

fn as_names() -> Schema {
    columns![
        asn: Int64,
        name: Utf8,
        org: Utf8?,
        country: Utf8?,
    ]
}

fn rib_state() -> Schema {
    columns![
        collector: Utf8,
        peer_ip: Utf8,
        peer_asn: Int64,
        prefix: Utf8,
        as_path: Utf8,
        time: Ts,
    ]
}

fn feed_entries() -> Schema {
    columns![
        source: Utf8,
        kind: Utf8,
        indicator: Utf8,
        address: Utf8?,
        family: Utf8?,
        port: Int64?,
        first_seen: Ts?,
        last_seen: Ts?,
        ingest_time: Ts,
        source_file: Utf8,
        source_line: Int64,
        key: Utf8,
        sha256: Utf8?,
    ]
}

fn evidence_objects() -> Schema {
    columns![
        kind: Utf8,
        sha256: Utf8,
        observed: Ts,
        size: Int64,
        source_file: Utf8,
        source_offset: Int64,
        source_index: Int64,
        collector: Utf8?,
        prefixes: Utf8?,
        raw_pack: Utf8,
        raw_offset: Int64,
        raw_len: Int64,
        raw_inner_offset: Int64,
    ]
}

fn attribution() -> Schema {
    columns![
        sha256: Utf8,
        time: Ts,
        botnet: Utf8?,
        campaign: Utf8?,
        confidence: Float64,
        signal: Utf8,
        relay_ip: Utf8?,
        relay_prefix: Utf8?,
        relay_asn: Int64?,
        relay_org: Utf8?,
    ]
}

fn evidence_log() -> Schema {
    columns![
        log_index: Int64,
        kind: Utf8,
        sha256: Utf8,
        observed: Ts,
        leaf_hash: Utf8,
    ]
}

static TABLES: LazyLock<Vec<TableDef>> = LazyLock::new(|| {
    let t = |name, layout, schema| TableDef {
        name,
        layout,
        schema: Arc::new(schema),
    };
    vec![
        t("messages", Layout::ByDay, messages()),
        t("message_urls", Layout::ByDay, message_urls()),
        t("quarantine", Layout::ByDay, quarantine()),
        t("routes", Layout::Flat, routes()),
        t("as_links", Layout::Flat, as_links()),
        t("routing_events", Layout::Flat, routing_events()),
        t("as_names", Layout::Flat, as_names()),
        t("rib_state", Layout::Flat, rib_state()),
        t("feed_entries", Layout::Flat, feed_entries()),
        t("attribution", Layout::ByDay, attribution()),
        t("evidence_log", Layout::Flat, evidence_log()),
        t("evidence_objects", Layout::Flat, evidence_objects()),
    ]
});

/// Every table the store knows, in a stable order.
pub fn tables() -> &'static [TableDef] {
    &TABLES
}

/// The definition of a known table.
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

/// Names of the store's tables, as constants so callers cannot misspell them.
pub mod names {
    /// `messages`
    pub const MESSAGES: &str = "messages";
    /// `message_urls`
    pub const MESSAGE_URLS: &str = "message_urls";
    /// `quarantine`
    pub const QUARANTINE: &str = "quarantine";
    /// `routes`
    pub const ROUTES: &str = "routes";
    /// `as_links`
    pub const AS_LINKS: &str = "as_links";
    /// `routing_events`
    pub const ROUTING_EVENTS: &str = "routing_events";
    /// `as_names`
    pub const AS_NAMES: &str = "as_names";
    /// `rib_state`
    pub const RIB_STATE: &str = "rib_state";
    /// `feed_entries`
    pub const FEED_ENTRIES: &str = "feed_entries";
    /// `attribution`
    pub const ATTRIBUTION: &str = "attribution";
    /// `evidence_log`
    pub const EVIDENCE_LOG: &str = "evidence_log";
    /// `evidence_objects`
    pub const EVIDENCE_OBJECTS: &str = "evidence_objects";
}

pub(crate) fn schema_of(name: &str) -> SchemaRef {
    match table(name) {
        Some(t) => t.schema.clone(),
        None => Arc::new(Schema::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_documented() {
        let doc = include_str!("../../../docs/schema.md");
        for t in tables() {
            assert!(
                doc.contains(&format!("## `{}`", t.name)),
                "table {}",
                t.name
            );
            for field in t.schema.fields() {
                assert!(
                    doc.contains(&format!("| `{}` |", field.name())),
                    "{}.{} is not in docs/schema.md",
                    t.name,
                    field.name()
                );
            }
        }
    }

    #[test]
    fn names_match_definitions() {
        for n in [
            names::MESSAGES,
            names::MESSAGE_URLS,
            names::QUARANTINE,
            names::ROUTES,
            names::AS_LINKS,
            names::ROUTING_EVENTS,
            names::AS_NAMES,
            names::RIB_STATE,
            names::FEED_ENTRIES,
            names::ATTRIBUTION,
            names::EVIDENCE_LOG,
            names::EVIDENCE_OBJECTS,
        ] {
            assert!(table(n).is_some(), "{n}");
        }
        assert_eq!(tables().len(), 12);
    }
}
