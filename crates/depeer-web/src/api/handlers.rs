//! The API's handlers: parse the parameters, call depeer-ingest (the same
//! functions and JSON builders as the commands' `--json`), page the list.
//! Each `#[utoipa::path]` is the operation's entry in the OpenAPI document.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use depeer_analysis::rank::{By, Method, Weights, explain};
use depeer_analysis::whatif::graph::Cut;
use depeer_analysis::{Step, parse_duration};
use depeer_core::{Asn, Prefix, Timestamp};
use depeer_ingest::read::events::{EventScope, EventsReport, events};
use depeer_ingest::read::series::{SeriesBy, series};
use depeer_ingest::whatif::{BacktestReport, WhatIfReport, parse_link};
use depeer_ingest::{BotnetsOptions, RankOptions};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::schema::{
    AsAnswer, AtQuery, BacktestAnswer, BotnetsAnswer, DependsAnswer, DomainAnswer, ErrorBody,
    EventsAnswer, EventsQuery, ExplainAnswer, Health, IpAnswer, Page, PrefixAnswer, RangeQuery,
    RankAnswer, RankQuery, SeriesQuery, SeriesRowSchema, WhatIfAnswer, WhatIfQuery, WindowQuery,
};
use super::state::AppState;
use super::{json_response, page};

/// The error answers every operation may give.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum Errors {
    /// A parameter does not parse.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Nothing to answer with (no such data in the dataset).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The request took longer than the server's limit.
    #[response(status = 408)]
    Timeout(ErrorBody),
    /// The request body is too large.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The server failed (details in its log only).
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The server is busy.
    #[response(status = 503)]
    Busy(ErrorBody),
}

/// `Query` whose rejection is the API's JSON error.
pub(crate) struct Q<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, s)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| ApiError::bad(e.body_text()))
    }
}

/// A path parameter as text, whose rejection is the API's JSON error.
pub(crate) struct P(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for P {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, s)
            .await
            .map(|Path(v)| P(v))
            .map_err(|e| ApiError::bad(e.body_text()))
    }
}

fn time(name: &str, v: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    v.map(|s| {
        Timestamp::parse(s).map_err(|e| {
            ApiError::bad(format!(
                "{name}: {e} (use RFC 3339, e.g. 2008-11-11T21:00Z)"
            ))
        })
    })
    .transpose()
}

fn duration(name: &str, v: Option<&str>, default: &str) -> Result<(i64, String), ApiError> {
    let text = v.unwrap_or(default);
    let d = parse_duration(text).map_err(|e| ApiError::bad(format!("{name}: {e}")))?;
    if d <= 0 {
        return Err(ApiError::bad(format!("{name}: must be longer than zero")));
    }
    Ok((d, text.to_string()))
}

fn asn(text: &str) -> Result<u32, ApiError> {
    text.parse::<Asn>()
        .map(|a| a.0)
        .map_err(|_| ApiError::bad("not an AS number (use 26780 or AS26780)"))
}

fn choice<'a>(name: &str, v: Option<&'a str>, allowed: &[&'a str]) -> Result<&'a str, ApiError> {
    match v {
        None => Ok(allowed.first().copied().unwrap_or_default()),
        Some(s) if allowed.contains(&s) => Ok(s),
        Some(_) => Err(ApiError::bad(format!(
            "{name}: use one of {}",
            allowed.join(", ")
        ))),
    }
}

fn key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

/// Liveness and what is served.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "serving", body = Health)))]
pub(crate) async fn healthz(State(st): State<AppState>) -> Response {
    let s = st.snapshot();
    json_response(
        &serde_json::json!({"status": "ok", "generation": s.generation, "lookups": s.index.is_ok()}),
        None,
    )
}

/// Prometheus metrics (text format).
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub(crate) async fn metrics(State(st): State<AppState>) -> Response {
    let s = st.snapshot();
    let text = st
        .metrics()
        .render(s.generation, st.reloads(), s.cached_entries());
    let mut r = Response::new(axum::body::Body::from(text));
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

fn index(st: &AppState) -> Result<Arc<depeer_ingest::lookup::LookupIndex>, ApiError> {
    st.snapshot().index.clone().map_err(ApiError::no_data)
}

/// Pages the `history` of a lookup answer.
fn lookup_response<T: serde::Serialize>(v: &T, pg: &Page) -> Result<Response, ApiError> {
    let v = serde_json::to_value(v).map_err(|e| ApiError::internal(&e))?;
    let (v, next) = page(v, Some("history"), pg, 10_000)?;
    Ok(json_response(&v, next))
}

/// What depeer knows about an address: where it was routed at `at`, the
/// listings covering it with their evidence, the announcements of its
/// prefixes, the mail it relayed (first and last seen, botnets).
#[utoipa::path(get, path = "/api/v1/ip/{ip}", tag = "lookups",
    params(("ip" = String, Path, description = "IPv4 or IPv6 address"), AtQuery, Page),
    responses((status = 200, description = "what is known (empty lists when nothing)", body = IpAnswer), Errors))]
