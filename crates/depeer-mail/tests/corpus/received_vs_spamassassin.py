#!/usr/bin/env python3
"""How the `received` suite's expected relays compare with SpamAssassin's.

    python3 tests/corpus/received_vs_spamassassin.py [WORKDIR]

Each fixture line goes into a one-hop message; SpamAssassin reads them
through scripts/conformance/mail.d/sa_extract.pl (needs Mail::SpamAssassin:
`apt-get install spamassassin`), and its relay (trusted or untrusted) is
compared with the fixture's expected `handover` and `from_ip`. Prints the
agreement for the seeds (001..) and the mutations (101..) and every
disagreement. A report, no threshold: the fixtures pin depeer's output.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "received")
sys.path.insert(0, os.path.join(HERE, "../../../../scripts/conformance/received.d"))
from one_hop import SA_EXTRACT, one_hop, print_report, sa_relay  # noqa: E402


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="received-sa-")
    os.makedirs(work, exist_ok=True)
    paths = []
    for p in sorted(glob.glob(os.path.join(SUITE, "*.txt"))):
        raw = open(p, "rb").read()
        if not raw.strip():
            continue
        out = os.path.join(work, os.path.basename(p)[:3] + ".eml")
        with open(out, "wb") as f:
            f.write(one_hop(raw))
        paths.append(out)
    res = subprocess.run(["perl", SA_EXTRACT], input="\n".join(paths) + "\n", capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        return 2
    agree = {"seeds": [0, 0], "mutations": [0, 0]}
    notes = []
    for line in res.stdout.splitlines():
        r = json.loads(line)
        k = r["sha256"]
        relay = sa_relay(r)
        sa = relay[0] if relay else None
        exp = json.load(open(os.path.join(SUITE, k + ".json")))
        ours = exp["from_ip"] if exp and exp["handover"] else None
        group = agree["seeds" if int(k) < 101 else "mutations"]
        group[1] += 1
        if sa == ours:
            group[0] += 1
        else:
            notes.append("%s  SpamAssassin %-16s depeer %s" % (k, sa, ours))
    print_report(["%s: same relay as SpamAssassin %d / %d" % (g, same, n) for g, (same, n) in agree.items()], notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
