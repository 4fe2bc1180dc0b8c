"""Likelihood-fitted crowd weights: the ``"activelab_em"`` active learning method.

CROWDLAB estimates each annotator's weight from its agreement with the other
annotators on the examples that have several labels, and the model's weight
from its agreement with the consensus of those examples. Under active learning
those examples are exactly the ones a strategy chose to re-label because they
looked wrong: a biased sample of hard, disagreeing examples. The agreement
rates then understate every annotator and overstate the model (on a two-label
tie the model itself decides the consensus it is compared with).

Here every weight is instead a maximum-likelihood estimate under a one-coin
crowd model with the classifier as prior:

* ``prior[i] = softmax(log P[i] / T)`` (``P``: out-of-fold predictions; for
  several models the mean of their probabilities);
* annotator j gives the true class with probability ``a_j`` and each other
  class with probability ``(1 - a_j) / (K - 1)``;
* ``post[i] ∝ prior[i] * prod_j lik_j(L[i, j] | class)``.

EM alternates ``post`` (E-step), ``a_j`` = mean of ``post[i, L[i, j]]`` over
all of j's labels (M-step, with Laplace's rule of succession, floored at
chance ``1/K`` so that a spammer's label carries no evidence) and a hill-climb
of ``T`` on the marginal likelihood. The likelihood of the observed labels
does not depend on how the examples to (re-)label were chosen, as long as the
choice used only labels already seen and the model (the selection is
*ignorable*), so the weights are not biased by the strategy; and every label
counts, not only those of multiply-labeled examples.

Outputs plug into ActiveLab's scores (:func:`em_scores`): a labeled example
scores ``max_k post[i, k]``, an unlabeled one ``max_k prior[u, k]`` (with the
same ``T``): the probability that the current best guess is right, lowest
first, on one scale for labeling and re-labeling. Costs are
O(n_annotations + N * K) per iteration, no loop over examples or annotators.
"""

from __future__ import annotations

import numpy as np

TINY = 1e-30
#: EM stops when no annotator accuracy moves by more than this (and T is stable).
TOL = 1e-4
MAX_ITER = 100
#: Multiplicative step of the temperature hill-climb.
T_STEP = 1.25
T_MIN, T_MAX = 0.05, 20.0


def _log_prior(logP, T):
    """Row-normalised ``log softmax(logP / T)`` (a new array)."""
    lp = logP / T
    lp -= lp.max(axis=1, keepdims=True)
    lp -= np.log(np.exp(lp).sum(axis=1, keepdims=True))
    return lp


def _logsumexp_rows(A):
    m = A.max(axis=1)
    return m + np.log(np.exp(A - m[:, None]).sum(axis=1))


def _evidence(ann, a, N, K):
    """(N, K) log-likelihood of each example's labels per class, up to a per-row constant."""
    d = np.log(a) - np.log((1.0 - a) / (K - 1))
    return np.bincount(ann.example * K + ann.label, weights=d[ann.annotator], minlength=N * K).reshape(N, K)


def em_fit(ann, P):
    """Fit annotator accuracies, the prior temperature and the posterior.

    Parameters
    ----------
    ann : Annotations
    P : ndarray of shape (E, N, K)
        Out-of-fold probabilities (not modified).

    Returns
    -------
    dict
        ``post`` (N, K), ``accuracy`` (M,) (NaN for annotators without labels),
        ``temperature`` (float), ``n_iter``.
    """
    E, N, K = P.shape
    M = ann.n_annotators
    Pm = P[0] if E == 1 else P.mean(axis=0)
    logP = np.log(np.maximum(Pm, TINY))
    n_j = np.bincount(ann.annotator, minlength=M).astype(np.float64)
    a = np.full(M, 0.7)
    T = 1.0
    lo = 1.0 / K
    for it in range(1, MAX_ITER + 1):
        a = np.clip(a, lo, 1.0 - 1e-6)
        Lk = _evidence(ann, a, N, K)
        # hill-climb T on the marginal likelihood sum_i log sum_k prior_T[i, k] lik[i, k]
        cand = (T / T_STEP, T, T * T_STEP)
        ll = [(_logsumexp_rows(_log_prior(logP, t) + Lk).sum() if T_MIN <= t <= T_MAX else -np.inf) for t in cand]
        T_new = cand[int(np.argmax(ll))]
        post = _log_prior(logP, T_new) + Lk
        post -= post.max(axis=1, keepdims=True)
        np.exp(post, out=post)
        post /= post.sum(axis=1, keepdims=True)
        a_new = (np.bincount(ann.annotator, weights=post[ann.example, ann.label], minlength=M) + 1.0) / (n_j + 2.0)
        done = np.max(np.abs(np.clip(a_new, lo, 1.0 - 1e-6) - a)) < TOL and T_new == T
        a, T = a_new, T_new
        if done:
            break
    return {"post": post, "accuracy": np.where(n_j > 0, a, np.nan), "temperature": float(T), "n_iter": it}


def em_scores(ann, P, U=None):
    """ActiveLab scores with likelihood-fitted weights (see the module docstring).

    ``P`` (E, N, K) for the labeled examples (``ann`` may be None with P None),
    ``U`` (E, Nu, K) for the unlabeled ones. Returns ``(scores_labeled,
    scores_unlabeled, fit)`` where ``fit`` is :func:`em_fit`'s result or None.
    """
    fit = None
    s_lab = np.empty(0)
    T = 1.0
    if P is not None:
        fit = em_fit(ann, P)
        s_lab = fit["post"].max(axis=1)
        T = fit["temperature"]
    s_unl = np.empty(0)
    if U is not None:
        Um = U[0] if U.shape[0] == 1 else U.mean(axis=0)
        s_unl = np.exp(_log_prior(np.log(np.maximum(Um, TINY)), T).max(axis=1))
    return s_lab, s_unl, fit
