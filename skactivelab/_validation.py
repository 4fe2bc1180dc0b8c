"""Checks for predicted probabilities and small shared argument checks."""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp

ROW_SUM_TOL = 1e-6


def _first(idx, n=10):
    shown = idx[:n].tolist()
    return f"{shown}{' ...' if idx.size > n else ''}"


def check_pred_probs(pred_probs, *, name="pred_probs", ndim=2, n_classes=None):
    """Validate predicted probabilities; return a float64 array (never the caller's).

    Rows must be finite, non-negative and sum to 1 within 1e-6. ``ndim`` is 2 for
    one model (N, K) and 3 for an ensemble (E, N, K).
    """
    if pred_probs is None:
        raise ValueError(f"{name} is None; pass predicted class probabilities.")
    try:
        P = np.array(pred_probs, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a numeric array of probabilities ({exc})."
        ) from None
    if P.ndim != ndim:
        shape = "(n_examples, n_classes)" if ndim == 2 else "(n_models, n_examples, n_classes)"
        hint = ""
        if ndim == 2 and P.ndim == 3:
            hint = " For several models use the *_ensemble function."
        elif ndim == 3 and P.ndim == 2:
            hint = " For one model use the non-ensemble function, or stack arrays with np.stack."
        raise ValueError(
            f"{name} must have {ndim} dimensions {shape}, got shape {P.shape}.{hint}"
        )
    K = P.shape[-1]
    if K < 2:
        raise ValueError(
            f"{name} has {K} column(s); at least 2 classes are needed (one column per class)."
        )
    if n_classes is not None and K != n_classes:
        raise ValueError(
            f"{name} has {K} classes (columns) but the labeled pred_probs has {n_classes}; "
            "both must use the same classes in the same column order."
        )
    flat = P.reshape(-1, K)
    # Fast path: NaN/inf propagate into the row sums, so one sum and one global
    # minimum decide validity; per-row details are computed only on failure.
    sums = np.einsum("ij->i", flat)
    if np.all(np.isfinite(sums)) and flat.min(initial=0.0) >= 0 and np.all(
        np.abs(sums - 1.0) <= ROW_SUM_TOL
    ):
        return P
    n_rows = P.shape[-2]
    bad = ~np.isfinite(flat).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{name} contains NaN or infinite values in rows {_first(np.flatnonzero(bad) % n_rows)}; "
            "predicted probabilities must be finite."
        )
    bad = (flat < 0).any(axis=1)
    if bad.any():
        raise ValueError(
            f"{name} contains negative values in rows {_first(np.flatnonzero(bad) % n_rows)}; "
            "predicted probabilities must be >= 0 (apply softmax to scores/logits first)."
        )
    bad = np.abs(sums - 1.0) > ROW_SUM_TOL
    raise ValueError(
        f"{name} rows {_first(np.flatnonzero(bad) % n_rows)} do not sum to 1 "
        f"(tolerance {ROW_SUM_TOL:g} per row); pass probabilities, e.g. from "
        "predict_proba, or normalise each row."
    )


def data_digest(X):
    """Content hash of a feature matrix (dense, sparse or DataFrame), used to
    recognise the ``X`` an estimator was fit on without keeping a copy of it."""
    h = hashlib.blake2b(digest_size=16)
    if sp.issparse(X):
        X = sp.csr_array(X)
        parts = (X.data, X.indices, X.indptr, np.asarray(X.shape))
    else:
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        X = np.asarray(X)
        if X.dtype.kind == "O":
            return None  # no stable byte representation
        parts = (np.ascontiguousarray(X), np.asarray(X.shape))
    for p in parts:
        h.update(np.ascontiguousarray(p).view(np.uint8).ravel())
        h.update(str(p.dtype).encode())
    return h.hexdigest()
