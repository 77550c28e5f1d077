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


def cached_corpus(args, cdir, want, build):
    """Reuse the corpus in CDIR when it was built for WANT (unless --rebuild);
    else build it with BUILD() -> (files, messages, bytes) and record WANT.
    Return (files, messages, bytes)."""
    meta_path = os.path.join(cdir, "meta.json")
    if os.path.exists(meta_path) and not args.rebuild:
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("want") == want:
            print(f"reusing corpus {cdir}", file=sys.stderr)
            return meta["files"], meta["messages"], meta["bytes"]
    files, messages, nbytes = build()
    meta = {"want": want, "files": files, "messages": messages, "bytes": nbytes}
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    return files, messages, nbytes


def corpus(args, out, name, extra):
    """Build (or reuse) a corpus; return (files, messages, bytes)."""
    cdir = os.path.join(out, name)

    def build():
        shutil.rmtree(cdir, ignore_errors=True)
        os.makedirs(cdir)
        proc = subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), "--out", cdir,
                               *extra, *args.seeds], stderr=subprocess.PIPE, check=True)
        line = proc.stderr.decode().strip().splitlines()[-1]
        print(line, file=sys.stderr)
        m = re.match(r"(\d+) messages, (\d+) bytes", line)
        files = sorted(os.path.join(cdir, f) for f in os.listdir(cdir) if f.endswith(".mbox"))
        return files, int(m.group(1)), int(m.group(2))

    return cached_corpus(args, cdir, {"args": extra, "version": 1}, build)


def sim_corpus(args, out, name, count):
    """Build (or reuse) a corpus of >= COUNT simulated messages with `depeer sim`
    (the mccolo-2008 scenario, seed 1): botnet templates of 2008, one mbox per
    trap and day. Return (files, messages, bytes)."""
    cdir = os.path.join(out, name)
    want = {"count": count, "depeer": os.path.getmtime(args.depeer), "version": 1}

    def build():
        scale = max(1.0, count / 5500.0)
        for _ in range(4):
            shutil.rmtree(cdir, ignore_errors=True)
            os.makedirs(cdir)
            world = os.path.join(cdir, "world")
            proc = subprocess.run([args.depeer, "sim", "--scenario", "mccolo-2008", "--seed", "1",
                                   "--scale", f"{scale:.2f}", "--out", world, "-q", "--json"],
                                  stdout=subprocess.PIPE, check=True)
            summary = json.loads(proc.stdout)
            if summary["messages"] >= count:
                break
            scale *= count / max(1, summary["messages"]) * 1.05
        files = []
        for root, _dirs, names in os.walk(os.path.join(world, "mail")):
            files += [os.path.join(root, f) for f in names if f.endswith(".mbox")]
        files.sort()
        nbytes = sum(os.path.getsize(f) for f in files)
        print(f"{summary['messages']} messages, {nbytes} bytes (depeer sim --scale {scale:.2f})",
              file=sys.stderr)
        return files, summary["messages"], nbytes

    return cached_corpus(args, cdir, want, build)


