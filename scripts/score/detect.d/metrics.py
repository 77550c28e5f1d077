"""F1 with a margin and segmentation covering, as defined in van den Burg &
Williams (2020), "An Evaluation of Change Point Detection Algorithms", §4.

Written from the paper's definitions (and checked against the values its
metrics doctests state, see selftest()):
- every set of change points, annotated or predicted, includes index 0;
- a prediction is a true positive for a set of true points when it is the
  closest unused prediction within `margin` of one of them (no double
  counting);
- precision uses the union of all annotators' points, recall is the mean
  over annotators of their own recall, F1 = harmonic mean;
- covering is the mean over annotators of Arbelaez et al.'s covering of the
  annotator's segmentation by the predicted one.
"""


def _true_positives(truth, pred, margin):
    left = set(pred)
    hits = 0
    for tau in sorted(truth):
        near = sorted((abs(tau - x), x) for x in left if abs(tau - x) <= margin)
        if near:
            hits += 1
            left.discard(near[0][1])
    return hits


def f1(annotations, predictions, margin=5):
    """annotations: list of lists of 0-based indices (one per annotator)."""
    sets = [set(a) | {0} for a in annotations]
    pred = set(predictions) | {0}
    union = set().union(*sets)
    p = _true_positives(union, pred, margin) / len(pred)
    r = sum(_true_positives(s, pred, margin) / len(s) for s in sets) / len(sets)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _segments(cps, n):
    bounds = sorted({c for c in cps if 0 < c < n})
    starts = [0] + bounds
    ends = bounds + [n]
    return list(zip(starts, ends))


def _cover_single(pred_segs, true_segs, n):
    total = 0.0
    for a, b in true_segs:
        best = 0.0
        for c, d in pred_segs:
            inter = max(0, min(b, d) - max(a, c))
            if inter == 0:
                continue
            union = max(b, d) - min(a, c)
            best = max(best, inter / union)
        total += (b - a) * best
    return total / n


def covering(annotations, predictions, n):
    pred = _segments(predictions, n)
    return sum(_cover_single(pred, _segments(a, n), n) for a in annotations) / len(annotations)


def selftest():
    """The values stated in the paper's reference implementation."""
    close = lambda a, b: abs(a - b) < 1e-12
    assert close(f1([[10, 20], [11, 20], [10], [0, 5]], [10, 20]), 1.0)
    assert close(f1([[], [10], [50]], [10]), 0.9090909090909091)
    assert close(f1([[], [10], [50]], []), 0.8)
    assert close(covering([[10, 20], [10], [0, 5]], [10, 20], 45), 0.7962962962962963)
    assert close(covering([[], [10], [40]], [10], 45), 0.7954144620811286)
    assert close(covering([[], [10], [40]], [], 45), 0.8189300411522634)


if __name__ == "__main__":
    selftest()
    print("metrics selftest ok")
