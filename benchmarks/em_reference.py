"""The one-coin likelihood EM with the classifier as prior: a reference crowd model of the
benchmarks (the former ``"activelab_em"`` method; the package's crowd models are in
``skactivelab.crowd_models``, where ``AnnotatorConfusion`` generalises this one).

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

As ActiveLab scores (the former method), a labeled example scored
``max_k post[i, k]``, an unlabeled one ``max_k prior[u, k]`` (with the same ``T``): the probability that the current best guess is right, lowest
first, on one scale for labeling and re-labeling. Costs are
O(n_annotations + N * K) per iteration, no loop over examples or annotators.
"""

from __future__ import annotations

import numpy as np

from skactivelab._kernels import in_row_blocks

#: Examples per block of the per-example passes: a block's (K, B) arrays stay in cache.
BLOCK = 8192


def _in_blocks(fn, n, size):
    """Call ``fn(lo, hi)`` over blocks of at most :data:`BLOCK` examples covering
    ``0..n``, in threads when ``size`` (floats touched) is large."""
    def run(lo, hi):
        for start in range(lo, hi, BLOCK):  # a loop over cache-sized blocks, not examples
            fn(start, min(start + BLOCK, hi))

    in_row_blocks(run, n, size)

TINY = 1e-30
#: EM stops when no annotator accuracy moves by more than this (and T is stable).
TOL = 1e-4
MAX_ITER = 100
#: Multiplicative step of the temperature hill-climb.
T_STEP = 1.25
T_MIN, T_MAX = 0.05, 20.0


# Arrays are kept class-major, shape (K, N): reductions over the K classes are then
# element-wise operations on K contiguous rows, much faster than axis=1 reductions
# over short rows.
def _sum0(A):
    out = A[0].copy()
    for k in range(1, A.shape[0]):  # loop over classes (a handful)
        out += A[k]
    return out


def _max0(A):
    out = A[0].copy()
    for k in range(1, A.shape[0]):
        np.maximum(out, A[k], out=out)
    return out


def _log_prior(logPt, T):
    """Class-major ``log softmax(logP / T)`` (a new (K, N) array). Every column of
    ``logPt`` has a maximum >= -log K, so no shift is needed for T >= T_MIN."""
    lp = logPt / T
    lp -= np.log(_sum0(np.exp(lp)))
    return lp


def _evidence(ann, a, N, K):
    """(K, N) log-likelihood of each example's labels per class, up to a per-example
    constant, shifted so that each example's maximum is 0; and that shift."""
    d = np.log(a) - np.log((1.0 - a) / (K - 1))
    Lk = np.bincount(ann.label * N + ann.example, weights=d[ann.annotator], minlength=N * K).reshape(K, N)
    shift = _max0(Lk)
    Lk -= shift
    return Lk, shift


def _class_major_log(P):
    """(K, N) ``log max(P, TINY)`` of an (N, K) array."""
    out = np.ascontiguousarray(P.T)
    np.maximum(out, TINY, out=out)
    return np.log(out, out=out)


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
    logPt = _class_major_log(P[0] if E == 1 else P.mean(axis=0))
    n_j = np.bincount(ann.annotator, minlength=M).astype(np.float64)
    a = np.full(M, 0.7)
    T = 1.0
    lo = 1.0 / K
    priors = {}
    check_T = True  # try the neighbouring temperatures in this iteration
    for it in range(1, MAX_ITER + 1):
        a = np.clip(a, lo, 1.0 - 1e-6)
        Lk, shift = _evidence(ann, a, N, K)
        # hill-climb T on the marginal likelihood sum_i log sum_k prior_T[i, k] lik[i, k]
        # (while check_T: T and its neighbours; priors computed before are reused, as T
        # walks between neighbours); every pass is per example, so it runs in blocks of
        # examples, in threads when large
        temps = [t for t in (T / T_STEP, T, T * T_STEP) if T_MIN <= t <= T_MAX] if check_T else [T]
        new = [t for t in temps if t not in priors]
        for t in new:
            priors[t] = np.empty((K, N))
        joint = {t: np.empty((K, N)) for t in temps}
        norm = {t: np.empty(N) for t in temps}

        def block(lo, hi):
            for t in new:
                priors[t][:, lo:hi] = _log_prior(logPt[:, lo:hi], t)
            for t in temps:
                j = joint[t][:, lo:hi]
                np.add(priors[t][:, lo:hi], Lk[:, lo:hi], out=j)
                np.exp(j, out=j)
                norm[t][lo:hi] = _sum0(j)

        _in_blocks(block, N, K * N * len(temps))
        ll = {t: float(np.log(z).sum()) for t, z in norm.items()}
        T_new = max(ll, key=ll.get)
        post, z = joint[T_new], norm[T_new]
        del joint
        _in_blocks(lambda lo, hi: np.divide(post[:, lo:hi], z[lo:hi], out=post[:, lo:hi]), N, K * N)
        a_new = (np.bincount(ann.annotator, weights=post[ann.label, ann.example], minlength=M) + 1.0) / (n_j + 2.0)
        a_stable = np.max(np.abs(np.clip(a_new, lo, 1.0 - 1e-6) - a)) < TOL
        T_stable = T_new == T
        a, T = a_new, T_new
        # keep the priors of T and its neighbours (at most three (K, N) arrays)
        priors = {t: lp for t, lp in priors.items() if T / (T_STEP * 1.01) <= t <= T * T_STEP * 1.01}
        if a_stable and T_stable and check_T:
            break  # neither the accuracies nor the temperature move
        # while T moves, re-check it every iteration; once it rests, fit the
        # accuracies alone and re-check T when they have settled
        check_T = not T_stable or a_stable
    return {"post": np.ascontiguousarray(post.T), "accuracy": np.where(n_j > 0, a, np.nan),
            "temperature": float(T), "n_iter": it}


def em_pool_scores(U, T):
    """Scores of unlabeled rows ``U`` (E, n, K): ``max_k softmax(log mean_e U / T)[k]``,
    the calibrated prediction's largest probability (the prior of the crowd model)."""
    Um = U[0] if U.shape[0] == 1 else U.mean(axis=0)
    s_unl = np.empty(Um.shape[0])

    def block(lo, hi):  # max_k prior_T[u, k], per block of examples
        s_unl[lo:hi] = np.exp(_max0(_log_prior(_class_major_log(Um[lo:hi]), T)))

    _in_blocks(block, Um.shape[0], Um.size)
    return s_unl
