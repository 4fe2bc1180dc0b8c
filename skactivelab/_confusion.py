"""The annotator-confusion crowd model: numeric core (NumPy only).

Each annotator ``j`` has a confusion matrix ``C[j, k, l]``, the probability of
giving label ``l`` to an example of true class ``k`` (Dawid & Skene, 1979). The
true class of example ``i`` has the prior

    prior[i] = (1 - FLOOR) * q[i] + FLOOR / K,     q[i] ∝ P[i] ** w * pi ** (1 - min(w, 1)),

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
  is a crowd-only Dawid-Skene model), and one trained on noisy labels (which
  predicts the labels, not the truth, and so is under-confident about the
  truth) a weight above 1, but only when at least :data:`MIN_MULTI` examples
  have two labels or more (single labels cannot tell such a classifier from
  one that learned the labels' errors) and those examples do not show the
  classifier weaker than an annotator (:func:`weaker_than_an_annotator`: a
  weight above 1 lets it outvote a label). The weight stays 1 unless a likelihood-ratio test
  rejects it, or unless at weight 1 the crowd's best accuracy is the lowest
  the model allows (chance, as far as the model goes) while at least half the
  examples have several labels: their agreement tells of the crowd without the
  classifier, so a classifier that leaves the crowd at chance is not a safe
  default and the likelihood chooses. The annotators' own
  parameters are then fitted with ``w`` fixed, so they cannot trade accuracy
  against the classifier's sharpness (the failure of fitting both at once
  when examples have one label each).
* The prior is floored (:data:`FLOOR`) after the weight, so no class is
  impossible: a class the classifier gives probability exactly 0 still wins
  when enough annotators choose it, while the weight still sees the ranking of
  an over-confident classifier's smallest probabilities. The floor is fitted with
  the weight (:data:`FLOORS`, under the same test) for a classifier that gives exact
  zeros, and for any classifier once :data:`MIN_MULTI` of the examples the weight is chosen
  on have two labels or more (then under a test of two parameters, :data:`LR_MARGIN_FLOOR`):
  a classifier may overstate its confidence by a shrink toward chance (one trained on
  labels that followed its own earlier predictions does), which no power fits, and only
  the labels' agreement with each other tells that shrink from a poorer crowd.
* Each confusion row is shrunk toward the annotator's one-coin model
  (accuracy ``a_j`` on the diagonal, ``(1 - a_j) / (K - 1)`` elsewhere) with
  ``shrinkage`` pseudo-labels, and ``a_j`` toward the crowd's accuracy with a strength
  (pseudo-labels) chosen among :data:`STRENGTHS` by two-fold cross-validation over
  examples (:func:`choose_strength`): an annotator's own parameters are kept only as far
  as they predict that annotator's labels on other examples; each finite strength is also
  tried with the rows kept one-coin (an accuracy per annotator, wrong labels spread
  evenly) and with guessing rows (a chance of knowing the answer, and guesses of the
  annotator's own: :func:`spam_rows`, for annotators who favour some classes when they do
  not know, such as one who always answers the first class). With dense labels that is a
  full matrix per annotator (how systematic
  confusions, adversaries included, are learned); with one label per example and a weak
  classifier it is one accuracy for the whole crowd, the only thing such labels identify.
  The crowd's accuracy is fitted once, by the crowd-wide model
  of :func:`profile_weight`, as the mean of the accuracies from chance up weighted by their
  likelihood (:func:`crowd_accuracy`), and EM does not refit it: where the labels hardly tell
  it (one label each and a classifier near chance), the best fit is wherever noise puts it,
  at the lowest candidate on some draws, and a crowd put there hands every example to the
  classifier.

* The classifier may repeat the crowd: one trained on the crowd's majority vote shares the
  crowd's errors, and its agreement with the labels then says nothing of the truth. With
  probability ``s`` (the share of copies) an example's classifier is a copy of its labels'
  majority class, and the joint probability of example ``i`` and class ``z`` is

      prod_j C[j, z, L[i, j]] * ((1 - s) * prior[i, z] + s * kappa[i] * m[z]),
      kappa[i] = sum_k t[i, k] * prior[i, k] / m[k],

  with ``t[i]`` the majority class of the labels (ties share it evenly) and ``m`` the
  prior's mean over the examples (what the prior says of the classes without the
  classifier's evidence on the example): a copy carries the classifier's evidence at the
  majority class, whatever the truth. The two terms agree on an example whose labels are
  unanimous; on a split example a classifier independent of the crowd sides with the
  minority as often as the minority is right, a copy with the majority, and this third-order
  structure is what tells them apart (pairwise agreement cannot: a classifier that repeats
  the labels looks informative). ``s`` is fitted to the examples with two labels or more:
  once the model without copies has converged, the best ``s`` at its parameters
  (:func:`copy_share`; 0 there: no copies, the model is unchanged) starts a second EM, whose
  every pass also takes the ``s`` that best explains those examples given the other
  parameters (:func:`best_share`); its fit is kept only if its log-likelihood beats the model
  without copies by more than :data:`LR_MARGIN` (a likelihood-ratio test, as for the weight).
  Single labels cannot tell a copy (it would look like a perfect crowd): with no example of
  two labels or more, ``s`` stays 0.

EM starts from the crowd-wide one-coin fit of :func:`profile_weight` and
alternates the posterior (E-step) and the confusions and class frequencies
(M-step). Every pass is a few ``bincount`` over the annotations per class and
element-wise work on (N, K) arrays: no loop over examples or annotators.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._kernels import exp_inplace, label_counts, row_max, row_sum, sum_log_rows

#: Probability mass spread evenly over the classes of each row of the prior.
FLOOR = 1e-3
#: Candidate floors, fitted with the weight for a classifier that gives exact zeros (trees,
#: nearest neighbours: how much of the prior it leaves to the classes it rules out, which no
#: weight can change), and for any classifier once examples with several labels can tell a
#: shrink toward chance from a poorer crowd.
FLOORS = (1e-3, 0.01, 0.05, 0.15, 0.3, 0.5)
#: The least class share :func:`class_shares` divides by, as a fraction of an even share
#: ``1 / K``: a class the classifier never predicts is multiplied at most four times over.
MIN_SHARE = 0.25
#: Probabilities below this count as this (the log of an exact zero).
TINY = 1e-300
#: Candidate weights of the classifier in the prior. Above 1 sharpens: a classifier trained on
#: noisy labels predicts the labels' distribution, so it is under-confident about the truth; the
#: likelihood-ratio test of :func:`profile_weight` keeps 1 unless the labels call for another.
WEIGHTS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
#: The classifier keeps weight 1 (its probabilities as they are) unless another weight's
#: profile log-likelihood is higher by more than this: a likelihood-ratio test at the 5% level
#: (half the 95% quantile of chi-square with one degree of freedom).
LR_MARGIN = 1.92
#: The same test when the alternative also has a floor (two parameters differ from the
#: classifier as it is): half the 95% quantile of chi-square with two degrees of freedom.
LR_MARGIN_FLOOR = 3.0
#: Pseudo-labels pulling an annotator's accuracy toward the crowd's accuracy when
#: there are too few examples to choose among :data:`STRENGTHS`.
ACCURACY_PRIOR = 2.0
MAX_ITER = 100
#: EM stops when the log-likelihood per annotation moves by less than this.
TOL = 1e-6
#: Examples used to choose the weight (a random subset of larger sets).
MAX_SELECT = 10_000
#: Examples used to choose the strength (each of the small fits, two per candidate, sees half of
#: them; the thirteen candidates on 3,500 cost about what nine did on 5,000).
MAX_SELECT_STRENGTH = 3_500
#: Fewer examples than this: the strength is not cross-validated (:data:`ACCURACY_PRIOR`).
MIN_PROFILE = 50
#: Examples with two labels or more needed before a weight above 1 is a candidate: only their
#: agreement tells a classifier under-confident about the truth from one that learned the labels
#: (a few dozen anchor the crowd's accuracy; the paper's digits setting starts with at most 66).
MIN_MULTI = 20
#: A weight above 1 is withheld when the examples with several labels show the classifier
#: weaker than an annotator by more than this many standard errors (a one-sided test at the 5%
#: level; :func:`weaker_than_an_annotator`).
WEAKER_Z = 1.645


def default_shrinkage(n_classes):
    """Pseudo-labels per confusion row: ``4 K`` (a row moves once it holds a few labels per cell)."""
    return 4.0 * n_classes


def column_sum(J):
    """``J.sum(axis=0)`` of an (n, K) array (einsum: faster than the pairwise reduction)."""
    return np.einsum("ik->k", J)


def classifier_probs(P):
    """The classifier's probabilities ``Q`` of (E, N, K) ``P`` (their mean over E; a new
    array), with exact zeros raised to :data:`TINY`, so that a weight of 0 gives them
    ``Q ** 0 = 1`` like any other class (the floor of :class:`Prior` makes them possible
    again)."""
    return np.maximum(P[0] if P.shape[0] == 1 else P.mean(axis=0), TINY)


def class_shares(P):
    """The classifier's share of each class among the (E, N, K) probabilities ``P``: the mean
    ``mbar`` of their mean over the models, shrunk toward equal shares as far as its sampling
    noise goes (positive-part James-Stein: ``1/K + lam * (mbar - 1/K)``, ``lam = max(0, 1 -
    sum_k var_k / N / sum_k (mbar_k - 1/K) ** 2)``, ``var_k`` the variance of the examples'
    probabilities of class k), and at least :data:`MIN_SHARE` ``/ K``. With a few examples, or
    a classifier whose shares differ from equal ones by noise, the shares are (near) equal and
    dividing by them changes little; the lower bound keeps a class the classifier (almost)
    never predicts from being multiplied more than ``1 / MIN_SHARE`` times over an even share.
    Fewer than two examples: equal shares."""
    E, N, K = P.shape
    equal = np.full(K, 1.0 / K)
    if N < 2:
        return equal
    Pm = P[0] if E == 1 else P.mean(axis=0)
    dev = Pm.mean(axis=0) - equal
    spread = float(dev @ dev)
    noise = float(Pm.var(axis=0, ddof=1).sum()) / N
    lam = max(0.0, 1.0 - noise / spread) if spread > 0 else 0.0
    return np.maximum(equal + lam * dev, MIN_SHARE / K)


def without_shares(Q, shares):
    """``Q`` (n, K) over the class shares ``shares`` (K,), each row renormalised, in place: the
    classifier's evidence about each example without the class shares of the labels it was
    trained on."""
    Q /= shares
    Q /= row_sum(Q)[:, None]
    return Q


def power(R, w):
    """``R ** w`` for ``R`` in (0, 1] (a new array): products and square roots for the
    weights of :data:`WEIGHTS` that are quarters up to 3, ``exp(w log R)`` otherwise."""
    quarters = w * 4.0
    if quarters != int(quarters) or w > 3.0:
        out = np.log(R)
        out *= w
        return np.exp(out, out=out)
    whole, frac = divmod(int(quarters), 4)
    out = np.ones_like(R) if whole == 0 else R.copy()
    for _ in range(whole - 1):  # at most twice
        out *= R
    if frac:
        root = np.sqrt(R)
        if frac & 2:
            out *= root
        if frac & 1:
            out *= np.sqrt(root, out=root)
    return out


class Prior:
    """The prior of the true class, as probabilities:
    ``(1 - floor) * q + floor / K`` (``floor``: :data:`FLOOR` when None) with ``q`` the
    row-normalised ``Q ** w * pi ** (1 - min(w, 1))`` (``Q``: :func:`classifier_probs`,
    ``pi``: the class frequencies).

    The weight acts first (a temperature of the classifier's probabilities, whose ranking
    it keeps however sharp the classifier is), the floor last (no class is impossible,
    whatever the weight). The classifier's part ``Q ** w`` is computed once: each new set of
    class frequencies then costs a few multiplications.
    """

    def __init__(self, Q, w, floor=None, *, overwrite=False):
        self.power = 1.0 - min(w, 1.0)  # of the class frequencies
        self.floor = FLOOR if floor is None else floor
        self.shape = Q.shape
        self._fixed = None
        if w == 0:  # the classifier plays no part: every row is the same
            self.base = np.ones((1, Q.shape[1]))
            return
        R = np.divide(Q, row_max(Q)[:, None], out=Q if overwrite else None)  # ``overwrite``: Q's memory
        self.base = R if w == 1.0 else power(R, w)  # largest entry of each row: 1

    def probs(self, log_pi):
        """(N, K) prior probabilities for log class frequencies ``log_pi`` (a new array;
        for a weight >= 1, where the frequencies play no part, the same array every time;
        for a weight of 0, one row, broadcast)."""
        if self.power == 0.0 and self._fixed is not None:
            return self._fixed
        q = self.base * np.exp(self.power * log_pi) if self.power else self.base  # (in place: used once)
        q *= ((1.0 - self.floor) / row_sum(q))[:, None]
        q += self.floor / q.shape[1]
        if self.power == 0.0:
            self._fixed, self.base = q, None  # the classifier's part is no longer needed
        return q if q.shape == self.shape else np.broadcast_to(q, self.shape)  # (0 rows too)


def one_hot(ann):
    """Sparse (N, M * K) matrix: 1 where example i got label l from annotator j (column j * K + l).

    Made as compressed rows directly (the annotations grouped by example, stably), its
    columns then sorted and repeated cells summed in place: the matrix of
    ``csr_matrix((ones, (example, column)))``, without its coordinate copies.
    """
    N, M, K = ann.n_examples, ann.n_annotators, ann.n_classes
    nnz = ann.n_annotations
    if M * K >= 2**31 or nnz >= 2**31:
        return sp.csr_matrix((np.ones(nnz), (ann.example, ann.annotator * K + ann.label)), shape=(N, M * K))
    ex = ann.example
    order = None if nnz < 2 or not (ex[1:] < ex[:-1]).any() else np.argsort(ex, kind="stable")
    columns = ann.annotator.astype(np.int32) if order is None else ann.annotator[order].astype(np.int32)
    columns *= K
    np.add(columns, ann.label if order is None else ann.label[order], out=columns, casting="unsafe")
    del order
    indptr = np.zeros(N + 1, dtype=np.int32)
    np.cumsum(np.bincount(ex, minlength=N), out=indptr[1:])
    A = sp.csr_matrix((np.ones(nnz), columns, indptr), shape=(N, M * K), copy=False)
    A.sum_duplicates()  # sorts the columns of each row, then sums repeated cells (none usually)
    return A


def _log_evidence(A, logC):
    """(N, K): ``sum_j log C[j, k, L[i, j]]`` over each example's labels (``A``: :func:`one_hot`)."""
    M, K, _ = logC.shape
    return np.asarray(A @ logC.transpose(0, 2, 1).reshape(M * K, K))


