//! What travels on the stream: subjects, headers, the job document, and
//! the identities that make re-sends duplicates. Versioned (`v`), so that
//! a worker refuses (quarantines) what it does not understand instead of
//! guessing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Subject prefix of the objects the workers consume.
pub(crate) const OBJ: &str = "depeer.obj";
/// Subject prefix of the parts of large objects (read by sequence).
pub(crate) const PART: &str = "depeer.part";
/// Every subject of the stream.
pub(crate) const ALL: &str = "depeer.>";

/// JetStream's de-duplication header.
pub(crate) const MSG_ID: &str = "Nats-Msg-Id";
/// Where a mail message was found, and what its extraction reads (JSON
/// of [`MailHeader`]).
pub(crate) const META: &str = "Depeer-Meta";
/// The stream sequences of an object's parts (comma-separated), when the
/// object did not fit in one message; its payload is then empty.
pub(crate) const PARTS: &str = "Depeer-Parts";
/// The SMTP envelope, arrival time and place of a message the trap
/// published (JSON of `trap::SmtpHeader`, version 1).
pub(crate) const SMTP: &str = "Depeer-Smtp";
/// The SHA-256 of an object sent in parts (checked when reassembled).
pub(crate) const SHA256: &str = "Depeer-Sha256";
/// The format version of a bundle of mail (`1`, see [`bundle_encode`]).
pub(crate) const BUNDLE: &str = "Depeer-Bundle";

/// The kinds of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum JobKind {
    /// One mail message.
    Mail,
    /// An input the mail reader could not use (kept in quarantine).
    Quarantine,
    /// `ingest mrt`'s files.
    Mrt,
    /// `ingest feed`'s files.
    Feed,
    /// `ingest as2org`'s file.
    As2org,
    /// One message the trap accepted, with its SMTP envelope.
    Smtp,
    /// Several mail messages (and unusable inputs) in one object.
    Bundle,
}

impl JobKind {
    /// The subject word.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Mail => "mail",
            JobKind::Quarantine => "quarantine",
            JobKind::Mrt => "mrt",
            JobKind::Feed => "feed",
            JobKind::As2org => "as2org",
            JobKind::Smtp => "smtp",
            JobKind::Bundle => "bundle",
        }
    }

    /// The kind of an object subject (`depeer.obj.<kind>`).
    pub(crate) fn of_subject(subject: &str) -> Option<JobKind> {
        match subject.strip_prefix(OBJ)?.strip_prefix('.')? {
            "mail" => Some(JobKind::Mail),
            "quarantine" => Some(JobKind::Quarantine),
            "mrt" => Some(JobKind::Mrt),
            "feed" => Some(JobKind::Feed),
            "as2org" => Some(JobKind::As2org),
            "smtp" => Some(JobKind::Smtp),
            "bundle" => Some(JobKind::Bundle),
            _ => None,
        }
    }

    /// The subject its objects are published on.
    pub(crate) fn subject(self) -> String {
        format!("{OBJ}.{}", self.as_str())
    }

    /// The subject its parts are published on.
    pub(crate) fn part_subject(self) -> String {
        format!("{PART}.{}", self.as_str())
    }
}

/// The `Depeer-Meta` header of a mail object or a quarantined input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MailHeader {
    /// The file as named by the producer.
    pub(crate) path: String,
    /// Byte offset in the decompressed input.
    pub(crate) offset: u64,
    /// Index of the message in the input.
    pub(crate) index: u64,
    /// What else the extraction reads.
    #[serde(flatten)]
    pub(crate) meta: depeer_ingest::MailMeta,
    /// A quarantined input: its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    /// A quarantined input: the reader's detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
    /// A quarantined input: whether its bytes are cut short.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) truncated: bool,
}

/// One file of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JobFile {
    /// The path as the producer named it (rows keep it as `source_file`).
    pub(crate) path: String,
    /// What the file is to the command: `input`, or an option's file
    /// (`as-rel`, `mapping`).
    pub(crate) role: String,
    /// Its size in bytes.
    pub(crate) size: u64,
    /// Its SHA-256, lowercase hex.
    pub(crate) sha256: String,
    /// The stream sequences of its parts, in order.
    pub(crate) parts: Vec<u64>,
}

