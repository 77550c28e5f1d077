//! The router in process (`app().oneshot(request)`): the document, the
//! error answers and the limits, on an empty data directory. The answers
//! on real data are tested end to end in crates/depeer/tests/integration/http.rs.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use super::*;

fn state(dir: &std::path::Path) -> AppState {
    AppState::open(ApiConfig::new(dir.to_path_buf()))
}

async fn get(app: Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let r = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 24).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

fn error_code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    assert!(v["error"]["message"].is_string(), "{v}");
    v["error"]["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn document_lists_every_operation_in_openapi_3_1() {
    let dir = tempfile::tempdir().unwrap();
    let (s, h, body) = get(app(state(dir.path())), "/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "application/json");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for p in [
        "/api/v1/ip/{ip}",
        "/api/v1/prefix/{prefix}",
        "/api/v1/as/{asn}",
        "/api/v1/domain/{name}",
        "/api/v1/rank",
        "/api/v1/events",
        "/api/v1/botnets",
        "/api/v1/depends/{asn}",
        "/api/v1/series",
        "/api/v1/whatif",
        "/api/v1/backtest",
        "/api/v1/explain/{asn}",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"][p]["get"].is_object(), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["RankAnswer"].is_object());
    let rank = &doc["paths"]["/api/v1/rank"]["get"]["responses"];
    for status in ["200", "400", "404", "408", "413", "500", "503"] {
        assert!(rank[status].is_object(), "rank: {status} undocumented");
    }
}

#[tokio::test]
async fn errors_are_json_with_the_right_status_and_no_internals() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let (s, _, b) = get(app(st.clone()), "/api/v1/ip/not-an-ip").await;
    assert_eq!(
        (s, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (s, _, b) = get(app(st.clone()), "/api/v1/ip/192.0.2.1").await;
    assert_eq!(
        (s, error_code(&b).as_str()),
        (StatusCode::NOT_FOUND, "no_data")
    );
    let (s, _, b) = get(app(st.clone()), "/api/v1/rank").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&b));
    let text = String::from_utf8_lossy(&b).to_string();
    assert!(
        !text.contains(&dir.path().display().to_string()),
        "path echoed: {text}"
    );
    let (s, _, b) = get(app(st.clone()), "/api/v1/nothing-here").await;
    assert_eq!(
        (s, error_code(&b).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (s, _, b) = get(app(st.clone()), "/api/v1/rank?window=5x").await;
    assert_eq!(
        (s, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (s, _, b) = get(app(st.clone()), "/api/v1/rank?limit=0").await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&b)
    );
    let (s, _, b) = get(app(st.clone()), "/api/v1/whatif").await;
    assert_eq!(
        (s, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let r = app(st.clone())
        .oneshot(Request::post("/api/v1/rank").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers().contains_key("allow"));
    let big = vec![b'x'; 1 << 20];
    let r = app(st)
        .oneshot(
            Request::post("/api/v1/rank")
                .header("content-length", big.len().to_string())
                .body(Body::from(big))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn health_metrics_and_dashboard_are_served_from_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let (s, _, b) = get(app(st.clone()), "/healthz").await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["lookups"].as_bool()),
        (Some("ok"), Some(false))
    );
    let (s, h, b) = get(app(st.clone()), "/metrics").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(b).unwrap();
    assert!(
        text.contains("depeer_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
        "{text}"
    );
    let (s, h, b) = get(app(st.clone()), "/as/AS26780").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let html = String::from_utf8(b).unwrap();
    assert!(html.contains("data-page=\"as\" data-asn=\"26780\""));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external URL in the shell"
    );
    for a in [
        "dashboard.js",
        "uPlot.iife.min.js",
        "cytoscape.min.js",
        "dashboard.css",
        "LICENSES.txt",
    ] {
        let (s, _, b) = get(app(st.clone()), &format!("/assets/{a}")).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        assert!(b.len() > 100, "{a}");
    }
    let (s, _, _) = get(app(st), "/assets/..%2Fsecret").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn new_commits_are_seen_by_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    assert!(!st.refresh(), "nothing changed");
    let t = dir.path().join("tables").join("routes");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(t.join("part-1-0.parquet"), b"not really parquet").unwrap();
    assert!(st.refresh(), "a new file under tables/ is new data");
    assert_eq!(st.snapshot().generation, 2);
    assert_eq!(st.reloads(), 1);
}

#[test]
fn paging_cuts_the_list_and_says_where_to_go_on() {
    let v = serde_json::json!({"at": "x", "ranking": [1, 2, 3, 4, 5]});
    let pg = Page {
        limit: Some(2),
        cursor: None,
    };
    let (p, next) = page(v.clone(), Some("ranking"), &pg, 20).unwrap();
    assert_eq!(
        (p["ranking"].clone(), next.as_deref()),
        (serde_json::json!([1, 2]), Some("2"))
    );
    let pg = Page {
        limit: Some(2),
        cursor: Some("4".into()),
    };
    let (p, next) = page(v.clone(), Some("ranking"), &pg, 20).unwrap();
    assert_eq!((p["ranking"].clone(), next), (serde_json::json!([5]), None));
    let pg = Page {
        limit: None,
        cursor: Some("x".into()),
    };
    assert!(page(v, Some("ranking"), &pg, 20).is_err());
}