def _normalise(J, prior=None):
    """Turn log-joint ``J`` (n, K) into the posterior in place; return the log-likelihood.
    With ``prior`` (probabilities, (n, K)), ``J`` holds the log-evidence and the joint is
    ``exp(J) * prior`` (the prior never goes through ``log``)."""
    m = row_max(J)[:, None]
    J -= m
    exp_inplace(J)
    if prior is not None:
        J *= prior
    z = row_sum(J)
    J /= z[:, None]
    return float(np.log(z).sum() + m.sum())


def _m_step(A, post, M, K, shrinkage, strength, a_crowd, fit_classes=True, spam=None):
    """Confusions (log), annotator accuracies and log class frequencies from a posterior;
    ``strength``: pseudo-labels pulling each accuracy toward ``a_crowd``, the crowd's accuracy
    (:func:`crowd_accuracy`); ``fit_classes`` False: equal class frequencies. ``spam``: the
    rows of each annotator are :func:`spam_rows` (``shrinkage`` pseudo-labels pulling its
    guesses toward even ones) instead of full rows shrunk toward its one-coin model when it is a
    dict, which keeps the rows' parameters from one call to the next (the inner EM's start;
    empty: start afresh); None: full rows."""
    counts = np.asarray(A.T @ post).reshape(M, K, K).transpose(0, 2, 1)  # [j, true k, label l]
    if spam is not None:
        logC, acc, spam["start"] = spam_rows(counts, shrinkage, strength, a_crowd, start=spam.get("start"))
    else:
        n_j = counts.sum(axis=(1, 2))
        correct = np.trace(counts, axis1=1, axis2=2)
        # the crowd's accuracy is the crowd-wide fit's, not refitted here: where the labels hardly
        # tell it, each pass would move it toward the likelihood's best, which noise can put at
        # chance (see crowd_accuracy)
        acc = (correct + strength * a_crowd) / (n_j + strength)
        a = np.clip(acc, 1.0 / K, 1.0 - 1e-6)
        one_coin = np.broadcast_to(((1.0 - a) / max(K - 1, 1))[:, None, None], (M, K, K)).copy()
        diag = np.arange(K)
        one_coin[:, diag, diag] = a[:, None]
        C = counts + shrinkage * one_coin
        C /= C.sum(axis=2, keepdims=True)
        logC = np.log(C)
    if not fit_classes:
        return logC, acc, np.full(K, -np.log(K))
    pi = (column_sum(post) + 1.0) / (post.shape[0] + K)
    return logC, acc, np.log(pi)


