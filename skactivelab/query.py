"""Model-only query scores and batch selection for active learning.

Every score here follows the ActiveLab convention: **lower means query first**,
so the scores of :func:`uncertainty_scores`, :func:`margin_scores`,
:func:`entropy_scores` and :func:`skactivelab.get_active_learning_scores` can be
passed to the same :func:`select_batch`. Scores and selection stay separate so
one score serves a modAL strategy, the meta-estimator and the command line.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import entr
from sklearn.utils import check_random_state

from . import _dask
from ._validation import (check_batch, check_candidate_scores, check_candidates, check_n_instances,
                          check_pred_probs)

__all__ = [
    "RunningTopK",
    "assign_annotators",
    "entropy_scores",
    "lowest",
    "margin_scores",
    "select_batch",
    "uncertainty_scores",
]


def uncertainty_scores(pred_probs):
    """Least-confidence scores: the largest predicted probability of each example.

    Parameters
    ----------
    pred_probs : array-like of shape (n_examples, n_classes)
        Predicted class probabilities (rows sum to 1).

    Returns
    -------
    ndarray of shape (n_examples,)
        ``max_k pred_probs[i, k]``, in ``[1/K, 1]``; lower = less confident =
        query first.

    Examples
    --------
    >>> from skactivelab.query import uncertainty_scores
    >>> uncertainty_scores([[0.5, 0.5], [0.9, 0.1]]).tolist()
    [0.5, 0.9]
    """
    if _dask.is_dask_collection(pred_probs):
        return _dask.model_scores(uncertainty_scores, pred_probs)
    P = check_pred_probs(pred_probs)
    return P.max(axis=1)


def margin_scores(pred_probs):
    """Margin scores: largest minus second largest predicted probability.

    Parameters
    ----------
    pred_probs : array-like of shape (n_examples, n_classes)

    Returns
    -------
    ndarray of shape (n_examples,)
        In ``[0, 1]``; lower = the two most likely classes are closer = query first.

    Examples
    --------
    >>> from skactivelab.query import margin_scores
    >>> margin_scores([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]]).round(2).tolist()
    [0.2, 0.85]
    """
    if _dask.is_dask_collection(pred_probs):
        return _dask.model_scores(margin_scores, pred_probs)
    P = check_pred_probs(pred_probs)
    top2 = np.partition(P, P.shape[1] - 2, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def entropy_scores(pred_probs):
    """Entropy scores: one minus the normalised entropy of the predicted probabilities.

    Parameters
    ----------
    pred_probs : array-like of shape (n_examples, n_classes)

    Returns
    -------
    ndarray of shape (n_examples,)
        ``1 - H(p_i) / log(K)`` in ``[0, 1]`` (``0 log 0 = 0``); 0 for a uniform
        row, 1 for a one-hot row. Lower = higher entropy = query first.

    Examples
    --------
    >>> from skactivelab.query import entropy_scores
    >>> entropy_scores([[0.5, 0.5], [1.0, 0.0]]).tolist()
    [0.0, 1.0]
    """
    if _dask.is_dask_collection(pred_probs):
        return _dask.model_scores(entropy_scores, pred_probs)
    P = check_pred_probs(pred_probs)
    return 1.0 - entr(P).sum(axis=1) / np.log(P.shape[1])


def select_batch(scores, n_instances, *, candidates=None, random_state=None):
    """Indices of the ``n_instances`` lowest scores, ties broken at random.

    Parameters
    ----------
    scores : array-like of shape (n_examples,)
        Any score where lower means query first.
    n_instances : int
        How many indices to return (>= 1).
    candidates : array-like of int or bool, optional
        Restrict the choice to these indices into ``scores`` (or to the True
        entries of a boolean mask of length ``n_examples``). Default: all.
    random_state : int, RandomState instance, numpy Generator or None, default=None
        Seeds the random order among equal scores.

    Returns
    -------
    ndarray of int64, shape (n_instances,)
        Distinct indices into ``scores``, lowest score first.

    Examples
    --------
    >>> from skactivelab.query import select_batch
    >>> select_batch([0.3, 0.1, 0.9, 0.2], 2).tolist()
    [1, 3]
    >>> select_batch([0.3, 0.1, 0.9, 0.2], 2, candidates=[0, 2]).tolist()
    [0, 2]
    """
    if _dask.is_dask_collection(scores):
        check_n_instances(n_instances)
        return _dask.select_batch(scores, n_instances, candidates, random_state)
    s = _numbers(scores, "scores", "one score per example")
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (one score per example), got shape {s.shape}.")
    check_n_instances(n_instances)
    if candidates is None:
        cand = np.arange(s.shape[0])
    else:
        mask, cand = check_candidates(candidates, s.shape[0])
        if mask is not None:
            cand = np.flatnonzero(mask)
    check_batch(n_instances, cand.size)
    cs = s[cand]
    check_candidate_scores(cs)
    if isinstance(random_state, np.random.Generator):
        tiebreak = random_state.random(cand.size)
    else:
        tiebreak = check_random_state(random_state).random_sample(cand.size)
    order = np.lexsort((tiebreak, cs))[:n_instances]
    return cand[order]


def lowest(scores, positions, n, tiebreak=None):
    """Indices of the ``n`` lowest ``scores`` ordered by (score, tiebreak, position).

    The order of :func:`select_batch` (``tiebreak`` given: one seeded draw per
    candidate) or of a stable sort by position (``tiebreak`` None). Selects with
    ``np.partition`` first, so a chunk of a million rows costs one pass, not a sort.
    """
    scores, positions, tiebreak = _check_lowest(scores, positions, n, tiebreak)
    m = scores.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if m > n:
        bound = np.partition(scores, n - 1)[n - 1]
        sub = np.flatnonzero(scores <= bound)  # every tie of the n-th lowest stays in
    else:
        sub = np.arange(m)
    keys = (positions[sub], scores[sub]) if tiebreak is None else (positions[sub], tiebreak[sub], scores[sub])
    return sub[np.lexsort(keys)[:n]]


def _numbers(values, name, what):
    """``values`` as a float64 array, or a TypeError naming ``name`` (never NumPy's message)."""
    if values is None:
        raise TypeError(f"{name} is None; give an array of numbers ({what}).")
    a = np.asarray(values)
    if a.dtype.kind == "O":  # Python numbers (None: NaN); anything else is refused below
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers ({what}), got dtype {a.dtype}.")
    return a.astype(np.float64, copy=False)


def _check_count(n, name, minimum, *, or_none=""):
    """An integer count >= ``minimum`` (bools and floats such as 2.0 refused); ``or_none``
    names what None means where None is allowed too."""
    allowed = f"an integer >= {minimum}" + (f" or None ({or_none})" if or_none else "")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {n!r}.")
    if n < minimum:
        raise ValueError(f"{name} must be {allowed}, got {n}.")
    return int(n)


def _check_lowest(scores, positions, n, tiebreak):
    """The arrays of :func:`lowest`, checked: one score, position (and tie-break) per row."""
    scores = _numbers(scores, "scores", "one score per row")
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D (one score per row), got shape {scores.shape}.")
    _check_count(n, "n", 0)
    positions = np.asarray(positions)
    if positions.shape != scores.shape or (positions.size and positions.dtype.kind not in "iu"):
        raise ValueError(f"positions must be integers, one per score (shape {scores.shape}), got dtype "
                         f"{positions.dtype} and shape {positions.shape}.")
    if tiebreak is not None:
        tiebreak = _numbers(tiebreak, "tiebreak", "one draw per row")
        if tiebreak.shape != scores.shape:
            raise ValueError(f"tiebreak must have one draw per score (shape {scores.shape}), "
                             f"got shape {tiebreak.shape}.")
    return scores, positions, tiebreak


class RunningTopK:
    """The ``n`` lowest scores of a stream of chunks, with their positions and payload.

    Feed chunks in any order with :meth:`add`; the result depends only on the
    rows seen, never on how they were chunked or in which order the chunks came:
    rows are ordered by (score, tie-break, position), the tie-break being optional
    (None: ties keep the order of positions). A pool too large for memory (or
    streamed from files) is scored chunk by chunk and the batch kept here.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab.query import RunningTopK
    >>> top = RunningTopK(2)
    >>> top.add(np.array([0.5, 0.1]), np.array([0, 1]), np.array(["a", "b"], dtype=object))
    >>> top.add(np.array([0.1, 0.9]), np.array([2, 3]), np.array(["c", "d"], dtype=object))
    >>> top.payload.tolist(), top.positions.tolist()
    (['b', 'c'], [1, 2])
    """

    def __init__(self, n):
        self.n = _check_count(n, "n", 1)
        self.scores = np.empty(0)
        self.positions = np.empty(0, dtype=np.int64)
        self.tiebreak = None
        self.payload = np.empty(0, dtype=object)

    def add(self, scores, positions, payload, tiebreak=None):
        """Merge a chunk's ``scores`` (their global ``positions``, ``payload`` per row).

        ``tiebreak`` (one draw per row) is given with every chunk or with none."""
        scores, positions, tiebreak = _check_lowest(scores, positions, self.n, tiebreak)
        payload = np.asarray(payload, dtype=object)
        if payload.shape[:1] != scores.shape:
            raise ValueError(f"payload must have one entry per score ({scores.shape[0]}), got shape "
                             f"{payload.shape}.")
        if self.positions.size and (tiebreak is None) != (self.tiebreak is None):
            raise ValueError("tiebreak is given for some chunks but not for others; give it with every "
                             "chunk (seeded draws) or with none (ties keep the order of positions).")
        scores = np.concatenate([self.scores, scores])
        positions = np.concatenate([self.positions, positions.astype(np.int64, copy=False)])
        payload = np.concatenate([self.payload, payload])
        if tiebreak is not None:
            tiebreak = np.concatenate([np.empty(0) if self.tiebreak is None else self.tiebreak, tiebreak])
        keep = lowest(scores, positions, self.n, tiebreak)
        self.scores, self.positions, self.payload = scores[keep], positions[keep], payload[keep]
        self.tiebreak = None if tiebreak is None else tiebreak[keep]

    def in_position_order(self):
        """``(positions, scores, payload)`` of the kept rows, by position."""
        order = np.argsort(self.positions, kind="stable")
        return self.positions[order], self.scores[order], self.payload[order]


def assign_annotators(quality, eligible, *, max_per_annotator=None):
    """Give each row to the best eligible annotator, optionally capped per annotator.

    Parameters
    ----------
    quality : array-like of shape (n_annotators,)
        Annotator quality (for example CROWDLAB's), one finite number per
        column of ``eligible``; NaN (unknown) ranks last.
    eligible : array-like of bool, shape (n_rows, n_annotators)
        Who may label each row (for example: has not labeled it yet); True/False
        or 1/0.
    max_per_annotator : int >= 1, default=None
        At most this many rows per annotator; rows earlier in the batch choose
        first. None: no cap.

    Returns
    -------
    ndarray of int, shape (n_rows,)
        Column of the chosen annotator per row, -1 where nobody is eligible.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab.query import assign_annotators
    >>> assign_annotators([0.9, 0.5], np.ones((3, 2), bool), max_per_annotator=2).tolist()
    [0, 0, 1]
    """
    quality, eligible = _check_assignment(quality, eligible, max_per_annotator)
    n_rows, M = eligible.shape
    order = np.lexsort((np.arange(M), -np.nan_to_num(quality, nan=-np.inf)))  # best first
    who = np.full(n_rows, -1, dtype=np.int64)
    if max_per_annotator is None:
        el = eligible[:, order]
        has = el.any(axis=1)
        if has.any():
            who[has] = order[np.argmax(el[has], axis=1)]
        return who
    free = np.ones(n_rows, dtype=bool)
    for j in order:  # loop over annotators, each taking up to the cap (not over examples)
        take = np.flatnonzero(free & eligible[:, j])[:max_per_annotator]
        who[take] = j
        free[take] = False
    return who


def _check_assignment(quality, eligible, max_per_annotator):
    """The inputs of :func:`assign_annotators`, checked: ``quality`` as float64 (one finite
    number or NaN per annotator), ``eligible`` as a boolean (n_rows, n_annotators) array."""
    if max_per_annotator is not None:
        _check_count(max_per_annotator, "max_per_annotator", 1, or_none="no cap")
    if eligible is None:
        raise TypeError("eligible is None; give a boolean array (n_rows, n_annotators), True where "
                        "the annotator may label the row.")
    el = np.asarray(eligible)
    if el.ndim != 2:
        raise ValueError(f"eligible must be 2-D (n_rows, n_annotators), got shape {el.shape}; for one row "
                         "use eligible[None, :].")
    if el.dtype != bool:
        el = _numbers(el, "eligible", "True/False or 1/0 per row and annotator")
        if not np.isin(el, (0, 1)).all():
            raise ValueError("eligible must hold True/False (or 1/0) only; found other values "
                             f"({np.unique(el[~np.isin(el, (0, 1))])[:5].tolist()}).")
        el = el.astype(bool)
    q = _numbers(quality, "quality", "one per annotator, NaN where unknown")
    if q.ndim != 1 or q.shape[0] != el.shape[1]:
        raise ValueError(f"quality must be 1-D with one entry per column of eligible ({el.shape[1]} "
                         f"annotators), got shape {q.shape}; give the annotators in the same order.")
    if np.isinf(q).any():
        raise ValueError("quality holds infinite values; give finite numbers (NaN for an annotator "
                         "whose quality is unknown, who ranks last).")
    return q, el
