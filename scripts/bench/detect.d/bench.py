"""Time of change-point detection per series, depeer against ruptures on
the same series (see scripts/bench/detect)."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "score", "detect.d"))
import synth  # noqa: E402


def best_of(k, fn):
    best = float("inf")
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--lengths", default="100,1000,5000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import ruptures as rpt

    import warnings
    warnings.filterwarnings("ignore")
    kinds = ["level", "noise", "counts", "seasonal"]
    print(f"{'n':>6} {'series':>6} {'depeer ms':>10} {'1st call ms':>12} {'process ms':>11} "
          f"{'pelt l2 ms':>11} {'binseg l2 ms':>12} {'pelt normal ms':>15} {'binseg normal ms':>17}"
          f" {'x fastest':>10} {'x best-scoring':>15} {'x (1st call)':>13}")
    worst_ratio = float("inf")
    worst_best = float("inf")
    worst_first = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.lengths.split(",")]:
            series = [synth.make(k, n, 7)[0] for k in kinds]
            paths = []
            for i, x in enumerate(series):
                p = os.path.join(tmp, f"s{n}_{i}.csv")
                with open(p, "w") as f:
                    f.write("value\n" + "\n".join(repr(float(v)) for v in x) + "\n")
                paths.append(p)
            # In-process time of the library call (detect_many reports it):
            # each series the best of --repeat calls in one process, as
            # ruptures is timed below (best of --repeat runs in one
            # interpreter); and, apart, each series' first call in a fresh
            # process (cold caches and page faults: what one `depeer detect`
            # pays), best of --repeat processes.
            def lib_time(extra):
                best = float("inf")
                for _ in range(args.repeat):
                    out = subprocess.run([args.tool] + extra + paths, check=True,
                                         capture_output=True, text=True).stdout
                    best = min(best, sum(float(line.split("\t")[3])
                                         for line in out.splitlines()))
                return best / len(series)
            lib_s = lib_time([f"repeat={args.repeat}"])
            first_s = lib_time([])
            proc_s = best_of(args.repeat, lambda: subprocess.run(
                [args.tool] + paths, check=True, capture_output=True)) / len(series)

            def peer(algo, model, pen):
                def run():
                    for x in series:
                        z = (x - x.mean()) / (x.std() or 1.0)
                        algo(model=model, min_size=2, jump=5).fit(z).predict(pen=pen(z))
                return best_of(args.repeat if n <= 1000 else 1, run) / len(series)

            bic = lambda z: np.log(len(z)) * 1.0
            pelt_l2 = peer(rpt.Pelt, "l2", bic)
            binseg_l2 = peer(rpt.Binseg, "l2", bic)
            pelt_normal = peer(rpt.Pelt, "normal", lambda z: 3 * np.log(len(z)))
            binseg_normal = peer(rpt.Binseg, "normal", lambda z: 3 * np.log(len(z)))
            fastest = min(pelt_l2, binseg_l2, pelt_normal, binseg_normal)
            ratio = fastest / lib_s
            # Binseg with the normal cost scores best of the ruptures
            # methods in scripts/score/detect (F1 and covering, both sets).
            best = binseg_normal / lib_s
            best_first = binseg_normal / first_s
            worst_ratio = min(worst_ratio, ratio)
            worst_best = min(worst_best, best)
            worst_first = min(worst_first, best_first)
            print(f"{n:6d} {len(series):6d} {lib_s * 1e3:10.4f} {first_s * 1e3:12.4f} "
                  f"{proc_s * 1e3:11.3f} "
                  f"{pelt_l2 * 1e3:11.3f} {binseg_l2 * 1e3:12.3f} {pelt_normal * 1e3:15.3f} "
                  f"{binseg_normal * 1e3:17.3f} {ratio:9.0f}x {best:14.0f}x {best_first:12.0f}x")
    print(f"\ndepeer (library call) against ruptures' best-scoring method (Binseg, normal cost): "
          f"at least {worst_best:.0f}x; against its fastest method at each length: at least "
          f"{worst_ratio:.0f}x (target >= 50x); first call in a fresh process against "
          f"Binseg normal: at least {worst_first:.0f}x")
    return 0 if worst_best >= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
