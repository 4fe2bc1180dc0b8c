"""The ``active_learning_method="activelab_em"`` option: likelihood-fitted crowd weights."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skactivelab import (
    ActiveLabQuery,
    MultiAnnotatorActiveLearner,
    MultiAnnotatorClassifier,
    get_active_learning_scores,
    get_active_learning_scores_ensemble,
)
from skactivelab._annotations import check_annotations
from skactivelab._em import em_fit


def crowd(seed=0, N=400, K=3, acc=(0.9, 0.8, 0.7, 1 / 3), p_label=0.6):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, N)
    M = len(acc)
    right = rng.random((N, M)) < np.asarray(acc)
    L = np.where(right, y[:, None], (y[:, None] + rng.integers(1, K, (N, M))) % K)
    L = np.where(rng.random((N, M)) < p_label, L, -1)
    L[np.arange(N), rng.integers(0, M - 1, N)] = np.where(rng.random(N) < 0.8, y, (y + 1) % K)  # >= 1 label
    P = np.full((N, K), 0.2 / (K - 1))
    P[np.arange(N), np.where(rng.random(N) < 0.7, y, (y + 1) % K)] = 0.8
    return y, L, P


def test_em_fixed_point_matches_hand_computation():
    """At convergence: post = prior_T * prod of one-coin likelihoods (normalised), and
    each accuracy = (sum of post at the annotator's labels + 1) / (n_labels + 2)."""
    y, L, P = crowd()
    ann = check_annotations(L, n_classes=3)
    fit = em_fit(ann, P[None])
    a, T, post = np.clip(fit["accuracy"], 1 / 3, 1 - 1e-6), fit["temperature"], fit["post"]
    N, K = P.shape
    prior = P ** (1 / T)
    prior /= prior.sum(axis=1, keepdims=True)
    hand = prior.copy()
    for i in range(N):  # the hand computation loops on purpose
        for j in range(L.shape[1]):
            if L[i, j] >= 0:
                lik = np.full(K, (1 - a[j]) / (K - 1))
                lik[L[i, j]] = a[j]
                hand[i] *= lik
    hand /= hand.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(post, hand, atol=1e-3)
    m = L >= 0
    a_hand = [(sum(post[i, L[i, j]] for i in np.flatnonzero(m[:, j])) + 1) / (m[:, j].sum() + 2) for j in range(4)]
    np.testing.assert_allclose(fit["accuracy"], a_hand, atol=2e-3)


def test_em_recovers_annotator_accuracies_and_silences_the_spammer():
    y, L, P = crowd(N=2000)
    fit = em_fit(check_annotations(L, n_classes=3), P[None])
    m = L >= 0
    true_acc = [(L[m[:, j], j] == y[m[:, j]]).mean() for j in range(4)]
    np.testing.assert_allclose(fit["accuracy"], true_acc, atol=0.03)
    # a label of the spammer (accuracy at chance) carries no evidence: clipped to 1/K
    assert fit["accuracy"][3] < 0.4


def test_em_weights_are_not_biased_by_adaptive_relabels():
    """Re-label only the rows whose first label disagrees with the model (what ActiveLab
    does in its first batch): CROWDLAB's agreement-based annotator weights collapse,
    the likelihood-fitted accuracies stay near the truth."""
    from skactivelab import get_label_quality_multiannotator

    rng = np.random.default_rng(1)
    N, K, M = 3000, 4, 6
    acc = np.array([0.85, 0.8, 0.75, 0.7, 0.8, 0.9])
    y = rng.integers(0, K, N)
    full = np.where(rng.random((N, M)) < acc, y[:, None], (y[:, None] + rng.integers(1, K, (N, M))) % K)
    P = np.full((N, K), 0.4 / (K - 1))
    P[np.arange(N), np.where(rng.random(N) < 0.6, y, (y + 1) % K)] = 0.6
    first = rng.integers(0, M, N)
    L = np.full((N, M), -1)
    L[np.arange(N), first] = full[np.arange(N), first]
    pick = np.flatnonzero(L[np.arange(N), first] != P.argmax(axis=1))[:600]  # adaptive choice
    second = (first[pick] + 1 + rng.integers(0, M - 1, pick.size)) % M
    L[pick, second] = full[pick, second]
    fit = em_fit(check_annotations(L, n_classes=K), P[None])
    m = L >= 0
    observed = np.array([(L[m[:, j], j] == y[m[:, j]]).mean() for j in range(M)])
    np.testing.assert_allclose(fit["accuracy"], observed, atol=0.1)
    assert abs(np.mean(fit["accuracy"] - observed)) < 0.04
    res = get_label_quality_multiannotator(L, P)
    # the agreement-based estimate understates every annotator on these rows
    assert np.mean(res.annotator_weights) < 0.5
    s_em = get_active_learning_scores(L, P, active_learning_method="activelab_em")[0]
    cons_em = np.argmax(fit["post"], axis=1)
    assert np.mean(cons_em == y) > np.mean(np.asarray(res.consensus_label) == y)
    assert s_em.shape == (N,)


def test_default_method_is_unchanged_and_bad_values_fail():
    y, L, P = crowd()
    U = P[:50][::-1]
    a = get_active_learning_scores(L, P, U, random_state=0)
    b = get_active_learning_scores(L, P, U, random_state=0, active_learning_method="activelab")
    for x, z in zip(a, b):
        np.testing.assert_array_equal(x, z)
    e = get_active_learning_scores(L, P, U, active_learning_method="activelab_em")
    assert not np.allclose(a[0], e[0])
    with pytest.raises(ValueError, match="active_learning_method"):
        get_active_learning_scores(L, P, U, active_learning_method="em")
    with pytest.raises(ValueError, match="active_learning_method"):
        get_active_learning_scores_ensemble(L, np.stack([P, P]), active_learning_method="nope")


def test_em_scores_are_posterior_and_calibrated_prior_probabilities():
    y, L, P = crowd()
    U = P[:30]
    s_lab, s_unl = get_active_learning_scores(L, P, U, active_learning_method="activelab_em")
    fit = em_fit(check_annotations(L, n_classes=3), P[None])
    np.testing.assert_allclose(s_lab, fit["post"].max(axis=1))
    T = fit["temperature"]
    prior = U ** (1 / T)
    np.testing.assert_allclose(s_unl, (prior / prior.sum(axis=1, keepdims=True)).max(axis=1))
    # ensemble of one model repeated: the same scores
    s2 = get_active_learning_scores_ensemble(L, np.stack([P, P]), np.stack([U, U]),
                                             active_learning_method="activelab_em")
    np.testing.assert_allclose(s2[0], s_lab)
    np.testing.assert_allclose(s2[1], s_unl)
    # no labeled data: the unlabeled score is the largest probability (T = 1)
    np.testing.assert_allclose(get_active_learning_scores(None, None, U, active_learning_method="activelab_em")[1],
                               U.max(axis=1))


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(150, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    L = np.where(rng.random((150, 4)) < 0.4, np.where(rng.random((150, 4)) < 0.8, y[:, None], 1 - y[:, None]), -1)
    L[np.arange(120), rng.integers(0, 4, 120)] = y[:120]
    L[120:] = -1
    return X, y, L


def test_estimator_option_governs_consensus_and_scores():
    X, y, L = _data()
    base = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0)
    assert "active_learning_method" in MultiAnnotatorClassifier._parameter_constraints
    assert base.get_params()["active_learning_method"] == "activelab"
    a = base.fit(X, L)
    e = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0,
                                 active_learning_method="activelab_em").fit(X, L)
    lab = a.labeled_mask_
    np.testing.assert_array_equal(a.oof_pred_probs_, e.oof_pred_probs_)  # same folds, same labels in round 1
    fit = em_fit(a.active_learning_fit_.annotations, a.active_learning_fit_.pred_probs)
    np.testing.assert_array_equal(e.consensus_labels_[lab], np.argmax(fit["post"], axis=1))
    s_lab, s_unl = get_active_learning_scores(a.active_learning_fit_.annotations, a.active_learning_fit_.pred_probs[0], a.oof_pred_probs_[~lab],
                                              active_learning_method="activelab_em")
    np.testing.assert_allclose(e.active_learning_scores_[lab], s_lab)
    np.testing.assert_allclose(e.active_learning_scores_[~lab], s_unl)
    # the strategy can ask for the other method on a default estimator
    q = ActiveLabQuery(active_learning_method="activelab_em").scores(a, X)[0]
    np.testing.assert_allclose(q, e.active_learning_scores_)
    with pytest.raises(ValueError, match="active_learning_method"):
        MultiAnnotatorClassifier(LogisticRegression(), active_learning_method="em").fit(X, L)


