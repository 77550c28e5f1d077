#!/usr/bin/env python3
"""Compare depeer's Received parser with SpamAssassin's, one line at a time.

Usage: compare.py LINES.json SA.jsonl DEPEER.jsonl
LINES.json: array of {"header": ...}; SA.jsonl: sa_extract.pl output for the
one-hop messages made from it (file names = index); DEPEER.jsonl: the
received_lines example's output. A line agrees when both see the same
handover (or both none) from the same IP. Prints the figures and every
disagreement; exit 0.
"""

import json
import sys

from one_hop import print_report, sa_relay


def main():
    lines = json.load(open(sys.argv[1]))
    sa = {}
    for l in open(sys.argv[2]):
        r = json.loads(l)
        sa[int(r["sha256"])] = r
    ours = [json.loads(l) for l in open(sys.argv[3])]
    same = only_sa = only_us = other_ip = 0
    notes = []
    for i, (e, o) in enumerate(zip(lines, ours)):
        s = sa_relay(sa[i]) if i in sa else None
        ip = o["ip"] if o["handover"] else None
        if s is None and ip is None:
            same += 1
        elif s is not None and s[0] == ip:
            same += 1
        elif s is None:
            only_us += 1
            notes.append("depeer only   %-15s %r" % (ip, e["header"][:160]))
        elif ip is None:
            only_sa += 1
            notes.append("SA only       %-15s %r" % (s[0], e["header"][:160]))
        else:
            other_ip += 1
            notes.append("other IP      SA %s depeer %s %r" % (s[0], ip, e["header"][:140]))
    n = len(ours)
    print_report([
        "Received lines: %d; same handover and IP as SpamAssassin: %d (%.1f %%)" % (n, same, 100.0 * same / max(n, 1)),
        "  SpamAssassin only: %d; depeer only: %d; other IP: %d" % (only_sa, only_us, other_ip),
    ], notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
