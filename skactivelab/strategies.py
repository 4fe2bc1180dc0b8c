"""Query strategies: choose what to label, or re-label, next.

Each strategy is a callable ``strategy(learner_or_estimator, X_pool, n_instances=1)``
that returns ``(indices, scores)``: rows of ``X_pool`` and their scores, lowest
(most useful to annotate) first. That is the interface modAL's learners expect
from a ``query_strategy`` (modAL unpacks the result into two values), and our
:class:`~skactivelab.MultiAnnotatorActiveLearner` uses the same objects.

Two kinds of pool are understood (``pool="auto"`` tells them apart):

* ``X_pool`` is the very ``X`` the estimator was fit on: rows with annotations are
  candidates for another label (re-labeling), rows without are unlabeled, and all
  are scored on one scale from the fitted estimator (out-of-fold predictions for
  labeled rows);
* any other ``X_pool`` is treated as unlabeled examples only ("traditional" active
  learning).

The training ``X`` is recognised by a content hash (values, dtypes, DataFrame column
names; strings and mixed columns included), never by its number of rows alone.

Scores come from :mod:`skactivelab.query` (model-only scores and selection) and
:func:`skactivelab.get_active_learning_scores`; selection is
:func:`skactivelab.query.select_batch`. Each strategy's rule is its
``score_rows`` method on :class:`PoolRows` (predictions and annotations as
arrays): calling a strategy on an estimator applies that rule to the estimator's
arrays, and the simulation harness (:func:`skactivelab.simulation.run_method`)
applies the same rule to its own.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _dask
from ._digest import data_digest
from ._compat import StrOptions, validate_parameters
from ._proba import fold_mean_proba
from ._utils import MULTIANNOTATOR_FITTED_ATTRIBUTES
from .activelab import get_active_learning_scores, get_active_learning_scores_ensemble
from .crowd_models import CROWD_MODELS, AnnotatorConfusion, CrowdLab, MajorityVote, check_crowd_model
from .query import entropy_scores, margin_scores, select_batch, uncertainty_scores

__all__ = [
    "ActiveLabQuery",
    "EntropyQuery",
    "GoodRandomQuery",
    "MarginQuery",
    "PoolRows",
    "RandomQuery",
    "UncertaintyQuery",
]


def _resolve(learner_or_estimator, X_pool):
    """Return (fitted MultiAnnotatorClassifier-like estimator, X_pool in its input space)."""
    est = learner_or_estimator
    # modAL learners and our learner keep the model in `.estimator` (ours: `.estimator_`).
    if hasattr(est, "query_strategy") and hasattr(est, "estimator"):
        est = est.estimator
    if isinstance(est, Pipeline):
        check_is_fitted(est)
        if len(est.steps) > 1:
            X_pool = est[:-1].transform(X_pool)
        est = est.steps[-1][1]
    # duck typing: a multi-annotator estimator scores pools with active_learning_scores
    if not callable(getattr(est, "active_learning_scores", None)):
        raise TypeError(
            f"{type(est).__name__} is not a MultiAnnotatorClassifier; query strategies "
            "need one (alone, as the last step of a Pipeline, or inside a learner)."
        )
    check_is_fitted(est, MULTIANNOTATOR_FITTED_ATTRIBUTES)
    n_features = getattr(est, "n_features_in_", None)
    shape = getattr(X_pool, "shape", None)
    if shape is None:
        X_pool = np.asarray(X_pool)
        shape = X_pool.shape
    if len(shape) != 2:
        raise ValueError(f"X_pool must be 2-D (n_samples, n_features), got shape {shape}.")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(
            f"X_pool has {shape[1]} features but the estimator was fit with {n_features}; "
            "give rows in the same feature space as the training X."
        )
    return est, X_pool


class PoolRows(NamedTuple):
    """The arrays a query strategy scores a pool from.

    A strategy called on a fitted estimator builds this from the estimator;
    the simulation harness builds it from its own cross-validation. Either way
    :meth:`ActiveLabQuery.score_rows` (and the same method of every strategy)
    applies the strategy's rule to it, so each rule lives in one place.

    Attributes
    ----------
    labeled : ndarray of bool, shape (n_pool,), or None
        Pool rows that are the labeled training rows, in their order (all of
        them, when the pool is the training ``X``; none for a pool of new rows).
        None: a pool of new rows whose size is that of ``P_unl`` (rules that
        need no predictions need ``labeled``).
    n_annotations : ndarray of int, shape (n_pool,), or None
        Annotations each pool row has (needed by :class:`GoodRandomQuery`).
    annotations : object
        The annotations of the labeled training rows, in any format
        :func:`~skactivelab.get_active_learning_scores` accepts (ActiveLab only).
    P_lab : ndarray of shape (n_models, n_labeled, n_classes)
        Out-of-fold predicted probabilities of the labeled training rows.
    P_unl : ndarray of shape (n_models, n_unlabeled, n_classes) or None
        Predicted probabilities of the pool rows that are not labeled, in
        order; None when a rule needs no predictions. From an estimator:
        unlabeled rows of the training ``X`` have the mean prediction of the
        fold models; a pool of new rows has the fold models' mean for
        :class:`ActiveLabQuery` and the refitted model's ``predict_proba`` for
        the model-only strategies.
    random_state : int, RandomState instance or None, default=None
        Seed of ActiveLab's consensus tie-breaks; None draws one from the
        generator given to ``score_rows``.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab.strategies import PoolRows, UncertaintyQuery
    >>> rows = PoolRows(labeled=np.array([True, True, False]), n_annotations=np.array([1, 2, 0]),
    ...                 annotations=None, P_lab=np.array([[[0.9, 0.1], [0.6, 0.4]]]),
    ...                 P_unl=np.array([[[0.5, 0.5]]]))
    >>> UncertaintyQuery().score_rows(rows, np.random.default_rng(0)).tolist()
    [0.9, 0.6, 0.5]
    """

    labeled: np.ndarray
    n_annotations: np.ndarray
    annotations: Any
    P_lab: np.ndarray
    P_unl: Any
    random_state: Any = None


def _pool_rows(est, X_pool, fit_pool, pool_proba=None):
    """:class:`PoolRows` of a fitted estimator; ``pool_proba(est, X_pool)`` gives the
    (n_models, n, K) predictions of a pool of new rows (None: the rule needs none)."""
    oof = est.oof_pred_probs_
    oof = oof if oof.ndim == 3 else oof[None]
    labeled_fit = est.active_learning_fit_  # what its labeled phase was fitted on
    labeled = np.asarray(est.labeled_mask_, dtype=bool)
    P_lab = oof[:, labeled]
    annotations = labeled_fit.annotations
    if fit_pool:
        return PoolRows(labeled, np.asarray(est.n_annotations_), annotations, P_lab, oof[:, ~labeled],
                        est.random_state)
    if pool_proba is not None:  # new rows, none labeled; a lazy pool stays lazy
        return PoolRows(None, None, annotations, P_lab, pool_proba(est, X_pool), est.random_state)
    n_pool = X_pool.shape[0]
    if not isinstance(n_pool, (int, np.integer)):  # a lazy pool: its length, computed once
        n_pool = int(n_pool.compute() if hasattr(n_pool, "compute") else n_pool)
    return PoolRows(np.zeros(n_pool, dtype=bool), np.zeros(n_pool, dtype=np.int64), annotations,
                    P_lab, None, est.random_state)


def _check_P(name, P):
    if not hasattr(P, "ndim"):
        try:
            P = np.asarray(P, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"PoolRows.{name} must be a numeric array (n_models, n_rows, n_classes), "
                            f"got {type(P).__name__} that is not one.") from None
    if P.ndim != 3:
        raise ValueError(f"PoolRows.{name} must be 3-D (n_models, n_rows, n_classes), got shape "
                         f"{P.shape}; for one model use P[None].")
    return P


def _check_counts(n_ann, labeled):
    """``PoolRows.n_annotations``: a count >= 0 per pool row."""
    n_ann = np.asarray(n_ann)
    if labeled is None or n_ann.shape != labeled.shape:
        raise ValueError(f"PoolRows.n_annotations must have one entry per pool row (shape "
                         f"{None if labeled is None else labeled.shape}), got shape {n_ann.shape}.")
    if n_ann.size and (n_ann.dtype.kind not in "iuf" or not np.all(n_ann == np.floor(n_ann))):
        raise TypeError(f"PoolRows.n_annotations must hold whole numbers (annotations per pool row), "
                        f"got dtype {n_ann.dtype} with values such as {n_ann.ravel()[:3].tolist()}.")
    if n_ann.size and n_ann.min() < 0:
        raise ValueError(f"PoolRows.n_annotations must be >= 0 (annotations per pool row), got "
                         f"{n_ann.min()}.")
    return n_ann


def _checked(rows, rng, *, predictions, counts=False):
    """``rows`` with array fields, checked against each other (errors name the field), and a
    NumPy generator for ``rng`` (a Generator or RandomState, or a seed or None)."""
    if not isinstance(rows, PoolRows):
        raise TypeError(f"rows must be a skactivelab.strategies.PoolRows, got {type(rows).__name__}.")
    labeled, n_ann, P_lab, P_unl = rows.labeled, rows.n_annotations, rows.P_lab, rows.P_unl
    if labeled is not None:
        labeled = np.asarray(labeled)
        if labeled.ndim != 1 or labeled.dtype != bool:
            raise TypeError(f"PoolRows.labeled must be a 1-D boolean array (one entry per pool row), "
                            f"got dtype {labeled.dtype} and shape {labeled.shape}.")
    elif not predictions:
        raise ValueError("this strategy needs PoolRows.labeled (one entry per pool row) to know the pool's size.")
    if n_ann is not None:
        n_ann = _check_counts(n_ann, labeled)
    elif counts:
        raise ValueError("this strategy needs PoolRows.n_annotations (annotations per pool row).")
    if predictions:
        P_lab = _check_P("P_lab", P_lab)
        n_lab = None if labeled is None else int(labeled.sum())
        n_unl = None if labeled is None else labeled.size - n_lab
        if n_lab and P_lab.shape[1] != n_lab:
            raise ValueError(f"PoolRows.P_lab has {P_lab.shape[1]} rows but labeled marks {n_lab} "
                             "pool rows; give one prediction per labeled row, in pool order.")
        if P_unl is None:
            if labeled is None or n_unl:
                raise ValueError("PoolRows.P_unl is None but the pool has rows that are not labeled; "
                                 "give their predictions (n_models, n_unlabeled, n_classes).")
        else:
            P_unl = _check_P("P_unl", P_unl)
            if P_unl.shape[0] != P_lab.shape[0] or P_unl.shape[2] != P_lab.shape[2]:
                raise ValueError(f"PoolRows.P_unl has shape {P_unl.shape} but P_lab has {P_lab.shape}; "
                                 "both need the same models and classes.")
            if n_unl is not None and P_unl.shape[1] != n_unl:
                raise ValueError(f"PoolRows.P_unl has {P_unl.shape[1]} rows but {n_unl} pool rows are "
                                 "not labeled; give one prediction per unlabeled row, in pool order.")
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        rng = check_random_state(rng)
    return rows._replace(labeled=labeled, n_annotations=n_ann, P_lab=P_lab, P_unl=P_unl), rng


def _by_row(labeled, s_lab, s_unl):
    """Scores in pool order: ``s_lab`` at the labeled rows, ``s_unl`` elsewhere."""
    if labeled is None or not labeled.any():
        return s_unl  # a pool of new rows (may be a lazy Dask array)
    scores = np.empty(labeled.shape[0])
    scores[labeled] = s_lab
    if s_unl is not None:
        scores[~labeled] = s_unl
    return scores


def _model_mean(P):
    """(n, K) mean prediction of the models of a (n_models, n, K) array."""
    return P[0] if P.shape[0] == 1 else P.mean(axis=0)


def _draw_seed(rng):
    """A seed from a NumPy Generator or RandomState."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**31 - 1))
    return int(rng.randint(2**31 - 1))


