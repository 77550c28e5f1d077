//! The streaming feed reader: looks at the first lines to settle the
//! format, header and kind, replays them, then reads line by line. Each
//! line gives entries, or one located error with its bytes; nothing stops
//! the reader but an I/O error or a file it cannot read at all (unknown
//! format, missing header, wrong kind, mapping not fitting the header).

use std::collections::{HashMap, VecDeque};
use std::io::BufRead;
use std::sync::Arc;

use depeer_core::Timestamp;

use super::formats::{self, Format};
use super::json::{self, ArrayFramer, Framed, JsonOut};
use super::lines::{Field, LineInfo, LineReader};
use super::row::{self, Parsed, Reject, RowLayout, Target};
use super::{FeedEntry, FeedKind, FeedOptions, FeedStats};
use crate::{IntelError, canonical_family};

/// Lines looked at before the format is settled (comments included).
const PEEK_LINES: usize = 1000;
/// Bytes looked at before the format is settled.
const PEEK_BYTES: usize = 1 << 20;
/// Data lines looked at for detection (a pretty-printed JSON array needs a few).
const PEEK_DATA: usize = 9;
/// Distinct raw family spellings remembered per file.
const FAMILY_CACHE: usize = 10_000;

/// Raw family spelling -> canonical name (a fast hash: the keys are few
/// and come from the file, and a collision only costs time).
type FamilyCache = HashMap<Box<str>, Option<Arc<str>>, foldhash::fast::RandomState>;

/// How data lines are read once the format is settled.
enum Layout {
    Row(RowLayout),
    Openphish,
    DropText,
    Cof,
    DropJson,
    AsndropJson,
    FeodoJson(ArrayFramer),
}

