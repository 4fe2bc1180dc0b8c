"""Tests for MultiAnnotatorClassifier / MultiAnnotatorEnsembleClassifier.

Numbers are checked by composing the public scoring functions on the same
folds, or by hand; never against earlier outputs of the estimator itself.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from skactivelab import (
    MultiAnnotatorClassifier,
    MultiAnnotatorEnsembleClassifier,
    get_active_learning_scores,
    get_active_learning_scores_ensemble,
    get_label_quality_multiannotator,
    get_label_quality_multiannotator_ensemble,
    get_majority_vote_label,
)

pd = pytest.importorskip("pandas")


# --------------------------------------------------------------------------- data
def make_data(n=120, m=3, k=2, unlabeled=20, seed=0, odd=True):
    """X, annotation matrix L (NaN missing), truth. Rows at random positions are unlabeled.

    With ``odd`` every labeled row has 1 or 3 labels, so binary majority votes
    have no ties (the reference computations below need no tie-break RNG).
    """
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    truth = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    if k == 3:
        truth = truth + (X[:, 2] > 0.8)
    L = np.where(rng.rand(n, m) < 0.8, truth[:, None], rng.randint(k, size=(n, m))).astype(float)
    if odd:
        single = rng.rand(n) < 0.3
        L[single, 1:] = np.nan
    else:
        L[rng.rand(n, m) < 0.3] = np.nan
        L[np.isnan(L).all(axis=1), 0] = truth[np.isnan(L).all(axis=1)]
    unl = rng.choice(n, unlabeled, replace=False)
    L[unl] = np.nan
    return X, L, truth


def splits_for(labels, n_splits=3, seed=0):
    return list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(labels, labels))


def manual_oof(estimator, X, y, splits, classes):
    """Out-of-fold probabilities by hand: fit a clone per fold, align columns."""
    P = np.zeros((len(y), len(classes)))
    models = []
    for train, test in splits:
        est = clone(estimator).fit(X[train], y[train])
        cols = np.searchsorted(classes, est.classes_)
        P[np.ix_(test, cols)] = est.predict_proba(X[test])
        models.append(est)
    return P, models


# --------------------------------------------------------------------------- compliance
class _TaggedAsClassifier(MultiAnnotatorClassifier):
    """Test-only variant that tells scikit-learn it is a classifier.

    Used to run the classifier-specific estimator checks (and to show why the
    public class is not tagged as one: see test_classifier_tag_breaks_nan_cv).
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        return tags


CLASSIFIER_XFAIL = {
    "check_classifiers_classes": (
        "uses y in {-1, 1}; -1 is scikit-learn's 'no label' marker, which "
        "MultiAnnotatorClassifier honours, so one class is left"
    ),
    "check_classifier_multioutput": (
        "a 2-D y is an annotation matrix (columns = annotators), not a "
        "multi-output target"
    ),
}


@parametrize_with_checks(
    [
        MultiAnnotatorClassifier(LogisticRegression(), cv=3),
        MultiAnnotatorEnsembleClassifier(
            [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))], cv=3
        ),
        _TaggedAsClassifier(DecisionTreeClassifier(random_state=0), cv=3),
    ],
    expected_failed_checks=lambda est: CLASSIFIER_XFAIL if isinstance(est, _TaggedAsClassifier) else {},
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small-class fold warnings
        check(estimator)


def test_not_tagged_classifier_but_classifier_behaviour():
    clf = MultiAnnotatorClassifier(LogisticRegression())
    assert not is_classifier(clf)
    X, L, _ = make_data()
    clf.fit(X, L)
    assert clf.predict_proba(X).shape == (len(X), 2)


