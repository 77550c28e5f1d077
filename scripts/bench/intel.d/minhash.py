#!/usr/bin/env python3
"""MinHash side by side: depeer's content fingerprint against the `datasketch`
package (PyPI) on the same texts, the same shingles and the same parameters
(16 permutations / slots, word 3-shingles). Run by scripts/bench/intel.

  minhash.py SPAM_DIR WORKDIR DEPEER_EXAMPLE [--variants N] [--rounds R]

Texts: the text/plain and text/html parts of the real spam under SPAM_DIR
(../shared/data/spam), decoded, plus for each one edited copies (a share p of
its words replaced by random letter words, p in 0.02..0.9) so that pairs
cover the whole range of Jaccard similarity. Both sides see the same UTF-8
bytes. Shingles (as depeer's fingerprint makes them, crates/depeer-mail
src/fingerprint): words = maximal runs of ASCII letters, digits and non-ASCII
bytes; longer than 40 bytes dropped; ASCII-lowercased; digit runs -> "0"; at
most 20,000 words; consecutive triples. Texts with fewer than 3 words are
left out (depeer then hashes the words themselves).

Speed: depeer's example computes text -> words -> shingles -> signature
(one thread, best of R rounds). datasketch gets its shingle lists made in
advance, untimed, and is timed on MinHash.bulk(..., num_perm=16) alone (one
process, best of R): the comparison favours datasketch.

Accuracy: for every (text, edited copy) pair and as many (text, other text)
pairs, the exact Jaccard of the shingle sets against each side's estimate;
error statistics per band of exact Jaccard. Target "the same estimates
within its error": in every band depeer's rmse is at most 1.1 x
datasketch's and depeer's bias (mean estimate - exact) under a tenth of
datasketch's rmse. The two are independent estimators, so the mean
|depeer - datasketch| per pair is about sqrt(2) x the rmse, as shown.
"""
import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import time
from email import message_from_bytes, policy

WORD = re.compile(rb"[A-Za-z0-9\x80-\xff]+")
DIGITS = re.compile(rb"[0-9]+")


def shingles(text: bytes):
    words = []
    for w in WORD.findall(text):
        if len(w) > 40:
            continue
        words.append(DIGITS.sub(b"0", w.lower()))
        if len(words) >= 20000:
            break
    return [b" ".join(words[i:i + 3]) for i in range(len(words) - 2)]


def bodies(path):
    """Decoded text parts of every message under path (files and mboxes)."""
    files = []
    for root, _, names in os.walk(path):
        files += [os.path.join(root, n) for n in sorted(names)]
    for f in sorted(files):
        if f.endswith((".md", ".txt.gz")) or os.path.basename(f).startswith(("README", "SHA256")):
            continue
        raw = open(f, "rb").read()
        msgs = re.split(rb"\n(?=From \S+ )", raw) if raw.startswith(b"From ") else [raw]
        for m in msgs:
            try:
                msg = message_from_bytes(m, policy=policy.compat32)
            except Exception:
                continue
            parts = []
            for part in msg.walk():
                if part.get_content_maintype() != "text":
                    continue
                try:
                    payload = part.get_payload(decode=True)
                except Exception:
                    payload = None
                if payload:
                    cs = part.get_content_charset() or "latin-1"
                    try:
                        parts.append(payload.decode(cs, errors="replace"))
                    except LookupError:
                        parts.append(payload.decode("latin-1"))
            text = "\n".join(parts).replace("\x00", " ")
            if text.strip():
                yield text


def edit(text: str, p: float, rng: random.Random) -> str:
    toks = text.split(" ")
    for i in range(len(toks)):
        if rng.random() < p:
            toks[i] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
    return " ".join(toks)


def jaccard(a, b):
    u = len(a | b)
    return len(a & b) / u if u else 1.0


