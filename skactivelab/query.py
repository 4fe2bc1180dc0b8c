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
from ._validation import check_pred_probs

__all__ = [
    "assign_annotators",
    "entropy_scores",
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


def _check_n_instances(n_instances):
    if isinstance(n_instances, (bool, np.bool_)) or not isinstance(n_instances, numbers.Integral):
        raise TypeError(f"n_instances must be an integer, got {n_instances!r}.")
    if n_instances <= 0:
        raise ValueError(f"n_instances must be >= 1, got {n_instances}.")


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
        _check_n_instances(n_instances)
        return _dask.select_batch(scores, n_instances, candidates, random_state)
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (one score per example), got shape {s.shape}.")
    _check_n_instances(n_instances)
    if candidates is None:
        cand = np.arange(s.shape[0])
    else:
        cand = np.asarray(candidates)
        if cand.dtype == bool:
            if cand.shape != s.shape:
                raise ValueError(
                    f"candidates is a boolean mask of shape {cand.shape} but scores has "
                    f"shape {s.shape}; give one entry per score."
                )
            cand = np.flatnonzero(cand)
        else:
            if cand.ndim != 1 or (cand.size and cand.dtype.kind not in "iu"):
                raise ValueError("candidates must be a 1-D array of integer indices or a boolean mask.")
            cand = cand.astype(np.int64)
            if cand.size and (cand.min() < 0 or cand.max() >= s.shape[0]):
                raise ValueError(
                    f"candidates holds indices outside 0..{s.shape[0] - 1} (the length of scores)."
                )
            if np.unique(cand).size != cand.size:
                raise ValueError("candidates contains duplicate indices; give each index once.")
    if n_instances > cand.size:
        raise ValueError(
            f"n_instances={n_instances} is more than the {cand.size} candidate examples; "
            "ask for fewer or allow more candidates."
        )
    cs = s[cand]
    if np.isnan(cs).any():
        raise ValueError("scores contains NaN at candidate indices; every candidate needs a score.")
    if isinstance(random_state, np.random.Generator):
        tiebreak = random_state.random(cand.size)
    else:
        tiebreak = check_random_state(random_state).random_sample(cand.size)
    order = np.lexsort((tiebreak, cs))[:n_instances]
    return cand[order]


def assign_annotators(quality, eligible, *, max_per_annotator=None):
    """Give each row to the best eligible annotator, optionally capped per annotator.

    Parameters
    ----------
    quality : array-like of shape (n_annotators,)
        Annotator quality (for example CROWDLAB's); NaN ranks last.
    eligible : array-like of bool, shape (n_rows, n_annotators)
        Who may label each row (for example: has not labeled it yet).
    max_per_annotator : int, default=None
        At most this many rows per annotator; rows earlier in the batch choose first.

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
    quality = np.asarray(quality, dtype=np.float64)
    eligible = np.asarray(eligible, dtype=bool)
    n_rows, M = eligible.shape
    order = np.lexsort((np.arange(M), -np.nan_to_num(quality, nan=-np.inf)))  # best first
    who = np.full(n_rows, -1, dtype=np.int64)
    if max_per_annotator is None:
        el = eligible[:, order]
        has = el.any(axis=1)
        who[has] = order[np.argmax(el[has], axis=1)]
        return who
    if max_per_annotator < 1:
        raise ValueError("max_per_annotator must be >= 1 or None.")
    free = np.ones(n_rows, dtype=bool)
    for j in order:  # loop over annotators, each taking up to the cap (not over examples)
        take = np.flatnonzero(free & eligible[:, j])[:max_per_annotator]
        who[take] = j
        free[take] = False
    return who
