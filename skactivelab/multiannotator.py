"""cleanlab-compatible interface: ``from skactivelab import multiannotator``.

Code written against ``cleanlab.multiannotator`` (2.9) switches by changing one
import::

    from skactivelab import multiannotator   # was: from cleanlab import multiannotator

The six public functions have cleanlab's names, parameters, defaults and return
formats (the same dict keys, DataFrame columns, index and dtypes); each adds one
keyword, ``random_state``, for the last-resort random tie-break. They are a thin
layer over skactivelab's core (:func:`skactivelab.get_label_quality_multiannotator`
and friends), so the numbers are the core's: equal to cleanlab's to 1e-10 where
cleanlab is right, and different on purpose where it is not (its temperature
calibration counts labels in the wrong columns; its ensemble functions overwrite
their inputs; its random tie-breaks ignore seeds). Nothing is printed: what
cleanlab prints with ``verbose=True`` is issued as a :class:`UserWarning`.
See the "Switching from cleanlab" page of the documentation.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import activelab as _activelab
from . import crowdlab as _crowdlab
from . import majority_vote as _majority_vote
from ._annotations import check_annotations
from ._utils import is_dataframe, is_long_frame, py_scalar
from ._validation import PredProbsNotNormalisedWarning, rows_as_given

# cleanlab's six functions; ``PredProbsNotNormalisedWarning`` is importable from here too
__all__ = [
    "convert_long_to_wide_dataset",
    "get_active_learning_scores",
    "get_active_learning_scores_ensemble",
    "get_label_quality_multiannotator",
    "get_label_quality_multiannotator_ensemble",
    "get_majority_vote_label",
]

# keys of cleanlab's label_quality_score_kwargs -> keywords of the core
_SCORE_KWARGS = {"method": "label_quality_method", "adjust_pred_probs": "adjust_pred_probs"}
_STATS_COLUMNS = ["annotator_quality", "agreement_with_consensus", "worst_class", "num_examples_labeled"]


def _like_cleanlab(fn, *args, **kwargs):
    """Call a core function accepting, as cleanlab does, probability rows that do not sum
    to 1: they are used as given, with one :class:`PredProbsNotNormalisedWarning`."""
    with rows_as_given() as seen:
        out = fn(*args, **kwargs)
    if seen:
        name, rows = seen[0]
        more = f" ({len(rows)} rows)" if rows.size > 10 else ""
        warnings.warn(
            f"{name} rows {rows[:10].tolist()}{more} do not sum to 1; they are used as given, "
            "as cleanlab does (skactivelab's own functions refuse them). Normalise each row "
            "(P / P.sum(axis=-1, keepdims=True)) to pass probabilities.",
            PredProbsNotNormalisedWarning,
            stacklevel=3,
        )
    return out


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        raise ImportError(
            "skactivelab.multiannotator returns pandas DataFrames, as cleanlab does: "
            "pip install pandas (or use the NumPy results of skactivelab's own functions)."
        ) from None
    return pd


def _score_kwargs(label_quality_score_kwargs):
    """cleanlab's ``label_quality_score_kwargs`` dict -> the core's keywords."""
    if label_quality_score_kwargs is None:
        return {}
    if not hasattr(label_quality_score_kwargs, "items"):
        raise TypeError(
            "label_quality_score_kwargs must be a dict such as {'method': 'normalized_margin', "
            f"'adjust_pred_probs': True}}, got {type(label_quality_score_kwargs).__name__}."
        )
    unknown = [k for k in label_quality_score_kwargs if k not in _SCORE_KWARGS]
    if unknown:
        raise TypeError(
            f"label_quality_score_kwargs has unknown key(s) {unknown}; the accepted keys are "
            f"{list(_SCORE_KWARGS)}."
        )
    return {_SCORE_KWARGS[k]: v for k, v in label_quality_score_kwargs.items()}


def _is_wide_frame(labels_multiannotator):
    return is_dataframe(labels_multiannotator) and not is_long_frame(labels_multiannotator)


def _example_index(labels_multiannotator, n_examples, example_ids):
    pd = _pandas()
    if _is_wide_frame(labels_multiannotator):
        return labels_multiannotator.index
    if example_ids is not None:
        return pd.Index(example_ids)
    return pd.RangeIndex(n_examples)


def _annotator_index(labels_multiannotator, annotator_ids):
    pd = _pandas()
    if _is_wide_frame(labels_multiannotator):
        return labels_multiannotator.columns
    if annotator_ids.dtype.kind in "iu" and np.array_equal(annotator_ids, np.arange(annotator_ids.size)):
        return pd.RangeIndex(annotator_ids.size)  # the columns of an array, as in pandas
    return pd.Index(annotator_ids)


def _warn_lost_classes(labels_multiannotator, consensus_labels, method, classes=None):
    """What cleanlab prints with verbose=True: classes annotated but never a consensus.

    ``classes``: all classes, if known; when every one is some consensus label
    there is nothing to report and the annotations are not read again.
    """
    if classes is not None and np.isin(classes, consensus_labels).all():
        return
    ann = check_annotations(labels_multiannotator, require_labeled=False)
    annotated = ann.classes[np.unique(ann.label)]
    lost = [c for c in annotated.tolist() if c not in set(np.asarray(consensus_labels).tolist())]
    if lost:
        warnings.warn(
            f"Classes {lost} were given by annotators but are the consensus label of no "
            f"example (consensus method {method!r}), likely because they are rarely "
            "annotated. Check whether these classes matter for your task.",
            UserWarning,
            stacklevel=3,
        )


def _warn_isolated_annotators(result):
    """What cleanlab prints with verbose=True: annotators who share no example."""
    isolated = (np.asarray(result.num_examples_labeled) > 0) & np.isnan(
        np.asarray(result.annotator_quality, dtype=float)
    )
    if isolated.any():
        ids = [py_scalar(a) for a in np.asarray(result.annotator_ids)[isolated]]
        warnings.warn(
            f"Annotator(s) {ids} labeled no example that another annotator also labeled: "
            "their agreement with the others is taken as the average agreement of the "
            "other annotators, and their annotator_quality is NaN.",
            UserWarning,
            stacklevel=3,
        )


def _as_cleanlab_dict(
    result,
    labels_multiannotator,
    methods,
    *,
    ensemble,
    return_detailed_quality,
    return_annotator_stats,
    return_weights,
    verbose,
):
    """A :class:`~skactivelab.LabelQualityResult` in cleanlab's dict-of-DataFrames format."""
    consensus = np.asarray(result.consensus_label)
    index = _example_index(labels_multiannotator, consensus.shape[0], result.example_ids)
    out = {"label_quality": _crowdlab.label_quality_frame(result, index)}
    if return_detailed_quality:
        out["detailed_label_quality"] = _crowdlab.detailed_quality_frame(
            result, index, getattr(getattr(labels_multiannotator, "columns", None), "name", None)
        )
    if return_annotator_stats:
        out["annotator_stats"] = _crowdlab.annotator_stats_frame(
            result, _annotator_index(labels_multiannotator, np.asarray(result.annotator_ids))
        )
    if return_weights:
        w_M = np.asarray(result.model_weight, dtype=float)
        out["model_weight"] = w_M if ensemble else np.float64(w_M)
        out["annotator_weight"] = np.array(result.annotator_weights, dtype=float)
    if verbose:
        if result.annotator_weights is not None:  # crowdlab quality: weights from agreement
            _warn_isolated_annotators(result)
        for m in methods:
            labels_m = consensus if m == methods[0] else result.consensus_by_method[m]["consensus_label"]
            _warn_lost_classes(labels_multiannotator, labels_m, m, classes=np.asarray(result.classes))
    return out


