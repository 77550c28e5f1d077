#!/usr/bin/env python3
"""Build the mail benchmark corpus: re-stamped copies of real spam, as mbox files.

Every message of the seed corpus (default ../shared/data/spam, framed the way
depeer frames it) is copied again and again until --count messages exist. Each
copy gets distinct bytes (so a distinct sha256): a new Message-ID, a new date in
its top Received header (spread over November 2008) and an X-Bench-Token
header with a random token. Messages are written mboxrd-quoted into --files
mbox files ("From " separator line, one empty line after each message).

Usage: make_corpus.py --out DIR [--count N] [--files K] [--single-gb G] [SEED_DIR...]
  --single-gb G  instead write ONE mbox of about G GiB (the memory check).
"""

import argparse
import email.utils
import datetime
import os
import random
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "conformance", "mail.d"))
import frame  # noqa: E402  (scripts/conformance/mail.d/frame.py)

MSGID_RE = re.compile(rb"(?im)^Message-ID:[ \t]*[^\n]*\n")
RECEIVED_DATE_RE = re.compile(rb"(?im)^Received:(?:[^\n]|\n[ \t])*?;[ \t]*(?:\r?\n[ \t]+)?([^\r\n]+)")
QUOTE_RE = re.compile(rb"(?m)^(>*From )")
BASE = datetime.datetime(2008, 11, 1, tzinfo=datetime.timezone.utc)


def load_seeds(paths):
    seeds = []
    for path in frame.walk(paths):
        with open(path, "rb") as f:
            data = frame.decompress(f.read())
        for _, msg in frame.frame(data):
            # Only things that look like mail: a header line in the first 2 kB.
            if b":" in msg[:2048] and len(msg) < 4 << 20:
                seeds.append(msg if msg.endswith(b"\n") else msg + b"\n")
    return seeds


def restamp(msg, i, rng):
    """Return a copy of MSG with new Message-ID, Received date and token."""
    end = msg.find(b"\n\n")
    if end < 0:
        end = len(msg)
    head, body = msg[:end + 1], msg[end + 1:]
    token = "%016x" % rng.getrandbits(64)
    when = BASE + datetime.timedelta(seconds=rng.randrange(30 * 86400))
    date = email.utils.format_datetime(when).encode()
    head, n = RECEIVED_DATE_RE.subn(lambda m: m.group(0)[: m.start(1) - m.start(0)] + date,
                                   head, count=1)
    newid = b"Message-ID: <bench.%d.%s@spamtrap.example>\n" % (i, token.encode())
    head, n = MSGID_RE.subn(lambda m: newid, head, count=1)
    if n == 0:
        head = newid + head
    head = b"X-Bench-Token: " + token.encode() + b"\n" + head
    return head + body, when


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--single-gb", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=2008)
    ap.add_argument("seeds", nargs="*")
    args = ap.parse_args()
    seed_dirs = args.seeds or [os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            "..", "..", "..", "..", "shared", "data", "spam")]
    seeds = load_seeds(seed_dirs)
    if not seeds:
        sys.exit("no seed messages found")
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)

    if args.single_gb > 0:
        limit = int(args.single_gb * (1 << 30))
        outs = [open(os.path.join(args.out, "big.mbox"), "wb")]
        count = 1 << 62
    else:
        limit = 1 << 62
        outs = [open(os.path.join(args.out, "part-%02d.mbox" % k), "wb") for k in range(args.files)]
        count = args.count
    total = n = 0
    per_file = -(-count // len(outs)) if count < (1 << 62) else count
    while n < count and total < limit:
        msg, when = restamp(seeds[n % len(seeds)], n, rng)
        sep = b"From MAILER-DAEMON " + when.strftime("%a %b %e %H:%M:%S %Y").encode() + b"\n"
        rec = sep + QUOTE_RE.sub(rb">\1", msg) + b"\n"
        outs[min(n // per_file, len(outs) - 1)].write(rec)
        total += len(rec)
        n += 1
    for f in outs:
        f.close()
    print(f"{n} messages, {total} bytes, {len(outs)} mbox file(s) in {args.out} "
          f"(from {len(seeds)} seed messages)", file=sys.stderr)


if __name__ == "__main__":
    main()
