"""Crowd models: consensus labels, their probabilities and annotator parameters.

A crowd model turns several annotators' labels, and optionally a classifier's
out-of-fold predicted probabilities, into a consensus label per example, the
posterior probability of each class, and parameters of each annotator. Each
model is a small scikit-learn style object::

    model = AnnotatorConfusion(random_state=0).fit(labels, pred_probs)
    model.consensus_label_, model.posterior_, model.annotator_accuracy_

* :class:`CrowdLab`: CROWDLAB (Goh, Tkachenko & Mueller, 2022), the paper's
  method and the default everywhere in skactivelab: a weighted average of the
  classifier and the annotators, weights from agreement.
* :class:`AnnotatorConfusion`: a confusion matrix per annotator (Dawid & Skene,
  1979), shrunk toward one accuracy per annotator when it has few labels, with
  the classifier as the prior of the true class at a weight fitted to the labels.
  The model for a real crowd: see the "Crowd models" page of the documentation
  for where each model wins and loses.
* :class:`MajorityVote`: the labels alone, every annotator alike.

The same objects, or their names (``"crowdlab"``, ``"annotator_confusion"``,
``"majority_vote"``), are the ``crowd_model`` parameter of the estimators, the
query strategies, the learner and the command line's ``--crowd-model``.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions
from ._phases import ActiveLabFit, ConfusionFit, MajorityVoteFit
from ._utils import user_stacklevel

__all__ = ["CROWD_MODELS", "AnnotatorConfusion", "CrowdLab", "MajorityVote", "check_crowd_model",
           "decides_consensus"]


def _inputs(labels_multiannotator, pred_probs, classes, *, needs_probs):
    """``(ann, P (1, N, K) or None, example_ids)`` from inputs in any accepted format."""
    from ._annotations import check_annotations, labeled_inputs

    if pred_probs is None:
        if needs_probs:
            raise ValueError("pred_probs is None: CrowdLab needs the classifier's out-of-fold predicted "
                             "probabilities; for a consensus of the labels alone use MajorityVote or "
                             "AnnotatorConfusion.")
        ann = check_annotations(labels_multiannotator, classes=classes,
                                n_classes=None if classes is None else len(classes))
        return ann, None, ann.example_ids
    ann, P, index, _ = labeled_inputs(labels_multiannotator, pred_probs, ndim=2, classes=classes)
    ids = None if index is None else np.asarray(index)
    return ann, P[None], ids


class _CrowdModel(BaseEstimator):
    """Shared fitting: check inputs, fit the phase object, expose fitted attributes."""

    _needs_probs = False

    def fit(self, labels_multiannotator, pred_probs=None, *, classes=None):
        """Fit the crowd model.

        Parameters
        ----------
        labels_multiannotator : array-like, DataFrame, sparse matrix or tuple
            The annotations, in any format the package accepts: a wide (n_examples,
            n_annotators) matrix with NaN/None where an annotator gave no label, or
            a long DataFrame of (example, annotator, label) rows.
        pred_probs : array-like of shape (n_examples, n_classes), optional
            The classifier's out-of-fold predicted probabilities, one row per
            example (a DataFrame is matched by example ID). None: the labels alone.
        classes : array-like, optional
            Class values in column order of ``pred_probs``.

        Returns
        -------
        self
        """
        self._validate_params()
        ann, P, ids = _inputs(labels_multiannotator, pred_probs, classes, needs_probs=self._needs_probs)
        rng = check_random_state(self.random_state)
        fitted = self._fit_phase(ann, P, rng) if P is not None else self._fit_labels(ann, rng)
        self._set_fitted(ann, ids, fitted, P is not None)
        return self

    def _fit_for(self, ann, P, rng, n_models=1):
        """The phase fit an estimator, a strategy, a scoring function or the simulation asks
        for: seeded by this model's own ``random_state`` when it has one (so that it equals
        ``fit`` of the same model on the same inputs), else by the caller's ``rng``."""
        self._validate_params()
        if self.random_state is not None:
            rng = check_random_state(self.random_state)
        return self._fit_phase(ann, P, rng, n_models)

    def _fit_labels(self, ann, rng):
        """The phase fitted on the labels alone (uniform probabilities fix the classes)."""
        return self._fit_phase(ann, np.full((1, ann.n_examples, ann.n_classes), 1.0 / ann.n_classes), rng)

    def _set_fitted(self, ann, ids, fitted, with_probs):
        self.classes_ = np.asarray(ann.classes)
        self.example_ids_ = np.arange(ann.n_examples) if ids is None else ids
        self.annotator_ids_ = np.asarray(ann.annotator_ids)
        post = self._posterior(fitted)
        codes = self._codes(fitted, post)
        self.posterior_ = post
        self.consensus_label_ = self.classes_[codes]
        self.consensus_confidence_ = post[np.arange(codes.size), codes]
        self.annotator_accuracy_ = np.asarray(fitted.annotator_accuracy, dtype=np.float64)
        self.n_annotations_ = np.bincount(ann.example, minlength=ann.n_examples)
        self.phase_ = fitted

    def _codes(self, fitted, post):
        return np.argmax(post, axis=1)

    def _posterior(self, fitted):
        return fitted.posterior

    def consensus_frame(self):
        """A pandas DataFrame indexed by example ID: consensus label, confidence, labels."""
        check_is_fitted(self, "posterior_")
        import pandas as pd

        return pd.DataFrame({"consensus_label": self.consensus_label_,
                             "consensus_confidence": self.consensus_confidence_,
                             "n_annotations": self.n_annotations_},
                            index=pd.Index(self.example_ids_, name="example"))

    def annotator_frame(self):
        """A pandas DataFrame indexed by annotator ID: estimated accuracy (NaN: no estimate)."""
        check_is_fitted(self, "posterior_")
        import pandas as pd

        return pd.DataFrame({"estimated_accuracy": self.annotator_accuracy_},
                            index=pd.Index(self.annotator_ids_, name="annotator"))


