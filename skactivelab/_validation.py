"""Checks for predicted probabilities and small shared argument checks."""

from __future__ import annotations

import contextvars
import numbers
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

#: One tolerance for probability rows, in the API and on the command line: a row
#: whose sum is within ROW_SUM_TOL of 1 is renormalised (float32/float16
#: ``predict_proba``, CSV files rounded to a few decimals); a row further off is an
#: error naming it. Rows already summing to 1 within EXACT_TOL are left unchanged.
ROW_SUM_TOL = 0.01
EXACT_TOL = 1e-12


class PredProbsNotNormalisedWarning(UserWarning):
    """Probability rows that do not sum to 1 were used as given (cleanlab-compatible module)."""


# Set by :func:`rows_as_given`: the rows used as given, for one warning.
_AS_GIVEN = contextvars.ContextVar("skactivelab_rows_as_given", default=None)
# Set by :func:`arrays_handed_over`: arrays checked without a copy.
_HANDED_OVER = contextvars.ContextVar("skactivelab_arrays_handed_over", default=())


@contextmanager
def arrays_handed_over(*arrays):
    """Within this context, :func:`normalise_rows` returns each of ``arrays`` itself
    (float64 in C order) instead of a copy when every row passes the rule unchanged,
    i.e. when the copy would be equal bit for bit. The caller hands the arrays over: a
    writeable one may be overwritten by the scoring; a read-only one (``flags.writeable``
    False) stays read-only, so that nothing can write into it. Used by the command
    line, whose arrays are its own and already checked by the same rule."""
    token = _HANDED_OVER.set(tuple(a for a in arrays if a is not None))
    try:
        yield
    finally:
        _HANDED_OVER.reset(token)


def _unchanged_rows(P):
    """True when ``P`` is an array handed over (:func:`arrays_handed_over`), float64 in C
    order, whose rows all pass the rule without a change (one row-sum pass, one
    minimum; nothing is written into ``P``)."""
    if not any(P is a for a in _HANDED_OVER.get()):
        return False
    if P.dtype != np.float64 or not P.flags.c_contiguous or P.ndim == 0 or P.shape[-1] == 0:
        return False
    flat = P.reshape(-1, P.shape[-1])
    sums = np.einsum("ij->i", flat)
    return bool(np.all(np.abs(sums - 1.0) <= EXACT_TOL) and flat.min(initial=0.0) >= 0)


@contextmanager
def rows_as_given():
    """Within this context, probability rows further than ``ROW_SUM_TOL`` from 1 (but
    finite and non-negative) are used as given instead of refused, as cleanlab does;
    yields a list of ``(name, rows)`` for each array so used. Every other check stays."""
    seen = []
    token = _AS_GIVEN.set(seen)
    try:
        yield seen
    finally:
        _AS_GIVEN.reset(token)


def _first(idx, n=10):
    shown = idx[:n].tolist()
    return f"{shown}{' ...' if idx.size > n else ''}"


def normalise_rows(P, *, name="pred_probs"):
    """Checked copy of probability rows, each summing to 1.

    Parameters
    ----------
    P : array-like of shape (..., n_classes)
        Probabilities; the last axis holds the classes. Any real dtype
        (float16 and float32 included).
    name : str, default="pred_probs"
        How error messages call ``P``.

    Returns
    -------
    ndarray of float64, same shape as ``P``
        A new array (never ``P`` itself, unless the caller handed it over:
        :func:`arrays_handed_over`). Rows summing to 1 within 1e-12 are
        unchanged bit for bit; rows within ``ROW_SUM_TOL`` (0.01) of 1 are divided
        by their sum.

    Raises
    ------
    ValueError
        Naming the rows (positions along the second-to-last axis) that hold NaN
        or infinite values, negative values, or sum to something further than
        ``ROW_SUM_TOL`` from 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab._validation import normalise_rows
    >>> normalise_rows(np.array([[0.6, 0.4], [0.333, 0.666]])).round(4).tolist()
    [[0.6, 0.4], [0.3333, 0.6667]]
    """
    if isinstance(P, np.ndarray) and _unchanged_rows(P):
        return P  # handed over by the caller, equal to its copy bit for bit
    try:
        P = np.array(P, dtype=np.float64, copy=True, order="C")  # kernels need C order
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of probabilities ({exc}).") from None
    if P.ndim == 0 or P.shape[-1] == 0:
        raise ValueError(f"{name} must have one column per class, got shape {P.shape}.")
    n_rows = P.shape[-2] if P.ndim >= 2 else 1
    problems = renormalise_rows(P)
    if problems is None:
        return P
    if problems.nonfinite.size:
        raise ValueError(
            f"{name} contains NaN or infinite values in rows {_first(problems.nonfinite % n_rows)}; "
            "predicted probabilities must be finite."
        )
    if problems.negative.size:
        raise ValueError(
            f"{name} contains negative values in rows {_first(problems.negative % n_rows)}; "
            "predicted probabilities must be >= 0 (apply softmax to scores/logits first)."
        )
    as_given = _AS_GIVEN.get()
    if as_given is not None:
        as_given.append((name, problems.off % n_rows))
        return P
    raise ValueError(
        f"{name} rows {_first(problems.off % n_rows)} do not sum to 1 "
        f"(tolerance {ROW_SUM_TOL:g} per row; rows within it are renormalised); pass "
        "probabilities, e.g. from predict_proba, or normalise each row."
    )