def warm(files):
    """Read the files once so every run below starts with them in the page cache."""
    for p in files:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def measure(args, out, label, files, n, nbytes):
    """Run depeer (--no-store, full) and the Python peer on FILES; print the table
    and the target checks; return the result dict."""
    logs = os.path.join(out, "logs")
    warm(files)
    mb = nbytes / 1e6
    print(f"\n== corpus {label}: {n} messages, {mb:.1f} MB ({nbytes / max(1, n):.0f} bytes each) "
          f"in {len(files)} mbox files (page cache warm)")
    rows = []

    def record(name, rc, wall, rss, tool_read=None, note=""):
        row = {"name": name, "rc": rc, "seconds": wall, "peak_rss_mb": rss, "messages": n,
               "note": note}
        if rc == 0 and wall:
            row["msgs_per_s"] = n / wall
            row["mb_per_s"] = mb / wall
        row["read"] = tool_read
        rows.append(row)
        return row

    # 1. depeer parse + extract only.
    log = os.path.join(logs, f"{label}-depeer-no-store.log")
    rc, wall, rss, so = timed([args.depeer, "ingest", "mail", "--no-store", "--json", *files], log)
    parse = record("depeer parse+extract (--no-store)", rc, wall, rss, last_json(so).get("read"),
                   "" if rc == 0 else f"failed: see {log}")

    # 2. depeer full ingest into a fresh data dir.
    data = os.path.join(out, "data")
    shutil.rmtree(data, ignore_errors=True)
    log = os.path.join(logs, f"{label}-depeer-ingest.log")
    rc, wall, rss, so = timed([args.depeer, "ingest", "mail", "--data", data, "--json", *files], log)
    full = record("depeer full ingest (Parquet + raw store)", rc, wall, rss,
                  last_json(so).get("read"), "" if rc == 0 else f"failed: see {log}")
    shutil.rmtree(data, ignore_errors=True)

    # 3. Python peer, same files: the same fields as depeer (the ratio), then the
    # narrower first version of the peer (shown for comparison, not the target).
    py = py_reduced = None
    if not args.skip_python:
        log = os.path.join(logs, f"{label}-python-peer.log")
        rc, wall, rss, so = timed([sys.executable, os.path.join(HERE, "peer.py"), "--jobs",
                                   str(args.jobs), "--fields", "full", *files], log)
        py = record(f"python email peer, same fields ({args.jobs} processes)", rc, wall, rss,
                    last_json(so).get("read"), "" if rc == 0 else f"failed: see {log}")
        if not args.skip_reduced:
            log = os.path.join(logs, f"{label}-python-peer-reduced.log")
            rc, wall, rss, so = timed([sys.executable, os.path.join(HERE, "peer.py"), "--jobs",
                                       str(args.jobs), "--fields", "reduced", *files], log)
            py_reduced = record(f"python peer, reduced fields ({args.jobs} processes)", rc, wall,
                                rss, last_json(so).get("read"),
                                "" if rc == 0 else f"failed: see {log}")

    print_rows(rows)
    ratio = full_ratio = reduced_ratio = None
    if py and py.get("msgs_per_s"):
        if parse.get("msgs_per_s"):
            ratio = parse["msgs_per_s"] / py["msgs_per_s"]
            print(f"ratio depeer parse+extract / python (same fields): {ratio:.1f}x")
        if full.get("msgs_per_s"):
            full_ratio = full["msgs_per_s"] / py["msgs_per_s"]
            print(f"ratio depeer full ingest / python (same fields):   {full_ratio:.1f}x")
    if py_reduced and py_reduced.get("msgs_per_s") and parse.get("msgs_per_s"):
        reduced_ratio = parse["msgs_per_s"] / py_reduced["msgs_per_s"]
        print(f"ratio depeer parse+extract / python (reduced fields, not the target): "
              f"{reduced_ratio:.1f}x")
    checks = [("parse+extract >= 115,000 msg/s", parse.get("msgs_per_s"), TARGET_PARSE),
              ("full ingest >= 50,000 msg/s", full.get("msgs_per_s"), TARGET_FULL),
              (">= 30x the python peer", ratio, TARGET_RATIO)]
    return {"corpus": {"kind": label, "messages": n, "bytes": nbytes, "files": len(files)},
            "runs": rows, "ratio_parse_vs_python": ratio, "ratio_full_vs_python": full_ratio,
            "ratio_parse_vs_python_reduced": reduced_ratio,
            "checks": checks}


