//! The dossier's `index.html`: the claims in words, each linked to the
//! evidence files it cites and their proofs; plain HTML, no script, no
//! request, so it opens offline from the directory.

use depeer_evidence::Manifest;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The page of a manifest.
pub(crate) fn render(m: &Manifest) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>depeer dossier: ");
    h.push_str(&esc(&m.subject));
    h.push_str("</title><style>body{font:14px/1.4 sans-serif;max-width:60em;margin:2em auto}code{font-size:12px}li{margin:.2em 0}</style></head><body>");
    h.push_str(&format!(
        "<h1>Dossier: {}</h1><p>As of {}. Every file under <code>evidence/</code> is one object of depeer's evidence log, with an inclusion proof under <code>proofs/</code> against the signed <a href=\"checkpoint\">checkpoint</a>; check them offline with <code>depeer verify DIR --vkey KEY</code> or any verifier written from docs/dossier-format.md (<a href=\"manifest.json\">manifest.json</a>, <a href=\"vkey\">vkey</a>).</p><h2>Claims</h2><ol>",
        esc(&m.subject),
        esc(&m.at)
    ));
    for c in &m.claims {
        h.push_str(&format!(
            "<li id=\"{}\"><p>{}</p><details><summary>{} evidence file(s)</summary><ul>",
            esc(&c.id),
            esc(&c.text),
            c.evidence.len()
        ));
        for p in &c.evidence {
            h.push_str(&format!(
                "<li><a href=\"{0}\"><code>{0}</code></a></li>",
                esc(p)
            ));
        }
        h.push_str("</ul></details></li>");
    }
    h.push_str("</ol><h2>Evidence</h2><table><tr><th>file</th><th>kind</th><th>observed (UNIX s)</th><th>log index</th><th>proof</th></tr>");
    for e in &m.evidence {
        h.push_str(&format!(
            "<tr><td><a href=\"{0}\"><code>{0}</code></a></td><td>{1}</td><td>{2}</td><td>{3}</td><td><a href=\"{4}\">proof</a></td></tr>",
            esc(&e.path),
            esc(&e.kind),
            e.observed,
            e.log_index,
            esc(&e.proof)
        ));
    }
    h.push_str("</table></body></html>\n");
    h
}
