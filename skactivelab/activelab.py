"""ActiveLab scores: which example to label, or re-label, next (algorithms 4-5)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from . import _dask
from ._annotations import labeled_inputs, unlabeled_inputs
from ._phases import score_rows
from ._validation import check_prob_shape
from .crowd_models import check_crowd_model

__all__ = ["get_active_learning_scores", "get_active_learning_scores_ensemble"]


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


def fit_labeled_inputs(labels_multiannotator, pred_probs, *, ensemble=False, classes=None, crowd_model=None,
                       rng=None, n_models=1):
    """Phase 1 (the ``_fit_phase`` of ``crowd_model``, an instance from
    :func:`~skactivelab.crowd_models.check_crowd_model`; None: CROWDLAB) on inputs in any
    accepted format, checked and matched as by :func:`get_active_learning_scores`:
    ``(fitted, index, columns)`` (index: example IDs of the results, columns: class names
    of a DataFrame's columns). Both None, or no labeled row: no labeled example."""
    model = check_crowd_model() if crowd_model is None else crowd_model
    if pred_probs is None:
        return model._fit_for(None, None, rng, n_models), None, None
    if _no_rows(pred_probs) and _n_rows(labels_multiannotator) == 0:  # as if None were given
        n = (len(pred_probs) if isinstance(pred_probs, (list, tuple)) else np.shape(pred_probs)[0]) if ensemble else 1
        return model._fit_for(None, None, rng, n), None, None
    ann, P, index, columns = labeled_inputs(
        labels_multiannotator, pred_probs, ndim=3 if ensemble else 2, classes=classes
    )
    P = P if ensemble else P[None]
    return model._fit_for(ann, P, rng, P.shape[0]), index, columns


def _n_rows(labels):
    """Rows (or long-format annotations) of the annotations; None when unknown."""
    if isinstance(labels, tuple):
        return len(labels[0]) if labels else None
    if isinstance(labels, list):
        return len(labels)
    shape = getattr(labels, "shape", None)
    return shape[0] if shape is not None and len(shape) else None


def _no_rows(pred_probs):
    """Labeled probabilities of zero examples (an empty array or DataFrame, or a list of
    them per model): the same as no labeled set at all."""
    if isinstance(pred_probs, (list, tuple)):
        return len(pred_probs) > 0 and all(_no_rows(p) for p in pred_probs)
    shape = getattr(pred_probs, "shape", None)
    if shape is None:
        shape = np.shape(pred_probs)
    return len(shape) in (2, 3) and shape[-2] == 0 and all(n > 0 for n in shape[:-2])


def _dask_pool_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled, *, ensemble, classes, model, rng):
    """The labeled examples now, in memory; a Dask pool lazily, chunk by chunk."""
    U = _dask.probability_array(pred_probs_unlabeled, "pred_probs_unlabeled", 3 if ensemble else 2)
    n_models = U.shape[0] if ensemble else 1
    if _dask.is_dask_collection(pred_probs) or _dask.is_dask_collection(labels_multiannotator):
        raise TypeError(
            "labels_multiannotator and pred_probs (the labeled examples) must be in memory "
            "(NumPy, pandas); only pred_probs_unlabeled (the pool) may be a Dask collection."
        )
    fitted, index, _ = fit_labeled_inputs(labels_multiannotator, pred_probs, ensemble=ensemble, classes=classes,
                                          crowd_model=model, rng=rng, n_models=n_models)
    _check_same_models(fitted.n_models, n_models)
    check_prob_shape(U.shape, name="pred_probs_unlabeled", ndim=U.ndim, n_classes=fitted.n_classes)
    return _with_index(fitted.scores_labeled, index), _dask.pool_scores(fitted, U, rng)


def _active_learning_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled, *, ensemble, classes,
                            random_state, crowd_model="crowdlab", active_learning_method=None):
    model = check_crowd_model(crowd_model, active_learning_method)
    check_partners(labels_multiannotator, pred_probs)
    rng = check_random_state(random_state)
    if _dask.is_dask_collection(pred_probs_unlabeled):
        return _dask_pool_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled, ensemble=ensemble,
                                 classes=classes, model=model, rng=rng)
    if pred_probs is None and pred_probs_unlabeled is None:
        raise ValueError(
            "Nothing to score: pass pred_probs (with labels_multiannotator) for labeled "
            "examples, pred_probs_unlabeled for unlabeled ones, or both."
        )
    fitted = index = columns = None
    if pred_probs is not None:
        fitted, index, columns = fit_labeled_inputs(labels_multiannotator, pred_probs, ensemble=ensemble,
                                                    classes=classes, crowd_model=model, rng=rng)
    scores_unlabeled, index_unlabeled = np.empty(0), None
    if pred_probs_unlabeled is not None:
        U, index_unlabeled = unlabeled_inputs(
            pred_probs_unlabeled, ndim=3 if ensemble else 2,
            n_classes=None if fitted is None else fitted.n_classes, labeled_columns=columns,
        )
        U = U if ensemble else U[None]
        if fitted is None:
            fitted = model._fit_for(None, None, None, U.shape[0])
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
    crowd_model="crowdlab",
    active_learning_method=None,
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
    crowd_model : {"crowdlab", "annotator_confusion", "majority_vote"} or instance, default="crowdlab"
        The crowd model the scores come from (see
        :mod:`skactivelab.crowd_models`). ``"crowdlab"``: the ActiveLab paper's
        scores, with CROWDLAB's weights. ``"annotator_confusion"``: a confusion
        matrix per annotator with the classifier as a fitted prior; an example
        scores the posterior probability of its most likely class (an unlabeled
        one: its prior's), the probability that the current best guess is
        right. ``"majority_vote"``: the labels alone (an unlabeled example
        scores ``1 / n_classes``, below every labeled one). An instance of
        :class:`~skactivelab.crowd_models.AnnotatorConfusion` (etc.) sets the
        model's parameters.
    active_learning_method : {"activelab", "activelab_em"}, default=None
        Deprecated: ``"activelab"`` is ``crowd_model="crowdlab"``,
        ``"activelab_em"`` is ``crowd_model="annotator_confusion"`` (with a
        FutureWarning).

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
        crowd_model=crowd_model,
        active_learning_method=active_learning_method,
    )


def get_active_learning_scores_ensemble(
    labels_multiannotator=None,
    pred_probs=None,
    pred_probs_unlabeled=None,
    *,
    classes=None,
    random_state=None,
    crowd_model="crowdlab",
    active_learning_method=None,
):
    """ActiveLab scores from several classifiers.

    As :func:`get_active_learning_scores`, but ``pred_probs`` has shape
    (n_models, n_labeled, n_classes) and ``pred_probs_unlabeled`` shape
    (n_models, n_unlabeled, n_classes), the same models in the same order; each
    can also be a list of DataFrames (one per model) indexed by example ID, which
    are aligned by ID. Each model is calibrated and weighted on its own. The
    caller's arrays are never modified. ``crowd_model`` as in
    :func:`get_active_learning_scores` (``"annotator_confusion"`` takes the models'
    mean probability as the classifier).

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
        crowd_model=crowd_model,
        active_learning_method=active_learning_method,
    )
