"""Query strategies: selection, pools, baselines, modAL, bad input, rules on PoolRows, the
strategies as scikit-learn estimators."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skactivelab as sk
from skactivelab import (
    ActiveLabQuery,
    EntropyQuery,
    GoodRandomQuery,
    MarginQuery,
    MultiAnnotatorClassifier,
    RandomQuery,
    UncertaintyQuery,
)
from skactivelab.query import entropy_scores, margin_scores, uncertainty_scores


def _data(seed=0, n=120, n_unlabeled=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    truth = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    L = np.where(rng.random((n, 4)) < 0.5, truth[:, None], -1)
    L[:, 0] = truth
    # a few labeled rows where annotators disagree: natural re-label candidates
    L[:6, 1] = 1 - truth[:6]
    L[:6, 2] = -1
    L[:6, 3] = -1
    L[n - n_unlabeled :] = -1
    return X, L, truth


@pytest.fixture(scope="module")
def fitted():
    X, L, truth = _data()
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    return X, L, truth, clf


def _independent_activelab_scores(clf, L):
    """ActiveLab scores composed from public functions, not from the strategy."""
    labeled = (L >= 0).any(axis=1)
    P = clf.oof_pred_probs_
    s_lab, s_unl = sk.get_active_learning_scores(L[labeled], P[labeled], P[~labeled])
    scores = np.empty(L.shape[0])
    scores[labeled], scores[~labeled] = s_lab, s_unl
    return scores


def test_activelab_query_on_fit_pool_matches_public_scores(fitted):
    X, L, _, clf = fitted
    expected = _independent_activelab_scores(clf, L)
    for n in (1, 2, 10):
        idx, scores = ActiveLabQuery(random_state=0)(clf, X, n_instances=n)
        np.testing.assert_array_equal(idx, np.argsort(expected, kind="stable")[:n])
        np.testing.assert_allclose(scores, expected[idx], rtol=1e-12)
        assert np.unique(idx).size == n


def test_relabel_picks_when_they_score_lowest(fitted):
    X, L, _, clf = fitted
    idx, _ = ActiveLabQuery()(clf, X, n_instances=10)
    labeled = (L >= 0).any(axis=1)
    # the conflicting rows 0..5 have one vote each way: some must be picked for re-labeling
    assert labeled[idx].any()
    assert np.isin(idx, np.arange(6)).any()


def test_unlabeled_only_pool_is_traditional_active_learning(fitted):
    X, L, _, clf = fitted
    pool = X[-40:] + 1e-9  # not the fit X: every row is unlabeled
    idx, scores = ActiveLabQuery()(clf, pool, n_instances=5)
    _, expected = clf.active_learning_scores(pool)
    np.testing.assert_array_equal(idx, np.argsort(expected, kind="stable")[:5])
    np.testing.assert_allclose(scores, expected[idx], rtol=1e-12)
    # the same rows with pool="unlabeled" give the same ranking as least confidence
    # with calibrated probabilities (spec 4): monotone in max probability
    u = clf.active_learning_scores(pool)[1]
    conf = sk.temp_scale_pred_probs(clf._fold_mean_proba(pool)[0], clf.temperature_ or 1.0).max(axis=1)
    assert np.all(np.diff(u[np.argsort(conf)]) >= -1e-12)


def test_pool_modes_are_explicit_when_needed(fitted):
    X, L, _, clf = fitted
    idx_fit, _ = ActiveLabQuery(pool="fit")(clf, X, n_instances=3)
    idx_unl, s_unl = ActiveLabQuery(pool="unlabeled")(clf, X, n_instances=3)
    _, expected = clf.active_learning_scores(X)
    np.testing.assert_allclose(s_unl, np.sort(expected)[:3], rtol=1e-12)
    with pytest.raises(ValueError, match="pool='fit' but X_pool has 5 rows"):
        ActiveLabQuery(pool="fit")(clf, X[:5], n_instances=1)


@pytest.mark.parametrize(
    "strategy, fn",
    [(UncertaintyQuery, uncertainty_scores), (MarginQuery, margin_scores), (EntropyQuery, entropy_scores)],
)
def test_model_baselines_use_out_of_fold_predictions(fitted, strategy, fn):
    X, L, _, clf = fitted
    idx, scores = strategy(random_state=0)(clf, X, n_instances=7)
    expected = fn(clf.oof_pred_probs_)
    np.testing.assert_allclose(scores, np.sort(expected)[:7], rtol=1e-12)
    np.testing.assert_allclose(expected[idx], scores, rtol=1e-12)


def test_good_random_prefers_fewest_annotations(fitted):
    X, L, _, clf = fitted
    idx, _ = GoodRandomQuery(random_state=0)(clf, X, n_instances=20)
    assert np.all((L[idx] < 0).all(axis=1))  # 40 unlabeled rows exist: all picks unlabeled
    idx2, _ = GoodRandomQuery(random_state=1)(clf, X, n_instances=20)
    assert set(idx) != set(idx2)  # random among them


def test_random_is_seeded_and_moves_on(fitted):
    X, L, _, clf = fitted
    a = RandomQuery(random_state=3)
    first, _ = a(clf, X, n_instances=5)
    second, _ = a(clf, X, n_instances=5)
    again, _ = RandomQuery(random_state=3)(clf, X, n_instances=5)
    np.testing.assert_array_equal(first, again)
    assert set(first) != set(second)


def test_ties_broken_by_random_state():
    X = np.zeros((30, 2))
    X[:15, 0] = 1
    L = np.full((30, 1), -1)
    L[:15, 0], L[15:20, 0] = 1, 0
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0).fit(X, L)
    # rows 20..29 are identical unlabeled rows: equal scores
    picks = {tuple(ActiveLabQuery(random_state=s)(clf, X[20:] , n_instances=3)[0]) for s in range(6)}
    assert len(picks) > 1
    assert ActiveLabQuery(random_state=1)(clf, X[20:], n_instances=3)[0].tolist() == \
        ActiveLabQuery(random_state=1)(clf, X[20:], n_instances=3)[0].tolist()


def test_exclude_fully_annotated(fitted):
    X, L, _, clf = fitted
    full = (L >= 0).all(axis=1)
    assert full.any()
    idx, _ = ActiveLabQuery(exclude_fully_annotated=True)(clf, X, n_instances=len(X) - full.sum())
    assert not full[idx].any()


def test_pipeline_estimator(fitted):
    X, L, _, _ = fitted
    pipe = make_pipeline(StandardScaler(), MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0))
    pipe.fit(X, L)
    idx, _ = ActiveLabQuery()(pipe, X, n_instances=4)
    expected = pipe[-1].active_learning_scores_
    np.testing.assert_array_equal(idx, np.argsort(expected, kind="stable")[:4])


def test_bad_input(fitted):
    X, L, _, clf = fitted
    q = ActiveLabQuery()
    with pytest.raises(ValueError, match="n_instances must be >= 1"):
        q(clf, X, n_instances=0)
    with pytest.raises(ValueError, match="more than the 120 candidate"):
        q(clf, X, n_instances=121)
    with pytest.raises(ValueError, match="X_pool has 2 features but the estimator was fit with 3"):
        q(clf, X[:, :2], n_instances=1)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        q(MultiAnnotatorClassifier(LogisticRegression()), X, n_instances=1)
    with pytest.raises(TypeError, match="not a MultiAnnotatorClassifier"):
        q(LogisticRegression().fit(X, L[:, 0] > 0), X, n_instances=1)
    with pytest.raises(ValueError, match="pool. parameter of ActiveLabQuery must be a str among"):
        ActiveLabQuery(pool="all")(clf, X, n_instances=1)


# ------------------------------------------------------------------------------ modAL
def test_modal_active_learner_query():
    modAL = pytest.importorskip("modAL")
    from modAL.models import ActiveLearner

    X, L, _ = _data(seed=1)
    learner = ActiveLearner(
        estimator=MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0),
        query_strategy=ActiveLabQuery(random_state=0),
        X_training=X,
        y_training=L,
    )
    clf = learner.estimator
    expected = _independent_activelab_scores(clf, L)
    labeled = (L >= 0).any(axis=1)
    for n in (1, 2, 10):
        idx, rows = learner.query(X, n_instances=n)
        np.testing.assert_array_equal(idx, np.argsort(expected, kind="stable")[:n])
        np.testing.assert_array_equal(rows, X[idx])
        if n == 10:
            assert labeled[idx].any(), "re-label picks expected among the 10 lowest"
    # a pool of unlabeled rows only (traditional active learning)
    idx, rows = learner.query(X[~labeled], n_instances=3)
    np.testing.assert_array_equal(rows, X[~labeled][idx])
    assert modAL is not None


def test_auto_pool_recognises_training_X_by_content(fitted):
    X, L, _, clf = fitted
    assert clf.fit_digest_ is not None
    other = X[::-1].copy()  # same shape, different rows: all unlabeled
    with pytest.warns(UserWarning, match="as many rows .* as the training X"):
        idx, scores = ActiveLabQuery()(clf, other, n_instances=4)
    _, expected = clf.active_learning_scores(other)
    np.testing.assert_allclose(scores, np.sort(expected)[:4], rtol=1e-12)
    idx_fit, s_fit = ActiveLabQuery()(clf, X.copy(), n_instances=4)  # a copy is the same X
    np.testing.assert_allclose(s_fit, np.sort(clf.active_learning_scores_)[:4], rtol=1e-12)


def _frame_data(n=60, seed=0):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    t = (X["a"] > 0).astype(int).to_numpy()
    L = np.where(rng.random((n, 3)) < 0.7, t[:, None], -1)
    L[:, 0] = t
    L[::7, 1] = 1 - t[::7]
    L[50:] = -1
    return X, L


@pytest.fixture(scope="module")
def fitted_frame():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    X, L = _frame_data()
    ct = ColumnTransformer([("num", StandardScaler(), ["a"]), ("cat", OneHotEncoder(), ["c"])])
    clf = MultiAnnotatorClassifier(make_pipeline(ct, LogisticRegression()), cv=3, random_state=0)
    return X, L, clf.fit(X, L)


def test_auto_pool_with_string_columns_is_not_guessed_by_size(fitted_frame):
    """A DataFrame with a string column (the ColumnTransformer case): a pool with as
    many rows but other content is unlabeled, the training frame is the fit pool."""
    X, L, clf = fitted_frame
    assert clf.fit_digest_ is not None
    other = X.sample(frac=1, random_state=1).reset_index(drop=True)
    other["a"] += 5.0
    with pytest.warns(UserWarning, match="pool='fit'"):
        _, scores = ActiveLabQuery()(clf, other, n_instances=3)
    _, expected = clf.active_learning_scores(other)
    np.testing.assert_allclose(scores, np.sort(expected)[:3], rtol=1e-12)
    _, s_fit = ActiveLabQuery()(clf, X.copy(), n_instances=3)
    np.testing.assert_allclose(s_fit, np.sort(clf.active_learning_scores_)[:3], rtol=1e-12)
    # baselines too: the other frame is scored by the final model, not out of fold
    _, u = UncertaintyQuery()(clf, other, n_instances=3)
    np.testing.assert_allclose(u, np.sort(uncertainty_scores(clf.predict_proba(other)))[:3], rtol=1e-12)


def test_auto_pool_says_so_when_a_same_size_pool_differs(fitted_frame):
    """The training frame in another form (``to_numpy()``, another dtype) is not
    recognised by content: that is said, with the fix, instead of silently scoring
    every row as unlabeled; an explicit pool is silent."""
    import warnings

    X, L, clf = fitted_frame
    for variant in (X.astype({"a": "float32"}), X.iloc[::-1].reset_index(drop=True)):
        with pytest.warns(UserWarning, match="pool='fit'"):
            ActiveLabQuery()(clf, variant, n_instances=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ActiveLabQuery(pool="unlabeled")(clf, X.astype({"a": "float32"}), n_instances=2)
        ActiveLabQuery()(clf, X.copy(), n_instances=2)  # the same content: no warning


def test_auto_pool_refuses_to_guess_when_content_cannot_be_hashed(fitted_frame, monkeypatch):
    import skactivelab.strategies as strategies

    X, L, clf = fitted_frame
    monkeypatch.setattr(strategies, "data_digest", lambda X: None)
    with pytest.raises(ValueError, match="pool='fit'.*pool='unlabeled'"):
        ActiveLabQuery()(clf, X, n_instances=2)
    # an explicit pool needs no digest; a pool of another size is never the training X
    assert ActiveLabQuery(pool="fit")(clf, X, n_instances=2)[0].shape == (2,)
    assert ActiveLabQuery(pool="unlabeled")(clf, X, n_instances=2)[0].shape == (2,)
    assert ActiveLabQuery()(clf, X.iloc[:10], n_instances=2)[0].shape == (2,)


def test_auto_pool_object_numpy_array():
    X_frame, L = _frame_data(seed=1)
    X = X_frame.to_numpy()  # object array: floats and strings

    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    ct = ColumnTransformer([("num", StandardScaler(), [0]), ("cat", OneHotEncoder(), [1])])
    clf = MultiAnnotatorClassifier(make_pipeline(ct, LogisticRegression()), cv=3, random_state=0).fit(X, L)
    other = X.copy()
    other[:, 0] = other[:, 0] + 3.0
    _, scores = ActiveLabQuery()(clf, other, n_instances=3)
    np.testing.assert_allclose(scores, np.sort(clf.active_learning_scores(other)[1])[:3], rtol=1e-12)
    _, s_fit = ActiveLabQuery()(clf, X.copy(), n_instances=3)
    np.testing.assert_allclose(s_fit, np.sort(clf.active_learning_scores_)[:3], rtol=1e-12)


# ------------------------------------------------------------------ one rule per strategy
def _hand_rows(seed=0):
    """PoolRows of 5 labeled rows (annotation triples) and 3 unlabeled ones, written by hand."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(3), size=5)[None]
    U = rng.dirichlet(np.ones(3), size=3)[None]
    labeled = np.array([True, False, True, True, False, True, False, True])
    ex = np.array([0, 0, 1, 2, 2, 3, 4])
    ann = np.array([0, 1, 0, 1, 2, 0, 2])
    lab = np.array([0, 1, 2, 1, 1, 0, 2])
    n_per = np.zeros(8, dtype=np.int64)
    n_per[np.flatnonzero(labeled)] = np.bincount(ex)
    return sk.strategies.PoolRows(labeled, n_per, (ex, ann, lab), P, U, random_state=3), P, U, labeled, n_per


