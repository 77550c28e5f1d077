#!/usr/bin/env python3
"""Checks of scripts/conformance/sim on one generated world.

usage: check.py OUT_DIR BGPDUMP_DIR SA_RELAYS_FILE

1. bgpdump -m read every MRT file without an error (done by the caller,
   its outputs are in BGPDUMP_DIR/<file>.txt), the RIB holds exactly the
   prefixes truth.json counts, every prefix of the main event's AS is in the
   RIB with that origin, and the update file of that day withdraws every one
   of them from every session at the event time (for link-down / isolate
   events that leave the AS without upstreams);
2. SpamAssassin's first untrusted relay equals the truth's relay_ip for
   >= 99 % of messages, and every message hash SpamAssassin's framing saw is
   in truth-messages.jsonl (so the mbox framing and hashing are as documented).
Exit 0 pass, 1 fail.
"""
import json, os, sys

out, bgpdir, sa_file = sys.argv[1:4]
truth = json.load(open(os.path.join(out, "truth.json")))
ok = True

def fail(msg):
    global ok
    ok = False
    print("FAIL:", msg)

# --- MRT
routing = truth["counts"]["routing"]
rib_files = [f for f in truth["files"]["bgp"] if os.path.basename(f).startswith("rib.")]
rib_lines = open(os.path.join(bgpdir, os.path.basename(rib_files[0]) + ".txt")).read().splitlines()
prefixes = {}
for l in rib_lines:
    f = l.split("|")
    prefixes.setdefault(f[5], set()).add(f[6].split()[-1])
want = routing["rib_v4_prefixes"] + routing["rib_v6_prefixes"]
print(f"bgpdump RIB: {len(rib_lines)} entries, {len(prefixes)} prefixes (truth: {want})")
if len(prefixes) != want:
    fail("RIB prefix count differs from truth.json")
summary = truth["summary"]
asn = str(summary["main_event_asn"])
hoster = next((h for h in truth["hosters"] if str(h["asn"]) == asn), None)
ev = next(e for e in truth["events"] if e["key"] == summary["main_event"])
if hoster:
    for p in hoster["prefixes_v4"] + hoster["prefixes_v6"]:
        if prefixes.get(p) != {asn}:
            fail(f"{p} not in the RIB with origin AS{asn}: {prefixes.get(p)}")
    if ev["kind"] in ("link-down", "isolate") and not ev["reachable_after"]:
        import calendar, time
        t = calendar.timegm(time.strptime(ev["time"], "%Y-%m-%dT%H:%M:%SZ"))
        day = ev["time"][:10].replace("-", "")
        upd = [f for f in truth["files"]["bgp"] if f"updates.{day}" in f][0]
        lines = open(os.path.join(bgpdir, os.path.basename(upd) + ".txt")).read().splitlines()
        wd = {}
        for l in lines:
            f = l.split("|")
            if f[2] == "W" and int(f[1]) == t:
                wd.setdefault(f[5], set()).add(f[3])
        sessions = {l.split("|")[3] for l in rib_lines if l.split("|")[5] in set(hoster["prefixes_v4"])}
        for p in hoster["prefixes_v4"]:
            if not sessions <= wd.get(p, set()):
                fail(f"{p} not withdrawn by every session at {ev['time']}")
        print(f"bgpdump updates {os.path.basename(upd)}: AS{asn}'s {len(hoster['prefixes_v4'])} IPv4 prefixes withdrawn by {len(sessions)} sessions at {ev['time']}")

# --- SpamAssassin
want = {}
for l in open(os.path.join(out, "truth-messages.jsonl")):
    m = json.loads(l)
    want[m["sha256"]] = m
n = agree = unknown = 0
for l in open(sa_file):
    sha, ip, path = l.split(" ", 2)
    n += 1
    m = want.get(sha)
    if m is None:
        unknown += 1
        continue
    if ip == m["relay_ip"]:
        agree += 1
print(f"SpamAssassin: {n} messages, relay agrees with truth for {agree} ({100.0 * agree / max(n, 1):.2f} %), {unknown} hashes not in truth")
if unknown:
    fail("message hashes differ from truth-messages.jsonl")
if n == 0 or agree < 0.99 * n:
    fail("relay agreement under 99 %")
print("PASS" if ok else "FAILED")
sys.exit(0 if ok else 1)
