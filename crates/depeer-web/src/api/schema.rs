//! The API's query parameters and the schemas of its answers, for the
//! OpenAPI document (utoipa derives it from these types).
//!
//! The answers themselves are built by depeer-ingest, the same JSON the
//! commands print with `--json`; the types below describe that JSON for
//! the document and are never built (hence `dead_code` allowed). The
//! schemathesis run (tests/schemathesis) checks every answer against them,
//! so a drift between the two fails a test.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// `{"error": {"code", "message"}}`.
#[derive(ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
pub(crate) struct ErrorDetail {
    /// Machine-readable: `bad_request`, `not_found`, `no_data`, `timeout`,
    /// `too_large`, `method_not_allowed`, `unavailable`, `internal`.
    code: String,
    /// For people.
    message: String,
}

/// `/healthz`.
#[derive(ToSchema)]
pub(crate) struct Health {
    /// `ok`.
    status: String,
    /// The data snapshot served (1: the first since start).
    generation: u64,
    /// Whether lookups can be answered (a dataset was read).
    lookups: bool,
}

/// Paging of a list answer: the next page's cursor is in the
/// `x-next-cursor` response header (absent on the last page).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Rows per page (1 to 10,000).
    #[param(minimum = 1, maximum = 10000)]
    pub(crate) limit: Option<u32>,
    /// Where the page starts: the `x-next-cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// A moment.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AtQuery {
    /// RFC 3339 time or date (`2008-11-11T21:00Z`, `2008-11-11`); default: the end of the data.
    pub(crate) at: Option<String>,
}

/// `/api/v1/rank`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RankQuery {
    /// End of the window (default: the last message).
    pub(crate) at: Option<String>,
    /// Length of the window before `at` (default `30d`).
    pub(crate) window: Option<String>,
    /// `as` (default), `org` or `prefix`.
    pub(crate) by: Option<String>,
    /// `depeer` (default), `circl` or `fire`.
    pub(crate) method: Option<String>,
}

/// `/api/v1/explain/{asn}` and `/api/v1/depends/{asn}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WindowQuery {
    /// End of the window (default: the end of the data).
    pub(crate) at: Option<String>,
    /// Length of the window before `at` (default: `30d` for explain, `24h` for depends).
    pub(crate) window: Option<String>,
}

/// `/api/v1/events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Start, inclusive (default: the first message).
    pub(crate) from: Option<String>,
    /// End, exclusive (default: after the last message).
    pub(crate) until: Option<String>,
    /// `total` (default), `botnet`, `sending-as` or `hosting-as`.
    pub(crate) scope: Option<String>,
}

/// `/api/v1/botnets`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RangeQuery {
    /// Start of the window (default: the first message).
    pub(crate) from: Option<String>,
    /// End of the window, inclusive (default: the last message).
    pub(crate) until: Option<String>,
}

/// `/api/v1/series`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SeriesQuery {
    /// `total` (default), `botnet`, `campaign`, `sending-as` or `hosting-as`.
    pub(crate) by: Option<String>,
    /// Bucket width (default `1h`).
    pub(crate) step: Option<String>,
    /// Start, inclusive (default: the first message's bucket).
    pub(crate) from: Option<String>,
    /// End, exclusive (default: the last message's bucket).
    pub(crate) until: Option<String>,
    /// Only this key.
    pub(crate) key: Option<String>,
}

/// `/api/v1/whatif`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WhatIfQuery {
    /// ASes to cut, comma-separated (`26780` or `AS26780,27595`).
    pub(crate) cut: Option<String>,
    /// Links to take down, comma-separated `A-B` pairs.
    pub(crate) cut_link: Option<String>,
    /// The moment (default: the end of the data).
    pub(crate) at: Option<String>,
}

/// `depeer rank --json`.
#[derive(ToSchema)]
pub(crate) struct RankAnswer {
    /// The moment (RFC 3339).
    at: String,
    /// `as`, `org` or `prefix`.
    by: String,
    ranking: Vec<RankRowSchema>,
}

/// One ranked network.
#[derive(ToSchema)]
pub(crate) struct RankRowSchema {
    rank: u64,
    asn: u32,
    org: Option<String>,
    score: f64,
    /// Raw feature values by name.
    features: BTreeMap<String, f64>,
    /// With `by=prefix`.
    #[schema(required = false)]
    prefix: Option<String>,
}

/// `depeer explain --json`.
#[derive(ToSchema)]
pub(crate) struct ExplainAnswer {
    asn: u32,
    org: Option<String>,
    at: String,
    window: String,
    rank: u64,
    of: u64,
    score: f64,
    features: BTreeMap<String, FeatureSchema>,
}