def _check_return_weights(return_weights, quality_method):
    if return_weights and quality_method != "crowdlab":
        raise ValueError(
            "return_weights=True needs quality_method='crowdlab': the 'agreement' method "
            "uses no model or annotator weights. Set return_weights=False or "
            "quality_method='crowdlab'."
        )


def get_label_quality_multiannotator(
    labels_multiannotator,
    pred_probs,
    *,
    consensus_method="best_quality",
    quality_method="crowdlab",
    calibrate_probs=False,
    return_detailed_quality=True,
    return_annotator_stats=True,
    return_weights=False,
    verbose=True,
    label_quality_score_kwargs={},  # noqa: B006 - cleanlab's default; never modified
    random_state=None,
):
    """CROWDLAB consensus labels, their quality and annotator quality, in cleanlab's format.

    Same parameters and result as ``cleanlab.multiannotator.get_label_quality_multiannotator``
    (2.9), computed by :func:`skactivelab.get_label_quality_multiannotator`.

    Parameters
    ----------
    labels_multiannotator : DataFrame or ndarray of shape (n_examples, n_annotators)
        Class labels 0..K-1, NaN where an annotator did not label an example. Every
        format of :func:`skactivelab.get_label_quality_multiannotator` is accepted too
        (-1 for missing, string labels, long format, sparse matrices, annotators with
        no label).
    pred_probs : ndarray of shape (n_examples, n_classes)
        Out-of-fold predicted class probabilities.
    consensus_method : str or list of str, default="best_quality"
        "best_quality" or "majority_vote", or a list: the first method gives the
        main columns and every statistic; the others add columns suffixed
        ``_<method>`` to ``label_quality``.
    quality_method : {"crowdlab", "agreement"}, default="crowdlab"
    calibrate_probs : bool, default=False
        Temperature-scale ``pred_probs`` to the annotations first.
    return_detailed_quality : bool, default=True
        Include ``"detailed_label_quality"``.
    return_annotator_stats : bool, default=True
        Include ``"annotator_stats"``.
    return_weights : bool, default=False
        Include ``"model_weight"`` and ``"annotator_weight"`` (crowdlab only).
    verbose : bool, default=True
        Warn (:class:`UserWarning`) about classes that no consensus label uses and
        annotators who share no example with another; nothing is printed.
    label_quality_score_kwargs : dict, default={}
        ``{"method": "self_confidence" | "normalized_margin" |
        "confidence_weighted_entropy", "adjust_pred_probs": bool}``: how labels are
        scored against the posterior (see ``label_quality_method`` and
        ``adjust_pred_probs`` of :func:`skactivelab.get_label_quality_multiannotator`).
    random_state : int, RandomState instance or None, default=None
        Breaks majority-vote ties that nothing else breaks (None: NumPy's global
        random state).

    Returns
    -------
    dict
        ``"label_quality"``: DataFrame indexed like the examples with columns
        ``consensus_label``, ``consensus_quality_score``, ``annotator_agreement``,
        ``num_annotations`` (plus suffixed columns for further consensus methods);
        ``"detailed_label_quality"``: DataFrame with a column
        ``quality_annotator_<id>`` per annotator, NaN where no label was given;
        ``"annotator_stats"``: DataFrame indexed by annotator, columns
        ``annotator_quality``, ``agreement_with_consensus``, ``worst_class``,
        ``num_examples_labeled``, worst annotators first; ``"model_weight"``
        (float) and ``"annotator_weight"`` (ndarray) when ``return_weights``.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import multiannotator
    >>> labels = np.array([[0, 0, np.nan], [1, 1, 0], [1, np.nan, 1], [0, 1, 0]])
    >>> pred_probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    >>> res = multiannotator.get_label_quality_multiannotator(labels, pred_probs)
    >>> sorted(res)
    ['annotator_stats', 'detailed_label_quality', 'label_quality']
    >>> res["label_quality"]["consensus_label"].tolist()
    [0, 1, 1, 0]
    """
    kwargs = _score_kwargs(label_quality_score_kwargs)
    _check_return_weights(return_weights, quality_method)
    result = _like_cleanlab(
        _crowdlab.get_label_quality_multiannotator,
        labels_multiannotator,
        pred_probs,
        consensus_method=consensus_method,
        quality_method=quality_method,
        calibrate_probs=calibrate_probs,
        random_state=random_state,
        **kwargs,
    )
    methods = [consensus_method] if isinstance(consensus_method, str) else list(consensus_method)
    return _as_cleanlab_dict(
        result,
        labels_multiannotator,
        methods,
        ensemble=False,
        return_detailed_quality=return_detailed_quality,
        return_annotator_stats=return_annotator_stats,
        return_weights=return_weights,
        verbose=verbose,
    )