# --------------------------------------------------------------------------- numbers
def test_consensus_matches_composed_public_functions():
    X, L, _ = make_data(k=2)
    lab = ~np.isnan(L).all(axis=1)
    L_lab, X_lab = L[lab], X[lab]
    mv = get_majority_vote_label(L_lab)
    splits = splits_for(mv)
    P, models = manual_oof(LogisticRegression(), X_lab, mv, splits, np.array([0, 1]))
    ref = get_label_quality_multiannotator(L_lab, P, calibrate_probs=True)
    U = np.mean([m.predict_proba(X[~lab]) for m in models], axis=0)
    s_lab, s_unl = get_active_learning_scores(L_lab, P, U)

    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=splits, random_state=0).fit(X, L)
    np.testing.assert_array_equal(clf.labeled_mask_, lab)
    np.testing.assert_array_equal(clf.consensus_labels_[lab], ref.consensus_label)
    assert np.all(clf.consensus_labels_[~lab] == -1)
    np.testing.assert_allclose(clf.consensus_quality_[lab], ref.consensus_quality_score)
    assert np.isnan(clf.consensus_quality_[~lab]).all()
    np.testing.assert_allclose(clf.annotator_quality_, ref.annotator_quality)
    np.testing.assert_allclose(clf.annotator_weights_, ref.annotator_weights)
    assert clf.model_weight_ == pytest.approx(ref.model_weight)
    np.testing.assert_allclose(clf.oof_pred_probs_[lab], P)
    np.testing.assert_allclose(clf.oof_pred_probs_[~lab], U)
    np.testing.assert_allclose(clf.active_learning_scores_[lab], s_lab)
    np.testing.assert_allclose(clf.active_learning_scores_[~lab], s_unl)
    np.testing.assert_array_equal(clf.n_annotations_, (~np.isnan(L)).sum(axis=1))
    # the final model: a clone fitted on the labeled rows and their consensus
    final = LogisticRegression().fit(X_lab, ref.consensus_label)
    np.testing.assert_allclose(clf.predict_proba(X), final.predict_proba(X))
    # active_learning_scores() on a new pool: fold-model mean, same scale
    X_new = X[:5] + 0.1
    U_new = np.mean([m.predict_proba(X_new) for m in models], axis=0)
    a, b = clf.active_learning_scores(X_new)
    np.testing.assert_allclose(a, s_lab)
    np.testing.assert_allclose(b, get_active_learning_scores(L_lab, P, U_new)[1])


def test_ensemble_matches_composed_public_functions():
    X, L, _ = make_data(k=2, seed=1)
    lab = ~np.isnan(L).all(axis=1)
    L_lab, X_lab = L[lab], X[lab]
    mv = get_majority_vote_label(L_lab)
    splits = splits_for(mv, seed=1)
    ests = [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))]
    Ps, Us = [], []
    for _, e in ests:
        P, models = manual_oof(e, X_lab, mv, splits, np.array([0, 1]))
        Ps.append(P)
        Us.append(np.mean([m.predict_proba(X[~lab]) for m in models], axis=0))
    P, U = np.stack(Ps), np.stack(Us)
    ref = get_label_quality_multiannotator_ensemble(L_lab, P, calibrate_probs=True)
    s_lab, s_unl = get_active_learning_scores_ensemble(L_lab, P, U)
    clf = MultiAnnotatorEnsembleClassifier(ests, cv=splits).fit(X, L)
    np.testing.assert_array_equal(clf.consensus_labels_[lab], ref.consensus_label)
    np.testing.assert_allclose(clf.model_weight_, ref.model_weight)
    np.testing.assert_allclose(clf.active_learning_scores_[lab], s_lab)
    np.testing.assert_allclose(clf.active_learning_scores_[~lab], s_unl)
    assert clf.oof_pred_probs_.shape == (2, len(X), 2)
    finals = [clone(e).fit(X_lab, ref.consensus_label) for _, e in ests]
    w = ref.model_weight / ref.model_weight.sum()
    expected = sum(wi * f.predict_proba(X) for wi, f in zip(w, finals))
    np.testing.assert_allclose(clf.predict_proba(X), expected)
    assert clf.get_params()["tree__max_depth"] == 2
    assert clf.set_params(tree__max_depth=1).estimators[1][1].max_depth == 1


def test_single_annotation_per_row_uses_the_label():
    X, L, _ = make_data()
    y = L[:, 0].copy()  # 1-D: one annotator, NaN = unlabeled
    lab = ~np.isnan(y)
    splits = splits_for(y[lab].astype(int))
    P, _ = manual_oof(LogisticRegression(), X[lab], y[lab].astype(int), splits, np.array([0, 1]))
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=splits).fit(X, y)
    np.testing.assert_array_equal(clf.consensus_labels_[lab], y[lab])
    np.testing.assert_allclose(clf.consensus_quality_[lab], P[np.arange(lab.sum()), y[lab].astype(int)])
    assert clf.model_weight_ == 1.0 and clf.temperature_ is None
    np.testing.assert_allclose(clf.active_learning_scores_[lab], get_active_learning_scores(y[lab, None], P)[0])
    # a fully labeled 1-D y is plain supervised learning
    y_full = (X[:, 0] > 0).astype(int)
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3).fit(X, y_full)
    np.testing.assert_allclose(clf.predict_proba(X), LogisticRegression().fit(X, y_full).predict_proba(X))


