#!/usr/bin/env python3
"""Header fields of depeer against Python's `email` (report only, no threshold).

For every message depeer stored (DEPEER sql over DATA) whose framed bytes are
in MSGS/<sha256>.eml, compares subject (decoded, white space collapsed),
from (first address, addr_spec), message-id (without angle brackets) and
date (UTC, to the second) with Python's `email` package, `policy.default`.
Prints one line per field (same / differ / Python error) and, with
--examples N, up to N differing values per field. Exit 0 unless a tool fails.
"""

import argparse
import collections
import datetime
import email
import email.policy
import json
import os
import re
import subprocess
import sys


def ws(s):
    return re.sub(r"\s+", " ", s).strip() if s is not None else None


def python_fields(raw):
    m = email.message_from_bytes(raw, policy=email.policy.default)
    out = {}

    def get(name):
        try:
            return m[name]
        except Exception:  # malformed header: Python's error, not depeer's
            return "ERR"

    s = get("subject")
    out["subject"] = s if s == "ERR" else (ws(str(s)) if s is not None else None)
    f = get("from")
    try:
        out["from_addr"] = f.addresses[0].addr_spec if f not in (None, "ERR") and f.addresses else (f if f == "ERR" else None)
    except Exception:
        out["from_addr"] = "ERR"
    mid = get("message-id")
    out["message_id"] = mid if mid == "ERR" else (ws(str(mid)).strip("<>") if mid is not None else None)
    d = get("date")
    try:
        if d == "ERR":
            out["date_header"] = "ERR"
        elif d is not None and d.datetime is not None:
            dt = d.datetime
            if dt.tzinfo is None:  # no zone: UTC, as depeer reads it
                dt = dt.replace(tzinfo=datetime.timezone.utc)
            out["date_header"] = dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        else:
            out["date_header"] = None
    except Exception:
        out["date_header"] = "ERR"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--depeer", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--msgs", required=True)
    ap.add_argument("--examples", type=int, default=0)
    args = ap.parse_args()
    q = "SELECT sha256, subject, from_addr, message_id, date_header FROM messages"
    rows = json.loads(
        subprocess.run([args.depeer, "sql", "--data", args.data, "--json", q], check=True, capture_output=True).stdout
    )
    counts = collections.Counter()
    examples = collections.defaultdict(list)
    for r in rows:
        p = os.path.join(args.msgs, r["sha256"] + ".eml")
        if not os.path.exists(p):
            continue
        with open(p, "rb") as fh:
            py = python_fields(fh.read())
        for k, v in py.items():
            mine = r.get(k)
            if k == "date_header" and mine:
                # depeer prints years below 1000 with four digits.
                mine = mine[:19].lstrip("0") if mine.startswith("0") else mine[:19]
            if k == "subject":
                mine = ws(mine)
            if v == "ERR":
                counts[k, "python error"] += 1
            elif (mine or None) == (v or None):
                counts[k, "same"] += 1
            else:
                counts[k, "differ"] += 1
                examples[k].append((r["sha256"][:12], mine, v))
    print("header fields vs Python email (policy.default), report only:")
    for k in ("subject", "from_addr", "message_id", "date_header"):
        print("  %-12s same %6d  differ %4d  python error %3d" % (
            k, counts[k, "same"], counts[k, "differ"], counts[k, "python error"]))
        for e in examples[k][: args.examples]:
            print("      %s depeer=%r python=%r" % (e[0], e[1], e[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
