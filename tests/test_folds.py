"""Folds: one fold rule and one fold fit for the estimator, the simulation and the command
line; one-class training folds; cross-validating the estimator (ConsensusStratifiedKFold)."""

import warnings

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_predict, cross_val_score

import skactivelab as sk
from skactivelab import simulation
from skactivelab.simulation import protocol
from skactivelab._models import fold_splits


def _binary_with_a_single_row_class(n_labeled=10, n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.full(n, -1)
    y[:n_labeled] = 0
    y[0] = 1  # class 1 has a single labeled row: its fold trains on class 0 only
    return X, y


# ------------------------------------------------------------------ one-class training folds
def test_a_class_with_one_labeled_row_fits():
    X, y = _binary_with_a_single_row_class()
    with pytest.warns(UserWarning, match=r"fewer labeled rows than cv=3 folds: 1 \(1\)"):
        clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, y)
    # the fold holding row 0 trained on class 0 alone: a model predicting class 0
    dummies = [m for m in clf.cv_estimators_[0] if isinstance(m, DummyClassifier)]
    assert len(dummies) == 1 and dummies[0].classes_.tolist() == [0]
    np.testing.assert_array_equal(clf.oof_pred_probs_[0], [1.0, 0.0])  # class 1 never seen out of fold
    assert isinstance(clf.estimator_, LogisticRegression) and clf.estimator_.classes_.tolist() == [0, 1]
    assert clf.predict(X).shape == (30,)
    assert np.isfinite(clf.active_learning_scores_).all()


def test_the_learners_first_teach_with_a_single_row_class():
    X, _ = _binary_with_a_single_row_class()
    learner = sk.MultiAnnotatorActiveLearner(
        sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0), X=X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the small-class warning
        learner.teach([0, 1, 2, 3], [1, 0, 0, 0], annotators="ann")
    assert learner.history_[-1]["refit"] and learner.estimator.labeled_mask_.sum() == 4
    idx, _ = learner.query(n_instances=3)
    assert idx.shape == (3,)


def test_a_one_class_consensus_names_the_class_and_the_fix():
    X = np.random.default_rng(0).normal(size=(12, 2))
    # two classes annotated, but every row's consensus is "a" (the "b" votes are outvoted)
    L = np.array([["a", "a", "b"]] * 6 + [[None] * 3] * 6, dtype=object)
    with pytest.raises(ValueError, match=r"consensus of the labeled rows is the single class 'a'.*other class"):
        sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, consensus_method="majority_vote",
                                    random_state=0).fit(X, L)


# ------------------------------------------------------------------ one fold rule
def test_fold_rule_stratifies_whenever_some_class_can_be():
    y = np.array([0] * 6 + [1] * 2)  # class 1 has fewer rows than folds, class 0 enough
    splits = fold_splits(np.zeros((8, 1)), y, 3, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn's small-class warning
        ref = list(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros((8, 1)), y))
    for (tr, te), (rtr, rte) in zip(splits, ref):
        np.testing.assert_array_equal(te, rte)
    assert [int((y[te] == 0).sum()) for _, te in splits] == [2, 2, 2]  # stratified by hand
    # every class with fewer rows than folds: a shuffled KFold
    y2 = np.array([0, 0, 1, 1])
    ref2 = list(KFold(3, shuffle=True, random_state=0).split(np.zeros((4, 1))))
    assert [te.tolist() for _, te in fold_splits(np.zeros((4, 1)), y2, 3, 0)] == [te.tolist() for _, te in ref2]


def test_estimator_and_simulation_share_the_fold_rule(monkeypatch):
    """Both split through the one rule (they used to disagree on classes smaller than the
    number of folds: the simulation fell back to KFold where the estimator stratified)."""
    from skactivelab import _models, estimator

    calls = []

    def spy(X, y, n_splits, random_state, **kw):
        splits = _models.fold_splits(X, y, n_splits, random_state, **kw)
        calls.append([int((y[te] == 0).sum()) for _, te in splits])
        return splits

    monkeypatch.setattr(protocol, "fold_splits", spy)
    monkeypatch.setattr(estimator, "fold_splits", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    y = np.array([0] * 6 + [1] * 2)
    protocol._cross_val(["logreg"], X, y, X[:2], np.array([0, 1]), 2, 2, 3, np.random.default_rng(1))
    with pytest.warns(UserWarning, match="fewer labeled rows than cv=3"):
        sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, y)
    assert calls == [[2, 2, 2], [2, 2, 2]]  # both stratified: two rows of class 0 per test fold