class _Query(BaseEstimator):
    """Shared call logic: resolve the estimator, score the pool, select a batch.

    A strategy is a scikit-learn estimator for its parameters (``get_params``,
    ``set_params``, ``clone``, ``repr``, validation against
    ``_parameter_constraints`` at every call) and a modAL query strategy for its
    use: ``strategy(learner, X_pool, n_instances=...) -> (indices, scores)``.
    """

    _parameter_constraints: dict = {
        "pool": [StrOptions({"auto", "fit", "unlabeled"})],
        "exclude_fully_annotated": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, pool="auto", exclude_fully_annotated=False, random_state=None):
        self.pool = pool
        self.exclude_fully_annotated = exclude_fully_annotated
        self.random_state = random_state

    def _rng(self):
        """One generator per strategy object, advanced by every call, so a seeded
        strategy is reproducible without repeating its picks round after round.

        The generator is state, not a parameter: ``get_params`` does not show it,
        a ``clone`` starts afresh from ``random_state`` (it repeats the original's
        first picks, as a clone of a fitted estimator refits the same way), and
        ``set_params(random_state=...)`` starts a new stream.
        """
        if getattr(self, "_random", None) is None:
            self._random = check_random_state(self.random_state)
        return self._random

    def set_params(self, **params):
        """Set the parameters (see ``sklearn.base.BaseEstimator.set_params``).

        A new ``random_state`` starts a new random stream.
        """
        super().set_params(**params)
        if "random_state" in params:
            self._random = None
        return self

    def score_rows(self, rows, rng):
        """Apply the strategy's rule to :class:`PoolRows` (lower = annotate first).

        Parameters
        ----------
        rows : PoolRows
            The pool's predictions and annotations.
        rng : numpy.random.Generator, RandomState, int or None
            Generator of the rule's random draws (random strategies; ActiveLab's
            tie-break seed when ``rows.random_state`` is None); an int or None
            seeds a new ``RandomState``.

        Returns
        -------
        ndarray of shape (n_pool,)
            One score per pool row.
        """
        raise NotImplementedError

    def _score(self, est, X_pool, fit_pool):
        """Scores of ``X_pool`` from a fitted estimator: the rule on its :class:`PoolRows`."""
        return self.score_rows(_pool_rows(est, X_pool, fit_pool, self._pool_proba), self._rng())

    #: ``f(est, X_pool) -> (n_models, n, K)`` predictions of new rows, or None if the rule needs none.
    _pool_proba = None

    def _is_fit_pool(self, est, X_pool):
        n_fit = est.labeled_mask_.shape[0]
        if self.pool == "unlabeled":
            return False
        n_pool = X_pool.shape[0]
        if not isinstance(n_pool, (int, np.integer)):  # a Dask DataFrame: length not known
            raise ValueError(
                f"pool={self.pool!r} needs the number of rows of X_pool, which this lazy "
                "pool does not know without computing it; pass pool='unlabeled' for a "
                "pool of new rows."
            )
        same_size = n_pool == n_fit
        if self.pool == "fit":
            if not same_size:
                raise ValueError(
                    f"pool='fit' but X_pool has {X_pool.shape[0]} rows and the estimator was "
                    f"fit on {n_fit}; pass the training X or use pool='unlabeled'."
                )
            return True
        if not same_size:
            return False
        # Same number of rows: only equal content makes it the training set.
        digest = getattr(est, "fit_digest_", None)
        pool_digest = data_digest(X_pool)
        if digest is None or pool_digest is None:
            raise ValueError(
                f"pool='auto' cannot tell whether X_pool ({X_pool.shape[0]} rows, as many as "
                "the training X) is the training X: its content could not be hashed (or, "
                "for a Dask pool, only by computing all of it). Pass "
                "pool='fit' if it is the training X (labeled rows can be re-labeled), or "
                "pool='unlabeled' if every row is a new, unlabeled example."
            )
        if digest != pool_digest:
            warnings.warn(
                f"X_pool has as many rows ({n_pool}) as the training X but not the same "
                "content (values, dtypes or column names), so every row is scored as a new, "
                "unlabeled example. If it is the training X in another form (e.g. "
                "X.to_numpy() or another dtype), pass pool='fit'; pass pool='unlabeled' to "
                "silence this warning.",
                UserWarning,
                stacklevel=4,
            )
            return False
        return True

    def scores(self, learner_or_estimator, X_pool):
        """Scores of every row of ``X_pool`` (lower = annotate first) and the candidate mask.

        Parameters
        ----------
        learner_or_estimator : MultiAnnotatorClassifier, Pipeline or learner
            A fitted multi-annotator estimator (alone, as the last step of a
            Pipeline, or in a learner's ``estimator`` attribute).
        X_pool : array-like of shape (n_pool, n_features)
            The rows to score.

        Returns
        -------
        scores : ndarray of shape (n_pool,)
            Lower means annotate first.
        candidates : ndarray of bool of shape (n_pool,) or None
            Rows that may be picked (None for a Dask pool).
        """
        validate_parameters(self)
        est, X_pool = _resolve(learner_or_estimator, X_pool)
        fit_pool = self._is_fit_pool(est, X_pool)
        if not fit_pool and isinstance(X_pool.shape[0], (int, np.integer)) and X_pool.shape[0] == 0:
            return np.empty(0), np.ones(0, dtype=bool)  # an empty pool: nothing to score
        scores = self._score(est, X_pool, fit_pool)
        if _dask.is_dask_collection(scores):
            # a Dask pool: scores stay on the cluster; select_batch needs row positions
            scores = scores.astype(np.float64).persist()
            scores.compute_chunk_sizes()
            return scores, None
        scores = np.asarray(scores, dtype=np.float64)
        candidates = np.ones(scores.shape[0], dtype=bool)
        if fit_pool and self.exclude_fully_annotated:
            # rows that every known annotator has labeled cannot get a new opinion
            n_known = int(np.sum(np.asarray(est.num_examples_labeled_) > 0))
            candidates = est.n_annotations_ < n_known
        return scores, candidates

    def __call__(self, learner_or_estimator, X_pool, n_instances=1, **kwargs):
        """Pick ``n_instances`` rows of ``X_pool``; return ``(indices, scores of those rows)``.

        Parameters
        ----------
        learner_or_estimator : MultiAnnotatorClassifier, Pipeline or learner
            A fitted multi-annotator estimator (alone, as the last step of a
            Pipeline, or in a learner's ``estimator`` attribute, as modAL calls it).
        X_pool : array-like of shape (n_pool, n_features)
            The rows to choose from.
        n_instances : int, default=1
            How many rows to pick.

        Returns
        -------
        indices : ndarray of int64 of shape (n_instances,)
            Rows of ``X_pool``, lowest score first.
        scores : ndarray of shape (n_instances,)
            Their scores.
        """
        if kwargs:
            raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}.")
        validate_parameters(self)
        scores, candidates = self.scores(learner_or_estimator, X_pool)
        idx = select_batch(scores, n_instances, candidates=candidates, random_state=self._rng())
        picked = scores[idx]
        return idx, (np.asarray(picked.compute()) if _dask.is_dask_collection(picked) else picked)