#: Passes of the inner EM of :func:`spam_rows` at most (each a few (M, K) operations); it stops
#: sooner once no parameter moves by more than :data:`SPAM_TOL`.
SPAM_STEPS = 50
SPAM_TOL = 1e-7


def spam_rows(counts, prior, strength, a_crowd, start=None):
    """Log rows ``theta_j I + (1 - theta_j) 1 xi_j'`` fitted to the expected counts
    ``counts[j, true k, label l]`` (M, K, K), the accuracies ``theta_j + (1 - theta_j) / K``,
    and ``(theta, xi)`` (to start the next fit from, ``start``).

    Each annotator knows the answer with probability ``theta_j`` and otherwise guesses from a
    distribution ``xi_j`` of its own (Hovy et al., 2013): an annotator who always answers one
    class is ``theta_j = 0`` with all its guesses on that class, which rows with the wrong
    labels spread evenly cannot say. ``theta_j`` is pulled toward the crowd's (the one-coin
    accuracy ``a_crowd`` as a chance of knowing, ``(K a - 1) / (K - 1)``) with ``strength``
    pseudo-labels, ``xi_j`` toward even guesses with ``prior`` pseudo-labels: the maximum of
    the expected log-likelihood plus a Beta and a Dirichlet log-prior. Which of a right label's
    two sources (knowing, or a lucky guess) is latent: EM over the (M, K) arrays (at most
    :data:`SPAM_STEPS` passes), from ``start`` or from the one-coin fit with even guesses."""
    M, K, _ = counts.shape
    diag = np.arange(K)
    D = counts[:, diag, diag]  # right labels, by class
    n_j = counts.sum(axis=(1, 2))
    O = counts.sum(axis=1) - D  # wrong labels, by the label given
    t_c = max(0.0, (K * a_crowd - 1.0) / max(K - 1, 1))
    if start is None:
        theta = np.clip((K * (D.sum(axis=1) + strength * a_crowd) / (n_j + strength) - 1.0) / max(K - 1, 1),
                        0.0, 1.0)
        xi = np.full((M, K), 1.0 / K)
    else:
        theta, xi = start
    right, pulled, toward = D.sum(axis=1) + strength * t_c, n_j + strength, prior / K
    for _ in range(SPAM_STEPS):  # loop over passes of the inner EM (each over every annotator)
        guessed = xi * (1.0 - theta)[:, None]
        guessed /= np.maximum(guessed + theta[:, None], TINY)  # a right label's chance of being a guess
        guessed *= D  # right labels guessed
        new = (right - row_sum(guessed)) / pulled
        guessed += O
        guessed += toward
        xi = guessed / row_sum(guessed)[:, None]
        moved = np.abs(new - theta).max(initial=0.0)
        theta = new
        if moved < SPAM_TOL:
            break
    theta = np.minimum(theta, 1.0 - 1e-6)
    C = (1.0 - theta)[:, None, None] * np.broadcast_to(xi[:, None, :], (M, K, K))
    C[:, diag, diag] += theta[:, None]
    return np.log(C), theta + (1.0 - theta) / K, (theta, xi)


def design(ann, *, crowd_only):
    """``(A, A_fit)``: the annotations as :func:`one_hot`, and those the annotators' parameters
    are fitted on: all of them, except for a crowd-only fit (no classifier, or a weight of 0),
    where an example's only label tells nothing of its annotator (nothing but other labels
    checks it; the model would wander along a ridge of equal likelihood)."""
    A = one_hot(ann)
    if crowd_only:
        multi = np.bincount(ann.example, minlength=ann.n_examples) >= 2
        if not multi.all():
            return A, sp.diags(multi.astype(np.float64)) @ A
    return A, A


#: The largest share: an example without labels (nothing to copy) keeps the classifier.
COPY_MAX = 1.0 - 1e-6


def copy_target(votes):
    """What a classifier trained on the crowd's majority vote repeats, from the (N, K) vote
    counts: (N, K) the majority class of each example's labels (ties share it evenly; zeros
    without labels), and (N,) a mask of the examples with two labels or more (the only ones
    that tell a copy apart)."""
    top = (votes == row_max(votes)[:, None]) & (votes > 0)
    m = top.astype(np.float64)
    ties = row_sum(m)
    m /= np.maximum(ties, 1.0)[:, None]
    return m, row_sum(votes) >= 2


def _normalise_copy(J, prior, marginal, target, share):
    """E-step of the model whose classifier may repeat the labels: turn log-evidence ``J``
    (n, K) into the posterior in place; return the log-likelihood and, per example, the ratio
    of its joint probability as a copy to the one without copies (:func:`best_share`).

    The joint of example i and class z is ``exp(J[i, z]) * ((1 - share) * prior[i, z] +
    share * kappa[i] * marginal[z])``, ``kappa[i] = sum_k target[i, k] * prior[i, k] /
    marginal[k]``: the classifier's evidence for class z (its prior over the prior's mean
    ``marginal``), or, when it repeats the labels, the same evidence at the labels' majority
    class, whatever z.
    """
    mx = row_max(J)[:, None]
    J -= mx
    exp_inplace(J)
    copied = J * marginal  # the labels alone
    J *= prior  # the classifier's evidence as today's prior
    s_ind, s_copy = row_sum(J), row_sum(copied)
    kappa = np.einsum("ik,ik,k->i", target, prior, 1.0 / marginal)
    ind = (1.0 - share) * s_ind
    cop = share * kappa
    cop *= s_copy
    z = ind + cop
    resp = cop / z
    J *= ((1.0 - resp) / s_ind)[:, None]
    copied *= (resp / s_copy)[:, None]
    J += copied
    ratio = kappa
    ratio *= s_copy
    ratio /= s_ind
    return float(np.log(z).sum() + mx.sum()), ratio


