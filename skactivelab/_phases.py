"""ActiveLab in two phases: fit the labeled side once, then score any pool rows.

Phase 1, a phase class's ``fit``: from the annotations of the labeled examples and
their out-of-fold probabilities, fit everything an unlabeled row's score
depends on, and score the labeled examples. Phase 2, :func:`score_rows`: score
rows of the pool from their probabilities alone, so any split of the pool
(chunks in memory, blocks of a Dask array, Parquet pieces streamed from disk)
gives the scores of the whole pool. This module is the one copy of both
phases; the public functions (:mod:`skactivelab.activelab`), the estimator,
the Dask adapters and the command line all call it. It needs NumPy only.

The fitted object's type follows the crowd model: each crowd model of
:mod:`skactivelab.crowd_models` fits its phase object with ``_fit_phase``
(:func:`skactivelab.crowd_models.check_crowd_model` is the one place that reads
a model's name); everything else asks the fitted object. A phase class has

* ``fit(ann, P, rng=None, n_models=1)`` (classmethod): phase 1 on
  :class:`~skactivelab._annotations.Annotations` and float64 probabilities of
  shape (n_models, n_labeled, n_classes), both None for an empty labeled set;
* the fitted attributes ``annotations``, ``pred_probs`` (what it was fitted
  on), ``scores_labeled``, ``n_models``, ``n_classes``, ``annotator_accuracy``
  (None when the model estimates none) and ``row_wise``;
* ``score_rows(U, rng=None, pool=None, noise=None)``: phase 2;
* ``decides_consensus``, ``consensus_codes()`` and ``consensus(result)``:
  whether the model implies its own consensus of the labeled examples, that
  consensus (class codes), and a CROWDLAB result of the same
  examples with every column that depends on the consensus (labels, their
  confidence, the posterior, agreement, the annotator statistics) recomputed
  from that consensus (the estimators and the command line use it);
* when ``row_wise`` is False (several models under ActiveLab: the pool's
  consensus is the models' majority vote, whose tie-breaks use statistics of
  the whole pool), ``pool_summary(U)`` per block, ``pool_context(summaries)``
  for the whole pool and ``needs_draws(U, context)``, which the Dask adapter
  calls in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from . import _kernels as K_
from ._annotations import Annotations
from . import _confusion
from ._utils import no_class_array
from ._validation import check_pred_probs

__all__ = ["ActiveLabFit", "ConfusionFit", "MajorityVoteFit", "score_rows"]


def _pool_score(prob, w_M, wbar_A, K):
    """algorithms 4-5: an unlabeled row's score from the probability of its consensus class,
    ``(w * prob + wbar / K) / (w + wbar)``, written over ``prob`` (our own array: the same
    steps in the same order, without a temporary array per step)."""
    w = w_M.sum()
    prob *= w
    prob += wbar_A / K
    prob /= w + wbar_A
    return prob


def model_votes(U, temperatures):
    """Each model's ``U`` rescaled by its temperature, and the models' most probable
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


