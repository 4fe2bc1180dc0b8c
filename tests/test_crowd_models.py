"""The crowd models as objects: CrowdLab, AnnotatorConfusion, MajorityVote.

Numbers are checked against hand computations, a loop-by-loop implementation of the
annotator-confusion model's equations, cleanlab (CROWDLAB) and the truth of simulated
crowds.
"""

import numpy as np
import pytest

from skactivelab import AnnotatorConfusion, CrowdLab, MajorityVote
from skactivelab import _confusion
from skactivelab._annotations import check_annotations


def _crowd(n, K, acc, labels_per_example, seed, n_annotators=30, adversaries=0):
    """A simulated crowd: wide labels (NaN = no label), truth, per-annotator accuracies."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, K, n)
    a = np.clip(rng.normal(acc, 0.05, n_annotators), 1.0 / K, 0.99)
    L = np.full((n, n_annotators), np.nan)
    for i in range(n):  # the test's own simple simulator
        who = rng.choice(n_annotators, labels_per_example, replace=False)
        for j in who:
            if j < adversaries:
                L[i, j] = (truth[i] + 1) % K
            elif rng.random() < a[j]:
                L[i, j] = truth[i]
            else:
                L[i, j] = (truth[i] + rng.integers(1, K)) % K
    return L, truth


def _classifier(truth, K, accuracy_signal, seed, sharpen=1.0):
    """Calibrated Gaussian-logit probabilities: larger signal, stronger classifier
    (``sharpen > 1``: the same accuracy, over-confident)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((truth.size, K))
    z[np.arange(truth.size), truth] += accuracy_signal
    s = sharpen * accuracy_signal * z
    p = np.exp(s - s.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _majority(L, K):
    votes = np.stack([(L == k).sum(axis=1) for k in range(K)], axis=1)
    return votes


# ----------------------------------------------------------------------------- MajorityVote
def test_majority_vote_by_hand():
    L = np.array([[0, 0, 1, np.nan],
                  [2, 1, 2, 2],
                  [np.nan, 1, np.nan, np.nan],
                  [0, 2, 2, np.nan]])
    m = MajorityVote(random_state=0).fit(L, classes=[0, 1, 2])
    assert m.consensus_label_.tolist() == [0, 2, 1, 2]
    # posterior: (votes + 1) / (n + K)
    np.testing.assert_allclose(m.posterior_[0], [3 / 6, 2 / 6, 1 / 6])
    np.testing.assert_allclose(m.posterior_[1], [1 / 7, 2 / 7, 4 / 7])
    np.testing.assert_allclose(m.posterior_[2], [1 / 4, 2 / 4, 1 / 4])
    np.testing.assert_allclose(m.consensus_confidence_, [3 / 6, 4 / 7, 2 / 4, 3 / 6])
    # agreement with the majority of the others, on examples with 2+ labels:
    # annotator 0: ex0 others {0,1} tie -> 1/2 (0 is one of two tied); ex1 others {1,2,2} -> agree;
    #   ex3 others {2,2} -> disagree  => (0.5 + 1 + 0) / 3
    # annotator 1 (labels 0, 1, 1, 2): ex0 others {0,1}: tie, 0 tied -> 1/2; ex1 others {2,2,2}: no;
    #   ex2 has one label (left out); ex3 others {0,2}: tie, 2 tied -> 1/2
    # annotator 2: ex0 others {0,0}: no; ex1 others {2,1,2}: yes; ex3 others {0,2}: tie -> 1/2
    # annotator 3: ex1 others {2,1,2}: yes
    np.testing.assert_allclose(m.annotator_accuracy_, [1.5 / 3, 1.0 / 3, 1.5 / 3, 1.0])
    assert m.n_annotations_.tolist() == [3, 4, 1, 3]


def test_majority_vote_ties_go_to_the_classifier_first():
    L = np.array([[0, 1], [0, 1], [0, 1], [1, 0]])
    P = np.array([[0.05, 0.95]] * 3 + [[0.95, 0.05]])
    assert MajorityVote(random_state=0).fit(L, P).consensus_label_.tolist() == [1, 1, 1, 0]


def test_majority_vote_ties_follow_random_state():
    L = np.array([[0, 1]] * 40, dtype=float)
    a = MajorityVote(random_state=1).fit(L).consensus_label_
    b = MajorityVote(random_state=1).fit(L).consensus_label_
    np.testing.assert_array_equal(a, b)
    assert 0 < a.sum() < 40  # ties broken both ways, not always toward the first class


# ---------------------------------------------------------------------- AnnotatorConfusion
def _naive_em(L, P, w, shrinkage, strength, a_init, n_iter, copy=0.0):
    """The model's EM written out with loops, straight from its equations (``copy``: the share
    of examples whose classifier repeats their labels' majority; "auto": fitted)."""
    N, M = L.shape
    K = P.shape[1]
    F, TINY = _confusion.FLOOR, _confusion.TINY
    obs = [(i, j, int(L[i, j])) for i in range(N) for j in range(M) if not np.isnan(L[i, j])]

    def prior(log_pi):
        out = np.empty((N, K))
        for i in range(N):
            z = w * np.log(np.maximum(P[i], TINY)) + (1 - min(w, 1)) * log_pi
            q = np.exp(z - z.max())
            q /= q.sum()
            out[i] = (1 - F) * q + F / K
        return out

    # start: the crowd-wide one-coin model of accuracy a_init, all annotators alike
    post = prior(np.full(K, -np.log(K)))
    for i, j, lab in obs:
        post[i] *= np.where(np.arange(K) == lab, a_init, (1 - a_init) / (K - 1))
    post /= post.sum(axis=1, keepdims=True)

    def m_step(post):
        counts = np.zeros((M, K, K))
        for i, j, lab in obs:
            counts[j, :, lab] += post[i]
        n_j = counts.sum(axis=(1, 2))
        correct = np.array([np.trace(counts[j]) for j in range(M)])
        C = np.empty((M, K, K))
        for j in range(M):  # each accuracy pulled toward the crowd's, a_init (not refitted)
            acc = (correct[j] + strength * a_init) / (n_j[j] + strength)
            a = min(max(acc, 1 / K), 1 - 1e-6)
            one_coin = np.full((K, K), (1 - a) / (K - 1))
            np.fill_diagonal(one_coin, a)
            C[j] = counts[j] + shrinkage * one_coin
            C[j] /= C[j].sum(axis=1, keepdims=True)
        pi = (post.sum(axis=0) + 1) / (N + K)
        return C, np.log(pi)

    # what a classifier trained on the majority vote repeats: the majority class (ties shared)
    votes = _majority(L, K).astype(float)
    top = [np.flatnonzero(votes[i] == votes[i].max()) for i in range(N)]
    n_labels = (~np.isnan(L)).sum(axis=1)
    multi = n_labels >= 2

    def e_step(C, log_pi, share):
        pr = prior(log_pi)
        marginal = pr.mean(axis=0)
        lik = np.ones((N, K))
        for i, j, lab in obs:
            lik[i] *= C[j, :, lab]
        post, ratio, ll = np.empty((N, K)), np.empty(N), 0.0
        for i in range(N):
            kappa = np.mean([pr[i, k] / marginal[k] for k in top[i]])  # the evidence at the copied class
            independent = (1 - share) * lik[i] * pr[i]
            copied = share * kappa * lik[i] * marginal
            post[i] = (independent + copied) / (independent + copied).sum()
            ratio[i] = (kappa * lik[i] * marginal).sum() / (lik[i] * pr[i]).sum()
            ll += np.log((independent + copied).sum())
        return post, ratio, ll

    def best(ratio):  # the share that maximises the likelihood of the examples with two labels or more
        from scipy.optimize import brentq
        r = ratio[multi]
        slope = lambda s: np.sum((r - 1) / (1 - s + s * r))  # noqa: E731
        if slope(0.0) <= 0:
            return 0.0
        return _confusion.COPY_MAX if slope(_confusion.COPY_MAX) >= 0 else brentq(slope, 0.0, 1.0, xtol=1e-15)

    share = 0.0 if copy == "auto" else copy
    C, log_pi = m_step(post)
    for _ in range(n_iter):
        post, _, ll = e_step(C, log_pi, share)
        C, log_pi = m_step(post)
    if copy != "auto":
        return post, C, share
    without = (post, C, 0.0)
    share = best(e_step(C, log_pi, 0.0)[1])  # at the parameters of the model without copies
    if share == 0.0:
        return without
    ll_without = ll
    for _ in range(n_iter):
        post, ratio, ll = e_step(C, log_pi, share)
        share = best(ratio)
        C, log_pi = m_step(post)
    return (post, C, share) if ll - ll_without > _confusion.LR_MARGIN else without


#: The E-step takes its ``exp`` in single precision (relative error about 1e-7 per step):
#: the loops below, in double precision, agree to this.
E_STEP_ATOL = 1e-6

@pytest.mark.parametrize("w", [0.0, 0.5, 1.0])
def test_confusion_em_matches_its_equations(w):
    K = 3
    L, truth = _crowd(60, K, 0.7, 2, seed=3, n_annotators=6)
    P = _classifier(truth, K, 1.0, seed=4)
    P[:5, 2] = 0.0  # exact zeros stay possible
    P[:5] /= P[:5].sum(axis=1, keepdims=True)
    ann = check_annotations(L, classes=np.arange(K), n_classes=K)
    post, logC, *_ = _confusion.em(ann, _confusion.classifier_probs(P[None]), w, 5.0, 3.0, 0.75,
                                   max_iter=25, tol=0.0)
    want_post, want_C, _ = _naive_em(L, P, w, 5.0, 3.0, 0.75, n_iter=25)
    np.testing.assert_allclose(post, want_post, atol=E_STEP_ATOL)
    np.testing.assert_allclose(np.exp(logC), want_C, atol=E_STEP_ATOL)


@pytest.mark.parametrize("w, copy", [(1.0, 0.3), (0.5, 0.8), (1.0, "auto"), (0.5, "auto")])
def test_confusion_em_with_a_copying_classifier_matches_its_equations(w, copy):
    """The mixture ``(1 - s) * prior[i, z] + s * kappa[i] * marginal[z]`` (``kappa``: the
    classifier's evidence at the labels' majority class), with the share ``s`` given; or fitted:
    the model without copies first, then, if the best share at its parameters raises the
    likelihood of the examples with two labels or more by more than ``LR_MARGIN``, EM with the
    share as the mean responsibility of those examples, written out with loops."""
    K = 3
    L, truth = _crowd(80, K, 0.6, 3, seed=3, n_annotators=6, adversaries=1)
    L[:10, :] = np.nan  # ten examples with one label each: not counted in the share
    L[np.arange(10), np.arange(10) % 6] = truth[:10]
    votes = _majority(L, K) + np.random.default_rng(0).random((80, K)) * 0.1
    P = _classifier(votes.argmax(axis=1), K, 1.5, seed=4)  # around the majority vote: a copy
    ann = check_annotations(L, classes=np.arange(K), n_classes=K)
    post, logC, *_, share = _confusion.em(ann, _confusion.classifier_probs(P[None]), w, 5.0, 3.0, 0.75,
                                          max_iter=25, tol=0.0, copy=copy)
    want_post, want_C, want_share = _naive_em(L, P, w, 5.0, 3.0, 0.75, n_iter=25, copy=copy)
    np.testing.assert_allclose(post, want_post, atol=E_STEP_ATOL)
    np.testing.assert_allclose(np.exp(logC), want_C, atol=E_STEP_ATOL)
    assert share == pytest.approx(want_share, abs=E_STEP_ATOL)
    if copy == "auto" and w == 1.0:
        assert 0.0 < share < 1.0  # the copies are recognised


def test_copy_posterior_by_hand():
    """One example, two classes, labels (0, 1) from annotators of accuracy 0.8 and 0.6; prior
    (0.9, 0.1), the prior's mean (0.5, 0.5), half of the classifiers copy. The majority is a tie,
    so kappa = (0.9 / 0.5 + 0.1 / 0.5) / 2 = 1; class 0: 0.8 * 0.4 = 0.32, class 1: 0.2 * 0.6 = 0.12.
    Independent: 0.32 * 0.9 = 0.288 and 0.12 * 0.1 = 0.012; copied: 0.32 * 0.5 = 0.16 and 0.12 * 0.5
    = 0.06. Joint: 0.5 * (0.288 + 0.16) = 0.224 and 0.5 * (0.012 + 0.06) = 0.036."""
    J = np.log(np.array([[0.32, 0.12]]))
    prior = np.array([[0.9, 0.1]])
    target = np.array([[0.5, 0.5]])
    ll, ratio = _confusion._normalise_copy(J, prior, np.array([0.5, 0.5]), target, 0.5)
    np.testing.assert_allclose(J, [[0.224 / 0.26, 0.036 / 0.26]], rtol=1e-12)
    assert ll == pytest.approx(np.log(0.26), rel=1e-12)
    assert ratio[0] == pytest.approx(0.22 / 0.3, rel=1e-12)  # as a copy over without copies


def test_best_share_maximises_its_likelihood():
    """The share maximising ``sum_i log(1 - s + s * r_i)``, against a fine grid; 0 when copies
    explain nothing better, the largest share when they explain everything better."""
    r = np.array([3.0, 0.2, 1.5, 0.5, 2.0])
    s, gain = _confusion.best_share(r)
    grid = np.linspace(0, 1, 200001)[:-1]
    values = np.log1p(grid[:, None] * (r - 1)).sum(axis=1)
    assert s == pytest.approx(grid[np.argmax(values)], abs=1e-5)
    assert gain == pytest.approx(values.max(), abs=1e-9)
    assert _confusion.best_share(np.array([0.5, 1.0, 0.9])) == (0.0, 0.0)
    assert _confusion.best_share(np.array([2.0, 1.5, 3.0]))[0] == _confusion.COPY_MAX


@pytest.mark.parametrize("w", list(_confusion.WEIGHTS) + [0.1, 0.3, 4.0])
def test_prior_and_pool_scores_match_their_formula(w):
    """The prior ``(1 - F) * q + F / K`` with ``q`` the row-normalised ``P ** w * pi ** (1 -
    min(w, 1))`` (exact zeros as TINY), and an unlabeled row's score, its largest entry:
    written out with ``np.power`` and ``np.exp``, against the fast paths (products and square
    roots for the quarter weights, one broadcast row for a weight of 0)."""
    rng = np.random.default_rng(3)
    K, F, TINY = 4, 0.05, _confusion.TINY
    P = rng.dirichlet(np.full(K, 0.5), size=30)
    P[:4, 1] = 0.0
    P[:4] /= P[:4].sum(axis=1, keepdims=True)
    pi = np.array([0.4, 0.3, 0.2, 0.1])
    q = np.power(np.maximum(P, TINY), w) * np.power(pi, 1 - min(w, 1))
    q /= q.sum(axis=1, keepdims=True)
    want = (1 - F) * q + F / K
    P_before = P.copy()
    got = _confusion.Prior(_confusion.classifier_probs(P[None]), w, F).probs(np.log(pi))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(_confusion.pool_scores(P[None], w, np.log(pi), F), want.max(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(P, P_before)  # the caller's probabilities are untouched


def test_exact_zero_class_wins_with_enough_votes():
    """A class the classifier calls impossible (probability exactly 0) is still the consensus
    when 20 annotators choose it, and that example is not scored as settled."""
    K = 3
    L, truth = _crowd(300, K, 0.75, 2, seed=0, n_annotators=40)
    P = _classifier(truth, K, 1.5, seed=1)
    L[0] = np.nan
    L[0, :20] = 2
    P[0] = [0.6, 0.4, 0.0]
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert m.consensus_label_[0] == 2
    assert m.posterior_[0, 2] > 0.99
    # one annotator against the classifier's zero: the label is still possible
    L[1] = np.nan
    L[1, 0] = 2
    P[1] = [0.5, 0.5, 0.0]
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert 0 < m.posterior_[1, 2] < 1


def test_weak_classifier_one_label_each_is_not_worse_than_the_labels():
    """Strong crowd, weak classifier, one label per example: not below majority vote."""
    K = 5
    accs = []
    for seed in range(3):
        L, truth = _crowd(1500, K, 0.8, 1, seed=seed)
        P = _classifier(truth, K, 0.6, seed=seed + 10)
        m = AnnotatorConfusion(random_state=0).fit(L, P)
        mv = np.nanmax(np.where(np.isnan(L), -1, L), axis=1)  # the single label
        accs.append((np.mean(m.consensus_label_ == truth), np.mean(mv == truth)))
    ac, mv = np.mean(accs, axis=0)
    assert ac >= mv - 0.005, (ac, mv)


def test_weak_crowd_is_not_worse_than_the_classifier():
    """Near-chance crowd, strong classifier: not below the classifier alone."""
    K = 5
    L, truth = _crowd(1500, K, 0.3, 3, seed=5)
    P = _classifier(truth, K, 2.0, seed=6)
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert np.mean(m.consensus_label_ == truth) >= np.mean(P.argmax(axis=1) == truth) - 0.005


def test_over_confident_classifier_is_tempered():
    """A classifier made over-confident (logits x4) gets a weight below 1 and still helps."""
    K = 5
    L, truth = _crowd(1500, K, 0.7, 1, seed=7)
    P = _classifier(truth, K, 1.2, seed=8)
    sharp = P ** 4
    sharp /= sharp.sum(axis=1, keepdims=True)
    m = AnnotatorConfusion(random_state=0).fit(L, sharp)
    assert m.classifier_weight_ < 0.5
    labels_only = np.nanmax(np.where(np.isnan(L), -1, L), axis=1)
    assert np.mean(m.consensus_label_ == truth) > np.mean(labels_only == truth) + 0.02


def test_adversaries_are_learned_from_the_labels_alone():
    """Dense labels with two adversaries (always the next class): their confusion is learned
    and the consensus beats majority vote."""
    K = 3
    L, truth = _crowd(600, K, 0.7, 4, seed=9, n_annotators=12, adversaries=2)
    m = AnnotatorConfusion(random_state=0).fit(L)
    assert m.classifier_weight_ == 0.0
    assert np.all(m.annotator_accuracy_[:2] < 0.2)
    for k in range(K):  # adversaries label class k as k + 1
        assert m.confusion_[0, k, (k + 1) % K] > 0.6
    votes = _majority(L, K)
    mv_acc = np.mean(votes.argmax(axis=1) == truth)
    assert np.mean(m.consensus_label_ == truth) > mv_acc + 0.02


def test_given_weight_and_shrinkage_are_used():
    K = 3
    L, truth = _crowd(200, K, 0.7, 2, seed=11, n_annotators=8)
    P = _classifier(truth, K, 1.0, seed=12)
    m = AnnotatorConfusion(classifier_weight=0.5, random_state=0).fit(L, P)
    assert m.classifier_weight_ == 0.5
    # a huge shrinkage: every confusion row is its annotator's one-coin row
    m = AnnotatorConfusion(shrinkage=1e9, random_state=0).fit(L, P)
    C = m.confusion_
    off = C[:, ~np.eye(K, dtype=bool)].reshape(len(C), -1)
    np.testing.assert_allclose(off, off[:, :1].repeat(off.shape[1], axis=1), atol=1e-6)
    diag = np.diagonal(C, axis1=1, axis2=2)
    np.testing.assert_allclose(diag, diag[:, :1].repeat(K, axis=1), atol=1e-6)
    np.testing.assert_allclose(diag[:, 0] + (K - 1) * off[:, 0], 1.0)


def test_annotator_accuracy_is_the_expected_share_of_right_labels():
    """``annotator_accuracy_``: each annotator's labels' posterior probability of being right,
    summed, with 2 pseudo-labels at the crowd's share: by hand from ``posterior_``."""
    K = 3
    L, truth = _crowd(300, K, 0.7, 3, seed=21, n_annotators=10)
    m = AnnotatorConfusion(random_state=0).fit(L, _classifier(truth, K, 1.0, seed=22))
    rows, cols = np.nonzero(~np.isnan(L))
    right = m.posterior_[rows, L[rows, cols].astype(int)]
    n = np.bincount(cols, minlength=10)
    c = np.bincount(cols, weights=right, minlength=10)
    want = (c + 2 * c.sum() / n.sum()) / (n + 2)
    np.testing.assert_allclose(m.annotator_accuracy_, want, rtol=1e-12)


def test_annotator_accuracy_is_not_pulled_to_the_crowd():
    """Annotators far from the crowd (0.55 and 0.97 among 0.7-0.8) are reported near their
    true share of right labels when each has ~150 labels."""
    K = 3
    rng = np.random.default_rng(4)
    acc = np.array([0.55, 0.7, 0.72, 0.75, 0.78, 0.8, 0.97])
    n = 400
    truth = rng.integers(0, K, n)
    L = np.full((n, acc.size), np.nan)
    for i in range(n):
        for j in rng.choice(acc.size, size=3, replace=False):
            L[i, j] = truth[i] if rng.random() < acc[j] else (truth[i] + rng.integers(1, K)) % K
    true_share = np.array([np.mean(L[~np.isnan(L[:, j]), j] == truth[~np.isnan(L[:, j])]) for j in range(acc.size)])
    m = AnnotatorConfusion(random_state=0).fit(L, _classifier(truth, K, 1.0, seed=5))
    assert np.abs(m.annotator_accuracy_ - true_share).max() <= 0.05


def test_random_state_reproducible_and_inputs_untouched():
    K = 4
    L, truth = _crowd(300, K, 0.7, 2, seed=13)
    P = _classifier(truth, K, 1.0, seed=14)
    L0, P0 = L.copy(), P.copy()
    a = AnnotatorConfusion(random_state=3).fit(L, P)
    b = AnnotatorConfusion(random_state=3).fit(L, P)
    np.testing.assert_array_equal(a.posterior_, b.posterior_)
    np.testing.assert_array_equal(L, L0)
    np.testing.assert_array_equal(P, P0)
    for model in (MajorityVote(random_state=0), CrowdLab(random_state=0)):
        model.fit(L, P)
        np.testing.assert_array_equal(L, L0)
        np.testing.assert_array_equal(P, P0)


def test_a_fit_on_read_only_probabilities_handed_over_is_the_fit_on_a_copy():
    # the command line hands its own (read-only) probabilities to the fit without a copy:
    # nothing may be written into them, and the numbers are those of a fit on a copy
    from skactivelab._validation import arrays_handed_over
    from skactivelab.cli._batch import crowd_estimates

    K = 3
    L, truth = _crowd(400, K, 0.7, 3, seed=21)
    P = _classifier(truth, K, 1.0, seed=22)
    P[:5, 0] = 0.0  # exact zeros: the fit raises them to its smallest probability
    P /= P.sum(axis=1, keepdims=True)
    ann = check_annotations(L, n_classes=K)
    acc0, n0, post0 = crowd_estimates(ann, P.copy(), seed=4)
    frozen = P.copy()
    frozen.flags.writeable = False
    with arrays_handed_over(frozen):
        acc1, n1, post1 = crowd_estimates(ann, frozen, seed=4)
    np.testing.assert_array_equal(frozen, P)
    np.testing.assert_array_equal(acc1, acc0)
    np.testing.assert_array_equal(n1, n0)
    np.testing.assert_array_equal(post1, post0)
    assert post1 is not frozen and not np.shares_memory(post1, frozen)


def test_example_ids_in_and_out():
    pd = pytest.importorskip("pandas")
    long = pd.DataFrame({"example": ["b", "b", "a", "c", "c", "a"],
                         "annotator": ["x", "y", "x", "x", "y", "y"],
                         "label": ["cat", "cat", "dog", "dog", "cat", "dog"]})
    m = MajorityVote(random_state=0).fit(long)
    frame = m.consensus_frame().sort_index()
    assert frame.loc["a", "consensus_label"] == "dog"
    assert frame.loc["b", "consensus_label"] == "cat"
    assert frame.loc["a", "n_annotations"] == 2
    assert set(m.annotator_frame().index) == {"x", "y"}
    # probabilities as a DataFrame are matched by example ID, not by row order
    probs = pd.DataFrame([[0.1, 0.9], [0.9, 0.1], [0.5, 0.5]], index=["a", "b", "c"], columns=["cat", "dog"])
    shuffled = probs.loc[["c", "a", "b"]]
    m1 = AnnotatorConfusion(classifier_weight=1.0, random_state=0).fit(long, probs)
    m2 = AnnotatorConfusion(classifier_weight=1.0, random_state=0).fit(long, shuffled)
    f1, f2 = m1.consensus_frame().sort_index(), m2.consensus_frame().sort_index()
    pd.testing.assert_frame_equal(f1, f2)


@pytest.mark.parametrize("params, match", [
    (dict(classifier_weight=-1.0), "classifier_weight"),
    (dict(classifier_weight="sharp"), "classifier_weight"),
    (dict(shrinkage=-2), "shrinkage"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        AnnotatorConfusion(**params).fit(np.array([[0, 1], [1, 1]]))


def test_a_boolean_weight_is_refused():
    with pytest.raises(TypeError, match="classifier_weight"):
        AnnotatorConfusion(classifier_weight=True).fit(np.array([[0, 1], [1, 1]]))


def test_crowdlab_needs_pred_probs():
    with pytest.raises(ValueError, match="pred_probs.*MajorityVote"):
        CrowdLab().fit(np.array([[0, 1], [1, 1]]))


def test_crowdlab_matches_cleanlab(oracle):
    pd = pytest.importorskip("pandas")
    K = 3
    L, truth = _crowd(150, K, 0.7, 3, seed=15, n_annotators=8)
    P = _classifier(truth, K, 1.0, seed=16)
    ours = CrowdLab(random_state=0).fit(L, P)
    theirs = oracle.get_label_quality_multiannotator(pd.DataFrame(L), P, calibrate_probs=True)
    lq = theirs["label_quality"]
    np.testing.assert_array_equal(ours.consensus_label_, lq["consensus_label"].to_numpy())
    np.testing.assert_allclose(ours.consensus_confidence_, lq["consensus_quality_score"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.annotator_accuracy_, theirs["annotator_stats"].sort_index()["annotator_quality"],
                               rtol=1e-6)


def test_models_are_scikit_learn_clonable():
    from sklearn.base import clone

    m = AnnotatorConfusion(classifier_weight=0.25, shrinkage=3.0, random_state=5)
    c = clone(m)
    assert c.get_params() == m.get_params()
    assert not hasattr(c, "posterior_")


@pytest.mark.parametrize("K", [2, 10])
def test_one_label_each_and_nothing_to_check_it_against_keeps_the_labels(K):
    """One label per example with no classifier, or with a classifier that knows nothing:
    the labels cannot be checked, so each example keeps its label (not the most frequent
    class, not the classifier's guess)."""
    L, truth = _crowd(800, K, 0.6, 1, seed=1)
    labels = np.nanmax(np.where(np.isnan(L), -1, L), axis=1)
    alone = AnnotatorConfusion(random_state=0).fit(L)
    np.testing.assert_array_equal(alone.consensus_label_, labels)
    noise = np.random.default_rng(0).dirichlet(np.ones(K), truth.size)
    with_noise = AnnotatorConfusion(random_state=0).fit(L, noise)
    assert with_noise.classifier_weight_ == 0.0
    np.testing.assert_array_equal(with_noise.consensus_label_, labels)


def test_a_classifier_trained_on_noisy_labels_is_sharpened():
    """A classifier that predicts the labels (trained on them) rather than the truth is
    under-confident about the truth: with two labels per example (their agreement tells the
    crowd's accuracy) the labels call for a weight above 1, and the consensus is far better
    than majority vote."""
    K, a = 5, 0.7
    L, truth = _crowd(1500, K, a, 2, seed=31)
    P_truth = _classifier(truth, K, 3.0, seed=32)
    noise = np.full((K, K), (1 - a) / (K - 1))
    np.fill_diagonal(noise, a)
    P_labels = P_truth @ noise  # the distribution of a label given the features
    m = AnnotatorConfusion(random_state=0).fit(L, P_labels)
    assert m.classifier_weight_ > 1.0
    mv = _majority(L, K).argmax(axis=1)
    assert np.mean(m.consensus_label_ == truth) > np.mean(mv == truth) + 0.1
    weight_one = AnnotatorConfusion(classifier_weight=1.0, random_state=0).fit(L, P_labels)
    assert np.mean(m.consensus_label_ == truth) > np.mean(weight_one.consensus_label_ == truth)


def _busy_crowd(seed, n=800, n_annotators=200):
    """One label per example from a strong two-class crowd of widely spread accuracies, a few
    busy annotators and many occasional ones (the test's own simulator)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    acc = rng.beta(4.8, 1.2, n_annotators)
    busy = 1.0 / np.arange(1, n_annotators + 1)
    who = rng.choice(n_annotators, n, p=busy / busy.sum())
    label = np.where(rng.random(n) < acc[who], truth, 1 - truth)
    L = np.full((n, n_annotators), np.nan)
    L[np.arange(n), who] = label
    return L, truth, label


def test_single_labels_and_a_classifier_near_chance_keep_the_labels():
    """One label each from a two-class crowd right 60% of the time, and a calibrated
    classifier barely better than chance (its probabilities within a few points of 0.5): its
    agreement with the labels hardly grows with its confidence, so the labels hardly tell the
    crowd's accuracy, and the best fit of it falls at chance on some draws, where every label
    the classifier leans against is overridden. The crowd's accuracy taken as the
    likelihood-weighted mean of the accuracies (and kept through EM) keeps the labels: over
    12 draws the consensus is 0.002 below them on average and 0.024 on the worst, against
    0.016 and 0.086 when the crowd's accuracy was the best fit and EM refitted it."""
    gaps = []
    for seed in range(12):  # draws
        L, truth = _crowd(800, 2, 0.6, 1, seed)
        P = _classifier(truth, 2, 0.1, seed + 100)
        m = AnnotatorConfusion(random_state=0).fit(L, P)
        gaps.append(np.mean(m.consensus_label_ == truth) - np.mean(np.nanmax(L, axis=1) == truth))
    assert np.mean(gaps) >= -0.005, gaps
    assert min(gaps) >= -0.03, gaps


@pytest.mark.parametrize("seed", [3, 33])
def test_single_labels_never_sharpen_a_classifier_that_learned_them(seed):
    """One label each, and a classifier that learned those labels, errors included (right on
    0.635 of the labels, calibrated to them): it knows nothing of the truth beyond the labels,
    so the consensus must not be worse than the labels. On these draws its agreement with the
    labels happens to level off at its most confident, as an under-confident classifier's
    would; sharpening it (weight 2) overrode right labels and lost 0.022 and 0.045. Only
    examples with several labels can tell sharpening, so with single labels the weight is at
    most 1 (a weight given is used as given). A classifier that learned its own example's
    label breaks the independence the model assumes, and a few labels may still be
    overridden: over 40 draws of this crowd the consensus is 0.0027 +- 0.0009 below the
    labels (0.0020 +- 0.0010 with the crowd's accuracy refitted by EM; the second draw here:
    0.010), far from what sharpening lost."""
    L, truth, label = _busy_crowd(seed)
    P = _classifier(label, 2, 0.49, seed=seed + 1000)
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert m.classifier_weight_ <= 1.0
    assert np.mean(m.consensus_label_ == truth) >= np.mean(label == truth) - 0.012
    assert AnnotatorConfusion(classifier_weight=2.0, random_state=0).fit(L, P).classifier_weight_ == 2.0
    # candidates above 1 only, with single labels: the classifier as it is
    w, floor, _ = _confusion.profile_weight(check_annotations(L, n_classes=2), P, np.random.default_rng(0),
                                            weights=(1.5, 2.0))
    assert (w, floor) == (1.0, _confusion.FLOOR)


def test_few_examples_and_a_confident_random_classifier_do_not_outvote_the_crowd():
    """30 examples, three 85% annotators, a classifier confident at random: the labels reject
    the classifier even on so few examples, so the consensus is the crowd's."""
    accs = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        n = 30
        y = rng.integers(0, 2, n)
        L = np.stack([np.where(rng.random(n) < 0.85, y, 1 - y) for _ in range(3)], 1).astype(float)
        c = rng.uniform(0.6, 0.99, n)
        p1 = np.where(rng.random(n) < 0.5, c, 1 - c)
        m = AnnotatorConfusion(random_state=0).fit(L, np.stack([1 - p1, p1], 1))
        mv = (L.sum(axis=1) >= 2).astype(int)
        accs.append((np.mean(m.consensus_label_ == y), np.mean(mv == y)))
    ac, mv = np.mean(accs, axis=0)
    assert ac >= mv - 0.02, (ac, mv)


def test_a_hard_classifier_that_is_often_wrong_gets_a_floor():
    """Hard 0/1 probabilities, 85% right, against three 90% annotators: the fitted floor lets
    unanimous labels overrule the classifier's zeros."""
    rng = np.random.default_rng(0)
    n = 200
    y = rng.integers(0, 2, n)
    L = np.stack([np.where(rng.random(n) < 0.9, y, 1 - y) for _ in range(3)], 1).astype(float)
    P = np.eye(2)[y]
    bad = rng.random(n) < 0.15
    P[bad] = np.eye(2)[1 - y[bad]]
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert m.classifier_floor_ > 0.01
    unanimous = (L == L[:, :1]).all(axis=1)
    np.testing.assert_array_equal(m.consensus_label_[unanimous], L[unanimous, 0])
    mv = (L.sum(axis=1) >= 2).astype(int)
    assert np.mean(m.consensus_label_ == y) >= np.mean(mv == y)


def test_a_few_agreeing_labels_are_no_proof_of_a_perfect_crowd():
    m = AnnotatorConfusion(random_state=0).fit(np.array([[0, 0], [1, 1], [1, np.nan], [0, 0]]))
    assert m.consensus_label_.tolist() == [0, 1, 1, 0]
    # (was 0.9999999999995 and 0.9999998: the crowd's accuracy went to 1 - 1e-6)
    assert np.all(m.consensus_confidence_ < 0.9999)
    assert np.all(m.annotator_accuracy_ < 0.9999)


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0, 2.0])
def test_an_empty_pool_gets_no_scores_whatever_the_weight(weight):
    """No unlabeled row, no score: a weight of 0 makes the prior one broadcast row, which must
    still take the pool's number of rows (0 here), for arrays and DataFrames alike."""
    import pandas as pd

    from skactivelab import get_active_learning_scores

    L = np.array([[0, 0, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0]])
    P = np.array([[0.9, 0.1], [0.3, 0.7], [0.4, 0.6], [0.8, 0.2]])
    model = AnnotatorConfusion(classifier_weight=weight)
    s_lab, s_unl = get_active_learning_scores(L, P, np.empty((0, 2)), crowd_model=model)
    assert s_lab.shape == (4,) and s_unl.shape == (0,)
    _, s_df = get_active_learning_scores(L, P, pd.DataFrame(np.empty((0, 2)), columns=[0, 1]), crowd_model=model)
    assert len(s_df) == 0
    _, one = get_active_learning_scores(L, P, P[:1], crowd_model=model)
    assert one.shape == (1,)


def _near_chance_crowd_centred(seed, n=800, m=40, k=5, class1=0.5):
    """Two classes, annotators right 55% of the time on average (some below chance), k labels each."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < class1).astype(int)
    a = rng.beta(16.5, 13.5, m)
    a += 0.55 - a.mean()
    who = np.argsort(rng.random((n, m)), axis=1)[:, :k]
    right = rng.random((n, k)) < a[who]
    L = np.full((n, m), np.nan)
    L[np.arange(n)[:, None], who] = np.where(right, truth[:, None], 1 - truth[:, None])
    return L, truth


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("shift", [0, 3, 6, 9, 12, 15, 20, 25])
def test_unequal_classes_with_single_labels_is_the_chi_square_test_of_the_label_shares(K, shift):
    """With one label per example the labels depend on the class frequencies only through
    the label counts n_l: each example's score term is (a - b) K (e_l - 1/K), so the score
    statistic (K - 1) |g|^2 / sum_i |K r_i - 1|^2 is Pearson's chi-square of the counts,
    sum_l (n_l - n/K)^2 / (n/K), whatever the crowd's accuracy, against chi-square(K - 1)."""
    from scipy.stats import chi2

    n = 300
    counts = np.array([100 + shift, 100, 100 - shift]) if K == 3 else np.array([150 + shift, 150 - shift])
    labels = np.repeat(np.arange(K), counts)
    ann = check_annotations(labels[:, None], n_classes=K)
    e = np.eye(K) - 1.0 / K
    terms = e[labels]  # K r_i - 1 over (a - b) K, example by example
    g = terms.sum(axis=0)
    stat = (K - 1) * (g @ g) / np.sum(terms * terms)
    assert stat == pytest.approx(np.sum((counts - n / K) ** 2 / (n / K)))  # Pearson
    thr = chi2.ppf(0.95, K - 1)
    assert abs(stat - thr) > 0.05  # no case on the edge
    for a in (0.6, 0.8, 0.95):  # the crowd's accuracy does not matter with single labels
        assert _confusion.unequal_classes(ann, a, np.random.default_rng(0)) == (stat > thr)


@pytest.mark.parametrize("seed", [7, 8])
def test_a_crowd_near_chance_does_not_tip_close_votes_toward_a_class_of_noise(seed):
    """Equal classes, a two-class crowd at 0.55: label shares a little off 1/2 by chance must not
    become fitted class frequencies of 0.4 / 0.6 that decide every 3-2 vote (the consensus was
    then 0.012 and 0.029 below majority vote on these crowds)."""
    L, truth = _near_chance_crowd_centred(seed)
    m = AnnotatorConfusion(random_state=0).fit(L)
    mv = MajorityVote(random_state=0).fit(L)
    np.testing.assert_array_equal(m.class_prior_, [0.5, 0.5])
    assert np.mean(m.consensus_label_ == truth) >= np.mean(mv.consensus_label_ == truth) - 0.005


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_annotators_who_always_answer_one_class_do_not_make_every_example_that_class(seed):
    """Three classes, 40 annotators of whom 12 always answer class 0 and the rest are right
    about 85% of the time, three labels per example. On these draws the cross-validation chose,
    before guessing rows were a candidate, an accuracy of each annotator's own with one-coin
    rows and fitted class frequencies; one-coin rows cannot say "always class 0", so the class
    frequencies took it up, EM ran away to a crowd that is all class 0 (frequencies 1, 0, 0; the
    constant annotators rated 0.99 right, the others 0.34) and the consensus was right on about
    a third of the examples, against 0.73-0.77 for majority vote. Guessing rows say it (no
    chance of knowing, every guess class 0): the constant annotators are rated right about a
    third of the time (when the truth is class 0), the others above 0.6, and the consensus is
    well ahead of majority vote, whose votes the constant annotators tip."""
    rng = np.random.default_rng(seed)
    n, K, m, k = 800, 3, 40, 3
    truth = rng.integers(0, K, n)
    acc = np.clip(rng.normal(0.85, 0.05, m), 1 / K, 0.99)
    who = np.argsort(rng.random((n, m)), axis=1)[:, :k]
    lab = np.where(rng.random((n, k)) < acc[who], truth[:, None], (truth[:, None] + rng.integers(1, K, (n, k))) % K)
    lab = np.where(who < 12, 0, lab)  # annotators 0-11 always answer class 0
    L = np.full((n, m), np.nan)
    np.put_along_axis(L, who, lab.astype(float), axis=1)
    m_ac = AnnotatorConfusion(random_state=0).fit(L)
    mv = MajorityVote(random_state=0).fit(L)
    assert np.mean(m_ac.consensus_label_ == truth) >= np.mean(mv.consensus_label_ == truth) + 0.05
    assert np.all(m_ac.annotator_accuracy_[:12] < 0.45) and np.all(m_ac.annotator_accuracy_[12:] > 0.6)
    np.testing.assert_allclose(m_ac.class_prior_, np.bincount(truth, minlength=K) / n, atol=0.05)


@pytest.mark.parametrize("seed", [3, 5])
def test_the_rows_are_chosen_before_the_class_frequencies(seed):
    """Five classes, 40 annotators of whom 10 always answer class 0 (the rest right about 80% of
    the time), half the examples with one label and half with three, labels only. The labels'
    class shares are unequal (the constant annotators), so the class test asks for fitted
    frequencies; scored with them, one-coin rows explained the constant annotators by
    frequencies of (1, 0, 0, 0, 0), beat guessing rows on held-out labels, and the consensus
    was right on about a fifth of the examples (0.21 and 0.20, majority vote 0.67 and 0.69).
    The rows are now chosen under equal frequencies, then the frequencies tested on them:
    equal, and the consensus ahead of majority vote."""
    rng = np.random.default_rng(seed)
    n, K, m = 800, 5, 40
    truth = rng.integers(0, K, n)
    acc = rng.beta(24, 6, m)
    k = np.where(rng.random(n) < 0.5, 1, 3)
    who = np.argsort(rng.random((n, m)), axis=1)[:, :3]
    lab = np.where(rng.random((n, 3)) < acc[who], truth[:, None], (truth[:, None] + rng.integers(1, K, (n, 3))) % K)
    lab = np.where(who < 10, 0, lab)  # annotators 0-9 always answer class 0
    L = np.full((n, m), np.nan)
    keep = np.arange(3)[None, :] < k[:, None]
    L[np.broadcast_to(np.arange(n)[:, None], who.shape)[keep], who[keep]] = lab[keep]
    m_ac = AnnotatorConfusion(random_state=0).fit(L)
    mv = MajorityVote(random_state=0).fit(L)
    assert np.mean(m_ac.consensus_label_ == truth) >= np.mean(mv.consensus_label_ == truth) + 0.03
    assert m_ac.class_prior_.max() < 0.3


def test_with_unequal_classes_the_rows_are_chosen_again_with_fitted_frequencies():
    """Class shares 0.6 / 0.3 / 0.1, one-coin annotators, three labels each, labels only. Scored
    with equal frequencies, rows that can lean toward a class win (here guessing rows: every
    annotator's guesses take the frequent class). The frequencies are tested on that fit, and,
    being kept, the thirteen candidates are scored again with them (here by hand, on the same
    folds): choose_strength returns the best of those, one-coin rows, the annotators' true
    shape. Choosing under equal frequencies alone cost 0.008 of accuracy over 25 such crowds."""
    rng = np.random.default_rng(0)
    n, M, K = 1000, 20, 3
    y = rng.choice(K, size=n, p=[0.6, 0.3, 0.1])
    acc = rng.uniform(0.55, 0.85, M)
    who = np.argsort(rng.random((n, M)), axis=1)[:, :3]
    lab = np.where(rng.random((n, 3)) < acc[who], y[:, None], (y[:, None] + rng.integers(1, K, (n, 3))) % K)
    L = np.full((n, M), np.nan)
    np.put_along_axis(L, who, lab.astype(float), axis=1)
    ann = check_annotations(L)
    s = _confusion.default_shrinkage(K)
    (strength, rows), fit_classes = _confusion.choose_strength(ann, None, 0.0, s, np.random.default_rng(5),
                                                               a_init=0.7, fit_classes=True)
    fold = np.random.default_rng(5).permutation(n) % 2  # as choose_strength draws them

    def score(st, kind, classes):
        sh = _confusion.STRENGTHS[-1] if kind == "one-coin" else s
        return sum(_confusion.held_out_loglik(ann, None, 0.0, sh, st, fold == f, 0.7, None, classes, kind == "spam")
                   for f in range(2))

    cands = [(st, kind) for kind in ("full", "one-coin", "spam") for st in _confusion.STRENGTHS
             if kind == "full" or st < _confusion.STRENGTHS[-1]]
    equal = {c: score(*c, False) for c in cands}
    first = max(equal, key=equal.get)
    assert first[1] != "one-coin"  # under equal frequencies the rows take up the unequal classes
    assert score(*first, True) > equal[first]  # the frequencies are shown
    fitted = {c: score(*c, True) for c in cands}
    assert fit_classes and (strength, rows) == max(fitted, key=fitted.get) != first
    assert rows == "one-coin"


def test_unequal_classes_are_still_fitted():
    L, truth = _crowd(600, 3, 0.75, 3, 4)
    keep = (truth == 0) | (np.arange(truth.size) % 4 == 0)  # class 0 about 60% of the examples
    m = AnnotatorConfusion(random_state=0).fit(L[keep])
    share = np.bincount(truth[keep], minlength=3) / keep.sum()
    assert share[0] > 0.55
    np.testing.assert_allclose(m.class_prior_, share, atol=0.05)


def test_unequal_classes_are_fitted_beside_a_classifier_of_weight_one_or_more():
    """With a classifier of weight >= 1 the class frequencies play no part in the prior, so the
    held-out labels cannot prefer fitted ones to equal ones (the two likelihoods are equal):
    the frequencies follow the test alone, as with the labels alone, and the posterior is the
    same either way."""
    L, truth = _crowd(600, 3, 0.75, 3, 4)
    keep = (truth == 0) | (np.arange(truth.size) % 4 == 0)  # class 0 about 60% of the examples
    L, truth = L[keep], truth[keep]
    P = _classifier(truth, 3, 1.5, seed=5)
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert m.classifier_weight_ >= 1.0
    # the M-step's frequencies of the final posterior, one pseudo-count per class
    fitted = (m.posterior_.sum(axis=0) + 1.0) / (truth.size + 3)
    np.testing.assert_allclose(m.class_prior_, fitted, rtol=1e-12)
    assert m.class_prior_[0] > 0.5 and np.mean(truth == 0) > 0.6
    ann = check_annotations(L, n_classes=3)
    _, logC, _, log_pi, *_ = _confusion.em(ann, np.array(P), m.classifier_weight_, 12.0, 8.0, 0.75,
                                             fit_classes=True)
    post_eq, logC_eq, _, log_pi_eq, *_ = _confusion.em(ann, np.array(P), m.classifier_weight_, 12.0, 8.0,
                                                         0.75, fit_classes=False)
    np.testing.assert_array_equal(logC, logC_eq)  # pi plays no part: the same fit
    np.testing.assert_array_equal(log_pi_eq, np.full(3, -np.log(3)))
    assert np.abs(log_pi - log_pi_eq).max() > 0.3


def test_unequal_classes_holds_its_level_with_many_classes_and_few_labels():
    """45 single labels over 26 equally frequent classes: about 1.7 expected per class, so a
    class without a vote is what equal frequencies give. Pearson's chi-square of the counts
    (by hand) is far below the 95% quantile of chi-square(25); the observed information of
    the votes (a zero row for the unvoted class) made the statistic n = 45 whatever the
    counts, and equal frequencies were rejected. Simulated under equal frequencies, the test
    rejects at about its level."""
    from scipy.stats import chi2

    K = 26
    counts = np.array([2] * 20 + [1] * 5 + [0])
    labels = np.repeat(np.arange(K), counts)
    n = labels.size
    pearson = np.sum((counts - n / K) ** 2 / (n / K))
    assert n == 45 and pearson == pytest.approx(4.1111, abs=1e-4) and pearson < chi2.ppf(0.95, K - 1)
    ann = check_annotations(labels[:, None], n_classes=K)
    for a in (0.3, 0.7, 0.95):
        assert not _confusion.unequal_classes(ann, a, np.random.default_rng(0))
    # under equal frequencies, two or three labels per example from a 70% crowd, 10 classes
    rejected = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        n, m, k, K = 40, 10, 2 + seed % 2, 10
        truth = rng.integers(0, K, n)
        who = np.argsort(rng.random((n, m)), axis=1)[:, :k]
        right = rng.random((n, k)) < 0.7
        L = np.full((n, m), np.nan)
        L[np.arange(n)[:, None], who] = np.where(right, truth[:, None], (truth[:, None] + rng.integers(1, K, (n, k))) % K)
        rejected += _confusion.unequal_classes(check_annotations(L, n_classes=K), 0.7, rng)
    assert rejected <= 20  # 5% of 200 is 10 (before: about 40)


def test_annotator_confusion_with_one_class_is_that_class():
    """Labels of a single class (no classifier): the consensus is that class, with certainty,
    and every annotator with labels is right (as majority vote says), not an IndexError."""
    L = np.full((60, 3), np.nan)
    L[:, 0] = 0
    L[::2, 1] = 0
    m = AnnotatorConfusion(random_state=0).fit(L)
    np.testing.assert_array_equal(m.consensus_label_, np.zeros(60))
    np.testing.assert_array_equal(m.posterior_, np.ones((60, 1)))
    np.testing.assert_array_equal(m.class_prior_, [1.0])
    np.testing.assert_array_equal(m.annotator_accuracy_[:2], [1.0, 1.0])
    assert np.isnan(m.annotator_accuracy_[2])  # no label
    assert m.classifier_weight_ == 0.0


def _copying_crowd(seed):
    """Three labels per example from a crowd with three adversaries (always the next class),
    whose majority vote is often wrong, and the truth."""
    L, truth = _crowd(1500, 5, 0.65, 3, seed=seed, adversaries=3)
    votes = _majority(L, 5) + np.random.default_rng(seed).random((L.shape[0], 5)) * 0.1  # ties at random
    return L, truth, votes.argmax(axis=1)


def test_a_classifier_that_repeats_the_majority_vote_is_recognised():
    """A classifier simulated around the crowd's majority vote (it repeats the adversaries'
    errors): most examples are explained as copies, and the consensus is as good as the labels
    alone, where the model without copies (``classifier_copy=0``) follows the classifier into
    the majority's errors."""
    K = 5
    for seed in (0, 1):
        L, truth, mv = _copying_crowd(seed)
        P = _classifier(mv, K, 1.5, seed=seed + 10)
        m = AnnotatorConfusion(random_state=0).fit(L, P)
        old = AnnotatorConfusion(random_state=0, classifier_copy=0).fit(L, P)
        labels = AnnotatorConfusion(random_state=0).fit(L)
        acc = {name: np.mean(x.consensus_label_ == truth) for name, x in
               [("new", m), ("old", old), ("labels", labels)]}
        assert m.classifier_copy_ > 0.6, m.classifier_copy_
        assert old.classifier_copy_ == 0.0
        assert acc["new"] >= acc["labels"] - 0.015, acc  # (seed 0: 0.790 against 0.803)
        assert acc["new"] >= acc["old"] + 0.05, acc
        assert acc["old"] < acc["labels"] - 0.05, acc  # what the copies cost the model without them


def test_an_independent_classifier_is_not_taken_for_a_copy():
    """The same crowd with a classifier simulated around the truth: no copies, and the
    posterior of the model without them."""
    K = 5
    L, truth, _ = _copying_crowd(0)
    P = _classifier(truth, K, 1.5, seed=10)
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    old = AnnotatorConfusion(random_state=0, classifier_copy=0).fit(L, P)
    assert m.classifier_copy_ < 0.01, m.classifier_copy_
    np.testing.assert_allclose(m.posterior_, old.posterior_, atol=0.01)
    assert np.mean(m.consensus_label_ == old.consensus_label_) > 0.998
    assert np.mean(m.consensus_label_ == truth) > np.mean(AnnotatorConfusion(random_state=0).fit(L).consensus_label_
                                                          == truth) + 0.05  # the classifier still counts


def test_single_labels_cannot_tell_a_copy():
    """With one label per example a copy is not identified: the share stays 0 and the model is
    the model without copies, exactly."""
    K = 5
    L, truth = _crowd(600, K, 0.7, 1, seed=2)
    P = _classifier(np.nanmax(np.where(np.isnan(L), -1, L), axis=1).astype(int), K, 1.5, seed=3)  # copies the label
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    old = AnnotatorConfusion(random_state=0, classifier_copy=0).fit(L, P)
    assert m.classifier_copy_ == 0.0
    np.testing.assert_array_equal(m.posterior_, old.posterior_)


def test_a_given_copy_share_is_used():
    """``classifier_copy=1``: every classifier repeats the labels, so the classifier tells nothing
    of the truth and the posterior is that of the labels weighed by the prior's mean; 0: the
    model without copies."""
    K = 3
    L, truth = _crowd(200, K, 0.7, 3, seed=4, n_annotators=8)
    P = _classifier(truth, K, 2.0, seed=5)
    full = AnnotatorConfusion(random_state=0, classifier_copy=1.0, classifier_weight=1.0).fit(L, P)
    assert full.classifier_copy_ == pytest.approx(1.0, abs=1e-5)
    # the posterior no longer follows the classifier where it disagrees with unanimous labels
    unanimous = np.nanmin(L, axis=1) == np.nanmax(L, axis=1)
    lab = np.nanmax(L, axis=1)
    assert np.all(full.consensus_label_[unanimous] == lab[unanimous])
    with pytest.raises(ValueError, match="classifier_copy"):
        AnnotatorConfusion(classifier_copy=1.5).fit(L, P)
    with pytest.raises(TypeError, match="classifier_copy"):
        AnnotatorConfusion(classifier_copy=True).fit(L, P)


def _near_chance_crowd(seed, n=800, n_annotators=40, k=5):
    """Two classes, annotators about 55% right (Beta(16.5, 13.5)), k distinct labels each."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    acc = rng.beta(16.5, 13.5, n_annotators)
    who = np.argsort(rng.random((n, n_annotators)), axis=1)[:, :k]
    lab = np.where(rng.random((n, k)) < acc[who], truth[:, None], 1 - truth[:, None])
    L = np.full((n, n_annotators), np.nan)
    np.put_along_axis(L, who, lab.astype(float), axis=1)
    return L, truth


@pytest.mark.parametrize("seed", [1, 2])
def test_a_classifier_that_would_put_the_crowd_at_chance_is_not_taken_at_its_word(seed):
    """Five labels each from a crowd near chance, and an over-confident classifier no better
    than one annotator. Taken as it is (weight 1) it explains the labels only with a crowd at
    chance, the lowest crowd accuracy the model allows, although five labels each tell of the
    crowd without it: the weight is then the likelihood's choice, not 1, and the consensus is
    not below majority vote (weight 1 gave 0.539 against 0.555 on the first draw). With one
    label each nothing but the classifier tells of the crowd: a strong classifier that puts
    the crowd at chance keeps its weight of 1 (the likelihood alone would choose 0.1 or 0.5
    on these draws and fall back toward the labels); the crowd's accuracy is then the
    likelihood-weighted mean of the accuracies, close to chance since the likelihood is
    concentrated there."""
    L, truth = _near_chance_crowd(seed)
    P = _classifier(truth, 2, 0.21, seed + 50, sharpen=4.0)  # no better than one annotator
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert m.classifier_weight_ < 1.0
    mv = (np.nansum(L == 1, axis=1) > 2.5).astype(int)  # five labels: no ties
    assert np.mean(m.consensus_label_ == truth) >= np.mean(mv == truth)
    L1, truth1 = _near_chance_crowd(seed, k=1)
    strong = _classifier(truth1, 2, 1.09, seed + 70)  # calibrated, right on about 0.78
    ann = check_annotations(L1, n_classes=2)
    w, _, crowd = _confusion.profile_weight(ann, strong, np.random.default_rng(0))
    lls, _ = _profile_by_hand(L1, strong, 1.0, _confusion.FLOOR, 2)
    assert lls.argmax() == 0  # the best accuracy is the lowest candidate
    assert w == 1.0 and crowd == pytest.approx(_mean_accuracy_by_hand(L1, strong, 1.0, _confusion.FLOOR, 2), abs=2e-4)
    assert crowd < 0.6
    m1 = AnnotatorConfusion(random_state=0).fit(L1, strong)
    assert np.mean(m1.consensus_label_ == truth1) > np.mean(np.nanmax(L1, axis=1) == truth1) + 0.15


def _shrunk_classifier_crowd(seed, n=1500, n_multi=300, acc=0.8, n_annotators=30, slope=0.6):
    """Two classes, a crowd 80% right, one label on most examples and three on ``n_multi``; a
    soft classifier whose confidence ``c`` (uniform on 0.5-1) overstates how often it is right
    (``0.5 + slope * (c - 0.5)``): over-confident by a shrink toward chance, not by a power."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    k = np.ones(n, dtype=int)
    k[rng.permutation(n)[:n_multi]] = 3
    rank = np.argsort(np.argsort(rng.random((n, n_annotators)), axis=1), axis=1)
    right = rng.random((n, n_annotators)) < acc
    L = np.where(rank < k[:, None], np.where(right, y[:, None], 1 - y[:, None]), np.nan)
    c = rng.uniform(0.5, 1.0, n)
    pred = np.where(rng.random(n) < 0.5 + slope * (c - 0.5), y, 1 - y)
    P = np.where(np.arange(2)[None, :] == pred[:, None], c[:, None], 1 - c[:, None])
    return L, P, y


def test_a_classifier_over_confident_toward_chance_gets_a_floor_once_several_labels_tell():
    """With examples of three labels, the floor is fitted for a soft classifier too (before:
    never, weight 0.5 and the default floor in these six draws), and the consensus is on
    average within 0.006 of majority vote (0.0056 below it, from 0.0065; one draw of six is
    0.019 below; 0.0033 below while a weight above 1 was not withheld from a classifier that
    the labels show weaker than an annotator, as this one is: one draw then took weight 2 and
    floor 0.5 and matched majority vote, and now takes weight 1 and floor 0.3, 0.013 below).
    With the same labels cut to one per example the floor is not even a candidate: the default
    floor is kept."""
    gaps = []
    for seed in range(6):
        L, P, y = _shrunk_classifier_crowd(seed)
        m = AnnotatorConfusion(random_state=0).fit(L, P)
        assert m.classifier_floor_ > _confusion.FLOOR
        votes = np.stack([(L == v).sum(axis=1) for v in range(2)], axis=1)
        assert np.all(votes[:, 0] != votes[:, 1])  # one or three labels: no ties
        gaps.append(np.mean(m.consensus_label_ == y) - np.mean(votes.argmax(axis=1) == y))
        first = np.argmax(~np.isnan(L), axis=1)
        single = np.full_like(L, np.nan)
        single[np.arange(y.size), first] = L[np.arange(y.size), first]
        assert AnnotatorConfusion(random_state=0).fit(single, P).classifier_floor_ == _confusion.FLOOR
    assert np.mean(gaps) >= -0.006, gaps


def _profile_by_hand(L, Q, w, floor, K, steps=_confusion._ACC_STEPS):
    """The crowd-wide one-coin log-likelihood of the labels at every candidate accuracy of
    :func:`profile_weight` (``steps``: of the way from chance to 1), by the formula:
    sum_i log sum_k prior[i, k] prod_j lik_a(L_ij | k)."""
    accuracies = 1.0 / K + (1.0 - 1.0 / K) * np.asarray(steps)
    prior = _confusion.Prior(Q.copy(), w, floor).probs(np.full(K, -np.log(K)))
    votes = np.stack([(L == k).sum(axis=1) for k in range(K)], axis=1)
    n_i = votes.sum(axis=1)
    lls = []
    for a in accuracies:  # the test's own loop over the candidates
        b = (1.0 - a) / (K - 1)
        lik = a ** votes * b ** (n_i[:, None] - votes)
        lls.append(np.log((prior * lik).sum(axis=1)).sum())
    return np.array(lls), accuracies


def _mean_accuracy_by_hand(L, Q, w, floor, K):
    """The crowd accuracy profile_weight returns for a candidate: the posterior mean of the
    accuracy under a uniform prior from chance to the highest candidate, as an integral on a
    fine even grid (2,000 accuracies, exp(ll - max), the trapezoid rule); the highest when all
    tie."""
    lls, accuracies = _profile_by_hand(L, Q, w, floor, K, np.linspace(0.0, _confusion._ACC_STEPS[-1], 2000))
    if np.all(lls >= lls.max() - 1e-9 * abs(lls.max())):
        return accuracies[-1]
    weights = [np.exp(ll - lls.max()) for ll in lls]  # the test's own sum (trapezoid rule)
    weights[0], weights[-1] = weights[0] / 2, weights[-1] / 2
    return sum(wt * a for wt, a in zip(weights, accuracies)) / sum(weights)


def _weaker_by_hand(L, Q, z=_confusion.WEAKER_Z):
    """Loops over the examples with two labels or more: whether the classifier's top class
    agrees with their labels less often than two labels of one example agree, by more than
    ``z`` standard errors of the difference (each example's linearised contribution); tied
    top classes share a label's credit."""
    rows = []  # per example: labels, labels agreeing with the classifier, pairs, agreeing pairs
    for i in range(L.shape[0]):
        labels = L[i][np.isfinite(L[i])].astype(int)
        if labels.size < 2:
            continue
        tops = [k for k in range(Q.shape[1]) if Q[i, k] == max(Q[i])]
        pairs = [(a, b) for a in range(labels.size) for b in range(a + 1, labels.size)]
        rows.append((labels.size, sum(1.0 / len(tops) for label in labels if label in tops), len(pairs),
                     sum(int(labels[a] == labels[b]) for a, b in pairs)))
    n, agree, pairs, pairs_agree = (np.array(c, dtype=float) for c in zip(*rows))
    r1, r2 = agree.sum() / n.sum(), pairs_agree.sum() / pairs.sum()
    e = [(agree[i] - r1 * n[i]) / n.mean() - (pairs_agree[i] - r2 * pairs[i]) / pairs.mean() for i in range(n.size)]
    se = np.std(e, ddof=1) / np.sqrt(n.size)
    return r1 - r2 < -z * se


@pytest.mark.parametrize("K, signal, labels_per_example, seed, decimals",
                         [(5, 3.0, 2, 0, None), (5, 0.3, 2, 1, None), (5, 1.0, 3, 2, None), (5, 0.6, 3, 3, None),
                          (5, 2.0, 5, 4, None), (5, 0.2, 5, 5, None), (5, 1.3, 3, 6, None), (5, 1.05, 3, 6, None),
                          (5, 1.4, 3, 8, None), (2, 0.5, 3, 9, None), (2, 0.1, 3, 10, None), (26, 4.0, 3, 11, None),
                          (26, 0.5, 3, 12, None), (2, 0.8, 3, 13, 1), (5, 1.2, 3, 14, 1)])
@pytest.mark.parametrize("z", [0.0, _confusion.WEAKER_Z])
def test_weaker_than_an_annotator_is_the_test_of_two_agreement_rates_by_hand(K, signal, labels_per_example, seed,
                                                                             decimals, z):
    """The rule that withholds a weight above 1, against the two agreement rates and the
    standard error of their difference counted with loops, on crowds where the classifier is
    stronger and weaker than an annotator (both answers occur, and the two levels answer
    differently on two draws), with 2, 5 and 26 classes, and with probabilities rounded to one
    decimal (``decimals``: many tied top classes)."""
    L, truth = _crowd(400, K, 0.7, labels_per_example, seed)
    L[:200, 10:] = np.nan  # some examples keep one label or none
    keep = np.isfinite(L).any(axis=1)
    L, truth = L[keep], truth[keep]
    Q = _classifier(truth, K, signal, seed + 7)
    if decimals is not None:
        Q = np.round(Q, decimals)
        assert np.mean(np.sum(Q == Q.max(axis=1, keepdims=True), axis=1) > 1) > 0.05  # ties occur
    ann = check_annotations(L, n_classes=K)
    multi = np.bincount(ann.example, minlength=ann.n_examples) >= 2
    assert _confusion.weaker_than_an_annotator(ann, Q, multi, z=z) == _weaker_by_hand(L, Q, z)


def test_weaker_than_an_annotator_does_not_depend_on_the_order_of_the_classes():
    """Two classes, a classifier with many exact ties (0.5 / 0.5) and a frequent class: the
    answer is the same with the classes' names swapped."""
    rng = np.random.default_rng(3)
    n = 300
    truth = (rng.random(n) < 0.8).astype(int)
    L = np.where(rng.random((n, 3)) < 0.8, truth[:, None], 1 - truth[:, None]).astype(float)
    Q = np.where(rng.random(n)[:, None] < 0.65, np.eye(2)[truth] * 0.2 + 0.4, 0.5)
    for z in (0.0, _confusion.WEAKER_Z):
        answers = {_confusion.weaker_than_an_annotator(check_annotations(L_, n_classes=2), Q_,
                                                       np.ones(n, dtype=bool), z=z)
                   for L_, Q_ in [(L, Q), (1 - L, Q[:, ::-1])]}
        assert len(answers) == 1


def test_weaker_than_an_annotator_holds_its_level_when_the_classifier_is_an_annotator():
    """A classifier exactly as accurate as each annotator (0.7, errors spread evenly,
    independent of the labels): over 400 crowds of 60 examples with three labels each, the test
    calls it weaker in about 5% of them (the level of a one-sided test at 1.645 standard
    errors), not never and not often."""
    rng = np.random.default_rng(0)
    K, n, a = 5, 60, 0.7

    def labels_of(truth, size):  # right with probability a, else another class at random
        t = np.broadcast_to(truth[:, None], size)
        return np.where(rng.random(size) < a, t, (t + rng.integers(1, K, size)) % K)

    calls = 0
    for _ in range(400):  # the test's own loop over simulated crowds
        truth = rng.integers(0, K, n)
        L = labels_of(truth, (n, 3)).astype(float)
        Q = np.eye(K)[labels_of(truth, (n, 1))[:, 0]] * 0.5 + 0.1
        calls += _confusion.weaker_than_an_annotator(check_annotations(L, n_classes=K), Q, np.ones(n, dtype=bool))
    assert 0.02 <= calls / 400 <= 0.09, calls


def test_weaker_than_an_annotator_answers_both_ways():
    """A classifier right on nearly every example is not weaker than annotators right on 0.7;
    one right on about a third is; without a classifier there is nothing to withhold."""
    K = 5
    L, truth = _crowd(400, K, 0.7, 3, 11)
    ann = check_annotations(L, n_classes=K)
    multi = np.bincount(ann.example, minlength=ann.n_examples) >= 2
    assert not _confusion.weaker_than_an_annotator(ann, _classifier(truth, K, 4.0, 1), multi)
    assert _confusion.weaker_than_an_annotator(ann, _classifier(truth, K, 0.4, 1), multi)
    assert not _confusion.weaker_than_an_annotator(ann, None, multi)


def _noisy_majority_copy(seed, K=5):
    """A crowd of 0.7 with three labels on half the examples and one on the others, and a
    classifier simulated around its majority vote (ties broken at random): weaker than an
    annotator, and sharing the crowd's errors, its own example's included."""
    L, truth = _crowd(800, K, 0.7, 3, seed)
    first = np.nanargmax(np.isfinite(L[:400]), axis=1)
    L[:400] = np.where(np.arange(L.shape[1])[None, :] == first[:, None], L[:400], np.nan)
    votes = _majority(L, K)
    mv = (votes + 0.5 * np.random.default_rng(seed + 100).random(votes.shape)).argmax(axis=1)
    return L, truth, mv, _classifier(mv, K, 1.0, seed=seed + 50)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_classifier_weaker_than_an_annotator_is_not_sharpened(seed):
    """The labels' likelihood prefers sharpening this copy of the majority vote (weight 1.5
    when a weight above 1 needed only examples with several labels), and sharpened it overrode
    the majority vote and lost 0.03-0.05 to it. Its top class agrees with a label less often
    than two labels of one example agree, beyond the sampling error, so the weight is at most
    1, and the consensus is within 0.015 of the majority vote."""
    L, truth, mv, P = _noisy_majority_copy(seed)
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert m.classifier_weight_ <= 1.0
    assert np.mean(m.consensus_label_ == truth) >= np.mean(mv == truth) - 0.015
    sharpened = AnnotatorConfusion(classifier_weight=1.5, random_state=0).fit(L, P)
    assert np.mean(m.consensus_label_ == truth) >= np.mean(sharpened.consensus_label_ == truth) + 0.01


@pytest.mark.parametrize("K, labels_per_example, seed", [(2, 1, 0), (2, 3, 1), (5, 2, 2), (5, 1, 3), (10, 3, 4)])
def test_profile_weight_is_the_best_candidate_by_hand(K, labels_per_example, seed):
    """The weight, floor and crowd accuracy of profile_weight against the likelihood computed
    by hand at every candidate (every accuracy, not the coarse grid refined around its best;
    each floor's prior built directly, not as a mix of two products), with the rule: the
    classifier as it is unless another candidate is better by more than LR_MARGIN."""
    L, truth = _crowd(300, K, 0.7, labels_per_example, seed)
    L[: 150 if labels_per_example > 1 else 0, 20:] = np.nan  # mix the label counts
    keep = np.isfinite(L).any(axis=1)
    L, truth = L[keep], truth[keep]
    Q = _classifier(truth, K, 1.0, seed, sharpen=2.0)
    ann = check_annotations(L)
    weights, floors = (0.5, 1.0, 2.0), (_confusion.FLOOR, 0.05, 0.3)
    w, floor, a = _confusion.profile_weight(ann, Q, np.random.default_rng(0), weights=weights, floors=floors)
    multi = np.isfinite(L).sum(axis=1) >= 2
    sharpen = np.count_nonzero(multi) >= _confusion.MIN_MULTI and not _weaker_by_hand(L, Q)
    cands = [(ww, ff) for ww in weights for ff in floors if ww <= 1.0 or sharpen]
    fits, means = {}, {}
    for ww, ff in cands:
        lls, accs = _profile_by_hand(L, Q, ww, ff, K)
        top = np.flatnonzero(lls >= lls.max() - 1e-9 * abs(lls.max()))[-1]
        fits[ww, ff] = (lls[top], accs[top])
        means[ww, ff] = _mean_accuracy_by_hand(L, Q, ww, ff, K)
    best = max(fits, key=lambda c: fits[c][0])
    face = (1.0, _confusion.FLOOR)
    at_chance = fits[face][1] <= accs[0] and np.mean(multi) >= 0.5
    if fits[best][0] - fits[face][0] <= _confusion.LR_MARGIN and not at_chance:
        best = face
    assert (w, floor) == best
    assert a == pytest.approx(means[best], abs=2e-4)


def test_crowd_accuracy_is_the_posterior_mean_by_hand_with_many_equal_labels_and_when_flat():
    """crowd_accuracy against the integral by hand where the likelihood's computation takes
    each example relative to its largest vote count (150 equal labels on some examples), and
    the highest candidate when the labels cannot tell the accuracy at all (one label each and a
    classifier at exactly 1/2 everywhere, or no classifier)."""
    rng = np.random.default_rng(3)
    L, truth = _crowd(200, 3, 0.7, 2, 3, n_annotators=160)
    L[:5] = np.nan
    L[:5, :150] = truth[:5, None]  # 150 labels, all right, on five examples
    Q = _classifier(truth, 3, 0.8, 4)
    ann = check_annotations(L, n_classes=3)
    for w, floor in [(1.0, _confusion.FLOOR), (0.5, 0.05), (0.0, _confusion.FLOOR)]:
        a = _confusion.crowd_accuracy(ann, Q, w, floor)
        assert a == pytest.approx(_mean_accuracy_by_hand(L, Q, w, floor, 3), abs=2e-4)
    L1 = np.full((50, 10), np.nan)
    L1[np.arange(50), rng.integers(0, 10, 50)] = rng.integers(0, 2, 50)
    ann1 = check_annotations(L1, n_classes=2)
    top = 0.5 + 0.5 * _confusion._ACC_STEPS[-1]
    assert _confusion.crowd_accuracy(ann1, np.full((50, 2), 0.5), 1.0, _confusion.FLOOR) == top
    assert _confusion.crowd_accuracy(ann1, None, 0.0, _confusion.FLOOR) == top


def _rule_by_hand(fits, accs, multi):
    """profile_weight's choice among candidates fitted by hand: the classifier as it is unless
    another candidate is better by more than LR_MARGIN, or it leaves the crowd at chance."""
    best = max(fits, key=lambda c: fits[c][0])
    face = (1.0, _confusion.FLOOR)
    at_chance = fits[face][1] <= accs[0] and np.mean(multi) >= 0.5
    return face if fits[best][0] - fits[face][0] <= _confusion.LR_MARGIN and not at_chance else best


@pytest.mark.parametrize("seed", [0, 1])
def test_profile_weight_withholds_sharpening_the_labels_show_weaker(seed):
    """On the copy of the majority vote below, the likelihood computed by hand prefers a
    weight above 1 by the likelihood-ratio test; the examples with several labels show the
    classifier weaker than an annotator, so profile_weight chooses among the weights up to 1,
    as the same computation restricted to them does."""
    L, truth, mv, Q = _noisy_majority_copy(seed)
    multi = np.isfinite(L).sum(axis=1) >= 2
    weights = (0.5, 1.0, 1.5, 2.0)
    fits, means = {}, {}
    for w in weights:
        lls, accs = _profile_by_hand(L, Q, w, _confusion.FLOOR, 5)
        top = np.flatnonzero(lls >= lls.max() - 1e-9 * abs(lls.max()))[-1]
        fits[w, _confusion.FLOOR] = (lls[top], accs[top])
        means[w, _confusion.FLOOR] = _mean_accuracy_by_hand(L, Q, w, _confusion.FLOOR, 5)
    assert _rule_by_hand(fits, accs, multi)[0] > 1.0  # without the rule: sharpened
    assert _weaker_by_hand(L, Q)
    kept = {c: v for c, v in fits.items() if c[0] <= 1.0}
    w, floor, a = _confusion.profile_weight(check_annotations(L, n_classes=5), Q, np.random.default_rng(0),
                                            weights=weights)
    assert (w, floor) == _rule_by_hand(kept, accs, multi)
    assert a == pytest.approx(means[w, floor], abs=2e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_choose_strength_is_the_best_of_thirteen_candidates_by_hand(seed):
    """The strength and the kind of confusion rows that choose_strength returns predict the
    held-out labels best among the thirteen candidates (four strengths with full rows, the
    same four with one-coin rows and with guessing rows, one accuracy for the crowd), scored
    here one by one on the same two folds; and a crowd of very unequal annotators, most with a
    few labels, is not given a full matrix each."""
    K = 3
    rng = np.random.default_rng(seed)
    n, M = 600, 60
    y = rng.integers(0, K, n)
    acc = np.clip(rng.beta(4.8, 1.2, M), 0.35, 0.98)
    k = np.where(rng.random(n) < 0.5, 1, 3)
    keys = np.log(np.arange(1, M + 1))[None, :] - rng.gumbel(size=(n, M))  # Zipf activity
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    right = rng.random((n, M)) < acc[None, :]
    other = (y[:, None] + rng.integers(1, K, (n, M))) % K
    L = np.where(rank < k[:, None], np.where(right, y[:, None], other), np.nan)
    ann = check_annotations(L)
    s = _confusion.default_shrinkage(K)
    (strength, rows), _ = _confusion.choose_strength(ann, None, 0.0, s, np.random.default_rng(5),
                                                         a_init=0.75, fit_classes=False)
    fold = np.random.default_rng(5).permutation(ann.n_examples) % 2  # as choose_strength draws them
    scores = {}
    for st in _confusion.STRENGTHS:
        for kind in ("full", "one-coin", "spam"):
            if kind != "full" and st == _confusion.STRENGTHS[-1]:
                continue
            sh = _confusion.STRENGTHS[-1] if kind == "one-coin" else s
            scores[st, kind] = sum(_confusion.held_out_loglik(ann, None, 0.0, sh, st, fold == f, 0.75, None, False,
                                                              kind == "spam") for f in range(2))
    assert len(scores) == 13
    assert (strength, rows) == max(scores, key=scores.get)
    assert rows != "full"


def test_a_calibrated_classifier_is_not_floored_by_chance_among_many_candidates():
    """A calibrated classifier (0.85 right), a crowd of 0.7, one label on most examples and
    three on 40: the classifier is kept as it is and the consensus is not below it. With the
    floors searched beside the weights under the one-parameter margin, chance among the 54
    candidates gave weight 3 and floor 0.5 (a prior never above 0.75) and a consensus of 0.686,
    majority vote's, against 0.847 for the classifier."""
    rng = np.random.default_rng(0)
    n, K, M = 1500, 2, 30
    y = rng.integers(0, K, n)
    z = rng.standard_normal((n, K))
    z[np.arange(n), y] += 1.5
    s = 1.5 * z
    P = np.exp(s - s.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    k = np.ones(n, dtype=int)
    k[rng.permutation(n)[:40]] = 3
    rank = np.argsort(np.argsort(rng.random((n, M)), axis=1), axis=1)
    right = rng.random((n, M)) < 0.7
    wrong = (y[:, None] + rng.integers(1, K, (n, M))) % K
    L = np.where(rank < k[:, None], np.where(right, y[:, None], wrong), np.nan)
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert (m.classifier_weight_, m.classifier_floor_) == (1.0, _confusion.FLOOR)
    assert np.mean(m.consensus_label_ == y) >= np.mean(P.argmax(axis=1) == y) - 0.005


def test_the_floor_needs_several_labels_among_the_examples_it_is_chosen_on():
    """More examples than the weight is chosen on (10,000), 25 of them with three labels: the
    subsample holds fewer than 20 such examples, so a soft classifier keeps the default floor
    (was: a floor fitted from single labels, which cannot tell it from a poorer crowd)."""
    rng = np.random.default_rng(1)
    n, K, M = 30_000, 2, 30
    y = rng.integers(0, K, n)
    z = rng.standard_normal((n, K))
    z[np.arange(n), y] += 1.0
    s = 3.0 * z  # over-confident
    P = np.exp(s - s.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    L = np.full((n, M), np.nan)
    L[np.arange(n), rng.integers(0, M, n)] = 0
    first = ~np.isnan(L)
    L[first] = np.where(rng.random(n) < 0.75, y, 1 - y)
    multi = rng.permutation(n)[:25]
    for j in (0, 1):  # two more labels by two other annotators
        cols = (np.argmax(first[multi], axis=1) + 1 + j) % M
        L[multi, cols] = np.where(rng.random(25) < 0.75, y[multi], 1 - y[multi])
    assert np.count_nonzero(np.isfinite(L).sum(axis=1) >= 2) == 25
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    assert m.classifier_floor_ == _confusion.FLOOR


def test_a_floor_that_fails_its_test_leaves_the_best_weight_to_be_tested():
    """A weak, over-confident classifier (right on 0.49 of three classes), a crowd with 34
    examples of three labels: the best candidate has a floor but does not beat the classifier
    as it is by 3.0; the best weight without a floor (0.5) does beat it by 1.92 and is kept, as
    when no floor is offered (was: the classifier as it is, weight 1, and a consensus of 0.689
    against 0.741)."""
    rng = np.random.default_rng(43)
    n, K = int(rng.integers(200, 1500)), int(rng.choice([2, 3, 5]))
    fm, sig, sh = float(rng.uniform(0.03, 0.3)), float(rng.uniform(0.5, 1.5)), float(rng.uniform(0.7, 2.0))
    rng = np.random.default_rng(43)
    M = 40
    y = rng.integers(0, K, n)
    a = np.clip(rng.beta(6, 2, M), 1 / K, 0.98)
    k = np.where(rng.random(n) < fm, 3, 1)
    keys = np.log(np.arange(1, M + 1))[None, :] - rng.gumbel(size=(n, M))
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    right = rng.random((n, M)) < a[None, :]
    other = (y[:, None] + rng.integers(1, K, (n, M))) % K
    L = np.where(rank < k[:, None], np.where(right, y[:, None], other), np.nan)
    z = rng.standard_normal((n, K))
    z[np.arange(n), y] += sig
    s = sh * sig * z
    P = np.exp(s - s.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    ann = check_annotations(L)
    Q = _confusion.classifier_probs(P[None])
    with_floors = _confusion.profile_weight(ann, Q.copy(), None, floors=_confusion.FLOORS, floor_test=True)
    without = _confusion.profile_weight(ann, Q.copy(), None, floors=(_confusion.FLOOR,), floor_test=True)
    assert with_floors == without
    assert without[0] != 1.0
    m = AnnotatorConfusion(random_state=0).fit(L, P)
    face = AnnotatorConfusion(random_state=0, classifier_weight=1.0).fit(L, P)
    assert np.mean(m.consensus_label_ == y) > np.mean(face.consensus_label_ == y)


def test_many_equal_labels_on_one_example_do_not_overflow_the_weight_profile(monkeypatch):
    """150 labels per example from 200 annotators (two classes): ``(a / b) ** votes`` overflows
    a double, and the crowd-wide profile takes each example's likelihood relative to its
    largest vote count instead; where both ways apply they give the same fits."""
    L, truth = _crowd(100, 2, 0.75, 150, 0, n_annotators=200)
    P = _classifier(truth, 2, 1.0, 0)
    model = AnnotatorConfusion(random_state=0).fit(L, P, classes=[0, 1])  # was IndexError (NaN likelihoods)
    assert np.mean(model.consensus_label_ == truth) == 1.0  # 150 labels from a crowd of 0.75 leave no doubt
    L2, t2 = _crowd(300, 3, 0.7, 3, 1, n_annotators=20)
    ann = check_annotations(L2, classes=np.arange(3), n_classes=3)
    Q = _confusion.classifier_probs(_classifier(t2, 3, 1.0, 1)[None])
    fast, _ = _confusion._candidate_fits(ann, Q, ann.n_examples, 3, _confusion.WEIGHTS, _confusion.FLOORS)
    monkeypatch.setattr(_confusion, "MAX_EXP", 0.0)  # every input takes the relative way
    safe, _ = _confusion._candidate_fits(ann, Q, ann.n_examples, 3, _confusion.WEIGHTS, _confusion.FLOORS)
    assert fast.keys() == safe.keys()
    for key in fast:
        assert safe[key][0] == pytest.approx(fast[key][0], rel=1e-10) and safe[key][1] == fast[key][1]


# ----------------------------------------------------------------------------- classifier_shares
def _shares_by_hand(P):
    """The classifier's mean probability of each class, shrunk toward 1/K by the positive-part
    James-Stein factor, at least a quarter of 1/K; by loops."""
    N, K = P.shape
    mean = [sum(P[i, k] for i in range(N)) / N for k in range(K)]
    var = [sum((P[i, k] - mean[k]) ** 2 for i in range(N)) / (N - 1) for k in range(K)]
    spread = sum((mean[k] - 1 / K) ** 2 for k in range(K))
    lam = max(0.0, 1 - sum(var) / N / spread)
    return np.array([max(1 / K + lam * (mean[k] - 1 / K), 0.25 / K) for k in range(K)])


def test_class_shares_shrink_toward_equal_ones_and_are_bounded_below():
    """Shares that differ from equal ones by noise are equal; a class never predicted is divided
    by a quarter of an even share; fewer than two examples: equal shares; a clear excess stays."""
    rng = np.random.default_rng(0)
    K = 4
    noisy = rng.dirichlet(np.ones(K), size=6)  # six random rows: their mean is noise
    np.testing.assert_allclose(_confusion.class_shares(noisy[None]), _shares_by_hand(noisy), rtol=1e-12)
    assert np.allclose(_confusion.class_shares(noisy[None]), 1 / K)  # here: all noise
    never = rng.dirichlet(np.ones(K - 1), size=300)
    never = np.c_[never, np.zeros(300)]  # the last class never predicted
    got = _confusion.class_shares(never[None])
    np.testing.assert_allclose(got, _shares_by_hand(never), rtol=1e-12)
    assert got[-1] == 0.25 / K
    np.testing.assert_array_equal(_confusion.class_shares(never[None, :1]), np.full(K, 1 / K))
    excess = np.tile([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.7, 0.1, 0.1, 0.1]], (100, 1))
    np.testing.assert_allclose(_confusion.class_shares(excess[None]), _shares_by_hand(excess), rtol=1e-12)
    assert _confusion.class_shares(excess[None])[0] > 0.45  # 0.5 measured, shrunk a little
    two = np.stack([excess, excess[::-1]])  # an ensemble: the shares of the models' mean
    np.testing.assert_allclose(_confusion.class_shares(two), _shares_by_hand(two.mean(axis=0)), rtol=1e-12)


def test_removing_the_classifiers_class_shares_is_fitting_on_its_probabilities_over_them():
    """``classifier_shares="remove"`` is the model fitted on each probability over its class's
    shrunk mean (rows renormalised), computed here by hand; the input is not written."""
    K = 3
    L, truth = _crowd(150, K, 0.7, 2, seed=11, n_annotators=10)
    P = _classifier(truth, K, 1.5, seed=12) * np.array([3.0, 1.0, 1.0])
    P /= P.sum(axis=1, keepdims=True)
    P0 = P.copy()
    shares = _shares_by_hand(P)
    divided = P / shares
    divided /= divided.sum(axis=1, keepdims=True)
    got = AnnotatorConfusion(random_state=0, classifier_shares="remove").fit(L, P)
    want = AnnotatorConfusion(random_state=0).fit(L, divided)
    np.testing.assert_array_equal(P, P0)
    np.testing.assert_allclose(got.classifier_shares_, shares, rtol=1e-12)
    np.testing.assert_allclose(got.posterior_, want.posterior_, atol=1e-9)
    assert got.classifier_weight_ == want.classifier_weight_
    assert want.classifier_shares_ is None
    assert AnnotatorConfusion(classifier_shares="remove").fit(L).classifier_shares_ is None  # labels only
    with pytest.raises(ValueError, match="classifier_shares"):
        AnnotatorConfusion(classifier_shares="equal").fit(L, P)
    from skactivelab import get_active_learning_scores

    for bad in ("REMOVE", None, True):  # the scoring path checks the parameters as fit does
        with pytest.raises(ValueError, match="classifier_shares"):
            get_active_learning_scores(L, P, crowd_model=AnnotatorConfusion(classifier_shares=bad))
    with pytest.raises(ValueError, match="shrinkage"):
        get_active_learning_scores(L, P, crowd_model=AnnotatorConfusion(shrinkage=-3.0))
    # weight 0: the classifier plays no part, no shares are divided out
    assert AnnotatorConfusion(classifier_shares="remove", classifier_weight=0.0).fit(L, P).classifier_shares_ is None


def test_removed_shares_score_the_pool_with_the_labeled_examples_shares():
    """The unlabeled rows' scores divide by the shares of the labeled examples: they equal the
    scores of the model kept as is on both sets of probabilities divided by hand."""
    from skactivelab import get_active_learning_scores

    K = 3
    L, truth = _crowd(120, K, 0.7, 2, seed=21, n_annotators=8)
    bias = np.array([1.0, 2.5, 1.0])
    P = _classifier(truth, K, 1.2, seed=22) * bias
    P /= P.sum(axis=1, keepdims=True)
    U = _classifier(np.arange(40) % K, K, 1.2, seed=23) * bias
    U /= U.sum(axis=1, keepdims=True)
    shares = _shares_by_hand(P)
    Pd, Ud = P / shares, U / shares
    Pd /= Pd.sum(axis=1, keepdims=True)
    Ud /= Ud.sum(axis=1, keepdims=True)
    for weight in ("auto", 0.5, 2.0):  # the prior's two ways of scoring rows
        got = get_active_learning_scores(L, P, U, crowd_model=AnnotatorConfusion(
            random_state=0, classifier_shares="remove", classifier_weight=weight))
        want = get_active_learning_scores(L, Pd, Ud, crowd_model=AnnotatorConfusion(
            random_state=0, classifier_weight=weight))
        np.testing.assert_allclose(got[0], want[0], atol=1e-9)
        np.testing.assert_allclose(got[1], want[1], atol=1e-9)
        keep = get_active_learning_scores(L, P, U, crowd_model=AnnotatorConfusion(
            random_state=0, classifier_weight=weight))
        assert not np.allclose(keep[1], got[1])  # (the shares moved the pool's scores)


def test_removing_shares_a_classifier_learned_from_the_crowds_bias_recovers_equal_classes():
    """Equal classes; the crowd's wrong labels all go to class 0 and the classifier, as one
    trained on those labels would, carries their excess of class 0. Kept, that excess tips
    split examples to class 0; removed, the consensus has about equal classes and is more
    often right."""
    rng = np.random.default_rng(3)
    K, n, M = 3, 900, 12
    truth = rng.integers(0, K, n)
    L = np.full((n, M), np.nan)
    who = np.argsort(rng.random((n, M)), axis=1)[:, :2]
    right = rng.random((n, 2)) < 0.65
    np.put_along_axis(L, who, np.where(right, truth[:, None], 0).astype(float), axis=1)
    P = _classifier(truth, K, 1.0, seed=4) * np.array([2.5, 1.0, 1.0])
    P /= P.sum(axis=1, keepdims=True)
    keep = AnnotatorConfusion(random_state=0).fit(L, P)
    remove = AnnotatorConfusion(random_state=0, classifier_shares="remove").fit(L, P)
    share0 = lambda m: np.mean(m.consensus_label_ == 0)  # noqa: E731
    assert share0(keep) > share0(remove)
    assert abs(share0(remove) - 1 / 3) < abs(share0(keep) - 1 / 3)
    assert np.mean(remove.consensus_label_ == truth) > np.mean(keep.consensus_label_ == truth)


def _spam_rows_by_hand(counts, prior, strength, a_crowd):
    """The rows ``theta I + (1 - theta) 1 xi'`` maximising, annotator by annotator, the expected
    log-likelihood of the counts plus the log-priors (Beta on ``theta`` with ``strength``
    pseudo-labels at the crowd's chance of knowing, Dirichlet on ``xi`` with ``prior``
    pseudo-labels spread evenly), by a general-purpose optimiser from several starts."""
    from scipy.optimize import minimize
    from scipy.special import expit, softmax

    M, K, _ = counts.shape
    t_c = max(0.0, (K * a_crowd - 1) / (K - 1))
    out = np.empty((M, K, K))
    for j in range(M):  # loop over annotators (by hand)
        def neg(v):
            theta, xi = expit(v[0]), softmax(v[1:])
            C = (1 - theta) * np.tile(xi, (K, 1)) + theta * np.eye(K)
            return -(np.sum(counts[j] * np.log(C)) + strength * (t_c * np.log(theta) + (1 - t_c) * np.log1p(-theta))
                     + prior / K * np.sum(np.log(xi)))
        best = min((minimize(neg, np.r_[t0, np.zeros(K)], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40000, "maxfev": 40000})
                    for t0 in (-3.0, 0.0, 3.0)), key=lambda r: r.fun)
        theta, xi = expit(best.x[0]), softmax(best.x[1:])
        out[j] = (1 - theta) * np.tile(xi, (K, 1)) + theta * np.eye(K)
    return out


@pytest.mark.parametrize("strength", [2.0, 32.0])
def test_spam_rows_maximise_their_posterior_by_hand(strength):
    """spam_rows is the maximum of each annotator's expected log-likelihood and log-priors,
    found here by a general-purpose optimiser; an annotator who always answers class 0 gets a
    chance of knowing near 0 (with a weak pull toward the crowd's) and nearly all its guesses on
    class 0."""
    rng = np.random.default_rng(3)
    K, M = 3, 4
    counts = rng.gamma(0.7, 4.0, (M, K, K))
    counts[0] = 0.0
    counts[0, :, 0] = 20.0  # always class 0, whatever the truth
    counts[1] += 15.0 * np.eye(K)  # a good annotator
    logC, acc, _ = _confusion.spam_rows(counts, 4.0 * K, strength, 0.7)
    want = _spam_rows_by_hand(counts, 4.0 * K, strength, 0.7)
    np.testing.assert_allclose(np.exp(logC), want, atol=2e-5)
    theta = np.exp(logC)[:, 1, 1] - np.exp(logC)[:, 0, 1]
    np.testing.assert_allclose(acc, theta + (1 - theta) / K, rtol=1e-12)
    assert theta[0] < (0.1 if strength == 2.0 else 0.3) and theta[1] > 0.5
    assert np.exp(logC)[0, 1, 0] > 0.6  # the lazy annotator's guesses: class 0
