"""Meta-estimators trained on CROWDLAB consensus labels.

:class:`MultiAnnotatorClassifier` wraps any scikit-learn classifier the way
:class:`sklearn.semi_supervised.SelfTrainingClassifier` does, but its target is
an annotation matrix (rows = rows of ``X``, columns = annotators). ``fit``
computes out-of-fold predicted probabilities, infers CROWDLAB consensus labels
and their quality, scores every row with ActiveLab and fits the wrapped
classifier on the consensus labels. :class:`MultiAnnotatorEnsembleClassifier`
does the same with several classifiers (algorithms 5).

See ``docs/estimator.md`` for the design decisions.
"""

from __future__ import annotations
from __future__ import annotations

import warnings
from dataclasses import replace
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._compat import (
    ClassifierTags,
    HasMethods,
    Interval,
    MetadataRouter,
    MethodMapping,
    StrOptions,
    _BaseComposition,
    available_if,
    check_method_params,
    estimator_has,
    fit_context,
    get_tags,
    num_samples,
    process_routing,
    raise_for_params,
    routing_enabled,
    safe_indexing,
    validate_data,
)
from ._annotations import Annotations, check_annotations, rows_of_X
from ._utils import is_dataframe, is_long_format, no_class_array, py_scalar
from . import _kernels as K_
from . import _dask
from ._config import at_most
from ._digest import data_digest
from ._models import fit_fold_model, fold_splits
from ._phases import score_rows
from ._proba import aligned_proba, class_positions, final_proba, fold_mean_proba
from .crowd_models import CROWD_MODELS, AnnotatorConfusion, CrowdLab, MajorityVote, check_crowd_model, decides_consensus
from .crowdlab import label_quality
from .majority_vote import get_majority_vote_label

__all__ = ["MultiAnnotatorClassifier", "MultiAnnotatorEnsembleClassifier"]


# --------------------------------------------------------------------------- helpers
def _check_target_values(y, name):
    """Refuse scalar, complex and continuous targets (as scikit-learn's classifiers do)."""
    if y.ndim == 0:
        raise ValueError(f"{name} must be 1-D or 2-D array-like, got a scalar {y!r}.")
    if y.dtype.kind == "c":
        raise ValueError("Complex data not supported as labels in y.")
    if y.dtype.kind == "f":
        v = y[np.isfinite(y)]
        if np.any(v != np.round(v)):
            raise ValueError(
                "Unknown label type: continuous values in y; give class labels "
                "(integers or strings), NaN or -1 for a missing label."
            )


def _observed_classes(ann):
    """``ann`` with only the label values some annotator gave, in sorted order (like
    ``np.unique(y)`` for a 1-D target)."""
    observed = np.unique(ann.label)
    if observed.size == ann.n_classes:
        return ann
    remap = np.full(ann.n_classes, -1, dtype=np.int64)
    remap[observed] = np.arange(observed.size)
    return replace(ann, label=remap[ann.label], n_classes=int(observed.size), classes=ann.classes[observed])


def _parse_target(y, n_samples, name="y"):
    """Annotations for the rows of X (unlabeled rows allowed), classes compressed."""
    if y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None; pass the "
            "annotations (n_samples, n_annotators) or 1-D labels."
        )
    if isinstance(y, Annotations):
        n_y = y.n_examples
    elif is_long_format(y):
        n_y = None  # long format: rows are given as integer row indices
    else:
        if not is_dataframe(y) and not sp.issparse(y):
            y = np.asarray(y)
            _check_target_values(y, name)
        n_y = y.shape[0] if hasattr(y, "shape") and len(y.shape) else len(y)
    if n_y is not None and n_y != n_samples:
        raise ValueError(
            f"X has {n_samples} rows but {name} has {n_y}; {name} needs one row per row "
            "of X (NaN or -1 where an annotator gave no label)."
        )
    ann = check_annotations(
        y,
        n_examples=n_samples if n_y is None else None,
        require_labeled=False,
        name=name,
        rows_name="X",
    )
    return _observed_classes(ann)


def _check_X(estimator, X, reset):
    """Check the number and names of features; X itself goes to the estimator unchanged.

    Only 1-D input is refused here (the wrapped estimator validates the rest,
    so its own errors surface unchanged); sparse input becomes CSR so rows can
    be indexed.
    """
    if X is None:
        raise ValueError(f"{type(estimator).__name__} requires X; got None.")
    if not (hasattr(X, "__getitem__") or hasattr(X, "iloc") or sp.issparse(X)):
        X = np.asarray(X)  # array-likes that cannot be indexed by rows
    ndim = X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim
    if not is_dataframe(X) and not sp.issparse(X) and ndim == 1:
        raise ValueError(
            "Expected 2D array, got 1D array instead. Reshape your data either using "
            "X.reshape(-1, 1) if your data has a single feature or X.reshape(1, -1) "
            "if it contains a single sample."
        )
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()
    if _dask.is_dask_collection(X) and hasattr(X, "_meta") and is_dataframe(X._meta):
        # a Dask DataFrame: check names and count of features on its empty pandas model
        validate_data(estimator, X._meta, skip_check_array=True, reset=reset)
        return X
    return validate_data(estimator, X, skip_check_array=True, reset=reset)


# Metadata that has one entry per row of X (scikit-learn's names). Other array
# metadata of the length of X is sliced per fold, as scikit-learn does, and any
# other value is passed unchanged.
_ROW_PARAMS = ("sample_weight", "groups")


