"""An active learner that can ask for new labels *and* for second opinions."""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np
from sklearn.base import clone

from ._annotations import check_annotations, rows_of_X
from ._utils import is_missing, py_scalar
from .crowd_models import check_crowd_model
from .query import assign_annotators  # also importable from here, its former home
from .strategies import ActiveLabQuery

__all__ = ["MultiAnnotatorActiveLearner"]


_POLICIES = ("replace", "keep", "error")
_INT64_MAX = np.iinfo(np.int64).max


# ---------------------------------------------------------------------- labels
def _kind_name(kind):
    return {"integer": "integers", "string": "strings"}.get(kind, f"{kind} values")


def _a_kind(kind):
    return {"integer": "an integer", "string": "a string"}.get(kind, f"a {kind}")


def _check_teach_labels(labels, n, kind):
    """Validate the labels of one :meth:`MultiAnnotatorActiveLearner.teach` call.

    Returns ``(values, kind)``: the labels as an int64 array (integer classes) or an
    object array of Python values (strings or other hashables), and the label kind
    ("integer", "string" or a type name). ``kind`` is the learner's kind (None when
    it has no label yet); every label must be of that kind.
    """
    raw = _teach_label_array(labels)
    if raw.ndim != 1:
        raise ValueError(f"labels must be 1-D (one label per index), got shape {raw.shape}.")
    if raw.shape[0] != n:
        raise ValueError(f"teach got {n} indices but {raw.shape[0]} labels; give one label per index.")
    text_array = raw.dtype.kind in "US"
    obj = raw.astype(object)
    missing = is_missing(obj)
    values, kinds, problems = _read_teach_labels(obj, missing, text_array)
    if missing.any():
        _refuse_missing_labels(raw, missing, text_array)
    if kind is None:
        present = [k for k in dict.fromkeys(kinds.tolist()) if k is not None]
        kind = present[0] if present else None
    wrong = np.flatnonzero((kinds != kind) & (kinds != None))  # noqa: E711 (elementwise)
    for i in wrong:
        problems.append((i, obj[i], f"{_a_kind(kinds[i])}, not {_kind_name(kind)}"))
    if problems:
        _refuse_label_problems(problems, kind)
    if kind == "integer":
        return np.asarray(values.tolist(), dtype=np.int64), kind
    return values, kind


def _teach_label_array(labels):
    """The teach labels as an array of at least one dimension, each value of its own type."""
    if hasattr(labels, "dtype") and hasattr(labels, "shape"):  # ndarray, Series: keep its dtype
        raw = np.asarray(labels)
    else:  # a list keeps each value's own type (no promotion of [1.5, "1"] to text)
        try:
            ndim = np.ndim(labels)
        except ValueError:
            ndim = 2  # ragged nested sequence
        raw = np.empty(1 if ndim == 0 else len(labels), dtype=object)
        if ndim == 0:
            raw[0] = labels
        elif ndim == 1:
            raw[:] = list(labels)
        else:
            raw = np.asarray(labels, dtype=object)
    if raw.ndim == 0:
        raw = raw.reshape(1)
    return raw


def _read_teach_labels(obj, missing, text_array):
    """(values, kinds, problems) of each present label; marks empty texts in ``missing``."""
    n = obj.shape[0]
    problems = []  # (position, value, reason)
    values = np.empty(n, dtype=object)
    kinds = np.empty(n, dtype=object)
    for i in np.flatnonzero(~missing):  # one teach batch: validation, not numeric code
        v = obj[i]
        if isinstance(v, (bool, np.bool_)):
            problems.append((i, v, "a bool, not a class label"))
        elif isinstance(v, numbers.Integral):
            v = int(v)
            if v == -1:
                problems.append((i, v, "-1 marks a missing label; teach needs an actual label"))
            elif v < 0 or v > _INT64_MAX:
                problems.append((i, v, "integer class labels must be in 0..2**63-1"))
            else:
                values[i], kinds[i] = v, "integer"
        elif isinstance(v, numbers.Real):
            v = float(v)
            if not np.isfinite(v):
                problems.append((i, v, "not a finite number"))
            elif v != round(v):
                problems.append((i, v, "not a whole number, so not a class label"))
            elif v == -1:
                problems.append((i, v, "-1 marks a missing label; teach needs an actual label"))
            elif v < 0 or v > _INT64_MAX:
                problems.append((i, v, "integer class labels must be in 0..2**63-1"))
            else:
                values[i], kinds[i] = int(v), "integer"
        elif isinstance(v, str):
            if v == "" or (text_array and v == "nan"):
                missing[i] = True
            else:
                values[i], kinds[i] = str(v), "string"
        elif isinstance(v, numbers.Number):
            problems.append((i, v, f"a {type(v).__name__}, not a class label"))
        else:
            values[i], kinds[i] = v, type(v).__name__
    return values, kinds, problems


