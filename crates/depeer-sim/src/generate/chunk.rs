//! A rendered chunk of minutes and how it reaches the disk: the per-trap
//! mbox bytes and segments (shared campaign bodies are written from where
//! they are), the worker's reused buffers, the `--zstd` frames compressed in
//! the workers, and the open mbox file per trap and day.

use std::path::{Path, PathBuf};

use crate::SimError;
use crate::botnet::Cast;
use crate::mail::{self, Malformed, Trap};
use crate::outfile::OutFile;
use crate::scenario::Scenario;
use crate::timefmt::day;
use crate::world::World;

use super::sender::AccessNets;

/// Rendered chunks a worker may queue ahead of the writer.
pub(super) const SLICE_QUEUE: usize = 3;

/// Messages a chunk of minutes holds on average (at most an hour's worth
/// of minutes): about 6 MB of mail, 120 messages per trap and zstd frame
/// at full scale.
pub(super) const CHUNK_MESSAGES: f64 = 4000.0;

/// What the mail loop shares with its workers.
pub(super) struct MailCtx<'a> {
    pub(super) w: &'a World,
    pub(super) sc: &'a Scenario,
    pub(super) cast: &'a Cast,
    /// Template style per botnet.
    pub(super) styles: Vec<&'static mail::Style>,
    pub(super) access: AccessNets<'a>,
    pub(super) pools: &'a [Vec<mail::Body>],
    pub(super) traps: &'a [Trap],
    pub(super) legit: &'a [(usize, u32, String)],
    pub(super) base_rate: f64,
    pub(super) comp: Comp,
}

/// How the mail and the message truth are compressed.
#[derive(Clone, Copy)]
pub(super) struct Comp {
    pub(super) gzip: bool,
    pub(super) zstd: bool,
}

impl Comp {
    /// Suffix the mbox and truth-messages files get for zstd.
    pub(super) fn zstd_suffix(self) -> &'static str {
        if self.zstd { ".zst" } else { "" }
    }

    /// Whether those files go through [`OutFile`]'s gzip (not with zstd:
    /// the workers compress them).
    pub(super) fn gzip_plain(self) -> bool {
        self.gzip && !self.zstd
    }

    /// Suffix after `.mbox`.
    pub(super) fn mbox_suffix(self) -> &'static str {
        match (self.zstd, self.gzip) {
            (true, _) => ".zst",
            (false, true) => ".gz",
            (false, false) => "",
        }
    }
}

/// A trap's compressed day run of a minute (`--zstd`).
pub(super) struct ZRun {
    pub(super) ti: usize,
    /// Arrival time of its first message (gives the day's file).
    pub(super) t0: i64,
    /// Its zstd frame in [`SliceOut::zmail`].
    pub(super) bytes: std::ops::Range<usize>,
}

/// One message of a rendered minute.
pub(super) struct Item {
    pub(super) ti: usize,
    pub(super) t: i64,
    /// Botnet index, `usize::MAX` for legitimate mail.
    pub(super) bi: usize,
    pub(super) ci: usize,
    pub(super) malformed: Option<Malformed>,
    /// Its mbox entry: a range of the trap's segments.
    pub(super) segs: std::ops::Range<usize>,
}

/// A piece of a trap's mbox stream in a rendered minute.
#[derive(Clone, Copy)]
pub(super) enum Seg {
    /// Bytes of the trap's buffer.
    Own(usize, usize),
    /// A campaign's shared body (`pools[campaign][index]`), written from
    /// where it is instead of being copied into every message.
    Pool(usize, usize),
}

/// A rendered chunk of minutes: per trap its messages framed for the mbox (bytes
/// and the segments that put them together with shared bodies), and the
/// messages' truth lines. Reused from minute to minute.
#[derive(Default)]
pub(super) struct SliceOut {
    pub(super) items: Vec<Item>,
    pub(super) mbox: Vec<Vec<u8>>,
    pub(super) segs: Vec<Vec<Seg>>,
    pub(super) truth: Vec<u8>,
    /// With `--zstd`: the frames of every trap's day runs, their places,
    /// the truth lines' frame, and the error if zstd refused.
    pub(super) zmail: Vec<u8>,
    pub(super) zruns: Vec<ZRun>,
    pub(super) ztruth: Vec<u8>,
    pub(super) zerr: Option<String>,
}