def _check_row_length(value, n_samples, name, where):
    """Refuse per-row metadata whose length is not the number of rows of X."""
    if value is None:
        return
    try:
        n = num_samples(value)
    except TypeError:
        raise TypeError(
            f"{name} for {where} must be an array-like with one entry per row of X "
            f"({n_samples}), got {type(value).__name__}."
        ) from None
    if n != n_samples:
        raise ValueError(
            f"{name} for {where} has {n} entries but X has {n_samples} rows; give one entry "
            f"per row of X, rows without a label included ({n_samples} in all)."
        )


def _check_row_params(params, n_samples, where):
    for name in _ROW_PARAMS:
        if name in params:
            _check_row_length(params[name], n_samples, name, where)


def _fit_predict_fold(estimator, X, y, train, test, fit_params, classes):
    """Fit a clone on the ``train`` rows; return it and its aligned probabilities on ``test``."""
    est = fit_fold_model(estimator, safe_indexing(X, train), y[train], fit_params)
    return est, aligned_proba(est, safe_indexing(X, test), classes)


def _fit_final(estimator, X, y, fit_params, name):
    """Fit and return a clone of ``estimator`` on all labeled rows and their consensus."""
    if np.unique(y).size < 2:
        raise ValueError(
            f"the consensus of the labeled rows is the single class {py_scalar(y[0])!r}, so "
            f"{name} cannot be fitted on it; label rows of at least one other class."
        )
    return clone(estimator).fit(X, y, **fit_params)


def _check_has_proba(estimator, name):
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"{name} {type(estimator).__name__} has no predict_proba; CROWDLAB and "
            "ActiveLab need class probabilities. Wrap it with "
            "sklearn.calibration.CalibratedClassifierCV (e.g. "
            f"CalibratedClassifierCV({type(estimator).__name__}(...))), or use a "
            "classifier with predict_proba."
        )


class _Routing:
    """The fit's metadata, routed to each model (sliced to the rows it fits on) and to
    the ``cv`` splitter; empty without metadata routing."""

    def __init__(self, owner, X, params, models, lab_idx):
        self.X = X
        self.routed = process_routing(owner, "fit", **params) if routing_enabled() else None
        self.split = {}
        if self.routed is not None:
            n_samples = num_samples(X)
            for name, _ in models:
                _check_row_params(self.routed[name].fit, n_samples, f"fit of {name!r}")
            _check_row_params(self.routed.splitter.split, n_samples, "the cv splitter")
            self.split = check_method_params(X, params=self.routed.splitter.split, indices=lab_idx)

    def fit_params(self, name, rows):
        if self.routed is None:
            return {}
        return check_method_params(self.X, params=self.routed[name].fit, indices=rows)