def test_score_against_majority_vote_or_labels():
    X, L, truth = make_data(odd=False, seed=3)
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    lab = ~np.isnan(L).all(axis=1)
    ref = get_majority_vote_label(L[lab], random_state=0)
    pred = clf.predict(X[lab])
    assert clf.score(X, L) == pytest.approx(np.mean(pred == ref))
    assert clf.score(X, truth) == pytest.approx(np.mean(clf.predict(X) == truth))
    w = np.linspace(0.1, 1, len(X))
    assert clf.score(X, truth, sample_weight=w) == pytest.approx(np.average(clf.predict(X) == truth, weights=w))


# --------------------------------------------------------------------------- formats
@pytest.mark.parametrize("fmt", ["nan", "minus1", "frame", "object"])
def test_target_formats_give_same_fit(fmt):
    X, L, _ = make_data()
    ref = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    if fmt == "nan":
        Y = L.copy()
    elif fmt == "minus1":
        Y = np.where(np.isnan(L), -1, L).astype(int)
    elif fmt == "frame":
        Y = pd.DataFrame(L, columns=["ann", "bob", "cy"])
    else:
        Y = np.where(np.isnan(L), None, np.where(L == 1, "dog", "cat")).astype(object)
    Y_before = Y.copy()
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, Y)
    np.testing.assert_allclose(clf.active_learning_scores_, ref.active_learning_scores_)
    if fmt == "object":
        assert clf.classes_.tolist() == ["cat", "dog"]
        assert set(clf.predict(X)) <= {"cat", "dog"}
        assert clf.consensus_labels_[~clf.labeled_mask_].tolist() == [None] * 20
    if fmt == "frame":
        assert clf.annotator_ids_.tolist() == ["ann", "bob", "cy"]
        pd.testing.assert_frame_equal(Y, Y_before)
    else:
        same = (Y == Y_before) | (pd.isna(Y) & pd.isna(Y_before))
        assert np.all(same)


def test_classes_are_the_values_used():
    X, L, _ = make_data()
    L3 = np.where(L == 1, 7, np.where(L == 0, 3, L))
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3).fit(X, L3)
    assert clf.classes_.tolist() == [3, 7]
    assert set(np.unique(clf.predict(X))) <= {3, 7}


def test_feature_names_and_dataframe_X():
    X, L, _ = make_data()
    Xdf = pd.DataFrame(X, columns=list("abcd"))
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3).fit(Xdf, L)
    assert clf.n_features_in_ == 4
    assert clf.feature_names_in_.tolist() == list("abcd")


def test_class_never_chosen_as_consensus_is_padded():
    X, L, _ = make_data()
    L = L.copy()
    agree = np.flatnonzero(~np.isnan(L[:, 2]) & (L[:, 0] == L[:, 1]))
    L[agree[:3], 2] = 2  # class 2 only as a minority label: never the consensus
    # the majority vote never picks 2, so no model trains on it
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    assert clf.classes_.tolist() == [0, 1, 2]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba[:, 2], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.isneginf(clf.predict_log_proba(X)[:, 2]).all()
    d = clf.decision_function(X)
    assert d.shape == (len(X), 3) and np.isneginf(d[:, 2]).all()
    np.testing.assert_allclose(clf.oof_pred_probs_[:, 2], 0.0)


# --------------------------------------------------------------------------- sklearn integration
def test_clone_params_pickle():
    X, L, _ = make_data()
    clf = MultiAnnotatorClassifier(LogisticRegression(C=0.5), cv=3, random_state=0)
    assert clf.get_params()["estimator__C"] == 0.5
    clf.set_params(estimator__C=2.0)
    assert clf.estimator.C == 2.0
    c2 = clone(clf)
    assert c2.get_params()["estimator__C"] == 2.0 and c2.estimator is not clf.estimator
    clf.fit(X, L)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(again.active_learning_scores_, clf.active_learning_scores_)


def test_pipeline():
    X, L, _ = make_data()
    pipe = Pipeline([("scale", StandardScaler()), ("mac", MultiAnnotatorClassifier(LogisticRegression(), cv=3))])
    pipe.fit(X, L)
    assert pipe.predict(X).shape == (len(X),)
    assert 0.5 < pipe.score(X, L) <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["nan", "minus1", "frame"])
