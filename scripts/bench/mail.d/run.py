#!/usr/bin/env python3
"""Driver of scripts/bench/mail (see that script and docs/bench-mail.md)."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

TARGET_PARSE = 115_000   # messages/s, parse + extract
TARGET_FULL = 50_000     # messages/s, whole ingest path
TARGET_RATIO = 30.0      # depeer parse + extract / python peer
TARGET_RSS_MB = 1024     # peak RSS on a 2 GB mbox


def timed(cmd, log):
    """Run CMD under /usr/bin/time -v; return (rc, wall s, peak RSS MiB, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        with open(log, "w") as err:
            proc = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, *cmd],
                                  stdout=subprocess.PIPE, stderr=err, check=False)
        text = tf.read()
    wall = rss = None
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", text)
    if m:
        wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        rss = int(m.group(1)) / 1024.0
    return proc.returncode, wall, rss, proc.stdout.decode("utf-8", "replace")


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return {}


def corpus(args, out, name, extra):
    """Build (or reuse) a corpus; return (files, messages, bytes)."""
    cdir = os.path.join(out, name)
    meta_path = os.path.join(cdir, "meta.json")
    want = {"args": extra, "version": 1}
    if os.path.exists(meta_path) and not args.rebuild:
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("want") == want:
            print(f"reusing corpus {cdir}", file=sys.stderr)
            return meta["files"], meta["messages"], meta["bytes"]
    shutil.rmtree(cdir, ignore_errors=True)
    os.makedirs(cdir)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), "--out", cdir,
                           *extra, *args.seeds], stderr=subprocess.PIPE, check=True)
    line = proc.stderr.decode().strip().splitlines()[-1]
    print(line, file=sys.stderr)
    m = re.match(r"(\d+) messages, (\d+) bytes", line)
    files = sorted(os.path.join(cdir, f) for f in os.listdir(cdir) if f.endswith(".mbox"))
    meta = {"want": want, "files": files, "messages": int(m.group(1)), "bytes": int(m.group(2))}
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    return files, meta["messages"], meta["bytes"]


