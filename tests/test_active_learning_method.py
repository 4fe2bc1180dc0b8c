"""The annotator-confusion crowd model as ActiveLab's crowd model (``crowd_model="annotator_confusion"``),
and its deprecated spelling ``active_learning_method="activelab_em"``."""

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
from skactivelab._phases import score_rows
from skactivelab.crowd_models import AnnotatorConfusion

AC = "annotator_confusion"


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


def test_default_is_unchanged_and_bad_values_fail():
    y, L, P = crowd()
    U = P[:50][::-1]
    a = get_active_learning_scores(L, P, U, random_state=0)
    b = get_active_learning_scores(L, P, U, random_state=0, active_learning_method="activelab")
    c = get_active_learning_scores(L, P, U, random_state=0, crowd_model="crowdlab")
    for x, z, w in zip(a, b, c):
        np.testing.assert_array_equal(x, z)
        np.testing.assert_array_equal(x, w)
    e = get_active_learning_scores(L, P, U, crowd_model=AC)
    assert not np.allclose(a[0], e[0])
    with pytest.raises(ValueError, match="active_learning_method"):
        get_active_learning_scores(L, P, U, active_learning_method="em")
    with pytest.raises(ValueError, match="active_learning_method"):
        get_active_learning_scores_ensemble(L, np.stack([P, P]), active_learning_method="nope")


def test_the_deprecated_alias_warns_and_gives_the_confusion_model():
    y, L, P = crowd()
    U = P[:30]
    want = get_active_learning_scores(L, P, U, random_state=0, crowd_model=AC)
    with pytest.warns(FutureWarning, match="crowd_model='annotator_confusion'"):
        got = get_active_learning_scores(L, P, U, random_state=0, active_learning_method="activelab_em")
    for x, z in zip(want, got):
        np.testing.assert_array_equal(x, z)
    with pytest.raises(ValueError, match="stands for crowd_model='annotator_confusion'"), \
            pytest.warns(FutureWarning):
        get_active_learning_scores(L, P, U, active_learning_method="activelab_em", crowd_model="majority_vote")


def test_confusion_scores_are_posterior_probabilities():
    y, L, P = crowd()
    U = P[:30]
    s_lab, s_unl = get_active_learning_scores(L, P, U, crowd_model=AC, random_state=0)
    fit = AnnotatorConfusion(random_state=0).fit(L, P)
    np.testing.assert_allclose(s_lab, fit.posterior_.max(axis=1))
    # an unlabeled row: the probability that the prior's best guess is right, in (1/K, 1]
    assert s_unl.shape == (30,) and np.all((s_unl > 1 / 3) & (s_unl <= 1))
    # the more confident classifier row scores higher (label it later)
    order = np.argsort(U.max(axis=1), kind="stable")
    assert np.all(np.diff(s_unl[order]) >= -1e-12)
    # an ensemble of one model repeated: the same scores
    s2 = get_active_learning_scores_ensemble(L, np.stack([P, P]), np.stack([U, U]), crowd_model=AC,
                                             random_state=0)
    np.testing.assert_allclose(s2[0], s_lab)
    np.testing.assert_allclose(s2[1], s_unl)


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
    assert base.get_params()["crowd_model"] == "crowdlab"
    assert base.get_params()["active_learning_method"] is None
    a = base.fit(X, L)
    e = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0, crowd_model=AC).fit(X, L)
    lab = a.labeled_mask_
    np.testing.assert_array_equal(a.oof_pred_probs_, e.oof_pred_probs_)  # same folds, same labels in round 1
    # the consensus and the scores are the crowd model's (its fit seeded by the estimator)
    fit = e.active_learning_fit_
    assert type(fit).__name__ == "ConfusionFit"
    np.testing.assert_array_equal(e.consensus_labels_[lab], np.argmax(fit.posterior, axis=1))
    np.testing.assert_array_equal(e.active_learning_scores_[lab], fit.posterior.max(axis=1))
    np.testing.assert_array_equal(e.active_learning_scores_[~lab], score_rows(fit, e.oof_pred_probs_[~lab][None]))
    # the strategy can ask for the other model on a default estimator: the scoring function on
    # the estimator's arrays, seeded by its random_state
    q = ActiveLabQuery(crowd_model=AC).scores(a, X)[0]
    s_lab, s_unl = get_active_learning_scores(a.active_learning_fit_.annotations, a.active_learning_fit_.pred_probs[0],
                                              a.oof_pred_probs_[~lab], crowd_model=AC, random_state=0)
    np.testing.assert_allclose(q[lab], s_lab)
    np.testing.assert_allclose(q[~lab], s_unl)
    # the deprecated spelling: the same fit, with a FutureWarning
    with pytest.warns(FutureWarning, match="annotator_confusion"):
        d = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0,
                                     active_learning_method="activelab_em").fit(X, L)
    np.testing.assert_array_equal(d.active_learning_scores_, e.active_learning_scores_)
    with pytest.raises(ValueError, match="active_learning_method"):
        MultiAnnotatorClassifier(LogisticRegression(), active_learning_method="em").fit(X, L)