def test_grid_search_and_cross_val_score_default_cv_and_scoring(fmt):
    X, L, _ = make_data(n=150, unlabeled=15)
    if fmt == "minus1":
        L = np.where(np.isnan(L), -1, L).astype(int)
    elif fmt == "frame":
        L = pd.DataFrame(L)
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0)
    scores = cross_val_score(clf, X, L)
    assert scores.shape == (5,) and np.all(np.isfinite(scores)) and scores.mean() > 0.6
    gs = GridSearchCV(clf, {"estimator__C": [0.1, 1.0]}).fit(X, L)
    assert np.isfinite(gs.best_score_)
    assert gs.best_estimator_.consensus_labels_.shape == (150,)


def test_classifier_tag_breaks_nan_cv():
    """The mechanism documented in docs/estimator.md: with the classifier tag,
    check_cv asks type_of_target(y) to choose StratifiedKFold, which rejects NaN."""
    X, L, _ = make_data()
    with pytest.raises(ValueError, match="NaN"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN -> int cast inside type_of_target
        cross_val_score(_TaggedAsClassifier(LogisticRegression(), cv=3), X, L)


def test_metadata_routing_sample_weight():
    X, L, _ = make_data()
    w = np.random.RandomState(0).uniform(0.1, 2, size=len(X))
    with config_context(enable_metadata_routing=True):
        inner = LogisticRegression().set_fit_request(sample_weight=True)
        clf = MultiAnnotatorClassifier(inner, cv=3, random_state=0).fit(X, L, sample_weight=w)
        lab = clf.labeled_mask_
        ref = LogisticRegression().fit(X[lab], clf.consensus_labels_[lab], sample_weight=w[lab])
        np.testing.assert_allclose(clf.estimator_.coef_, ref.coef_)
        unweighted = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
        assert not np.allclose(clf.oof_pred_probs_, unweighted.oof_pred_probs_)
    with pytest.raises(ValueError, match="sample_weight"):
        MultiAnnotatorClassifier(LogisticRegression(), cv=3).fit(X, L, sample_weight=w)


@pytest.mark.parametrize(
    "estimator",
    [
        DecisionTreeClassifier(max_depth=3, random_state=0),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression()),
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0),
        CalibratedClassifierCV(LinearSVC(), cv=3),
    ],
    ids=["tree", "hgb", "pipeline", "mlp", "calibrated-linearsvc"],
)
def test_any_classifier(estimator):
    X, L, _ = make_data(k=3, odd=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence
        clf = MultiAnnotatorClassifier(estimator, cv=3, random_state=0).fit(X, L)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all((clf.active_learning_scores_ >= 0) & (clf.active_learning_scores_ <= 1))
    assert hasattr(clf, "decision_function") == hasattr(estimator, "decision_function")


@pytest.mark.slow
def test_same_random_state_same_result_and_parallel():
    X, L, _ = make_data(odd=False, seed=5)
    a = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=7, max_iter=3).fit(X, L)
    b = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=7, max_iter=3, n_jobs=2).fit(X, L)
    np.testing.assert_array_equal(a.active_learning_scores_, b.active_learning_scores_)
    np.testing.assert_array_equal(a.consensus_labels_, b.consensus_labels_)
    np.testing.assert_array_equal(a.oof_pred_probs_, b.oof_pred_probs_)
    assert 1 <= a.n_iter_ <= 3


def test_max_iter_retrains_on_consensus():
    X, L, _ = make_data(seed=4)
    lab = ~np.isnan(L).all(axis=1)
    L_lab, X_lab = L[lab], X[lab]
    classes = np.array([0, 1])
    mv = get_majority_vote_label(L_lab)
    splits = splits_for(mv, seed=4)
    P1, _ = manual_oof(LogisticRegression(), X_lab, mv, splits, classes)
    c1 = get_label_quality_multiannotator(L_lab, P1, calibrate_probs=True).consensus_label
    assert not np.array_equal(c1, mv)  # the data make round 2 differ from round 1
    P2, _ = manual_oof(LogisticRegression(), X_lab, c1, splits, classes)
    c2 = get_label_quality_multiannotator(L_lab, P2, calibrate_probs=True).consensus_label

    one = MultiAnnotatorClassifier(LogisticRegression(), cv=splits, max_iter=1).fit(X, L)
    two = MultiAnnotatorClassifier(LogisticRegression(), cv=splits, max_iter=2).fit(X, L)
    assert one.n_iter_ == 1 and two.n_iter_ == 2
    np.testing.assert_array_equal(one.consensus_labels_[lab], c1)
    np.testing.assert_array_equal(two.consensus_labels_[lab], c2)
    np.testing.assert_allclose(two.oof_pred_probs_[lab], P2)
    # stops early once the consensus reproduces its own training labels
    many = MultiAnnotatorClassifier(LogisticRegression(), cv=splits, max_iter=10).fit(X, L)
    assert many.n_iter_ < 10