def _refuse_missing_labels(raw, missing, text_array):
    """Raise the error naming the positions of missing teach labels."""
    pos = np.flatnonzero(missing)
    hint = (
        " (np.nan inside a NumPy string array becomes the text 'nan'; pass a list "
        "or an object array)" if text_array and np.any(raw[pos] == "nan") else ""
    )
    raise ValueError(
        f"labels at positions {pos[:10].tolist()} are missing (None, NaN or empty){hint}; "
        "a teach without a label is not an annotation. Teach only the rows that were "
        "labeled."
    )


def _refuse_label_problems(problems, kind):
    """Raise the error listing teach labels that are not class labels of this learner."""
    problems.sort(key=lambda p: p[0])
    shown = "; ".join(f"position {int(i)}: {py_scalar(v)!r} ({why})" for i, v, why in problems[:10])
    more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
    raise ValueError(
        f"teach got labels that are not class labels of this learner, whose labels "
        f"are {_kind_name(kind)}: {shown}{more}. Give labels of the same kind as the "
        "existing ones (a new class of the same kind is fine)."
    )


def _labels_kind(values):
    """Kind ("integer", "string" or a type name) of stored label values; None if empty."""
    values = np.asarray(values)
    if values.size == 0:
        return None
    if values.dtype.kind in "iu":
        return "integer"
    if values.dtype.kind in "US":
        return "string"
    first = values.flat[0]
    if isinstance(first, numbers.Integral) and not isinstance(first, (bool, np.bool_)):
        return "integer"
    return "string" if isinstance(first, str) else type(first).__name__


def _check_ids(annotators, n):
    """Annotator IDs of one teach call: one per index, none missing."""
    if isinstance(annotators, (str, bytes)) or np.ndim(annotators) == 0:
        ids = np.empty(n, dtype=object)
        ids[:] = [annotators] * n
    else:
        ids = np.empty(len(annotators), dtype=object)
        ids[:] = list(annotators)
        if ids.shape[0] != n:
            raise ValueError(
                f"teach got {n} indices but {ids.shape[0]} annotators; give one annotator "
                "ID, or one per index."
            )
    bad = np.flatnonzero(is_missing(ids)) if n else np.empty(0, dtype=np.int64)
    if bad.size:
        raise ValueError(
            f"annotators at positions {bad[:10].tolist()} are missing (None or NaN); give "
            "each label the ID of the annotator who gave it."
        )
    ids[:] = [py_scalar(a) for a in ids.tolist()]  # numpy scalars -> Python values (readable IDs)
    return ids


def _set_crowd_model(template, crowd_model, active_learning_method):
    """Give the estimator (a Pipeline: its last step) the learner's crowd model, resolved
    once here (the deprecated ``active_learning_method`` included)."""
    last = template.steps[-1][1] if hasattr(template, "steps") else template
    if "crowd_model" not in last.get_params(deep=False):
        what = "crowd_model" if active_learning_method is None else "active_learning_method"
        raise ValueError(
            f"{what} needs a MultiAnnotatorClassifier; {type(last).__name__} has no crowd_model parameter."
        )
    params = {"crowd_model": check_crowd_model(crowd_model, active_learning_method)}
    if "active_learning_method" in last.get_params(deep=False):
        params["active_learning_method"] = None
    last.set_params(**params)


def _readonly(a):
    a.setflags(write=False)
    return a


