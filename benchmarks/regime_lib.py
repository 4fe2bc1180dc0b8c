"""Simulated crowds and classifiers, and the consensus methods of ``regime_grid.py``.

Everything here is vectorised over examples and annotators and takes a seed.

* :func:`simulate_crowd`: a crowd of annotators with accuracies around a requested mean
  (optionally with spammers and adversaries, unequal class frequencies and a bias of the
  wrong labels shared by the crowd), each example labeled by distinct random annotators.
* :func:`simulate_pred_probs`: out-of-fold probabilities of a classifier with a requested
  accuracy, calibrated by construction or made over-confident.
* :data:`METHODS`: consensus method name -> ``fn(labels_wide, pred_probs, random_state)``
  returning class codes; :data:`CROWD_ONLY` names the methods that never look at
  ``pred_probs`` (they run once per crowd, not once per classifier).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from scipy import integrate, optimize, stats

#: Labels per example: a count, or ``"mixed"`` (a random half of the examples 1 label, the rest 3).
LABEL_SCHEMES = ("1", "mixed", "2", "3", "5")


# ---------------------------------------------------------------------------- crowd
def labels_per_example(scheme, n, rng):
    """Number of labels of each of ``n`` examples under ``scheme`` (see :data:`LABEL_SCHEMES`)."""
    scheme = str(scheme)
    if scheme == "mixed":
        k = np.full(n, 3, dtype=np.int64)
        k[rng.permutation(n)[: n // 2]] = 1
        return k
    if not scheme.isdigit() or int(scheme) < 1:
        raise ValueError(f"labels per example must be a positive count or 'mixed', got {scheme!r}.")
    return np.full(n, int(scheme), dtype=np.int64)


def annotator_accuracies(mean, n, n_classes, rng, concentration=30.0):
    """``n`` accuracies drawn from a Beta distribution with the given mean, then shifted so
    that their mean is ``mean`` (clipped to [0.02, 0.99])."""
    a = rng.beta(mean * concentration, (1.0 - mean) * concentration, size=n)
    return np.clip(a - a.mean() + mean, 0.02, 0.99)


def simulate_crowd(n_examples, n_classes, strength, scheme, *, n_annotators=40, spam_frac=0.0,
                   adversary_frac=0.0, lazy_frac=0.0, class_weights=None, wrong_bias=None, activity=None,
                   concentration=30.0, random_state=None):
    """A simulated crowd.

    Parameters
    ----------
    n_examples, n_classes : int
    strength : float
        Mean accuracy of the ordinary annotators. A wrong label of an ordinary annotator
        is a uniformly random other class (unless ``wrong_bias`` is given).
    scheme : str or int
        Labels per example (:data:`LABEL_SCHEMES`); each example is labeled by that many
        distinct annotators chosen uniformly at random.
    n_annotators : int
    spam_frac, adversary_frac : float
        Fractions of the annotators who are spammers (a uniformly random class, right
        with probability ``1/K``) and adversaries (always ``(truth + 1) mod K``).
    lazy_frac : float
        Fraction of the annotators who always answer the first class (class 0), whatever the
        truth: those who click the first option of the form.
    class_weights : array-like of shape (K,) or None
        Class frequencies of the truth (normalised); None: uniform.
    wrong_bias : array-like of shape (K,) or None
        A distribution over classes that the wrong labels of ordinary annotators follow,
        the same for every annotator (a shared bias), renormalised over the classes other
        than the truth; None: a uniformly random other class.
    activity : array-like of shape (M,) or None
        How busy each annotator is: the ``k`` annotators of an example are drawn without
        replacement with probabilities in proportion to these weights (successive draws,
        as a real crowd's few busy workers and many occasional ones); None: uniformly.
    concentration : float
        Of the Beta distribution of the ordinary annotators' accuracies (smaller: more spread).
    random_state : int or None

    Returns
    -------
    dict
        ``labels`` (N, M) float with NaN where an annotator gave no label, ``truth`` (N,),
        ``accuracy`` (M,) each annotator's probability of a right label, ``kind`` (M,)
        ``"ordinary"``, ``"spammer"``, ``"adversary"`` or ``"lazy"``, ``n_labels`` (N,).
    """
    rng = np.random.default_rng(random_state)
    N, M, K = int(n_examples), int(n_annotators), int(n_classes)
    if not (np.isfinite(concentration) and concentration > 0):
        raise ValueError(f"concentration must be a finite number > 0, got {concentration!r}.")
    if class_weights is None:
        truth = rng.integers(0, K, N)
    else:
        truth = rng.choice(K, size=N, p=_distribution(class_weights, K, "class_weights"))
    kind = np.full(M, "ordinary", dtype=object)
    n_spam, n_adv = int(round(spam_frac * M)), int(round(adversary_frac * M))
    n_lazy = int(round(lazy_frac * M))
    order = rng.permutation(M)
    kind[order[:n_spam]] = "spammer"
    kind[order[n_spam:n_spam + n_adv]] = "adversary"
    kind[order[n_spam + n_adv:n_spam + n_adv + n_lazy]] = "lazy"
    acc = annotator_accuracies(strength, M, K, rng, concentration=concentration)
    acc[kind == "spammer"] = 1.0 / K
    acc[kind == "adversary"] = 0.0
    # right only on the first class
    acc[kind == "lazy"] = 1.0 / K if class_weights is None else _distribution(class_weights, K, "class_weights")[0]
    k = labels_per_example(scheme, N, rng)
    if k.max() > M:
        raise ValueError(f"{k.max()} labels per example need at least as many annotators, got {M}.")
    if activity is not None:
        activity = _distribution(activity, M, "activity")
        if k.max() > np.count_nonzero(activity):
            raise ValueError(f"{k.max()} labels per example need at least as many annotators of positive "
                             f"activity, got {np.count_nonzero(activity)}; give more annotators a weight > 0.")
    # k distinct random annotators per example: the first k of a random permutation of each
    # row; with activity weights the permutation is weighted (Gumbel keys: successive draws
    # without replacement in proportion to the weights)
    keys = rng.random((N, M))
    if activity is not None:
        with np.errstate(divide="ignore"):  # weight 0: key +inf, never among the first k
            keys = -np.log(activity)[None, :] - rng.gumbel(size=(N, M))
    chosen = np.argsort(keys, axis=1)[:, : k.max()]
    take = np.arange(k.max())[None, :] < k[:, None]
    ex = np.broadcast_to(np.arange(N)[:, None], chosen.shape)[take]
    ann = chosen[take]
    y = truth[ex]
    if K == 1:
        other = y
    elif wrong_bias is None:
        other = (y + rng.integers(1, K, ex.size)) % K
    else:  # the shared bias without the truth, renormalised; inverse-CDF draw per label
        w = np.broadcast_to(_distribution(wrong_bias, K, "wrong_bias"), (ex.size, K)).copy()
        w[np.arange(ex.size), y] = 0.0
        cdf = np.cumsum(w, axis=1)
        u = rng.random(ex.size) * cdf[:, -1]
        other = np.minimum((cdf <= u[:, None]).sum(axis=1), K - 1)
    lab = np.where(rng.random(ex.size) < acc[ann], y, other)
    spam = kind[ann] == "spammer"
    lab[spam] = rng.integers(0, K, int(spam.sum()))
    adv = kind[ann] == "adversary"
    lab[adv] = (y[adv] + 1) % K
    lab[kind[ann] == "lazy"] = 0
    labels = np.full((N, M), np.nan)
    labels[ex, ann] = lab
    return {"labels": labels, "truth": truth, "accuracy": acc, "kind": kind, "n_labels": k}


def _distribution(w, K, name):
    w = np.asarray(w, dtype=float)
    if w.shape != (K,) or np.any(w < 0) or not np.all(np.isfinite(w)) or np.count_nonzero(w) < 2:
        raise ValueError(f"{name} must be {K} non-negative weights, at least two positive; got {w!r}.")
    return w / w.sum()


def zipf_weights(n_classes, exponent=1.0):
    """Class weights proportional to ``1 / rank ** exponent`` (class 0 the most frequent)."""
    w = 1.0 / np.arange(1, int(n_classes) + 1) ** float(exponent)
    return w / w.sum()


def crowd_mean_accuracy(crowd):
    """Mean probability over annotators that a label is right (spammers 1/K, adversaries 0)."""
    return float(np.mean(crowd["accuracy"]))


# ---------------------------------------------------------------------------- classifier
def gaussian_accuracy(mu, n_classes):
    """Accuracy of ``argmax(z)`` with ``z = mu * onehot(y) + N(0, I)``:
    ``integral phi(x) Phi(x + mu)^(K-1) dx``."""
    K = int(n_classes)
    val, _ = integrate.quad(lambda x: stats.norm.pdf(x) * stats.norm.cdf(x + mu) ** (K - 1), -12.0, 12.0)
    return val


@functools.lru_cache(maxsize=None)
def signal_for_accuracy(accuracy, n_classes):
    """The signal ``mu`` whose argmax accuracy is ``accuracy`` (0 at or below chance)."""
    K = int(n_classes)
    if accuracy <= 1.0 / K + 1e-9:
        return 0.0
    if accuracy >= 0.9999:
        raise ValueError(f"accuracy must be below 0.9999, got {accuracy}.")
    return float(optimize.brentq(lambda m: gaussian_accuracy(m, K) - accuracy, 0.0, 20.0, xtol=1e-8))


def simulate_pred_probs(truth, n_classes, accuracy, *, sharpness=1.0, random_state=None):
    """Out-of-fold probabilities of a simulated classifier.

    Scores ``z = mu * onehot(truth) + N(0, I)`` with ``mu`` set so that ``argmax z`` is
    right with probability ``accuracy``; the probabilities are ``softmax(sharpness * mu * z)``.
    With ``sharpness=1`` and equal class frequencies they are the exact posterior of the truth
    given ``z`` (calibrated: among examples given probability p, a fraction p is right);
    ``sharpness > 1`` keeps the accuracy and makes the model over-confident. The class
    frequencies are not in them: where the truth's classes are unequal they are the posterior
    under equal frequencies (a classifier trained on balanced data), and their mean
    probability of each class lies between the truth's share and ``1 / K``.
    """
    rng = np.random.default_rng(random_state)
    truth = np.asarray(truth)
    K = int(n_classes)
    mu = signal_for_accuracy(float(accuracy), K)
    z = rng.standard_normal((truth.shape[0], K))
    z[np.arange(truth.shape[0]), truth] += mu
    s = sharpness * mu * z
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    return p / p.sum(axis=1, keepdims=True)


def learned_pred_probs(truth, labels, n_classes, accuracy, *, random_state=None):
    """Out-of-fold probabilities of a logistic regression trained on ``labels`` (for example
    the crowd's majority vote), on features ``mu * onehot(truth) + N(0, I)`` whose best
    classifier (argmax) is right with probability ``accuracy``.

    What a user's own model is: trained on the crowd's labels of the other examples (5-fold,
    shuffled), it learns the errors the crowd makes alike (a shared bias toward some classes)
    but not the noise of its own example's labels. A class no label names in a training fold
    gets probability 0 on that fold's examples.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    rng = np.random.default_rng(random_state)
    truth, labels = np.asarray(truth), np.asarray(labels)
    K = int(n_classes)
    X = rng.standard_normal((truth.shape[0], K))
    X[np.arange(truth.shape[0]), truth] += signal_for_accuracy(float(accuracy), K)
    P = np.zeros((truth.shape[0], K))
    folds = KFold(5, shuffle=True, random_state=int(rng.integers(2**31 - 1)))
    for train, test in folds.split(X):  # loop over folds
        present = np.unique(labels[train])
        if present.size == 1:
            P[np.ix_(test, present)] = 1.0
            continue
        model = LogisticRegression(max_iter=1000).fit(X[train], labels[train])
        P[np.ix_(test, model.classes_)] = model.predict_proba(X[test])
    return P


# ---------------------------------------------------------------------------- methods
def _entries(labels):
    """(example, annotator, label) int arrays of the given labels of a wide (N, M) float array."""
    ex, an = np.nonzero(~np.isnan(labels))
    return ex, an, labels[ex, an].astype(np.int64)


def _n_classes(labels, pred_probs):
    k = int(np.nanmax(labels)) + 1
    return max(k, pred_probs.shape[1]) if pred_probs is not None else k


def majority_vote(labels, pred_probs=None, random_state=None):
    """The most frequent label of each example; ties broken uniformly at random (seeded)."""
    ex, _, lab = _entries(labels)
    N, K = labels.shape[0], _n_classes(labels, pred_probs)
    counts = np.bincount(ex * K + lab, minlength=N * K).reshape(N, K).astype(np.float64)
    rng = np.random.default_rng(random_state)
    return np.argmax(counts + 0.5 * rng.random((N, K)), axis=1)


def crowdlab(labels, pred_probs, random_state=None):
    """CROWDLAB's consensus (``consensus_method="best_quality"``, the defaults). When every
    example has exactly one label the public function refuses; the estimator's path
    (the label unless the model is sure enough otherwise) is used then: the consensus is the label itself."""
    from skactivelab import get_label_quality_multiannotator

    if np.all(np.sum(~np.isnan(labels), axis=1) == 1):
        from skactivelab.crowdlab import label_quality

        res, _ = label_quality(labels, pred_probs, random_state=random_state, one_label="label")
    else:
        res = get_label_quality_multiannotator(labels, pred_probs, random_state=random_state)
    return np.asarray(res.consensus_label).astype(np.int64)


def em_consensus(labels, pred_probs, random_state=None):
    """The one-coin likelihood EM with the classifier as prior (benchmarks/em_reference.py): argmax of
    its posterior."""
    from skactivelab._annotations import check_annotations
    from em_reference import em_fit  # beside this file

    ann = check_annotations(labels, n_classes=pred_probs.shape[1])
    return np.argmax(em_fit(ann, np.asarray(pred_probs)[None])["post"], axis=1)


def _patch_crowdkit_check_is_fitted():
    """crowd-kit 1.4.2's Wawa and ZeroBasedSkill call scikit-learn's ``check_is_fitted``,
    which since scikit-learn 1.6 needs ``__sklearn_tags__`` (crowd-kit's aggregators are
    not scikit-learn estimators) and raises. Replace it, in those crowd-kit modules only,
    by the plain check it stands for: the fitted attribute exists."""
    import importlib

    def check_is_fitted(estimator, attributes=None, **_):
        names = [attributes] if isinstance(attributes, str) else list(attributes or [])
        missing = [a for a in names if getattr(estimator, a, None) is None]
        if missing:
            raise RuntimeError(f"{type(estimator).__name__} is not fitted ({missing} missing).")

    for mod in ("wawa", "zero_based_skill", "gold_majority_vote"):
        try:
            m = importlib.import_module(f"crowdkit.aggregation.classification.{mod}")
        except ImportError:
            continue
        if hasattr(m, "check_is_fitted"):
            m.check_is_fitted = check_is_fitted


def crowdkit_available():
    try:
        import crowdkit.aggregation  # noqa: F401
    except ImportError:
        return False
    return True


def _crowdkit(name, **kwargs):
    """A crowd-kit aggregator as a consensus method (labels only; ``pred_probs`` unused).
    ``kwargs`` may name ``random_state=True`` to pass the seed."""

    def run(labels, pred_probs=None, random_state=None):
        import pandas as pd
        from crowdkit import aggregation

        _patch_crowdkit_check_is_fitted()
        ex, an, lab = _entries(labels)
        df = pd.DataFrame({"task": ex, "worker": an, "label": lab})
        kw = dict(kwargs)
        if kw.pop("random_state", False):
            kw["random_state"] = int(random_state) % (2**31 - 1) if random_state is not None else 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = getattr(aggregation, name)(**kw).fit_predict(df)
        codes = np.full(labels.shape[0], -1, dtype=np.int64)
        codes[out.index.to_numpy(dtype=np.int64)] = out.to_numpy(dtype=np.int64)
        return codes

    run.__name__ = f"crowdkit_{name}"
    return run


#: crowd-kit 1.4.2 aggregators and their settings (defaults unless said): MACE with 3 random
#: restarts instead of 10 (``n_restarts`` is one of its documented parameters), for time.
CROWDKIT = {
    "DawidSkene": _crowdkit("DawidSkene", n_iter=100),
    "OneCoinDawidSkene": _crowdkit("OneCoinDawidSkene", n_iter=100),
    "GLAD": _crowdkit("GLAD"),
    "MACE": _crowdkit("MACE", n_restarts=3, random_state=True),
    "Wawa": _crowdkit("Wawa"),
    "ZeroBasedSkill": _crowdkit("ZeroBasedSkill"),
    "MMSR": _crowdkit("MMSR", random_state=True),
}

#: name -> fn(labels_wide (N, M) float with NaN, pred_probs (N, K) or None, random_state) -> codes (N,)
METHODS = {
    "majority_vote": majority_vote,
    "crowdlab": crowdlab,
    "em": em_consensus,
}
#: Methods that never use pred_probs: run once per crowd and replicate.
CROWD_ONLY = {"majority_vote"}
#: Our methods (flagged in the tables when they lose).
OURS = ["crowdlab", "em"]

if crowdkit_available():
    METHODS.update(CROWDKIT)
    CROWD_ONLY.update(CROWDKIT)


def _register_annotator_confusion():
    """Register ``skactivelab.crowd_models.AnnotatorConfusion`` when the package has it."""
    try:
        from skactivelab import crowd_models
    except ImportError:
        return
    if not hasattr(crowd_models, "AnnotatorConfusion"):
        return
    AC = crowd_models.AnnotatorConfusion

    def codes(model):  # posterior columns are model.classes_ (the class codes here)
        return np.asarray(model.classes_)[np.asarray(model.posterior_).argmax(axis=1)].astype(np.int64)

    def with_model(labels, pred_probs, random_state=None):
        return codes(AC(random_state=random_state).fit(labels, pred_probs))

    def labels_only(labels, pred_probs=None, random_state=None):
        return codes(AC(random_state=random_state).fit(labels, None))

    METHODS["annotator_confusion"] = with_model
    METHODS["annotator_confusion (labels only)"] = labels_only
    CROWD_ONLY.add("annotator_confusion (labels only)")
    OURS.extend(["annotator_confusion", "annotator_confusion (labels only)"])
    if "classifier_copy" in AC().get_params():

        def no_copies(labels, pred_probs, random_state=None):
            return codes(AC(random_state=random_state, classifier_copy=0.0).fit(labels, pred_probs))

        METHODS["annotator_confusion (no copies)"] = no_copies  # the classifier independent of the crowd
        OURS.append("annotator_confusion (no copies)")
    if "classifier_shares" in AC().get_params():

        def shares_removed(labels, pred_probs, random_state=None):
            return codes(AC(random_state=random_state, classifier_shares="remove").fit(labels, pred_probs))

        METHODS["annotator_confusion (shares removed)"] = shares_removed  # the classifier's class shares out
        OURS.append("annotator_confusion (shares removed)")


_register_annotator_confusion()


def standard_error(x):
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    return float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")