# --------------------------------------------------------------------------- base
class _BaseMultiAnnotator(MetaEstimatorMixin, BaseEstimator):
    """Shared fit logic; subclasses define ``_named_estimators``."""

    _parameter_constraints: dict = {
        "cv": ["cv_object"],
        "calibrate": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "crowd_model": [StrOptions(set(CROWD_MODELS)), CrowdLab, AnnotatorConfusion, MajorityVote],
    }

    _ensemble = False

    def _check_crowd_model(self):
        """The crowd model of this fit (the one resolver reads the parameters), and whether
        it decides the consensus; a CROWDLAB-only option with another model is refused."""
        model = check_crowd_model(self.crowd_model, getattr(self, "active_learning_method", None))
        decides = decides_consensus(model)
        if decides and getattr(self, "consensus_method", "best_quality") != "best_quality":
            raise ValueError(
                f"consensus_method={self.consensus_method!r} is an option of CROWDLAB's consensus, but "
                f"the consensus comes from crowd_model={self.crowd_model!r}; for a majority vote pass "
                "crowd_model='majority_vote' (and leave consensus_method at 'best_quality'), or use "
                "crowd_model='crowdlab'."
            )
        return model, decides

    def _kernel_threads(self):
        """Threads of the scoring kernels follow ``n_jobs`` (None means 1, -1 all CPUs,
        as for the folds; they never run at the same time), within any limit of
        ``skactivelab.config_context``."""
        return at_most(effective_n_jobs(None) if self.n_jobs is None else self.n_jobs)

    # ------------------------------------------------------------------ folds
    def _warn_small_classes(self, strat, K, n_splits):
        counts = np.bincount(strat, minlength=K)
        small = np.flatnonzero((counts > 0) & (counts < n_splits))
        if small.size:
            shown = ", ".join(f"{py_scalar(self.classes_[k])!r} ({counts[k]})" for k in small[:10])
            warnings.warn(
                f"Classes with fewer labeled rows than cv={n_splits} folds: {shown}. "
                "Some training folds miss them, so their out-of-fold probability "
                "there is 0; a class seen once is never predicted out of fold.",
                UserWarning,
                stacklevel=5,
            )

    def _splits(self, X_lab, strat, K, split_params, seed):
        n_lab = strat.shape[0]
        if self.cv is None or isinstance(self.cv, Integral):
            n_splits = 5 if self.cv is None else int(self.cv)
            if n_lab < n_splits:
                raise ValueError(
                    f"y has {n_lab} labeled row(s) but cv={n_splits} folds were asked for; "
                    f"pass cv={max(n_lab, 2)} or fewer folds (at least 2 labeled rows are "
                    "needed), or label more rows."
                )
            self._warn_small_classes(strat, K, n_splits)
            return fold_splits(X_lab, strat, n_splits, seed)
        splitter = check_cv(self.cv)
        splits = list(splitter.split(X_lab, strat, **split_params))
        test = np.concatenate([t for _, t in splits]) if splits else np.empty(0, int)
        if test.shape[0] != n_lab or np.unique(test).shape[0] != n_lab:
            raise ValueError(
                "cv must partition the labeled rows (every labeled row in exactly one "
                "test fold) to give out-of-fold probabilities, as in cross_val_predict; "
                f"{type(splitter).__name__} does not."
            )
        return splits

    # ------------------------------------------------------------------ fit
    def _fit_target(self, y, n_samples):
        ann = _parse_target(y, n_samples)
        if ann.n_annotations == 0:
            raise ValueError(
                "y has no label at all; every row is unlabeled. Give at least one "
                "annotation (NaN or -1 mark a missing label); under cross_val_score or "
                "GridSearchCV, pass cv=skactivelab.ConsensusStratifiedKFold(5) so that every "
                "training fold has labeled rows."
            )
        if ann.n_classes < 2:
            raise ValueError(
                f"y has only 1 class ({py_scalar(ann.classes[0])!r}); a classifier needs labels "
                "of at least 2 classes."
            )
        return ann

    def _fit(self, X, y, params):
        raise_for_params(params, self, "fit")
        models = self._named_estimators()
        for name, est in models:
            _check_has_proba(est, name)
        X = _check_X(self, X, reset=True)
        # content hash: lets query strategies recognise this X as the training set
        self.fit_digest_ = data_digest(X)
        n_samples = num_samples(X)
        ann = self._fit_target(rows_of_X(y, X), n_samples)
        self.classes_ = ann.classes
        self.annotator_ids_ = ann.annotator_ids
        model, decides = self._check_crowd_model()
        self.crowd_model_ = model
        rng = check_random_state(self.random_state)
        seed = rng.randint(np.iinfo(np.int32).max)
        n_per = np.bincount(ann.example, minlength=n_samples)
        labeled = n_per > 0
        lab_idx, unl_idx = np.flatnonzero(labeled), np.flatnonzero(~labeled)
        self.labeled_mask_ = labeled
        self.n_annotations_ = n_per.astype(np.int64)
        routing = _Routing(self, X, params, models, lab_idx)
        # the real classes go down: the scoring core decodes its results once
        ann_lab = ann.subset_examples(labeled)
        X_lab = safe_indexing(X, lab_idx)
        result, P, fit = self._cross_validate(models, X_lab, ann_lab, lab_idx, routing, seed, rng, decides)

        # final estimator(s) on all labeled rows with their consensus labels
        y_final = result.consensus_label
        finals = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_final)(est, X_lab, y_final, routing.fit_params(name, lab_idx), name)
            for name, est in models
        )
        self._set_final(finals)

        # unlabeled rows: mean of the fold models (the paper's protocol, algorithms 6)
        U = self._fold_mean_proba(safe_indexing(X, unl_idx)) if unl_idx.size else None
        with self._kernel_threads():
            self._store(result, P, U, fit, ann_lab, lab_idx, unl_idx, n_samples, rng)
        return self

    def _cross_validate(self, models, X_lab, ann_lab, lab_idx, routing, seed, rng, decides):
        """Rounds of out-of-fold probabilities and consensus; returns (the consensus result,
        out-of-fold P (E, n_labeled, K), the crowd model's phase fit when it decides the
        consensus, else None)."""
        K = ann_lab.n_classes
        # round 0 trains on the majority vote (algorithms 6)
        train_codes = K_.majority_vote(ann_lab, K_.label_counts(ann_lab), None, rng)
        splits = self._splits(X_lab, train_codes, K, routing.split, seed)
        parallel = Parallel(n_jobs=self.n_jobs)
        E = len(models)
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            y_values = self.classes_[train_codes]
            jobs = parallel(
                delayed(_fit_predict_fold)(
                    est, X_lab, y_values, train, test, routing.fit_params(name, lab_idx[train]), self.classes_
                )
                for name, est in models
                for train, test in splits
            )
            fold_models = [model for model, _ in jobs]
            P = np.zeros((E, lab_idx.size, K))
            for j, (_, proba) in enumerate(jobs):
                P[j // len(splits), splits[j % len(splits)][1]] = proba
            with self._kernel_threads():
                result, consensus, fit = self._consensus(ann_lab, P, rng, decides)
            if np.array_equal(consensus, train_codes):
                break  # another round would train on the same labels
            train_codes = consensus
        self.cv_estimators_ = [fold_models[e * len(splits) : (e + 1) * len(splits)] for e in range(E)]
        self.n_splits_ = len(splits)
        return result, P, fit

    def _consensus(self, ann_lab, P, rng, decides):
        """(LabelQualityResult in class values, consensus codes, crowd model fit or None)
        of the labeled rows: CROWDLAB's, unless the crowd model decides the consensus; then
        every column that depends on the consensus is that model's (the weights and the
        temperature stay CROWDLAB's)."""
        result, codes = label_quality(
            ann_lab,
            P if self._ensemble else P[0],
            ensemble=self._ensemble,
            consensus_method="best_quality" if self._ensemble else self.consensus_method,
            calibrate_probs=self.calibrate,
            random_state=rng,
            one_label="label",
        )
        if not decides:
            return result, codes, None
        fit = self.crowd_model_._fit_for(ann_lab, P, rng, P.shape[0])  # once per round; the scores reuse it
        result, codes = fit.consensus(result)
        return result, codes, fit

    def _fold_mean_proba(self, X):
        """(E, n, K): per model, the mean predict_proba of its fold models."""
        return fold_mean_proba(self.cv_estimators_, X, self.classes_, n_jobs=self.n_jobs)

    def _store(self, result, P, U, fit, ann_lab, lab_idx, unl_idx, n_samples, rng):
        K = len(self.classes_)
        E = P.shape[0]
        labels = no_class_array(self.classes_, n_samples)  # -1 / NaN / None: unlabeled row
        labels[lab_idx] = result.consensus_label
        self.consensus_labels_ = labels
        quality = np.full(n_samples, np.nan)
        quality[lab_idx] = result.consensus_quality_score
        self.consensus_quality_ = quality
        self.annotator_quality_ = result.annotator_quality
        self.agreement_with_consensus_ = result.agreement_with_consensus
        # class values; -1 (numeric classes) or None for an annotator without labels
        self.worst_class_ = result.worst_class
        self.num_examples_labeled_ = result.num_examples_labeled
        # the CROWDLAB result of the labeled rows, in the user's class values
        self.label_quality_ = replace(result, example_ids=lab_idx)
        self.model_weight_ = result.model_weight
        self.annotator_weights_ = result.annotator_weights
        self.temperature_ = result.temperature
        oof = np.zeros((E, n_samples, K))
        oof[:, lab_idx] = P
        if U is not None:
            oof[:, unl_idx] = U
        self.oof_pred_probs_ = oof if self._ensemble else oof[0]
        if fit is None:
            fit = self.crowd_model_._fit_for(ann_lab, P, rng, P.shape[0])
        self.active_learning_fit_ = fit
        self.annotator_accuracy_ = fit.annotator_accuracy
        scores = np.empty(n_samples)
        scores[lab_idx] = fit.scores_labeled
        scores[unl_idx] = score_rows(fit, U, rng=rng) if U is not None else np.empty(0)
        self.active_learning_scores_ = scores

    # ------------------------------------------------------------------ public
    def active_learning_scores(self, X_pool=None):
        """ActiveLab scores of the labeled fit rows and of a pool of unlabeled rows.

        Lower means one more label there helps more; both arrays are on one
        scale, so with a budget of B labels take the B lowest across both.

        Parameters
        ----------
        X_pool : {array-like, sparse matrix} of shape (n_pool, n_features), default=None
            Unlabeled rows to score with the mean prediction of the fold models.
            None scores the unlabeled rows of the fit ``X``.

        Returns
        -------
        scores_labeled : ndarray of shape (n_labeled,)
            Scores of the labeled fit rows, in row order
            (``active_learning_scores_[labeled_mask_]``).
        scores_pool : ndarray of shape (n_pool,)
            Scores of ``X_pool`` (or of the unlabeled fit rows).
        """
        check_is_fitted(self)
        s_lab = self.active_learning_scores_[self.labeled_mask_]
        if X_pool is None:
            return s_lab, self.active_learning_scores_[~self.labeled_mask_]
        X_pool = _check_X(self, X_pool, reset=False)
        if _dask.is_dask_collection(X_pool):
            return s_lab, _dask.estimator_pool_scores(self, X_pool)
        if not num_samples(X_pool):
            return s_lab, np.empty(0)
        U = self._fold_mean_proba(X_pool)
        with self._kernel_threads():
            return s_lab, score_rows(self.active_learning_fit_, U, rng=check_random_state(self.random_state))

    def _aligned_final_proba(self, X, **params):
        w = np.asarray(self.model_weight_, dtype=np.float64)
        return final_proba(self._finals(), X, self.classes_, w, params)

    def score(self, X, y, sample_weight=None):
        """Accuracy against the labels in ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test rows.
        y : array-like of shape (n_samples,) or (n_samples, n_annotators), DataFrame, ...
            True labels (1-D) or an annotation matrix in any accepted format.
            The reference label of a row is the majority vote of its annotations
            (ties broken as in :func:`~skactivelab.get_majority_vote_label` with
            ``random_state``); the model is not involved, so the score is not
            biased towards it. Rows with no label are skipped.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Fraction of labeled rows whose prediction equals the reference label.
        """
        check_is_fitted(self)
        n = num_samples(X)
        if sample_weight is not None:
            _check_row_length(sample_weight, n, "sample_weight", "score")
        ann = _parse_target(rows_of_X(y, X), n)
        if ann.n_annotations == 0:
            raise ValueError(
                "y has no label at all in these rows; nothing to score against. Under "
                "cross_val_score or GridSearchCV this is a test fold of unlabeled rows only (their "
                "default cv does not stratify an annotation matrix): pass "
                "cv=skactivelab.ConsensusStratifiedKFold(5), which puts labeled rows in every fold."
            )
        has = np.bincount(ann.example, minlength=n) > 0
        ref = get_majority_vote_label(ann.subset_examples(has), random_state=self.random_state)
        rows = np.flatnonzero(has)
        pred = self.predict(safe_indexing(X, rows))
        sw = None if sample_weight is None else np.asarray(sample_weight)[rows]
        return float(accuracy_score(ref, pred, sample_weight=sw))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Not "classifier" on purpose: see docs/estimator.md ("NaN targets and
        # check_cv"). Everything else about a classifier holds.
        tags.estimator_type = None
        tags.classifier_tags = ClassifierTags(multi_label=False)
        tags.target_tags.required = True
        tags.target_tags.two_d_labels = True
        tags.target_tags.multi_output = True
        sub = [get_tags(est) for _, est in self._named_estimators()]
        tags.input_tags.sparse = all(t.input_tags.sparse for t in sub)
        tags.input_tags.allow_nan = all(t.input_tags.allow_nan for t in sub)
        tags.input_tags.string = all(t.input_tags.string for t in sub)
        tags.input_tags.categorical = all(t.input_tags.categorical for t in sub)
        return tags


class MultiAnnotatorClassifier(_BaseMultiAnnotator):
    """Classifier trained on CROWDLAB consensus labels of several annotators.

    A meta-estimator in the spirit of
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier`: its target is an
    annotation matrix whose rows are the rows of ``X`` and whose columns are
    annotators (NaN, -1 or None where an annotator gave no label; a 1-D target
    is one annotator). Rows with no label at all are the unlabeled pool: not
    trained on, but scored by ActiveLab.

    ``fit`` (1) computes out-of-fold predicted probabilities of ``estimator`` on
    the labeled rows, (2) infers CROWDLAB consensus labels, their quality and
    annotator quality from them, (3) optionally repeats on the new consensus,
    (4) fits a clone of ``estimator`` on all labeled rows with their consensus
    labels and (5) scores every row with ActiveLab (lower = label it next).

    Parameters
    ----------
    estimator : estimator object
        A classifier with ``fit`` and ``predict_proba`` (trees, linear models,
        gradient boosting, a Pipeline, an MLP, ...). A classifier without
        ``predict_proba`` can be wrapped in
        :class:`~sklearn.calibration.CalibratedClassifierCV`.
    consensus_method : {"best_quality", "majority_vote"}, default="best_quality"
        How CROWDLAB picks the consensus label (algorithms 2.6); an option of
        ``crowd_model="crowdlab"`` only (with another crowd model,
        ``"majority_vote"`` is refused: use ``crowd_model="majority_vote"``).
    cv : int, cross-validation generator or iterable, default=5
        Folds for the out-of-fold predicted probabilities of the labeled rows.
        An int gives ``StratifiedKFold(cv, shuffle=True)`` on the current
        consensus (the majority vote at first), seeded by ``random_state``;
        classes with fewer labeled rows than folds are warned about, and if
        every class has fewer rows than folds a shuffled ``KFold`` is used. A
        splitter or iterable must partition the labeled rows.
    calibrate : bool, default=True
        Temperature-scale the out-of-fold probabilities to the annotations
        before CROWDLAB (``calibrate_probs`` of the scoring core). ActiveLab
        scores always calibrate (algorithms 4).
    max_iter : int, default=1
        Rounds of "cross-validate on the current labels, infer the CROWDLAB
        consensus". Round 1 trains the fold models on the majority vote; each
        further round retrains them on the previous consensus. Stops early
        when the consensus equals the labels the round trained on.
    n_jobs : int, default=None
        Fold models are fitted (and predict) in parallel with joblib, and the
        scoring kernels (CROWDLAB, ActiveLab, run after the folds) use as many
        threads on large inputs. ``None`` means 1 unless in a
        ``joblib.parallel_config`` context; -1 means all CPUs the process may
        use. Never more than the CPUs available nor an enclosing limit
        (``OMP_NUM_THREADS``, ``skactivelab.config_context(n_threads=...)``).
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling and the majority-vote tie-breaks. The wrapped
        estimator's own ``random_state`` is its own parameter
        (``estimator__random_state``).
    crowd_model : {"crowdlab", "annotator_confusion", "majority_vote"} or instance, default="crowdlab"
        The crowd model of the consensus and the scores
        (:mod:`skactivelab.crowd_models`). ``"crowdlab"``: the papers' CROWDLAB
        consensus and ActiveLab scores. ``"annotator_confusion"``: the consensus
        is the most likely class under a confusion matrix per annotator with the
        classifier as a fitted prior (the model for a real crowd), and
        ``active_learning_scores_`` are the probabilities that the current best
        guesses are right. ``"majority_vote"``: the labels alone. An instance
        (such as ``AnnotatorConfusion(shrinkage=2.0)``) sets the model's
        parameters; the estimator's ``random_state`` seeds it. See
        :func:`skactivelab.get_active_learning_scores`.
    active_learning_method : {"activelab", "activelab_em"}, default=None
        Deprecated: ``"activelab"`` is ``crowd_model="crowdlab"``,
        ``"activelab_em"`` is ``crowd_model="annotator_confusion"`` (with a
        FutureWarning at fit); given with a different ``crowd_model`` it is an
        error.

    Attributes
    ----------
    estimator_ : estimator object
        Clone of ``estimator`` fitted on the labeled rows with their consensus labels.
    classes_ : ndarray of shape (n_classes,)
        The label values annotators used, sorted (the user's own values).
    consensus_labels_ : ndarray of shape (n_samples,)
        Consensus label of each fit row; -1 (numeric classes) or None (other
        classes) for unlabeled rows.
    consensus_quality_ : ndarray of shape (n_samples,)
        CROWDLAB quality of each consensus label in [0, 1] (with a crowd model
        that decides the consensus: its posterior probability of the consensus
        label); NaN for unlabeled rows.
    annotator_quality_, agreement_with_consensus_, worst_class_, num_examples_labeled_ : ndarray of shape (n_annotators,)
        Per-annotator statistics (algorithms 2.8), in column order of ``y``,
        against the consensus of the crowd model (``annotator_quality_``: with
        a model other than CROWDLAB, its ``annotator_accuracy_``).
    annotator_ids_ : ndarray of shape (n_annotators,)
        Annotator IDs (DataFrame columns, or column positions).
    model_weight_ : float
        CROWDLAB weight of the model.
    annotator_weights_ : ndarray of shape (n_annotators,)
        CROWDLAB weight of each annotator.
    temperature_ : float or None
        Calibration temperature (None when not calibrated or CROWDLAB did not run).
    annotator_accuracy_ : ndarray of shape (n_annotators,) or None
        With ``crowd_model="annotator_confusion"``: each annotator's
        probability of giving the true class under the fitted crowd model,
        estimated from all of its labels (NaN for an annotator without labels);
        with ``"majority_vote"``: each annotator's agreement with the majority
        of the other labels. :meth:`MultiAnnotatorActiveLearner.suggest_annotators`
        ranks annotators by it. None with ``"crowdlab"``.
    crowd_model_ : CrowdLab, AnnotatorConfusion or MajorityVote
        The crowd model this fit used (an unfitted instance; ``crowd_model``
        resolved).
    label_quality_ : LabelQualityResult
        The result for the labeled rows (``to_frame()`` etc.): CROWDLAB's, or,
        with a crowd model that decides the consensus, every column that
        depends on the consensus (labels, confidence, posterior, agreement,
        annotator statistics) from that model.
    active_learning_fit_ : object
        ActiveLab's first phase fitted on the labeled rows (its type follows
        ``crowd_model``): ``scores_labeled``, what every pool row's
        score depends on, and the ``annotations`` and out-of-fold ``pred_probs``
        it was fitted on. The query strategies read it; see the design page.
    oof_pred_probs_ : ndarray of shape (n_samples, n_classes)
        Out-of-fold predicted probabilities of the labeled rows; for unlabeled
        rows the mean prediction of the fold models.
    active_learning_scores_ : ndarray of shape (n_samples,)
        ActiveLab score of every fit row, labeled and unlabeled on one scale.
    labeled_mask_ : ndarray of bool, shape (n_samples,)
        Which fit rows had at least one label.
    n_annotations_ : ndarray of int, shape (n_samples,)
        Number of labels of each fit row.
    cv_estimators_ : list of one list of estimators
        The fold models of the last round (they predict the unlabeled pool).
    n_splits_ : int
        Number of folds used.
    n_iter_ : int
        Number of cross-validation rounds run.
    fit_digest_ : str or None
        Content hash of the fit ``X`` (values, dtypes and, for a DataFrame,
        column names); query strategies use it to recognise the training set as
        a pool of re-label candidates (:class:`ActiveLabQuery`). None when the
        content cannot be hashed; then ``pool="auto"`` asks for an explicit pool.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string
        feature names.

    See Also
    --------
    MultiAnnotatorEnsembleClassifier : The same with several classifiers.
    skactivelab.get_label_quality_multiannotator : CROWDLAB on given probabilities.
    skactivelab.get_active_learning_scores : ActiveLab on given probabilities.
    sklearn.semi_supervised.SelfTrainingClassifier : The model this follows.

    Notes
    -----
    ``is_classifier(MultiAnnotatorClassifier(...))`` is False on purpose: it
    lets ``cross_val_score`` and ``GridSearchCV`` accept NaN-encoded annotation
    matrices with their default ``cv`` (see ``docs/estimator.md``).

    When every labeled row has a single label, CROWDLAB is undefined; the
    consensus is then that label, its quality the out-of-fold probability of
    it, and all weights are 1 (as ActiveLab does in that case).

    References
    ----------
    .. [1] H. W. Goh, U. Tkachenko and J. Mueller, "CROWDLAB: Supervised
       learning to infer consensus labels and their quality from data with
       multiple annotators", arXiv:2210.06812, 2022.
    .. [2] H. W. Goh and J. Mueller, "ActiveLab: Active Learning with
       Re-Labeling by Multiple Annotators", arXiv:2301.11856, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactivelab import MultiAnnotatorClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 2))
    >>> truth = (X[:, 0] > 0).astype(int)
    >>> L = np.full((60, 3), np.nan)
    >>> L[:50] = truth[:50, None]          # three annotators label rows 0..49
    >>> L[:50:7, 0] = 1 - truth[:50:7]     # annotator 0 makes mistakes
    >>> clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0)
    >>> clf.fit(X, L)
    MultiAnnotatorClassifier(cv=3, estimator=LogisticRegression(), random_state=0)
    >>> bool((clf.consensus_labels_[:50] == truth[:50]).all())
    True
    >>> int(np.argmin(clf.annotator_quality_))  # the noisy annotator
    0
    >>> clf.active_learning_scores_.shape  # rows 50..59 are the unlabeled pool
    (60,)
    >>> clf.predict(X[:3]).tolist() == truth[:3].tolist()
    True
    """

    _parameter_constraints: dict = {
        **_BaseMultiAnnotator._parameter_constraints,
        "estimator": [HasMethods(["fit"])],
        "consensus_method": [StrOptions({"best_quality", "majority_vote"})],
        "active_learning_method": [StrOptions({"activelab", "activelab_em"}), None],
    }

    def __init__(
        self,
        estimator,
        *,
        consensus_method="best_quality",
        cv=5,
        calibrate=True,
        max_iter=1,
        n_jobs=None,
        random_state=None,
        crowd_model="crowdlab",
        active_learning_method=None,
    ):
        self.estimator = estimator
        self.consensus_method = consensus_method
        self.crowd_model = crowd_model
        self.active_learning_method = active_learning_method
        self.cv = cv
        self.calibrate = calibrate
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _named_estimators(self):
        return [("estimator", self.estimator)]

    def _set_final(self, finals):
        self.estimator_ = finals[0]

    def _finals(self):
        return [self.estimator_]

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **params):
        """Fit on the CROWDLAB consensus of the annotations ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training rows, passed unchanged to the wrapped estimator.
        y : array-like of shape (n_samples,) or (n_samples, n_annotators), DataFrame, sparse matrix, tuple or Annotations
            Annotations in any format the scoring core accepts (NaN, -1 or None
            for a missing label; long format with integer row indices). Rows
            with no label are the unlabeled pool.
        **params : dict
            Metadata such as ``sample_weight`` for the wrapped estimator's
            ``fit`` (and ``groups`` for a ``cv`` splitter); only with
            ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, params)

    def _predict_params(self, method, params):
        raise_for_params(params, self, method)
        if routing_enabled():
            return process_routing(self, method, **params).estimator[method]
        return {}

    @available_if(estimator_has("predict"))
    def predict(self, X, **params):
        """Predict classes of ``X`` with :attr:`estimator_`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.
        **params : dict
            Metadata for the wrapped estimator's ``predict`` (routing only).

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        p = self._predict_params("predict", params)
        X = _check_X(self, X, reset=False)
        if _dask.is_dask_collection(X) and not p:
            return _dask.estimator_predict(self, X)
        return self.estimator_.predict(X, **p)

    @available_if(estimator_has("predict_proba"))
    def predict_proba(self, X, **params):
        """Class probabilities of ``X``, one column per entry of :attr:`classes_`.

        A class the consensus never chose (so :attr:`estimator_` never saw it)
        gets probability 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.
        **params : dict
            Metadata for the wrapped estimator's ``predict_proba`` (routing only).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        p = self._predict_params("predict_proba", params)
        X = _check_X(self, X, reset=False)
        if _dask.is_dask_collection(X) and not p:
            return _dask.estimator_predict_proba(self, X, [self.estimator_], None)
        return aligned_proba(self.estimator_, X, self.classes_, p, renormalise=False)

    @available_if(estimator_has("predict_log_proba"))
    def predict_log_proba(self, X, **params):
        """Log of :meth:`predict_proba` (``-inf`` for a class never chosen as consensus).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.
        **params : dict
            Metadata for the wrapped estimator's ``predict_log_proba`` (routing only).

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        p = self._predict_params("predict_log_proba", params)
        X = _check_X(self, X, reset=False)
        lp = np.asarray(self.estimator_.predict_log_proba(X, **p))
        est_classes = getattr(self.estimator_, "classes_", self.classes_)
        if len(est_classes) == len(self.classes_):
            return lp
        out = np.full((lp.shape[0], len(self.classes_)), -np.inf, dtype=lp.dtype)
        out[:, class_positions(est_classes, self.classes_)] = lp
        return out

    @available_if(estimator_has("decision_function"))
    def decision_function(self, X, **params):
        """Decision function of :attr:`estimator_`.

        When the consensus never chose some class of :attr:`classes_`, the
        result has one column per class with ``-inf`` for the missing ones.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.
        **params : dict
            Metadata for the wrapped estimator's ``decision_function`` (routing only).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        p = self._predict_params("decision_function", params)
        X = _check_X(self, X, reset=False)
        d = np.asarray(self.estimator_.decision_function(X, **p))
        est_classes = getattr(self.estimator_, "classes_", self.classes_)
        if len(est_classes) == len(self.classes_):
            return d
        if d.ndim == 1:
            d = np.column_stack([-d, d])
        out = np.full((d.shape[0], len(self.classes_)), -np.inf)
        out[:, class_positions(est_classes, self.classes_)] = d
        return out

    def get_metadata_routing(self):
        """Metadata routing: ``fit``/``predict*`` metadata go to the wrapped estimator.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self)
        router.add(
            estimator=self.estimator,
            method_mapping=MethodMapping()
            .add(caller="fit", callee="fit")
            .add(caller="predict", callee="predict")
            .add(caller="predict_proba", callee="predict_proba")
            .add(caller="predict_log_proba", callee="predict_log_proba")
            .add(caller="decision_function", callee="decision_function"),
        )
        router.add(
            splitter=check_cv(self.cv),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        return router


class MultiAnnotatorEnsembleClassifier(_BaseComposition, _BaseMultiAnnotator):
    """Several classifiers trained on one CROWDLAB consensus (algorithms 5).

    As :class:`MultiAnnotatorClassifier`, but every estimator in
    ``estimators`` contributes out-of-fold probabilities with its own CROWDLAB
    weight (and temperature), ActiveLab uses the ensemble scores, and
    :meth:`predict_proba` is the ``model_weight_``-weighted mean of the fitted
    estimators' probabilities.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        Named classifiers with ``fit`` and ``predict_proba``; their parameters
        are reachable as ``<name>__<param>``.
    cv : int, cross-validation generator or iterable, default=5
        Folds for the out-of-fold predicted probabilities of the labeled rows.
        An int gives ``StratifiedKFold(cv, shuffle=True)`` on the current
        consensus (the majority vote at first), seeded by ``random_state``;
        classes with fewer labeled rows than folds are warned about, and if
        every class has fewer rows than folds a shuffled ``KFold`` is used. A
        splitter or iterable must partition the labeled rows.
    calibrate : bool, default=True
        Temperature-scale the out-of-fold probabilities to the annotations
        before CROWDLAB (``calibrate_probs`` of the scoring core). ActiveLab
        scores always calibrate (algorithms 4).
    max_iter : int, default=1
        Rounds of "cross-validate on the current labels, infer the CROWDLAB
        consensus". Round 1 trains the fold models on the majority vote; each
        further round retrains them on the previous consensus. Stops early
        when the consensus equals the labels the round trained on.
    n_jobs : int, default=None
        Fold models are fitted (and predict) in parallel with joblib, and the
        scoring kernels (CROWDLAB, ActiveLab, run after the folds) use as many
        threads on large inputs. ``None`` means 1 unless in a
        ``joblib.parallel_config`` context; -1 means all CPUs the process may
        use. Never more than the CPUs available nor an enclosing limit
        (``OMP_NUM_THREADS``, ``skactivelab.config_context(n_threads=...)``).
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling and the majority-vote tie-breaks. The wrapped
        estimator's own ``random_state`` is its own parameter
        (``estimator__random_state``).
    crowd_model : {"crowdlab", "annotator_confusion", "majority_vote"} or instance, default="crowdlab"
        As for :class:`MultiAnnotatorClassifier`; ``"annotator_confusion"``
        takes the estimators' mean probability as the classifier.

    Attributes
    ----------
    estimators_ : list of estimators
        Each estimator fitted on the labeled rows with their consensus labels.
    named_estimators_ : dict
        The same, by name.
    model_weight_ : ndarray of shape (n_estimators,)
        CROWDLAB weight of each estimator.
    oof_pred_probs_ : ndarray of shape (n_estimators, n_samples, n_classes)
        Out-of-fold probabilities per estimator (fold-mean for unlabeled rows).

    The other attributes are those of :class:`MultiAnnotatorClassifier`.

    See Also
    --------
    MultiAnnotatorClassifier : One classifier.
    skactivelab.get_active_learning_scores_ensemble : ActiveLab with several models.

    References
    ----------
    .. [1] H. W. Goh, U. Tkachenko and J. Mueller, arXiv:2210.06812, 2022.
    .. [2] H. W. Goh and J. Mueller, arXiv:2301.11856, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skactivelab import MultiAnnotatorEnsembleClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 2))
    >>> L = np.full((60, 3), np.nan)
    >>> L[:50] = (X[:50, :1] > 0).astype(int)
    >>> clf = MultiAnnotatorEnsembleClassifier(
    ...     [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=2))],
    ...     cv=3, random_state=0).fit(X, L)
    >>> clf.model_weight_.shape, clf.oof_pred_probs_.shape
    ((2,), (2, 60, 2))
    """

    _ensemble = True

    _parameter_constraints: dict = {
        **_BaseMultiAnnotator._parameter_constraints,
        "estimators": [list],
    }

    def __init__(
        self,
        estimators,
        *,
        cv=5,
        calibrate=True,
        max_iter=1,
        n_jobs=None,
        random_state=None,
        crowd_model="crowdlab",
    ):
        self.estimators = estimators
        self.crowd_model = crowd_model
        self.cv = cv
        self.calibrate = calibrate
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    def get_params(self, deep=True):
        """Parameters of this estimator and, with ``deep``, of the named estimators."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, including ``<name>__<param>`` of the named estimators."""
        self._set_params("estimators", **params)
        return self

    def _named_estimators(self):
        if not self.estimators:
            raise ValueError("estimators is empty; give a list of (name, classifier) tuples.")
        names, _ = zip(*self.estimators)
        self._validate_names(names)
        return list(self.estimators)

    def _set_final(self, finals):
        self.estimators_ = finals
        self.named_estimators_ = {name: est for (name, _), est in zip(self.estimators, finals)}

    def _finals(self):
        return self.estimators_

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **params):
        """Fit every estimator on the CROWDLAB consensus of ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,) or (n_samples, n_annotators), ...
            Annotations, as for :meth:`MultiAnnotatorClassifier.fit`.
        **params : dict
            Metadata for the estimators' ``fit`` (routing only).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, params)

    def predict_proba(self, X):
        """``model_weight_``-weighted mean of the estimators' probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        if _dask.is_dask_collection(X):
            return _dask.estimator_predict_proba(self, X, self.estimators_, np.asarray(self.model_weight_, dtype=np.float64))
        return self._aligned_final_proba(X)

    def predict(self, X):
        """Class with the highest :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        if _dask.is_dask_collection(proba):
            return _dask.classes_of(proba, self.classes_)
        return self.classes_[np.argmax(proba, axis=1)]

    def get_metadata_routing(self):
        """Metadata routing: ``fit`` metadata go to every estimator.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self)
        for name, est in self.estimators:
            router.add(**{name: est}, method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        router.add(
            splitter=check_cv(self.cv),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        return router