/// What one data line gave.
enum Out<'a> {
    One(Parsed<'a>),
    Many(Vec<Parsed<'static>>),
    Metadata,
    Skipped,
}

/// What every entry of the file shares.
struct Ctx {
    file: Arc<str>,
    source: Arc<str>,
    kind: FeedKind,
    ingest_time: Timestamp,
}

/// Iterator over the entries (and per-line errors) of one feed file; made
/// by [`crate::read_feed`].
pub struct FeedReader<R> {
    lines: LineReader<R>,
    buf: Vec<u8>,
    options: FeedOptions,
    ctx: Ctx,
    format: Option<Format>,
    layout: Option<Layout>,
    comments: Vec<String>,
    header_line: u64,
    replay: VecDeque<(LineInfo, Vec<u8>)>,
    queue: VecDeque<Result<FeedEntry, IntelError>>,
    started: bool,
    done: bool,
    stats: FeedStats,
    families: FamilyCache,
    fields: Vec<Field>,
    framed: Vec<Framed>,
}

impl<R: BufRead> FeedReader<R> {
    pub(crate) fn new(reader: R, options: FeedOptions) -> Self {
        let ctx = Ctx {
            file: Arc::from(options.path.as_str()),
            source: Arc::from(""),
            kind: options.kind.unwrap_or(FeedKind::Cnc),
            ingest_time: options.ingest_time,
        };
        Self {
            lines: LineReader::new(reader, options.max_record),
            buf: Vec::with_capacity(256),
            options,
            ctx,
            format: None,
            layout: None,
            comments: Vec::new(),
            header_line: 0,
            replay: VecDeque::new(),
            queue: VecDeque::new(),
            started: false,
            done: false,
            stats: FeedStats::default(),
            families: FamilyCache::default(),
            fields: Vec::new(),
            framed: Vec::new(),
        }
    }

    /// The format being read (`None` before the first `next()`, or with a
    /// mapping file).
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// The kind being read, once settled.
    pub fn kind(&self) -> Option<FeedKind> {
        self.layout.as_ref().map(|_| self.ctx.kind)
    }

    /// The source name stored with the entries, once settled.
    pub fn source(&self) -> Option<&str> {
        self.layout.as_ref().map(|_| &*self.ctx.source)
    }

    /// Counts so far (final once the iterator returned `None`).
    pub fn stats(&self) -> &FeedStats {
        &self.stats
    }

    fn io_error(&self, e: std::io::Error) -> IntelError {
        IntelError::Io {
            file: self.options.path.clone(),
            line: self.lines.last_number(),
            source: e,
        }
    }

    /// Reads the first lines into `replay` and settles format, layout,
    /// kind and source.
    fn start(&mut self) -> Result<(), IntelError> {
        let prefixes: Vec<String> = match (&self.options.mapping, self.options.format) {
            (Some(m), _) => m.comments().to_vec(),
            (None, Some(f)) => f.comment_prefixes().iter().map(|s| s.to_string()).collect(),
            (None, None) => vec!["#".into(), ";".into()],
        };
        let mut bytes = 0usize;
        let mut data_seen = 0usize;
        while self.replay.len() < PEEK_LINES && bytes < PEEK_BYTES && data_seen < PEEK_DATA {
            let mut b = Vec::new();
            match self.lines.next_line(&mut b) {
                Ok(Some(info)) => {
                    let t = b.trim_ascii();
                    if info.first && !t.is_empty() && !has_prefix(t, &prefixes) {
                        data_seen += 1;
                    }
                    bytes += b.len();
                    self.replay.push_back((info, b));
                }
                Ok(None) => break,
                Err(e) => return Err(self.io_error(e)),
            }
        }
        let mut comments: Vec<String> = Vec::new();
        let mut data: Vec<(u64, String)> = Vec::new();
        for (info, b) in &self.replay {
            let t = String::from_utf8_lossy(b.trim_ascii()).into_owned();
            if t.is_empty() || !info.first {
                continue;
            }
            if data.is_empty() && has_prefix(t.as_bytes(), &prefixes) {
                comments.push(t);
            } else {
                data.push((info.number, t));
            }
        }
        if let Some(m) = self.options.mapping.clone() {
            return self.start_mapping(&m, data.first());
        }
        let format = match self.options.format {
            Some(f) => f,
            None => {
                let c: Vec<&str> = comments.iter().map(String::as_str).collect();
                let d: Vec<&str> = data.iter().map(|(_, s)| s.as_str()).collect();
                formats::detect(&c, &d).ok_or_else(|| IntelError::UnknownFormat {
                    file: self.options.path.clone(),
                    line: data.first().map_or(0, |(n, _)| *n),
                    sample: row::clip(data.first().map_or("", |(_, s)| s.as_str())).to_string(),
                    formats: formats::all_names(),
                })?
            }
        };
        self.format = Some(format);
        self.comments = format
            .comment_prefixes()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (layout, natural) = self.builtin(format, &comments, data.first())?;
        let kind = self.options.kind.unwrap_or(natural);
        let layout = fit_kind(layout, kind).ok_or_else(|| IntelError::KindMismatch {
            file: self.options.path.clone(),
            format: format.name().to_string(),
            lists: natural.as_str().to_string(),
            kind: kind.as_str().to_string(),
        })?;
        let source = self
            .options
            .source
            .clone()
            .unwrap_or_else(|| format.default_source().to_string());
        self.settle(layout, kind, &source);
        Ok(())
    }

    fn builtin(
        &mut self,
        format: Format,
        comments: &[String],
        first: Option<&(u64, String)>,
    ) -> Result<(Layout, FeedKind), IntelError> {
        let natural = format.default_kind();
        Ok(match format {
            Format::Depeer => {
                let names = first
                    .map(|(_, s)| formats::header_fields(s))
                    .unwrap_or_default();
                let (l, k) = formats::depeer_layout(&names).ok_or_else(|| IntelError::Header {
                    file: self.options.path.clone(),
                    line: first.map_or(0, |(n, _)| *n),
                    detail: "a depeer feed starts with a header naming its columns \
                             (ip,port,family,first_seen,last_seen | url,first_seen,tag | \
                             name,address,first_seen,last_seen | ip,family,first_seen,last_seen)"
                        .to_string(),
                })?;
                self.header_line = first.map_or(0, |(n, _)| *n);
                (Layout::Row(l), k)
            }
            Format::FeodoCsv | Format::UrlhausCsv | Format::PhishtankCsv => {
                let mut names = None;
                if let Some((n, s)) = first {
                    let h = formats::header_fields(s);
                    if formats::is_header_of(format, &h) {
                        self.header_line = *n;
                        names = Some(h);
                    }
                }
                if names.is_none() {
                    names = comments
                        .iter()
                        .map(|c| formats::header_fields(c))
                        .find(|h| formats::is_header_of(format, h));
                }
                let l = formats::builtin_layout(format, names.as_deref()).ok_or_else(|| {
                    IntelError::Header {
                        file: self.options.path.clone(),
                        line: 0,
                        detail: format!("no layout for {format}"),
                    }
                })?;
                (Layout::Row(l), natural)
            }
            Format::Openphish => (Layout::Openphish, natural),
            Format::DropText => (Layout::DropText, natural),
            Format::Cof => (Layout::Cof, natural),
            Format::DropJson => (Layout::DropJson, natural),
            Format::AsndropJson => (Layout::AsndropJson, natural),
            Format::FeodoJson => (
                Layout::FeodoJson(ArrayFramer::new(self.options.max_record)),
                natural,
            ),
        })
    }

    fn start_mapping(
        &mut self,
        m: &super::Mapping,
        first: Option<&(u64, String)>,
    ) -> Result<(), IntelError> {
        let kind = self
            .options
            .kind
            .or(m.kind())
            .or(m.implied_kind())
            .ok_or_else(|| IntelError::Mapping {
                file: m.path().to_string(),
                line: 1,
                detail: "the mapping lists IP addresses: say what they are with `kind = \"cnc\"`, \
                         \"bots\" or \"net\" (or --kind)"
                    .to_string(),
            })?;
        self.comments = m.comments().to_vec();
        let header = if m.has_header() {
            let (n, s) = first.ok_or_else(|| IntelError::Mapping {
                file: self.options.path.clone(),
                line: 0,
                detail: format!(
                    "the mapping {} declares a header, the file has no lines",
                    m.path()
                ),
            })?;
            self.header_line = *n;
            Some((s.as_str(), self.options.path.as_str(), *n))
        } else {
            None
        };
        let layout = m.layout(kind, header)?;
        let source = self
            .options
            .source
            .clone()
            .or_else(|| m.source().map(str::to_string))
            .unwrap_or_else(|| {
                std::path::Path::new(m.path()).file_stem().map_or_else(
                    || "mapping".to_string(),
                    |s| s.to_string_lossy().into_owned(),
                )
            });
        self.settle(Layout::Row(layout), kind, &source);
        Ok(())
    }

    fn settle(&mut self, layout: Layout, kind: FeedKind, source: &str) {
        self.layout = Some(layout);
        self.ctx.kind = kind;
        self.ctx.source = Arc::from(source);
    }

    /// Handles one piece of a line: entries or an error into the queue.
    fn handle(&mut self, info: LineInfo, bytes: &[u8]) {
        if info.first {
            self.stats.lines += 1;
        }
        let Some(layout) = self.layout.as_mut() else {
            return;
        };
        if let Layout::FeodoJson(framer) = layout {
            // JSON may be minified onto one long line: the framer takes
            // pieces and caps each object instead.
            framer.push_line(bytes, info.number, info.offset, info.last, &mut self.framed);
            self.drain_framed();
            return;
        }
        if !info.first {
            // The rest of an oversize line, already reported.
            return;
        }
        let t = bytes.trim_ascii();
        if info.truncated() {
            self.stats.errors += 1;
            let detail = format!(
                "line longer than the record cap ({} bytes)",
                self.options.max_record
            );
            self.queue
                .push_back(Err(line_error(&self.ctx, info, "oversize", detail, bytes)));
            return;
        }
        if t.is_empty() {
            self.stats.blank += 1;
            return;
        }
        if info.number == self.header_line {
            self.stats.headers += 1;
            return;
        }
        if has_prefix(t, &self.comments) {
            self.stats.comments += 1;
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.stats.errors += 1;
            let e = line_error(
                &self.ctx,
                info,
                "not-utf8",
                "the line is not UTF-8".into(),
                bytes,
            );
            self.queue.push_back(Err(e));
            return;
        };
        let out = match &self.layout {
            Some(l) => parse_data(l, &mut self.fields, text),
            None => return,
        };
        match out {
            Ok(out) => emit(
                out,
                &self.ctx,
                (info.number, info.offset, bytes),
                &mut self.families,
                &mut self.stats,
                &mut self.queue,
            ),
            Err(r) => {
                self.stats.errors += 1;
                self.queue
                    .push_back(Err(line_error(&self.ctx, info, r.reason, r.detail, bytes)));
            }
        }
    }

    fn drain_framed(&mut self) {
        for f in std::mem::take(&mut self.framed) {
            let info = LineInfo {
                number: f.line,
                offset: f.offset,
                first: true,
                last: f.error.is_none(),
            };
            let res = match f.error {
                Some(e) => Err(Reject::new(
                    if e.contains("cap") {
                        "oversize"
                    } else {
                        "bad-json"
                    },
                    e,
                )),
                None => match std::str::from_utf8(&f.bytes) {
                    Ok(s) => json::feodo_object(s),
                    Err(_) => Err(Reject::new("not-utf8", "the JSON object is not UTF-8")),
                },
            };
            match res {
                Ok(out) => emit(
                    json_out(out),
                    &self.ctx,
                    (f.line, f.offset, &f.bytes),
                    &mut self.families,
                    &mut self.stats,
                    &mut self.queue,
                ),
                Err(r) => {
                    self.stats.errors += 1;
                    let mut e = line_error(&self.ctx, info, r.reason, r.detail, &f.bytes);
                    if let IntelError::Line { truncated, .. } = &mut e {
                        *truncated = r.reason == "oversize";
                    }
                    self.queue.push_back(Err(e));
                }
            }
        }
    }

    /// Moves to the next line: replayed first, then read.
    fn step(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        let info = if let Some((info, b)) = self.replay.pop_front() {
            buf = b;
            Some(info)
        } else {
            match self.lines.next_line(&mut buf) {
                Ok(i) => i,
                Err(e) => {
                    let e = self.io_error(e);
                    self.queue.push_back(Err(e));
                    self.done = true;
                    None
                }
            }
        };
        match info {
            Some(info) => self.handle(info, &buf),
            None => {
                if let Some(Layout::FeodoJson(f)) = self.layout.as_mut()
                    && let Some(fr) = f.finish_input()
                {
                    self.framed.push(fr);
                    self.drain_framed();
                }
                self.done = true;
            }
        }
        self.buf = buf;
    }
}

impl<R: BufRead> Iterator for FeedReader<R> {
    type Item = Result<FeedEntry, IntelError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(x) = self.queue.pop_front() {
                return Some(x);
            }
            if self.done {
                return None;
            }
            if !self.started {
                self.started = true;
                if let Err(e) = self.start() {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            }
            self.step();
        }
    }
}