class RowProblems(NamedTuple):
    """Rows (flat positions over all axes but the last) that break the probability-row rule."""

    nonfinite: np.ndarray
    negative: np.ndarray
    off: np.ndarray
    sums: np.ndarray


def renormalise_rows(P):
    """The one probability-row rule, applied in place to a float64 array ``P`` (..., K).

    A row is valid when it is finite, non-negative and sums to 1 within
    ``ROW_SUM_TOL`` (0.01). When every row is valid, the rows off by more than
    ``EXACT_TOL`` (1e-12) are divided by their sum (in place: pass your own copy;
    rows already summing to 1 are unchanged bit for bit) and None is returned.
    Otherwise ``P`` is left unchanged and a :class:`RowProblems` names the rows
    that break the rule (positions of ``P.reshape(-1, K)``), with every row's sum,
    for the caller's own message (a file and line, a row number).

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab._validation import renormalise_rows
    >>> P = np.array([[0.333, 0.666], [0.6, 0.4]])
    >>> renormalise_rows(P) is None, P.round(4).tolist()
    (True, [[0.3333, 0.6667], [0.6, 0.4]])
    >>> renormalise_rows(np.array([[0.5, 0.2], [0.6, 0.4]])).off.tolist()
    [0]
    """
    K = P.shape[-1]
    flat = P.reshape(-1, K)
    # Fast path: NaN/inf propagate into the row sums, so one sum and one global
    # minimum decide validity; per-row details are computed only on failure.
    sums = np.einsum("ij->i", flat)
    off = np.abs(sums - 1.0)
    if np.all(np.isfinite(sums)) and flat.min(initial=0.0) >= 0 and np.all(off <= ROW_SUM_TOL):
        fix = np.flatnonzero(off > EXACT_TOL)
        if fix.size:
            flat[fix] /= sums[fix, None]
        return None
    return RowProblems(
        nonfinite=np.flatnonzero(~np.isfinite(flat).all(axis=1)),
        negative=np.flatnonzero((flat < 0).any(axis=1)),
        off=np.flatnonzero(~(off <= ROW_SUM_TOL)),
        sums=sums,
    )


def check_prob_shape(shape, *, name="pred_probs", ndim=2, n_classes=None):
    """Refuse probabilities of the wrong shape: ``ndim`` dimensions (2: (N, K) for one
    model, 3: (E, N, K) for several), at least 2 classes, ``n_classes`` if given
    (the classes of the labeled examples). Also for lazy (Dask) arrays, whose shape
    is known before their values."""
    if len(shape) != ndim:
        kind = "(n_examples, n_classes)" if ndim == 2 else "(n_models, n_examples, n_classes)"
        hint = ""
        if ndim == 2 and len(shape) == 3:
            hint = " For several models use the *_ensemble function."
        elif ndim == 3 and len(shape) == 2:
            hint = " For one model use the non-ensemble function, or stack arrays with np.stack."
        raise ValueError(f"{name} must have {ndim} dimensions {kind}, got shape {shape}.{hint}")
    if ndim == 3 and shape[0] == 0:
        raise ValueError(f"{name} has 0 models (shape {shape}); give the probabilities of at least one "
                         "model, shape (n_models, n_examples, n_classes).")
    K = shape[-1]
    if not np.isfinite(K):
        raise ValueError(
            f"{name} has an unknown number of columns; give a Dask array whose class axis "
            "has a known size (e.g. from a DataFrame with known columns)."
        )
    if K < 2:
        raise ValueError(
            f"{name} has {K} column(s); at least 2 classes are needed (one column per class)."
        )
    if n_classes is not None and K != n_classes:
        raise ValueError(
            f"{name} has {K} classes (columns) but the labeled pred_probs has {n_classes}; "
            "both must use the same classes in the same column order."
        )


def check_pred_probs(pred_probs, *, name="pred_probs", ndim=2, n_classes=None):
    """Validate predicted probabilities; return a float64 array (never the caller's).

    Rows must be finite, non-negative and sum to 1 within ``ROW_SUM_TOL`` (0.01);
    rows off by more than 1e-12 but within the tolerance are renormalised (see
    :func:`normalise_rows`). ``ndim`` is 2 for one model (N, K) and 3 for an
    ensemble (E, N, K).
    """
    if pred_probs is None:
        raise ValueError(f"{name} is None; pass predicted class probabilities.")
    try:
        P = np.asarray(pred_probs)
        if P.dtype.kind in "bcmM":
            raise TypeError(f"dtype {P.dtype} does not hold probabilities")
        if P.dtype.kind not in "iuf":
            P = P.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a numeric array of probabilities ({exc})."
        ) from None
    check_prob_shape(P.shape, name=name, ndim=ndim, n_classes=n_classes)
    return normalise_rows(P, name=name)


