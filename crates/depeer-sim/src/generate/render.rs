//! Rendering one minute of mail: how many messages each botnet and the
//! legitimate senders send (Poisson), which bot on line sends each, what it
//! says, and its truth line. Each minute has its own random stream, so the
//! bytes do not depend on which worker renders it.

use sha2::{Digest, Sha256};

use crate::mail::{self, BodyRef, Malformed, Relay, Trap};
use crate::rng::Rng;
use crate::text::{FIRST_NAMES, LAST_NAMES};
use crate::textbuf::{push_all, push_hex_bytes, push_ipv4, push_u64};
use crate::timefmt::{civil, push_day, push_iso};

use super::chunk::{Item, MailCtx, Seg, SliceOut, WorkerBufs};
use crate::botnet::bot_addr;

use super::sender::{campaign_urls, push_helo, push_rdns};

/// Botnet index of legitimate mail in a minute's plan and in [`Item::bi`].
pub(super) const LEGIT: usize = usize::MAX;

/// What the sender of one message was, for its truth line.
struct Sent<'a> {
    /// Where the message bytes start in the trap's mbox buffer.
    msg_start: usize,
    family: Option<&'a str>,
    campaign: Option<&'a str>,
    relay_ip: u32,
    bot: Option<u64>,
    asn: u32,
    ci: usize,
    /// The campaign's shared body it refers to (`pools[campaign][index]`).
    shared: Option<(usize, usize)>,
}

fn push_json_str(out: &mut Vec<u8>, key: &str, v: Option<&str>) {
    push_all(out, &[b",\"", key.as_bytes(), b"\":"]);
    match v {
        Some(v) => push_all(out, &[b"\"", v.as_bytes(), b"\""]),
        None => out.extend_from_slice(b"null"),
    }
}

/// Renders minute `idx` of the window, appending to `out` (cleared by the
/// caller per chunk): how many messages each botnet sends (Poisson), who
/// sends them, what they say.
pub(super) fn render_slice(ctx: &MailCtx<'_>, idx: u64, wk: &mut WorkerBufs, out: &mut SliceOut) {
    let w = ctx.w;
    let slice_t = w.start + 60 * idx as i64;
    let mut rng = Rng::stream(w.seed, "mail", idx);
    let mut plan = std::mem::take(&mut wk.plan);
    plan_minute(ctx, slice_t, &mut rng, &mut plan);
    if !plan.is_empty() {
        plan.sort_unstable();
        prepare_botnets(ctx, slice_t + 30, wk);
        for &(t, _, bi) in &plan {
            render_message(ctx, &mut rng, t, bi, wk, out);
        }
    }
    wk.plan = plan;
}

/// The minute's messages: `(arrival time, tie-break draw, botnet or
/// [`LEGIT`])`, unsorted.
fn plan_minute(ctx: &MailCtx<'_>, slice_t: i64, rng: &mut Rng, plan: &mut Vec<(i64, u32, usize)>) {
    let w = ctx.w;
    let slice_end = (slice_t + 60).min(w.end);
    let hour = civil(slice_t).hour as usize;
    let mid = slice_t + 30;
    plan.clear();
    let mut send = |rng: &mut Rng, lambda: f64, bi: usize| {
        for _ in 0..rng.poisson(lambda) {
            plan.push((
                slice_t + rng.below((slice_end - slice_t) as u64) as i64,
                rng.next_u64() as u32,
                bi,
            ));
        }
    };
    for (bi, b) in ctx.cast.botnets.iter().enumerate() {
        let diurnal = b.diurnal.get(hour).copied().unwrap_or(0.0);
        send(
            rng,
            ctx.base_rate * 60.0 * b.share * diurnal * b.multiplier(mid),
            bi,
        );
    }
    send(rng, ctx.base_rate * 60.0 * ctx.sc.mail.legit_share, LEGIT);
}

