"""The what-if question of a simulated world: what to cut and when.

Prints `AT CUTARGS` on one line: CUTARGS are `--cut ASN` (the main
event's AS and every AS the truth cuts off or seizes within an hour of
it) or, when the main event takes down one link of an AS that stays
reachable, `--cut-link AS-UPSTREAM`; AT is ten minutes before the first
of those truth events (RFC 3339). Reads only the truth's event list."""
import datetime as dt
import json
import sys


def ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main(path):
    t = json.load(open(path, encoding="utf-8"))
    main_key = t["summary"]["main_event"]
    events = t["events"]
    main = next(e for e in events if e["key"] == main_key)
    t0 = ts(main["time"])
    near = [e for e in events if abs(ts(e["time"]) - t0) <= 3600]
    # Events on the same AS that lead up to the main one (McColo's first
    # upstream going ten minutes before the second) set the time too.
    lead = [e for e in events if e["asn"] == main["asn"] and 0 <= t0 - ts(e["time"]) <= 3600]
    first = min(ts(e["time"]) for e in near + lead)
    if main["kind"] == "link-down" and main.get("reachable_after"):
        args = f"--cut-link {main['asn']}-{main['upstream_asn']}"
    else:
        asns = sorted({main["asn"]} | {e["asn"] for e in near
                                       if e["kind"] in ("isolate", "seize")
                                       or (e["kind"] == "link-down" and not e.get("reachable_after", True))})
        args = " ".join(f"--cut {a}" for a in asns)
    at = dt.datetime.fromtimestamp(first - 600, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(at, args)


if __name__ == "__main__":
    main(sys.argv[1])