/// The body of a job object: one `depeer ingest mrt|feed|as2org` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Job {
    /// Format version (1).
    pub(crate) v: u32,
    /// Which command.
    pub(crate) kind: JobKind,
    /// The job's identity ([`job_id`]).
    pub(crate) id: String,
    /// The command's options (see [`crate::nats::worker`]).
    pub(crate) options: serde_json::Value,
    /// Its files.
    pub(crate) files: Vec<JobFile>,
}

/// Appends one member to a bundle's payload.
///
/// A bundle (subject `depeer.obj.bundle`, header `Depeer-Bundle: 1`) is a
/// 4-byte big-endian count of its members, then the members one after the
/// other, each a 4-byte big-endian length and the one-line JSON of its
/// [`MailHeader`], then a 4-byte big-endian length and its bytes; a member
/// with a `reason` is an input the reader could not use. The count makes
/// a bundle cut at a member's end detectable. Why bundles: JetStream's
/// cost is mostly per message (storing, delivering and acknowledging
/// each), so mail goes in objects of many messages, as Kafka producers
/// batch records; the store still de-duplicates each message by its
/// SHA-256.
pub(crate) fn bundle_push(out: &mut Vec<u8>, head: &[u8], body: &[u8]) {
    if out.len() < 4 {
        out.clear();
        out.extend_from_slice(&[0; 4]);
    }
    if let Some(count) = out.get_mut(..4) {
        let n = <[u8; 4]>::try_from(&*count).map_or(0, u32::from_be_bytes);
        count.copy_from_slice(&n.saturating_add(1).to_be_bytes());
    }
    for part in [head, body] {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part.get(..len as usize).unwrap_or(part));
    }
}

/// Bytes a member adds to a bundle (the first also adds the 4-byte count).
pub(crate) fn bundle_member_len(head: usize, body: usize) -> usize {
    8 + head + body
}

/// The members of a bundle's payload, or what is wrong with it (a bundle
/// that does not parse is quarantined whole by the worker).
pub(crate) fn bundle_decode(payload: &[u8]) -> Result<Vec<(MailHeader, &[u8])>, String> {
    let take = |at: &mut usize, what: &str| -> Result<&[u8], String> {
        let len = payload
            .get(*at..*at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| format!("bundle cut short in the length of a {what} at byte {at}"))?;
        let start = *at + 4;
        let end = start
            .checked_add(len as usize)
            .filter(|&e| e <= payload.len())
            .ok_or_else(|| format!("bundle cut short: a {what} of {len} bytes at byte {start}"))?;
        *at = end;
        Ok(payload.get(start..end).unwrap_or_default())
    };
    let count = payload
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or("a bundle without its count of members")?;
    if count == 0 {
        return Err("an empty bundle".into());
    }
    let mut out = Vec::new();
    let mut at = 4usize;
    while at < payload.len() {
        let member = out.len();
        if member >= count as usize {
            return Err(format!(
                "bundle has bytes after its {count} members (at byte {at})"
            ));
        }
        let head = take(&mut at, "header")?;
        let head: MailHeader = serde_json::from_slice(head)
            .map_err(|e| format!("bundle member {member}: header: {e}"))?;
        let body = take(&mut at, "message")?;
        out.push((head, body));
    }
    if out.len() != count as usize {
        return Err(format!(
            "bundle cut short: {} of its {count} members",
            out.len()
        ));
    }
    Ok(out)
}