pub(crate) async fn ip(
    State(st): State<AppState>,
    P(text): P,
    Q(q): Q<AtQuery>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    let ip: IpAddr = text
        .parse()
        .map_err(|_| ApiError::bad("not an IPv4 or IPv6 address"))?;
    let at = time("at", q.at.as_deref())?;
    let ix = index(&st)?;
    // The hot path: no paging asked, serialize straight from the answer.
    let a = ix.ip(ip, at);
    if pg.limit.is_none() && pg.cursor.is_none() {
        return Ok(json_response(&a, None));
    }
    lookup_response(&a, &pg)
}

/// What depeer knows about a prefix: routing of its network at `at`,
/// listings of it, of prefixes covering it or inside it, announcements,
/// the mail relayed from inside it.
#[utoipa::path(get, path = "/api/v1/prefix/{prefix}", tag = "lookups",
    params(("prefix" = String, Path, description = "CIDR prefix, `/` percent-encoded (192.0.2.0%2F24) or not"), AtQuery, Page),
    responses((status = 200, description = "what is known", body = PrefixAnswer), Errors))]
pub(crate) async fn prefix(
    State(st): State<AppState>,
    P(text): P,
    Q(q): Q<AtQuery>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    let p: Prefix = text
        .parse()
        .map_err(|_| ApiError::bad("not a CIDR prefix (e.g. 208.66.192.0/22)"))?;
    let at = time("at", q.at.as_deref())?;
    let ix = index(&st)?;
    lookup_response(&ix.prefix(p, at), &pg)
}

/// What depeer knows about an AS: names, prefixes at `at`, upstreams and
/// customers, listings, announcements, the mail relayed from its space.
#[utoipa::path(get, path = "/api/v1/as/{asn}", tag = "lookups",
    params(("asn" = String, Path, description = "AS number: 26780 or AS26780"), AtQuery, Page),
    responses((status = 200, description = "what is known", body = AsAnswer), Errors))]
pub(crate) async fn as_lookup(
    State(st): State<AppState>,
    P(text): P,
    Q(q): Q<AtQuery>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    let a = asn(&text)?;
    let at = time("at", q.at.as_deref())?;
    let ix = index(&st)?;
    lookup_response(&ix.asn(a, at), &pg)
}

/// What depeer knows about a DNS name: its listings and the mail that
/// advertised it.
#[utoipa::path(get, path = "/api/v1/domain/{name}", tag = "lookups",
    params(("name" = String, Path, description = "DNS name"), AtQuery),
    responses((status = 200, description = "what is known", body = DomainAnswer), Errors))]
pub(crate) async fn domain(
    State(st): State<AppState>,
    P(text): P,
    Q(q): Q<AtQuery>,
) -> Result<Response, ApiError> {
    let ok = !text.is_empty()
        && text.len() <= 253
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !ok {
        return Err(ApiError::bad(
            "not a DNS name (ASCII letters, digits, - _ .)",
        ));
    }
    let at = time("at", q.at.as_deref())?;
    let ix = index(&st)?;
    Ok(json_response(&ix.domain(&text, at), None))
}