/// One feature with its evidence.
#[derive(ToSchema)]
pub(crate) struct FeatureSchema {
    value: f64,
    contribution: f64,
    evidence: Vec<EvidenceSchema>,
}

/// One evidence row.
#[derive(ToSchema)]
pub(crate) struct EvidenceSchema {
    kind: String,
    indicator: String,
    address: Option<String>,
    family: Option<String>,
    prefix: Option<String>,
    first_seen: String,
    last_seen: String,
    messages: u64,
    sources: Vec<String>,
    sample: Option<String>,
    detail: String,
}

/// `depeer events --json`.
#[derive(ToSchema)]
pub(crate) struct EventsAnswer {
    events: Vec<EventSchema>,
}

/// One event.
#[derive(ToSchema)]
pub(crate) struct EventSchema {
    time: String,
    time_low: String,
    time_high: String,
    scope: String,
    key: Option<String>,
    kind: String,
    magnitude: f64,
    low: f64,
    high: f64,
    confidence: f64,
    causes: Vec<CauseSchema>,
    /// For `kind` `routing` (per-AS scopes): the AS's routing event.
    routing: Option<RoutingSchema>,
}

/// An AS's own routing event in the per-AS scopes.
#[derive(ToSchema)]
pub(crate) struct RoutingSchema {
    kind: String,
    detail: String,
}

/// A cause of an event: a routing event, or (`kind` `cc-hosted`) a
/// network that hosted C&C servers of the botnets that fell and stayed
/// routed (a seizure or takedown).
#[derive(ToSchema)]
pub(crate) struct CauseSchema {
    asn: u32,
    org: Option<String>,
    /// `upstream-lost`, `as-unreachable`, `prefix-withdrawn`, ... or
    /// `cc-hosted`.
    kind: String,
    time: String,
    explains: f64,
}

/// `depeer botnets --json`.
#[derive(ToSchema)]
pub(crate) struct BotnetsAnswer {
    from: Option<String>,
    until: Option<String>,
    messages: u64,
    unattributed: u64,
    botnets: Vec<BotnetSchema>,
}

/// One botnet of the window.
#[derive(ToSchema)]
pub(crate) struct BotnetSchema {
    botnet: String,
    messages: u64,
    share: f64,
    bots_estimate: u64,
    new_bots: u64,
    cc: Vec<CcSchema>,
}

/// One C&C server.
#[derive(ToSchema)]
pub(crate) struct CcSchema {
    ip: String,
    port: Option<u16>,
    asn: Option<u32>,
    org: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
}

/// `depeer depends ASN --json`.
#[derive(ToSchema)]
pub(crate) struct DependsAnswer {
    asn: u32,
    at: String,
    window: String,
    messages: u64,
    cc_share: f64,
    site_share: f64,
    botnets: Vec<DependsBotnet>,
}

/// One botnet depending on the AS.
#[derive(ToSchema)]
pub(crate) struct DependsBotnet {
    botnet: String,
    share: f64,
    messages: u64,
    cc_servers: Vec<String>,
    sites: Vec<String>,
}

/// One row of `depeer series --json`.
#[derive(ToSchema)]
pub(crate) struct SeriesRowSchema {
    /// Bucket start (RFC 3339).
    time: String,
    key: String,
    value: f64,
}

/// `depeer whatif --json`.
#[derive(ToSchema)]
pub(crate) struct WhatIfAnswer {
    at: String,
    cut: Vec<u32>,
    cut_links: Vec<[u32; 2]>,
    unreachable_prefixes: Vec<String>,
    unreachable_prefix_count: u64,
    dark_ases: Vec<u32>,
    cc_dark: Vec<CcDarkSchema>,
    botnets_losing_control: Vec<String>,
    sites_dark: Vec<SiteDarkSchema>,
    predicted_drop: f64,
    low: f64,
    high: f64,
    direct_drop: f64,
    substitution: SubstitutionSchema,
    per_botnet: Vec<BotnetDropSchema>,
    messages_before: u64,
    learned_from: u64,
    graph: GraphSizeSchema,
    timing: TimingSchema,
    #[schema(required = false)]
    note: Option<String>,
}

/// How much of a cut's direct loss the untouched botnets make up
/// within the day (docs/whatif.md).
#[derive(ToSchema)]
pub(crate) struct SubstitutionSchema {
    ratio: f64,
    low: f64,
    high: f64,
    events: u64,
}

/// A C&C server that goes dark.
#[derive(ToSchema)]
pub(crate) struct CcDarkSchema {
    ip: String,
    botnet: String,
    prefix: String,
    asns: Vec<u32>,
}

