"""Rows of X matched by example ID: long-format y, pandas y, the learner and the estimators."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import skactivelab as sk

pd = pytest.importorskip("pandas")


def _task(n=60, seed=0):
    """X as a DataFrame indexed by string IDs (in a shuffled order), the true class of each
    ID, and long-format y (two agreeing annotators per example) whose rows come in another
    shuffled order, so the order of first appearance in y is not the order of X."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"ex{i}" for i in rng.permutation(n)], dtype=object)
    values = rng.normal(size=(n, 2))
    truth = (values[:, 0] > 0).astype(int)
    X = pd.DataFrame(values, index=ids, columns=["a", "b"])
    order = rng.permutation(2 * n)
    y = pd.DataFrame({
        "task": np.tile(ids, 2)[order],
        "annotator": np.repeat(["ann", "bob"], n)[order],
        "label": np.tile(truth, 2)[order],
    })
    return X, y, truth


def _clf():
    return sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0)


def test_long_y_with_string_ids_lands_on_the_rows_of_X_by_index():
    X, y, truth = _task()
    clf = _clf().fit(X, y)
    np.testing.assert_array_equal(clf.consensus_labels_, truth)  # every row, by ID
    assert clf.labeled_mask_.all()
    # the same as giving y by row number
    rows = X.index.get_indexer(y["task"])
    ref = _clf().fit(X.to_numpy(), (rows, y["annotator"].to_numpy(), y["label"].to_numpy()))
    np.testing.assert_array_equal(clf.active_learning_scores_, ref.active_learning_scores_)
    # score matches rows by ID too
    assert clf.score(X, y) == pytest.approx(float(np.mean(clf.predict(X) == truth)))


def test_ensemble_aligns_long_y_by_index():
    X, y, truth = _task(seed=1)
    ens = sk.MultiAnnotatorEnsembleClassifier([("lr", LogisticRegression())], cv=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ens.consensus_labels_, truth)


def test_unlabeled_rows_of_X_stay_unlabeled():
    X, y, truth = _task(seed=2)
    keep = y["task"].isin(X.index[:40])  # the last 20 rows of X get no label
    clf = _clf().fit(X, y[keep])
    np.testing.assert_array_equal(clf.labeled_mask_, np.arange(60) < 40)
    np.testing.assert_array_equal(clf.consensus_labels_[:40], truth[:40])


def test_integer_ids_that_are_not_row_numbers_follow_the_index():
    X, y, truth = _task(seed=3)
    new_ids = dict(zip(X.index, np.arange(100, 160)[::-1]))  # integer IDs 159..100
    X = X.rename(index=new_ids)
    y = y.assign(task=y["task"].map(new_ids))
    clf = _clf().fit(X, y)
    np.testing.assert_array_equal(clf.consensus_labels_, truth)


def test_series_and_wide_y_are_aligned_to_X_index():
    X, _, truth = _task(seed=4)
    shuffled = X.index[np.random.default_rng(0).permutation(60)]
    y1 = pd.Series(truth, index=X.index).loc[shuffled]
    np.testing.assert_array_equal(_clf().fit(X, y1).consensus_labels_, truth)
    wide = pd.DataFrame({"ann": truth, "bob": truth}, index=X.index).loc[shuffled]
    np.testing.assert_array_equal(_clf().fit(X, wide).consensus_labels_, truth)
    with pytest.raises(ValueError, match="indexes differ"):
        _clf().fit(X, wide.rename(index={shuffled[0]: "stranger"}))


def test_ids_that_cannot_be_matched_are_refused():
    X, y, _ = _task(seed=5)
    with pytest.raises(ValueError, match=r"not integer row numbers of X.*DataFrame indexed by these example IDs"):
        _clf().fit(X.to_numpy(), y)  # X names no rows: the IDs cannot be placed
    bad = y.copy()
    bad.loc[0, "task"] = "nowhere"
    with pytest.raises(ValueError, match=r"example IDs \['nowhere'\] that are not in the index of X"):
        _clf().fit(X, bad)


def test_row_numbers_still_work_with_a_string_index():
    X, y, truth = _task(seed=6)
    rows = X.index.get_indexer(y["task"])
    clf = _clf().fit(X, (rows, y["annotator"].to_numpy(), y["label"].to_numpy()))
    np.testing.assert_array_equal(clf.consensus_labels_, truth)


def test_learner_matches_long_y_by_X_index():
    X, y, truth = _task(seed=7)
    learner = sk.MultiAnnotatorActiveLearner(_clf(), X=X, y=y)
    rows, annotators, labels = learner.annotations
    np.testing.assert_array_equal(labels, truth[rows])  # each label on its example's row
    np.testing.assert_array_equal(learner.estimator.consensus_labels_, truth)


def test_strategies_on_a_dataframe_pool_return_positions():
    X, y, truth = _task(seed=8)
    keep = y["task"].isin(X.index[:40])
    clf = _clf().fit(X, y[keep])
    idx, scores = sk.ActiveLabQuery(random_state=0)(clf, X, n_instances=5)
    ref_idx, _ = sk.ActiveLabQuery(random_state=0, pool="fit")(clf, X.to_numpy(), n_instances=5)
    np.testing.assert_array_equal(idx, ref_idx)  # positions of X's rows, as for an array
    np.testing.assert_array_equal(scores, clf.active_learning_scores_[idx])