def em(ann, Q, w, shrinkage, strength, a_init, *, floor=None, max_iter=MAX_ITER, tol=TOL, overwrite_Q=False,
       fit_classes=True, copy=None, spam=False, design_=None):
    """Fit the model with classifier weight ``w`` (``Q`` None: crowd only), starting
    from the crowd-wide one-coin model of accuracy ``a_init`` (:func:`profile_weight`),
    toward which each annotator's accuracy is pulled (with ``strength`` pseudo-labels);
    ``fit_classes`` False: the class frequencies stay equal (:func:`unequal_classes`).
    ``overwrite_Q``: ``Q`` is the caller's own array, no longer needed after the call (the
    prior is made in its memory). ``copy``: the share of copies (see the module's
    docstring): None or 0 none, a number that share, "auto" fitted (a second EM from the
    converged model without copies, kept if a likelihood-ratio test prefers it). ``spam``:
    guessing rows (:func:`spam_rows`) instead of full rows shrunk toward one-coin ones.
    ``design_``: :func:`design` of ``ann`` when the caller has it already.

    Returns ``(post, logC, acc, log_pi, loglik, n_iter, share)``.
    """
    n, M, K = ann.n_examples, ann.n_annotators, ann.n_classes
    A, A_fit = design(ann, crowd_only=Q is None or w == 0) if design_ is None else design_
    uniform = np.full(K, -np.log(K))
    post = label_counts(ann, dtype=np.float64)
    copies = Q is not None and w > 0 and copy is not None and copy != 0
    if copies:
        target, multi = copy_target(post)
    post *= np.log(a_init / ((1.0 - a_init) / max(K - 1, 1)))  # the votes, weighed
    prior = None if Q is None else Prior(Q, w, floor, overwrite=overwrite_Q)
    if prior is None:
        post += uniform
    _normalise(post, None if prior is None else prior.probs(uniform))
    spam = {} if spam else None  # guessing rows: each M-step's inner EM starts from the last one's
    logC, acc, log_pi = _m_step(A_fit, post, M, K, shrinkage, strength, a_init, fit_classes, spam)
    ll_old = -np.inf
    per = max(ann.n_annotations, 1)
    share, fitted = 0.0, False
    if copies:
        if copy != "auto":
            share = min(float(copy), COPY_MAX)
        elif not multi.any():  # single labels cannot tell a copy: the share stays 0
            copies = False
    it, last = 0, max_iter
    while True:  # without copies, or with a given share; then, if the test asks for it, with a fitted share
        for it in range(it + 1, last + 1):  # EM iterations
            post = J = None  # the last pass's posterior (J too) is in the M-step's results now
            J = _log_evidence(A, logC)
            if prior is None:
                J += log_pi
            if share > 0:
                p = prior.probs(log_pi)
                ll, ratio = _normalise_copy(J, p, column_sum(p) / n, target, share)
                if fitted:  # the share that best explains the examples where it is identified
                    share = best_share(ratio[multi])[0]
            else:
                ll = _normalise(J, None if prior is None else prior.probs(log_pi))
            post = J
            logC, acc, log_pi = _m_step(A_fit, post, M, K, shrinkage, strength, a_init, fit_classes, spam)
            if abs(ll - ll_old) <= tol * per:
                break
            ll_old = ll
        if fitted:  # the likelihood-ratio test of the fitted share against none
            return (post, logC, acc, log_pi, ll, it, share) if ll - without[4] > LR_MARGIN else without
        if not copies or copy != "auto":
            return post, logC, acc, log_pi, ll, it, share
        # the model without copies has converged: the best share at its parameters, from which
        # EM fits the share with the rest (a share of 0 there: no copies)
        without = (post, logC, acc, log_pi, ll, it, 0.0)
        share = copy_share(_log_evidence(A, logC)[multi], prior.probs(log_pi), target, multi)
        if share == 0.0:
            return without
        fitted, ll_old, last = True, -np.inf, it + max_iter


#: Newton steps of :func:`best_share` at most (it stops when a step is shorter than 1e-10).
COPY_STEPS = 50


def best_share(r):
    """``(s, gain)``: the share of copies ``s`` in [0, :data:`COPY_MAX`] maximising
    ``gain(s) = sum_i log(1 - s + s * r_i)``, the log-likelihood of examples whose ratios of
    joint probability as a copy to without copies are ``r``, over a share of 0. ``gain`` is
    concave: Newton's method, kept inside the bracket of the sign change of its slope (bisection
    when a step leaves it)."""
    d = r - 1.0
    if d.sum() <= 0.0:  # the slope at 0: no copies
        return 0.0, 0.0
    lo, hi, s = 0.0, COPY_MAX, 0.0
    if (d / (1.0 + COPY_MAX * d)).sum() >= 0.0:
        s = COPY_MAX
    else:
        for _ in range(COPY_STEPS):  # loop over Newton steps of one number
            q = d / (1.0 + s * d)
            slope = q.sum()
            if slope > 0.0:
                lo = s
            else:
                hi = s
            step = slope / np.dot(q, q)
            if abs(step) < 1e-10:  # the Newton step from a point this close to the maximum
                break
            s = s + step if lo < s + step < hi else 0.5 * (lo + hi)
    return s, float(np.log1p(s * d).sum())


def copy_share(J, prior, target, multi):
    """:func:`best_share` of the examples ``multi`` (a mask) at the parameters of a fitted
    model: ``J`` their log-evidence (overwritten), ``prior`` the prior of all examples,
    ``target`` their labels' majority class (:func:`copy_target`). Returns the share."""
    marginal = column_sum(prior) / prior.shape[0]
    # with a share of 0 the E-step's ratios are those of the model without copies
    _, ratio = _normalise_copy(J, prior[multi], marginal, target[multi], 0.0)
    return best_share(ratio)[0]


def _at_most(ann, Q, max_select, rng):
    """``(ann, Q, n)`` for at most ``max_select`` examples, drawn at random (all if fewer)."""
    n = ann.n_examples
    if n <= max_select:
        return ann, Q, n
    keep = np.zeros(n, dtype=bool)
    keep[rng.choice(n, size=max_select, replace=False)] = True
    return ann.subset_examples(keep), None if Q is None else Q[keep], max_select


#: Candidate crowd-wide accuracies of :func:`profile_weight`, as fractions of the way
#: from chance to 1. A crowd is taken to be better than chance by at least a tenth of the way
#: (the assumption that makes annotators and classifier tell apart at all: with single labels,
#: "a random classifier and a good crowd" and "a good classifier and a random crowd" explain the
#: labels equally well).
_ACC_STEPS = np.linspace(0.1, 0.995, 40)
#: The accuracies :func:`profile_weight` tries first: every ``_STRIDE``-th, and the last.
_STRIDE = 4
_COARSE = np.unique(np.r_[np.arange(_STRIDE - 1, _ACC_STEPS.size, _STRIDE), _ACC_STEPS.size - 1])
#: The accuracies over which :func:`crowd_accuracy` averages first: the whole range from
#: chance (0) to the highest candidate, so that a crowd near the lowest candidate is not
#: averaged only over accuracies above it; then as many again, between the neighbours of the
#: accuracies whose log-likelihood is within :data:`MEAN_SPAN` of the best.
_MEAN_STEPS = np.linspace(0.0, _ACC_STEPS[-1], 50)
#: Log-likelihood below the best beyond which an accuracy's weight (``exp(-30)``) is nothing.
MEAN_SPAN = 30.0


