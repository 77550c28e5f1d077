//! The HTTP JSON API under `/api/v1/` and its OpenAPI 3.1 document
//! (`/api/v1/openapi.json`, derived by utoipa from the handlers'
//! `#[utoipa::path]` and the types of [`schema`]), `/healthz`, `/metrics`,
//! and [`app`], the one router of `depeer serve http` with the dashboard.
//!
//! Limits: request bodies over [`ApiConfig::max_body_bytes`] are answered
//! 413 from their `Content-Length` (the API takes no body), requests over
//! [`ApiConfig::request_timeout`] 408, and at most
//! [`ApiConfig::max_computations`] expensive answers are computed at once.
//! Every error answer, including the router's own 404 and 405, is
//! `{"error": {"code", "message"}}`.

mod error;
mod handlers;
mod metrics;
mod schema;
mod state;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use utoipa::OpenApi;

pub use state::{ApiConfig, AppState, data_version};

use error::ApiError;
use schema::Page;

/// The OpenAPI document, derived from the code.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "depeer API",
        description = "What depeer knows about addresses, prefixes, ASes and domains, and its analyses (ranking, events, botnets, dependencies, series, what-if, backtest): the same JSON as the commands' --json.",
        license(name = "Apache-2.0")
    ),
    paths(
        handlers::healthz,
        handlers::metrics,
        handlers::ip,
        handlers::prefix,
        handlers::as_lookup,
        handlers::domain,
        handlers::rank,
        handlers::explain_as,
        handlers::events_list,
        handlers::botnets,
        handlers::depends,
        handlers::series_rows,
        handlers::whatif,
        handlers::backtest,
    ),
    components(schemas(schema::ErrorBody, schema::ErrorDetail)),
    tags(
        (name = "lookups", description = "One address, prefix, AS or domain"),
        (name = "analyses", description = "The commands' --json answers"),
        (name = "server", description = "Health and metrics")
    )
)]
pub struct ApiDoc;

/// The OpenAPI document as JSON text.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_string())
}

/// A JSON answer with the next page's cursor, when there is one.
pub(crate) fn json_response<T: serde::Serialize + ?Sized>(v: &T, next: Option<String>) -> Response {
    let mut r = Response::new(Body::from(json_body(v)));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(c) = next.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("x-next-cursor", c);
    }
    r
}

pub(crate) fn json_body<T: serde::Serialize + ?Sized>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec())
}

/// Refuses a `limit` or `cursor` that cannot page anything (before any
/// computation, so the error does not depend on the data).
pub(crate) fn check_page(pg: &Page) -> Result<(), ApiError> {
    if pg.limit.is_some_and(|l| !(1..=10_000).contains(&l)) {
        return Err(ApiError::bad("limit: between 1 and 10000"));
    }
    if pg
        .cursor
        .as_deref()
        .is_some_and(|c| c.parse::<usize>().is_err())
    {
        return Err(ApiError::bad(
            "cursor: use the x-next-cursor of the previous page",
        ));
    }
    Ok(())
}

/// One page of the list at `field` of `v` (`None`: `v` is the list):
/// `limit` rows (default `default_limit`, at most 10,000) from `cursor`
/// (an offset written by the previous page). Returns the page and the next
/// cursor.
pub(crate) fn page(
    mut v: Value,
    field: Option<&str>,
    pg: &Page,
    default_limit: usize,
) -> Result<(Value, Option<String>), ApiError> {
    let limit = pg.limit.map_or(default_limit, |l| l as usize);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::bad("limit: between 1 and 10000"));
    }
    let start: usize = match pg.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::bad("cursor: use the x-next-cursor of the previous page"))?,
    };
    let list = match field {
        None => Some(&mut v),
        Some(f) => v.get_mut(f),
    };
    let Some(Value::Array(rows)) = list else {
        return Ok((v, None));
    };
    let total = rows.len();
    let taken: Vec<Value> = rows.drain(..).skip(start).take(limit).collect();
    *rows = taken;
    let end = start.saturating_add(limit);
    Ok((v, (end < total).then(|| end.to_string())))
}

/// Counts each request in the metrics under its matched route.
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let t = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let r = next.run(req).await;
    st.metrics()
        .observe(&route, r.status().as_u16(), t.elapsed());
    r
}

/// Gives error answers made outside the handlers (404, 405, 408, 413)
/// the JSON error body.
async fn json_errors(req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    let s = r.status();
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (s.is_client_error() || s.is_server_error()) && !is_json {
        let allow = r.headers().get(header::ALLOW).cloned();
        let mut e = ApiError::for_status(s).into_response();
        if let Some(a) = allow {
            e.headers_mut().insert(header::ALLOW, a);
        }
        return e;
    }
    r
}

async fn openapi() -> Response {
    let mut r = Response::new(Body::from(openapi_json()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn not_found() -> ApiError {
    ApiError::for_status(StatusCode::NOT_FOUND)
}

/// The whole server: the API, `/healthz`, `/metrics` and the dashboard.
pub fn app(state: AppState) -> Router {
    let c = state.config().clone();
    let api = Router::new()
        .route("/healthz", get(handlers::healthz))
        .route("/metrics", get(handlers::metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/ip/{ip}", get(handlers::ip))
        .route("/api/v1/prefix/{*prefix}", get(handlers::prefix))
        .route("/api/v1/as/{asn}", get(handlers::as_lookup))
        .route("/api/v1/domain/{name}", get(handlers::domain))
        .route("/api/v1/rank", get(handlers::rank))
        .route("/api/v1/explain/{asn}", get(handlers::explain_as))
        .route("/api/v1/events", get(handlers::events_list))
        .route("/api/v1/botnets", get(handlers::botnets))
        .route("/api/v1/depends/{asn}", get(handlers::depends))
        .route("/api/v1/series", get(handlers::series_rows))
        .route("/api/v1/whatif", get(handlers::whatif))
        .route("/api/v1/backtest", get(handlers::backtest));
    api.merge(crate::dashboard::routes())
        .fallback(not_found)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            c.request_timeout,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            c.max_body_bytes,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

#[cfg(test)]
mod tests;