def test_learner_option_sets_the_estimator():
    X, y, L = _data(1)
    learner = MultiAnnotatorActiveLearner(MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0),
                                          X=X, y=L, active_learning_method="activelab_em")
    assert learner.estimator.active_learning_method == "activelab_em"
    idx, scores = learner.query(n_instances=5)
    np.testing.assert_allclose(scores, np.sort(learner.estimator.active_learning_scores_)[:5])
    with pytest.raises(ValueError, match="active_learning_method"):
        MultiAnnotatorActiveLearner(LogisticRegression(), X=X, active_learning_method="activelab_em")


def test_estimator_exposes_the_crowd_model_accuracies():
    X, y, L = _data()
    e = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0,
                                 active_learning_method="activelab_em").fit(X, L)
    fit = em_fit(e.active_learning_fit_.annotations, e.active_learning_fit_.pred_probs)  # the same crowd model on the estimator's final arrays
    np.testing.assert_allclose(e.annotator_accuracy_, fit["accuracy"])
    a = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    assert a.annotator_accuracy_ is None


def test_suggestion_ranks_by_crowd_model_accuracy_even_with_one_label_each():
    """With one label per example CROWDLAB cannot rate annotators; the crowd model can, from the
    classifier: the spammer (column 3) is never suggested while a better annotator is free."""
    rng = np.random.default_rng(0)
    N, K = 300, 3
    X = rng.normal(size=(N, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.8).astype(int)
    acc = np.array([0.95, 0.8, 0.7, 1 / 3])
    who = rng.integers(0, 4, N)
    right = rng.random(N) < acc[who]
    L = np.full((N, 4), -1)
    L[np.arange(N), who] = np.where(right, y, (y + rng.integers(1, K, N)) % K)
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0, active_learning_method="activelab_em")
    learner = MultiAnnotatorActiveLearner(clf, X=X, y=L)
    est_acc = learner.estimator.annotator_accuracy_
    assert np.argmax(est_acc) == 0 and np.argmin(est_acc) == 3
    rows = np.arange(40)
    got = learner.suggest_annotators(rows)
    # the best-rated annotator who has not labeled the row: annotator 0 unless it already did
    want = np.where(who[rows] == 0, np.argsort(-est_acc)[1], 0)
    np.testing.assert_array_equal(got.astype(int), want)
    assert 3 not in got.tolist()