/// The rogue-network ranking, as `depeer rank --json` (the page size
/// defaults to 20, the command's `--top`).
#[utoipa::path(get, path = "/api/v1/rank", tag = "analyses", params(RankQuery, Page),
    responses((status = 200, description = "`depeer rank --json`", body = RankAnswer), Errors))]
pub(crate) async fn rank(
    State(st): State<AppState>,
    Q(q): Q<RankQuery>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    super::check_page(&pg)?;
    let at = time("at", q.at.as_deref())?;
    let (window, wtext) = duration("window", q.window.as_deref(), "30d")?;
    let by = match choice("by", q.by.as_deref(), &["as", "org", "prefix"])? {
        "org" => By::Org,
        "prefix" => By::Prefix,
        _ => By::As,
    };
    let method = match choice("method", q.method.as_deref(), &["depeer", "circl", "fire"])? {
        "circl" => Method::Circl,
        "fire" => Method::Fire,
        _ => Method::Depeer,
    };
    let k = key(&[
        "rank",
        q.at.as_deref().unwrap_or(""),
        &wtext,
        by.as_str(),
        &format!("{method:?}"),
    ]);
    let v = st
        .cached(k, move |st, _| {
            let r = ranking(st.data(), at, window, by, method)?;
            Ok(depeer_ingest::rank_json(&r, by, usize::MAX))
        })
        .await?;
    let (v, next) = page((*v).clone(), Some("ranking"), &pg, 20)?;
    Ok(json_response(&v, next))
}

/// An AS in the path and a window before a moment in the query, with the
/// cache key of the answer (`/explain/{asn}`, `/depends/{asn}`).
struct AsWindow {
    asn: u32,
    at: Option<Timestamp>,
    window: i64,
    /// The window as given (or the default), for the answer.
    wtext: String,
    key: String,
}

impl AsWindow {
    fn parse(
        what: &str,
        text: &str,
        q: &WindowQuery,
        default_window: &str,
    ) -> Result<AsWindow, ApiError> {
        let a = asn(text)?;
        let at = time("at", q.at.as_deref())?;
        let (window, wtext) = duration("window", q.window.as_deref(), default_window)?;
        let k = key(&[what, &a.to_string(), q.at.as_deref().unwrap_or(""), &wtext]);
        Ok(AsWindow {
            asn: a,
            at,
            window,
            wtext,
            key: k,
        })
    }
}

/// The ranking behind `/rank` and `/explain`, with the shipped weights.
fn ranking(
    data: &std::path::Path,
    at: Option<Timestamp>,
    window: i64,
    by: By,
    method: Method,
) -> Result<depeer_ingest::RankReport, ApiError> {
    let weights = Weights::builtin().map_err(|e| ApiError::internal(&e))?;
    let opts = RankOptions {
        at,
        window,
        by,
        method,
        weights,
    };
    let r = depeer_ingest::rank(data, &opts)?;
    if r.input.routes.is_empty() {
        return Err(ApiError::no_data(
            "no routes stored up to that moment: ingest routing data first",
        ));
    }
    Ok(r)
}

/// Each feature of one AS's score with its evidence, as `depeer explain --json`.
#[utoipa::path(get, path = "/api/v1/explain/{asn}", tag = "analyses",
    params(("asn" = String, Path, description = "AS number"), WindowQuery),
    responses((status = 200, description = "`depeer explain --json`", body = ExplainAnswer), Errors))]
pub(crate) async fn explain_as(
    State(st): State<AppState>,
    P(text): P,
    Q(q): Q<WindowQuery>,
) -> Result<Response, ApiError> {
    let AsWindow {
        asn: a,
        at,
        window,
        wtext,
        key: k,
    } = AsWindow::parse("explain", &text, &q, "30d")?;
    let v = st
        .cached(k, move |st, _| {
            let r = ranking(st.data(), at, window, By::As, Method::Depeer)?;
            let x = explain(&r.input, &r.ranking, a)
                .ok_or_else(|| ApiError::no_data("no evidence about that AS in the window"))?;
            Ok(depeer_ingest::explain_json(&x, r.ranking.at, &wtext))
        })
        .await?;
    Ok(json_response(&*v, None))
}

