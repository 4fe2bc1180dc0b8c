"""An active learner that can ask for new labels *and* for second opinions."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone

from ._annotations import check_annotations
from .strategies import ActiveLabQuery

__all__ = ["MultiAnnotatorActiveLearner", "assign_annotators"]


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

_POLICIES = ("replace", "keep", "error")


class MultiAnnotatorActiveLearner:
    """Active learning with re-labeling by multiple annotators, shaped like modAL's learners.

    The learner holds the whole dataset ``X`` (labeled and unlabeled rows) and the
    annotations collected so far. Each round: :meth:`query` picks rows to annotate
    (unlabeled rows for a first label, labeled rows for another opinion), the team
    labels them, :meth:`teach` records the labels and refits the estimator.
    It works with or without modAL installed.

    Parameters
    ----------
    estimator : MultiAnnotatorClassifier
        The model (or a Pipeline ending in one). It is cloned; the learner's
        ``estimator`` attribute is the fitted clone.
    query_strategy : callable, default=None
        ``strategy(learner, X, n_instances) -> (indices, scores)``;
        :class:`ActiveLabQuery` by default.
    X : array-like of shape (n_samples, n_features)
        Every example that may ever be labeled.
    y : annotations, default=None
        Initial annotations for the rows of ``X`` in any format the scoring core
        accepts (rows without a label are the unlabeled pool). If given, the
        estimator is fit at construction, like modAL's ``X_training``/``y_training``.
    duplicate_policy : {"replace", "keep", "error"}, default="replace"
        What to do when an annotator labels an example they already labeled:
        "replace" keeps the newest label (annotators correcting themselves),
        "keep" keeps the first, "error" raises.
    active_learning_method : {"activelab", "activelab_em"}, default=None
        Sets the estimator's ``active_learning_method`` (its consensus and its
        scores); None keeps the estimator's own setting.

    Attributes
    ----------
    estimator : estimator
        The fitted clone (modAL's attribute name, so strategies find it).
    annotator_ids_ : ndarray
        Annotator IDs in column order (new IDs are appended as they appear).
    history_ : list of dict
        One entry per :meth:`teach`: ``indices`` taught, ``n_relabels`` (how many
        already had a label), ``n_new`` (first labels), ``n_replaced``,
        ``consensus_changed`` (previously labeled rows whose consensus label
        changed with the refit), ``n_annotations`` (total after the round).

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
    """

    def __init__(self, estimator, query_strategy=None, X=None, y=None, *, duplicate_policy="replace",
                 active_learning_method=None):
        if duplicate_policy not in _POLICIES:
            raise ValueError(f"duplicate_policy must be one of {list(_POLICIES)}, got {duplicate_policy!r}.")
        if X is None:
            raise ValueError("X is required: every example that may be labeled, labeled or not.")
        self.estimator = clone(estimator)
        self.active_learning_method = active_learning_method
        if active_learning_method is not None:
            # the estimator's consensus and scores follow it (a Pipeline: its last step)
            last = self.estimator.steps[-1][1] if hasattr(self.estimator, "steps") else self.estimator
            if "active_learning_method" not in last.get_params(deep=False):
                raise ValueError(
                    f"active_learning_method needs a MultiAnnotatorClassifier; {type(last).__name__} has no "
                    "such parameter."
                )
            last.set_params(active_learning_method=active_learning_method)
        self.query_strategy = ActiveLabQuery() if query_strategy is None else query_strategy
        self.X = X
        self.duplicate_policy = duplicate_policy
        self.n_samples_ = X.shape[0] if hasattr(X, "shape") else len(X)
        self.history_ = []
        self._fitted = False
        empty = np.empty(0, dtype=np.int64)
        self._rows, self._cols, self._labels = empty, empty, np.empty(0, dtype=object)
        self.annotator_ids_ = np.empty(0, dtype=object)
        if y is not None:
            ann = check_annotations(y, n_examples=self.n_samples_, require_labeled=False, name="y")
            self._rows = ann.example
            self._cols = ann.annotator
            self._labels = ann.classes[ann.label]
            self.annotator_ids_ = np.asarray(ann.annotator_ids, dtype=object)
            if self._rows.size:
                self._refit()

    # ------------------------------------------------------------------ state
    @property
    def annotations(self):
        """All annotations so far as long format ``(rows, annotator_ids, labels)``."""
        return self._rows.copy(), self.annotator_ids_[self._cols], self._labels.copy()

    @property
    def n_annotations_per_row(self):
        return np.bincount(self._rows, minlength=self.n_samples_)

    def _labels_array(self):
        labels = self._labels
        if labels.dtype == object and labels.size and all(
            isinstance(v, numbers.Integral) for v in labels[:1]
        ):
            try:
                labels = labels.astype(np.int64)
            except (TypeError, ValueError):
                pass
        return labels

    def _refit(self):
        y = (self._rows, self._cols, self._labels_array())
        self.estimator.fit(self.X, y)
        self._fitted = True

    def _model(self):
        """The fitted MultiAnnotatorClassifier (the last step if the estimator is a Pipeline)."""
        est = self.estimator
        return est.steps[-1][1] if hasattr(est, "steps") else est

    def _consensus(self):
        est = self._model()
        return est.consensus_labels_, est.labeled_mask_

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
        if not self._fitted:
            raise ValueError(
                "The learner has no annotations yet; pass y at construction or teach some "
                "labels first (a model is needed to score examples)."
            )
        return self.query_strategy(self, self.X, n_instances=n_instances, **kwargs)

    def teach(self, indices, labels, annotators=None):
        """Record new annotations and refit.

        Parameters
        ----------
        indices : array-like of int
            Rows of ``X`` that were annotated.
        labels : array-like
            One label per index (class values as in ``y``).
        annotators : scalar or array-like, default=None
            Who gave each label: one ID for all, or one per index. A new ID adds an
            annotator column. None records the round's labels as one new annotator
            ``"round_<k>"`` (as in the ActiveLab paper's simulations).

        Returns
        -------
        self
        """
        idx = np.asarray(indices)
        if idx.ndim == 0:
            idx = idx.reshape(1)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ValueError("indices must be a 1-D array of integer row numbers of X.")
        idx = idx.astype(np.int64)
        labels = np.asarray(labels, dtype=object).reshape(-1) if np.ndim(labels) else np.asarray([labels], dtype=object)
        if labels.shape[0] != idx.shape[0]:
            raise ValueError(
                f"teach got {idx.shape[0]} indices but {labels.shape[0]} labels; give one label per index."
            )
        if idx.size == 0:
            raise ValueError("teach got no indices; pass the rows that were annotated.")
        if idx.min() < 0 or idx.max() >= self.n_samples_:
            bad = idx[(idx < 0) | (idx >= self.n_samples_)][:5].tolist()
            raise ValueError(f"indices {bad} are not rows of X (0..{self.n_samples_ - 1}).")
        if annotators is None:
            annotators = f"round_{len(self.history_) + 1}"
        ann_arr = np.asarray(annotators, dtype=object)
        if ann_arr.ndim == 0:
            ann_arr = np.full(idx.shape[0], annotators, dtype=object)
        elif ann_arr.shape != idx.shape:
            raise ValueError(
                f"teach got {idx.shape[0]} indices but {ann_arr.shape[0]} annotators; give one "
                "annotator ID, or one per index."
            )
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in labels])
        if missing.any():
            raise ValueError(f"labels at positions {np.flatnonzero(missing)[:5].tolist()} are missing.")

        # annotator columns: existing IDs keep their column, new IDs are appended
        known = {a: j for j, a in enumerate(self.annotator_ids_.tolist())}
        new_ids = [a for a in dict.fromkeys(ann_arr.tolist()) if a not in known]
        for a in new_ids:
            known[a] = len(known)
        if new_ids:
            self.annotator_ids_ = np.concatenate([self.annotator_ids_, np.asarray(new_ids, dtype=object)])
        cols = np.array([known[a] for a in ann_arr.tolist()], dtype=np.int64)

        M = len(self.annotator_ids_)
        key_new = idx * M + cols
        if np.unique(key_new).size != key_new.size:
            raise ValueError("teach got the same (index, annotator) pair twice in one call.")
        key_old = self._rows * M + self._cols
        clash_old = np.isin(key_old, key_new)
        clash_new = np.isin(key_new, key_old)
        if clash_new.any() and self.duplicate_policy == "error":
            r = int(idx[clash_new][0])
            a = ann_arr[clash_new][0]
            raise ValueError(
                f"annotator {a!r} already labeled row {r}; use duplicate_policy='replace' or 'keep'."
            )
        n_replaced = int(clash_new.sum())
        if self.duplicate_policy == "replace":
            keep_old = ~clash_old
            keep_new = np.ones(idx.size, dtype=bool)
        else:  # "keep"
            keep_old = np.ones(self._rows.size, dtype=bool)
            keep_new = ~clash_new
            n_replaced = 0

        had = self.n_annotations_per_row[idx] > 0
        before = self._consensus() if self._fitted else None
        self._rows = np.concatenate([self._rows[keep_old], idx[keep_new]])
        self._cols = np.concatenate([self._cols[keep_old], cols[keep_new]])
        self._labels = np.concatenate([self._labels[keep_old], labels[keep_new]])
        self._refit()
        changed = 0
        if before is not None:
            cons_before, lab_before = before
            cons_after, _ = self._consensus()
            changed = int(np.sum(cons_before[lab_before] != cons_after[lab_before]))
        self.history_.append(
            {
                "round": len(self.history_) + 1,
                "indices": idx.copy(),
                "n_relabels": int(had.sum()),
                "n_new": int((~had).sum()),
                "n_replaced": n_replaced,
                "consensus_changed": changed,
                "n_annotations": int(self._rows.size),
            }
        )
        return self

    # ------------------------------------------------------------------ annotators
    def suggest_annotators(self, indices, *, max_per_annotator=None, available=None):
        """Suggest who should label each picked row (optional; ActiveLab imposes no annotator).

        Each row goes to the annotator with the highest CROWDLAB annotator quality
        who has not labeled it yet, with at most ``max_per_annotator`` rows per
        annotator in this batch (rows earlier in ``indices`` choose first).

        Parameters
        ----------
        indices : array-like of int
            Rows of ``X`` (for example from :meth:`query`), in priority order.
        max_per_annotator : int, default=None
            Cap per annotator in this batch; None for no cap.
        available : array-like, default=None
            Annotator IDs that can work now; default all known annotators.

        Returns
        -------
        ndarray of object, shape (len(indices),)
            The suggested annotator ID per row, None where nobody is left.
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        quality = np.asarray(self._model().annotator_quality_, dtype=np.float64)
        M = len(self.annotator_ids_)
        eligible = np.ones((idx.size, M), dtype=bool)
        if available is not None:
            avail = np.isin(self.annotator_ids_, np.asarray(available, dtype=object))
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