def main():
    spam, work, example = sys.argv[1:4]
    opts = dict(zip(sys.argv[4::2], sys.argv[5::2]))
    variants = [0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.9][: int(opts.get("--variants", 8))]
    rounds = int(opts.get("--rounds", 3))
    rng = random.Random(20081111)
    from datasketch import MinHash
    import datasketch

    base = [t for t in bodies(spam) if len(shingles(t.encode())) >= 1]
    texts, pairs = [], []
    for t in base:
        i = len(texts)
        texts.append(t)
        for p in variants:
            pairs.append((i, len(texts)))
            texts.append(edit(t, p, rng))
    nb = len(base)
    # As many pairs of unrelated texts (mostly near 0, some shared boilerplate).
    idx = [i for i in range(len(texts)) if i % (len(variants) + 1) == 0]
    for _ in range(nb):
        a, b = rng.sample(idx, 2)
        pairs.append((a, b))
    enc = [t.encode("utf-8") for t in texts]
    sh = [shingles(e) for e in enc]
    keep = {i for i, s in enumerate(sh) if len(s) >= 1}
    pairs = [(a, b) for a, b in pairs if a in keep and b in keep]
    os.makedirs(work, exist_ok=True)
    tpath, spath = os.path.join(work, "texts.bin"), os.path.join(work, "sigs.txt")
    with open(tpath, "wb") as f:
        for e in enc:
            f.write(struct.pack("<I", len(e)))
            f.write(e)
    total_mb = sum(map(len, enc)) / 1e6
    nsh = sum(map(len, sh))

    out = subprocess.run([example, tpath, spath, "--rounds", str(rounds)], check=True,
                         capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    d_secs = float(out.stdout.strip())
    dsigs = [bytes.fromhex(l.strip()) for l in open(spath)]
    assert len(dsigs) == len(texts), (len(dsigs), len(texts))

    best = math.inf
    for _ in range(rounds):
        t0 = time.perf_counter()
        mh = MinHash.bulk(sh, num_perm=16, seed=1)
        best = min(best, time.perf_counter() - t0)
    ds_ver = getattr(datasketch, "__version__", "?")
    print(f"texts {len(texts)} ({nb} real spam bodies + {len(variants)} edited copies each), "
          f"{total_mb:.1f} MB, {nsh} shingles")
    print(f"depeer Fingerprinter   {d_secs:8.3f} s  {len(texts) / d_secs:10.0f} texts/s  "
          f"(text -> signature, 1 thread, best of {rounds})")
    print(f"datasketch {ds_ver:<10}  {best:8.3f} s  {len(texts) / best:10.0f} texts/s  "
          f"(MinHash.bulk on ready shingles, num_perm=16, 1 process, best of {rounds})")
    print(f"speed ratio            {best / d_secs:8.1f} x  (target >= 20 x)")

    def dest(a, b):
        x, y = dsigs[a], dsigs[b]
        return sum(x[k:k + 4] == y[k:k + 4] for k in range(0, 64, 4)) / 16

    sets = {}
    rows = []
    for a, b in pairs:
        for i in (a, b):
            if i not in sets:
                sets[i] = set(sh[i])
        j = jaccard(sets[a], sets[b])
        rows.append((j, dest(a, b), mh[a].jaccard(mh[b])))
    bands = [(0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)]
    print(f"accuracy on {len(rows)} pairs: estimate - exact Jaccard (16 slots: binomial sd "
          f"sqrt(J(1-J)/16) <= 0.125)")
    print("  exact J     pairs   depeer bias   rmse   datasketch bias   rmse   theory rmse   "
          "|depeer-datasketch| mean")
    summary = {"pairs": len(rows), "bands": []}
    worst, bad = 0.0, 0
    for lo, hi in bands:
        r = [x for x in rows if lo <= x[0] < hi]
        if not r:
            continue
        n = len(r)
        db = sum(x[1] - x[0] for x in r) / n
        dr = math.sqrt(sum((x[1] - x[0]) ** 2 for x in r) / n)
        sb = sum(x[2] - x[0] for x in r) / n
        sr = math.sqrt(sum((x[2] - x[0]) ** 2 for x in r) / n)
        th = math.sqrt(sum(x[0] * (1 - x[0]) / 16 for x in r) / n)
        gap = sum(abs(x[1] - x[2]) for x in r) / n
        # "Within its error": per band, depeer's rmse at most 1.1 x
        # datasketch's, and its bias under a tenth of datasketch's rmse.
        ok_band = dr <= 1.1 * sr and abs(db) <= 0.1 * sr
        worst = max(worst, dr / sr if sr else 0)
        bad += not ok_band
        print(f"  {lo:.1f}-{min(hi, 1.0):.1f}  {n:8d}   {db:+.4f}     {dr:.4f}      {sb:+.4f}       "
              f"{sr:.4f}      {th:.4f}        {gap:.4f}")
        summary["bands"].append({"lo": lo, "hi": min(hi, 1.0), "pairs": n, "depeer_bias": db,
                                 "depeer_rmse": dr, "datasketch_bias": sb, "datasketch_rmse": sr,
                                 "theory_rmse": th})
    n = len(rows)
    dr = math.sqrt(sum((x[1] - x[0]) ** 2 for x in rows) / n)
    sr = math.sqrt(sum((x[2] - x[0]) ** 2 for x in rows) / n)
    print(f"  all       {n:8d}   rmse depeer {dr:.4f}  datasketch {sr:.4f}  (ratio {dr / sr:.2f}); "
          f"worst band rmse ratio {worst:.2f}")
    ok_speed = best / d_secs >= 20
    ok_acc = dr <= sr * 1.1 and bad == 0
    print(f"targets: speed {'met' if ok_speed else 'MISSED'}; estimates "
          f"{'within datasketch error' if ok_acc else 'NOT within datasketch error'}")
    summary.update({"texts": len(texts), "depeer_s": d_secs, "datasketch_s": best,
                    "ratio": best / d_secs, "depeer_rmse": dr, "datasketch_rmse": sr})
    with open(os.path.join(work, "minhash.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return 0 if ok_speed and ok_acc else 1


if __name__ == "__main__":
    sys.exit(main())