# --------------------------------------------------------------------------- bad input
def test_length_mismatch():
    X, L, _ = make_data()
    with pytest.raises(ValueError, match="X has 120 rows but y has 119"):
        MultiAnnotatorClassifier(LogisticRegression()).fit(X, L[:-1])


def test_no_labeled_row():
    X, L, _ = make_data()
    with pytest.raises(ValueError, match="no label at all"):
        MultiAnnotatorClassifier(LogisticRegression()).fit(X, np.full_like(L, np.nan))


def test_fewer_labeled_rows_than_folds():
    X, L, _ = make_data()
    L = np.full_like(L, np.nan)
    L[:4, 0] = [0, 1, 0, 1]
    with pytest.raises(ValueError, match="4 labeled row.*cv=5"):
        MultiAnnotatorClassifier(LogisticRegression(), cv=5).fit(X, L)


def test_class_seen_once_warns_and_fits():
    X, L, _ = make_data(k=2)
    L = L.copy()
    row = np.flatnonzero(~np.isnan(L).all(axis=1))[0]
    L[row] = [5, 5, 5]
    with pytest.warns(UserWarning, match=r"5 \(1\)"):
        clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    assert clf.classes_.tolist() == [0, 1, 5]
    # never in a training fold: out-of-fold probability 0 for its own row
    assert clf.oof_pred_probs_[row, 2] == 0.0


def test_y_with_three_dimensions():
    X, L, _ = make_data()
    with pytest.raises(ValueError, match="3 dimensions"):
        MultiAnnotatorClassifier(LogisticRegression()).fit(X, L[:, :, None])


def test_estimator_without_predict_proba():
    X, L, _ = make_data()
    with pytest.raises(TypeError, match="CalibratedClassifierCV"):
        MultiAnnotatorClassifier(LinearSVC()).fit(X, L)


def test_nan_in_X_inner_error_surfaces_unchanged():
    X, L, _ = make_data()
    X = X.copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError) as inner:
        LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(ValueError) as ours:
        MultiAnnotatorClassifier(LogisticRegression(), cv=3).fit(X, L)
    assert str(ours.value) == str(inner.value)
    # an estimator that takes NaN works
    MultiAnnotatorClassifier(HistGradientBoostingClassifier(max_iter=5), cv=3).fit(X, L)


def test_partition_required_for_custom_cv():
    from sklearn.model_selection import ShuffleSplit

    X, L, _ = make_data()
    with pytest.raises(ValueError, match="partition"):
        MultiAnnotatorClassifier(LogisticRegression(), cv=ShuffleSplit(3, random_state=0)).fit(X, L)


def test_dataframe_X_reaches_a_column_transformer_unchanged():
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    X, L, _ = make_data()
    Xdf = pd.DataFrame(X, columns=list("abcd"))
    Xdf["color"] = np.where(X[:, 3] > 0, "red", "blue")
    inner = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["color"]), remainder="passthrough"),
        LogisticRegression(),
    )
    clf = MultiAnnotatorClassifier(inner, cv=3, random_state=0).fit(Xdf, L)
    assert clf.feature_names_in_.tolist() == ["a", "b", "c", "d", "color"]
    assert clf.predict(Xdf).shape == (len(Xdf),)


# --------------------------------------------------------------------------- per-row metadata
@pytest.mark.parametrize("length", [10, 100])
def test_score_sample_weight_of_wrong_length_is_named(length):
    X, L, truth = make_data()
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    with pytest.raises(ValueError, match=rf"sample_weight for score has {length} entries but X has 120 rows"):
        clf.score(X, L, sample_weight=np.ones(length))
    with pytest.raises(TypeError, match="sample_weight for score must be an array-like"):
        clf.score(X, L, sample_weight=2.0)