class CrowdLab(_CrowdModel):
    """CROWDLAB: consensus from a weighted average of the classifier and the annotators.

    The paper's method (Goh, Tkachenko & Mueller, 2022) and skactivelab's
    default: each annotator's weight comes from their agreement with the others
    on examples with several labels, the classifier's from its agreement with
    that consensus; the classifier is temperature-calibrated first.
    Requires ``pred_probs``.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Breaks ties between classes.

    Attributes
    ----------
    classes_, example_ids_, annotator_ids_ : ndarray
        Class values (column order of ``posterior_``), example IDs (row
        positions unless the input named its examples), annotator IDs.
    consensus_label_ : ndarray of shape (n_examples,)
    posterior_ : ndarray of shape (n_examples, n_classes)
        CROWDLAB's posterior probability of each class.
    consensus_confidence_ : ndarray of shape (n_examples,)
        ``posterior_`` at the consensus label.
    annotator_accuracy_ : ndarray of shape (n_annotators,)
        CROWDLAB's annotator quality (agreement-based, 0-1).
    n_annotations_ : ndarray of shape (n_examples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab.crowd_models import CrowdLab
    >>> L = np.array([[0, 0, np.nan], [1, 1, 0], [1, np.nan, 1]])
    >>> CrowdLab().fit(L, [[0.8, 0.2], [0.3, 0.7], [0.1, 0.9]]).consensus_label_.tolist()
    [0, 1, 1]
    """

    _needs_probs = True
    _parameter_constraints = {"random_state": ["random_state"]}

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit_phase(self, ann, P, rng, n_models=1):
        return ActiveLabFit.fit(ann, P, rng, n_models)

    def fit(self, labels_multiannotator, pred_probs=None, *, classes=None):
        self._validate_params()
        if pred_probs is None:
            _inputs(labels_multiannotator, None, classes, needs_probs=True)
        from .crowdlab import get_label_quality_multiannotator

        res = get_label_quality_multiannotator(labels_multiannotator, pred_probs, calibrate_probs=True,
                                               classes=classes, random_state=self.random_state)
        self.classes_ = np.asarray(res.classes)
        self.example_ids_ = np.arange(len(res.consensus_label)) if res.example_ids is None else res.example_ids
        self.annotator_ids_ = np.asarray(res.annotator_ids)
        self.posterior_ = res.post_pred_probs
        self.consensus_label_ = res.consensus_label
        self.consensus_confidence_ = res.consensus_quality_score
        self.annotator_accuracy_ = res.annotator_quality
        self.n_annotations_ = res.num_annotations
        return self

    fit.__doc__ = _CrowdModel.fit.__doc__


