//! The `url` golden suite: `UrlSet` on decoded bodies, as text and as HTML.

use depeer_mail::{FoundUrl, UrlSet};
use serde_json::{Value, json};

fn rows(urls: Vec<FoundUrl>) -> Value {
    urls.into_iter()
        .map(|u| json!([u.url, u.host, u.is_ip]))
        .collect()
}

/// The URLs of the body read as text, read as HTML, and the HTML's visible
/// text. Fresh sets, as for each message.
fn urls_json(raw: &[u8]) -> Value {
    let body = String::from_utf8_lossy(raw);
    let mut text = UrlSet::new();
    text.scan_text(&body);
    let mut html = UrlSet::new();
    html.scan_html(&body);
    json!({
        "text": rows(text.take()),
        "html": rows(html.take()),
        "rendered": html.rendered(),
    })
}

#[test]
fn url_corpus_matches_expectations() {
    super::corpus::run_suite("url", "txt", urls_json);
}
