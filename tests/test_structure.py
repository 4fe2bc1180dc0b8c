"""One place for each rule: the shared builders and helpers, checked by hand."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import skactivelab as sk
from skactivelab import crowdlab


def _one_label_each():
    # example 0: annotator "a" says 0; example 1: "b" says 1; example 2: "a" says 1; "c" idle
    labels = np.array([[0, -1, -1], [-1, 1, -1], [1, -1, -1]])
    P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    return labels, P


def test_one_label_per_example_result_by_hand():
    labels, P = _one_label_each()
    res, codes = crowdlab.label_quality(labels, P, one_label="label")
    assert codes.tolist() == [0, 1, 1]
    assert res.consensus_label.tolist() == [0, 1, 1]
    np.testing.assert_allclose(res.consensus_quality_score, [0.9, 0.7, 0.4])
    # annotator 0: labels of quality 0.9 (class 0) and 0.4 (class 1) -> mean 0.65, worst class 1
    np.testing.assert_allclose(res.annotator_quality[:2], [0.65, 0.7])
    assert np.isnan(res.annotator_quality[2])
    assert res.worst_class.tolist() == [1, 1, -1]
    assert res.model_weight == 1.0 and res.temperature is None
    np.testing.assert_array_equal(res.annotator_weights[:2], [1.0, 1.0])


def test_one_label_per_example_public_function_still_refuses():
    labels, P = _one_label_each()
    with pytest.raises(ValueError, match="exactly one annotation"):
        sk.get_label_quality_multiannotator(labels, P)
    with pytest.raises(ValueError, match="one_label"):
        crowdlab.label_quality(labels, P, one_label="maybe")


def test_one_label_per_example_decoded_once_in_class_values():
    labels, P = _one_label_each()
    names = np.array(["cat", "dog"], dtype=object)
    str_labels = np.where(labels >= 0, names[np.maximum(labels, 0)], None)
    res, codes = crowdlab.label_quality(str_labels, P, one_label="label")
    assert codes.tolist() == [0, 1, 1]
    assert res.consensus_label.tolist() == ["cat", "dog", "dog"]
    assert res.worst_class.tolist() == ["dog", "dog", None]


def test_estimator_single_label_uses_the_scoring_layer_result():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    truth = np.where(X[:, 0] > 0, "yes", "no").astype(object)
    y = np.full((40, 2), None, dtype=object)
    y[:20, 0] = truth[:20]
    y[20:30, 1] = truth[20:30]  # every labeled row has exactly one label
    clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0).fit(X, y)
    lab = clf.labeled_mask_
    oof = clf.oof_pred_probs_[lab]
    codes = np.searchsorted(clf.classes_, clf.consensus_labels_[lab])
    # consensus quality = out-of-fold probability of the given label (by hand)
    np.testing.assert_allclose(clf.consensus_quality_[lab], oof[np.arange(lab.sum()), codes])
    assert set(clf.worst_class_.tolist()) <= {"yes", "no"}
    assert clf.label_quality_.consensus_label.tolist() == clf.consensus_labels_[lab].tolist()
    assert clf.label_quality_.example_ids.tolist() == np.flatnonzero(lab).tolist()


# ------------------------------------------------------------------ strategies as estimators
STRATEGIES = [
    sk.ActiveLabQuery, sk.UncertaintyQuery, sk.MarginQuery, sk.EntropyQuery, sk.RandomQuery,
    sk.GoodRandomQuery,
]


@pytest.fixture(scope="module")
def fitted_clf():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    truth = (X[:, 0] > 0).astype(int)
    L = np.where(rng.random((60, 3)) < 0.6, truth[:, None], -1)
    L[:40, 0] = truth[:40]
    L[40:] = -1
    return X, sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)


@pytest.mark.parametrize("Strategy", STRATEGIES)
def test_strategies_are_scikit_learn_estimators(Strategy):
    from sklearn.base import BaseEstimator, clone
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_set_params,
    )

    q = Strategy(pool="unlabeled", exclude_fully_annotated=True, random_state=4)
    assert isinstance(q, BaseEstimator)
    extra = {"active_learning_method": None} if Strategy is sk.ActiveLabQuery else {}
    assert q.get_params() == {"pool": "unlabeled", "exclude_fully_annotated": True, "random_state": 4, **extra}
    assert repr(q) == f"{Strategy.__name__}(exclude_fully_annotated=True, pool='unlabeled', random_state=4)"
    assert clone(q).get_params() == q.get_params()
    name = Strategy.__name__
    check_parameters_default_constructible(name, Strategy())
    check_no_attributes_set_in_init(name, Strategy())
    check_get_params_invariance(name, Strategy())
    check_set_params(name, Strategy())


@pytest.mark.parametrize(
    "params, message",
    [
        ({"pool": "all"}, "'pool' parameter of ActiveLabQuery"),
        ({"exclude_fully_annotated": "yes"}, "'exclude_fully_annotated' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_strategy_parameters_validated_by_constraints(fitted_clf, params, message):
    X, clf = fitted_clf
    q = sk.ActiveLabQuery(**params)
    with pytest.raises(ValueError, match=message):
        q(clf, X, n_instances=1)
    with pytest.raises(ValueError, match=message):
        q.scores(clf, X)


def test_seeded_strategy_moves_on_and_clone_or_set_params_restart(fitted_clf):
    from sklearn.base import clone

    X, clf = fitted_clf
    q = sk.RandomQuery(random_state=7)
    first = q(clf, X, n_instances=5)[0]
    second = q(clf, X, n_instances=5)[0]
    assert set(first) != set(second)  # the same object does not repeat its picks
    # a clone is the unfitted strategy: it starts the stream from random_state again
    np.testing.assert_array_equal(clone(q)(clf, X, n_instances=5)[0], first)
    # so does the original after set_params(random_state=...)
    q.set_params(random_state=7)
    np.testing.assert_array_equal(q(clf, X, n_instances=5)[0], first)
    assert "_random" not in q.get_params()