def test_one_model_factory():
    from skactivelab.cli import make_model as cli_model

    assert cli_model is simulation.make_model
    assert type(simulation.make_model("hgb", 0)).__name__ == "HistGradientBoostingClassifier"
    assert [n for n, _ in simulation.make_model("logistic").steps] == ["standardscaler", "logisticregression"]
    with pytest.raises(ValueError, match="unknown model 'svm'"):
        simulation.make_model("svm")


# ------------------------------------------------------------------ cross-validating the estimator
def _pool_at_the_end(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(80, 2))
    L = np.full((80, 3), np.nan)
    truth = (X[:, 0] > 0).astype(int)
    L[:56, 0] = truth[:56]
    L[:30, 1] = truth[:30]
    return X, L, truth  # rows 56..79: the unlabeled pool, all at the end


def test_default_cv_fold_without_labels_names_the_splitter():
    X, L, _ = _pool_at_the_end()
    clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0)
    with pytest.raises(ValueError, match="ConsensusStratifiedKFold"):
        cross_val_score(clf, X, L, error_score="raise")


def test_consensus_stratified_kfold_scores_every_fold():
    X, L, truth = _pool_at_the_end()
    cv = sk.ConsensusStratifiedKFold(4, shuffle=True, random_state=0)
    splits = list(cv.split(X, L))
    labeled = ~np.isnan(L).all(axis=1)
    assert cv.get_n_splits() == 4 and len(splits) == 4
    assert sorted(np.concatenate([te for _, te in splits]).tolist()) == list(range(80))  # a partition
    for tr, te in splits:
        assert np.intersect1d(tr, te).size == 0 and tr.size + te.size == 80
        assert labeled[te].sum() == 14 and (~labeled[te]).sum() == 6  # 56 / 4 and 24 / 4
        # stratified by consensus: each class's labeled rows split evenly (within one row)
        for k in (0, 1):
            n_k = int(np.sum(truth[:56] == k))
            assert abs(int(np.sum(truth[te][labeled[te]] == k)) - n_k / 4) <= 1
    clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0)
    scores = cross_val_score(clf, X, L, cv=cv, error_score="raise")
    assert np.isfinite(scores).all() and scores.min() > 0.7
    search = GridSearchCV(clf, {"estimator__C": [1e-4, 1.0]}, cv=cv, error_score="raise").fit(X, L)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_ == {"estimator__C": 1.0}  # the tiny C predicts one class
    assert cross_val_predict(clf, X, L, cv=cv).shape == (80,)


def test_consensus_stratified_kfold_reads_any_annotation_format():
    pd = pytest.importorskip("pandas")
    X, L, _ = _pool_at_the_end()
    rows, cols = np.nonzero(~np.isnan(L))
    long = pd.DataFrame({"task": rows, "annotator": cols, "label": L[rows, cols].astype(int)})
    wide = [te.tolist() for _, te in sk.ConsensusStratifiedKFold(3).split(X, L)]
    assert [te.tolist() for _, te in sk.ConsensusStratifiedKFold(3).split(X, long)] == wide
    assert repr(sk.ConsensusStratifiedKFold(3)) == "ConsensusStratifiedKFold(n_splits=3, random_state=None, shuffle=False)"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_splits=1), ValueError, "n_splits must be an integer >= 2"),
    (dict(n_splits=2.5), ValueError, "n_splits must be an integer"),
    (dict(random_state=0), ValueError, "random_state has no effect without shuffle=True"),
    (dict(shuffle="yes"), TypeError, "shuffle must be True or False"),
])
def test_consensus_stratified_kfold_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        sk.ConsensusStratifiedKFold(**kwargs)


def test_consensus_stratified_kfold_needs_labeled_rows_for_every_fold():
    X, L, _ = _pool_at_the_end()
    L[3:] = np.nan
    with pytest.raises(ValueError, match=r"3 labeled row\(s\), fewer than n_splits=5"):
        list(sk.ConsensusStratifiedKFold(5).split(X, L))
