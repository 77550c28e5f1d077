//! AS names and organisations, in the formats they come in:
//!
//! * CAIDA as2org JSON lines (`{"type":"ASN","asn":"26780","name":"MCCOLO",
//!   "organizationId":...}` and `{"type":"Organization",...,"country":"US"}`);
//! * CAIDA's older pipe-separated as2org (`# format:aut|changed|aut_name|org_id|...`
//!   and `# format:org_id|changed|org_name|country|source` sections);
//! * pyasn's `asnames.json` (`{"26780": "NAME descr, CC", ...}`);
//! * plain `ASN<TAB>name` lists (`AS` prefix allowed, `#` comments).
//!
//! The format is recognised from the content, not the file name.

use std::collections::HashMap;

use depeer_core::{AsNameObs, Asn};

use crate::RoutingError;

/// Reads AS names from the text of a file (already decompressed).
pub fn read_as_names(text: &str, path: &str) -> Result<Vec<AsNameObs>, RoutingError> {
    let t = text.trim_start();
    let first = t.lines().next().unwrap_or("");
    let mut out = if t.starts_with('{') {
        if first.contains("\"type\"") || first.contains("\"organizationId\"") {
            read_caida_jsonl(t, path)?
        } else {
            read_pyasn_json(t, path)?
        }
    } else if t
        .lines()
        .any(|l| l.starts_with("# format:") || l.matches('|').count() >= 3)
    {
        read_caida_pipe(t)
    } else {
        read_tab_list(t, path)?
    };
    out.sort_by_key(|o| o.asn);
    out.dedup_by_key(|o| o.asn);
    Ok(out)
}

fn bad(path: &str, line: usize, text: &str) -> RoutingError {
    RoutingError::BadLine {
        path: path.to_string(),
        line: line as u64,
        text: text.chars().take(200).collect(),
    }
}

fn read_pyasn_json(t: &str, path: &str) -> Result<Vec<AsNameObs>, RoutingError> {
    let map: HashMap<String, Option<String>> =
        serde_json::from_str(t).map_err(|e| bad(path, e.line(), &e.to_string()))?;
    let mut out = Vec::new();
    for (k, v) in map {
        let (Ok(asn), Some(v)) = (k.parse::<Asn>(), v) else {
            continue;
        };
        // "MCCOLO - McColo Corporation, US": name, then description, then country.
        let (body, country) = match v.rsplit_once(", ") {
            Some((b, c)) if c.len() == 2 && c.bytes().all(|x| x.is_ascii_uppercase()) => {
                (b.to_string(), Some(c.to_string()))
            }
            _ => (v.clone(), None),
        };
        let (name, org) = match body.split_once(' ') {
            Some((n, rest)) => {
                let rest = rest.trim_start_matches("- ").trim();
                (n.to_string(), (!rest.is_empty()).then(|| rest.to_string()))
            }
            None => (body.clone(), None),
        };
        out.push(AsNameObs {
            asn,
            name,
            org,
            country,
        });
    }
    Ok(out)
}

fn read_caida_jsonl(t: &str, path: &str) -> Result<Vec<AsNameObs>, RoutingError> {
    #[derive(serde::Deserialize)]
    struct Row {
        #[serde(rename = "type")]
        kind: Option<String>,
        asn: Option<String>,
        name: Option<String>,
        #[serde(rename = "organizationId")]
        org_id: Option<String>,
        country: Option<String>,
    }
    let mut orgs: HashMap<String, (String, Option<String>)> = HashMap::new();
    let mut asns: Vec<(Asn, String, Option<String>)> = Vec::new();
    for (n, line) in t.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let r: Row = serde_json::from_str(line).map_err(|_| bad(path, n + 1, line))?;
        match r.kind.as_deref() {
            Some("Organization") => {
                if let Some(id) = r.org_id {
                    orgs.insert(id, (r.name.unwrap_or_default(), r.country));
                }
            }
            Some("ASN") | None => {
                if let Some(asn) = r.asn.and_then(|a| a.parse::<Asn>().ok()) {
                    asns.push((asn, r.name.unwrap_or_default(), r.org_id));
                }
            }
            Some(_) => {}
        }
    }
    Ok(asns
        .into_iter()
        .map(|(asn, name, org_id)| {
            let org = org_id.as_ref().and_then(|id| orgs.get(id));
            AsNameObs {
                asn,
                name,
                org: org.map(|o| o.0.clone()),
                country: org.and_then(|o| o.1.clone()),
            }
        })
        .collect())
}