def test_learner_option_sets_the_estimator():
    X, y, L = _data(1)
    learner = MultiAnnotatorActiveLearner(MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0),
                                          X=X, y=L, crowd_model=AC)
    assert isinstance(learner.estimator.crowd_model_, AnnotatorConfusion)
    idx, scores = learner.query(n_instances=5)
    np.testing.assert_allclose(scores, np.sort(learner.estimator.active_learning_scores_)[:5])
    with pytest.warns(FutureWarning):
        old = MultiAnnotatorActiveLearner(MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0),
                                          X=X, y=L, active_learning_method="activelab_em")
    np.testing.assert_array_equal(old.estimator.active_learning_scores_, learner.estimator.active_learning_scores_)
    with pytest.raises(ValueError, match="crowd_model"):
        MultiAnnotatorActiveLearner(LogisticRegression(), X=X, crowd_model=AC)


def test_estimator_exposes_the_crowd_model_accuracies():
    X, y, L = _data()
    e = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0, crowd_model=AC).fit(X, L)
    np.testing.assert_array_equal(e.annotator_accuracy_, e.active_learning_fit_.annotator_accuracy)
    # the same model fitted on the estimator's arrays rates the annotators alike
    fit = AnnotatorConfusion(random_state=0).fit(e.active_learning_fit_.annotations,
                                                 e.active_learning_fit_.pred_probs[0])
    np.testing.assert_allclose(e.annotator_accuracy_, fit.annotator_accuracy_, atol=0.05)
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
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0, crowd_model=AC)
    learner = MultiAnnotatorActiveLearner(clf, X=X, y=L)
    est_acc = learner.estimator.annotator_accuracy_
    assert np.argmin(est_acc) == 3 and est_acc[3] < 0.4 < est_acc[:3].min()
    rows = np.arange(40)
    got = learner.suggest_annotators(rows)
    # the best-rated annotator who has not labeled the row
    best, second = np.argsort(-est_acc)[:2]
    want = np.where(who[rows] == best, second, best)
    np.testing.assert_array_equal(got.astype(int), want)
    assert 3 not in got.tolist()


def test_estimator_fits_the_crowd_model_once_per_round(monkeypatch):
    """The scores reuse the consensus's crowd model: one fit per cross-validation round,
    none when scoring a new pool; the scores equal the scoring function's on the same arrays."""
    from skactivelab import _confusion
    from skactivelab._proba import fold_mean_proba

    X, y, L = _data()
    calls = []
    orig = _confusion.fit
    monkeypatch.setattr(_confusion, "fit", lambda *a, **k: calls.append(1) or orig(*a, **k))
    e = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0, max_iter=3, crowd_model=AC).fit(X, L)
    assert len(calls) == e.n_iter_
    pool = np.random.default_rng(5).normal(size=(40, X.shape[1]))
    s_pool = e.active_learning_scores(pool)[1]
    assert len(calls) == e.n_iter_
    monkeypatch.setattr(_confusion, "fit", orig)
    lab = e.labeled_mask_
    fit = e.active_learning_fit_
    np.testing.assert_array_equal(e.active_learning_scores_[lab], fit.scores_labeled)
    np.testing.assert_array_equal(e.active_learning_scores_[~lab], score_rows(fit, e.oof_pred_probs_[~lab][None]))
    ref = score_rows(fit, fold_mean_proba(e.cv_estimators_, pool, e.classes_))
    np.testing.assert_array_equal(s_pool, ref)
