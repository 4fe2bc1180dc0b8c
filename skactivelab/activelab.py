"""ActiveLab scores: which example to label, or re-label, next (algorithms 4-5)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from . import _dask, _kernels as K_
from ._annotations import Annotations, _labeled_inputs, _unlabeled_inputs

__all__ = ["get_active_learning_scores", "get_active_learning_scores_ensemble"]


def _labeled_part(ann, P, rng):
    """algorithms 4 (labeled) for P of shape (E, N, K).

    Returns (scores, temperatures (E,), model weights (E,), mean annotator weight).
    """
    E, N, K = P.shape
    n_per = np.bincount(ann.example, minlength=N).astype(np.float64)
    if np.all(n_per == 1):
        # nothing to calibrate against: the label is the consensus, unit weights
        consensus, q, stats = K_.single_annotation_consensus(ann, P)
        temperatures = np.ones(E)
    else:
        consensus, stats, temperatures = K_.crowdlab_consensus(
            ann, P, n_per, K_.label_counts(ann), method="best_quality", calibrate=True, rng=rng
        )
        q = stats["post"][np.arange(N), consensus]
    w = stats["annotator_weights"]
    w_M = stats["model_weight"]
    wbar_A = np.nanmean(w)
    W = w_M.sum() + np.bincount(ann.example, weights=w[ann.annotator], minlength=N)
    scores = (W * q + wbar_A / K) / (W + wbar_A)
    return scores, temperatures, w_M, wbar_A


def _scaled_votes(U, temperatures):
    """Each model's U rescaled by its temperature, and the models' most probable
    classes as votes (one "annotator" per model) for the consensus of each row
    (algorithms 5)."""
    U = np.stack([K_.temp_scale(Ue, T) for Ue, T in zip(U, temperatures)])
    E, n, K = U.shape
    votes = Annotations(
        example=np.repeat(np.arange(n), E),
        annotator=np.tile(np.arange(E), n),
        label=np.argmax(U, axis=2).T.ravel(),
        n_examples=n,
        n_annotators=E,
        n_classes=K,
        classes=np.arange(K),
        annotator_ids=np.arange(E),
    )
    return U, votes


def _unlabeled_part(U, temperatures, w_M, wbar_A, rng):
    """algorithms 4-5 (unlabeled) for U of shape (E, Nu, K)."""
    E, Nu, K = U.shape
    if E == 1:
        prob = K_.max_temp_scaled(U[0], temperatures[0], overwrite=True)  # U is our copy
    else:
        U, votes = _scaled_votes(U, temperatures)
        c = K_.majority_vote(votes, K_.label_counts(votes), U.mean(axis=0), rng)
        prob = K_.weighted_sum(w_M, U[:, np.arange(Nu), c]) / w_M.sum()
    return (w_M.sum() * prob + wbar_A / K) / (w_M.sum() + wbar_A)


#: Values of ``active_learning_method``: the paper's ActiveLab, and ActiveLab with
#: crowd weights fitted by maximum likelihood (robust to adaptively chosen re-labels).
ACTIVE_LEARNING_METHODS = ("activelab", "activelab_em")


def _check_method(active_learning_method):
    if active_learning_method not in ACTIVE_LEARNING_METHODS:
        raise ValueError(
            f"active_learning_method must be one of {ACTIVE_LEARNING_METHODS}, got {active_learning_method!r}."
        )


def check_partners(labels_multiannotator, pred_probs):
    """Labeled examples need both their annotations and their predictions."""
    if (labels_multiannotator is None) != (pred_probs is None):
        missing = "pred_probs" if pred_probs is None else "labels_multiannotator"
        raise ValueError(
            f"{missing} is None but its partner was given; labeled examples need both "
            "labels_multiannotator and pred_probs (or pass neither to score only "
            "unlabeled examples)."
        )


def _active_learning_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled, *, ensemble, classes,
                            random_state, active_learning_method="activelab"):
    _check_method(active_learning_method)
    check_partners(labels_multiannotator, pred_probs)
    if _dask.is_dask_collection(pred_probs_unlabeled):
        if active_learning_method != "activelab":
            raise ValueError(
                f"active_learning_method={active_learning_method!r} does not take a Dask pool "
                "yet; compute pred_probs_unlabeled in memory (or in slices), or use "
                "active_learning_method='activelab'."
            )
        return _dask.active_learning_scores(
            labels_multiannotator, pred_probs, pred_probs_unlabeled,
            ensemble=ensemble, classes=classes, random_state=random_state,
        )
    ndim = 3 if ensemble else 2
    if pred_probs is None and pred_probs_unlabeled is None:
        raise ValueError(
            "Nothing to score: pass pred_probs (with labels_multiannotator) for labeled "
            "examples, pred_probs_unlabeled for unlabeled ones, or both."
        )
    rng = check_random_state(random_state)
    n_classes = None
    columns = None
    index = None
    ann = P = U = None
    scores_labeled = np.empty(0)
    if pred_probs is not None:
        ann, P, index, columns = _labeled_inputs(
            labels_multiannotator, pred_probs, ndim=ndim, classes=classes
        )
        if not ensemble:
            P = P[None]
        n_classes = P.shape[2]
        if active_learning_method == "activelab":
            scores_labeled, temperatures, w_M, wbar_A = _labeled_part(ann, P, rng)
    scores_unlabeled = np.empty(0)
    index_unlabeled = None
    if pred_probs_unlabeled is not None:
        U, index_unlabeled = _unlabeled_inputs(
            pred_probs_unlabeled, ndim=ndim, n_classes=n_classes, labeled_columns=columns
        )
        if not ensemble:
            U = U[None]
        if pred_probs is not None and U.shape[0] != P.shape[0]:
            raise ValueError(
                f"pred_probs has {P.shape[0]} models but pred_probs_unlabeled has "
                f"{U.shape[0]}; give both from the same models in the same order."
            )
    if active_learning_method == "activelab_em":
        from ._em import em_scores

        s_lab, s_unl, _ = em_scores(ann, P, U)
        if P is not None:
            scores_labeled = s_lab
        if U is not None:
            scores_unlabeled = s_unl
    elif U is not None:
        if pred_probs is None:
            temperatures, w_M, wbar_A = np.ones(U.shape[0]), np.ones(U.shape[0]), 1.0
        scores_unlabeled = _unlabeled_part(U, temperatures, w_M, wbar_A, rng)
    return _with_index(scores_labeled, index), _with_index(scores_unlabeled, index_unlabeled)


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