class MultiAnnotatorActiveLearner:
    """Active learning with re-labeling by multiple annotators, shaped like modAL's learners.

    The learner holds the whole dataset ``X`` (labeled and unlabeled rows) and the
    annotations collected so far. Each round: :meth:`query` picks rows to annotate
    (unlabeled rows for a first label, labeled rows for another opinion), the team
    labels them, :meth:`teach` records the labels and refits the estimator.
    It works with or without modAL installed.

    Every state change is all-or-nothing: :meth:`teach` validates its input and
    fits a fresh clone of the estimator on the new annotations before it records
    anything, so when a label is refused or the fit fails (or is interrupted) the
    learner is exactly as it was before the call.

    Annotators are always named by their IDs (the ``y`` column names or long-format
    annotator IDs, and the IDs given to :meth:`teach`): the estimator is fit with
    these IDs, so ``learner.estimator.annotator_ids_`` are the user's IDs, and
    :meth:`suggest_annotators` looks qualities up by ID.

    Parameters
    ----------
    estimator : MultiAnnotatorClassifier
        The model (or a Pipeline ending in one). It is cloned; the learner's
        ``estimator`` attribute is a fitted clone, replaced by a newly fitted
        clone at every :meth:`teach`.
    query_strategy : callable, default=None
        ``strategy(learner, X, n_instances) -> (indices, scores)``;
        :class:`ActiveLabQuery` by default.
    X : array-like of shape (n_samples, n_features)
        Every example that may ever be labeled.
    y : annotations, default=None
        Initial annotations for the rows of ``X`` in any format the scoring core
        accepts (rows without a label are the unlabeled pool). Long format names
        rows of ``X`` by their integer row number. If given, the estimator is fit
        at construction, like modAL's ``X_training``/``y_training``.
    duplicate_policy : {"replace", "keep", "error"}, default="replace"
        What to do when an annotator labels an example they already labeled:
        "replace" keeps the newest label (annotators correcting themselves),
        "keep" keeps the first, "error" raises.
    crowd_model : {"crowdlab", "annotator_confusion", "majority_vote"}, instance or None, default=None
        Sets the estimator's ``crowd_model`` (its consensus and its scores; see
        :class:`MultiAnnotatorClassifier`); None keeps the estimator's own setting.
    active_learning_method : {"activelab", "activelab_em"}, default=None
        Deprecated: ``"activelab"`` is ``crowd_model="crowdlab"``,
        ``"activelab_em"`` is ``crowd_model="annotator_confusion"`` (with a
        FutureWarning).

    Attributes
    ----------
    estimator : estimator
        The fitted clone (modAL's attribute name, so strategies find it).
    annotator_ids_ : ndarray
        Annotator IDs known to the learner (read-only), in order of first
        appearance: the columns of ``y``, then new IDs as :meth:`teach` meets them.
        An ID may have no label (an empty column of ``y``); the estimator only
        sees annotators with labels.
    history_ : list of dict
        One entry per :meth:`teach`: ``indices`` taught, ``n_relabels`` (stored
        labels for rows that already had one), ``n_new`` (stored first labels),
        ``n_replaced`` (an annotator's earlier label replaced), ``n_ignored``
        (labels not stored under ``duplicate_policy="keep"``),
        ``consensus_changed`` (previously labeled rows whose consensus label
        changed with the refit), ``n_annotations`` (total after the round) and
        ``refit`` (False when nothing was stored, so the model was kept).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactivelab import MultiAnnotatorClassifier, MultiAnnotatorActiveLearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 2)); truth = (X[:, 0] > 0).astype(int)
    >>> y = np.full((80, 2), -1); y[:40, 0] = truth[:40]; y[:20, 1] = truth[:20]
    >>> learner = MultiAnnotatorActiveLearner(
    ...     MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0), X=X, y=y)
    >>> idx, scores = learner.query(n_instances=4)
    >>> _ = learner.teach(idx, truth[idx], annotators="carol")
    >>> learner.history_[-1]["n_relabels"] + learner.history_[-1]["n_new"]
    4
    >>> list(learner.annotator_ids_)
    [0, 1, 'carol']
    >>> list(learner.estimator.annotator_ids_)
    [0, 1, 'carol']
    """

    def __init__(self, estimator, query_strategy=None, X=None, y=None, *, duplicate_policy="replace",
                 crowd_model=None, active_learning_method=None):
        if not isinstance(duplicate_policy, str) or duplicate_policy not in _POLICIES:
            raise ValueError(f"duplicate_policy must be one of {list(_POLICIES)}, got {duplicate_policy!r}.")
        if X is None:
            raise ValueError("X is required: every example that may be labeled, labeled or not.")
        if not (hasattr(X, "shape") or hasattr(X, "__len__")):
            raise TypeError(f"X must be array-like (n_samples, n_features), got {type(X).__name__}.")
        if query_strategy is not None and not callable(query_strategy):
            raise TypeError(
                "query_strategy must be a callable strategy(learner, X, n_instances) -> "
                f"(indices, scores), got {type(query_strategy).__name__}."
            )
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
        template = clone(estimator)
        if crowd_model is not None or active_learning_method is not None:
            _set_crowd_model(template, crowd_model, active_learning_method)
        empty = np.empty(0, dtype=np.int64)
        rows, cols, labels = empty, empty, np.empty(0, dtype=np.int64)
        ids = np.empty(0, dtype=object)
        kind = None
        if y is not None:
            rows, cols, labels, ids, kind = self._parse_y(y, X, n_samples)
        fitted = clone(template)
        if rows.size:
            fitted = self._fit_clone(template, X, n_samples, rows, cols, labels, ids)
        # nothing is recorded before everything above succeeded
        self.crowd_model = crowd_model
        self.active_learning_method = active_learning_method
        self._template = template
        self.estimator = fitted
        self.query_strategy = ActiveLabQuery() if query_strategy is None else query_strategy
        self.X = X
        self.duplicate_policy = duplicate_policy
        self.n_samples_ = n_samples
        self.history_ = []
        self._fitted = bool(rows.size)
        self._rows, self._cols, self._labels = (_readonly(rows), _readonly(cols), _readonly(labels))
        self.annotator_ids_ = _readonly(ids)
        self._kind = kind

    @staticmethod
    def _parse_y(y, X, n_samples):
        # rows of X, matched by example ID (a DataFrame X's index) or by row number
        y = rows_of_X(y, X)
        ann = check_annotations(y, n_examples=n_samples, require_labeled=False, name="y", rows_name="X")
        ids = np.empty(len(ann.annotator_ids), dtype=object)
        ids[:] = [py_scalar(a) for a in np.asarray(ann.annotator_ids).tolist()]
        first = {}
        for j, a in enumerate(ids.tolist()):
            first.setdefault(a, j)
        if len(first) != ids.size:
            dup = [a for j, a in enumerate(ids.tolist()) if first[a] != j]
            raise ValueError(
                f"y names annotators {dup[:5]!r} more than once; give each annotator one "
                "column (or one ID)."
            )
        bad = np.flatnonzero(is_missing(ids)) if ids.size else ids
        if len(bad):
            raise ValueError(
                f"y has missing annotator IDs (None/NaN) at columns {bad[:10].tolist()}; "
                "name every annotator."
            )
        values = ann.classes[ann.label]
        kind = _labels_kind(values)
        if kind == "integer":
            if values.size and values.dtype.kind == "u" and int(values.max()) > np.iinfo(np.int64).max:
                raise ValueError(
                    f"y has integer class labels up to {int(values.max())}, beyond the int64 "
                    "range the learner stores labels in; renumber the classes or give them "
                    "as strings."
                )
            values = values.astype(np.int64)
        else:
            obj = np.empty(values.size, dtype=object)
            obj[:] = [py_scalar(v) for v in values.tolist()]
            values = obj
        return (
            np.array(ann.example, dtype=np.int64),
            np.array(ann.annotator, dtype=np.int64),
            values,
            ids,
            kind,
        )

    # ------------------------------------------------------------------ state
    @property
    def annotations(self):
        """All annotations so far as long format ``(rows, annotator_ids, labels)`` (copies)."""
        return self._rows.copy(), self.annotator_ids_[self._cols], self._labels.copy()

    @property
    def n_annotations_per_row(self):
        return np.bincount(self._rows, minlength=self.n_samples_)

    @staticmethod
    def _target(n_samples, rows, cols, labels, ids):
        """The annotations as the estimator's target, annotators named by the user's IDs.

        Only annotators with at least one label take part (an idle ID has nothing to
        score); the estimator's ``annotator_ids_`` are then these user IDs.
        """
        active = np.flatnonzero(np.bincount(cols, minlength=ids.size) > 0)
        code = np.full(ids.size, -1, dtype=np.int64)
        code[active] = np.arange(active.size)
        ann = check_annotations(
            (rows, code[cols], labels), n_examples=n_samples, require_labeled=False,
            name="the learner's annotations", rows_name="X",
        )
        # ann.annotator_ids are the codes given above; name them by the user's IDs
        user_ids = np.empty(active.size, dtype=object)
        user_ids[:] = ids[active].tolist()
        return replace(ann, annotator_ids=user_ids[np.asarray(ann.annotator_ids, dtype=np.int64)])

    def _fit_clone(self, template, X, n_samples, rows, cols, labels, ids):
        """A fresh clone of the estimator fitted on the given (candidate) annotations."""
        est = clone(template)
        est.fit(X, self._target(n_samples, rows, cols, labels, ids))
        return est

    def _model(self):
        """The fitted MultiAnnotatorClassifier (the last step if the estimator is a Pipeline)."""
        est = self.estimator
        return est.steps[-1][1] if hasattr(est, "steps") else est

    def _check_fitted(self, what):
        if not self._fitted:
            raise ValueError(
                f"The learner has no annotations yet; pass y at construction or teach some "
                f"labels first (a model is needed to {what})."
            )

    def _check_indices(self, indices, name="indices"):
        idx = np.asarray(indices)
        if idx.ndim == 0:
            idx = idx.reshape(1)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ValueError(f"{name} must be a 1-D array of integer row numbers of X.")
        if idx.size == 0:
            raise ValueError(f"{name} is empty; pass the rows of X (for example from query).")
        if idx.dtype.kind == "u" and idx.max() > _INT64_MAX:
            raise ValueError(f"{name} {[int(idx.max())]} are not rows of X (0..{self.n_samples_ - 1}).")
        idx = idx.astype(np.int64)  # a copy: the caller's array is never kept
        out = (idx < 0) | (idx >= self.n_samples_)
        if out.any():
            raise ValueError(f"{name} {idx[out][:5].tolist()} are not rows of X (0..{self.n_samples_ - 1}).")
        return idx

    def _quality_by_id(self):
        """Annotator quality per entry of ``annotator_ids_`` (NaN if unseen by the model): the
        crowd model's accuracy where it estimates one, else CROWDLAB's annotator quality."""
        model = self._model()
        accuracy = getattr(model, "annotator_accuracy_", None)
        quality = np.asarray(model.annotator_quality_ if accuracy is None else accuracy, dtype=np.float64)
        where = {a: j for j, a in enumerate(self.annotator_ids_.tolist())}
        pos = np.array([where.get(py_scalar(a), -1) for a in np.asarray(model.annotator_ids_).tolist()],
                       dtype=np.int64)
        out = np.full(self.annotator_ids_.size, np.nan)
        out[pos[pos >= 0]] = quality[pos >= 0]
        return out

    # ------------------------------------------------------------------ loop
    def query(self, n_instances=1, **kwargs):
        """Rows of ``X`` to annotate next and their scores (lowest first).

        Parameters
        ----------
        n_instances : int, default=1
        **kwargs : passed to the query strategy.

        Returns
        -------
        indices : ndarray of int
        scores : ndarray of float
        """
        self._check_fitted("score examples")
        return self.query_strategy(self, self.X, n_instances=n_instances, **kwargs)

    def teach(self, indices, labels, annotators=None):
        """Record new annotations and refit, all or nothing.

        The input is validated and a fresh clone of the estimator is fitted on the
        new annotations before anything is recorded: if a label is refused or the
        fit fails (or is interrupted), the learner keeps its previous annotations,
        annotators, history and fitted estimator.

        Parameters
        ----------
        indices : array-like of int
            Rows of ``X`` that were annotated.
        labels : array-like
            One label per index, of the same kind as the existing labels: integer
            class labels (Python or NumPy integers, or whole floats such as
            ``2.0``, as in ``y``) or strings. A new class of the same kind is fine.
            Refused, naming the positions: missing labels (None, NaN, ``""``, the
            text ``"nan"`` in a NumPy string array, where ``np.nan`` ends up as that
            text, and ``-1``, which marks a missing label in ``y``; a teach without
            a label is not an annotation), other negative or non-whole numbers, booleans,
            and labels of another kind (the string ``"1"`` on an integer learner,
            the integer 1 on a string learner).
        annotators : scalar or array-like, default=None
            Who gave each label: one ID for all, or one per index (None/NaN IDs
            are refused). A new ID adds an annotator. None records the round's
            labels as one new annotator ``"round_<k>"`` (as in the ActiveLab
            paper's simulations).

        Returns
        -------
        self
        """
        idx = self._check_indices(indices)
        n = idx.size
        labels, kind = _check_teach_labels(labels, n, self._kind)
        if annotators is None:
            annotators = f"round_{len(self.history_) + 1}"
        ann_ids = _check_ids(annotators, n)
        ids, cols = self._candidate_columns(ann_ids)
        keep_old, keep_new, n_replaced, n_ignored = self._duplicate_masks(idx, cols, ann_ids, ids.size)

        had = (self.n_annotations_per_row[idx] > 0)[keep_new]
        rows = np.concatenate([self._rows[keep_old], idx[keep_new]])
        cols = np.concatenate([self._cols[keep_old], cols[keep_new]])
        new_labels = np.concatenate([self._labels[keep_old], labels[keep_new]])
        if kind != "integer":
            new_labels = new_labels.astype(object)

        refit = bool(keep_new.any())
        estimator, changed = self.estimator, 0
        if refit:
            estimator, changed = self._refit_candidate(rows, cols, new_labels, ids)
        entry = {
            "round": len(self.history_) + 1,
            "indices": idx.copy(),
            "n_relabels": int(had.sum()),
            "n_new": int((~had).sum()),
            "n_replaced": n_replaced,
            "n_ignored": n_ignored,
            "consensus_changed": changed,
            "n_annotations": int(rows.size),
            "refit": refit,
        }
        state = {"history_": [*self.history_, entry]}
        if refit:
            state.update(
                estimator=estimator,
                _fitted=True,
                _rows=_readonly(rows),
                _cols=_readonly(cols),
                _labels=_readonly(new_labels),
                annotator_ids_=_readonly(ids),
                _kind=kind,
            )
        # one dict update: nothing is half-recorded even if interrupted here
        self.__dict__.update(state)
        return self

    def _candidate_columns(self, ann_ids):
        """(ids, cols): known IDs keep their column, new IDs are appended (candidate list)."""
        known = {a: j for j, a in enumerate(self.annotator_ids_.tolist())}
        new_ids = [a for a in dict.fromkeys(ann_ids.tolist()) if a not in known]
        for a in new_ids:
            known[a] = len(known)
        ids = np.empty(len(known), dtype=object)
        ids[:] = list(known)
        cols = np.array([known[a] for a in ann_ids.tolist()], dtype=np.int64)
        return ids, cols

    def _duplicate_masks(self, idx, cols, ann_ids, M):
        """(keep_old, keep_new, n_replaced, n_ignored) under ``duplicate_policy``."""
        n = idx.size
        key_new = idx * M + cols
        if np.unique(key_new).size != n:
            raise ValueError("teach got the same (index, annotator) pair twice in one call.")
        key_old = self._rows * M + self._cols
        clash_old = np.isin(key_old, key_new)
        clash_new = np.isin(key_new, key_old)
        if clash_new.any() and self.duplicate_policy == "error":
            r = int(idx[clash_new][0])
            a = ann_ids[clash_new][0]
            raise ValueError(
                f"annotator {a!r} already labeled row {r}; use duplicate_policy='replace' or 'keep'."
            )
        if self.duplicate_policy == "replace":
            keep_old, keep_new = ~clash_old, np.ones(n, dtype=bool)
            n_replaced, n_ignored = int(clash_new.sum()), 0
        else:  # "keep": an annotator's first label stays
            keep_old, keep_new = np.ones(self._rows.size, dtype=bool), ~clash_new
            n_replaced, n_ignored = 0, int(clash_new.sum())
        return keep_old, keep_new, n_replaced, n_ignored

    def _refit_candidate(self, rows, cols, labels, ids):
        """(estimator, consensus_changed): a clone fitted on the candidate annotations."""
        estimator = self._fit_clone(self._template, self.X, self.n_samples_, rows, cols, labels, ids)
        changed = 0
        if self._fitted:
            model_after = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
            before, lab_before = self._consensus()
            changed = int(np.sum(before[lab_before] != model_after.consensus_labels_[lab_before]))
        return estimator, changed

    def _consensus(self):
        est = self._model()
        return est.consensus_labels_, est.labeled_mask_

    # ------------------------------------------------------------------ annotators
    def suggest_annotators(self, indices, *, max_per_annotator=None, available=None):
        """Suggest who should label each picked row (optional; ActiveLab imposes no annotator).

        Each row goes to the annotator with the highest quality who has not
        labeled it yet (CROWDLAB's annotator quality; with
        ``crowd_model="annotator_confusion"`` the annotator accuracy of the
        fitted crowd model, ``annotator_accuracy_``, which every label informs,
        even when each example has one), with at most ``max_per_annotator`` rows per
        annotator in this batch (rows earlier in ``indices`` choose first).
        Qualities are matched to annotators by ID; an annotator the model has not
        seen yet (no label so far) has no quality and ranks last.

        Parameters
        ----------
        indices : array-like of int
            Distinct rows of ``X`` (for example from :meth:`query`), in priority order.
        max_per_annotator : int, default=None
            Cap per annotator in this batch; None for no cap.
        available : array-like, default=None
            IDs of known annotators who can work now; default all known annotators.

        Returns
        -------
        ndarray of object, shape (len(indices),)
            The suggested annotator ID per row, None where nobody is left.
        """
        self._check_fitted("rate annotators")
        idx = self._check_indices(indices)
        uniq, counts = np.unique(idx, return_counts=True)
        if uniq.size != idx.size:
            dup = uniq[counts > 1]
            raise ValueError(f"indices {dup[:5].tolist()} appear more than once; give each row once.")
        if max_per_annotator is not None and (
            isinstance(max_per_annotator, (bool, np.bool_)) or not isinstance(max_per_annotator, numbers.Integral)
        ):
            raise ValueError(f"max_per_annotator must be a positive integer or None, got {max_per_annotator!r}.")
        quality = self._quality_by_id()
        M = self.annotator_ids_.size
        eligible = np.ones((idx.size, M), dtype=bool)
        if available is not None:
            avail_ids = [available] if isinstance(available, (str, bytes)) or np.ndim(available) == 0 else list(available)
            where = {a: j for j, a in enumerate(self.annotator_ids_.tolist())}
            unknown = [a for a in avail_ids if py_scalar(a) not in where]
            if unknown:
                raise ValueError(
                    f"available names annotators {unknown[:5]!r} that the learner does not know "
                    f"(known: {self.annotator_ids_[:10].tolist()}); check the IDs."
                )
            avail = np.zeros(M, dtype=bool)
            avail[[where[py_scalar(a)] for a in avail_ids]] = True
            eligible &= avail[None, :]
        # rows already labeled by an annotator are not eligible for that annotator
        pos = np.full(self.n_samples_, -1, dtype=np.int64)
        pos[idx] = np.arange(idx.size)
        sel = pos[self._rows] >= 0
        eligible[pos[self._rows[sel]], self._cols[sel]] = False
        who = assign_annotators(quality, eligible, max_per_annotator=max_per_annotator)
        out = np.full(idx.size, None, dtype=object)
        out[who >= 0] = self.annotator_ids_[who[who >= 0]]
        return out