@dataclass(frozen=True, eq=False)
class ActiveLabFit:
    """Phase 1 of the paper's ActiveLab (algorithms 4-5), with CROWDLAB's weights.

    ``temperatures`` and ``model_weights`` have one entry per model;
    ``mean_annotator_weight`` is the mean CROWDLAB weight of the annotators.
    """

    decides_consensus: ClassVar[bool] = False
    annotations: Any
    pred_probs: Any
    scores_labeled: np.ndarray
    temperatures: np.ndarray
    model_weights: np.ndarray
    mean_annotator_weight: float
    n_classes: Any = None
    annotator_accuracy: Any = None

    @property
    def n_models(self):
        return self.model_weights.shape[0]

    @property
    def row_wise(self):
        return self.n_models == 1

    @classmethod
    def fit(cls, ann, P, rng=None, n_models=1):
        if P is None:  # no labeled example: unit weights, no calibration
            ones = np.ones(n_models)
            return cls(None, None, np.empty(0), ones, ones.copy(), 1.0)
        E, N, K = P.shape
        n_per = np.bincount(ann.example, minlength=N).astype(np.float64)
        if np.all(n_per == 1):
            # nothing to calibrate against: the label is the consensus, unit weights
            consensus, q, stats = K_.single_annotation_consensus(ann, P)
            temperatures = np.ones(E)
        else:
            consensus, stats, temperatures = K_.crowdlab_consensus(
                ann, P, n_per, None, method="best_quality", calibrate=True, rng=rng
            )
            q = stats["post"][np.arange(N), consensus]
        w = stats["annotator_weights"]
        w_M = stats["model_weight"]
        wbar_A = np.nanmean(w)
        W = w_M.sum() + K_.weight_sums(ann, w, N)  # (no array of every annotation's weight)
        scores = (W * q + wbar_A / K) / (W + wbar_A)
        return cls(ann, P, scores, temperatures, w_M, wbar_A, K)

    def consensus(self, result):
        return None  # the CROWDLAB consensus stands

    def score_rows(self, U, rng=None, pool=None, noise=None):
        """Scores of rows ``U`` (n_models, n, K), our own checked array (it may be
        overwritten). With several models, ``pool`` (:meth:`pool_context`) and
        ``noise`` give a block of a larger pool the whole pool's tie-breaks."""
        E, n, K = U.shape
        w_M, wbar_A = self.model_weights, self.mean_annotator_weight
        if E == 1:
            prob = K_.max_temp_scaled(U[0], self.temperatures[0], overwrite=True)
            return _pool_score(prob, w_M, wbar_A, K)
        U, votes = model_votes(U, self.temperatures)
        totals, agree = (None, None) if pool is None else (pool.totals, pool.agree)
        c = K_.majority_vote(
            votes, K_.label_counts(votes), U.mean(axis=0), rng, totals=totals, agree=agree, noise=noise
        )
        prob = K_.weighted_sum(w_M, U[:, np.arange(n), c]) / w_M.sum()
        return _pool_score(prob, w_M, wbar_A, K)

    # ------------------------------------------------------------ a pool in blocks
    def pool_summary(self, U):
        """Block statistics of the models' vote: class totals, agreement sums, tied rows."""
        U, votes = model_votes(U, self.temperatures)
        count = K_.label_counts(votes)
        label, n_modes, _ = K_.modes(count)
        hits, on_unique = K_.agreement_sums(votes, label, n_modes == 1)
        return count.sum(axis=0), hits, on_unique, int(np.count_nonzero(n_modes > 1))

    def pool_context(self, summaries):
        """The whole pool's vote statistics from the blocks' :meth:`pool_summary`; its
        ``draws`` are the random numbers each block draws when some row stays tied."""
        totals = np.sum([s[0] for s in summaries], axis=0)
        agree = K_.agreement_from_sums(np.sum([s[1] for s in summaries], axis=0),
                                       np.sum([s[2] for s in summaries], axis=0))
        draws = totals.shape[0] * np.array([s[3] for s in summaries], dtype=np.int64)
        return PoolContext(totals, agree, draws)

    def needs_draws(self, U, context):
        """Does some row of block ``U`` stay tied until the random step?"""
        asked = []

        def noise(shape):
            asked.append(shape)
            return np.zeros(shape)

        self.score_rows(U, pool=context, noise=noise)
        return bool(asked)


@dataclass(frozen=True)
class PoolContext:
    """Vote statistics of a whole pool scored in blocks (:meth:`ActiveLabFit.pool_context`)."""

    totals: np.ndarray
    agree: np.ndarray
    draws: np.ndarray


def _with_consensus(result, ann, codes, posterior, accuracy):
    """``(result, codes)``: a CROWDLAB ``result`` of the examples of ``ann`` with every
    column that depends on the consensus computed from consensus ``codes`` and
    ``posterior`` instead: consensus labels, their confidence (the posterior at the
    consensus), the posterior, each example's agreement with its consensus, each label's
    quality (the posterior at the label), and per annotator the agreement with the
    consensus, the worst class and the quality (the model's ``accuracy``, the estimated
    probability that the annotator's label is right). The weights and temperature
    stay the CROWDLAB run's."""
    N, K, M = codes.size, ann.n_classes, ann.n_annotators
    ex, an, lab = ann.example, ann.annotator, ann.label
    n_per = np.bincount(ex, minlength=N).astype(np.float64)
    hit = lab == codes[ex]
    quality = posterior[np.arange(N), codes]
    annotation_quality = posterior[ex, lab]
    stats = K_.annotator_statistics(ann, n_per, codes, annotation_quality, hit, n_per != 1, None, None, quality)
    worst = no_class_array(ann.classes, M, float_marker=-1.0)
    has = stats["worst_class"] >= 0
    worst[has] = np.asarray(ann.classes)[stats["worst_class"][has]]
    accuracy = np.full(M, np.nan) if accuracy is None else np.asarray(accuracy, dtype=np.float64)
    result = replace(
        result,
        consensus_label=np.asarray(ann.classes)[codes],
        consensus_quality_score=quality,
        annotator_agreement=np.bincount(ex, weights=hit, minlength=N) / n_per,
        post_pred_probs=posterior,
        annotation_example=ex,
        annotation_annotator=an,
        annotation_quality=annotation_quality,
        annotator_quality=np.where(np.bincount(an, minlength=M) > 0, accuracy, np.nan),
        agreement_with_consensus=stats["agreement_with_consensus"],
        worst_class=worst,
        num_examples_labeled=stats["num_examples_labeled"],
        consensus_by_method={},
    )
    return result, codes


@dataclass(frozen=True, eq=False)
class _DecidingFit:
    """Fields and consensus shared by the crowd models that decide their own consensus:
    the labeled examples' annotations and probabilities, their scores, the posterior
    (n_labeled, K) and each annotator's accuracy."""

    decides_consensus: ClassVar[bool] = True
    row_wise: ClassVar[bool] = True
    annotations: Any
    pred_probs: Any
    scores_labeled: np.ndarray
    posterior: Any
    annotator_accuracy: Any

    def consensus(self, result):
        """``(result, codes)``: ``result`` with this model's consensus (:meth:`consensus_codes`)."""
        return _with_consensus(result, self.annotations, self.consensus_codes(), self.posterior,
                               self.annotator_accuracy)


