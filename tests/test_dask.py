"""Pools as Dask arrays and DataFrames: lazy results equal to the NumPy path.

Each module-level fixture starts its own small distributed.LocalCluster.
"""

import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import skactivelab as sk  # noqa: E402
from skactivelab import _dask, _kernels as K_  # noqa: E402
from skactivelab.query import entropy_scores, margin_scores, select_batch, uncertainty_scores  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _probs(n, K, seed, zeros=True):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(K) * 0.5, n)
    if zeros:
        P[rng.random((n, K)) < 0.1] = 0.0
        P[:, 0] += 1e-9
        P /= P.sum(axis=1, keepdims=True)
    return P


def _annotations(n, K, seed):
    rng = np.random.default_rng(seed)
    L = np.where(rng.random((n, 4)) < 0.5, rng.integers(0, K, (n, 4)), -1)
    L[:, 0] = rng.integers(0, K, n)
    return L


# --------------------------------------------------------------------------- select_batch
@pytest.mark.parametrize("chunks", [23, 1000])
@pytest.mark.parametrize("seed", [0, 5])
def test_select_batch_equals_numpy_with_ties(client, chunks, seed):
    rng = np.random.default_rng(seed)
    s = np.round(rng.random(403), 1)  # many exact ties
    ds = da.from_array(s, chunks=chunks)
    for n in (1, 7, 60, 403):
        np.testing.assert_array_equal(select_batch(ds, n, random_state=seed), select_batch(s, n, random_state=seed))
    mask = rng.random(403) < 0.4
    for cand in (mask, np.flatnonzero(mask), rng.permutation(np.flatnonzero(mask)), da.from_array(mask, chunks=33)):
        np.testing.assert_array_equal(
            select_batch(ds, 25, candidates=cand, random_state=seed),
            select_batch(s, 25, candidates=np.asarray(cand), random_state=seed),
        )


def test_select_batch_advances_the_callers_generator_like_numpy(client):
    s = np.round(np.random.default_rng(1).random(200), 1)
    ds = da.from_array(s, chunks=30)
    for make in (np.random.RandomState, np.random.default_rng, lambda k: np.random.Generator(np.random.MT19937(k))):
        a, b = make(3), make(3)
        for _ in range(3):  # every call draws from the same stream as the NumPy call
            np.testing.assert_array_equal(select_batch(ds, 9, random_state=a), select_batch(s, 9, random_state=b))
        assert a.random() == b.random()


def test_select_batch_never_materialises_the_scores_in_the_caller(client, monkeypatch):
    s = da.random.RandomState(0).random_sample(10_000, chunks=1_000)
    pulled = []
    real = da.Array.__array__

    def spy(self, *a, **k):
        pulled.append(self.shape)
        return real(self, *a, **k)

    monkeypatch.setattr(da.Array, "__array__", spy)
    monkeypatch.setattr(da.Array, "compute", lambda self, **k: pulled.append(self.shape) or real(self))
    idx = select_batch(s, 5, random_state=0)
    assert pulled == [] and idx.shape == (5,)


def test_select_batch_bad_dask_input(client):
    s = da.from_array(np.array([0.3, np.nan, 0.1, 0.2]), chunks=2)
    with pytest.raises(ValueError, match="NaN at candidate"):
        select_batch(s, 2)
    assert select_batch(s, 2, candidates=np.array([0, 2, 3]), random_state=0).tolist() == [2, 3]
    with pytest.raises(ValueError, match="more than the 3 candidate"):
        select_batch(s, 4, candidates=np.array([0, 2, 3]))
    with pytest.raises(ValueError, match="n_instances must be >= 1"):
        select_batch(s, 0)
    unknown = s[s > 0]  # unknown chunk sizes
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        select_batch(unknown, 1)
    with pytest.raises(ValueError, match="1-D"):
        select_batch(da.zeros((4, 2), chunks=2), 1)


# --------------------------------------------------------------------------- model-only scores
@pytest.mark.parametrize("fn", [uncertainty_scores, margin_scores, entropy_scores])
def test_model_scores_lazy_and_exact(client, fn):
    P = _probs(500, 5, 0)
    dP = da.from_array(P, chunks=(77, 2))  # classes split over chunks: rechunked
    out = fn(dP)
    assert isinstance(out, da.Array) and out.shape == (500,)
    np.testing.assert_array_equal(out.compute(), fn(P))