class ActiveLabQuery(_Query):
    """ActiveLab: label or re-label where one more annotation helps most.

    Labeled rows of the fit ``X`` are scored by ActiveLab from the CROWDLAB
    consensus and out-of-fold predictions, unlabeled rows from the predictions
    of the cross-validation models, on one scale: a batch mixes first labels and
    second opinions as the scores dictate.

    Parameters
    ----------
    pool : {"auto", "fit", "unlabeled"}, default="auto"
        "fit": ``X_pool`` is the training ``X`` (labeled rows can be re-labeled);
        "unlabeled": every row of ``X_pool`` is unlabeled; "auto": "fit" when
        ``X_pool`` has the training ``X``'s content (same values, dtypes and
        column names, by a content hash), else "unlabeled". When the content of
        a pool with as many rows as the training ``X`` cannot be hashed, "auto"
        raises and asks for "fit" or "unlabeled" instead of guessing.
    exclude_fully_annotated : bool, default=False
        Never pick a row that every known annotator has already labeled.
    random_state : int, RandomState instance or None, default=None
        Breaks ties between equal scores.
    crowd_model : {"crowdlab", "annotator_confusion", "majority_vote"}, instance or None, default=None
        Score with this crowd model instead of the estimator's own
        ``crowd_model`` (see :func:`skactivelab.get_active_learning_scores`);
        None follows the estimator (and is ``"crowdlab"`` for
        :meth:`score_rows`).
    active_learning_method : {"activelab", "activelab_em"}, default=None
        Deprecated: ``"activelab"`` is ``crowd_model="crowdlab"``,
        ``"activelab_em"`` is ``crowd_model="annotator_confusion"`` (with a
        FutureWarning).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactivelab import MultiAnnotatorClassifier, ActiveLabQuery
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
    >>> L = np.where(rng.random((60, 3)) < 0.6, y[:, None], -1); L[50:] = -1
    >>> L[:50, 0] = y[:50]
    >>> clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    >>> idx, scores = ActiveLabQuery(random_state=0)(clf, X, n_instances=5)
    >>> idx.shape, bool(np.all(np.diff(scores) >= 0))
    ((5,), True)
    """

    _parameter_constraints: dict = {
        **_Query._parameter_constraints,
        "crowd_model": [StrOptions(set(CROWD_MODELS)), CrowdLab, AnnotatorConfusion, MajorityVote, None],
        "active_learning_method": [StrOptions({"activelab", "activelab_em"}), None],
    }

    def __init__(self, *, pool="auto", exclude_fully_annotated=False, random_state=None, crowd_model=None,
                 active_learning_method=None):
        super().__init__(pool=pool, exclude_fully_annotated=exclude_fully_annotated, random_state=random_state)
        self.crowd_model = crowd_model
        self.active_learning_method = active_learning_method

    def _own_model(self):
        """The crowd model asked for, or None to follow the estimator."""
        if self.crowd_model is None and self.active_learning_method is None:
            return None
        return check_crowd_model(self.crowd_model, self.active_learning_method)

    def _score(self, est, X_pool, fit_pool):
        model = self._own_model()
        theirs = getattr(est, "crowd_model_", None)
        if model is None or (type(model) is type(theirs) and model.get_params() == theirs.get_params()):
            # the estimator's own scores: computed at fit for its rows, lazy for a Dask pool
            return est.active_learning_scores_ if fit_pool else est.active_learning_scores(X_pool)[1]
        return super()._score(est, X_pool, fit_pool)

    @staticmethod
    def _pool_proba(est, X_pool):
        # the mean prediction of the fold models
        return fold_mean_proba(est.cv_estimators_, X_pool, est.classes_, n_jobs=getattr(est, "n_jobs", None))

    def score_rows(self, rows, rng):
        model = self._own_model()
        rows, rng = _checked(rows, rng, predictions=True)
        P, U = rows.P_lab, rows.P_unl
        if rows.annotations is None and P.shape[1]:
            raise ValueError(f"PoolRows.annotations is None but P_lab has {P.shape[1]} labeled rows; give "
                             "the annotations of the labeled rows (ActiveLab scores them from both).")
        U = None if U is None or not U.shape[1] else U
        seed = rows.random_state if rows.random_state is not None else _draw_seed(rng)
        if P.shape[0] > 1:
            s_lab, s_unl = get_active_learning_scores_ensemble(
                rows.annotations, P, U, random_state=seed, crowd_model=model)
        else:
            s_lab, s_unl = get_active_learning_scores(
                rows.annotations, P[0], None if U is None else U[0], random_state=seed, crowd_model=model)
        return _by_row(rows.labeled, s_lab, s_unl)


