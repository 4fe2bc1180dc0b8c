"""Probabilities of fitted scikit-learn models, one column per class of a meta-estimator.

The fold models and the final models of
:class:`~skactivelab.MultiAnnotatorClassifier` may each have seen only some of
the classes; every probability the estimator, the query strategies and the Dask
adapters read goes through :func:`aligned_proba`, which puts each model's
columns under the estimator's ``classes_`` (0 for a class a model never saw).
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed

from ._utils import py_scalar

__all__ = ["aligned_proba", "class_positions", "final_proba", "fold_mean_proba"]


def class_positions(est_classes, classes):
    """Column of ``classes`` holding each entry of ``est_classes`` (K is small)."""
    lookup = {py_scalar(c): k for k, c in enumerate(classes)}
    return np.array([lookup[py_scalar(c)] for c in est_classes])


def aligned_proba(est, X, classes, params=None, *, renormalise=True):
    """predict_proba of ``est`` with one column per entry of ``classes`` (0 if unseen).

    With ``renormalise`` (the out-of-fold and fold-mean probabilities the scoring
    core reads), rows are clipped at 0 and rescaled to sum to 1 (a uniform row
    where nothing is left), as float64. Without it (``predict_proba`` of the
    final models) the model's own values and dtype are kept.
    """
    proba = np.asarray(est.predict_proba(X, **(params or {})))
    if renormalise:
        proba = proba.astype(np.float64, copy=False)
    K = len(classes)
    est_classes = getattr(est, "classes_", None)
    if est_classes is None or (len(est_classes) == K and np.array_equal(est_classes, classes)):
        out = proba
    else:
        out = np.zeros((proba.shape[0], K), dtype=proba.dtype)
        out[:, class_positions(est_classes, classes)] = proba
    if not renormalise:
        return out
    # guard against rounding: clip and renormalise each row
    out = np.clip(out, 0.0, None)
    s = out.sum(axis=1, keepdims=True)
    np.divide(out, s, out=out, where=s > 0)
    out[s[:, 0] <= 0] = 1.0 / K
    return out


def final_proba(finals, X, classes, weights, params=None):
    """Probabilities of the final model(s): one model's, or the ``weights``-weighted mean."""
    params = params or {}
    probs = np.stack([aligned_proba(est, X, classes, params, renormalise=False) for est in finals])
    if probs.shape[0] == 1:
        return probs[0]
    w = np.asarray(weights, dtype=np.float64)
    return np.tensordot(w / w.sum(), probs, axes=1)


def fold_mean_proba(cv_estimators, X, classes, n_jobs=None):
    """(n_models, n, K): per model, the mean aligned ``predict_proba`` of its fold models
    (``cv_estimators``: one list of fold models per model), in parallel with joblib."""
    probs = Parallel(n_jobs=n_jobs)(
        delayed(aligned_proba)(est, X, classes) for group in cv_estimators for est in group
    )
    F = len(cv_estimators[0])
    return np.stack([np.mean(probs[e * F : (e + 1) * F], axis=0) for e in range(len(cv_estimators))])