/// Drops and rises of the trapped spam with their routing causes, as
/// `depeer events --json`.
#[utoipa::path(get, path = "/api/v1/events", tag = "analyses", params(EventsQuery, Page),
    responses((status = 200, description = "`depeer events --json`", body = EventsAnswer), Errors))]
pub(crate) async fn events_list(
    State(st): State<AppState>,
    Q(q): Q<EventsQuery>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    super::check_page(&pg)?;
    let from = time("from", q.from.as_deref())?;
    let until = time("until", q.until.as_deref())?;
    let scope = match choice(
        "scope",
        q.scope.as_deref(),
        &["total", "botnet", "sending-as", "hosting-as"],
    )? {
        "botnet" => EventScope::Botnet,
        "sending-as" => EventScope::SendingAs,
        "hosting-as" => EventScope::HostingAs,
        _ => EventScope::Total,
    };
    let k = key(&[
        "events",
        q.from.as_deref().unwrap_or(""),
        q.until.as_deref().unwrap_or(""),
        &format!("{scope:?}"),
    ]);
    let v = st
        .cached(k, move |st, _| {
            let r = EventsReport {
                events: events(st.data(), scope, from, until)?,
            };
            serde_json::to_value(&r).map_err(|e| ApiError::internal(&e))
        })
        .await?;
    let (v, next) = page((*v).clone(), Some("events"), &pg, 10_000)?;
    Ok(json_response(&v, next))
}

/// The botnets of a window, as `depeer botnets --json`.
#[utoipa::path(get, path = "/api/v1/botnets", tag = "analyses", params(RangeQuery, Page),
    responses((status = 200, description = "`depeer botnets --json`", body = BotnetsAnswer), Errors))]
pub(crate) async fn botnets(
    State(st): State<AppState>,
    Q(q): Q<RangeQuery>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    super::check_page(&pg)?;
    let opts = BotnetsOptions {
        from: time("from", q.from.as_deref())?,
        until: time("until", q.until.as_deref())?,
    };
    let k = key(&[
        "botnets",
        q.from.as_deref().unwrap_or(""),
        q.until.as_deref().unwrap_or(""),
    ]);
    let v = st
        .cached(k, move |st, _| {
            let r = depeer_ingest::botnets(st.data(), &opts)?;
            serde_json::to_value(&r).map_err(|e| ApiError::internal(&e))
        })
        .await?;
    let (v, next) = page((*v).clone(), Some("botnets"), &pg, 10_000)?;
    Ok(json_response(&v, next))
}

/// The share of the spam that depends on what one AS hosts, as
/// `depeer depends ASN --json`.
#[utoipa::path(get, path = "/api/v1/depends/{asn}", tag = "analyses",
    params(("asn" = String, Path, description = "AS number"), WindowQuery),
    responses((status = 200, description = "`depeer depends ASN --json`", body = DependsAnswer), Errors))]
pub(crate) async fn depends(
    State(st): State<AppState>,
    P(text): P,
    Q(q): Q<WindowQuery>,
) -> Result<Response, ApiError> {
    let AsWindow {
        asn: a,
        at,
        window,
        wtext,
        key: k,
    } = AsWindow::parse("depends", &text, &q, "24h")?;
    let v = st
        .cached(k, move |st, _| {
            let (w, d) = depeer_ingest::read::depends::dependence(st.data(), a, at, window)?;
            Ok(depeer_ingest::read::depends::to_json(&w, &wtext, &d))
        })
        .await?;
    Ok(json_response(&*v, None))
}

/// Messages per time bucket, zero-filled, as `depeer series --json`.
#[utoipa::path(get, path = "/api/v1/series", tag = "analyses", params(SeriesQuery, Page),
    responses((status = 200, description = "`depeer series --json`", body = Vec<SeriesRowSchema>), Errors))]
