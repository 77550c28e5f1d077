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

fn f(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

fn messages() -> Schema {
    use DataType::{Int64, Utf8};
    Schema::new(vec![
        f("sha256", Utf8, false),
        f("arrival_time", ts(), false),
        f("arrival_source", Utf8, false),
        f("relay_ip", Utf8, true),
        f("relay_helo", Utf8, true),
        f("relay_rdns", Utf8, true),
        f("envelope_from", Utf8, true),
        f("from_addr", Utf8, true),
        f("to_addr", Utf8, true),
        f("subject", Utf8, true),
        f("message_id", Utf8, true),
        f("date_header", ts(), true),
        f("size", Int64, false),
        f("fingerprint", Utf8, false),
        f("url_count", Int64, false),
        f("source_file", Utf8, false),
        f("source_offset", Int64, false),
        f("source_index", Int64, false),
        f("raw_pack", Utf8, false),
        f("raw_offset", Int64, false),
        f("raw_len", Int64, false),
        f("raw_inner_offset", Int64, false),
    ])
}

fn message_urls() -> Schema {
    use DataType::Utf8;
    Schema::new(vec![
        f("sha256", Utf8, false),
        f("url", Utf8, false),
        f("host", Utf8, false),
        f("registrable_domain", Utf8, true),
    ])
}

fn quarantine() -> Schema {
    use DataType::{Boolean, Int64, Utf8};
    Schema::new(vec![
        f("source_file", Utf8, false),
        f("source_offset", Int64, false),
        f("source_index", Int64, false),
        f("reason", Utf8, false),
        f("detail", Utf8, false),
        f("raw_sha256", Utf8, false),
        f("size", Int64, false),
        f("truncated", Boolean, false),
        f("ingest_time", ts(), false),
        f("raw_pack", Utf8, false),
        f("raw_offset", Int64, false),
        f("raw_len", Int64, false),
    ])
}

fn routes() -> Schema {
    use DataType::{Int64, Utf8};
    Schema::new(vec![
        f("prefix", Utf8, false),
        f("origin_asn", Int64, false),
        f("first_seen", ts(), false),
        f("last_seen", ts(), false),
        f("peer_count", Int64, false),
        f("collector", Utf8, false),
    ])
}

fn as_links() -> Schema {
    use DataType::{Int64, Utf8};
    Schema::new(vec![
        f("asn", Int64, false),
        f("neighbor_asn", Int64, false),
        f("relationship", Utf8, false),
        f("first_seen", ts(), false),
        f("last_seen", ts(), false),
    ])
}

fn routing_events() -> Schema {
    use DataType::{Int64, Utf8};
    Schema::new(vec![
        f("time", ts(), false),
        f("kind", Utf8, false),
        f("asn", Int64, true),
        f("prefix", Utf8, true),
        f("detail", Utf8, false),
    ])
}

fn as_names() -> Schema {
    use DataType::{Int64, Utf8};
    Schema::new(vec![
        f("asn", Int64, false),
        f("name", Utf8, false),
        f("org", Utf8, true),
        f("country", Utf8, true),
    ])
}

fn rib_state() -> Schema {
    use DataType::{Int64, Utf8};
    Schema::new(vec![
        f("collector", Utf8, false),
        f("peer_ip", Utf8, false),
        f("peer_asn", Int64, false),
        f("prefix", Utf8, false),
        f("as_path", Utf8, false),
        f("time", ts(), false),
    ])
}

fn feed_entries() -> Schema {
    use DataType::{Int64, Utf8};
    Schema::new(vec![
        f("source", Utf8, false),
        f("kind", Utf8, false),
        f("indicator", Utf8, false),
        f("address", Utf8, true),
        f("family", Utf8, true),
        f("port", Int64, true),
        f("first_seen", ts(), true),
        f("last_seen", ts(), true),
        f("ingest_time", ts(), false),
        f("source_file", Utf8, false),
        f("source_line", Int64, false),
        f("key", Utf8, false),
    ])
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
        ] {
            assert!(table(n).is_some(), "{n}");
        }
        assert_eq!(tables().len(), 9);
    }
}