def _tied_with_best(ll):
    """The log-likelihoods equal to the best up to rounding (a relative 1e-9)."""
    return ll >= ll.max() - 1e-9 * max(1.0, abs(ll.max()))


def _best_accuracy(mass_q, ones, base_ll, floor, K, accuracies, lead=None, *, curve=False):
    """The best crowd-wide accuracy at one floor, and its log-likelihood: ``mass_q`` and
    ``ones`` are the products of the classifier's part and of ones with the gains
    (examples, accuracies; ``mass_q`` None: no classifier); ``lead``: :func:`_vote_levels`.
    ``curve``: the log-likelihood at every accuracy instead."""
    def loglik(cols, parts=None):  # at the accuracies ``cols`` (``parts``: the two products
        # there); terms at least about 1e-4, so log(1 + x) is exact enough
        g, o = parts if parts is not None else (None if mass_q is None else mass_q[:, cols], ones[:, cols])
        if g is None:
            terms = o * (1.0 / K)
        else:
            terms = g * (1.0 - floor)
            terms += o * (floor / K)
        terms += 1.0 if lead is None else lead[:, cols]
        return sum_log_rows(terms) + base_ll[cols]

    if curve:
        return loglik(np.arange(accuracies.size))
    # the log-likelihood is smooth and single-peaked in the accuracy: every fourth accuracy
    # (and the last), then every accuracy around the best of those
    ll = np.full(accuracies.size, -np.inf)
    ll[_COARSE] = loglik(_COARSE, ((None if mass_q is None else mass_q[:, _COARSE]), ones[:, _COARSE]))
    c = int(np.flatnonzero(_tied_with_best(ll))[-1])
    near = np.arange(max(c - _STRIDE + 1, 0), min(c + _STRIDE, accuracies.size))
    near = near[~np.isin(near, _COARSE)]
    ll[near] = loglik(near)
    # the labels may not tell the accuracy (one label each, nothing to check it against): of
    # the tied accuracies, the highest, so that a label is taken at its word
    top = np.flatnonzero(_tied_with_best(ll))[-1]
    return float(ll[top]), float(accuracies[top])


#: The largest exponent :func:`_vote_levels` lets ``exp`` take (``exp(709)`` is near the largest double).
MAX_EXP = 700.0


