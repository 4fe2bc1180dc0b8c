"""The annotator-confusion crowd model: numeric core (NumPy only).

Each annotator ``j`` has a confusion matrix ``C[j, k, l]``, the probability of
giving label ``l`` to an example of true class ``k`` (Dawid & Skene, 1979). The
true class of example ``i`` has the prior

    prior[i] ∝ P'[i] ** w * pi ** (1 - min(w, 1)),     P' = (1 - FLOOR) * P + FLOOR / K,

where ``P`` are the classifier's out-of-fold probabilities (several models:
their mean), ``pi`` the class frequencies and ``w >= 0`` the weight of the
classifier (its inverse temperature; Raykar et al., 2010 put a classifier in
the same place). Three choices keep the model from being worse than its inputs:

* ``w`` is chosen among :data:`WEIGHTS` by the marginal likelihood of all the
  labels under a crowd-wide one-coin model (one accuracy for the whole crowd):
  two parameters, which even one label per example identifies, because how
  often a label agrees with the classifier rises with the classifier's
  confidence at a rate set by ``w`` and levels off at the crowd's accuracy.
  The classifier's probabilities are out-of-fold, so this is a held-out test
  of them: a weak or over-confident classifier gets a small weight (``w = 0``
  is a crowd-only Dawid-Skene model), an under-confident one a weight above 1,
  and only as much sharpening as the labels support. The annotators' own
  parameters are then fitted with ``w`` fixed, so they cannot trade accuracy
  against the classifier's sharpness (the failure of fitting both at once
  when examples have one label each).
* ``P'`` is floored (:data:`FLOOR`), so no class is impossible: a class the
  classifier gives probability exactly 0 still wins when enough annotators
  choose it.
* Each confusion row is shrunk toward the annotator's one-coin model
  (accuracy ``a_j`` on the diagonal, ``(1 - a_j) / (K - 1)`` elsewhere) with
  ``shrinkage`` pseudo-labels, and ``a_j`` toward the crowd's pooled accuracy
  with :data:`ACCURACY_PRIOR` pseudo-labels: an annotator with few labels is
  described by one number, one with many by a full matrix (which is how
  systematic confusions, adversaries included, are learned).

EM alternates the posterior (E-step) and the confusions and class frequencies
(M-step). Every pass is a few ``bincount`` over the annotations per class and
element-wise work on (N, K) arrays: no loop over examples or annotators.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: Probability mass spread evenly over the classes of each classifier row.
FLOOR = 1e-3
#: Candidate weights of the classifier in the prior (``w <= 1``: never sharpened).
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
#: Pseudo-labels pulling an annotator's accuracy toward the crowd's pooled accuracy.
ACCURACY_PRIOR = 2.0
MAX_ITER = 100
#: EM stops when the log-likelihood per annotation moves by less than this.
TOL = 1e-6
#: Examples used to choose the weight (a random subset of larger sets).
MAX_SELECT = 20_000
#: Fewer examples than this: the classifier keeps its own sharpness (weight 1).
MIN_PROFILE = 50


def default_shrinkage(n_classes):
    """Pseudo-labels per confusion row: ``4 K`` (a row moves once it holds a few labels per cell)."""
    return 4.0 * n_classes


def log_classifier(P, n_classes):
    """``log((1 - FLOOR) * P + FLOOR / K)`` of (E, N, K) probabilities (their mean over E)."""
    Pm = P[0] if P.shape[0] == 1 else P.mean(axis=0)
    out = Pm * (1.0 - FLOOR)
    out += FLOOR / n_classes
    return np.log(out, out=out)


def log_prior(logP, w, log_pi):
    """Row-normalised ``w * logP + (1 - w) * log_pi`` (a new (N, K) array)."""
    lp = logP * w
    lp += (1.0 - min(w, 1.0)) * log_pi
    lp -= lp.max(axis=1, keepdims=True)
    lp -= np.log(np.exp(lp).sum(axis=1, keepdims=True))
    return lp


def one_hot(ann):
    """Sparse (N, M * K) matrix: 1 where example i got label l from annotator j (column j * K + l)."""
    K = ann.n_classes
    return sp.csr_matrix((np.ones(ann.n_annotations), (ann.example, ann.annotator * K + ann.label)),
                         shape=(ann.n_examples, ann.n_annotators * K))


def _log_evidence(A, logC):
    """(N, K): ``sum_j log C[j, k, L[i, j]]`` over each example's labels (``A``: :func:`one_hot`)."""
    M, K, _ = logC.shape
    return np.asarray(A @ logC.transpose(0, 2, 1).reshape(M * K, K))


def _normalise(J):
    """Turn log-joint ``J`` (n, K) into the posterior in place; return the log-likelihood."""
    m = J.max(axis=1, keepdims=True)
    J -= m
    np.exp(J, out=J)
    z = J.sum(axis=1)
    J /= z[:, None]
    return float(np.log(z).sum() + m.sum())


def _m_step(A, post, M, K, shrinkage):
    """Confusions (log), annotator accuracies and log class frequencies from a posterior."""
    counts = np.asarray(A.T @ post).reshape(M, K, K).transpose(0, 2, 1)  # [j, true k, label l]
    n_j = counts.sum(axis=(1, 2))
    correct = np.trace(counts, axis1=1, axis2=2)
    pooled = correct.sum() / max(n_j.sum(), 1e-12)
    acc = (correct + ACCURACY_PRIOR * pooled) / (n_j + ACCURACY_PRIOR)
    a = np.clip(acc, 1.0 / K, 1.0 - 1e-6)
    one_coin = np.broadcast_to(((1.0 - a) / max(K - 1, 1))[:, None, None], (M, K, K)).copy()
    diag = np.arange(K)
    one_coin[:, diag, diag] = a[:, None]
    C = counts + shrinkage * one_coin
    C /= C.sum(axis=2, keepdims=True)
    pi = (post.sum(axis=0) + 1.0) / (post.shape[0] + K)
    return np.log(C), acc, np.log(pi)


