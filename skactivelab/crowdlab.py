"""CROWDLAB: consensus labels, their quality and annotator quality (algorithms 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np
from sklearn.utils import check_random_state

from . import _kernels as K_
from ._utils import no_class_array, py_scalar
from ._annotations import labeled_inputs
from ._label_scores import check_label_quality_method, label_quality_scores

__all__ = [
    "LabelQualityResult",
    "get_label_quality_multiannotator",
    "get_label_quality_multiannotator_ensemble",
]

_CONSENSUS_METHODS = ("best_quality", "majority_vote")
_QUALITY_METHODS = ("crowdlab", "agreement")


_VIEWS = ("label_quality", "detailed_label_quality", "annotator_stats", "model_weight", "annotator_weight")


@dataclass(frozen=True, repr=False, eq=False)
class LabelQualityResult(Mapping):
    """Result of :func:`get_label_quality_multiannotator`: NumPy arrays, no pandas needed.

    Per example (length N): ``consensus_label`` (in the user's class values),
    ``consensus_quality_score``, ``annotator_agreement``, ``num_annotations``,
    ``post_pred_probs`` (N, K) the CROWDLAB posterior.

    Per annotation (aligned arrays of length n_annotations): ``annotation_example``,
    ``annotation_annotator`` (column positions) and ``annotation_quality``
    (by default ``post[i, L[i, j]]``; see ``label_quality_method``);
    :attr:`detailed_label_quality` gives the dense
    (N, M) view with NaN where there is no label.

    Per annotator (length M, in column order; NaN for an annotator with no label):
    ``annotator_ids``, ``annotator_quality``, ``agreement_with_consensus``,
    ``worst_class``, ``num_examples_labeled``, ``annotator_weights``.

    Also ``model_weight`` (float, or an array of one weight per model for an
    ensemble), ``temperature`` (None when not calibrated), ``classes`` (the user's
    class values, ``classes[k]`` is column k of pred_probs), ``example_ids`` and
    ``consensus_by_method`` (when several consensus methods were asked: method ->
    dict of ``consensus_label``, ``consensus_quality_score``, ``annotator_agreement``).

    Example IDs: ``example_ids`` holds the ID of each row when the input named
    its examples (a DataFrame's index or example column, a pred_probs DataFrame's
    index, string IDs in long format), else None (rows are positions); the
    DataFrame views are indexed by it.

    For code written against cleanlab, the result is also a read-only mapping
    (``collections.abc.Mapping``) with the keys ``"label_quality"``,
    ``"detailed_label_quality"``, ``"annotator_stats"``, ``"model_weight"`` and
    ``"annotator_weight"``, which return the same kind of objects as cleanlab's
    dict (DataFrames need pandas, and are built when asked for; for cleanlab's
    exact columns, index and dtypes use :mod:`skactivelab.multiannotator`). ``len``, ``in``,
    ``keys()`` and ``get()`` work as for a dict; iteration yields the keys;
    ``values()`` and ``items()`` build every view. Two results are equal when all
    their attributes hold equal values (NaN equal to NaN); results are not
    hashable. Attribute access (``result.consensus_label``) is unchanged, and
    ``dataclasses.replace`` makes a modified copy.

    Examples
    --------
    >>> import numpy as np
    >>> import skactivelab as sal
    >>> L = np.array([["cat", "cat", None], ["dog", "dog", "cat"], ["dog", None, "dog"]])
    >>> res = sal.get_label_quality_multiannotator(L, [[0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    >>> res.consensus_label.tolist(), res.num_examples_labeled.tolist()
    (['cat', 'dog', 'dog'], [3, 2, 2])
    >>> sorted(res.keys())[:2]
    ['annotator_stats', 'annotator_weight']
    """

    consensus_label: np.ndarray
    consensus_quality_score: np.ndarray
    annotator_agreement: np.ndarray
    num_annotations: np.ndarray
    post_pred_probs: np.ndarray
    annotation_example: np.ndarray
    annotation_annotator: np.ndarray
    annotation_quality: np.ndarray
    annotator_ids: np.ndarray
    annotator_quality: np.ndarray
    agreement_with_consensus: np.ndarray
    worst_class: np.ndarray
    num_examples_labeled: np.ndarray
    model_weight: object
    annotator_weights: np.ndarray
    classes: np.ndarray
    temperature: object = None
    example_ids: np.ndarray | None = None
    consensus_by_method: dict = field(default_factory=dict)

    def __repr__(self):
        n, m = self.consensus_label.shape[0], self.annotator_ids.shape[0]
        return (
            f"LabelQualityResult(n_examples={n}, n_annotators={m}, "
            f"n_classes={len(self.classes)}, mean_consensus_quality="
            f"{np.mean(self.consensus_quality_score):.4f})"
        )

    @property
    def detailed_label_quality(self):
        """Dense (N, M) array: quality of each given label, NaN where none was given."""
        out = np.full((self.consensus_label.shape[0], self.annotator_ids.shape[0]), np.nan)
        out[self.annotation_example, self.annotation_annotator] = self.annotation_quality
        return out

    # ------------------------------------------------------------------ pandas views
    def _index(self):
        return self.example_ids if self.example_ids is not None else None

    def to_frame(self):
        """Per-example DataFrame: consensus_label, consensus_quality_score, annotator_agreement, num_annotations."""
        return label_quality_frame(self, self._index())

    def detailed_label_quality_frame(self):
        """(N, M) DataFrame with columns ``quality_annotator_<id>``."""
        return detailed_quality_frame(self, self._index())

    def annotator_stats_frame(self, sort=True):
        """Per-annotator DataFrame indexed by annotator ID.

        ``sort=True`` orders rows by (annotator_quality, agreement_with_consensus)
        ascending, worst annotators first, as cleanlab does.
        """
        return annotator_stats_frame(self, _pandas().Index(self.annotator_ids, name="annotator"), sort=sort)

    # ------------------------------------------------------------------ Mapping
    def __getitem__(self, key):
        if key == "label_quality":
            return self.to_frame()
        if key == "detailed_label_quality":
            return self.detailed_label_quality_frame()
        if key == "annotator_stats":
            return self.annotator_stats_frame()
        if key == "model_weight":
            return self.model_weight
        if key == "annotator_weight":
            return self.annotator_weights
        raise KeyError(f"{key!r}; available: {list(_VIEWS)}")

    def __iter__(self):
        return iter(_VIEWS)

    def __len__(self):
        return len(_VIEWS)

    def __contains__(self, key):
        # no view is built (and pandas is not needed) to answer membership
        try:
            return key in _VIEWS
        except TypeError:  # pragma: no cover - unhashable keys
            return False

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None


# ------------------------------------------------------------------ cleanlab-style views
# The one builder of the DataFrames of a result: the result's own views and the
# cleanlab-compatible module (:mod:`skactivelab.multiannotator`) call these.
def label_quality_frame(result, index=None):
    """Per-example DataFrame (cleanlab's "label_quality"): consensus_label,
    consensus_quality_score, annotator_agreement, num_annotations, then the same
    three columns suffixed ``_<method>`` for each further consensus method."""
    pd = _pandas()
    columns = {
        "consensus_label": np.asarray(result.consensus_label),
        "consensus_quality_score": np.asarray(result.consensus_quality_score, dtype=float),
        "annotator_agreement": np.asarray(result.annotator_agreement, dtype=float),
        "num_annotations": np.asarray(result.num_annotations, dtype=np.int64),
    }
    for method, by in list(result.consensus_by_method.items())[1:]:
        columns[f"consensus_label_{method}"] = np.asarray(by["consensus_label"])
        columns[f"consensus_quality_score_{method}"] = np.asarray(by["consensus_quality_score"], dtype=float)
        columns[f"annotator_agreement_{method}"] = np.asarray(by["annotator_agreement"], dtype=float)
    return pd.DataFrame(columns, index=index)


def detailed_quality_frame(result, index=None, columns_name=None):
    """(N, M) DataFrame (cleanlab's "detailed_label_quality"): a column
    ``quality_annotator_<id>`` per annotator, NaN where no label was given."""
    pd = _pandas()
    names = [f"quality_annotator_{py_scalar(a)}" for a in np.asarray(result.annotator_ids)]
    return pd.DataFrame(np.asarray(result.detailed_label_quality, dtype=float), index=index,
                        columns=pd.Index(names, name=columns_name))


def annotator_stats_frame(result, index, *, sort=True):
    """Per-annotator DataFrame (cleanlab's "annotator_stats"), worst annotators first
    (by annotator_quality, then agreement_with_consensus) with ``sort``."""
    pd = _pandas()
    df = pd.DataFrame(
        {
            "annotator_quality": np.asarray(result.annotator_quality, dtype=float),
            "agreement_with_consensus": np.asarray(result.agreement_with_consensus, dtype=float),
            "worst_class": np.asarray(result.worst_class),
            "num_examples_labeled": np.asarray(result.num_examples_labeled, dtype=np.int64),
        },
        index=index,
    )
    if sort:
        df = df.sort_values(["annotator_quality", "agreement_with_consensus"], kind="stable")
    return df


def _same(a, b):
    """Value equality for result attributes: arrays (NaN equal to NaN), dicts, scalars."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        try:
            return bool(np.array_equal(a, b, equal_nan=True))
        except TypeError:  # object arrays (class names, IDs)
            return bool(np.array_equal(a, b))
    if a is None or b is None:
        return a is b
    return bool(a == b) or (a != a and b != b)


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        raise ImportError(
            "This view needs pandas: pip install 'skactivelab[pandas]'. The NumPy "
            "arrays are available as attributes without it."
        ) from None
    return pd


def _check_methods(consensus_method, quality_method):
    methods = [consensus_method] if isinstance(consensus_method, str) else list(consensus_method)
    if not methods:
        raise ValueError("consensus_method is empty; use 'best_quality' or 'majority_vote'.")
    for m in methods:
        if m not in _CONSENSUS_METHODS:
            raise ValueError(
                f"consensus_method {m!r} is not supported; use one of {list(_CONSENSUS_METHODS)} "
                "or a list of them."
            )
    if quality_method not in _QUALITY_METHODS:
        raise ValueError(
            f"quality_method {quality_method!r} is not supported; use one of {list(_QUALITY_METHODS)}."
        )
    return methods


def _prepare(labels_multiannotator, pred_probs, *, ensemble, classes, counts=True):
    """Validate inputs; return (ann, P with shape (E, N, K), n_per, count, index); ``count``
    is None without ``counts`` (the consensus then makes and frees its own)."""
    if pred_probs is None:
        raise ValueError("pred_probs is None; pass out-of-fold predicted probabilities.")
    ann, P, index, _ = labeled_inputs(
        labels_multiannotator, pred_probs, ndim=3 if ensemble else 2, classes=classes
    )
    if not ensemble:
        P = P[None]
    n_per = np.bincount(ann.example, minlength=ann.n_examples).astype(np.float64)
    count = K_.label_counts(ann) if counts else None
    return ann, P, n_per, count, index


def _class_values(codes, classes):
    """Class codes -> the user's class values; -1 (no class) stays -1 for numeric
    classes and becomes None otherwise."""
    codes = np.asarray(codes)
    out = no_class_array(classes, codes.shape[0], float_marker=-1.0)
    has = codes >= 0
    out[has] = classes[codes[has]]
    return out


def _single_label_result(ann, P, n_per, *, ensemble, example_ids):
    """The result when every example has exactly one label (algorithms 2.9).

    Returns ``(LabelQualityResult, consensus codes)``; labels in the user's
    class values (decoded here, once).
    """
    E, N, K = P.shape
    consensus, quality, stats = K_.single_annotation_consensus(ann, P)
    post = stats["post"]
    M, an = ann.n_annotators, ann.annotator
    n_lab = np.bincount(an, minlength=M).astype(np.float64)
    has = n_lab > 0
    label_quality = post[ann.example, ann.label]
    with np.errstate(invalid="ignore", divide="ignore"):
        annotator_quality = np.bincount(an, weights=label_quality, minlength=M) / n_lab
        # worst class: the class the annotator chose with the lowest mean model probability
        key = an * K + ann.label
        used = np.bincount(key, minlength=M * K)
        mean_q = np.bincount(key, weights=label_quality, minlength=M * K) / np.maximum(used, 1)
    mean_q = np.where(used > 0, mean_q, np.inf).reshape(M, K)
    worst = np.where(has, np.argmin(mean_q, axis=1), -1)
    result = LabelQualityResult(
        consensus_label=ann.classes[consensus],
        consensus_quality_score=quality,
        annotator_agreement=np.ones(N),
        num_annotations=n_per.astype(np.int64),
        post_pred_probs=post,
        annotation_example=ann.example,
        annotation_annotator=an,
        annotation_quality=label_quality,
        annotator_ids=ann.annotator_ids,
        annotator_quality=np.where(has, annotator_quality, np.nan),
        agreement_with_consensus=np.where(has, 1.0, np.nan),
        worst_class=_class_values(worst, ann.classes),
        num_examples_labeled=n_lab.astype(np.int64),
        model_weight=stats["model_weight"] if ensemble else 1.0,
        annotator_weights=np.where(has, stats["annotator_weights"], np.nan),
        classes=ann.classes,
        temperature=None,
        example_ids=example_ids,
    )
    return result, consensus


def label_quality(
    labels_multiannotator,
    pred_probs,
    *,
    ensemble=False,
    consensus_method="best_quality",
    quality_method="crowdlab",
    calibrate_probs=False,
    classes=None,
    random_state=None,
    label_quality_method="self_confidence",
    adjust_pred_probs=False,
    one_label="raise",
):
    """The one builder of consensus results (internal; the public functions wrap it).

    Returns ``(LabelQualityResult, consensus codes 0..K-1)``: the result is in the
    user's class values, the codes index ``result.classes``. When every example has
    exactly one label CROWDLAB is undefined: ``one_label="raise"`` refuses (the
    public functions, as cleanlab), ``one_label="label"`` returns the result of
    algorithms 2.9 (the estimators, the command line).
    """
    if one_label not in ("raise", "label"):
        raise ValueError(f"one_label must be 'raise' or 'label', got {one_label!r}.")
    methods = _check_methods(consensus_method, quality_method)
    label_quality_method, adjust_pred_probs = check_label_quality_method(label_quality_method, adjust_pred_probs)
    score = {"method": label_quality_method, "adjust_pred_probs": adjust_pred_probs}
    # the label counts are kept only for the "agreement" quality (CROWDLAB's consensus
    # makes its own and frees them after the majority vote)
    ann, P, n_per, count, index = _prepare(
        labels_multiannotator, pred_probs, ensemble=ensemble, classes=classes,
        counts=quality_method != "crowdlab",
    )
    if not (n_per > 1).any() and one_label == "label":
        return _single_label_result(
            ann, P, n_per, ensemble=ensemble,
            example_ids=ann.example_ids if index is None else np.asarray(index),
        )
    if not (n_per > 1).any():
        raise ValueError(
            "Every example has exactly one annotation, so annotators cannot be compared "
            "with each other and CROWDLAB is undefined. Collect a second label for some "
            "examples, or use get_active_learning_scores, which handles this case."
        )
    rng = check_random_state(random_state)
    consensus_by_method = _each_consensus(ann, P, n_per, count, methods, calibrate_probs, rng, quality_method, score)
    return _result(ann, P, n_per, count, consensus_by_method, quality_method, score, ensemble=ensemble,
                   example_ids=ann.example_ids if index is None else np.asarray(index))


def _each_consensus(ann, P, n_per, count, methods, calibrate, rng, quality_method, score):
    """``{method: (consensus codes, CROWDLAB stats, temperatures, consensus quality)}``
    for each consensus method, in order (the first one defines every statistic)."""
    out = {}
    for m in methods:  # at most two methods
        consensus, stats, temperatures = K_.crowdlab_consensus(
            ann, P, n_per, count, method=m, calibrate=calibrate, rng=rng, quality_method=quality_method,
        )
        if quality_method == "crowdlab":
            quality_m = label_quality_scores(stats["post"], np.arange(ann.n_examples), consensus, **score)
        else:  # the fraction of annotators who chose the consensus
            quality_m = (count / n_per[:, None])[np.arange(ann.n_examples), consensus]
        out.setdefault(m, (consensus, stats, temperatures, quality_m))
    return out


def _result(ann, P, n_per, count, by_method, quality_method, score, *, ensemble, example_ids):
    """``(LabelQualityResult, consensus codes)`` of the first consensus method."""
    consensus, stats, temperatures, quality = next(iter(by_method.values()))
    ex, lab = ann.example, ann.label
    if quality_method == "crowdlab":
        post = stats["post"]
        w, w_M = stats["annotator_weights"], stats["model_weight"]
    else:  # "agreement": empirical label distribution, no weights
        post = count / n_per[:, None]
        w, w_M = None, None
    # each label scored against the posterior, confident thresholds per annotator
    annotation_quality = label_quality_scores(
        post, ex, lab, groups=ann.annotator, n_groups=ann.n_annotators, **score
    )
    annot = K_.annotator_statistics(
        ann, n_per, consensus, annotation_quality, stats["hit"], stats["plus"], w,
        None if w_M is None else w_M.mean(), quality,
    )
    model_weight = None if w_M is None else (w_M if ensemble else float(w_M[0]))
    return LabelQualityResult(
        consensus_label=ann.classes[consensus],
        consensus_quality_score=quality,
        annotator_agreement=stats["agree"],
        num_annotations=n_per.astype(np.int64),
        post_pred_probs=post,
        annotation_example=ex,
        annotation_annotator=ann.annotator,
        annotation_quality=annotation_quality,
        annotator_ids=ann.annotator_ids,
        annotator_quality=annot["annotator_quality"],
        agreement_with_consensus=annot["agreement_with_consensus"],
        # annotators with no label have no worst class: -1 (numeric classes) or None
        worst_class=_class_values(annot["worst_class"], ann.classes),
        num_examples_labeled=annot["num_examples_labeled"],
        model_weight=model_weight,
        annotator_weights=w,
        classes=ann.classes,
        temperature=None if temperatures is None else (temperatures if ensemble else float(temperatures[0])),
        example_ids=example_ids,
        consensus_by_method={
            m: {"consensus_label": ann.classes[c], "consensus_quality_score": q, "annotator_agreement": st["agree"]}
            for m, (c, st, _, q) in by_method.items()
        } if len(by_method) > 1 else {},
    ), consensus


def get_label_quality_multiannotator(
    labels_multiannotator,
    pred_probs,
    *,
    consensus_method="best_quality",
    quality_method="crowdlab",
    calibrate_probs=False,
    classes=None,
    random_state=None,
    label_quality_method="self_confidence",
    adjust_pred_probs=False,
):
    """Consensus labels, their quality and annotator quality with CROWDLAB.

    Parameters
    ----------
    labels_multiannotator : array-like of shape (n_examples, n_annotators), DataFrame, sparse matrix or tuple
        The annotations: NaN or -1 where an annotator did not label an example;
        a DataFrame whose columns are annotator IDs; long format (a DataFrame with
        columns ``task``, ``annotator``, ``label`` or a tuple of three arrays); or
        a sparse matrix whose stored entries are labels. Every example needs at
        least one label; some need two or more.
    pred_probs : array-like or DataFrame of shape (n_examples, n_classes)
        Out-of-fold predicted class probabilities of any classifier; column k is
        class k (integer labels) or the k-th of the sorted class names. A
        DataFrame indexed by example ID is matched to the annotations by ID, and
        its column names (unless 0..K-1) name the classes; with a bare array rows
        follow the rule in :func:`get_active_learning_scores` (Notes). Rows
        summing to 1 within 0.01 are renormalised.
    consensus_method : {"best_quality", "majority_vote"} or list, default="best_quality"
        How to pick the consensus label. With a list the first method defines all
        statistics and every method's labels are in ``consensus_labels``.
    quality_method : {"crowdlab", "agreement"}, default="crowdlab"
        "agreement" scores a consensus by the fraction of annotators who agree
        with it and ignores the model.
    calibrate_probs : bool, default=False
        Temperature-scale ``pred_probs`` to the annotations first
        (:func:`find_best_temperature`).
    classes : array-like, optional
        Class values in column order of ``pred_probs`` when labels are not
        0..K-1 (for example strings whose sorted order is not the column order).
    random_state : int, RandomState instance or None, default=None
        Breaks majority-vote ties that nothing else breaks.
    label_quality_method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}, default="self_confidence"
        How a label is scored against the CROWDLAB posterior ``p`` of its example
        (consensus quality, per-annotation quality and, through their mean, annotator
        quality): ``p[label]``; ``(p[label] - max_{k != label} p[k] + 1) / 2``; or
        ``log(1 + x) / x`` with ``x`` the normalised entropy of ``p`` over
        ``p[label]``. With ``quality_method="agreement"`` it scores each annotator's
        labels against the annotators' empirical label distribution.
    adjust_pred_probs : bool, default=False
        Account for class imbalance when scoring labels: subtract from the posterior
        each class's confident threshold (the mean probability of the class over the
        labels of that class; per annotator for the annotators' labels), add back
        the largest threshold and renormalise. Not available with
        "confidence_weighted_entropy".

    Returns
    -------
    LabelQualityResult
        Arrays per example, per annotation and per annotator; see its docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import get_label_quality_multiannotator
    >>> labels = np.array([[0, 0, -1], [1, 1, 0], [1, -1, 1], [0, 1, 0]])
    >>> pred_probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    >>> res = get_label_quality_multiannotator(labels, pred_probs)
    >>> res.consensus_label.tolist()
    [0, 1, 1, 0]
    >>> res.num_annotations.tolist()
    [2, 3, 2, 3]
    """
    result, _ = label_quality(
        labels_multiannotator,
        pred_probs,
        ensemble=False,
        consensus_method=consensus_method,
        quality_method=quality_method,
        calibrate_probs=calibrate_probs,
        classes=classes,
        random_state=random_state,
        label_quality_method=label_quality_method,
        adjust_pred_probs=adjust_pred_probs,
    )
    return result


def get_label_quality_multiannotator_ensemble(
    labels_multiannotator,
    pred_probs,
    *,
    calibrate_probs=False,
    classes=None,
    random_state=None,
    label_quality_method="self_confidence",
    adjust_pred_probs=False,
):
    """CROWDLAB with several classifiers; ``pred_probs`` has shape (n_models, n_examples, n_classes).

    Each model gets its own weight (``model_weight`` is an array); with
    ``calibrate_probs`` each model gets its own temperature. ``pred_probs`` may
    also be a list of DataFrames (one per model) indexed by example ID. The consensus method
    is "best_quality" and the quality method "crowdlab". The caller's arrays are
    never modified. Other parameters (``label_quality_method`` and
    ``adjust_pred_probs`` included) and the result are as in
    :func:`get_label_quality_multiannotator`.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import get_label_quality_multiannotator_ensemble
    >>> labels = np.array([[0, 0, -1], [1, 1, 0], [1, -1, 1], [0, 1, 0]])
    >>> p1 = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    >>> p2 = np.array([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5], [0.8, 0.2]])
    >>> res = get_label_quality_multiannotator_ensemble(labels, np.stack([p1, p2]))
    >>> res.model_weight.shape
    (2,)
    """
    result, _ = label_quality(
        labels_multiannotator,
        pred_probs,
        ensemble=True,
        consensus_method="best_quality",
        quality_method="crowdlab",
        calibrate_probs=calibrate_probs,
        classes=classes,
        random_state=random_state,
        label_quality_method=label_quality_method,
        adjust_pred_probs=adjust_pred_probs,
    )
    return result