/// A bundle's identity: its content, so that the same input published
/// again is the same object.
pub(crate) fn bundle_id(payload: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"depeer-bundle/1\n");
    h.update(payload);
    hex::encode(h.finalize())
}

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A job's identity: its kind, options and files (path and content), so
/// that the same command on the same files is the same job.
pub(crate) fn job_id(
    kind: JobKind,
    options: &serde_json::Value,
    files: &[(String, String, String)],
) -> String {
    let mut h = Sha256::new();
    h.update(b"depeer-job/1\n");
    h.update(kind.as_str().as_bytes());
    h.update(b"\n");
    h.update(options.to_string().as_bytes());
    for (path, role, sha) in files {
        h.update(b"\n");
        h.update(path.as_bytes());
        h.update(b"\0");
        h.update(role.as_bytes());
        h.update(b"\0");
        h.update(sha.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A part's identity: its object's identity, and its place in it.
pub(crate) fn part_id(object: &str, file: usize, part: usize) -> String {
    sha256_hex(format!("depeer-part/1\n{object}\n{file}\n{part}").as_bytes())
}

/// Parses a `Depeer-Parts` header.
pub(crate) fn parse_parts(s: &str) -> Option<Vec<u64>> {
    s.split(',').map(|x| x.trim().parse().ok()).collect()
}

/// A path as a relative path inside a scratch directory: no root, no
/// `..`, no prefix (a file named `../../x` cannot land outside it).
pub(crate) fn scratch_relative(path: &str) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for c in std::path::Path::new(path).components() {
        if let std::path::Component::Normal(n) = c {
            out.push(n);
        }
    }
    if out.as_os_str().is_empty() {
        out.push("input");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip() {
        for k in [
            JobKind::Mail,
            JobKind::Quarantine,
            JobKind::Mrt,
            JobKind::Feed,
            JobKind::As2org,
            JobKind::Smtp,
            JobKind::Bundle,
        ] {
            assert_eq!(JobKind::of_subject(&k.subject()), Some(k));
            assert_eq!(JobKind::of_subject(&k.part_subject()), None);
        }
        assert_eq!(JobKind::of_subject("depeer.obj.x"), None);
    }

    #[test]
    fn ids_depend_on_content_and_place() {
        let o = serde_json::json!({"collector": null});
        let f = vec![("a/rib".to_string(), "input".to_string(), "00".to_string())];
        let g = vec![("a/rib".to_string(), "input".to_string(), "01".to_string())];
        assert_eq!(job_id(JobKind::Mrt, &o, &f), job_id(JobKind::Mrt, &o, &f));
        assert_ne!(job_id(JobKind::Mrt, &o, &f), job_id(JobKind::Mrt, &o, &g));
        assert_ne!(job_id(JobKind::Mrt, &o, &f), job_id(JobKind::Feed, &o, &f));
        assert_ne!(part_id("x", 0, 1), part_id("x", 1, 0));
        assert_eq!(parse_parts("3, 4,5"), Some(vec![3, 4, 5]));
        assert_eq!(parse_parts("3,x"), None);
    }

    #[test]
    fn bundles_round_trip_and_refuse_what_does_not_parse() {
        let a = MailHeader {
            path: "x.mbox".into(),
            index: 3,
            ..MailHeader::default()
        };
        let b = MailHeader {
            reason: Some("too-large".into()),
            truncated: true,
            ..a.clone()
        };
        let mut p = Vec::new();
        for (h, body) in [(&a, &b"From: a\r\n\r\nhi"[..]), (&b, &b""[..])] {
            let head = serde_json::to_vec(h).unwrap();
            let before = p.len().max(4);
            bundle_push(&mut p, &head, body);
            assert_eq!(p.len() - before, bundle_member_len(head.len(), body.len()));
        }
        let got = bundle_decode(&p).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (a, &b"From: a\r\n\r\nhi"[..]));
        assert_eq!(got[1].0, b);
        assert!(got[1].1.is_empty());
        assert_ne!(bundle_id(&p), bundle_id(&p[..p.len() - 1]));
        // Every cut, a length past the end, junk and nothing: refused, never a panic.
        for cut in 0..p.len() {
            assert!(bundle_decode(&p[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = p.clone();
        long[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(bundle_decode(&long).unwrap_err().contains("cut short"));
        let mut more = p.clone();
        more.extend_from_slice(&p[4..]);
        assert!(
            bundle_decode(&more)
                .unwrap_err()
                .contains("after its 2 members")
        );
        let mut junk = Vec::new();
        bundle_push(&mut junk, b"{not json", b"x");
        assert!(bundle_decode(&junk).unwrap_err().contains("member 0"));
    }

    #[test]
    fn scratch_paths_stay_inside() {
        assert_eq!(
            scratch_relative("/tmp/w/bgp/rib.mrt"),
            std::path::PathBuf::from("tmp/w/bgp/rib.mrt")
        );
        assert_eq!(
            scratch_relative("../../etc/passwd"),
            std::path::PathBuf::from("etc/passwd")
        );
        assert_eq!(scratch_relative("/"), std::path::PathBuf::from("input"));
    }

    #[test]
    fn mail_header_is_one_line_of_json() {
        let h = MailHeader {
            path: "a\r\nb.mbox".into(),
            offset: 7,
            index: 1,
            meta: depeer_ingest::MailMeta {
                envelope_sender: Some("x@y\n".into()),
                ..Default::default()
            },
            ..MailHeader::default()
        };
        let s = serde_json::to_string(&h).unwrap();
        assert!(!s.contains('\n') && !s.contains('\r'), "{s}");
        assert_eq!(serde_json::from_str::<MailHeader>(&s).unwrap(), h);
    }
}