def _vote_fractions(ann, n, K):
    votes = np.bincount(ann.example * K + ann.label, minlength=n * K).reshape(n, K).astype(np.float64)
    total = votes.sum(axis=1, keepdims=True)
    return np.divide(votes, total, out=np.full_like(votes, 1.0 / K), where=total > 0)


def em(ann, logP, w, shrinkage, *, max_iter=MAX_ITER, tol=TOL):
    """Fit the model with classifier weight ``w`` (``logP`` None: crowd only).

    Returns ``(post, logC, acc, log_pi, loglik, n_iter)``.
    """
    n, M, K = ann.n_examples, ann.n_annotators, ann.n_classes
    A = one_hot(ann)
    post = _vote_fractions(ann, n, K)
    if logP is not None:  # start from the votes weighed by the prior, like the E-step would
        post *= np.exp(log_prior(logP, w, np.full(K, -np.log(K))))
        post += 1e-12
        post /= post.sum(axis=1, keepdims=True)
    logC, acc, log_pi = _m_step(A, post, M, K, shrinkage)
    ll_old = -np.inf
    per = max(ann.n_annotations, 1)
    for it in range(1, max_iter + 1):  # EM iterations
        J = _log_evidence(A, logC)
        J += log_pi if logP is None else log_prior(logP, w, log_pi)
        ll = _normalise(J)
        post = J
        logC, acc, log_pi = _m_step(A, post, M, K, shrinkage)
        if abs(ll - ll_old) <= tol * per:
            break
        ll_old = ll
    return post, logC, acc, log_pi, ll, it


#: Candidate crowd-wide accuracies of :func:`profile_weight`, as fractions of the way
#: from chance to 1.
_ACC_STEPS = np.linspace(0.02, 0.995, 40)


def profile_weight(ann, logP, rng, *, weights=WEIGHTS, max_select=MAX_SELECT):
    """The classifier weight and crowd accuracy of the best crowd-wide one-coin fit.

    Maximises the marginal likelihood ``sum_i log sum_k prior_w[i, k] *
    prod_j lik_a(L[i, j] | k)`` of all labels over a grid of ``(w, a)``, with
    one accuracy ``a`` for the whole crowd: two parameters, which single labels
    identify through how agreement with the classifier grows with its
    confidence (at most ``max_select`` examples, drawn at random, are used).
    With fewer than :data:`MIN_PROFILE` examples: ``(1.0, nan)``.
    """
    n, K = ann.n_examples, ann.n_classes
    if n < MIN_PROFILE:
        return 1.0, np.nan
    if n > max_select:
        keep = np.zeros(n, dtype=bool)
        keep[rng.choice(n, size=max_select, replace=False)] = True
        ann, logP, n = ann.subset_examples(keep), logP[keep], max_select
    votes = np.bincount(ann.example * K + ann.label, minlength=n * K).reshape(n, K).astype(np.float64)
    n_i = votes.sum(axis=1, keepdims=True)
    uniform = np.full(K, -np.log(K))
    best = (-np.inf, 1.0, 0.5)
    for w in weights:  # loop over candidate weights
        lp = log_prior(logP, w, uniform)
        for a in 1.0 / K + (1.0 - 1.0 / K) * _ACC_STEPS:  # loop over candidate accuracies
            b = (1.0 - a) / max(K - 1, 1)
            J = lp + votes * np.log(a / b) + n_i * np.log(b)
            ll = _normalise(J)
            if ll > best[0]:
                best = (ll, float(w), float(a))
    return best[1], best[2]


def fit(ann, P=None, *, shrinkage=None, weight=None, rng=None):
    """Fit the annotator-confusion model.

    ``P``: (E, N, K) probabilities or None (crowd only). ``weight``: the
    classifier's weight, or None to choose it (:func:`profile_weight`).
    Returns a dict with ``post`` (N, K), ``confusion`` (M, K, K),
    ``accuracy`` (M,) (NaN for annotators without labels), ``class_prior``
    (K,), ``log_pi``, ``weight``, ``crowd_accuracy`` (the crowd-wide accuracy
    fitted with the weight; NaN when the weight was given) and ``n_iter``.
    """
    K = ann.n_classes
    s = default_shrinkage(K) if shrinkage is None else float(shrinkage)
    logP = None if P is None else log_classifier(P, K)
    crowd_accuracy = np.nan
    if logP is None:
        w = 0.0
    elif weight is None:
        w, crowd_accuracy = profile_weight(ann, logP, rng if rng is not None else np.random.default_rng(0))
    else:
        w = float(weight)
    post, logC, acc, log_pi, _, it = em(ann, logP, w, s)
    n_j = np.bincount(ann.annotator, minlength=ann.n_annotators)
    return {"post": post, "confusion": np.exp(logC), "accuracy": np.where(n_j > 0, acc, np.nan),
            "class_prior": np.exp(log_pi), "weight": w, "crowd_accuracy": crowd_accuracy, "n_iter": it,
            "log_pi": log_pi}


def pool_scores(U, weight, log_pi):
    """Scores of unlabeled rows (E, n, K): the largest class probability of their prior."""
    lp = log_prior(log_classifier(U, log_pi.size), weight, log_pi)
    return np.exp(lp.max(axis=1))