def _is_pandas(obj):
    return type(obj).__module__.split(".")[0] == "pandas"


def _default_columns(columns):
    """True when DataFrame columns are just positions 0..K-1 (no class names)."""
    return np.array_equal(np.asarray(columns, dtype=object), np.arange(len(columns)).astype(object))


def _frame_parts(df, name):
    if df.ndim != 2:
        raise ValueError(
            f"{name} is a pandas Series; pass a DataFrame with one column per class "
            "(indexed by example ID), or a 2-D array."
        )
    columns = None if _default_columns(df.columns) else np.asarray(df.columns)
    return df.to_numpy(), df.index, columns


def split_pred_probs(pred_probs, *, name="pred_probs", ndim=2):
    """Separate probabilities from the IDs and class names a DataFrame carries.

    Returns ``(values, index, columns)``: for a DataFrame (or, with ``ndim=3``, a
    list of DataFrames, one per model) ``index`` is its index (the example IDs)
    and ``columns`` its column names unless they are the positions 0..K-1; for
    anything else both are None and ``values`` is ``pred_probs`` unchanged. The
    models of a list are aligned to the first one's index and columns (the same
    IDs and class names are required).
    """
    if _is_pandas(pred_probs):
        if ndim == 3:
            raise ValueError(
                f"{name} for several models: pass a list of DataFrames (one per model, "
                "indexed by example ID) or a 3-D array (n_models, n_examples, n_classes)."
            )
        return _frame_parts(pred_probs, name)
    if ndim == 3 and isinstance(pred_probs, (list, tuple)) and any(_is_pandas(p) for p in pred_probs):
        if not all(_is_pandas(p) and p.ndim == 2 for p in pred_probs):
            raise TypeError(
                f"{name} mixes DataFrames and arrays; pass all models as DataFrames "
                "indexed by example ID, or all as arrays."
            )
        first = pred_probs[0]
        if not first.index.is_unique:
            dup = first.index[first.index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"{name}[0] has duplicate example IDs {dup} in its index.")
        frames = [first]
        for e, df in enumerate(pred_probs[1:], start=1):
            if not (df.index.is_unique and len(df.index) == len(first.index)
                    and df.index.isin(first.index).all()):
                diff = df.index.symmetric_difference(first.index)[:10].tolist()
                raise ValueError(
                    f"{name}[{e}] and {name}[0] do not index the same examples (differing "
                    f"or duplicate IDs {diff}); give every model one row per example."
                )
            if set(df.columns.tolist()) != set(first.columns.tolist()):
                raise ValueError(
                    f"{name}[{e}] has columns {df.columns.tolist()[:10]} but {name}[0] has "
                    f"{first.columns.tolist()[:10]}; give every model the same classes."
                )
            frames.append(df.loc[first.index, first.columns])
        values = np.stack([df.to_numpy() for df in frames])
        columns = None if _default_columns(first.columns) else np.asarray(first.columns)
        return values, first.index, columns
    return pred_probs, None, None


# --------------------------------------------------------------------------- batch selection
def check_n_instances(n_instances):
    """A batch size: an integer >= 1."""
    if isinstance(n_instances, (bool, np.bool_)) or not isinstance(n_instances, numbers.Integral):
        raise TypeError(f"n_instances must be an integer, got {n_instances!r}.")
    if n_instances <= 0:
        raise ValueError(f"n_instances must be >= 1, got {n_instances}.")


def check_candidates(candidates, n):
    """Candidate rows among ``n`` scores: ``(mask, None)`` for a boolean mask of shape
    (n,), ``(None, indices)`` for distinct int64 indices in 0..n-1."""
    cand = np.asarray(candidates)
    if cand.dtype == bool:
        if cand.shape != (n,):
            raise ValueError(
                f"candidates is a boolean mask of shape {cand.shape} but scores has "
                f"shape {(n,)}; give one entry per score."
            )
        return cand, None
    if cand.ndim != 1 or (cand.size and cand.dtype.kind not in "iu"):
        raise ValueError("candidates must be a 1-D array of integer indices or a boolean mask.")
    cand = cand.astype(np.int64)
    if cand.size and (cand.min() < 0 or cand.max() >= n):
        raise ValueError(f"candidates holds indices outside 0..{n - 1} (the length of scores).")
    if np.unique(cand).size != cand.size:
        raise ValueError("candidates contains duplicate indices; give each index once.")
    return None, cand


def check_batch(n_instances, n_candidates):
    """A batch no larger than the candidates."""
    if n_instances > n_candidates:
        raise ValueError(
            f"n_instances={n_instances} is more than the {n_candidates} candidate examples; "
            "ask for fewer or allow more candidates."
        )


def check_candidate_scores(scores):
    """Every candidate has a score (no NaN)."""
    if np.isnan(scores).any():
        raise ValueError("scores contains NaN at candidate indices; every candidate needs a score.")