fn has_prefix(line: &[u8], prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| line.starts_with(p.as_bytes()))
}

/// The layout read as `kind`: an IP list may be read as a net list (each
/// address a host network); otherwise the kind must match what the format
/// lists.
fn fit_kind(layout: Layout, kind: FeedKind) -> Option<Layout> {
    let target = match &layout {
        Layout::Row(r) => r.target,
        Layout::Openphish => Target::Url,
        Layout::DropText | Layout::DropJson | Layout::AsndropJson => Target::Net,
        Layout::Cof => Target::Pdns,
        Layout::FeodoJson(_) => Target::Ip,
    };
    let ok = matches!(
        (target, kind),
        (Target::Ip, FeedKind::Cnc | FeedKind::Bots | FeedKind::Net)
            | (Target::Url, FeedKind::Url)
            | (Target::Pdns, FeedKind::Pdns)
            | (Target::Net, FeedKind::Net)
    );
    if !ok {
        return None;
    }
    Some(match layout {
        Layout::Row(mut r) if kind == FeedKind::Net && r.target == Target::Ip => {
            r.target = Target::Net;
            Layout::Row(r)
        }
        other => other,
    })
}

fn parse_data<'a>(
    layout: &'a Layout,
    fields: &mut Vec<Field>,
    text: &'a str,
) -> Result<Out<'a>, Reject> {
    match layout {
        Layout::Row(r) => r.parse(text, fields).map(Out::One),
        Layout::Openphish => row::url(text).map(|u| Out::One(Parsed::bare(u))),
        Layout::DropText => {
            let token = text.split(';').next().unwrap_or("");
            row::net(token).map(|n| Out::One(Parsed::bare(n)))
        }
        Layout::Cof => json::cof(text).map(json_out),
        Layout::DropJson => json::drop_json(text).map(json_out),
        Layout::AsndropJson => json::asndrop_json(text).map(json_out),
        Layout::FeodoJson(_) => Ok(Out::Skipped),
    }
}

