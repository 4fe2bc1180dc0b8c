"""ActiveLab scores: which example to label, or re-label, next (algorithms 4-5)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from . import _dask
from ._annotations import labeled_inputs, unlabeled_inputs
from ._phases import METHODS, check_method, fit_labeled, score_rows
from ._validation import check_prob_shape

__all__ = ["get_active_learning_scores", "get_active_learning_scores_ensemble"]

#: Values of ``active_learning_method``: the paper's ActiveLab, and ActiveLab with
#: crowd weights fitted by maximum likelihood (robust to adaptively chosen re-labels).
ACTIVE_LEARNING_METHODS = METHODS


def check_partners(labels_multiannotator, pred_probs):
    """Labeled examples need both their annotations and their predictions."""
    if (labels_multiannotator is None) != (pred_probs is None):
        missing = "pred_probs" if pred_probs is None else "labels_multiannotator"
        raise ValueError(
            f"{missing} is None but its partner was given; labeled examples need both "
            "labels_multiannotator and pred_probs (or pass neither to score only "
            "unlabeled examples)."
        )


def _check_same_models(n_labeled_models, n_pool_models):
    if n_labeled_models != n_pool_models:
        raise ValueError(
            f"pred_probs has {n_labeled_models} models but pred_probs_unlabeled has "
            f"{n_pool_models}; give both from the same models in the same order."
        )


def fit_labeled_inputs(labels_multiannotator, pred_probs, *, ensemble=False, classes=None, method="activelab",
                       rng=None, n_models=1):
    """Phase 1 (:func:`skactivelab._phases.fit_labeled`) on inputs in any accepted format,
    checked and matched as by :func:`get_active_learning_scores`: ``(fitted, index,
    columns)`` (index: example IDs of the results, columns: class names of a DataFrame's
    columns). Both None: no labeled example."""
    if pred_probs is None:
        return fit_labeled(None, None, method=method, rng=rng, n_models=n_models), None, None
    ann, P, index, columns = labeled_inputs(
        labels_multiannotator, pred_probs, ndim=3 if ensemble else 2, classes=classes
    )
    return fit_labeled(ann, P if ensemble else P[None], method=method, rng=rng), index, columns


def _dask_pool_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled, *, ensemble, classes, method, rng):
    """The labeled examples now, in memory; a Dask pool lazily, chunk by chunk."""
    U = _dask.probability_array(pred_probs_unlabeled, "pred_probs_unlabeled", 3 if ensemble else 2)
    n_models = U.shape[0] if ensemble else 1
    if _dask.is_dask_collection(pred_probs) or _dask.is_dask_collection(labels_multiannotator):
        raise TypeError(
            "labels_multiannotator and pred_probs (the labeled examples) must be in memory "
            "(NumPy, pandas); only pred_probs_unlabeled (the pool) may be a Dask collection."
        )
    fitted, index, _ = fit_labeled_inputs(labels_multiannotator, pred_probs, ensemble=ensemble, classes=classes,
                                   method=method, rng=rng, n_models=n_models)
    _check_same_models(fitted.n_models, n_models)
    check_prob_shape(U.shape, name="pred_probs_unlabeled", ndim=U.ndim, n_classes=fitted.n_classes)
    return _with_index(fitted.scores_labeled, index), _dask.pool_scores(fitted, U, rng)


def _active_learning_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled, *, ensemble, classes,
                            random_state, active_learning_method="activelab"):
    method = check_method(active_learning_method)
    check_partners(labels_multiannotator, pred_probs)
    rng = check_random_state(random_state)
    if _dask.is_dask_collection(pred_probs_unlabeled):
        return _dask_pool_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled, ensemble=ensemble,
                                 classes=classes, method=method, rng=rng)
    if pred_probs is None and pred_probs_unlabeled is None:
        raise ValueError(
            "Nothing to score: pass pred_probs (with labels_multiannotator) for labeled "
            "examples, pred_probs_unlabeled for unlabeled ones, or both."
        )
    fitted = index = columns = None
    if pred_probs is not None:
        fitted, index, columns = fit_labeled_inputs(labels_multiannotator, pred_probs, ensemble=ensemble,
                                             classes=classes, method=method, rng=rng)
    scores_unlabeled, index_unlabeled = np.empty(0), None
    if pred_probs_unlabeled is not None:
        U, index_unlabeled = unlabeled_inputs(
            pred_probs_unlabeled, ndim=3 if ensemble else 2,
            n_classes=None if fitted is None else fitted.n_classes, labeled_columns=columns,
        )
        U = U if ensemble else U[None]
        if fitted is None:
            fitted = fit_labeled(None, None, method=method, n_models=U.shape[0])
        _check_same_models(fitted.n_models, U.shape[0])
        scores_unlabeled = score_rows(fitted, U, rng=rng)
    return _with_index(fitted.scores_labeled, index), _with_index(scores_unlabeled, index_unlabeled)


def _with_index(scores, index):
    """pandas in, pandas out: a Series indexed by example ID when the input had IDs."""
    if index is None:
        return scores
    import pandas as pd

    return pd.Series(scores, index=index, name="active_learning_score")


def get_active_learning_scores(
    labels_multiannotator=None,
    pred_probs=None,
    pred_probs_unlabeled=None,
    *,
    classes=None,
    random_state=None,
    active_learning_method="activelab",
):
    """ActiveLab scores: lower means collecting one more label there helps more.

    Labeled and unlabeled examples are scored on one scale, so a team with a
    budget of B annotations takes the B lowest scores across both arrays: a low
    labeled score asks for another opinion (re-label), a low unlabeled score for a
    first label.

    Parameters
    ----------
    labels_multiannotator : array-like of shape (n_labeled, n_annotators), DataFrame, sparse matrix or tuple, optional
        Annotations of the labeled examples in any accepted format (NaN or -1 for
        missing); every row needs at least one label.
    pred_probs : array-like or DataFrame of shape (n_labeled, n_classes), optional
        Out-of-fold predicted probabilities for the labeled examples. A DataFrame
        indexed by example ID is matched to the annotations by ID; its column
        names, unless they are 0..K-1, give the class of each column.
    pred_probs_unlabeled : array-like or DataFrame of shape (n_unlabeled, n_classes), optional
        Predicted probabilities for the unlabeled examples (same classes and column
        order as ``pred_probs``).
    classes : array-like, optional
        Class values in column order of ``pred_probs`` when labels are not 0..K-1.
    random_state : int, RandomState instance or None, default=None
        Breaks majority-vote ties that nothing else breaks.
    active_learning_method : {"activelab", "activelab_em"}, default="activelab"
        ``"activelab"``: the ActiveLab paper's scores, with CROWDLAB's weights.
        ``"activelab_em"``: the annotator accuracies and the model's temperature
        are fitted by maximum likelihood over all labels (EM, a one-coin crowd
        model with the classifier as prior), which stays unbiased when the
        re-labeled examples were chosen by an active learning strategy; an
        example scores the posterior probability of its most likely class
        (an unlabeled one: its calibrated prediction). See the documentation
        page "Active learning on a real crowd".

    Returns
    -------
    scores_labeled : ndarray or pandas Series of shape (n_labeled,)
        Empty when no labeled examples were given. A Series indexed by example ID
        when the annotations or ``pred_probs`` carry IDs (see "How rows are
        matched" below).
    scores_unlabeled : ndarray or pandas Series of shape (n_unlabeled,)
        Empty when ``pred_probs_unlabeled`` was not given; a Series with its index
        when ``pred_probs_unlabeled`` is a DataFrame.

    Notes
    -----
    How rows are matched. A ``pred_probs`` DataFrame is aligned to the
    annotations by example ID (an ID on one side only is an error; pass
    ``pred_probs.to_numpy()`` to match by position instead). With a bare array,
    row i is: row i of a 2-D array, sparse matrix or wide DataFrame of
    annotations; in long format, example ID i when the IDs are integers, else
    the i-th example ID in order of first appearance in the annotations (IDs are
    never sorted). Rows summing to 1 within 0.01 are renormalised.

    When some example has two or more labels, ``pred_probs`` is temperature
    calibrated to the annotations and CROWDLAB weighs the model against each
    annotator. When every example has exactly one label, no calibration is done
    and the model and each annotator count equally; with no labeled data the
    unlabeled score reduces to least-confidence sampling.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import get_active_learning_scores
    >>> labels = np.array([[0, 0, -1], [1, 0, 1], [1, -1, -1], [0, 1, 0]])
    >>> pred_probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.4, 0.6], [0.8, 0.2]])
    >>> pred_probs_unlabeled = np.array([[0.55, 0.45], [0.99, 0.01]])
    >>> s_lab, s_unl = get_active_learning_scores(labels, pred_probs, pred_probs_unlabeled)
    >>> s_lab.shape, s_unl.shape
    ((4,), (2,))
    >>> bool(s_unl[0] < s_unl[1])  # the uncertain example comes first
    True
    """
    return _active_learning_scores(
        labels_multiannotator,
        pred_probs,
        pred_probs_unlabeled,
        ensemble=False,
        classes=classes,
        random_state=random_state,
        active_learning_method=active_learning_method,
    )


def get_active_learning_scores_ensemble(
    labels_multiannotator=None,
    pred_probs=None,
    pred_probs_unlabeled=None,
    *,
    classes=None,
    random_state=None,
    active_learning_method="activelab",
):
    """ActiveLab scores from several classifiers.

    As :func:`get_active_learning_scores`, but ``pred_probs`` has shape
    (n_models, n_labeled, n_classes) and ``pred_probs_unlabeled`` shape
    (n_models, n_unlabeled, n_classes), the same models in the same order; each
    can also be a list of DataFrames (one per model) indexed by example ID, which
    are aligned by ID. Each model is calibrated and weighted on its own. The
    caller's arrays are never modified. ``active_learning_method`` as in
    :func:`get_active_learning_scores` (with ``"activelab_em"`` the models' mean
    probability is the prior).

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import get_active_learning_scores_ensemble
    >>> labels = np.array([[0, 0, -1], [1, 0, 1], [1, -1, -1], [0, 1, 0]])
    >>> p1 = np.array([[0.9, 0.1], [0.3, 0.7], [0.4, 0.6], [0.8, 0.2]])
    >>> p2 = np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5], [0.9, 0.1]])
    >>> s_lab, s_unl = get_active_learning_scores_ensemble(labels, np.stack([p1, p2]))
    >>> s_lab.shape, s_unl.shape
    ((4,), (0,))
    """
    return _active_learning_scores(
        labels_multiannotator,
        pred_probs,
        pred_probs_unlabeled,
        ensemble=True,
        classes=classes,
        random_state=random_state,
        active_learning_method=active_learning_method,
    )