# --------------------------------------------------------------------------- ActiveLab
@pytest.mark.parametrize("labeled", [True, False])
def test_active_learning_scores_with_dask_pool_equal_numpy(client, labeled):
    K = 4
    P, U, L = _probs(300, K, 1), _probs(1000, K, 2), _annotations(300, K, 3)
    args = (L, P) if labeled else (None, None)
    s_lab, s_unl = sk.get_active_learning_scores(*args, U, random_state=0)
    d_lab, d_unl = sk.get_active_learning_scores(
        *args, da.from_array(U, chunks=(128, K)), random_state=0
    )
    assert isinstance(d_unl, da.Array)
    np.testing.assert_array_equal(d_lab, s_lab)
    np.testing.assert_array_equal(d_unl.compute(), s_unl)


def test_active_learning_scores_single_annotation_and_frame_pool(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    K = 3
    P, U = _probs(100, K, 4), _probs(250, K, 5)
    L = np.random.default_rng(0).integers(0, K, (100, 1))  # one label per example
    s_lab, s_unl = sk.get_active_learning_scores(L, P, U)
    frame = dd.from_pandas(pd.DataFrame(U, columns=["a", "b", "c"]), npartitions=4)
    d_lab, d_unl = sk.get_active_learning_scores(L, P, frame, random_state=None)
    np.testing.assert_array_equal(d_lab, s_lab)
    np.testing.assert_array_equal(d_unl.compute(), s_unl)


def test_active_learning_scores_bad_dask_pool_fails_before_compute(client):
    K = 3
    P, L = _probs(50, K, 0), _annotations(50, K, 1)

    def boom(block):
        raise AssertionError("computed")

    lazy4 = da.zeros((100, 4), chunks=(10, 4)).map_blocks(boom, dtype=float)
    with pytest.raises(ValueError, match="pred_probs_unlabeled has 4 classes .* labeled pred_probs has 3"):
        sk.get_active_learning_scores(L, P, lazy4, random_state=0)
    with pytest.raises(ValueError, match="2 dimensions"):
        sk.get_active_learning_scores(L, P, da.zeros(10, chunks=5), random_state=0)
    with pytest.raises(ValueError, match="pred_probs has 1 models but pred_probs_unlabeled has 2"):
        sk.get_active_learning_scores_ensemble(L, P[None], da.zeros((2, 4, 3)), random_state=0)
    bad = np.full((20, K), 1.0 / K)
    bad[13] = [0.5, np.nan, 0.5]
    _, lazy = sk.get_active_learning_scores(L, P, da.from_array(bad, chunks=(5, K)), random_state=0)
    with pytest.raises(ValueError, match="block of rows 10..14 .*count from 10.*NaN or infinite values in rows \\[3\\]"):
        lazy.compute()  # row 13 = row 3 of its block


def test_worker_kernels_use_one_thread(client, monkeypatch):
    seen = []
    real = K_.in_row_blocks

    def spy(block, n_rows, size):
        seen.append(K_._n_threads(10**9))
        return real(block, n_rows, size)

    monkeypatch.setattr(K_, "in_row_blocks", spy)
    U = _probs(400, 3, 0)
    _, d = sk.get_active_learning_scores(None, None, da.from_array(U, chunks=100), random_state=0)
    d.compute()
    assert seen and set(seen) == {1}


# --------------------------------------------------------------------------- estimator
def _fit_data(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    L = np.where(rng.random((n, 3)) < 0.6, t[:, None], -1)
    L[:, 0] = t
    L[::6, 1] = (t[::6] + 1) % 3
    L[120:] = -1
    return X, L


@pytest.fixture(scope="module")
def fitted():
    from sklearn.linear_model import LogisticRegression

    X, L = _fit_data()
    clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, L)
    return X, L, clf


def test_estimator_on_dask_array_pool(client, fitted):
    X, _, clf = fitted
    pool = np.random.default_rng(9).normal(size=(700, 3))
    dpool = da.from_array(pool, chunks=(100, 2))  # features split: rechunked
    s_lab, s_pool = clf.active_learning_scores(dpool)
    assert isinstance(s_pool, da.Array) and s_pool.shape == (700,)
    ref_lab, ref_pool = clf.active_learning_scores(pool)
    np.testing.assert_array_equal(s_lab, ref_lab)
    np.testing.assert_allclose(s_pool.compute(), ref_pool, rtol=0, atol=0)
    proba = clf.predict_proba(dpool)
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute(), clf.predict_proba(pool), rtol=0, atol=0)
    np.testing.assert_array_equal(clf.predict(dpool).compute(), clf.predict(pool))
    # then pick the batch on the cluster too
    np.testing.assert_array_equal(
        select_batch(s_pool, 10, random_state=0), select_batch(ref_pool, 10, random_state=0)
    )