pub(crate) async fn series_rows(
    State(st): State<AppState>,
    Q(q): Q<SeriesQuery>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    super::check_page(&pg)?;
    let by_text = choice(
        "by",
        q.by.as_deref(),
        &["total", "botnet", "campaign", "sending-as", "hosting-as"],
    )?;
    let by = match by_text {
        "botnet" => SeriesBy::Botnet,
        "campaign" => SeriesBy::Campaign,
        "sending-as" => SeriesBy::SendingAs,
        "hosting-as" => SeriesBy::HostingAs,
        _ => SeriesBy::Total,
    };
    let step_text = q.step.clone().unwrap_or_else(|| "1h".into());
    let step = Step::parse(&step_text).map_err(|e| ApiError::bad(format!("step: {e}")))?;
    let from = time("from", q.from.as_deref())?;
    let until = time("until", q.until.as_deref())?;
    let filter = q.key.clone();
    let k = key(&[
        "series",
        by_text,
        &step_text,
        q.from.as_deref().unwrap_or(""),
        q.until.as_deref().unwrap_or(""),
        q.key.as_deref().unwrap_or("\u{0}"),
    ]);
    let v = st
        .cached(k, move |st, _| {
            let mut rows = series(st.data(), by, step, from, until)?;
            if let Some(k) = &filter {
                rows.retain(|r| &r.key == k);
            }
            Ok(depeer_ingest::read::series::to_json(&rows))
        })
        .await?;
    let (v, next) = page((*v).clone(), None, &pg, 10_000)?;
    Ok(json_response(&v, next))
}

/// What goes dark if ASes or links are cut at a moment, and the predicted
/// spam drop in total and per botnet, as `depeer whatif --json`.
#[utoipa::path(get, path = "/api/v1/whatif", tag = "analyses", params(WhatIfQuery),
    responses((status = 200, description = "`depeer whatif --json`", body = WhatIfAnswer), Errors))]
pub(crate) async fn whatif(
    State(st): State<AppState>,
    Q(q): Q<WhatIfQuery>,
) -> Result<Response, ApiError> {
    let mut cut = Cut::default();
    for a in q
        .cut
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
    {
        cut.asns.push(asn(a.trim())?);
    }
    for l in q
        .cut_link
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
    {
        cut.links.push(
            parse_link(l.trim())
                .ok_or_else(|| ApiError::bad("cut_link: use A-B, e.g. 3549-26780"))?,
        );
    }
    if cut.asns.is_empty() && cut.links.is_empty() {
        return Err(ApiError::bad(
            "nothing to cut: give cut=ASN or cut_link=A-B",
        ));
    }
    if cut.asns.len() + cut.links.len() > 64 {
        return Err(ApiError::bad("at most 64 ASes and links per what-if"));
    }
    let at = time("at", q.at.as_deref())?;
    let k = key(&[
        "whatif",
        &format!("{:?}", cut),
        q.at.as_deref().unwrap_or(""),
    ]);
    let v = st
        .cached(k, move |st, snap| {
            let t = std::time::Instant::now();
            let data = snap.whatif_data(st.data())?;
            let load_s = t.elapsed().as_secs_f64();
            let mut a = data.what_if(at.map(|t| t.0), &cut)?;
            a.timing.load_s = load_s;
            serde_json::to_value(WhatIfReport::new(&a)).map_err(|e| ApiError::internal(&e))
        })
        .await?;
    Ok(json_response(&*v, None))
}

/// Each detected drop with a routing cause beside the what-if made before
/// it, as `depeer backtest --json`.
#[utoipa::path(get, path = "/api/v1/backtest", tag = "analyses", params(Page),
    responses((status = 200, description = "`depeer backtest --json`", body = BacktestAnswer), Errors))]
pub(crate) async fn backtest(
    State(st): State<AppState>,
    Q(pg): Q<Page>,
) -> Result<Response, ApiError> {
    super::check_page(&pg)?;
    let v = st
        .cached("backtest".into(), move |st, snap| {
            let data = snap.whatif_data(st.data())?;
            let drops = data.drops()?;
            let r = BacktestReport::new(&data.backtest(&drops));
            serde_json::to_value(&r).map_err(|e| ApiError::internal(&e))
        })
        .await?;
    let (v, next) = page((*v).clone(), Some("backtests"), &pg, 10_000)?;
    Ok(json_response(&v, next))
}