class AnnotatorConfusion(_CrowdModel):
    """A confusion matrix per annotator, with the classifier as a fitted prior.

    Each annotator has a matrix of the probability of each label given each
    true class (Dawid & Skene, 1979), shrunk toward one accuracy per annotator
    (with ``shrinkage`` pseudo-labels per row), and each accuracy toward the
    crowd's, by as much as held-out labels call for (two-fold cross-validation
    over examples): an annotator with few labels, or single labels that only a
    weak classifier can check, is described by the crowd's accuracy; one with
    many by a full matrix (systematic confusions and adversaries included).
    The cross-validation may also keep each row one-coin (an accuracy of the
    annotator's own, wrong labels spread evenly), the shape for a crowd of a
    few busy annotators of very different accuracy and many occasional ones,
    or give each annotator a chance of knowing the answer and guesses of its
    own when it does not (Hovy et al., 2013): the shape for annotators who
    favour some classes, such as one who always picks the first option.
    The true class's prior is
    the classifier's probabilities raised to a weight ``w`` (mixed with the
    class frequencies when ``w < 1``), floored so that no class is impossible;
    the floor is fitted with ``w`` for a classifier of exact zeros, and for any
    classifier once at least 20 examples have two labels or more (a confidence
    shrunk toward chance is an over-confidence no weight fits).

    ``w`` is fitted to the labels: it maximises their likelihood under a
    crowd-wide model with one accuracy for the whole crowd, where it is
    identified even with one label per example (a label agrees with the
    classifier more often the more confident the classifier is, up to the
    crowd's accuracy). A weak or over-confident classifier gets a small weight
    (``w = 0``: the labels alone); one trained on noisy labels, which predicts
    the labels rather than the truth and so is under-confident about the
    truth, a weight above 1 (only when at least 20 examples have two labels or
    more: single labels cannot tell it from a classifier that learned their
    errors; and not when those examples show the classifier weaker than an
    annotator, its top class agreeing with their labels less often than two
    labels of one example agree). ``w`` stays 1 unless a likelihood-ratio test
    rejects it, or unless, taken as it is, the classifier would leave the crowd
    at chance while at least half the examples have several labels. The annotators'
    matrices are then fitted by EM with ``w`` fixed.

    The class frequencies are equal unless the labels show otherwise: a score
    test (5% level) under the crowd-wide model, then (where the frequencies
    enter the prior: no classifier, or ``w`` below 1) the same held-out labels
    that choose the pull toward the crowd must be better predicted with fitted
    frequencies than with equal ones. A crowd near chance tells its class
    frequencies poorly (its label shares move ten times less than the
    frequencies with two classes and 55% right), and frequencies fitted to that
    noise would tip every close vote toward one class.

    The classifier may repeat the crowd (one trained on the crowd's majority vote
    shares its errors). A share ``s`` of the examples have a classifier that
    copies their labels' majority class: there its evidence counts the same
    whatever the truth, and the consensus is the labels'. A copy is told from an
    independent classifier by examples whose labels disagree (an independent
    classifier sides with the minority as often as the minority is right, a copy
    with the majority); ``s`` stays 0 unless a likelihood-ratio test on the
    examples with two labels or more rejects it, and always with one label per
    example (which cannot tell a copy).

    Parameters
    ----------
    classifier_weight : "auto" or float >= 0, default="auto"
        The classifier's weight ``w``; "auto" fits it. Ignored without
        ``pred_probs``.
    shrinkage : float >= 0 or None, default=None
        Pseudo-labels pulling each row of an annotator's matrix toward their
        one-accuracy model; None: ``4 * n_classes``, or one-coin or guessing
        rows where the cross-validation prefers them (guessing rows: the same
        number of pseudo-labels pulls each annotator's guesses toward even ones). A very large value gives a one-coin model
        (one accuracy per annotator). Given, it is used as is (the
        cross-validation then chooses only the pull toward the crowd, and one
        accuracy for the whole crowd, its strongest pull, makes the rows
        one-coin as before).
    random_state : int, RandomState instance or None, default=None
        The two folds of the cross-validation that chooses each annotator's
        pull toward the crowd, and the subsets of examples used on large data
        sets. On small data sets the folds can change a few uncertain
        consensus labels; pass an int for repeatable results.
    classifier_copy : "auto" or float in [0, 1], default="auto"
        The share ``s`` of examples whose classifier repeats their labels'
        majority class; "auto" fits it (0 unless the labels call for it). 0:
        the classifier is independent of the crowd given the truth. Ignored
        without ``pred_probs``.
    classifier_shares : {"keep", "remove"}, default="keep"
        What the prior takes of the classifier's class shares (its mean
        probability of each class over the labeled examples). "keep": its
        probabilities as they are. "remove": each probability divided by its
        class's share, each row renormalised (unlabeled rows are divided by the
        labeled examples' shares): the classifier's evidence about each example
        without the class shares of the labels it was trained on. The shares
        are shrunk toward equal ones as far as their sampling noise goes (few
        labeled examples: near equal, little changes) and are at least a
        quarter of an even share. For a classifier trained on the crowd's own
        labels when the crowd over-calls some classes; where the truth's classes
        are unequal and the classifier knows it, "remove" throws that knowledge
        away (see the "Crowd models" page for both cases). Ignored without
        ``pred_probs``; with no labeled example (ActiveLab scores of a pool
        alone) there are no shares to divide by, and the classifier is used as
        it is.

    Attributes
    ----------
    classes_, example_ids_, annotator_ids_ : ndarray
    consensus_label_ : ndarray of shape (n_examples,)
        The most likely class of each example.
    posterior_ : ndarray of shape (n_examples, n_classes)
    consensus_confidence_ : ndarray of shape (n_examples,)
    annotator_accuracy_ : ndarray of shape (n_annotators,)
        Estimated probability that each annotator's label is right (NaN: no label).
    confusion_ : ndarray of shape (n_annotators, n_classes, n_classes)
        ``confusion_[j, k, l]``: probability that annotator j labels class k as l.
    classifier_weight_ : float
        The fitted (or given) ``w``; 0 without ``pred_probs``.
    classifier_floor_ : float
        The share of the prior spread evenly over the classes (fitted with
        ``w``: large for a classifier of hard 0/1 probabilities that is often
        wrong, or, once examples with several labels tell it, one whose
        confidence overstates how often it is right).
    classifier_copy_ : float
        The fitted (or given) share ``s`` of examples whose classifier repeats
        their labels; 0 without ``pred_probs``.
    class_prior_ : ndarray of shape (n_classes,)
        The class frequencies: fitted, or exactly ``1 / n_classes`` each when
        the labels do not show unequal classes.
    classifier_shares_ : ndarray of shape (n_classes,) or None
        With ``classifier_shares="remove"``, the class shares divided out (the
        classifier's mean probabilities over the labeled examples, shrunk toward
        equal shares and bounded below as above); None with "keep", without
        ``pred_probs``, and when the classifier's weight is 0 (it plays no part).
    n_annotations_ : ndarray of shape (n_examples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab.crowd_models import AnnotatorConfusion
    >>> L = np.array([[0, 0, 1], [1, 1, 0], [1, np.nan, 1], [0, 0, np.nan]])
    >>> AnnotatorConfusion().fit(L).consensus_label_.tolist()
    [0, 1, 1, 0]
    """

    _parameter_constraints = {
        "classifier_weight": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "shrinkage": [Interval(Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "classifier_copy": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "classifier_shares": [StrOptions({"keep", "remove"})],
    }

    def __init__(self, classifier_weight="auto", shrinkage=None, random_state=None, classifier_copy="auto",
                 classifier_shares="keep"):
        self.classifier_weight = classifier_weight
        self.shrinkage = shrinkage
        self.random_state = random_state
        self.classifier_copy = classifier_copy
        self.classifier_shares = classifier_shares

    def _fit_phase(self, ann, P, rng, n_models=1, weight=None):
        if isinstance(self.classifier_weight, (bool, np.bool_)):
            raise TypeError(f"classifier_weight must be 'auto' or a number >= 0, got {self.classifier_weight!r}; "
                            "pass classifier_weight=1.0 for the classifier as it is.")
        if weight is None and not isinstance(self.classifier_weight, str):
            weight = float(self.classifier_weight)
        copy = self.classifier_copy
        if isinstance(copy, (bool, np.bool_)):
            raise TypeError(f"classifier_copy must be 'auto' or a number in [0, 1], got {copy!r}.")
        return ConfusionFit.fit(ann, P, rng, n_models, shrinkage=self.shrinkage, weight=weight,
                                copy=copy if isinstance(copy, str) else float(copy),
                                remove_shares=self.classifier_shares == "remove" and weight != 0.0)

    def _fit_labels(self, ann, rng):
        # the labels alone: weight 0, the prior is the class frequencies
        flat = np.full((1, ann.n_examples, ann.n_classes), 1.0 / ann.n_classes)
        return self._fit_phase(ann, flat, rng, weight=0.0)

    def _set_fitted(self, ann, ids, fitted, with_probs):
        super()._set_fitted(ann, ids, fitted, with_probs)
        self.confusion_ = fitted.confusion
        self.classifier_weight_ = fitted.weight if with_probs else 0.0
        self.classifier_floor_ = fitted.floor
        self.classifier_copy_ = fitted.copy_share if with_probs else 0.0
        self.class_prior_ = np.exp(fitted.log_class_prior)
        self.classifier_shares_ = fitted.shares if with_probs and fitted.weight > 0 else None


class MajorityVote(_CrowdModel):
    """The labels: the most frequent label of each example.

    A tie is broken by ``pred_probs`` when given (the tied class the classifier
    finds most probable, as :func:`~skactivelab.get_majority_vote_label` does),
    then at random. ``posterior_`` is the share of each class among an
    example's labels, smoothed (``(votes + 1) / (n + K)``);
    ``annotator_accuracy_`` is each annotator's agreement with the majority of
    the other labels on examples with two or more labels (NaN when the
    annotator has none). The classifier plays no other part.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Breaks the ties the classifier leaves.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab.crowd_models import MajorityVote
    >>> MajorityVote().fit(np.array([[0, 0, 1], [1, 1, 0]])).consensus_label_.tolist()
    [0, 1]
    """

    _parameter_constraints = {"random_state": ["random_state"]}

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit_phase(self, ann, P, rng, n_models=1):
        return MajorityVoteFit.fit(ann, P, rng, n_models)

    def _codes(self, fitted, post):
        return fitted.codes


# --------------------------------------------------------------------------- the one resolver
#: Names accepted by ``crowd_model`` (each gives the model with its default parameters).
CROWD_MODELS = ("crowdlab", "annotator_confusion", "majority_vote")
_BY_NAME = {"crowdlab": CrowdLab, "annotator_confusion": AnnotatorConfusion, "majority_vote": MajorityVote}
#: The deprecated ``active_learning_method`` values and the crowd model each stands for.
_ALIASES = {"activelab": "crowdlab", "activelab_em": "annotator_confusion"}


def _alias_model(crowd_model, active_learning_method):
    """``crowd_model`` with the deprecated ``active_learning_method`` applied (a warning for
    "activelab_em"; an error when the two disagree)."""
    if not isinstance(active_learning_method, str) or active_learning_method not in _ALIASES:
        raise ValueError(
            f"active_learning_method must be one of {tuple(_ALIASES)} or None, got "
            f"{active_learning_method!r}; it is deprecated: use crowd_model, one of {CROWD_MODELS}."
        )
    implied = _ALIASES[active_learning_method]
    if active_learning_method == "activelab_em":
        warnings.warn(
            "active_learning_method='activelab_em' is deprecated and will be removed; use "
            "crowd_model='annotator_confusion'.", FutureWarning, stacklevel=user_stacklevel(),
        )
    if crowd_model is None or (isinstance(crowd_model, str) and crowd_model == "crowdlab"):
        return implied  # crowd_model at its default: the alias decides
    given = _BY_NAME.get(crowd_model) if isinstance(crowd_model, str) else type(crowd_model)
    if given is not _BY_NAME[implied]:
        raise ValueError(
            f"active_learning_method={active_learning_method!r} stands for crowd_model={implied!r}, "
            f"but crowd_model={crowd_model!r} was given; leave active_learning_method out (it is "
            "deprecated) and keep crowd_model."
        )
    return crowd_model


def check_crowd_model(crowd_model="crowdlab", active_learning_method=None):
    """The crowd model an estimator, a strategy or a scoring function works with.

    Parameters
    ----------
    crowd_model : {"crowdlab", "annotator_confusion", "majority_vote"}, instance or None, default="crowdlab"
        A name gives that model with its default parameters; an instance of
        :class:`CrowdLab`, :class:`AnnotatorConfusion` or :class:`MajorityVote`
        is used as given (a clone of it; its own ``random_state``, when set, seeds
        its fit wherever it is used, else the caller's does); None means "crowdlab".
    active_learning_method : {"activelab", "activelab_em"} or None, default=None
        Deprecated spelling: "activelab" stands for ``crowd_model="crowdlab"``,
        "activelab_em" (with a FutureWarning) for ``"annotator_confusion"``.
        Given with a ``crowd_model`` other than the default that says otherwise,
        it is an error.

    Returns
    -------
    CrowdLab, AnnotatorConfusion or MajorityVote
        A new (unfitted) instance.

    Examples
    --------
    >>> from skactivelab.crowd_models import check_crowd_model
    >>> check_crowd_model("annotator_confusion")
    AnnotatorConfusion()
    """
    if active_learning_method is not None:
        crowd_model = _alias_model(crowd_model, active_learning_method)
    if crowd_model is None:
        crowd_model = "crowdlab"
    if isinstance(crowd_model, str):
        if crowd_model not in _BY_NAME:
            raise ValueError(
                f"crowd_model must be one of {CROWD_MODELS} or an instance of CrowdLab, "
                f"AnnotatorConfusion or MajorityVote, got {crowd_model!r}."
            )
        return _BY_NAME[crowd_model]()
    if isinstance(crowd_model, tuple(_BY_NAME.values())):
        return clone(crowd_model)
    raise TypeError(
        f"crowd_model must be one of {CROWD_MODELS} or an instance of CrowdLab, AnnotatorConfusion "
        f"or MajorityVote (skactivelab.crowd_models), got {type(crowd_model).__name__}."
    )


def decides_consensus(crowd_model):
    """Whether a crowd model (from :func:`check_crowd_model`) forms its own consensus
    of the labeled examples; CROWDLAB's is formed by the CROWDLAB function itself.
    Asked of the model's fitted phase on no data (nothing is computed)."""
    return bool(crowd_model._fit_phase(None, None, None).decides_consensus)
