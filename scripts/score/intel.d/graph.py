"""The dataset half of scripts/score/intel: C&C -> hosting AS at the time,
the dependency share of the main event's AS, and the HyperLogLog error of
`depeer botnets`, each against the world's truth.json and
truth-messages.jsonl. Needs a dataset with the world's routing, as2org,
feeds and mail ingested and attributed (see scripts/score/intel --help).
"""
import json
import subprocess
from collections import defaultdict
from datetime import datetime, timedelta, timezone


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(depeer, data, *args):
    out = subprocess.run([depeer, *args, "--data", data, "-q"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def reachable_at(hoster_reach, asn, t):
    """Whether a named hoster was reachable at t (ordinary hosters always are)."""
    points = hoster_reach.get(asn)
    if not points:
        return True
    state = True
    for when, up in points:
        if ts(when) <= t:
            state = up
    return state


def cc_to_as(truth, depeer, data):
    """Every truth C&C location, looked up at the middle of its interval."""
    reach = {h["asn"]: h.get("reachable", []) for h in truth.get("hosters", [])}
    by_time = defaultdict(list)
    for b in truth["botnets"]:
        for g in b["cc"]:
            for s in g["servers"]:
                for loc in (s if isinstance(s, list) else s["locations"]):
                    a, z = ts(loc["from"]), ts(loc["to"])
                    mid = a + (z - a) / 2
                    mid = mid.replace(microsecond=0)
                    if reachable_at(reach, loc["asn"], mid):
                        by_time[iso(mid)].append((loc["ip"], loc["asn"]))
    checked = correct = 0
    wrong = []
    for at, locs in sorted(by_time.items()):
        answers = run(depeer, data, "route", "lookup", "--at", at, "--json", *[ip for ip, _ in locs])
        got = {a["ip"]: a.get("origin_asns") or [] for a in answers}
        for ip, asn in locs:
            checked += 1
            if got.get(ip) == [asn]:
                correct += 1
            else:
                wrong.append({"ip": ip, "at": at, "truth": asn, "depeer": got.get(ip)})
    return {"routable_locations": checked, "correct": correct,
            "share": correct / checked if checked else None, "wrong": wrong[:8]}


def dependency(truth, depeer, data):
    s = truth["summary"]
    d = run(depeer, data, "depends", str(s["main_event_asn"]), "--at", s["main_event_time"],
            "--window", "24h", "--json")
    return {"asn": s["main_event_asn"], "cc_share": d["cc_share"],
            "truth_dependent_share": s["dependent_share"],
            "error_points": 100.0 * abs(d["cc_share"] - s["dependent_share"])}


def hll(truth, messages, depeer, data):
    """bots_estimate of the 24 h before the main event against the exact
    distinct relay addresses depeer attributed (the sketch's own error)
    and the true distinct bots of each botnet (what the figure means)."""
    t = ts(truth["summary"]["main_event_time"])
    lo, hi = t - timedelta(hours=24), t - timedelta(seconds=1)
    est = run(depeer, data, "botnets", "--from", iso(lo), "--until", iso(hi), "--json")
    sql = ("SELECT botnet, count(DISTINCT relay_ip) n FROM attribution "
           f"WHERE time >= TIMESTAMP '{iso(lo)}' AND time <= TIMESTAMP '{iso(hi)}' "
           "AND botnet IS NOT NULL GROUP BY botnet")
    exact = {r["botnet"]: r["n"] for r in run(depeer, data, "sql", sql, "--json")}
    bots = defaultdict(set)
    for m in messages:
        if m["botnet"] and lo <= ts(m["time"]) <= hi:
            bots[m["botnet"]].add(m["bot"])
    rows = []
    for b in est["botnets"]:
        name = b["botnet"]
        e = b["bots_estimate"]
        x = exact.get(name)
        tb = len(bots.get(name, ()))
        rows.append({"botnet": name, "bots_estimate": e, "exact_relays": x, "true_bots": tb,
                     "hll_error": (e - x) / x if x else None,
                     "vs_true_bots": (e - tb) / tb if tb else None})
    errs = [abs(r["hll_error"]) for r in rows if r["hll_error"] is not None]
    return {"window": [iso(lo), iso(hi)], "botnets": rows,
            "max_abs_hll_error": max(errs) if errs else None}