def get_label_quality_multiannotator_ensemble(
    labels_multiannotator,
    pred_probs,
    *,
    calibrate_probs=False,
    return_detailed_quality=True,
    return_annotator_stats=True,
    return_weights=False,
    verbose=True,
    label_quality_score_kwargs={},  # noqa: B006 - cleanlab's default; never modified
    random_state=None,
):
    """CROWDLAB with several models, in cleanlab's format.

    As :func:`get_label_quality_multiannotator` with ``pred_probs`` of shape
    (n_models, n_examples, n_classes); ``"model_weight"`` is an ndarray with one
    weight per model. Unlike cleanlab, ``pred_probs`` is never modified.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import multiannotator
    >>> labels = np.array([[0, 0, np.nan], [1, 1, 0], [1, np.nan, 1], [0, 1, 0]])
    >>> p1 = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    >>> p2 = np.array([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5], [0.8, 0.2]])
    >>> res = multiannotator.get_label_quality_multiannotator_ensemble(
    ...     labels, np.stack([p1, p2]), return_weights=True)
    >>> res["model_weight"].shape
    (2,)
    """
    kwargs = _score_kwargs(label_quality_score_kwargs)
    result = _like_cleanlab(
        _crowdlab.get_label_quality_multiannotator_ensemble,
        labels_multiannotator,
        pred_probs,
        calibrate_probs=calibrate_probs,
        random_state=random_state,
        **kwargs,
    )
    return _as_cleanlab_dict(
        result,
        labels_multiannotator,
        ["best_quality"],
        ensemble=True,
        return_detailed_quality=return_detailed_quality,
        return_annotator_stats=return_annotator_stats,
        return_weights=return_weights,
        verbose=verbose,
    )