fn json_out(o: JsonOut) -> Out<'static> {
    match o {
        JsonOut::Entries(v) => Out::Many(v),
        JsonOut::Metadata => Out::Metadata,
        JsonOut::Skipped => Out::Skipped,
    }
}

/// Queues the entries of one record: `(line, offset, bytes)` say where the
/// record is and what it is (its bytes are shared by its entries).
fn emit(
    out: Out<'_>,
    ctx: &Ctx,
    (line, offset, bytes): (u64, u64, &[u8]),
    families: &mut FamilyCache,
    stats: &mut FeedStats,
    queue: &mut VecDeque<Result<FeedEntry, IntelError>>,
) {
    let mut record: Option<Arc<[u8]>> = None;
    let mut one = |p: Parsed<'_>| {
        let record = Arc::clone(record.get_or_insert_with(|| Arc::from(bytes)));
        let family = p.family.as_deref().and_then(|raw| family_of(families, raw));
        stats.entries += 1;
        queue.push_back(Ok(FeedEntry {
            source: Arc::clone(&ctx.source),
            kind: ctx.kind,
            indicator: p.indicator,
            address: p.address,
            family,
            port: p.port,
            first_seen: p.first_seen,
            last_seen: p.last_seen,
            ingest_time: ctx.ingest_time,
            source_file: Arc::clone(&ctx.file),
            source_line: line,
            record,
            record_offset: offset,
        }));
    };
    match out {
        Out::One(p) => one(p),
        Out::Many(v) => v.into_iter().for_each(one),
        Out::Metadata => stats.metadata += 1,
        Out::Skipped => stats.skipped += 1,
    }
}

/// The canonical family, remembered per raw spelling (feeds repeat a few
/// names millions of times).
fn family_of(cache: &mut FamilyCache, raw: &str) -> Option<Arc<str>> {
    if let Some(c) = cache.get(raw) {
        return c.clone();
    }
    let c: Option<Arc<str>> = canonical_family(raw).map(Arc::from);
    if cache.len() < FAMILY_CACHE {
        cache.insert(Box::from(raw), c.clone());
    }
    c
}

fn line_error(
    ctx: &Ctx,
    info: LineInfo,
    reason: &'static str,
    detail: String,
    bytes: &[u8],
) -> IntelError {
    IntelError::Line {
        file: ctx.file.to_string(),
        line: info.number,
        offset: info.offset,
        reason,
        detail,
        bytes: bytes.to_vec(),
        truncated: info.truncated(),
    }
}
