#!/usr/bin/env python3
"""rspamd peer for scripts/conformance/mail: URL extraction by rspamd itself.

Runs `rspamadm mime -j urls -u FILE...` (rspamd's own MIME parser and URL
extractor, with the installed /etc/rspamd configuration and TLD list) over
batches of message files named <sha256>.eml and prints one JSON object per
message: {"sha256", "urls": [{"url", "protocol", "host", "tld"}], "error"}.

`-u` (unique) is used because rspamd 3.4 prints garbage for `-j` without it
(the URL objects are serialised as raw memory); with `-u` every URL is turned
into a table first, which serialises correctly.

Usage: rspamd_urls.py [--batch N] < list-of-files > rspamd.jsonl
"""

import argparse
import json
import os
import subprocess
import sys


def run_batch(files):
    """Return {path: [url tables]} for FILES; missing paths failed."""
    proc = subprocess.run(
        ["rspamadm", "mime", "-j", "urls", "-u", *files],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=False,
    )
    text = proc.stdout.decode("utf-8", "replace").lstrip()
    if text.startswith("["):
        text = text[1:]
    try:
        obj, _ = json.JSONDecoder().raw_decode(text.lstrip())
    except ValueError:
        return {}, proc.stderr.decode("utf-8", "replace")[-500:]
    if not isinstance(obj, dict):
        return {}, "unexpected output"
    return obj, proc.stderr.decode("utf-8", "replace")[-500:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()
    files = [line.strip() for line in sys.stdin if line.strip()]
    out = sys.stdout
    n = failed = 0
    for i in range(0, len(files), args.batch):
        batch = files[i : i + args.batch]
        got, err = run_batch(batch)
        for path in batch:
            urls = got.get(path)
            error = None
            if urls is None:
                # One unreadable message aborts rspamadm: redo the misses alone.
                single, err1 = run_batch([path])
                urls = single.get(path)
                if urls is None:
                    error = (err1 or err or "no output").strip()
                    failed += 1
            sha = os.path.basename(path)
            if sha.endswith(".eml"):
                sha = sha[:-4]
            rec = {"sha256": sha, "urls": [], "error": error}
            for u in urls or []:
                if not isinstance(u, dict):
                    continue
                rec["urls"].append(
                    {k: u.get(k) for k in ("url", "protocol", "host", "tld")}
                )
            out.write(json.dumps(rec) + "\n")
            n += 1
    print(f"rspamd: {n} messages, {failed} failed", file=sys.stderr)


if __name__ == "__main__":
    main()