/// A site that goes dark.
#[derive(ToSchema)]
pub(crate) struct SiteDarkSchema {
    host: String,
    ip: String,
    asns: Vec<u32>,
}

/// One botnet's predicted drop.
#[derive(ToSchema)]
pub(crate) struct BotnetDropSchema {
    botnet: String,
    share: f64,
    predicted_drop: f64,
    low: f64,
    high: f64,
    messages: u64,
    cc_listed: u64,
    cc_dark: u64,
    /// Its bots seen talking to a routed C&C server in the week before.
    contacts: u64,
    /// Those whose server goes dark.
    contacts_dark: u64,
    /// The contacts since the last clear change of the share going dark:
    /// the ones the dark share was measured on (0 when on listings).
    contacts_used: u64,
    /// Those whose server goes dark.
    contacts_used_dark: u64,
    /// `contacts` or `listings`.
    basis: String,
    response: f64,
    response_events: u64,
    dispersion: f64,
}

/// Size of the graph of the moment.
#[derive(ToSchema)]
pub(crate) struct GraphSizeSchema {
    ases: u64,
    links: u64,
    prefixes: u64,
}

/// Seconds per step.
#[derive(ToSchema)]
pub(crate) struct TimingSchema {
    load_s: f64,
    moment_s: f64,
    reach_s: f64,
    cut_s: f64,
}

/// `depeer backtest --json`.
#[derive(ToSchema)]
pub(crate) struct BacktestAnswer {
    backtests: Vec<BacktestSchema>,
}

/// One backtest.
#[derive(ToSchema)]
pub(crate) struct BacktestSchema {
    event_time: String,
    at: String,
    cut: Vec<u32>,
    predicted_drop: f64,
    low: f64,
    high: f64,
    direct_drop: f64,
    substitution: SubstitutionSchema,
    observed_drop: f64,
    learned_from: u64,
    per_botnet: Vec<BotnetDropSchema>,
}

/// Where something was routed.
#[derive(ToSchema)]
pub(crate) struct RoutedSchema {
    prefix: String,
    asn: u32,
    org: Option<String>,
}

/// One announcement interval.
#[derive(ToSchema)]
pub(crate) struct RouteSchema {
    prefix: String,
    asn: u32,
    collector: String,
    first_seen: String,
    last_seen: String,
    peer_count: u32,
}

/// One listing with its evidence.
#[derive(ToSchema)]
pub(crate) struct ListingSchema {
    /// `bots`, `cc`, `drop` or `dbl`.
    list: String,
    subject: String,
    reason: String,
    first_seen: Option<String>,
    last_seen: Option<String>,
    source: String,
}

/// Messages of a botnet.
#[derive(ToSchema)]
pub(crate) struct BotnetCountSchema {
    botnet: String,
    messages: u64,
}

/// The trapped mail behind a subject.
#[derive(ToSchema)]
pub(crate) struct MailSchema {
    messages: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    botnets: Vec<BotnetCountSchema>,
}

/// A neighbour AS.
#[derive(ToSchema)]
pub(crate) struct NeighbourSchema {
    asn: u32,
    org: Option<String>,
    first_seen: String,
    last_seen: String,
    current: bool,
}

/// `/api/v1/ip/{ip}`.
#[derive(ToSchema)]
pub(crate) struct IpAnswer {
    ip: String,
    at: String,
    routed: Option<RoutedSchema>,
    listings: Vec<ListingSchema>,
    history: Vec<RouteSchema>,
    mail: MailSchema,
}

/// `/api/v1/prefix/{prefix}`.
#[derive(ToSchema)]
pub(crate) struct PrefixAnswer {
    prefix: String,
    at: String,
    routed: Option<RoutedSchema>,
    listings: Vec<ListingSchema>,
    history: Vec<RouteSchema>,
    mail: MailSchema,
}

/// `/api/v1/as/{asn}`.
#[derive(ToSchema)]
pub(crate) struct AsAnswer {
    asn: u32,
    name: Option<String>,
    org: Option<String>,
    country: Option<String>,
    at: String,
    prefixes: Vec<String>,
    upstreams: Vec<NeighbourSchema>,
    downstreams: Vec<NeighbourSchema>,
    listings: Vec<ListingSchema>,
    history: Vec<RouteSchema>,
    mail: MailSchema,
}

/// `/api/v1/domain/{name}`.
#[derive(ToSchema)]
pub(crate) struct DomainAnswer {
    name: String,
    at: String,
    listings: Vec<ListingSchema>,
    mail: MailSchema,
}