impl SliceOut {
    /// Empties it for the next chunk (keeping the buffers).
    pub(super) fn clear(&mut self, traps: usize) {
        self.items.clear();
        self.truth.clear();
        self.mbox.resize_with(traps, Vec::new);
        self.segs.resize_with(traps, Vec::new);
        for m in &mut self.mbox {
            m.clear();
        }
        for m in &mut self.segs {
            m.clear();
        }
    }
}

/// A worker's reused buffers.
#[derive(Default)]
pub(super) struct WorkerBufs {
    pub(super) mail: mail::Scratch,
    pub(super) rcpt: Vec<u8>,
    pub(super) helo: Vec<u8>,
    pub(super) rdns: Vec<u8>,
    pub(super) urls: Vec<u8>,
    pub(super) body: Vec<u8>,
    pub(super) quote: Vec<u8>,
    pub(super) plan: Vec<(i64, u32, usize)>,
    pub(super) group_cum: Vec<Vec<f64>>,
    pub(super) active_camps: Vec<Vec<usize>>,
    /// The worker's zstd context (`--zstd`), made on first use.
    pub(super) zctx: Option<zstd::zstd_safe::CCtx<'static>>,
}

/// zstd level of `--zstd`: the fastest of the regular levels. Spam
/// templates repeat, so even this compresses the mail about 5x.
pub(super) const ZSTD_LEVEL: i32 = 1;

/// Trap `ti`'s messages of a rendered minute, as runs of one day each
/// (a minute crosses midnight at most once): `(time of the first, first
/// segment, end segment)`.
pub(super) fn day_runs(so: &SliceOut, ti: usize) -> Vec<(i64, usize, usize)> {
    let mut runs: Vec<(i64, usize, usize)> = Vec::new();
    for it in so.items.iter().filter(|it| it.ti == ti) {
        match runs.last_mut() {
            Some((t0, _, end)) if t0.div_euclid(86_400) == it.t.div_euclid(86_400) => {
                *end = it.segs.end;
            }
            _ => runs.push((it.t, it.segs.start, it.segs.end)),
        }
    }
    runs
}

/// Compresses a rendered chunk (`--zstd`): one frame per trap and day
/// run into `so.zmail`, one for the truth lines into `so.ztruth`. Runs in
/// the rendering worker, so compression uses every core while the writer
/// thread only appends bytes; concatenated frames are one valid zstd
/// stream. An error is left in `so.zerr` for the writer to report.
pub(super) fn compress_slice(ctx: &MailCtx<'_>, wk: &mut WorkerBufs, so: &mut SliceOut) {
    use zstd::zstd_safe::{CCtx, CParameter};
    so.zmail.clear();
    so.zruns.clear();
    so.ztruth.clear();
    so.zerr = None;
    let cctx = match &mut wk.zctx {
        Some(c) => c,
        None => {
            let mut c = CCtx::create();
            if let Err(code) = c.set_parameter(CParameter::CompressionLevel(ZSTD_LEVEL)) {
                so.zerr = Some(zstd::zstd_safe::get_error_name(code).to_string());
                return;
            }
            wk.zctx.insert(c)
        }
    };
    let mut iov = Vec::new();
    for ti in 0..so.segs.len() {
        for (t0, from, end) in day_runs(so, ti) {
            let (Some(segs), Some(mbox)) = (so.segs.get(ti), so.mbox.get(ti)) else {
                continue;
            };
            let segs = segs.get(from..end).unwrap_or_default();
            let parts = gather(segs, mbox, ctx.pools, &mut iov);
            let start = so.zmail.len();
            if let Err(e) = zstd_frame(cctx, parts.iter().map(|p| &p[..]), &mut so.zmail) {
                so.zerr = Some(format!("trap {ti}: {e}"));
                return;
            }
            so.zruns.push(ZRun {
                ti,
                t0,
                bytes: start..so.zmail.len(),
            });
        }
    }
    if !so.truth.is_empty()
        && let Err(e) = zstd_frame(cctx, std::iter::once(&so.truth[..]), &mut so.ztruth)
    {
        so.zerr = Some(format!("truth lines: {e}"));
    }
}