def warm(files):
    """Read the files once so every run below starts with them in the page cache."""
    for p in files:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depeer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=2, help="python peer processes")
    ap.add_argument("--big", type=float, default=0.0, help="also run on one mbox of this many GiB")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 20,000 messages in 2 files (own corpus directory)")
    ap.add_argument("seeds", nargs="*")
    args = ap.parse_args()
    cname = "corpus"
    if args.quick:
        args.count, args.files, cname = 20_000, 2, "corpus-quick"
    out = os.path.abspath(args.out)
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)

    files, n, nbytes = corpus(args, out, cname, ["--count", str(args.count), "--files", str(args.files)])
    warm(files)
    mb = nbytes / 1e6
    print(f"corpus: {n} messages, {mb:.1f} MB in {len(files)} mbox files (page cache warm)")

    rows = []

    def record(name, rc, wall, rss, stdout, tool_read=None, note=""):
        ok = rc == 0 and wall
        row = {"name": name, "rc": rc, "seconds": wall, "peak_rss_mb": rss,
               "messages": n if name != "big" else None, "note": note}
        if ok:
            row["msgs_per_s"] = n / wall
            row["mb_per_s"] = mb / wall
        row["read"] = tool_read
        rows.append(row)
        return row

    # 1. depeer parse + extract only.
    rc, wall, rss, so = timed([args.depeer, "ingest", "mail", "--no-store", "--json", *files],
                              os.path.join(logs, "depeer-no-store.log"))
    parse = record("depeer parse+extract (--no-store)", rc, wall, rss, so, last_json(so).get("read"),
                   "" if rc == 0 else "failed: see logs/depeer-no-store.log")

    # 2. depeer full ingest into a fresh data dir.
    data = os.path.join(out, "data")
    shutil.rmtree(data, ignore_errors=True)
    rc, wall, rss, so = timed([args.depeer, "ingest", "mail", "--data", data, "--json", *files],
                              os.path.join(logs, "depeer-ingest.log"))
    full = record("depeer full ingest (Parquet + raw store)", rc, wall, rss, so,
                  last_json(so).get("read"), "" if rc == 0 else "failed: see logs/depeer-ingest.log")

    # 3. Python peer, same files.
    py = None
    if not args.skip_python:
        rc, wall, rss, so = timed([sys.executable, os.path.join(HERE, "peer.py"), "--jobs", str(args.jobs), *files],
                                  os.path.join(logs, "python-peer.log"))
        py = record(f"python email peer ({args.jobs} processes)", rc, wall, rss, so,
                    last_json(so).get("read"), "" if rc == 0 else "failed: see logs/python-peer.log")

    # 4. Memory check on one big mbox.
    big = None
    if args.big > 0:
        bfiles, bn, bbytes = corpus(args, out, "big", ["--single-gb", str(args.big)])
        warm(bfiles)
        rc, wall, rss, so = timed([args.depeer, "ingest", "mail", "--no-store", "--json", *bfiles],
                                  os.path.join(logs, "depeer-big-no-store.log"))
        big = {"name": f"depeer --no-store on one {bbytes / 2**30:.2f} GiB mbox", "rc": rc, "seconds": wall,
               "peak_rss_mb": rss, "messages": bn, "read": last_json(so).get("read")}
        if rc == 0 and wall:
            big["msgs_per_s"] = bn / wall
            big["mb_per_s"] = bbytes / 1e6 / wall
        rows.append(big)
        bdata = os.path.join(out, "data-big")
        shutil.rmtree(bdata, ignore_errors=True)
        rc, wall, rss, so = timed([args.depeer, "ingest", "mail", "--data", bdata, "--json", *bfiles],
                                  os.path.join(logs, "depeer-big-ingest.log"))
        bigfull = {"name": f"depeer full ingest on one {bbytes / 2**30:.2f} GiB mbox", "rc": rc,
                   "seconds": wall, "peak_rss_mb": rss, "messages": bn, "read": last_json(so).get("read")}
        if rc == 0 and wall:
            bigfull["msgs_per_s"] = bn / wall
            bigfull["mb_per_s"] = bbytes / 1e6 / wall
        rows.append(bigfull)
        shutil.rmtree(bdata, ignore_errors=True)
        big = [big, bigfull]

    print(f"\n{'run':<52} {'msgs':>8} {'seconds':>8} {'msg/s':>10} {'MB/s':>8} {'peak RSS MB':>11}")
    for r in rows:
        if r.get("msgs_per_s"):
            print(f"{r['name']:<52} {r.get('read') or r['messages']:>8} {r['seconds']:>8.2f} "
                  f"{r['msgs_per_s']:>10.0f} {r['mb_per_s']:>8.1f} {r['peak_rss_mb']:>11.0f}")
        else:
            print(f"{r['name']:<52} FAILED (exit {r['rc']}) {r.get('note', '')}")
        if r.get("read") is not None and r.get("messages") and r["read"] != r["messages"]:
            print(f"   note: it read {r['read']} messages, the corpus has {r['messages']}")

    checks = []
    ratio = full_ratio = None
    if py and py.get("msgs_per_s"):
        if parse.get("msgs_per_s"):
            ratio = parse["msgs_per_s"] / py["msgs_per_s"]
            print(f"ratio depeer parse+extract / python: {ratio:.1f}x")
        if full.get("msgs_per_s"):
            full_ratio = full["msgs_per_s"] / py["msgs_per_s"]
            print(f"ratio depeer full ingest / python:   {full_ratio:.1f}x")
    checks.append(("parse+extract >= 115,000 msg/s", parse.get("msgs_per_s"), TARGET_PARSE))
    checks.append(("full ingest >= 50,000 msg/s", full.get("msgs_per_s"), TARGET_FULL))
    checks.append((">= 30x the python peer", ratio, TARGET_RATIO))
    if big:
        worst = max((b["peak_rss_mb"] or 1e12) if b["rc"] == 0 else 1e12 for b in big)
        checks.append(("peak RSS < 1 GB on the big mbox", -worst, -TARGET_RSS_MB))
    failed = []
    print("\ntargets:")
    for name, value, target in checks:
        ok = value is not None and value >= target
        shown = "not measured" if value is None else (f"{-value:.0f} MB" if value < 0 else f"{value:,.1f}")
        print(f"  [{'ok' if ok else 'MISS'}] {name}: {shown}")
        if not ok:
            failed.append(name)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"corpus": {"messages": n, "bytes": nbytes, "files": len(files)}, "runs": rows,
                   "ratio_parse_vs_python": ratio, "ratio_full_vs_python": full_ratio,
                   "missed": failed}, f, indent=2)
    print(f"results: {os.path.join(out, 'results.json')}")
    shutil.rmtree(data, ignore_errors=True)
    if args.check and failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