@dataclass(frozen=True, eq=False)
class ConfusionFit(_DecidingFit):
    """Phase 1 with the annotator-confusion crowd model (:mod:`skactivelab._confusion`).

    A labeled example scores its posterior's largest probability, an unlabeled
    one its prior's (the classifier with the fitted weight ``weight``, mixed
    with the class frequencies): the probability that the current best guess
    is right, lowest first, on one scale for labeling and re-labeling.
    """

    confusion: Any
    weight: float
    log_class_prior: Any
    n_models: int
    n_classes: Any = None
    floor: float = _confusion.FLOOR
    copy_share: float = 0.0
    shares: Any = None

    @classmethod
    def fit(cls, ann, P, rng=None, n_models=1, shrinkage=None, weight=None, copy="auto", remove_shares=False):
        if P is None:  # no labeled example: the classifier alone, uniform class frequencies
            return cls(None, None, np.empty(0), None, None, None, 1.0, None, n_models)
        rng = np.random.default_rng(rng.randint(2**31)) if isinstance(rng, np.random.RandomState) else rng
        fit = _confusion.fit(ann, P, shrinkage=shrinkage, weight=weight, rng=rng, copy=copy,
                             remove_shares=remove_shares)
        post = fit["post"]
        return cls(ann, P, post.max(axis=1), post, fit["accuracy"], fit["confusion"], fit["weight"],
                   fit["log_pi"], P.shape[0], P.shape[2], fit["floor"], fit["copy_share"], fit["shares"])

    def consensus_codes(self):
        """The consensus class of each labeled example: its most likely class."""
        return np.argmax(self.posterior, axis=1)

    def score_rows(self, U, rng=None, pool=None, noise=None):
        K = U.shape[2]
        log_pi = np.full(K, -np.log(K)) if self.log_class_prior is None else self.log_class_prior
        return _confusion.pool_scores(U, self.weight, log_pi, self.floor, self.shares)


@dataclass(frozen=True, eq=False)
class MajorityVoteFit(_DecidingFit):
    """Phase 1 with the labels alone: majority vote, every annotator alike.

    A labeled example scores the smoothed share of its labels that agree with
    its majority class, ``(top + 1) / (n + K)``; an unlabeled row scores
    ``1 / K``, below any labeled example, so every example is labeled once
    before the least decided ones are labeled again. The classifier is not used.
    """

    codes: Any
    n_models: int
    n_classes: Any = None

    @classmethod
    def fit(cls, ann, P, rng=None, n_models=1):
        if P is None:
            return cls(None, None, np.empty(0), None, None, None, n_models)
        K = P.shape[2]
        votes = K_.label_counts(ann).astype(np.float64)
        rng = np.random.default_rng(0) if rng is None else rng
        # ties broken by the classifier (its mean over models), then at random
        codes = np.argmax(votes + 0.5 * P.mean(axis=0) + rng.random(votes.shape) * 1e-6, axis=1)
        n = votes.sum(axis=1)
        top = votes[np.arange(votes.shape[0]), codes]
        post = (votes + 1.0) / (n + K)[:, None]
        # each annotator's agreement with the majority of the others on examples with 2+ labels
        # (a tie between k classes counts 1/k)
        others = votes[ann.example] - np.eye(K)[ann.label]
        multi = n[ann.example] >= 2
        top_others = others.max(axis=1)
        tied = (others == top_others[:, None]).sum(axis=1)
        agrees = np.where(multi & (others[np.arange(ann.label.size), ann.label] == top_others), 1.0 / tied, 0.0)
        M = ann.n_annotators
        n_multi = np.bincount(ann.annotator, weights=multi, minlength=M)
        acc = np.where(n_multi > 0, np.bincount(ann.annotator, weights=agrees, minlength=M)
                       / np.maximum(n_multi, 1), np.nan)
        return cls(ann, P, (top + 1.0) / (n + K), post, acc, codes, P.shape[0], K)

    def consensus_codes(self):
        """The consensus class of each labeled example: its majority vote (ties broken by the
        classifier, then at random)."""
        return self.codes

    def score_rows(self, U, rng=None, pool=None, noise=None):
        return np.full(U.shape[1], 1.0 / U.shape[2])


def score_rows(fitted, U, *, rng=None, name=None):
    """Phase 2: scores of pool rows ``U`` under ``fitted`` (lower = label first).

    ``U`` is (n_models, n, n_classes), an array the caller owns and that may be
    overwritten; with ``name`` it is instead the caller's array, 2-D for one
    model, checked like any ``pred_probs`` (its errors call it ``name``).
    """
    if name is not None:
        U = check_pred_probs(U, name=name, n_classes=fitted.n_classes)[None]
    return fitted.score_rows(U, rng)
