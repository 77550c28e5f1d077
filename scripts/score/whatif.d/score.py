"""One world's score line (JSON): prediction, observed, truth, errors."""
import datetime as dt
import json
import math
import sys

MIN_MESSAGES = 20  # fewer truth messages before: nothing to check
TOLERANCE = 0.15  # the per-botnet target
Z = 1.645  # 90 %, two-sided


def truth_noise(d, n):
    """90 % counting noise of a measured drop d over n messages before: the
    after-count is Poisson around n(1 - d), the before-count Poisson too
    (the same formula as depeer's interval, docs/whatif.md)."""
    if n <= 0:
        return math.inf
    k = max(1.0 - d, 0.0)
    return Z * math.sqrt((k + k * k) / n)


def ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main(truth_path, whatif_path, events_path, scenario, cutargs, at):
    t = json.load(open(truth_path, encoding="utf-8"))
    s = t["summary"]
    w = json.load(open(whatif_path, encoding="utf-8"))
    ev = json.load(open(events_path, encoding="utf-8"))["events"]
    t0 = ts(s["main_event_time"])
    drops = [e for e in ev if e["kind"] == "drop" and e.get("scope", "total") == "total"
             and abs(ts(e["time"]) - t0) <= 7200]
    near = min(drops, key=lambda e: abs(ts(e["time"]) - t0), default=None)
    observed = -near["magnitude"] if near else None
    before = s["spam_before"]
    shares = s.get("shares_before", {})
    pred_b = {b["botnet"]: b for b in w["per_botnet"]}
    botnets = []
    for name, truth_drop in sorted(s.get("drop_per_botnet", {}).items()):
        n = round(shares.get(name, 0) * before)
        p = pred_b.get(name)
        pd = p["predicted_drop"] if p else 0.0
        botnets.append({
            "botnet": name, "messages_before": n, "truth": truth_drop,
            "predicted": pd, "low": p["low"] if p else 0.0, "high": p["high"] if p else 0.0,
            "error_points": round(100 * abs(pd - truth_drop), 1),
            "truth_noise_points": round(100 * truth_noise(truth_drop, n), 1),
            # The truth's own drop is a measurement: checking it to 15
            # points needs its counting noise below 15 points.
            "checked": n >= MIN_MESSAGES and truth_noise(truth_drop, n) <= TOLERANCE,
        })
    err = round(100 * abs(w["predicted_drop"] - s["world_drop"]), 1)
    print(json.dumps({
        "scenario": t["scenario"], "file": scenario, "seed": t["seed"], "scale": t["scale"],
        "cut": cutargs, "at": at, "main_event_time": s["main_event_time"],
        "predicted": w["predicted_drop"], "low": w["low"], "high": w["high"],
        "observed": observed, "truth": s["world_drop"], "error_points": err,
        "in_interval": w["low"] <= s["world_drop"] <= w["high"],
        "spam_before": before, "learned_from": w.get("learned_from"),
        "cc_dark": len(w["cc_dark"]), "unreachable_prefixes": len(w["unreachable_prefixes"]),
        "botnets": botnets,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:7])
