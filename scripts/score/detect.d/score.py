"""Scores `depeer detect` (defaults) beside ruptures and the 'zero' baseline
on annotated series: TCPD (van den Burg & Williams 2020) where a copy is
available, and a seeded synthetic set. See scripts/score/detect for usage.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import metrics  # noqa: E402
import synth  # noqa: E402


def load_tcpd(git_dir):
    """Univariate TCPD series present as JSON in a TCPD git snapshot.
    Returns [(name, values with None, [annotations...])], and the names of
    multivariate series skipped."""
    def show(path):
        return subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:{path}"],
                              check=True, capture_output=True).stdout
    annotations = json.loads(show("annotations.json"))
    names = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", "HEAD",
                            "datasets/"], check=True, capture_output=True, text=True).stdout.split()
    out, multi = [], []
    for path in names:
        parts = path.split("/")
        if len(parts) != 3 or parts[2] != parts[1] + ".json":
            continue
        name = parts[1]
        if name.startswith("quality_control"):
            continue  # simulated annotator checks, not part of the paper's 37
        d = json.loads(show(path))
        if d["n_dim"] != 1:
            multi.append(name)
            continue
        values = d["series"][0]["raw"]
        out.append((name, values, [list(v) for v in annotations[name].values()]))
    return out, multi


def write_csv(dirpath, name, values):
    path = os.path.join(dirpath, name + ".csv")
    with open(path, "w") as f:
        f.write("value\n")
        for v in values:
            f.write("" if v is None else repr(float(v)))
            f.write("\n")
    return path


def run_depeer(tool, paths, params):
    """tool: ['depeer', 'detect'] style command or the detect_many example."""
    out = {}
    if "detect_many" in os.path.basename(tool[0]):
        res = subprocess.run(tool + params + paths, check=True, capture_output=True, text=True)
        for line in res.stdout.splitlines():
            f, _n, cps, secs = line.split("\t")
            out[f] = ([int(c) for c in cps.split(",") if c], float(secs))
        return out
    for p in paths:
        t0 = time.perf_counter()
        res = subprocess.run(tool + ["--csv", p, "--json"], check=True, capture_output=True, text=True)
        out[p] = (json.loads(res.stdout)["change_points"], time.perf_counter() - t0)
    return out


def ruptures_methods():
    """The peers: ruptures' Pelt and Binseg on the series scaled to unit
    variance (as TCPDBench feeds every method), with the penalties its
    documentation uses: BIC-style pen = sigma^2 * ln(n) for the l2 cost
    (sigma: noise sd from the MAD of first differences), and, for the
    Gaussian mean+variance cost ('normal', whose per-point cost is on the
    log-likelihood scale), pen = 3 * ln(n) (MBIC-like, the changepoint R
    package default used by the paper's defaults). min_size=2 and jump=5
    (ruptures' defaults)."""
    import ruptures as rpt

    def prep(values):
        x = np.array([v for v in values if v is not None], dtype=float)
        idx = [i for i, v in enumerate(values) if v is not None]
        sd = x.std()
        x = (x - x.mean()) / (sd if sd > 0 else 1.0)
        return x, idx

    def sigma(x):
        d = np.diff(x)
        return 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2) or 1e-3

    def make(algo, model, pen_fn):
        def run(values):
            x, idx = prep(values)
            if len(x) < 4:
                return []
            a = algo(model=model, min_size=2, jump=5).fit(x)
            bk = a.predict(pen=pen_fn(x))
            return [idx[b] for b in bk[:-1]]
        return run

    bic_l2 = lambda x: sigma(x) ** 2 * np.log(len(x))
    mbic = lambda x: 3 * np.log(len(x))
    return {
        "rpt_pelt_l2_bic": make(rpt.Pelt, "l2", bic_l2),
        "rpt_binseg_l2_bic": make(rpt.Binseg, "l2", bic_l2),
        "rpt_pelt_normal_mbic": make(rpt.Pelt, "normal", mbic),
        "rpt_binseg_normal_mbic": make(rpt.Binseg, "normal", mbic),
    }


def score(series, preds):
    f = [metrics.f1(a, preds[name]) for name, _v, a in series]
    c = [metrics.covering(a, preds[name], len(v)) for name, v, a in series]
    return float(np.mean(f)), float(np.mean(c)), f, c


def by_kind(series, rows):
    """Mean F1 / covering per synthetic kind (the name before _<n>_<seed>)."""
    kinds = sorted({name.rsplit("_", 2)[0] for name, _v, _a in series})
    methods = list(rows)
    print(f"\n{'kind':16}" + "".join(f" {m[:22]:>22}" for m in methods))
    for kind in kinds:
        idx = [i for i, (name, _v, _a) in enumerate(series) if name.rsplit("_", 2)[0] == kind]
        cells = "".join(f" {np.mean([rows[m][2][i] for i in idx]):10.3f}/"
                        f"{np.mean([rows[m][3][i] for i in idx]):<11.3f}" for m in methods)
        print(f"{kind:16}{cells}")


def paper_table(series, rows, path):
    """The paper's methods (default parameters, their published per-series
    scores) on exactly the series scored here, beside depeer. A method that
    failed on a series (null) counts 0 there, as a failure does for a user;
    the second pair of columns gives it the 'zero' method's score instead."""
    if os.path.isdir(path):  # TCPDBench's analysis/output/scores as published
        paper = {m: json.load(open(os.path.join(path, f"default_{m}_scores.json")))
                 for m in ("f1", "cover")}
    else:
        paper = json.load(open(path))
    names = [name for name, _v, _a in series]
    ours_zero = dict(zip(names, rows["zero"][2]))
    for name in names:  # the transcription agrees with the metric here
        pz = paper["f1"][name]["zero"]
        assert abs(pz - ours_zero[name]) < 1e-3, (name, pz, ours_zero[name])
    methods = sorted(paper["f1"][names[0]])
    print(f"\nsame {len(names)} TCPD series, the paper's default-parameter runs"
          " (failures as 0 | as 'zero'):")
    print(f"{'method':12} {'F1':>6} {'cover':>6}   {'F1':>6} {'cover':>6}")
    table = []
    for m in methods:
        def mean(metric, fallback):
            vals = []
            for name in names:
                v = paper[metric][name][m]
                vals.append(v if v is not None else (paper[metric][name]["zero"] if fallback else 0.0))
            return float(np.mean(vals))
        table.append((m, mean("f1", False), mean("cover", False), mean("f1", True), mean("cover", True)))
    table.append(("depeer", rows["depeer"][0], rows["depeer"][1], rows["depeer"][0], rows["depeer"][1]))
    for m, f, c, f2, c2 in sorted(table, key=lambda r: -r[1]):
        print(f"{m:12} {f:6.3f} {c:6.3f}   {f2:6.3f} {c2:6.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="detector command, space-separated")
    ap.add_argument("--tcpd-git", help="git dir of a TCPD snapshot")
    ap.add_argument("--seeds", type=int, default=5, help="synthetic seeds per kind and length")
    ap.add_argument("--params", default="", help="key=value ... for detect_many (sweeps)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--per-series", action="store_true")
    ap.add_argument("--paper-scores", help="per-series default scores of the paper's methods: "
                    "TCPDBench's analysis/output/scores directory, or one JSON file "
                    "{f1: {series: {method: x}}, cover: ...}; compared on the same series")
    ap.add_argument("--json", help="write all figures here")
    args = ap.parse_args()
    metrics.selftest()
    sets = {}
    if args.tcpd_git:
        tcpd, multi = load_tcpd(args.tcpd_git)
        sets["tcpd"] = tcpd
        print(f"TCPD: {len(tcpd)} univariate series (multivariate skipped: {', '.join(multi)})")
    if args.seeds > 0:
        sets["synthetic"] = synth.dataset(args.seeds)
    tool = args.tool.split()
    peers = {} if args.no_peers else ruptures_methods()
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for set_name, series in sets.items():
            paths = {name: write_csv(tmp, f"{set_name}_{name}", v) for name, v, _a in series}
            rows = {}
            found = run_depeer(tool, list(paths.values()), args.params.split())
            preds = {name: found[paths[name]][0] for name, _v, _a in series}
            secs = sum(found[paths[name]][1] for name, _v, _a in series)
            rows["depeer"] = (*score(series, preds), secs, preds)
            rows["zero"] = (*score(series, {n: [] for n, _v, _a in series}), 0.0, None)
            for pname, fn in peers.items():
                t0 = time.perf_counter()
                pp = {name: fn(v) for name, v, _a in series}
                rows[pname] = (*score(series, pp), time.perf_counter() - t0, pp)
            print(f"\n{set_name}: {len(series)} series")
            print(f"{'method':26} {'F1':>6} {'cover':>6} {'seconds':>9}")
            for m, (f, c, _fl, _cl, s, _p) in rows.items():
                print(f"{m:26} {f:6.3f} {c:6.3f} {s:9.3f}")
            if set_name == "synthetic":
                by_kind(series, rows)
            if args.per_series:
                print(f"\n{'series':24} {'n':>5} {'F1':>6} {'cover':>6} {'zeroF1':>6}  found / annotated")
                for i, (name, v, a) in enumerate(series):
                    d = rows["depeer"]
                    print(f"{name:24} {len(v):5d} {d[2][i]:6.3f} {d[3][i]:6.3f} "
                          f"{rows['zero'][2][i]:6.3f}  {d[5][name]} / {sorted(set(sum(a, [])))}")
            if set_name == "tcpd" and args.paper_scores:
                paper_table(series, rows, args.paper_scores)
            report[set_name] = {m: {"f1": r[0], "cover": r[1], "seconds": r[4],
                                    "per_series_f1": r[2], "per_series_cover": r[3]}
                                for m, r in rows.items()}
            report[set_name]["series"] = [name for name, _v, _a in series]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
