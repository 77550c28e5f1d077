"""A varied synthetic set of annotated series (truth = where the generating
process changes), seeded so every run scores the same series.

Kinds: level shifts, variance changes, a straight trend (no change), a trend
whose slope changes, seasonality with a level shift, isolated outliers with
and without a level shift, Poisson counts whose rate changes, white noise;
lengths from 20 to 5,000.
"""
import zlib

import numpy as np

LENGTHS = [20, 50, 100, 300, 1000, 5000]
KINDS = ["level", "variance", "trend", "kink", "seasonal", "outliers",
         "outliers_level", "counts", "noise"]


def _cps(rng, n, k, min_gap):
    """k change points at least min_gap apart and from the ends."""
    min_gap = max(3, min(min_gap, n // (k + 1)))
    for _ in range(1000):
        c = sorted(rng.choice(np.arange(min_gap, n - min_gap + 1), size=k, replace=False))
        if all(b - a >= min_gap for a, b in zip(c, c[1:])):
            return [int(x) for x in c]
    return []


def make(kind, n, seed):
    rng = np.random.default_rng(seed)
    gap = max(5, n // 10)
    kmax = 1 if n < 50 else 3
    t = np.arange(n, dtype=float)
    noise = rng.normal(0, 1, n)
    if kind == "level":
        cps = _cps(rng, n, int(rng.integers(1, kmax + 1)), gap)
        x = noise.copy()
        level = 0.0
        for c in cps:
            level += rng.choice([-1, 1]) * rng.uniform(2.5, 6)
            x[c:] += level - (x[c - 1] - noise[c - 1])
        return x, cps
    if kind == "variance":
        cps = _cps(rng, n, 1, gap)
        s = np.ones(n)
        s[cps[0]:] = rng.choice([1 / 4.0, 4.0])
        return noise * s, cps
    if kind == "trend":
        return noise + t * rng.uniform(-1, 1) * 10 / n * rng.uniform(1, 5), []
    if kind == "kink":
        cps = _cps(rng, n, 1, max(gap, n // 4))
        s1 = rng.uniform(-1, 1) * 20 / n
        s2 = s1 + rng.choice([-1, 1]) * rng.uniform(40, 80) / n
        c = cps[0]
        x = np.where(t < c, s1 * t, s1 * c + s2 * (t - c))
        return x + noise, cps
    if kind == "seasonal":
        period = 12
        cps = _cps(rng, n, 1, max(gap, period))
        x = 3 * np.sin(2 * np.pi * t / period + rng.uniform(0, 6)) + noise
        x[cps[0]:] += rng.choice([-1, 1]) * rng.uniform(4, 8)
        return x, cps
    if kind in ("outliers", "outliers_level"):
        x = noise.copy()
        cps = []
        if kind == "outliers_level":
            cps = _cps(rng, n, 1, gap)
            x[cps[0]:] += rng.choice([-1, 1]) * rng.uniform(3, 6)
        k = max(1, n // 50)
        idx = rng.choice(n, size=k, replace=False)
        x[idx] += rng.choice([-1, 1], size=k) * rng.uniform(8, 20, size=k)
        return x, cps
    if kind == "counts":
        cps = _cps(rng, n, int(rng.integers(1, kmax + 1)), gap)
        rate = np.full(n, rng.uniform(2, 20))
        for c in cps:
            rate[c:] = rate[c - 1] * rng.choice([0.33, 3.0])
        return rng.poisson(rate).astype(float), cps
    if kind == "noise":
        return noise, []
    raise ValueError(kind)


def dataset(seeds):
    """[(name, values, [truth])] over every kind, length and seed."""
    out = []
    for kind in KINDS:
        for n in LENGTHS:
            for s in range(seeds):
                x, cps = make(kind, n, zlib.crc32(f"{kind}/{n}/{s}".encode()))
                out.append((f"{kind}_{n}_{s}", [float(v) for v in x], [cps]))
    return out