/// Per botnet at time `mid` of the minute: the cumulative weights of its
/// C&C groups and its active campaigns (its first one when none is).
fn prepare_botnets(ctx: &MailCtx<'_>, mid: i64, wk: &mut WorkerBufs) {
    let cast = ctx.cast;
    wk.group_cum.resize_with(cast.botnets.len(), Vec::new);
    wk.active_camps.resize_with(cast.botnets.len(), Vec::new);
    let per_botnet = cast
        .botnets
        .iter()
        .zip(wk.group_cum.iter_mut().zip(wk.active_camps.iter_mut()));
    for (b, (gc, ac)) in per_botnet {
        gc.clear();
        let mut acc = 0.0;
        for g in &b.groups {
            acc += (g.weight * g.activity(mid)).max(0.0);
            gc.push(acc);
        }
        ac.clear();
        ac.extend(b.campaigns.iter().copied().filter(|&c| {
            cast.campaigns
                .get(c)
                .is_some_and(|camp| camp.from <= mid && mid < camp.to)
        }));
        if ac.is_empty() {
            ac.extend(b.campaigns.first().copied());
        }
    }
}

/// Appends a random recipient local part and `@domain`.
fn push_rcpt(rcpt: &mut Vec<u8>, rng: &mut Rng, domain: &[u8]) {
    rcpt.clear();
    match rng.below(4) {
        0 => push_all(
            rcpt,
            &[
                rng.pick(&FIRST_NAMES).as_bytes(),
                b".",
                rng.pick(&LAST_NAMES).as_bytes(),
            ],
        ),
        1 => {
            rcpt.extend_from_slice(rng.pick(&FIRST_NAMES).as_bytes());
            push_u64(rcpt, rng.below(100));
        }
        2 => rcpt.extend_from_slice(
            rng.pick(&["info", "sales", "webmaster", "admin", "contact"])
                .as_bytes(),
        ),
        _ => {
            rcpt.extend_from_slice(rng.pick(&LAST_NAMES).as_bytes());
            push_u64(rcpt, 1950 + rng.below(60));
        }
    }
    push_all(rcpt, &[b"@", domain]);
}

/// Renders one message of botnet `bi` (or [`LEGIT`]) arriving at `t`:
/// its mbox entry, its segments, its item and its truth line.
fn render_message(
    ctx: &MailCtx<'_>,
    rng: &mut Rng,
    t: i64,
    bi: usize,
    wk: &mut WorkerBufs,
    out: &mut SliceOut,
) {
    let ti = rng.index(ctx.traps.len());
    let (Some(trap), Some(mbox), Some(segs)) = (
        ctx.traps.get(ti),
        out.mbox.get_mut(ti),
        out.segs.get_mut(ti),
    ) else {
        return;
    };
    let dom = trap.domain.as_bytes();
    push_rcpt(&mut wk.rcpt, rng, dom);
    let malformed = if rng.chance(ctx.sc.mail.malformed_share) {
        Some(*rng.pick(&Malformed::ALL))
    } else {
        None
    };
    let entry_start = mbox.len();
    let seg_start = segs.len();
    let sent = if bi == LEGIT {
        send_legit(ctx, rng, t, trap, wk, mbox)
    } else {
        send_spam(ctx, rng, t, bi, trap, malformed, wk, mbox)
    };
    let Some(sent) = sent else { return };
    let size = frame_entry(ctx, &sent, entry_start, wk, mbox, segs);
    out.items.push(Item {
        ti,
        t,
        bi,
        ci: sent.ci,
        malformed,
        segs: seg_start..segs.len(),
    });
    push_truth_line(&mut out.truth, ctx, dom, t, &sent, size, malformed);
}

