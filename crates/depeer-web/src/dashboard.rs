//! The dashboard: three pages (`/` the overview, `/as/{asn}` one AS,
//! `/lookup?q=` a search answer) that share one HTML shell and one script,
//! `assets/dashboard.js`, which draws them from the JSON API of the same
//! server with the vendored uPlot (series) and Cytoscape.js (graph).
//! Every file is compiled into the binary: nothing is fetched from
//! elsewhere, and the Content-Security-Policy (`default-src 'self'`)
//! forbids the browser to try.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// (name, content type, bytes) of every file under `/assets/`.
const ASSETS: [(&str, &str, &str); 6] = [
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_str!("../assets/dashboard.css"),
    ),
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("../assets/uPlot.min.css"),
    ),
    (
        "cytoscape.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/cytoscape.min.js"),
    ),
    (
        "LICENSES.txt",
        "text/plain; charset=utf-8",
        concat!(
            "uPlot 1.6.32 (npm uplot), MIT:\n\n",
            include_str!("../assets/LICENSE-uPlot"),
            "\n\nCytoscape.js 3.35.0 (npm cytoscape), MIT:\n\n",
            include_str!("../assets/LICENSE-cytoscape")
        ),
    ),
];

/// The page shell; `{PAGE}` and `{ASN}` are replaced by values that are
/// a fixed word and a number, never request text.
const SHELL: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>depeer</title>
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/uPlot.iife.min.js" defer></script>
<script src="/assets/cytoscape.min.js" defer></script>
<script src="/assets/dashboard.js" defer></script>
</head>
<body data-page="{PAGE}" data-asn="{ASN}" data-ready="no">
<header><a class="home" href="/">depeer</a>
<form id="search" action="/lookup" method="get" role="search">
<input name="q" placeholder="IP, prefix, AS or domain" aria-label="search" required>
<button type="submit">Search</button></form>
<a class="api" href="/api/v1/openapi.json">API</a></header>
<main id="main"><noscript>The dashboard draws with JavaScript; the same data is at <a href="/api/v1/openapi.json">the API</a>.</noscript></main>
<footer>depeer · charts by uPlot, graph by Cytoscape.js (<a href="/assets/LICENSES.txt">licences</a>)</footer>
</body></html>
"#;

fn page(name: &str, asn: Option<u32>) -> Response {
    let html = SHELL
        .replace("{PAGE}", name)
        .replace("{ASN}", &asn.map(|a| a.to_string()).unwrap_or_default());
    let mut r = (StatusCode::OK, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

async fn overview() -> Response {
    page("overview", None)
}

async fn lookup() -> Response {
    page("lookup", None)
}

async fn as_page(Path(text): Path<String>) -> Response {
    match text.parse::<depeer_core::Asn>() {
        Ok(a) => page("as", Some(a.0)),
        Err(_) => page("lookup", None),
    }
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, ctype, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    let mut r = (StatusCode::OK, *body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// The dashboard's routes (they need no state).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(overview))
        .route("/lookup", get(lookup))
        .route("/as/{asn}", get(as_page))
        .route("/assets/{name}", get(asset))
}