class _ModelScoreQuery(_Query):
    _score_fn = None

    @staticmethod
    def _pool_proba(est, X_pool):
        return est.predict_proba(X_pool)[None]  # the refit model's prediction of new rows

    def score_rows(self, rows, rng):
        fn = type(self)._score_fn
        rows, rng = _checked(rows, rng, predictions=True)
        labeled = rows.labeled
        if labeled is None:
            return fn(_model_mean(rows.P_unl))
        if labeled.size == 0:
            return np.empty(0)
        s_lab = fn(_model_mean(rows.P_lab)) if labeled.any() else None
        s_unl = fn(_model_mean(rows.P_unl)) if not labeled.all() else None
        return _by_row(labeled, s_lab, s_unl)


class UncertaintyQuery(_ModelScoreQuery):

    _score_fn = staticmethod(uncertainty_scores)


class MarginQuery(_ModelScoreQuery):

    _score_fn = staticmethod(margin_scores)


class EntropyQuery(_ModelScoreQuery):

    _score_fn = staticmethod(entropy_scores)


class RandomQuery(_Query):

    def score_rows(self, rows, rng):
        rows, rng = _checked(rows, rng, predictions=False)
        return rng.random(rows.labeled.shape[0])


class GoodRandomQuery(_Query):

    def score_rows(self, rows, rng):
        rows, rng = _checked(rows, rng, predictions=False, counts=True)
        # fewest annotations first; a uniform draw in [0, 1) orders rows with as many
        return rows.n_annotations + rng.random(rows.labeled.shape[0])