/// A legitimate message from one of the mail servers at ordinary hosters.
fn send_legit<'a>(
    ctx: &MailCtx<'a>,
    rng: &mut Rng,
    t: i64,
    trap: &Trap,
    wk: &mut WorkerBufs,
    mbox: &mut Vec<u8>,
) -> Option<Sent<'a>> {
    let (h, ip, sender) = ctx.legit.get(rng.index(ctx.legit.len()))?;
    let rd = &mut wk.helo;
    rd.clear();
    rd.extend_from_slice(b"mail");
    push_u64(rd, u64::from(ip & 7));
    push_all(rd, &[b".", sender.as_bytes()]);
    let relay = Relay {
        ip: *ip,
        helo: rd,
        rdns: Some(rd),
        tz_min: 0,
    };
    let msg_start = mail::render_legit(mbox, &mut wk.mail, rng, t, trap, &wk.rcpt, &relay, sender);
    Some(Sent {
        msg_start,
        family: None,
        campaign: None,
        relay_ip: *ip,
        bot: None,
        asn: ctx.w.ases.get(*h)?.asn,
        ci: 0,
        shared: None,
    })
}

/// A bot of botnet `bi` on line at `t`: C&C group by its current
/// contribution, then a bot of that group, drawn again (up to six times)
/// while it is off line at its local hour.
fn pick_bot(ctx: &MailCtx<'_>, rng: &mut Rng, t: i64, bi: usize, wk: &WorkerBufs) -> Option<u64> {
    let w = ctx.w;
    let b = ctx.cast.botnets.get(bi)?;
    let gi = rng.weighted(wk.group_cum.get(bi)?).unwrap_or(0);
    let frac = b.groups.get(gi)?.bot_fraction;
    let pool = ((b.bots as f64 * frac).ceil() as u64).max(1);
    let utc_hour = civil(t).hour as i32;
    let mut bot_i = rng.below(pool);
    for _ in 0..6 {
        let tz = *ctx.access.tz.get(b.home(w.seed, bot_i))?;
        let local = ((utc_hour * 60 + tz).rem_euclid(1440) / 60) as u32;
        if rng.chance(crate::botnet::online(local) / 0.95) {
            break;
        }
        bot_i = rng.below(pool);
    }
    Some(bot_i)
}

/// A spam message of botnet `bi`: a bot on line, its relay, a campaign
/// active now and a body (shared from the campaign's pool, or rendered for
/// this message when malformed or when the style links moving sites).
#[allow(clippy::too_many_arguments)]
fn send_spam<'a>(
    ctx: &MailCtx<'a>,
    rng: &mut Rng,
    t: i64,
    bi: usize,
    trap: &Trap,
    malformed: Option<Malformed>,
    wk: &mut WorkerBufs,
    mbox: &mut Vec<u8>,
) -> Option<Sent<'a>> {
    let w = ctx.w;
    let cast = ctx.cast;
    let b = cast.botnets.get(bi)?;
    let st = *ctx.styles.get(bi)?;
    let bot_i = pick_bot(ctx, rng, t, bi, wk)?;
    let net = ctx.access.nets.get(b.home(w.seed, bot_i))?;
    let v4 = ctx.access.v4.get(net.v4.clone())?;
    let ip = bot_addr(w.seed, b, bot_i, t, net.lease_secs, v4);
    wk.rdns.clear();
    let rd = push_rdns(&mut wk.rdns, net, ip).then_some(&wk.rdns[..]);
    wk.helo.clear();
    push_helo(&mut wk.helo, rng, &b.style, ip, rd);
    let relay = Relay {
        ip,
        helo: &wk.helo,
        rdns: rd,
        tz_min: net.tz_min,
    };
    let ci = *rng.pick(wk.active_camps.get(bi)?);
    let camp = cast.campaigns.get(ci)?;
    let pool = ctx.pools.get(ci)?;
    let mut shared = None;
    let body = if malformed.is_some() || st.per_message_body {
        wk.urls.clear();
        campaign_urls(rng, cast, camp, st.per_message_body, Some(t), &mut wk.urls);
        wk.body.clear();
        let charset = mail::render_body(
            rng,
            st,
            &camp.topic,
            &wk.urls,
            malformed,
            &mut wk.mail,
            &mut wk.body,
        );
        BodyRef {
            charset,
            bytes: &wk.body,
            by_reference: false,
        }
    } else {
        let k = rng.index(pool.len());
        let p = pool.get(k)?;
        // A body mboxrd must quote is copied and quoted with its message.
        if !p.needs_quoting {
            shared = Some((ci, k));
        }
        BodyRef {
            charset: p.charset,
            bytes: &p.bytes,
            by_reference: !p.needs_quoting,
        }
    };
    let msg_start = mail::render_spam(
        mbox,
        &mut wk.mail,
        rng,
        t,
        st,
        camp,
        &body,
        trap,
        &wk.rcpt,
        &relay,
        malformed,
    );
    Some(Sent {
        msg_start,
        family: Some(b.family.as_str()),
        campaign: Some(camp.id.as_str()),
        relay_ip: ip,
        bot: Some(bot_i),
        asn: net.asn,
        ci,
        shared,
    })
}