def test_fold_models_travel_once(client, fitted):
    _, _, clf = fitted
    dpool = da.from_array(np.zeros((1000, 3)), chunks=(50, 3))  # 20 blocks
    _, s_pool = clf.active_learning_scores(dpool)
    graph = dict(s_pool.__dask_graph__())
    import cloudpickle

    model_bytes = len(cloudpickle.dumps(clf.cv_estimators_))
    per_task = [len(cloudpickle.dumps(v)) for v in graph.values()]
    # one task holds the fold models; the 20 block tasks only refer to it
    assert sum(b >= model_bytes for b in per_task) == 1
    assert len(graph) >= 20


@pytest.mark.filterwarnings("error::UserWarning")
def test_estimator_on_dask_dataframe_pool_with_strings(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame({"a": rng.normal(size=n), "c": rng.choice(["x", "y", "z"], n)})
    t = (X["a"] > 0).astype(int).to_numpy()
    L = np.where(rng.random((n, 3)) < 0.7, t[:, None], -1)
    L[:, 0] = t
    L[::5, 1] = 1 - t[::5]
    L[100:] = -1
    ct = ColumnTransformer([("num", StandardScaler(), ["a"]), ("cat", OneHotEncoder(), ["c"])])
    clf = sk.MultiAnnotatorClassifier(make_pipeline(ct, LogisticRegression()), cv=3, random_state=0).fit(X, L)
    pool = pd.DataFrame({"a": rng.normal(size=300), "c": rng.choice(["x", "y", "z"], 300)})
    dpool = dd.from_pandas(pool, npartitions=4)
    _, s_pool = clf.active_learning_scores(dpool)
    np.testing.assert_allclose(s_pool.compute(), clf.active_learning_scores(pool)[1], rtol=0, atol=0)
    np.testing.assert_allclose(clf.predict_proba(dpool).compute(), clf.predict_proba(pool), rtol=0, atol=0)
    np.testing.assert_array_equal(clf.predict(dpool).compute(), clf.predict(pool))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        select_batch(s_pool, 3)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict_proba(dpool.rename(columns={"a": "b"}))
    s_known = s_pool.persist()
    s_known.compute_chunk_sizes()
    np.testing.assert_array_equal(
        select_batch(s_known, 3, random_state=0), select_batch(clf.active_learning_scores(pool)[1], 3, random_state=0)
    )


def test_ensemble_predict_on_dask_pool(client):
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X, L = _fit_data(seed=1)
    clf = sk.MultiAnnotatorEnsembleClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        cv=3, random_state=0,
    ).fit(X, L)
    pool = np.random.default_rng(2).normal(size=(300, 3))
    dpool = da.from_array(pool, chunks=70)
    np.testing.assert_allclose(clf.predict_proba(dpool).compute(), clf.predict_proba(pool), rtol=0, atol=0)
    np.testing.assert_array_equal(clf.predict(dpool).compute(), clf.predict(pool))
    s_lab, s_pool = clf.active_learning_scores(dpool)
    ref_lab, ref_pool = clf.active_learning_scores(pool)
    np.testing.assert_array_equal(s_lab, ref_lab)
    np.testing.assert_array_equal(s_pool.compute(), ref_pool)


