"""Label-quality scores: how well a given label fits a row of class probabilities.

CROWDLAB rates a label ``y`` of example ``i`` by comparing it with the posterior
``post[i]``. Three scores are available, each in [0, 1], lower meaning the label
is more likely wrong:

* ``"self_confidence"``: ``p_y``, the probability of the given label;
* ``"normalized_margin"``: ``(p_y - max_{k != y} p_k + 1) / 2``;
* ``"confidence_weighted_entropy"``: with ``x = H(p) / p_y``, where ``H`` is the
  entropy normalised by ``log K``, the score is ``log(1 + x) / x`` (``p_y`` and
  the divisor ``x`` are floored at 1e-6, so a row with no uncertainty at all
  scores ``x / 1e-6``, close to 0).

``adjust_pred_probs=True`` accounts for class imbalance: each class's *confident
threshold* ``t_k`` (the mean ``p_k`` over the rows labeled ``k``, at least 2e-6;
2 for a class with no such row) is subtracted, the largest threshold added back, and each row
renormalised: ``p' = (p - t + max(t)) / sum(p - t + max(t))``. Thresholds are
computed within each group of scored rows (for CROWDLAB: per annotator).

Everything is vectorised over the scored (row, label) pairs; rows may repeat
(several annotators label one example).
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

__all__ = ["LABEL_QUALITY_METHODS", "check_label_quality_method", "label_quality_scores"]

LABEL_QUALITY_METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
SCORE_FLOOR = 1e-6  # floor of p_y and of x in confidence_weighted_entropy
NO_LABEL_THRESHOLD = 2.0  # confident threshold of a class no scored row is labeled with
THRESHOLD_FLOOR = 2e-6  # lower bound of a confident threshold
_CHUNK = 1 << 20  # floats per block of the (pairs, K) gather of adjusted margins


def check_label_quality_method(method, adjust_pred_probs):
    """Validate a label-quality method name and its ``adjust_pred_probs`` flag."""
    if not isinstance(method, str) or method not in LABEL_QUALITY_METHODS:
        raise ValueError(
            f"label quality method {method!r} is not supported; use one of "
            f"{list(LABEL_QUALITY_METHODS)}."
        )
    if adjust_pred_probs and method == "confidence_weighted_entropy":
        raise ValueError(
            "adjust_pred_probs=True is not available with the 'confidence_weighted_entropy' "
            "method (the entropy of an adjusted row has no meaning); use 'self_confidence' "
            "or 'normalized_margin', or set adjust_pred_probs=False."
        )
    return method, bool(adjust_pred_probs)


def normalized_entropy(P):
    """Entropy of each row of ``P`` divided by ``log K`` (``0 log 0 = 0``)."""
    return -xlogy(P, P).sum(axis=1) / np.log(P.shape[1])


def _top_two(P):
    """Per row: the largest value, its (first) column, and the second largest value."""
    top = np.argmax(P, axis=1)
    rows = np.arange(P.shape[0])
    first = P[rows, top]
    second = np.partition(P, P.shape[1] - 2, axis=1)[:, -2]
    return first, top, second


def _thresholds(P, rows, labels, groups, n_groups):
    """Confident thresholds ``t[g, k]``: mean ``P[i, k]`` over the pairs of group g labeled k."""
    K = P.shape[1]
    key = groups * K + labels
    size = n_groups * K
    total = np.bincount(key, weights=P[rows, labels], minlength=size)
    count = np.bincount(key, minlength=size)
    t = np.full(size, NO_LABEL_THRESHOLD)
    np.divide(total, count, out=t, where=count > 0)
    np.maximum(t, THRESHOLD_FLOOR, out=t)
    return t.reshape(n_groups, K)


def label_quality_scores(
    P, rows, labels, *, groups=None, n_groups=1, method="self_confidence", adjust_pred_probs=False
):
    """Label-quality score of each (row, label) pair against ``P`` of shape (N, K).

    Parameters
    ----------
    P : ndarray of shape (N, K)
        Class probabilities (rows sum to 1), e.g. the CROWDLAB posterior.
    rows, labels : int ndarrays of shape (n,)
        The scored pairs: ``labels[r]`` (encoded 0..K-1) given to row ``rows[r]``.
    groups : int ndarray of shape (n,), optional
        Group of each pair (0..n_groups-1); confident thresholds of
        ``adjust_pred_probs`` are computed per group. One group by default.
    n_groups : int, default=1
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
    adjust_pred_probs : bool, default=False

    Returns
    -------
    ndarray of shape (n,)
    """
    method, adjust = check_label_quality_method(method, adjust_pred_probs)
    rows = np.asarray(rows, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    K = P.shape[1]
    p_y = P[rows, labels]
    if not adjust:
        if method == "self_confidence":
            return p_y
        if method == "normalized_margin":
            first, top, second = _top_two(P)
            other = np.where(top[rows] == labels, second[rows], first[rows])
            return (p_y - other + 1.0) / 2.0
        x = normalized_entropy(P)[rows] / np.maximum(p_y, SCORE_FLOOR)
        # log(x + 1) rather than log1p(x), as cleanlab computes it: for x below the
        # floor the score is log(x + 1) * 1e6, and the two differ there by ~1e-10.
        return np.log(x + 1.0) / np.maximum(x, SCORE_FLOOR)

    if groups is None:
        groups = np.zeros(rows.shape[0], dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    t = _thresholds(P, rows, labels, groups, n_groups)
    t_max = t.max(axis=1)
    # adjusted row of pair r: (P[rows[r]] - t[g] + t_max[g]) / its sum
    norm = (
        np.einsum("ij->i", P)[rows]
        - np.einsum("ij->i", t)[groups]
        + K * t_max[groups]
    )
    shift = t_max[groups]
    adj_y = p_y - t[groups, labels] + shift
    if method == "self_confidence":
        return adj_y / norm
    # normalized_margin: largest other adjusted entry, gathered in blocks of pairs
    other = np.empty(rows.shape[0])
    step = max(1, _CHUNK // K)
    for lo in range(0, rows.shape[0], step):  # loop over blocks, not pairs
        hi = min(lo + step, rows.shape[0])
        block = P[rows[lo:hi]] - t[groups[lo:hi]]
        block[np.arange(hi - lo), labels[lo:hi]] = -np.inf
        other[lo:hi] = block.max(axis=1) + shift[lo:hi]
    return ((adj_y - other) / norm + 1.0) / 2.0