@pytest.mark.parametrize("Strategy, fn", [(UncertaintyQuery, uncertainty_scores), (MarginQuery, margin_scores),
                                          (EntropyQuery, entropy_scores)])
def test_model_rule_on_pool_rows(Strategy, fn):
    rows, P, U, labeled, _ = _hand_rows()
    got = Strategy().score_rows(rows, np.random.default_rng(0))
    want = np.empty(8)
    want[labeled] = fn(P[0])
    want[~labeled] = fn(U[0])
    np.testing.assert_array_equal(got, want)
    # an ensemble: the mean prediction of its models
    rows2 = rows._replace(P_lab=np.stack([P[0], P[0][:, ::-1]]), P_unl=np.stack([U[0], U[0][:, ::-1]]))
    got2 = Strategy().score_rows(rows2, np.random.default_rng(0))
    np.testing.assert_allclose(got2[labeled], fn((P[0] + P[0][:, ::-1]) / 2))


def test_activelab_rule_on_pool_rows_matches_the_scoring_function():
    rows, P, U, labeled, _ = _hand_rows()
    for crowd_model in ("crowdlab", "annotator_confusion", "majority_vote"):
        got = ActiveLabQuery(crowd_model=crowd_model).score_rows(rows, np.random.default_rng(0))
        s_lab, s_unl = sk.get_active_learning_scores(rows.annotations, P[0], U[0], random_state=3,
                                                     crowd_model=crowd_model)
        np.testing.assert_array_equal(got[labeled], s_lab)
        np.testing.assert_array_equal(got[~labeled], s_unl)
    # no seed in the rows: one is drawn from the generator, so equal generators give equal scores
    a = ActiveLabQuery().score_rows(rows._replace(random_state=None), np.random.default_rng(5))
    b = ActiveLabQuery().score_rows(rows._replace(random_state=None), np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_random_rules_on_pool_rows():
    rows, _, _, _, n_per = _hand_rows()
    r = RandomQuery().score_rows(rows, np.random.default_rng(7))
    np.testing.assert_array_equal(r, np.random.default_rng(7).random(8))
    g = GoodRandomQuery().score_rows(rows, np.random.default_rng(7))
    # fewest annotations first: the score's integer part is the number of annotations
    np.testing.assert_array_equal(np.floor(g), n_per)
    np.testing.assert_array_equal(g, n_per + np.random.default_rng(7).random(8))


@pytest.mark.parametrize("method, Strategy", [("random", RandomQuery), ("good_random", GoodRandomQuery),
                                              ("entropy", EntropyQuery), ("uncertainty", UncertaintyQuery),
                                              ("activelab", ActiveLabQuery),
                                              ("activelab:annotator_confusion", ActiveLabQuery),
                                              ("activelab_suggest", ActiveLabQuery)])
def test_simulation_scores_each_method_with_its_strategy(method, Strategy, monkeypatch):
    """run_method holds no scoring rule of its own: it calls the strategy's, once per batch."""
    from sklearn.datasets import make_classification

    from skactivelab.simulation import make_task, run_method

    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    task = make_task(X, y, n_annotators=4, random_state=0)
    calls = []
    original = Strategy.score_rows

    def spy(self, rows, rng):
        model = getattr(self, "crowd_model", None)
        calls.append((type(self).__name__, None if model is None else type(model).__name__, rows.labeled.size))
        return original(self, rows, rng)

    monkeypatch.setattr(Strategy, "score_rows", spy)
    run_method(task, method, model="logreg", n_rounds=2, batch_size=4, n_folds=2, random_state=0)
    want_model = {"activelab:annotator_confusion": "AnnotatorConfusion"}.get(
        method, "CrowdLab" if Strategy is ActiveLabQuery else None)
    assert calls == [(Strategy.__name__, want_model, task.y_train.size)] * 2


def test_strategy_on_estimator_equals_rule_on_its_arrays(fitted):
    """The strategy called on an estimator is its rule applied to the estimator's arrays."""
    X, L, truth, clf = fitted
    lab = clf.labeled_mask_
    oof = clf.oof_pred_probs_
    rows = sk.strategies.PoolRows(lab, clf.n_annotations_, L[lab], oof[lab][None], oof[~lab][None],
                                  random_state=0)
    s, _ = UncertaintyQuery(pool="fit").scores(clf, X)
    np.testing.assert_array_equal(s, UncertaintyQuery().score_rows(rows, np.random.default_rng(0)))
    # ActiveLab with another crowd model than the estimator's: the rule on the same arrays
    s_em, _ = ActiveLabQuery(pool="fit", crowd_model="annotator_confusion").scores(clf, X)
    want = ActiveLabQuery(crowd_model="annotator_confusion").score_rows(rows, np.random.default_rng(0))
    np.testing.assert_allclose(s_em, want, rtol=0, atol=1e-12)


def test_pool_rows_are_checked_and_errors_name_the_field():
    rows, P, U, labeled, n_per = _hand_rows()
    rng = np.random.default_rng(0)
    cases = [
        (UncertaintyQuery, rows._replace(P_unl=U[:, :2]), ValueError, "P_unl has 2 rows but 3 pool rows"),
        (UncertaintyQuery, rows._replace(P_lab=P[:, :4]), ValueError, "P_lab has 4 rows but labeled marks 5"),
        (ActiveLabQuery, rows._replace(P_lab=P[0]), ValueError, r"P_lab must be 3-D .*P\[None\]"),
        (UncertaintyQuery, rows._replace(P_unl=None), ValueError, "P_unl is None"),
        (UncertaintyQuery, rows._replace(P_unl=U[:, :, :2]), ValueError, "same models and classes"),
        (RandomQuery, rows._replace(labeled=labeled.astype(int)), TypeError, "labeled must be a 1-D boolean"),
        (RandomQuery, rows._replace(labeled=None), ValueError, "needs PoolRows.labeled"),
        (GoodRandomQuery, rows._replace(n_annotations=None), ValueError, "needs PoolRows.n_annotations"),
        (GoodRandomQuery, rows._replace(n_annotations=n_per[:3]), ValueError, "n_annotations must have one entry"),
        (GoodRandomQuery, rows._replace(n_annotations=n_per.astype(str)), TypeError,
         "n_annotations must hold whole numbers"),
        (GoodRandomQuery, rows._replace(n_annotations=n_per + 0.5), TypeError, "n_annotations must hold whole numbers"),
        (RandomQuery, rows._replace(n_annotations=n_per - 3), ValueError, r"n_annotations must be >= 0 .*got -3"),
        (ActiveLabQuery, rows._replace(annotations=None), ValueError,
         "PoolRows.annotations is None but P_lab has 5 labeled rows"),
        (UncertaintyQuery, rows._replace(P_lab=[[[0.5, 0.5]], [[0.5]]]), TypeError,
         "PoolRows.P_lab must be a numeric array"),
        (UncertaintyQuery, rows._replace(P_unl=[[["a", "b"]]]), TypeError, "PoolRows.P_unl must be a numeric array"),
    ]
    for Q, bad, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            Q().score_rows(bad, rng)
    with pytest.raises(TypeError, match="PoolRows"):
        UncertaintyQuery().score_rows((labeled, n_per), rng)
    # lists are arrays; a seed or None is a generator
    listed = rows._replace(labeled=labeled.tolist(), n_annotations=n_per.tolist())
    np.testing.assert_array_equal(UncertaintyQuery().score_rows(listed, 0),
                                  UncertaintyQuery().score_rows(rows, rng))
    np.testing.assert_array_equal(RandomQuery().score_rows(rows, 3),
                                  np.random.RandomState(3).random_sample(8))
    # the inputs are not modified
    before = [np.copy(a) for a in (labeled, n_per, P, U)]
    for Q in (UncertaintyQuery, RandomQuery, GoodRandomQuery, ActiveLabQuery):
        Q().score_rows(rows, np.random.default_rng(1))
    for a, b in zip((labeled, n_per, P, U), before):
        np.testing.assert_array_equal(a, b)


def test_empty_pools_score_nothing(fitted):
    X, L, truth, clf = fitted
    empty = sk.strategies.PoolRows(np.zeros(0, bool), np.zeros(0, int), None,
                                   np.zeros((1, 0, 2)), np.zeros((1, 0, 2)))
    for Q in (UncertaintyQuery, MarginQuery, EntropyQuery, RandomQuery, GoodRandomQuery):
        assert Q().score_rows(empty, 0).shape == (0,)
        s, cand = Q(pool="unlabeled").scores(clf, X[:0])
        assert s.shape == (0,) and cand.shape == (0,)
        with pytest.raises(ValueError, match="more than the 0 candidate"):
            Q(pool="unlabeled")(clf, X[:0], n_instances=1)
    s, _ = ActiveLabQuery(pool="unlabeled", crowd_model="annotator_confusion").scores(clf, X[:0])
    assert s.shape == (0,)


# ------------------------------------------------------------------ strategies as estimators
STRATEGIES = [ActiveLabQuery, UncertaintyQuery, MarginQuery, EntropyQuery, RandomQuery, GoodRandomQuery]


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
    extra = {"crowd_model": None, "active_learning_method": None} if Strategy is ActiveLabQuery else {}
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
def test_strategy_parameters_validated_by_constraints(fitted, params, message):
    X, _, _, clf = fitted
    q = ActiveLabQuery(**params)
    with pytest.raises(ValueError, match=message):
        q(clf, X, n_instances=1)
    with pytest.raises(ValueError, match=message):
        q.scores(clf, X)


def test_seeded_strategy_moves_on_and_clone_or_set_params_restart(fitted):
    from sklearn.base import clone

    X, _, _, clf = fitted
    q = RandomQuery(random_state=7)
    first = q(clf, X, n_instances=5)[0]
    second = q(clf, X, n_instances=5)[0]
    assert set(first) != set(second)  # the same object does not repeat its picks
    # a clone is the unfitted strategy: it starts the stream from random_state again
    np.testing.assert_array_equal(clone(q)(clf, X, n_instances=5)[0], first)
    # so does the original after set_params(random_state=...)
    q.set_params(random_state=7)
    np.testing.assert_array_equal(q(clf, X, n_instances=5)[0], first)
    assert "_random" not in q.get_params()