def test_estimator_dask_pool_wrong_features(client, fitted):
    _, _, clf = fitted
    with pytest.raises(ValueError, match="4 features"):
        clf.active_learning_scores(da.zeros((10, 4), chunks=5))


def test_cross_validated_fit_on_dask_joblib_backend(client):
    import joblib
    from sklearn.linear_model import LogisticRegression

    X, L = _fit_data(seed=3)
    ref = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, n_jobs=1, random_state=0).fit(X, L)
    with joblib.parallel_backend("dask"):
        clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, n_jobs=-1, random_state=0).fit(X, L)
    np.testing.assert_array_equal(clf.consensus_labels_, ref.consensus_labels_)
    np.testing.assert_array_equal(clf.oof_pred_probs_, ref.oof_pred_probs_)
    np.testing.assert_array_equal(clf.active_learning_scores_, ref.active_learning_scores_)
    np.testing.assert_array_equal(clf.annotator_quality_, ref.annotator_quality_)


@pytest.mark.slow
def test_process_workers(fitted):
    """Worker processes: the fitted models, the labeled part and the random stream's
    states travel by pickle; results still equal the NumPy path."""
    X, _, clf = fitted
    pool = np.random.default_rng(4).normal(size=(400, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster, distributed.Client(cluster) as c:
            _, s_pool = clf.active_learning_scores(da.from_array(pool, chunks=100))
            idx = select_batch(s_pool, 12, random_state=np.random.RandomState(5))
            got = s_pool.compute()
            threads = c.run(lambda: __import__("skactivelab")._kernels._n_threads(10**9))
    ref = clf.active_learning_scores(pool)[1]
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(idx, select_batch(ref, 12, random_state=np.random.RandomState(5)))
    # the nanny sets OMP_NUM_THREADS=1 in its workers: the kernels follow it
    assert set(threads.values()) == {1}


def test_public_get_active_learning_scores_dispatches(client):
    K = 3
    P, U, L = _probs(80, K, 7), _probs(300, K, 8), _annotations(80, K, 9)
    s_lab, s_unl = sk.get_active_learning_scores(L, P, da.from_array(U, chunks=(64, K)), random_state=0)
    ref_lab, ref_unl = sk.get_active_learning_scores(L, P, U, random_state=0)
    assert isinstance(s_unl, da.Array)
    np.testing.assert_array_equal(s_lab, ref_lab)
    np.testing.assert_array_equal(s_unl.compute(), ref_unl)


def test_frame_pool_with_missing_values_names_its_block(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    U = _probs(40, 3, 0)
    U[25, 1] = np.nan
    frame = dd.from_pandas(pd.DataFrame(U), npartitions=4)  # 10 rows each, sizes unknown to Dask
    with pytest.raises(ValueError, match=r"in block 2 .*NaN or infinite values in rows \[5\]"):
        uncertainty_scores(frame).compute()


def test_query_strategies_on_dask_pools(client, fitted):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, _, clf = fitted
    pool = np.random.default_rng(6).normal(size=(333, 3))
    dpool = da.from_array(pool, chunks=50)
    for Q in (sk.ActiveLabQuery, sk.UncertaintyQuery, sk.MarginQuery, sk.EntropyQuery):
        idx, s = Q(random_state=0)(clf, dpool, n_instances=6)
        ref_idx, ref_s = Q(random_state=0)(clf, pool, n_instances=6)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(s, ref_s)
        assert isinstance(s, np.ndarray)
    # as many rows as the training X: a Dask pool is not hashed (that would compute it)
    with pytest.raises(ValueError, match="pool='unlabeled'"):
        sk.ActiveLabQuery()(clf, da.from_array(X, chunks=50), n_instances=2)
    idx, _ = sk.ActiveLabQuery(pool="fit")(clf, da.from_array(X, chunks=50), n_instances=3)
    np.testing.assert_array_equal(idx, sk.ActiveLabQuery(pool="fit")(clf, X, n_instances=3)[0])
    # a Dask DataFrame does not know its length: "auto" asks, "unlabeled" works
    frame = dd.from_pandas(pd.DataFrame(pool), npartitions=3)
    with pytest.raises(ValueError, match="pool='unlabeled'"):
        sk.ActiveLabQuery()(clf, frame, n_instances=2)
    idx, s = sk.ActiveLabQuery(pool="unlabeled", random_state=0)(clf, frame, n_instances=4)
    ref_idx, ref_s = sk.ActiveLabQuery(random_state=0)(clf, pool, n_instances=4)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(s, ref_s)
    # pools whose length is unknown (a filtered Dask array, a Dask DataFrame): every
    # prediction-based rule, and ActiveLab with another crowd model than the estimator's
    filtered = dpool[dpool[:, 0] > -100]
    assert np.isnan(filtered.shape[0])
    for Q in (sk.UncertaintyQuery, sk.MarginQuery, sk.EntropyQuery,
              lambda **kw: sk.ActiveLabQuery(crowd_model="annotator_confusion", **kw)):
        ref_idx, ref_s = Q(random_state=0)(clf, pool, n_instances=5)
        for lazy in (filtered, frame):
            idx, s = Q(pool="unlabeled", random_state=0)(clf, lazy, n_instances=5)
            np.testing.assert_array_equal(idx, ref_idx)
            np.testing.assert_allclose(s, ref_s, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- several models
@pytest.mark.parametrize("labeled", [True, False])
def test_ensemble_scores_with_dask_pool_equal_numpy(client, labeled):
    K, E = 4, 3
    P = np.stack([_probs(200, K, 10 + e) for e in range(E)])
    U = np.stack([_probs(600, K, 20 + e) for e in range(E)])
    L = _annotations(200, K, 30)
    args = (L, P) if labeled else (None, None)
    ref_lab, ref_unl = sk.get_active_learning_scores_ensemble(*args, U, random_state=0)
    d_lab, d_unl = sk.get_active_learning_scores_ensemble(
        *args, da.from_array(U, chunks=(1, 90, 2)), random_state=0
    )
    assert isinstance(d_unl, da.Array)
    np.testing.assert_array_equal(d_lab, ref_lab)
    np.testing.assert_array_equal(d_unl.compute(), ref_unl)


def _tied_pool(n_pairs, seed):
    """Two models; in half the rows they disagree symmetrically, so the mean
    probabilities, the class totals and the models' agreement all tie: only the
    random step decides, and with unequal model weights it changes the score."""
    rng = np.random.default_rng(seed)
    a, b = np.array([0.6, 0.4, 0.0]), np.array([0.4, 0.6, 0.0])
    tied = np.stack([np.tile(a, (n_pairs, 1)), np.tile(b, (n_pairs, 1))])
    agree0 = np.tile([0.9, 0.1, 0.0], (n_pairs // 2, 1))
    agree1 = np.tile([0.1, 0.9, 0.0], (n_pairs // 2, 1))
    agree = np.concatenate([agree0, agree1])
    U = np.concatenate([tied, np.stack([agree, agree])], axis=1)
    return U[:, rng.permutation(U.shape[1])]


def test_ensemble_random_tie_breaks_follow_the_numpy_stream(client):
    from skactivelab._phases import ActiveLabFit

    U = _tied_pool(40, 0)
    fit = ActiveLabFit(None, None, np.empty(0), np.ones(2), np.array([1.0, 3.0]), 0.7, 3)
    dU = da.from_array(U, chunks=(2, 13, 3))
    outcomes = set()
    for seed in range(4):
        a, b = np.random.RandomState(seed), np.random.RandomState(seed)
        ref = fit.score_rows(U.copy(), a)
        got = _dask.pool_scores(fit, dU, b).compute()
        np.testing.assert_array_equal(got, ref)
        assert a.random_sample() == b.random_sample()  # the stream advanced alike
        outcomes.add(tuple(ref))
    assert len(outcomes) > 1  # the random step did decide something


def test_ensemble_estimator_on_dask_frame_pool(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X, L = _fit_data(seed=5)
    clf = sk.MultiAnnotatorEnsembleClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))],
        cv=3, random_state=0,
    ).fit(X, L)
    pool = np.random.default_rng(3).normal(size=(250, 3))
    frame = dd.from_pandas(pd.DataFrame(pool), npartitions=3)
    clf_frame = sk.MultiAnnotatorEnsembleClassifier(clf.estimators, cv=3, random_state=0).fit(pd.DataFrame(X), L)
    _, s_pool = clf_frame.active_learning_scores(frame)
    np.testing.assert_array_equal(s_pool.compute(), clf_frame.active_learning_scores(pd.DataFrame(pool))[1])


def test_public_ensemble_function_dispatches(client):
    K = 3
    P = np.stack([_probs(80, K, 1), _probs(80, K, 2)])
    U = np.stack([_probs(200, K, 3), _probs(200, K, 4)])
    L = _annotations(80, K, 5)
    s_lab, s_unl = sk.get_active_learning_scores_ensemble(L, P, da.from_array(U, chunks=(2, 64, K)), random_state=0)
    ref_lab, ref_unl = sk.get_active_learning_scores_ensemble(L, P, U, random_state=0)
    np.testing.assert_array_equal(s_lab, ref_lab)
    np.testing.assert_array_equal(s_unl.compute(), ref_unl)


# --------------------------------------------------------------------------- more bad input
def test_pool_with_classes_split_over_chunks_is_rechunked(client):
    K = 5
    P, U, L = _probs(120, K, 11), _probs(600, K, 12), _annotations(120, K, 13)
    dU = da.from_array(U, chunks=(97, 2))  # 3 chunks along the class axis
    s_lab, s_unl = sk.get_active_learning_scores(L, P, dU, random_state=1)
    ref_lab, ref_unl = sk.get_active_learning_scores(L, P, U, random_state=1)
    assert s_unl.chunks == (dU.chunks[0],)  # one score per row, rows chunked as given
    np.testing.assert_array_equal(s_lab, ref_lab)
    np.testing.assert_array_equal(s_unl.compute(), ref_unl)
    ens = da.stack([dU, dU[:, ::-1]]).rechunk((1, 97, 2))  # models and classes split
    ref = sk.get_active_learning_scores_ensemble(L, np.stack([P, P[:, ::-1]]),
                                                 np.stack([U, U[:, ::-1]]), random_state=1)[1]
    got = sk.get_active_learning_scores_ensemble(L, np.stack([P, P[:, ::-1]]), ens, random_state=1)[1]
    np.testing.assert_array_equal(got.compute(), ref)


def test_pool_with_unknown_chunk_sizes(client):
    K = 3
    P, U, L = _probs(60, K, 14), _probs(300, K, 15), _annotations(60, K, 16)
    dU = da.from_array(U, chunks=(50, K))
    unknown = dU[dU[:, 0] >= 0]  # every row kept, but Dask no longer knows how many per chunk
    assert not np.isfinite(unknown.shape[0])
    _, lazy = sk.get_active_learning_scores(L, P, unknown, random_state=0)
    ref = sk.get_active_learning_scores(L, P, U, random_state=0)[1]
    np.testing.assert_array_equal(lazy.compute(), ref)  # row-wise: scoring needs no sizes
    with pytest.raises(ValueError, match=r"unknown chunk sizes .*compute_chunk_sizes\(\)"):
        select_batch(lazy, 5, random_state=0)  # positions need them
    known = lazy.persist()
    known.compute_chunk_sizes()
    np.testing.assert_array_equal(select_batch(known, 5, random_state=0), select_batch(ref, 5, random_state=0))
    with pytest.raises(ValueError, match="unknown chunk sizes; call compute_chunk_sizes"):
        sk.get_active_learning_scores_ensemble(L[:, :2], np.stack([P, P]), da.stack([unknown, unknown]))
    cols = da.from_delayed(dask.delayed(np.ones)((10, 3)), shape=(10, np.nan), dtype=float)
    with pytest.raises(ValueError, match="unknown number of columns"):
        sk.get_active_learning_scores(L, P, cols)


def test_frame_pool_with_other_number_of_classes_fails_before_compute(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    K = 3
    P, L = _probs(50, K, 17), _annotations(50, K, 18)
    frame = dd.from_pandas(pd.DataFrame(_probs(40, 4, 19), columns=list("abcd")), npartitions=2)

    def boom(part):
        raise AssertionError("computed")

    lazy = frame.map_partitions(boom, meta=frame._meta)
    with pytest.raises(ValueError, match="pred_probs_unlabeled has 4 classes .* labeled pred_probs has 3"):
        sk.get_active_learning_scores(L, P, lazy)


def test_active_learning_on_frame_pool_with_missing_values(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    K = 3
    P, L = _probs(50, K, 20), _annotations(50, K, 21)
    U = _probs(40, K, 22)
    U[33, 2] = np.nan
    frame = dd.from_pandas(pd.DataFrame(U, columns=list("abc")), npartitions=4)
    _, lazy = sk.get_active_learning_scores(L, P, frame)  # lazy: nothing read yet
    with pytest.raises(ValueError, match=r"in block 3 .*NaN or infinite values in rows \[3\]"):
        lazy.compute()
    with pytest.raises(ValueError, match=r"in block 3 .*NaN or infinite values in rows \[3\]"):
        uncertainty_scores(frame).compute()


def test_every_worker_side_kernel_call_uses_one_thread(client, fitted, monkeypatch):
    """Whatever the entry point, kernels called inside a Dask task never use more than
    one thread (the workers' own threads are the parallelism), even where the caller's
    configuration allows more; in the caller, the configuration holds."""
    import threading

    seen = {}
    real = K_.in_row_blocks

    def spy(block, n_rows, size):
        where = "main" if threading.current_thread() is threading.main_thread() else "worker"
        seen.setdefault(where, set()).add(K_._n_threads(10**9))
        return real(block, n_rows, size)

    monkeypatch.setattr(K_, "in_row_blocks", spy)
    # no enclosing limit (OMP_NUM_THREADS, threadpoolctl) left by other tests or the machine
    monkeypatch.setattr(sk._config, "_env_limit", lambda: None)
    monkeypatch.setattr(sk._config, "_threadpool_limit", lambda: None)
    X, L, clf = fitted
    pool = np.random.default_rng(6).normal(size=(300, 3))
    U = _probs(300, 3, 23)
    with sk.config_context(n_threads=2):
        clf.active_learning_scores(da.from_array(pool, chunks=60))[1].compute()
        sk.get_active_learning_scores(L[:120], clf.oof_pred_probs_[:120], da.from_array(U, chunks=70))[1].compute()
        sk.get_active_learning_scores_ensemble(
            L[:120], np.stack([clf.oof_pred_probs_[:120]] * 2), da.from_array(np.stack([U, U]), chunks=(2, 70, 3))
        )[1].compute()
        uncertainty_scores(da.from_array(U, chunks=70)).compute()
        assert seen.pop("worker") == {1}
        seen.clear()
        K_.max_temp_scaled(np.full((10, 2), 0.5), 2.0)  # in the caller: its configuration
    assert seen == {"main": {min(2, sk._config.available_cpus())}}


# --------------------------------------------------------------------------- empty pools
def _ensemble(seed=1):
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X, L = _fit_data(seed=seed)
    return sk.MultiAnnotatorEnsembleClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        cv=3, random_state=0,
    ).fit(X, L)


@pytest.mark.parametrize("pool_kind", ["array", "frame", "filtered frame"])
@pytest.mark.parametrize("model", ["one model", "ensemble"])
def test_estimator_on_an_empty_dask_pool(client, fitted, pool_kind, model):
    """0 rows in, 0 rows out, as the NumPy pool's scores: never a model asked about 0 rows."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    clf = fitted[2] if model == "one model" else _ensemble()
    empty = np.empty((0, 3))
    pool = {
        "array": da.from_array(empty, chunks=5),
        "frame": dd.from_pandas(pd.DataFrame(empty), npartitions=1),
        "filtered frame": dd.from_pandas(pd.DataFrame(np.ones((40, 3))), npartitions=3)
        .map_partitions(lambda d: d[d[0] > 1]),
    }[pool_kind]
    s_lab, s_pool = clf.active_learning_scores(pool)
    ref_lab, ref_pool = clf.active_learning_scores(empty)
    np.testing.assert_array_equal(s_lab, ref_lab)
    got = s_pool.compute()
    assert got.shape == ref_pool.shape == (0,) and got.dtype == np.float64
    proba = clf.predict_proba(pool).compute()
    assert proba.shape == (0, clf.classes_.size) and proba.dtype == np.float64
    pred = clf.predict(pool).compute()
    assert pred.shape == (0,) and pred.dtype == clf.classes_.dtype


@pytest.mark.parametrize("model", ["one model", "ensemble"])
def test_estimator_on_a_dask_frame_with_empty_partitions(client, fitted, model):
    """A filter that empties some partitions: every result equals the NumPy path on the rows
    that are left, and so does the batch a query strategy picks from them."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    clf = fitted[2] if model == "one model" else _ensemble()
    pool = np.random.default_rng(8).normal(size=(120, 3))
    frame = dd.from_pandas(pd.DataFrame(pool), npartitions=4)  # partitions of 30 rows
    kept = frame.map_partitions(lambda d: d[(d.index // 30) % 2 == 0])  # partitions 1 and 3 empty
    assert [len(p) for p in kept.partitions] == [30, 0, 30, 0]
    rows = pool[(np.arange(120) // 30) % 2 == 0]
    np.testing.assert_array_equal(clf.active_learning_scores(kept)[1].compute(), clf.active_learning_scores(rows)[1])
    np.testing.assert_array_equal(clf.predict_proba(kept).compute(), clf.predict_proba(rows))
    np.testing.assert_array_equal(clf.predict(kept).compute(), clf.predict(rows))
    idx, s = sk.ActiveLabQuery(pool="unlabeled", random_state=0)(clf, kept, n_instances=5)
    ref_idx, ref_s = sk.ActiveLabQuery(pool="unlabeled", random_state=0)(clf, rows, n_instances=5)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(s, ref_s)


@pytest.mark.parametrize("method", ["crowdlab", "annotator_confusion", "majority_vote"])
def test_functions_on_an_empty_dask_pool_give_what_numpy_gives(client, method):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    K = 3
    P, L = _probs(40, K, 23), _annotations(40, K, 24)
    P2 = np.stack([P, _probs(40, K, 25)])
    kw = dict(random_state=0, crowd_model=method)
    ref_lab, ref_unl = sk.get_active_learning_scores(L, P, np.empty((0, K)), **kw)
    for pool in (da.zeros((0, K), chunks=4), dd.from_pandas(pd.DataFrame(np.empty((0, K))), npartitions=1)):
        s_lab, s_unl = sk.get_active_learning_scores(L, P, pool, **kw)
        np.testing.assert_array_equal(s_lab, ref_lab)
        assert s_unl.compute().shape == ref_unl.shape == (0,)
        assert sk.get_active_learning_scores(None, None, pool, **kw)[1].compute().shape == (0,)
    ref_lab, ref_unl = sk.get_active_learning_scores_ensemble(L, P2, np.empty((2, 0, K)), **kw)
    s_lab, s_unl = sk.get_active_learning_scores_ensemble(L, P2, da.zeros((2, 0, K), chunks=(1, 4, K)), **kw)
    np.testing.assert_array_equal(s_lab, ref_lab)
    assert s_unl.compute().shape == ref_unl.shape == (0,)


def test_select_batch_on_empty_dask_scores_gives_what_numpy_gives(client):
    for cand in (None, np.empty(0, dtype=bool), np.empty(0, dtype=np.int64)):
        with pytest.raises(ValueError, match="n_instances=1 is more than the 0 candidate"):
            select_batch(np.empty(0), 1, candidates=cand)
        with pytest.raises(ValueError, match="n_instances=1 is more than the 0 candidate"):
            select_batch(da.zeros(0, chunks=4), 1, candidates=cand)
    # chunks of 0 rows among the others (a filter, then the sizes computed) change nothing
    s = np.round(np.random.default_rng(4).random(60), 1)
    ds = da.from_array(s, chunks=10)
    lazy = ds[(da.arange(60, chunks=10) // 10) % 2 == 0]
    known = lazy.persist()
    known.compute_chunk_sizes()
    assert 0 in known.chunks[0]
    left = s[(np.arange(60) // 10) % 2 == 0]
    np.testing.assert_array_equal(select_batch(known, 7, random_state=3), select_batch(left, 7, random_state=3))