def crosscheck(args, label, files):
    """Field-by-field agreement of the Python peer with depeer on the largest file."""
    big = max(files, key=os.path.getsize)
    print(f"\n== crosscheck {label}: Python peer against depeer on {os.path.basename(big)}")
    proc = subprocess.run([sys.executable, os.path.join(HERE, "crosscheck.py"), "--depeer",
                           args.depeer, big], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    print("\n".join(lines[:-1]) if proc.returncode == 0 else proc.stderr[-2000:])
    return last_json(proc.stdout) if proc.returncode == 0 else {"failed": proc.returncode}


def print_rows(rows):
    print(f"\n{'run':<52} {'msgs':>8} {'seconds':>8} {'msg/s':>10} {'MB/s':>8} {'peak RSS MB':>11}")
    for r in rows:
        if r.get("msgs_per_s"):
            print(f"{r['name']:<52} {r.get('read') or r['messages']:>8} {r['seconds']:>8.2f} "
                  f"{r['msgs_per_s']:>10.0f} {r['mb_per_s']:>8.1f} {r['peak_rss_mb']:>11.0f}")
        else:
            print(f"{r['name']:<52} FAILED (exit {r['rc']}) {r.get('note', '')}")
        if r.get("read") is not None and r.get("messages") and r["read"] != r["messages"]:
            print(f"   note: it read {r['read']} messages, the corpus has {r['messages']}")


def big_run(args, out):
    """Memory check: depeer (--no-store and full) on ONE mbox of args.big GiB."""
    logs = os.path.join(out, "logs")
    bfiles, bn, bbytes = corpus(args, out, "big", ["--single-gb", str(args.big)])
    warm(bfiles)
    rows = []
    for mode, extra in (("--no-store", ["--no-store"]), ("full ingest", None)):
        bdata = os.path.join(out, "data-big")
        shutil.rmtree(bdata, ignore_errors=True)
        cmd = [args.depeer, "ingest", "mail", "--json"]
        cmd += extra if extra else ["--data", bdata]
        tag = "no-store" if extra else "ingest"
        rc, wall, rss, so = timed([*cmd, *bfiles], os.path.join(logs, f"depeer-big-{tag}.log"))
        row = {"name": f"depeer {mode} on one {bbytes / 2**30:.2f} GiB mbox", "rc": rc,
               "seconds": wall, "peak_rss_mb": rss, "messages": bn, "read": last_json(so).get("read")}
        if rc == 0 and wall:
            row["msgs_per_s"] = bn / wall
            row["mb_per_s"] = bbytes / 1e6 / wall
        rows.append(row)
        shutil.rmtree(bdata, ignore_errors=True)
    print("\n== memory check")
    print_rows(rows)
    worst = max((b["peak_rss_mb"] or 1e12) if b["rc"] == 0 else 1e12 for b in rows)
    return rows, ("peak RSS < 1 GB on the big mbox", -worst, -TARGET_RSS_MB)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depeer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=2, help="python peer processes")
    ap.add_argument("--corpus", choices=["both", "sim", "restamped"], default="both",
                    help="sim: `depeer sim` output (2008 botnet templates, ~1.5 KB); restamped: "
                         "copies of the real spam (~7 KB); both (default)")
    ap.add_argument("--big", type=float, default=0.0, help="also run on one mbox of this many GiB")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--skip-reduced", action="store_true",
                    help="do not also run the reduced-field Python peer")
    ap.add_argument("--crosscheck", action="store_true",
                    help="also check, field by field on one mbox file per corpus, that the "
                         "Python peer extracts what depeer does (mail.d/crosscheck.py)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 20,000 messages per corpus (own corpus directories)")
    ap.add_argument("seeds", nargs="*")
    args = ap.parse_args()
    suffix = ""
    if args.quick:
        args.count, args.files, suffix = 20_000, 2, "-quick"
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)

    results = []
    if args.corpus in ("both", "sim"):
        files, n, nbytes = sim_corpus(args, out, "corpus-sim" + suffix, args.count)
        results.append(measure(args, out, "sim", files, n, nbytes))
        if args.crosscheck:
            results[-1]["crosscheck"] = crosscheck(args, "sim", files)
    if args.corpus in ("both", "restamped"):
        files, n, nbytes = corpus(args, out, "corpus" + suffix,
                                  ["--count", str(args.count), "--files", str(args.files)])
        results.append(measure(args, out, "restamped", files, n, nbytes))
        if args.crosscheck:
            results[-1]["crosscheck"] = crosscheck(args, "restamped", files)
    big = None
    if args.big > 0:
        big = big_run(args, out)

    failed = []
    print("\ntargets:")
    for res in results:
        res["missed"] = []
        for name, value, target in res.pop("checks"):
            ok = value is not None and value >= target
            shown = "not measured" if value is None else f"{value:,.1f}"
            print(f"  [{'ok' if ok else 'MISS'}] {res['corpus']['kind']}: {name}: {shown}")
            if not ok:
                res["missed"].append(name)
                failed.append(f"{res['corpus']['kind']}: {name}")
    big_rows = None
    if big:
        big_rows, (name, value, target) = big
        ok = value >= target
        print(f"  [{'ok' if ok else 'MISS'}] {name}: {-value:.0f} MB")
        if not ok:
            failed.append(name)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"corpora": results, "big": big_rows, "missed": failed}, f, indent=2)
    print(f"results: {os.path.join(out, 'results.json')}")
    if args.check and failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