_BASELINE_DOC = """{summary}

    Parameters
    ----------
    pool : {{"auto", "fit", "unlabeled"}}, default="auto"
        Which rows of ``X_pool`` may be labeled already, as in :class:`ActiveLabQuery`.
    exclude_fully_annotated : bool, default=False
        Never pick a row that every known annotator has already labeled.
    random_state : int, RandomState instance or None, default=None
        {random_state}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactivelab import MultiAnnotatorClassifier, {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
    >>> L = np.full((60, 2), -1); L[:40, 0] = y[:40]; L[:20, 1] = y[:20]
    >>> clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    >>> idx, scores = {name}(random_state=0)(clf, X, n_instances=3)
    >>> {check}
    {output}
    """
_SORTED = ("bool(np.all(np.diff(scores) >= 0)), idx.shape", "(True, (3,))")
_TIES = "Breaks ties between equal scores."
for _cls, _summary, _random_state, (_check, _output) in [
    (UncertaintyQuery, 'Least confidence: the rows whose largest predicted probability is lowest.\n\n    Labeled rows of the fit ``X`` use their out-of-fold predictions, its\n    unlabeled rows the mean prediction of the cross-validation models, a pool\n    of new rows the prediction of the refitted model.', _TIES, _SORTED),
    (MarginQuery, 'Smallest margin between the two most likely classes.\n\n    Labeled rows of the fit ``X`` use their out-of-fold predictions, its\n    unlabeled rows the mean prediction of the cross-validation models, a pool\n    of new rows the prediction of the refitted model.', _TIES, _SORTED),
    (EntropyQuery, 'Highest entropy of the predicted probabilities.\n\n    Scores are ``1 - H / log(K)`` (:func:`~skactivelab.query.entropy_scores`),\n    lowest first. Labeled rows of the fit ``X`` use their out-of-fold predictions.', _TIES, _SORTED),
    (RandomQuery, 'Uniformly random rows (labeled or not), seeded by ``random_state``.\n\n    The same strategy object draws new rows at every call.', 'Seeds the draws; one stream per strategy object.', ('sorted(idx.tolist()) == sorted(set(idx.tolist()))', 'True')),
    (GoodRandomQuery, 'Random among the rows with the fewest annotations (so unlabeled rows first).\n\n    A row scores its number of annotations plus a uniform draw in ``[0, 1)``.\n    On a pool of unlabeled rows this is plain random sampling.', 'Seeds the random order among rows with equally few annotations.', ('bool((L[idx] < 0).all())  # 20 unlabeled rows: the picks are among them', 'True')),
]:
    _cls.__doc__ = _BASELINE_DOC.format(
        name=_cls.__name__, summary=_summary, random_state=_random_state, check=_check,
        output=_output,
    )
del _cls, _summary, _random_state, _check, _output
