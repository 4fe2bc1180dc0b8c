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
:func:`skactivelab.query.select_batch`.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _dask
from ._digest import data_digest
from ._compat import StrOptions, validate_parameters
from ._utils import MULTIANNOTATOR_FITTED_ATTRIBUTES
from .activelab import get_active_learning_scores, get_active_learning_scores_ensemble
from .query import entropy_scores, margin_scores, select_batch, uncertainty_scores

__all__ = [
    "ActiveLabQuery",
    "EntropyQuery",
    "GoodRandomQuery",
    "MarginQuery",
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
    active_learning_method : {"activelab", "activelab_em"}, default=None
        Score with this method instead of the estimator's own
        ``active_learning_method`` (see
        :func:`skactivelab.get_active_learning_scores`); None follows the
        estimator.

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
        "active_learning_method": [StrOptions({"activelab", "activelab_em"}), None],
    }

    def __init__(self, *, pool="auto", exclude_fully_annotated=False, random_state=None,
                 active_learning_method=None):
        super().__init__(pool=pool, exclude_fully_annotated=exclude_fully_annotated, random_state=random_state)
        self.active_learning_method = active_learning_method

    def _score(self, est, X_pool, fit_pool):
        method = self.active_learning_method
        if method is None or method == getattr(est, "active_learning_method", "activelab"):
            if fit_pool:
                return est.active_learning_scores_
            return est.active_learning_scores(X_pool)[1]
        from .activelab import _check_method

        _check_method(method)
        P = est._P_lab
        if fit_pool:
            U = est.oof_pred_probs_[..., ~est.labeled_mask_, :]
            U = U if U.ndim == 3 else U[None]
        else:
            U = est._fold_mean_proba(X_pool)
        U = U if U.shape[1] else None
        fn = get_active_learning_scores_ensemble if P.shape[0] > 1 else get_active_learning_scores
        s_lab, s_unl = fn(est._ann_lab, P if P.shape[0] > 1 else P[0],
                          None if U is None else (U if P.shape[0] > 1 else U[0]),
                          random_state=est.random_state, active_learning_method=method)
        if not fit_pool:
            return s_unl
        scores = np.empty(est.labeled_mask_.size)
        scores[est.labeled_mask_] = s_lab
        scores[~est.labeled_mask_] = s_unl
        return scores


class _ModelScoreQuery(_Query):
    _score_fn = None

    def _score(self, est, X_pool, fit_pool):
        if fit_pool:
            P = est.oof_pred_probs_
            if P.ndim == 3:  # ensemble: mean of the models
                P = P.mean(axis=0)
        else:
            P = est.predict_proba(X_pool)
        return type(self)._score_fn(P)


class UncertaintyQuery(_ModelScoreQuery):

    _score_fn = staticmethod(uncertainty_scores)


class MarginQuery(_ModelScoreQuery):

    _score_fn = staticmethod(margin_scores)


class EntropyQuery(_ModelScoreQuery):

    _score_fn = staticmethod(entropy_scores)


class RandomQuery(_Query):

    def _score(self, est, X_pool, fit_pool):
        return self._rng().random_sample(X_pool.shape[0])


class GoodRandomQuery(_Query):

    def _score(self, est, X_pool, fit_pool):
        if fit_pool:
            return est.n_annotations_.astype(np.float64)
        return np.zeros(X_pool.shape[0])


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
    (UncertaintyQuery, 'Least confidence: the rows whose largest predicted probability is lowest.\n\n    Labeled rows of the fit ``X`` use their out-of-fold predictions, other rows\n    the mean prediction of the cross-validation models.', _TIES, _SORTED),
    (MarginQuery, 'Smallest margin between the two most likely classes.\n\n    Labeled rows of the fit ``X`` use their out-of-fold predictions, other rows\n    the mean prediction of the cross-validation models.', _TIES, _SORTED),
    (EntropyQuery, 'Highest entropy of the predicted probabilities.\n\n    Scores are ``1 - H / log(K)`` (:func:`~skactivelab.query.entropy_scores`),\n    lowest first. Labeled rows of the fit ``X`` use their out-of-fold predictions.', _TIES, _SORTED),
    (RandomQuery, 'Uniformly random rows (labeled or not), seeded by ``random_state``.\n\n    The same strategy object draws new rows at every call.', 'Seeds the draws; one stream per strategy object.', ('sorted(idx.tolist()) == sorted(set(idx.tolist()))', 'True')),
    (GoodRandomQuery, 'Random among the rows with the fewest annotations (so unlabeled rows first).\n\n    On a pool of unlabeled rows this is plain random sampling.', 'Seeds the random order among rows with equally few annotations.', ('bool((L[idx] < 0).all())  # 20 unlabeled rows: the picks are among them', 'True')),
]:
    _cls.__doc__ = _BASELINE_DOC.format(
        name=_cls.__name__, summary=_summary, random_state=_random_state, check=_check,
        output=_output,
    )
del _cls, _summary, _random_state, _check, _output