fn read_caida_pipe(t: &str) -> Vec<AsNameObs> {
    // Two sections; the "# format:" lines say which one follows.
    let mut in_org = false;
    let mut orgs: HashMap<&str, (&str, &str)> = HashMap::new();
    let mut asns: Vec<(Asn, &str, &str)> = Vec::new();
    for line in t.lines() {
        if let Some(f) = line.strip_prefix("# format:") {
            in_org = f.starts_with("org_id");
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('|').collect();
        if in_org {
            if let [id, _changed, name, country, ..] = f.as_slice() {
                orgs.insert(id, (name, country));
            }
        } else if let [aut, _changed, name, org_id, ..] = f.as_slice()
            && let Ok(a) = aut.parse::<Asn>()
        {
            asns.push((a, name, org_id));
        }
    }
    asns.into_iter()
        .map(|(asn, name, org_id)| {
            let org = orgs.get(org_id);
            AsNameObs {
                asn,
                name: name.to_string(),
                org: org.map(|o| o.0.to_string()),
                country: org.map(|o| o.1.to_string()).filter(|c| !c.is_empty()),
            }
        })
        .collect()
}

fn read_tab_list(t: &str, path: &str) -> Result<Vec<AsNameObs>, RoutingError> {
    let mut out = Vec::new();
    for (n, line) in t.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        let (a, name) = l
            .split_once('\t')
            .or_else(|| l.split_once(' '))
            .ok_or_else(|| bad(path, n + 1, l))?;
        let asn = a.trim().parse::<Asn>().map_err(|_| bad(path, n + 1, l))?;
        out.push(AsNameObs {
            asn,
            name: name.trim().to_string(),
            org: None,
            country: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caida_jsonl_joins_orgs() {
        let t = r#"{"changed":"20070101","country":"US","name":"McColo Corporation","organizationId":"MCCOL-ARIN","source":"ARIN","type":"Organization"}
{"asn":"26780","changed":"20060101","name":"MCCOLO","organizationId":"MCCOL-ARIN","source":"ARIN","type":"ASN"}"#;
        let v = read_as_names(t, "x").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, "MCCOLO");
        assert_eq!(v[0].org.as_deref(), Some("McColo Corporation"));
        assert_eq!(v[0].country.as_deref(), Some("US"));
    }

    #[test]
    fn pyasn_json_pipe_and_tab_lists() {
        let v = read_as_names(
            r#"{"26780": "MCCOLO - McColo Corporation, US", "1": "LVLT-1"}"#,
            "x",
        )
        .unwrap();
        assert_eq!(v[1].asn, Asn(26780));
        assert_eq!(v[1].org.as_deref(), Some("McColo Corporation"));
        assert_eq!(v[1].country.as_deref(), Some("US"));
        let pipe = "# format:aut|changed|aut_name|org_id|source\n26780|20060101|MCCOLO|MCCOL-ARIN|ARIN\n# format:org_id|changed|org_name|country|source\nMCCOL-ARIN|20070101|McColo Corporation|US|ARIN\n";
        let v = read_as_names(pipe, "x").unwrap();
        assert_eq!(v[0].org.as_deref(), Some("McColo Corporation"));
        let v = read_as_names(
            "# names\nAS26780\tMCCOLO\n3549\tGBLX Global Crossing\n",
            "x",
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].name, "MCCOLO");
        assert!(read_as_names("26780\n", "x").is_err());
    }
}