/// Ends the mbox entry that starts at `entry_start` (mboxrd quoting, or
/// segments around a shared body) and returns the message's size and
/// SHA-256.
fn frame_entry(
    ctx: &MailCtx<'_>,
    sent: &Sent<'_>,
    entry_start: usize,
    wk: &mut WorkerBufs,
    mbox: &mut Vec<u8>,
    segs: &mut Vec<Seg>,
) -> (usize, [u8; 32]) {
    let mut shared = sent.shared;
    let body: &[u8] = shared
        .and_then(|(c, k)| ctx.pools.get(c)?.get(k))
        .map_or(&[], |p| &p.bytes[..]);
    let msg = mbox.get(sent.msg_start..).unwrap_or_default();
    let size = msg.len() + body.len();
    let digest: [u8; 32] = Sha256::new()
        .chain_update(msg)
        .chain_update(body)
        .finalize()
        .into();
    if shared.is_some() && memchr::memmem::find(msg, b"From ").is_some() {
        // Headers that need quoting (not generated today): quote the
        // whole message in the buffer.
        mbox.extend_from_slice(body);
        shared = None;
    }
    match shared {
        Some((c, k)) => {
            segs.push(Seg::Own(entry_start, mbox.len()));
            segs.push(Seg::Pool(c, k));
            mbox.push(b'\n');
            segs.push(Seg::Own(mbox.len() - 1, mbox.len()));
        }
        None => {
            mail::mboxrd_finish(mbox, sent.msg_start, &mut wk.quote);
            segs.push(Seg::Own(entry_start, mbox.len()));
        }
    }
    (size, digest)
}

/// Appends the message's line of truth-messages.jsonl.
fn push_truth_line(
    tl: &mut Vec<u8>,
    ctx: &MailCtx<'_>,
    dom: &[u8],
    t: i64,
    sent: &Sent<'_>,
    (size, digest): (usize, [u8; 32]),
    malformed: Option<Malformed>,
) {
    tl.extend_from_slice(b"{\"sha256\":\"");
    push_hex_bytes(tl, &digest);
    push_all(tl, &[b"\",\"file\":\"mail/", dom, b"/"]);
    push_day(tl, t);
    tl.extend_from_slice(b".mbox");
    tl.extend_from_slice(ctx.comp.mbox_suffix().as_bytes());
    tl.extend_from_slice(b"\",\"time\":\"");
    push_iso(tl, t);
    push_all(tl, &[b"\",\"trap\":\"", dom, b"\",\"relay_ip\":\""]);
    push_ipv4(tl, sent.relay_ip);
    tl.extend_from_slice(b"\",\"relay_asn\":");
    push_u64(tl, u64::from(sent.asn));
    push_json_str(tl, "botnet", sent.family);
    push_json_str(tl, "campaign", sent.campaign);
    tl.extend_from_slice(b",\"bot\":");
    match sent.bot {
        Some(b) => push_u64(tl, b),
        None => tl.extend_from_slice(b"null"),
    }
    tl.extend_from_slice(b",\"size\":");
    push_u64(tl, size as u64);
    push_json_str(tl, "malformed", malformed.map(Malformed::as_str));
    tl.extend_from_slice(b"}\n");
}
