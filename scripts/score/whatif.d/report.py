"""Prints the score lines as a table (or JSON); --check: exit 1 on a miss."""
import json
import sys

WORLD_POINTS = 10
BOTNET_POINTS = 15


def misses(r):
    bad = []
    if r["error_points"] > WORLD_POINTS:
        bad.append(f"world drop off by {r['error_points']} points")
    for b in r["botnets"]:
        if b["checked"] and b["error_points"] > BOTNET_POINTS:
            bad.append(f"{b['botnet']} off by {b['error_points']} points")
    return bad


def pct(x):
    return "-" if x is None else f"{100 * x:5.1f}"


def main(path, as_json, check):
    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    for r in rows:
        r["missed"] = misses(r)
    if as_json == "1":
        print(json.dumps(rows, indent=1))
    else:
        print(f"{'scenario':<20} {'seed':>4} {'predicted':>9} {'interval':>13} {'observed':>8} {'truth':>6} {'error':>6}  cut")
        for r in rows:
            print(f"{r['scenario']:<20} {r['seed']:>4} {pct(r['predicted']):>9} "
                  f"{pct(r['low'])}-{pct(r['high']):>6} {pct(r['observed']):>8} {pct(r['truth']):>6} "
                  f"{r['error_points']:>6.1f}  {r['cut']} --at {r['at']}")
            for b in r["botnets"]:
                if b["predicted"] > 0 or b["truth"] > 0.15:
                    flag = "" if b["checked"] else f"  (not checked: the truth's own noise is ±{b['truth_noise_points']:.0f} points)"
                    print(f"    {b['botnet']:<14} predicted {pct(b['predicted'])} [{pct(b['low'])}, {pct(b['high'])}] "
                          f"truth {pct(b['truth'])} error {b['error_points']:5.1f} "
                          f"({b['messages_before']} messages before){flag}")
            for m in r["missed"]:
                print(f"    MISSED: {m}")
        n_bad = sum(1 for r in rows if r["missed"])
        print(f"{len(rows)} worlds, {len(rows) - n_bad} within the targets "
              f"(world ±{WORLD_POINTS} points, botnets ±{BOTNET_POINTS})")
    return 1 if check == "1" and any(r["missed"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