def _vote_levels(cell, v, n, K, log_r):
    """``(pair, n_levels, gain, lead, shift)`` for :func:`_candidate_fits`: each (example,
    class) pair's level, the levels' gains (levels, accuracies), and ``lead`` (examples,
    accuracies; None: 1) and ``shift`` (accuracies) of the log-likelihood.

    The likelihood of example i is ``b ** n_i * (1 + sum_k prior[i, k] * (r ** votes[i, k] -
    1))`` (``r = a / b``): a level is a number of votes. Where ``r ** votes`` would overflow
    (more than about a hundred equal labels on one example), each example's is taken relative
    to its largest vote count ``m_i``: ``b ** n_i * r ** m_i * (r ** -m_i + sum_k prior[i, k] *
    (r ** (votes[i, k] - m_i) - r ** -m_i))``, a level then being (votes, m_i), ``lead`` the
    first term and ``shift`` the sum of ``m_i log r``.
    """
    if float(v.max()) * float(log_r.max()) < MAX_EXP:
        n_votes, v_index = np.unique(v, return_inverse=True)
        gain = np.expm1(n_votes[:, None].astype(np.float64) * log_r[None, :])  # (votes, accuracy)
        return (cell // K) * n_votes.size + v_index, n_votes.size, gain, None, 0.0
    m = np.zeros(n)
    np.maximum.at(m, cell // K, v)  # each example's largest vote count
    m_pair = m[cell // K]
    levels, index = np.unique(np.stack([v.astype(np.float64), m_pair]), axis=1, return_inverse=True)
    gain = np.exp((levels[0] - levels[1])[:, None] * log_r) - np.exp(-levels[1][:, None] * log_r)
    lead = np.exp(-m[:, None] * log_r[None, :])
    return (cell // K) * levels.shape[1] + index.ravel(), levels.shape[1], gain, lead, m.sum() * log_r


def _candidate_fits(ann, Q, n, K, weights, floors, *, steps=_ACC_STEPS, curve=False):
    """``{(weight, floor): (log-likelihood, crowd accuracy)}`` of the crowd-wide one-coin
    model at its best accuracy for each candidate, and the candidate accuracies (``steps``:
    of the way from chance to 1; ``curve``: ``{(weight, floor): log-likelihoods}`` at every
    accuracy)."""
    # the likelihood of example i is prod_j b * sum_k prior[i, k] * (a / b) ** votes[i, k]
    # = b ** n_i * (1 + sum over its voted classes of prior[i, k] * ((a / b) ** votes[i, k] - 1)),
    # since the prior sums to 1: a pass over the (example, class) pairs with votes per accuracy
    cell, v = np.unique(ann.example * K + ann.label, return_counts=True)
    accuracies = 1.0 / K + (1.0 - 1.0 / K) * steps
    b = (1.0 - accuracies) / max(K - 1, 1)
    # (a / b) ** votes - 1 takes a few values of votes: sum the prior over each example's
    # classes with the same number of votes, then one small product per accuracy
    pair, n_levels, gain, lead, shift = _vote_levels(cell, v, n, K, np.log(accuracies / b))
    base_ll = float(ann.n_annotations) * np.log(b) + shift
    uniform = np.full(K, -np.log(K))
    # the prior at floor f is (1 - f) * q + f / K, so each example's sums of it over its voted
    # classes, and their products with the gains, are (1 - f) times those of q plus f / K times
    # those of ones: two products per weight, whatever the number of floors (examples,
    # accuracies; einsum: a product with an inner size of a few runs faster there than in BLAS)
    ones = np.einsum("iv,va->ia", np.bincount(pair, minlength=n * n_levels).reshape(n, n_levels)
                     .astype(np.float64), gain)
    fits = {}
    for w in weights:  # candidates
        mass_q = None
        if Q is not None:
            q = Prior(Q, w, 0.0).probs(uniform)[cell // K, cell % K]
            mass_q = np.einsum("iv,va->ia", np.bincount(pair, weights=q, minlength=n * n_levels)
                               .reshape(n, n_levels), gain)
        for floor in (floors if w > 0 else (FLOOR,)):
            fits[float(w), floor] = _best_accuracy(mass_q, ones, base_ll, floor, K, accuracies, lead, curve=curve)
    return fits, accuracies


def weaker_than_an_annotator(ann, Q, multi, *, z=WEAKER_Z):
    """Whether the examples with two labels or more (``multi``) show the classifier weaker than
    an annotator: its most probable class agrees with their labels less often than two labels
    of one example agree with each other, by more than ``z`` standard errors.

    Under one accuracy per source (``c`` for the classifier, ``a`` for an annotator, wrong
    labels spread evenly, ``a > 1 / K``) the first rate is ``c a + (1 - c)(1 - a) / (K - 1)``
    and the second ``a ** 2 + (1 - a) ** 2 / (K - 1)``: the first is below the second exactly
    when ``c < a``. This needs the classifier's errors independent of the labels' given the
    true class (out-of-fold predictions): a classifier that saw its own example's labels agrees
    with them more than its accuracy says, and can pass. Neither rate depends on the classifier's
    weight, and neither needs the truth. Tied most probable classes share a label's credit
    evenly, so the answer does not depend on the order of the classes. Both are ratios over the
    examples (labels agreeing with the classifier over labels; agreeing pairs over pairs); the
    standard error of their difference is that of the mean of each example's linearised
    contribution (the delta method), so that an example's labels count as one draw.
    """
    if Q is None or np.count_nonzero(multi) < 2:
        return False
    votes = label_counts(ann, dtype=np.float64)[multi]  # (examples with several labels, K)
    q = Q[multi]
    top = q == q.max(axis=1, keepdims=True)  # the most probable classes
    n = row_sum(votes)
    agree = row_sum(votes * top) / np.count_nonzero(top, axis=1)  # ties share the credit
    pairs_agree = row_sum(votes * (votes - 1.0)) / 2.0
    pairs = n * (n - 1.0) / 2.0
    r_clf, r_pairs = agree.sum() / n.sum(), pairs_agree.sum() / pairs.sum()
    contribution = (agree - r_clf * n) / n.mean() - (pairs_agree - r_pairs * pairs) / pairs.mean()
    se = np.std(contribution, ddof=1) / np.sqrt(n.size)
    return bool(r_clf - r_pairs < -z * se)


def profile_weight(ann, Q, rng, *, weights=WEIGHTS, floors=(FLOOR,), max_select=MAX_SELECT, floor_test=False):
    """The classifier weight (and floor) of the best crowd-wide one-coin fit, and the crowd's
    accuracy there (:func:`crowd_accuracy`).

    Maximises the marginal likelihood ``sum_i log sum_k prior_w[i, k] *
    prod_j lik_a(L[i, j] | k)`` of all labels over a grid of ``(w, a)``, with
    one accuracy ``a`` for the whole crowd: two parameters, which single labels
    identify through how agreement with the classifier grows with its
    confidence (at most ``max_select`` examples, drawn at random, are used).
    The weight stays 1 unless another one is better by a likelihood-ratio test
    (:data:`LR_MARGIN`): with a crowd near chance, a weaker weight and a better
    crowd explain single labels about as well, and the classifier's own
    probabilities are the better bet. Except when at weight 1 the crowd's
    accuracy is the lowest candidate and at least half the examples have two
    labels or more: then the weight of the highest likelihood. Weights above 1
    are candidates only when at least :data:`MIN_MULTI` examples have two
    labels or more, and those examples do not show the classifier weaker than
    an annotator (:func:`weaker_than_an_annotator`). Each of ``floors`` is tried with each
    weight (one weight given: :data:`FLOOR` only). ``floor_test`` (a classifier without
    exact zeros): the floors other than :data:`FLOOR` are tried only when at least
    :data:`MIN_MULTI` of the examples used have two labels or more, and a candidate with a
    floor replaces the classifier as it is only if better by :data:`LR_MARGIN_FLOOR` (two
    parameters differ from it, and six times as many candidates compete); if it is not, the
    best candidate without a floor is tested as usual.
    ``Q`` None: the accuracy alone (weight 0). Returns ``(weight, floor,
    crowd accuracy)``; the crowd accuracy is :func:`crowd_accuracy` at the chosen candidate.
    """
    n, K = ann.n_examples, ann.n_classes
    if Q is None:
        weights = (0.0,)
    ann, Q, n = _at_most(ann, Q, max_select, rng)
    multi = np.bincount(ann.example, minlength=n) >= 2
    if len(weights) > 1 and (np.count_nonzero(multi) < MIN_MULTI
                             or weaker_than_an_annotator(ann, Q, multi)):
        # sharpening is told only by examples with several labels: with single labels, a
        # classifier that learned the labels (their errors included) looks under-confident too;
        # and a weight above 1 lets the classifier outvote a label, which it must not do where
        # those examples show it weaker than an annotator
        weights = tuple(w for w in weights if w <= 1.0) or (1.0,)
    floors = floors if len(weights) > 1 else (FLOOR,)
    if floor_test and np.count_nonzero(multi) < MIN_MULTI:
        floors = (FLOOR,)
    fits, accuracies = _candidate_fits(ann, Q, n, K, weights, floors)
    best = max(fits, key=lambda key: fits[key][0])
    face = (1.0, FLOOR)  # the classifier as it is: kept unless the labels reject it, and unless
    # taking it at its word puts the crowd at chance (its accuracy on the lowest candidate) while
    # at least half the examples have several labels, whose agreement tells of the crowd without
    # the classifier
    at_chance = face in fits and fits[face][1] <= accuracies[0] and np.mean(multi) >= 0.5
    if (floor_test and best[1] != FLOOR and face in fits and not at_chance
            and fits[best][0] - fits[face][0] <= LR_MARGIN_FLOOR):
        # a floor that does not pass its test leaves the weights alone to be tested
        best = max((key for key in fits if key[1] == FLOOR), key=lambda key: fits[key][0])
    if face in fits and fits[best][0] - fits[face][0] <= LR_MARGIN and not at_chance:
        best = face
    return best[0], best[1], crowd_accuracy(ann, Q, best[0], best[1])


def crowd_accuracy(ann, Q, w, floor):
    """The crowd's accuracy under the crowd-wide one-coin model with classifier weight ``w``
    and ``floor``: its posterior mean under a uniform prior from chance to the highest
    candidate, or that highest accuracy when the labels tell none from another (the label at
    its word).

    Not the best fit: where the labels hardly tell the accuracy (one label each and a
    classifier near chance, whose agreement with the labels barely grows with its
    confidence), the likelihood is nearly flat and its best is wherever noise puts it, at the
    lowest candidate on some draws, and a crowd put there hands every example to the
    classifier. The mean is taken over :data:`_MEAN_STEPS`, then over as many accuracies
    between the neighbours of those within :data:`MEAN_SPAN` of the best (the likelihood is
    single-peaked in the accuracy, so nothing of weight is left out).
    """
    n, K = ann.n_examples, ann.n_classes

    def curve(steps):  # log-likelihoods at the accuracies ``steps`` of the way from chance to 1
        lls, accuracies = _candidate_fits(ann, Q, n, K, (w,), (floor,), steps=steps, curve=True)
        return next(iter(lls.values())), accuracies

    ll, accuracies = curve(_MEAN_STEPS)
    if np.all(_tied_with_best(ll)):
        return float(accuracies[-1])
    kept = np.flatnonzero(ll >= ll.max() - MEAN_SPAN)
    lo, hi = max(kept[0] - 1, 0), min(kept[-1] + 1, ll.size - 1)
    ll, accuracies = curve(np.linspace(_MEAN_STEPS[lo], _MEAN_STEPS[hi], _MEAN_STEPS.size))
    p = np.exp(ll - ll.max())
    p[[0, -1]] *= 0.5  # the trapezoid rule: a likelihood highest at chance is not overweighted there
    return float(p @ accuracies / p.sum())


#: Level of the test of :func:`unequal_classes`.
CLASS_TEST_LEVEL = 0.05


def unequal_classes(ann, a, rng, *, level=CLASS_TEST_LEVEL, max_select=MAX_SELECT):
    """Whether the labels show unequal class frequencies.

    A score test (Rao), under the crowd-wide one-coin model of accuracy ``a``
    (:func:`profile_weight`), of equal class frequencies against any others: with
    ``r[i]`` example i's posterior under equal frequencies, the score of the
    frequencies is ``g = sum_i (K r[i] - 1)``. Under equal frequencies the model is the
    same for every class, so the information is a multiple of ``I - 1 1' / K``, whose
    trace is estimated by ``sum_i |K r[i] - 1|^2``: the statistic ``(K - 1) |g|^2 /
    sum_i |K r[i] - 1|^2`` is chi-square with ``K - 1`` degrees of freedom under equal
    frequencies (with one label per example it is Pearson's chi-square of the label
    counts ``n_l``, ``sum_l (n_l - n / K)^2 / (n / K)``, whatever ``a``; the observed
    information instead would divide by the counts themselves, and a class without a
    vote, common with many classes and few labels, would reject equal frequencies
    whatever the other counts). The frequencies are fitted only when the
    test rejects equal ones: the labels tell them through ``label share = b + (a - b)
    * frequency`` (``b`` the chance of a given wrong label), so a crowd near chance
    multiplies the sampling noise of its label shares by ``1 / (a - b)`` (ten times
    with two classes and ``a = 0.55``), and fitted frequencies of that noise tip every
    close vote toward one class. At most ``max_select`` examples, drawn at random,
    are used.
    """
    from scipy.special import chdtri  # chi-square quantile (lighter to import than scipy.stats)

    n, K = ann.n_examples, ann.n_classes
    if K < 2 or n == 0 or ann.n_annotations == 0:
        return False
    ann, _, _ = _at_most(ann, None, max_select, rng)
    b = (1.0 - a) / max(K - 1, 1)
    c = label_counts(ann, dtype=np.float64)  # the votes, then K r - 1
    c *= np.log(a / b)
    c -= row_max(c)[:, None]
    np.exp(c, out=c)
    c *= (K / row_sum(c))[:, None]
    c -= 1.0
    score = column_sum(c)
    trace = float(np.einsum("ik,ik->", c, c))  # of the information, K - 1 equal eigenvalues
    if not trace > 0.0:  # no vote tells the classes apart (a = 1 / K)
        return False
    stat = (K - 1) * float(score @ score) / trace
    return bool(stat > chdtri(K - 1, level))


#: Candidate strengths of the pull toward the crowd's accuracy (pseudo-labels per
#: annotator; the last is one accuracy for the whole crowd).
STRENGTHS = (2.0, 8.0, 32.0, 128.0, 1e6)
#: Folds of the cross-validation that chooses the strength.
N_FOLDS = 2
#: The rows tried at each finite strength beside full ones (:func:`choose_strength`): one-coin
#: (an accuracy of the annotator's own, wrong labels spread evenly) and guessing rows
#: (:func:`spam_rows`: a chance of knowing the answer, and guesses of the annotator's own).
ROW_KINDS = ("one-coin", "spam")


def row_shrinkage(shrinkage, strength):
    """The confusion rows' pseudo-labels beside an accuracy pull of ``strength``: their own,
    except for one accuracy for the whole crowd (the last of :data:`STRENGTHS`), which is
    one-coin all through."""
    return max(shrinkage, strength) if strength >= STRENGTHS[-1] else shrinkage


def held_out_loglik(ann, Q, w, shrinkage, strength, test, a_init, floor=None, fit_classes=True, spam=False,
                    cache=None):
    """Log-likelihood of the labels of examples ``test`` (a mask) under the model fitted,
    with ``strength`` (and fitted class frequencies, or equal ones when ``fit_classes`` is
    False), on the other examples (without copies). ``cache``: a dict kept for one fold
    across calls, holding what does not depend on the candidate (the two halves and their
    one-hot matrices)."""
    c = {} if cache is None else cache
    if not c:
        c["train"] = train = ann.subset_examples(~test)
        c["Q_train"], c["Q_test"] = (None, None) if Q is None else (Q[~test], Q[test])
        c["design"] = design(train, crowd_only=Q is None or w == 0)
        c["held"] = one_hot(ann.subset_examples(test))
    _, logC, _, log_pi, *_ = em(c["train"], c["Q_train"], w, row_shrinkage(shrinkage, strength), strength,
                                a_init=a_init, floor=floor, max_iter=30, fit_classes=fit_classes, spam=spam,
                                design_=c["design"])
    J = _log_evidence(c["held"], logC)
    if Q is None:
        J += log_pi
        return _normalise(J)
    return _normalise(J, Prior(c["Q_test"], w, floor).probs(log_pi))


def choose_strength(ann, Q, w, shrinkage, rng, *, a_init, floor=None, strengths=STRENGTHS,
                    max_select=MAX_SELECT_STRENGTH, fit_classes=True, own_rows=True):
    """The strength of :data:`STRENGTHS`, and the kind of each annotator's confusion rows,
    whose model best predicts held-out labels, and whether to fit the class frequencies;
    returns ``((strength, rows), fit_classes)``, ``rows`` one of ``"full"`` and
    :data:`ROW_KINDS`.

    Two-fold cross-validation over examples (at most ``max_select`` of them): an
    annotator's own parameters are worth fitting only as far as they predict
    their labels on other examples; when they do not (few labels each, or single
    labels and a weak classifier), one accuracy for the crowd wins. Between the two, each
    finite strength is tried with full confusion rows and with two shapes of fewer
    parameters: one-coin rows (an accuracy of the annotator's own, wrong labels spread
    evenly), for a crowd of very unequal annotators, most with a handful of labels, too few
    per annotator for a full matrix but too spread for one accuracy; and guessing rows
    (:func:`spam_rows`: a chance of knowing the answer and guesses of the annotator's own),
    for annotators who, when they do not know, favour some classes (one who always answers
    the first class is the extreme), which one-coin rows cannot say. With ``fit_classes``
    (the labels reject equal class frequencies, :func:`unequal_classes`), the candidates are
    scored with equal frequencies, and the chosen one is fitted once more with fitted
    frequencies on the same folds, kept only if they predict the held-out labels better:
    a difference in the labels' class shares that is real in the population shows in both
    halves of the examples, one that is noise in this sample does not. When they are kept,
    the candidates are scored again with fitted frequencies and the best of those chosen.
    The frequencies are first tested on rows chosen without them because class frequencies
    can stand in for an annotator bias that a candidate's rows cannot say: with one-coin
    rows, annotators who always answer the first class were explained by frequencies that
    put every example in that class, and that candidate, scored with fitted frequencies,
    could win. Rows chosen under equal frequencies can in turn stand in for unequal classes
    (full rows take a frequent class as every annotator's bias toward it), so once the
    frequencies are shown the rows are chosen with them. ``own_rows``
    False (a shrinkage given by the user): full rows only. Not checked (the
    test's answer kept) with fewer than :data:`MIN_PROFILE` examples, nor for a classifier
    weight ``w >= 1``, whose prior the frequencies play no part in (both fits predict the
    held-out labels alike). Both training halves pull their annotators toward ``a_init``, the
    crowd's accuracy fitted on all the examples (:func:`crowd_accuracy`), which has seen the
    held-out labels: one number fitted on every label. Each half's own was tried: on a crowd
    whose labels hardly tell the accuracy it tipped the choice, on noise, to annotators
    almost free of the crowd.
    """
    n = ann.n_examples
    if n < MIN_PROFILE:
        return (ACCURACY_PRIOR, "full"), fit_classes
    ann, Q, n = _at_most(ann, Q, max_select, rng)
    fold = rng.permutation(n) % N_FOLDS

    caches = [{} for _ in range(N_FOLDS)]  # each fold's halves, made once for every candidate

    def score(s, classes, rows="full"):
        sh = max(shrinkage, STRENGTHS[-1]) if rows == "one-coin" else shrinkage
        return sum(held_out_loglik(ann, Q, w, sh, s, fold == f, a_init, floor, classes, rows == "spam", caches[f])
                   for f in range(N_FOLDS))  # loop over folds

    kinds = ROW_KINDS if own_rows else ()
    cands = [(s, "full") for s in strengths] + [(s, r) for r in kinds for s in strengths if s < STRENGTHS[-1]]
    test_classes = fit_classes and (Q is None or w < 1.0)  # (with a weight >= 1 they play no part in the prior)
    first = fit_classes and not test_classes
    scores = [score(s, first, r) for s, r in cands]  # loop over candidate strengths
    best = int(np.argmax(scores))
    strength, rows = float(cands[best][0]), cands[best][1]
    if test_classes:
        fitted = score(strength, True, rows)
        fit_classes = bool(fitted > scores[best])
        if fit_classes:  # unequal classes, shown on a fit whose rows were chosen without them:
            # the rows are chosen again with fitted frequencies (loop over candidate strengths)
            scores = [fitted if i == best else score(s, True, r) for i, (s, r) in enumerate(cands)]
            best = int(np.argmax(scores))
            strength, rows = float(cands[best][0]), cands[best][1]
    return (strength, rows), fit_classes


def share_right(ann, post):
    """Each annotator's expected share of right labels under the posterior ``post``
    (``ACCURACY_PRIOR`` pseudo-labels at the crowd's share; NaN without labels).

    What a team lead reads as the annotator's accuracy: unlike the model's own
    accuracy parameter, it is not pulled toward the crowd beyond those few
    pseudo-labels, so an annotator far from the crowd is reported as such.
    """
    M = ann.n_annotators
    right = post[ann.example, ann.label]
    n_j = np.bincount(ann.annotator, minlength=M).astype(np.float64)
    c_j = np.bincount(ann.annotator, weights=right, minlength=M)
    pooled = c_j.sum() / max(n_j.sum(), 1.0)
    return np.where(n_j > 0, (c_j + ACCURACY_PRIOR * pooled) / (n_j + ACCURACY_PRIOR), np.nan)


def fit(ann, P=None, *, shrinkage=None, weight=None, rng=None, copy="auto", remove_shares=False):
    """Fit the annotator-confusion model.

    ``P``: (E, N, K) probabilities or None (crowd only). ``weight``: the
    classifier's weight, or None to choose it (:func:`profile_weight`).
    ``copy``: the share of examples whose classifier repeats their labels (:func:`em`; "auto":
    fitted). ``remove_shares``: the classifier's probabilities enter over its class shares
    (:func:`class_shares`, :func:`without_shares`). Returns a dict with ``post`` (N, K),
    ``shares`` (K,: the shares divided out, or None), ``confusion`` (M, K, K),
    ``accuracy`` (M,) (:func:`share_right`; NaN for annotators without labels), ``class_prior``
    (K,), ``log_pi``, ``weight``, ``floor``, ``crowd_accuracy`` (:func:`crowd_accuracy` at the
    weight), ``strength``, ``rows`` (the kind of confusion rows, :func:`choose_strength`),
    ``n_iter``, ``fit_classes`` (whether the class frequencies were fitted:
    :func:`unequal_classes`, :func:`choose_strength`) and ``copy_share``.
    """
    K = ann.n_classes
    if K < 2:  # one class: every example is of it, every label right (nothing to fit)
        post = np.ones((ann.n_examples, K))
        return {"post": post, "confusion": np.ones((ann.n_annotators, K, K)), "accuracy": share_right(ann, post),
                "class_prior": np.ones(K), "weight": 0.0 if P is None else 1.0, "crowd_accuracy": 1.0,
                "n_iter": 0, "log_pi": np.zeros(K), "strength": ACCURACY_PRIOR, "rows": "full", "floor": FLOOR,
                "fit_classes": False, "copy_share": 0.0, "shares": None}
    s = default_shrinkage(K) if shrinkage is None else float(shrinkage)
    Q = None if P is None else classifier_probs(P)
    shares = class_shares(P) if remove_shares and P is not None else None
    if shares is not None:
        Q = without_shares(Q, shares)
    rng = np.random.default_rng(0) if rng is None else rng
    fixed = (0.0,) if Q is None else None if weight is None else (float(weight),)
    # the floor is fitted for a classifier that rules classes out (exact zeros, as trees and
    # nearest neighbours give), which no weight can change, and for any classifier once
    # examples with several labels tell the crowd's accuracy apart from how far the
    # classifier's confidence is shrunk toward chance (single labels tell only their product:
    # an over-confident classifier of a good crowd looks like a calibrated one of a poorer
    # crowd); for the latter under a test of two parameters (``floor_test``)
    hard = P is not None and np.count_nonzero((P == 0).any(axis=2)) >= 0.01 * P.shape[1]
    w, floor, a_crowd = profile_weight(ann, Q, rng, floors=FLOORS, floor_test=not hard,
                                              **({} if fixed is None else {"weights": fixed}))
    (strength, rows), fit_classes = choose_strength(ann, Q, w, s, rng, a_init=a_crowd, floor=floor,
                                                    fit_classes=unequal_classes(ann, a_crowd, rng),
                                                    own_rows=shrinkage is None)
    if rows == "one-coin":
        s = max(s, STRENGTHS[-1])
    if Q is not None and w == 0:  # the classifier plays no part in the prior (one row): of its
        # probabilities only their shape is used, which a view of one number keeps
        Q = np.broadcast_to(np.float64(1.0), Q.shape)
    post, logC, acc, log_pi, _, it, share = em(ann, Q, w, row_shrinkage(s, strength), strength,
                                               a_init=a_crowd, floor=floor, overwrite_Q=True,
                                               fit_classes=fit_classes, copy=copy, spam=rows == "spam")
    del Q
    return {"post": post, "confusion": np.exp(logC), "accuracy": share_right(ann, post),
            "class_prior": np.exp(log_pi), "weight": w, "crowd_accuracy": a_crowd, "n_iter": it,
            "log_pi": log_pi, "strength": strength, "rows": rows, "floor": floor, "fit_classes": fit_classes,
            "copy_share": share, "shares": shares}


def pool_scores(U, weight, log_pi, floor=None, shares=None):
    """Scores of unlabeled rows (E, n, K): the largest class probability of their prior
    (``shares``: the classifier's class shares divided out in the fit, or None).

    The largest entry of ``R ** w`` (``R``: each row over its largest entry) is 1, and the
    class frequencies' factor keeps it largest only for a weight >= 1; the prior's largest
    probability is then ``(1 - floor) / sum_k R_k ** w + floor / K``: no ``exp`` or ``log``
    for the weights of :data:`WEIGHTS` that are quarters.
    """
    floor = FLOOR if floor is None else floor
    R = classifier_probs(U) if shares is None else without_shares(classifier_probs(U), shares)
    if weight < 1.0:
        q = Prior(R, weight, floor, overwrite=True).probs(log_pi)
        return row_max(q)
    R /= row_max(R)[:, None]
    return (1.0 - floor) / row_sum(power(R, weight) if weight != 1.0 else R) + floor / log_pi.size