@pytest.mark.parametrize("ensemble", [False, True])
@pytest.mark.parametrize("length", [10, 100, 121])
def test_fit_sample_weight_of_wrong_length_names_the_expected_length(ensemble, length):
    """Not the size of one fold: the number of rows of X, checked before any fit."""
    X, L, _ = make_data()  # 120 rows, 100 labeled
    with config_context(enable_metadata_routing=True):
        inner = LogisticRegression().set_fit_request(sample_weight=True)
        if ensemble:
            tree = DecisionTreeClassifier(max_depth=2).set_fit_request(sample_weight=True)
            clf = MultiAnnotatorEnsembleClassifier([("lr", inner), ("tree", tree)], cv=3)
        else:
            clf = MultiAnnotatorClassifier(inner, cv=3)
        with pytest.raises(ValueError, match=rf"sample_weight for fit of '\w+' has {length} entries but X has 120 rows"):
            clf.fit(X, L, sample_weight=np.ones(length))


def test_groups_of_wrong_length_are_named():
    from sklearn.model_selection import GroupKFold

    X, L, _ = make_data()
    groups = np.arange(len(X)) % 7
    with config_context(enable_metadata_routing=True):
        clf = MultiAnnotatorClassifier(LogisticRegression(), cv=GroupKFold(3), random_state=0)
        clf.fit(X, L, groups=groups)  # the right length works
        assert clf.n_splits_ == 3
        with pytest.raises(ValueError, match="groups for the cv splitter has 100 entries but X has 120 rows"):
            clf.fit(X, L, groups=groups[clf.labeled_mask_])  # labeled rows only: refused


def test_annotator_ids_from_long_format_are_the_users_ids():
    """IDs in, IDs out: a learner (or anyone) passing long format with annotator IDs
    gets those IDs in annotator_ids_, with every statistic credited to its annotator."""
    X, L, _ = make_data(odd=False, seed=2)
    names = np.array(["zed", "alice", "bob"], dtype=object)
    wide = pd.DataFrame(L, columns=names)
    ref = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, wide)
    rows, cols = np.nonzero(~np.isnan(L))
    # an idle annotator never appears in long format; IDs are not positions
    long = (rows, names[cols], L[rows, cols].astype(int))
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, long)
    assert set(clf.annotator_ids_.tolist()) == set(names)
    assert list(clf.label_quality_.annotator_ids) == list(clf.annotator_ids_)
    by_id = dict(zip(ref.annotator_ids_.tolist(), ref.annotator_quality_))
    for a, q in zip(clf.annotator_ids_.tolist(), clf.annotator_quality_):
        assert q == pytest.approx(by_id[a], rel=1e-12)
    by_id = dict(zip(ref.annotator_ids_.tolist(), ref.num_examples_labeled_))
    for a, k in zip(clf.annotator_ids_.tolist(), clf.num_examples_labeled_):
        assert k == by_id[a] == np.sum(names[cols] == a)
    # integer IDs that are not 0..M-1 stay themselves
    ids = np.array([10, 30, 20])
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(
        X, (rows, ids[cols], L[rows, cols].astype(int))
    )
    assert sorted(clf.annotator_ids_.tolist()) == [10, 20, 30]


@pytest.mark.parametrize("dtype, big", [(np.uint8, 255), (np.uint64, 2**63 + 7)])
def test_unsigned_class_labels_keep_their_values(dtype, big):
    """Unsigned labels (uint8 images, uint64 IDs beyond int64) fit, and unlabeled rows
    get a "no class" marker that does not collide with or wrap a class value."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    X = rng.randn(40, 2)
    y = np.where(X[:, :1] > 0, dtype(big), dtype(3)).repeat(2, axis=1).astype(dtype)
    y_in = y.copy()
    L = y.astype(object)
    L[:6] = None  # six unlabeled rows
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0).fit(X, L)
    assert [int(c) for c in clf.classes_] == [3, big]
    # two annotators always agree: the consensus is their label (hand computation)
    assert [int(v) for v in clf.consensus_labels_[6:]] == [int(v) for v in y[6:, 0]]
    assert all(v is None or v == -1 for v in clf.consensus_labels_[:6])
    np.testing.assert_array_equal(y, y_in)


def test_unsigned_class_labels_as_an_unsigned_array():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(1)
    X = rng.randn(30, 2)
    y = np.where(X[:, :1] > 0, 200, 3).repeat(2, axis=1).astype(np.uint8)
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.consensus_labels_, y[:, 0])
    assert set(np.asarray(clf.worst_class_).tolist()) <= {3, 200}