def _labels_without_pred_probs(labels_multiannotator, pred_probs, pred_probs_unlabeled):
    """cleanlab silently ignores labels given without pred_probs: do the same, with a warning."""
    if labels_multiannotator is not None and pred_probs is None and pred_probs_unlabeled is not None:
        warnings.warn(
            "labels_multiannotator is ignored because pred_probs is None: only the "
            "unlabeled examples are scored. Pass pred_probs for the labeled examples to "
            "score them too.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return labels_multiannotator


def get_active_learning_scores(
    labels_multiannotator=None,
    pred_probs=None,
    pred_probs_unlabeled=None,
    *,
    random_state=None,
):
    """ActiveLab scores in cleanlab's format: ``(scores_labeled, scores_unlabeled)``.

    Same parameters and result as ``cleanlab.multiannotator.get_active_learning_scores``
    (2.9), computed by :func:`skactivelab.get_active_learning_scores`: lower scores
    mean another label helps more; an array is empty when its examples were not
    given.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import multiannotator
    >>> labels = np.array([[0, 0, np.nan], [1, 0, 1], [1, np.nan, np.nan], [0, 1, 0]])
    >>> pred_probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.4, 0.6], [0.8, 0.2]])
    >>> s_lab, s_unl = multiannotator.get_active_learning_scores(
    ...     labels, pred_probs, np.array([[0.55, 0.45], [0.99, 0.01]]))
    >>> s_lab.shape, s_unl.shape
    ((4,), (2,))
    """
    labels_multiannotator = _labels_without_pred_probs(labels_multiannotator, pred_probs, pred_probs_unlabeled)
    s_lab, s_unl = _like_cleanlab(
        _activelab.get_active_learning_scores, labels_multiannotator, pred_probs, pred_probs_unlabeled,
        random_state=random_state,
    )
    return np.asarray(s_lab, dtype=float), np.asarray(s_unl, dtype=float)


def get_active_learning_scores_ensemble(
    labels_multiannotator=None,
    pred_probs=None,
    pred_probs_unlabeled=None,
    *,
    random_state=None,
):
    """ActiveLab scores from several models, in cleanlab's format.

    As :func:`get_active_learning_scores` with ``pred_probs`` of shape (n_models,
    n_labeled, n_classes) and ``pred_probs_unlabeled`` of shape (n_models,
    n_unlabeled, n_classes). Unlike cleanlab, the arrays are never modified.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import multiannotator
    >>> labels = np.array([[0, 0, np.nan], [1, 0, 1], [1, np.nan, np.nan], [0, 1, 0]])
    >>> p1 = np.array([[0.9, 0.1], [0.3, 0.7], [0.4, 0.6], [0.8, 0.2]])
    >>> p2 = np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5], [0.9, 0.1]])
    >>> s_lab, s_unl = multiannotator.get_active_learning_scores_ensemble(labels, np.stack([p1, p2]))
    >>> s_lab.shape, s_unl.shape
    ((4,), (0,))
    """
    labels_multiannotator = _labels_without_pred_probs(labels_multiannotator, pred_probs, pred_probs_unlabeled)
    s_lab, s_unl = _like_cleanlab(
        _activelab.get_active_learning_scores_ensemble, labels_multiannotator, pred_probs,
        pred_probs_unlabeled, random_state=random_state,
    )
    return np.asarray(s_lab, dtype=float), np.asarray(s_unl, dtype=float)


def get_majority_vote_label(labels_multiannotator, pred_probs=None, verbose=True, *, random_state=None):
    """Majority-vote label of each example, in cleanlab's format (an ndarray).

    Same parameters and result as ``cleanlab.multiannotator.get_majority_vote_label``
    (2.9): the third positional argument is ``verbose`` (warn about classes that no
    majority vote uses). Ties are broken as in
    :func:`skactivelab.get_majority_vote_label`, the last resort seeded by
    ``random_state`` (None: NumPy's global random state).

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import multiannotator
    >>> labels = np.array([[0, 0, 1], [1, 0, np.nan], [2, 2, np.nan]])
    >>> multiannotator.get_majority_vote_label(labels, np.array(
    ...     [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.1, 0.1, 0.8]])).tolist()
    [0, 1, 2]
    """
    mv = np.asarray(_like_cleanlab(
        _majority_vote.get_majority_vote_label, labels_multiannotator, pred_probs, random_state=random_state
    ))
    if verbose:
        K = None if pred_probs is None else np.shape(pred_probs)[-1]
        _warn_lost_classes(labels_multiannotator, mv, "majority_vote", classes=None if K is None else np.arange(K))
    return mv


def convert_long_to_wide_dataset(labels_multiannotator_long):
    """Long-format annotations (columns ``task``, ``annotator``, ``label``) to a wide DataFrame.

    Same result as ``cleanlab.multiannotator.convert_long_to_wide_dataset`` (2.9):
    one row per task (sorted), one column per annotator (sorted), the label where
    the annotator labeled the task and NaN elsewhere; other columns are ignored.
    A repeated (task, annotator) pair with the same label counts once; with
    different labels it is an error naming the pair.

    Examples
    --------
    >>> import pandas as pd
    >>> from skactivelab import multiannotator
    >>> long = pd.DataFrame({"task": ["b", "a", "a"], "annotator": ["x", "x", "y"],
    ...                      "label": [1, 0, 1]})
    >>> multiannotator.convert_long_to_wide_dataset(long)
         x    y
    a  0.0  1.0
    b  1.0  NaN
    """
    pd = _pandas()
    df = labels_multiannotator_long
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            "labels_multiannotator_long must be a pandas DataFrame with columns 'task', "
            f"'annotator' and 'label', got {type(df).__name__}."
        )
    missing = [c for c in ("task", "annotator", "label") if c not in df.columns]
    if missing:
        raise ValueError(
            f"labels_multiannotator_long has no column(s) {missing}; it needs the columns "
            f"'task', 'annotator' and 'label' (it has {list(df.columns)})."
        )
    df = df[["task", "annotator", "label"]]
    pair = df.duplicated(["task", "annotator"], keep=False)
    if pair.any():
        repeated = df[pair].drop_duplicates()
        conflict = repeated.duplicated(["task", "annotator"], keep=False)
        if conflict.any():
            task, annotator = repeated[conflict].iloc[0][["task", "annotator"]]
            raise ValueError(
                f"annotator {py_scalar(annotator)!r} gave task {py_scalar(task)!r} two different labels; "
                "keep one label per (task, annotator) pair, e.g. with "
                "drop_duplicates(['task', 'annotator'], keep='last')."
            )
        df = df.drop_duplicates(["task", "annotator"])
    wide = df.pivot(index="task", columns="annotator", values="label")
    wide.index.name = None
    wide.columns.name = None
    return wide