/// Appends one zstd frame holding the concatenation of `parts` to `out`.
pub(super) fn zstd_frame<'a>(
    cctx: &mut zstd::zstd_safe::CCtx<'static>,
    parts: impl Iterator<Item = &'a [u8]> + Clone,
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    use zstd::zstd_safe::{InBuffer, OutBuffer, ResetDirective, get_error_name, zstd_sys};
    let total: usize = parts.clone().map(<[u8]>::len).sum();
    let err = |code| get_error_name(code);
    cctx.reset(ResetDirective::SessionOnly).map_err(err)?;
    cctx.set_pledged_src_size(Some(total as u64)).map_err(err)?;
    // Room for the whole frame, so no call runs out of output space.
    out.reserve(zstd::zstd_safe::compress_bound(total) + 64);
    let pos = out.len();
    let mut ob = OutBuffer::around_pos(out, pos);
    for p in parts {
        let mut ib = InBuffer::around(p);
        while ib.pos() < p.len() {
            cctx.compress_stream2(
                &mut ob,
                &mut ib,
                zstd_sys::ZSTD_EndDirective::ZSTD_e_continue,
            )
            .map_err(err)?;
        }
    }
    loop {
        let mut ib = InBuffer::around(&[]);
        let left = cctx
            .compress_stream2(&mut ob, &mut ib, zstd_sys::ZSTD_EndDirective::ZSTD_e_end)
            .map_err(err)?;
        if left == 0 {
            return Ok(());
        }
        if ob.pos() == ob.capacity() {
            return Err("output buffer full");
        }
    }
}

/// The open mbox per trap: its day and the file.
pub(super) struct TrapFiles {
    pub(super) files: Vec<Option<(i64, OutFile)>>,
}

impl TrapFiles {
    /// Appends `parts` (messages of day `t`) to trap `ti`'s mbox of that
    /// day, closing the previous day's file into `done`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write(
        &mut self,
        ti: usize,
        domain: &str,
        t: i64,
        parts: &mut [std::io::IoSlice<'_>],
        out_dir: &Path,
        comp: Comp,
        done: &mut Vec<(PathBuf, u64)>,
    ) -> Result<(), SimError> {
        let day_start = t - t.rem_euclid(86_400);
        let Some(slot) = self.files.get_mut(ti) else {
            return Ok(());
        };
        if !matches!(slot, Some((d, _)) if *d == day_start) {
            if let Some((_, f)) = slot.take() {
                done.push(f.finish()?);
            }
            let p = out_dir.join("mail").join(domain).join(format!(
                "{}.mbox{}",
                day(t),
                comp.zstd_suffix()
            ));
            *slot = Some((day_start, OutFile::create(&p, comp.gzip_plain())?));
        }
        match slot {
            Some((_, f)) => f.write_parts(parts),
            None => Ok(()),
        }
    }
}

/// The byte slices of `segs` (own ranges of `buf` and shared bodies) in
/// `iov`, adjacent own ranges merged.
pub(super) fn gather<'a, 'b>(
    segs: &[Seg],
    buf: &'a [u8],
    pools: &'a [Vec<mail::Body>],
    iov: &'b mut Vec<std::io::IoSlice<'a>>,
) -> &'b mut [std::io::IoSlice<'a>] {
    iov.clear();
    let mut own: Option<(usize, usize)> = None;
    for &s in segs {
        match s {
            Seg::Own(a, b) => match &mut own {
                Some((_, end)) if *end == a => *end = b,
                _ => {
                    if let Some((x, y)) = own.replace((a, b)) {
                        iov.extend(buf.get(x..y).map(std::io::IoSlice::new));
                    }
                }
            },
            Seg::Pool(c, k) => {
                if let Some((x, y)) = own.take() {
                    iov.extend(buf.get(x..y).map(std::io::IoSlice::new));
                }
                let body = pools.get(c).and_then(|p| p.get(k));
                iov.extend(body.map(|b| std::io::IoSlice::new(&b.bytes)));
            }
        }
    }
    if let Some((x, y)) = own {
        iov.extend(buf.get(x..y).map(std::io::IoSlice::new));
    }
    iov
}
