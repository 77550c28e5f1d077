#!/usr/bin/env python3
"""Does the Python peer extract the same fields as depeer? (scripts/bench/mail --crosscheck)

Runs peer.py (--fields full, one process, --jsonl) and `depeer ingest mail` into a
fresh data directory on the same mbox files, reads depeer's rows back with
`depeer sql --json`, and prints, per field, on how many messages the two agree.
Timestamps are compared as instants; registrable domains as "the peer's set is
contained in depeer's" (the peer's URL regex finds fewer URLs); fingerprints,
whose bits differ (the peer hashes words with crc32), by the similarity they
estimate: for random pairs of messages, the share of equal slots under each.
Prints one JSON object at the end with every figure.
"""

import argparse
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["arrival_time", "arrival_source", "relay_ip", "relay_helo", "relay_rdns",
          "envelope_from", "from_addr", "to_addr", "subject", "message_id", "date_header"]


def instant(v):
    if not v:
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return v


def norm(field, v):
    if v is None or v == "":
        return None
    if field in ("arrival_time", "date_header"):
        return instant(v)
    if field in ("relay_helo", "relay_rdns", "envelope_from", "from_addr", "to_addr"):
        return v.lower()
    return v


def similarity(a, b):
    return sum(a[i:i + 8] == b[i:i + 8] for i in range(0, 128, 8)) / 16


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depeer", required=True)
    ap.add_argument("--pairs", type=int, default=20000)
    ap.add_argument("--show", type=int, default=0, help="print N differing examples per field")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="depeer-xc-") as tmp:
        jsonl = os.path.join(tmp, "peer.jsonl")
        subprocess.run([sys.executable, os.path.join(HERE, "peer.py"), "--jobs", "1",
                        "--jsonl", jsonl, *args.files], check=True, stdout=subprocess.DEVNULL)
        peer = {}
        for path in glob.glob(jsonl + ".*"):
            with open(path) as f:
                for line in f:
                    r = json.loads(line)
                    peer[r["sha256"]] = r
        data = os.path.join(tmp, "data")
        subprocess.run([args.depeer, "ingest", "mail", "--data", data, "--json", *args.files],
                       check=True, stdout=subprocess.DEVNULL)

        def sql(q):
            out = subprocess.run([args.depeer, "sql", "--data", data, "--json", q], check=True,
                                 capture_output=True, text=True).stdout
            return json.loads(out)

        ours = {r["sha256"]: r for r in sql("SELECT sha256, " + ", ".join(FIELDS) +
                                            ", fingerprint FROM messages")}
        domains = {}
        for r in sql("SELECT sha256, registrable_domain FROM message_urls "
                     "WHERE registrable_domain IS NOT NULL"):
            domains.setdefault(r["sha256"], set()).add(r["registrable_domain"])
    common = sorted(set(peer) & set(ours))
    report = {"messages_peer": len(peer), "messages_depeer": len(ours), "common": len(common),
              "fields": {}}
    for field in FIELDS:
        same = 0
        shown = 0
        for h in common:
            a, b = norm(field, ours[h].get(field)), norm(field, peer[h].get(field))
            if a == b:
                same += 1
            elif shown < args.show:
                shown += 1
                print(f"  {field}: depeer={ours[h].get(field)!r} peer={peer[h].get(field)!r}")
        report["fields"][field] = same
    contained = sum(1 for h in common if {u["registrable_domain"] for u in peer[h]["urls"]
                                          if u["registrable_domain"]} <= domains.get(h, set()))
    report["fields"]["registrable_domains_contained"] = contained
    rng = random.Random(1)
    diffs = []
    pairs = []
    near = agree_near = 0
    for _ in range(args.pairs if len(common) > 1 else 0):
        x, y = rng.sample(common, 2)
        s1 = similarity(ours[x]["fingerprint"], ours[y]["fingerprint"])
        s2 = similarity(peer[x]["fingerprint"], peer[y]["fingerprint"])
        diffs.append(abs(s1 - s2))
        pairs.append((s1, s2))
        if s1 >= 0.5 or s2 >= 0.5:
            near += 1
            agree_near += (s1 >= 0.5) == (s2 >= 0.5)
    report["fingerprint_pairs"] = len(diffs)
    if len(pairs) > 1:
        xs, ys = zip(*pairs)
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        cov = sum((x - mx) * (y - my) for x, y in pairs)
        vx = sum((x - mx) ** 2 for x in xs) ** 0.5
        vy = sum((y - my) ** 2 for y in ys) ** 0.5
        report["fingerprint_similarity_mean_depeer"] = round(mx, 4)
        report["fingerprint_similarity_mean_peer"] = round(my, 4)
        report["fingerprint_similarity_correlation"] = round(cov / (vx * vy), 4) if vx and vy else None
    report["fingerprint_mean_abs_similarity_difference"] = round(sum(diffs) / len(diffs), 4) if diffs else None
    report["fingerprint_near_pairs"] = near
    report["fingerprint_near_pairs_agreeing"] = agree_near
    n = len(common) or 1
    print(f"{len(common)} messages read by both (peer {len(peer)}, depeer {len(ours)})")
    for field, same in report["fields"].items():
        print(f"  {field:32} {same:7} same  {100 * same / n:6.2f} %")
    if diffs:
        print(f"  fingerprint similarity, {len(diffs)} random pairs: mean |depeer - peer| = "
              f"{report['fingerprint_mean_abs_similarity_difference']}; pairs with similarity >= 0.5 "
              f"under either: {near}, under both: {agree_near}; mean similarity: depeer "
              f"{report.get('fingerprint_similarity_mean_depeer')}, peer "
              f"{report.get('fingerprint_similarity_mean_peer')}, correlation "
              f"{report.get('fingerprint_similarity_correlation')}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