@pytest.mark.slow
def test_em_blocks_and_threads_do_not_change_a_bit(monkeypatch):
    """The EM passes run per block of examples, in threads when large: any block size and
    thread count gives exactly the same result."""
    import skactivelab
    from skactivelab import _em

    rng = np.random.default_rng(0)
    N, K, M = 80_000, 10, 30
    y = rng.integers(0, K, N)
    ex = np.repeat(np.arange(N), 2)
    an = (np.arange(ex.size) * 7) % M
    acc = rng.uniform(0.2, 0.95, M)
    lab = np.where(rng.random(ex.size) < acc[an], y[ex], rng.integers(0, K, ex.size))
    P = rng.dirichlet(np.ones(K) * 0.5, N)
    U = rng.dirichlet(np.ones(K) * 0.5, 3 * N)
    ann = check_annotations((ex, an, lab), n_examples=N, n_classes=K)
    def run():
        fit = _em.em_fit(ann, P[None])
        return fit, _em.em_pool_scores(U[None], fit["temperature"])

    monkeypatch.setattr(_em, "BLOCK", 10**9)
    with skactivelab.config_context(n_threads=1):
        ref, ref_unl = run()
    monkeypatch.setattr(_em, "BLOCK", 1000)
    with skactivelab.config_context(n_threads=2):
        got, got_unl = run()
    np.testing.assert_array_equal(got_unl, ref_unl)
    np.testing.assert_array_equal(got["post"], ref["post"])
    assert got["temperature"] == ref["temperature"] and got["n_iter"] == ref["n_iter"]


def test_estimator_fits_the_crowd_model_once_per_round(monkeypatch):
    """The scores reuse the consensus's crowd model: one EM fit per cross-validation round,
    none when scoring a new pool; the scores equal the scoring function's on the same arrays."""
    from skactivelab import _phases
    from skactivelab._proba import fold_mean_proba

    X, y, L = _data()
    calls = []
    orig = _phases.em_fit
    monkeypatch.setattr(_phases, "em_fit", lambda ann, P: calls.append(1) or orig(ann, P))
    e = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0,
                                 active_learning_method="activelab_em").fit(X, L)
    assert len(calls) == e.n_iter_
    pool = np.random.default_rng(5).normal(size=(40, X.shape[1]))
    s_pool = e.active_learning_scores(pool)[1]
    assert len(calls) == e.n_iter_
    monkeypatch.setattr(_phases, "em_fit", orig)
    lab = e.labeled_mask_
    s_lab, s_unl = get_active_learning_scores(e.active_learning_fit_.annotations, e.active_learning_fit_.pred_probs[0], e.oof_pred_probs_[~lab],
                                              active_learning_method="activelab_em")
    np.testing.assert_array_equal(e.active_learning_scores_[lab], s_lab)
    np.testing.assert_array_equal(e.active_learning_scores_[~lab], s_unl)
    ref = get_active_learning_scores(e.active_learning_fit_.annotations, e.active_learning_fit_.pred_probs[0], fold_mean_proba(e.cv_estimators_, pool, e.classes_)[0],
                                     active_learning_method="activelab_em")[1]
    np.testing.assert_array_equal(s_pool, ref)
