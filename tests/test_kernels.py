"""Kernels against direct, dense implementations of the spec formulas (hand computation)."""

import os

import numpy as np
import pytest

import skactivelab as sk
from skactivelab import _kernels as K_
from skactivelab._annotations import check_annotations


def _dense_entropy(P, ann, T):
    """spec 3 written out densely: mean_i -sum_k E log max(S_T, TINY) / log K."""
    N, K = P.shape
    n = np.bincount(ann.example, minlength=N)
    E = np.zeros((N, K))
    np.add.at(E, (ann.example, ann.label), 1.0)
    E /= n[:, None]
    with np.errstate(divide="ignore"):
        z = np.log(P) / max(T, 1e-6)
    S = np.exp(z - z.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    return np.mean(-(E * np.log(np.maximum(S, 1e-30))).sum(axis=1) / np.log(K))


def _dense_best_temperature(P, ann):
    grid = [0.1, 0.2, 0.5, 0.8, 1, 2, 3, 5, 8]
    g = int(np.argmin([_dense_entropy(P, ann, T) for T in grid]))
    fine = []
    if g > 0:
        fine += list(np.linspace(grid[g - 1], grid[g], 4, endpoint=False))
    if g < len(grid) - 1:
        fine += list(np.linspace(grid[g], grid[g + 1], 5, endpoint=True))
    return fine[int(np.argmin([_dense_entropy(P, ann, T) for T in fine]))]


@pytest.mark.parametrize("seed", range(6))
def test_entropy_loss_matches_dense_formula_with_exact_zeros(seed):
    rng = np.random.default_rng(seed)
    N, K = 300, 2 + seed
    P = rng.dirichlet(np.ones(K) * 0.3, N)
    P[rng.random((N, K)) < 0.3] = 0.0  # trees give exact zeros: the TINY clip binds
    P[:, 0] += 1e-9
    P /= P.sum(axis=1, keepdims=True)
    P[:30] = np.eye(K)[rng.integers(0, K, 30)]
    L = np.where(rng.random((N, 4)) < 0.5, rng.integers(0, K, (N, 4)), -1)
    L[:, 0] = rng.integers(0, K, N)
    ann = check_annotations(L, n_classes=K)
    n = np.bincount(ann.example, minlength=N).astype(float)
    temps = np.concatenate([K_.COARSE_TEMPERATURES, [0.35, 1.25, 6.5]])
    ours = K_._EntropyLoss(P, ann, n, min(temps))(temps)
    dense = np.array([_dense_entropy(P, ann, T) for T in temps])
    np.testing.assert_allclose(ours, dense, rtol=1e-12, atol=1e-12)
    assert sk.find_best_temperature(P, L) == pytest.approx(_dense_best_temperature(P, ann), abs=1e-12)


def _log_norms(shifted, temps):
    """Every row's log-normalisers as the loss's one pass makes them (each block as visited)."""
    out = np.full((len(temps), shifted.shape[1]), np.nan)

    def visit(i, start, stop, g):
        out[:, start:stop] = g

    K_.normaliser_pass(shifted, temps, visit)
    return out


def test_threaded_log_norms_equal_single_block(monkeypatch):
    rng = np.random.default_rng(0)
    shifted = -rng.random((5, 1001)) * 4
    temps = [0.1, 1.0, 8.0]
    monkeypatch.setattr(K_, "_n_threads", lambda size: 1)
    one = _log_norms(shifted, temps)
    monkeypatch.setattr(K_, "_n_threads", lambda size: 3)
    three = _log_norms(shifted, temps)
    np.testing.assert_array_equal(one, three)
    # the normaliser enters the loss additively: absolute error is what counts
    np.testing.assert_allclose(one[1], np.log(np.exp(shifted).sum(axis=0)), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("K", [3, 9, 20, 50])
def test_log_norms_of_one_row_blocks_equal_wider_blocks(monkeypatch, K):
    # A block one row wide (a thread's share, or the last cache block) must add the classes
    # in the same order as a wider block: NumPy sums a lone column pairwise, not in order.
    rng = np.random.default_rng(K)
    shifted = -rng.random((K, 130)) * 4
    shifted[0] = 0.0
    temps = list(K_.COARSE_TEMPERATURES) + [0.65, 2.5]
    monkeypatch.setattr(K_, "_n_threads", lambda size: 1)
    one_block = _log_norms(shifted, temps)
    monkeypatch.setattr(K_, "_n_threads", lambda size: 130)  # one row per thread
    np.testing.assert_array_equal(_log_norms(shifted, temps), one_block)
    monkeypatch.setattr(K_, "_n_threads", lambda size: 1)
    monkeypatch.setattr(K_, "BLOCK_FLOATS", 64 * K)  # blocks of 64, 64 and 2 rows
    np.testing.assert_array_equal(_log_norms(shifted, temps), one_block)
    np.testing.assert_array_equal(_log_norms(shifted[:, :129], temps), one_block[:, :129])  # ... and 1
    # in order over the classes: the same floats as an explicit left-to-right sum of direct exps
    direct = np.log(np.add.accumulate(np.exp(shifted * (1.0 / 2.5)), axis=0)[-1])
    np.testing.assert_array_equal(one_block[-1], direct)


def _case_with_zeros(seed, N, K, *, alpha, p_zero, tiny, p_label):
    """Dirichlet probabilities with exact zeros (share ``p_zero``), column ``tiny[0]`` raised
    by ``tiny[1]``, and 1 to 3 labels per example (the 2nd and 3rd with chance ``p_label``):
    labels on classes of probability 0 or almost, whose clip can bind."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(K) * alpha, N)
    P[rng.random((N, K)) < p_zero] = 0.0
    P[:, tiny[0]] += tiny[1]
    P /= P.sum(axis=1, keepdims=True)
    L = np.where(rng.random((N, 3)) < p_label, rng.integers(0, K, (N, 3)), -1)
    L[:, 0] = rng.integers(0, K, N)
    ann = check_annotations(L, n_classes=K)
    return P, L, ann, np.bincount(ann.example, minlength=N).astype(float)


@pytest.mark.parametrize("n_threads", [2, 3, 7])
def test_entropy_loss_is_the_same_for_any_number_of_threads(monkeypatch, n_threads):
    # many cache blocks (BLOCK_FLOATS small), labels whose clip can bind (exact zeros and tiny
    # probabilities) and a last block of one row: the losses, bit for bit, and the temperature
    P, L, ann, n = _case_with_zeros(11, 1001, 6, alpha=0.4, p_zero=0.15, tiny=(2, 1e-300), p_label=0.5)
    temps = np.concatenate([K_.COARSE_TEMPERATURES, [0.35, 1.25, 6.5]])
    monkeypatch.setattr(K_, "BLOCK_FLOATS", 100 * P.shape[1])  # blocks of 100 rows, the last of 1
    monkeypatch.setattr(K_, "_n_threads", lambda size: 1)
    loss = K_._EntropyLoss(P, ann, n, min(temps))
    assert loss.c_rows.size > 0  # some clips can bind
    one = loss(temps)
    T_one = sk.find_best_temperature(P, L)
    monkeypatch.setattr(K_, "_n_threads", lambda size: n_threads)
    np.testing.assert_array_equal(K_._EntropyLoss(P, ann, n, min(temps))(temps), one)
    assert sk.find_best_temperature(P, L) == T_one
    np.testing.assert_allclose(one, [_dense_entropy(P, ann, T) for T in temps], rtol=1e-12, atol=1e-12)


def test_best_temperature_is_the_same_with_a_one_row_block(monkeypatch):
    # Rows the classifier finds (almost) uniform: the grid's losses tie to the last bit, so one
    # row's normaliser rounded differently moves the temperature (a block of 3276 rows for 20
    # classes leaves the 3277th row alone; with BLOCK_FLOATS large it is in one block).
    K = 20
    N = K_.BLOCK_FLOATS // K + 1
    P = np.eye(K)[np.arange(N) % K]
    L = np.stack([np.arange(N) % K] * 2, axis=1)
    rng = np.random.default_rng(15)
    for r in (N - 2, N - 1):
        P[r] = (1.0 / K) * (1 + rng.integers(-3, 4, K) * 2.2e-15)
        L[r] = rng.integers(0, K, 2)
    monkeypatch.setattr(K_, "_n_threads", lambda size: 1)
    blocks = sk.find_best_temperature(P, L)
    monkeypatch.setattr(K_, "BLOCK_FLOATS", 10**9)
    assert sk.find_best_temperature(P, L) == blocks


def test_max_temp_scaled_matches_full_scaling():
    rng = np.random.default_rng(1)
    U = rng.dirichlet(np.ones(7) * 0.5, 200)
    U[:20, 3] = 0.0
    U /= U.sum(axis=1, keepdims=True)
    for T in (0.1, 1.0, 2.5):
        np.testing.assert_allclose(
            K_.max_temp_scaled(U, T), K_.temp_scale(U, T).max(axis=1), rtol=1e-13
        )


def test_crowdlab_posterior_hand_example():
    # 3 examples, 2 annotators, K = 2; consensus = majority vote with P ties.
    L = np.array([[0, 0], [1, 0], [1, 1]])
    P = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    res = sk.get_label_quality_multiannotator(L, P, consensus_method="majority_vote")
    # majority vote: row 1 tied (1 vs 0) -> highest P -> 1
    assert res.consensus_label.tolist() == [0, 1, 1]
    # spec 2: agree = [1, 0.5, 1]; I+ = all; p_agree = 5/6; p_other = 1/6
    # mlc over consensus [0,1,1]: most frequent 1, error 1/3
    # s_j: annotator 0 labels (0,1,1): m-1 = (1,0,1) over n-1 = (1,1,1) -> 2/3; annotator 1: (0,0,1) -> (1,0,1) -> 2/3
    # w_j = 1 - (1/3)/(1/3) = 0 -> clipped to 1e-6
    # model error: argmax P = [0,1,1] vs consensus -> 0 -> w_M = 1 * sqrt(2)
    w, wM, pa, po = 1e-6, np.sqrt(2.0), 5 / 6, 1 / 6
    lik = np.where(L[:, :, None] == np.arange(2), pa, po).sum(axis=1)  # sum over annotators
    post = (wM * P + w * lik) / (wM + 2 * w)
    np.testing.assert_allclose(res.post_pred_probs, post, rtol=1e-12)
    np.testing.assert_allclose(res.model_weight, wM, rtol=1e-12)
    np.testing.assert_allclose(res.annotator_weights, [w, w], rtol=1e-12)
    np.testing.assert_allclose(res.consensus_quality_score, post[[0, 1, 2], [0, 1, 1]], rtol=1e-12)


# ------------------------------------------------------------------------------ threads
BIG = 10**8  # floats: large enough for threads


@pytest.fixture
def sixteen_cpus(monkeypatch):
    """A 16-CPU process with no enclosing limit (each test adds the one it checks)."""
    from skactivelab import _config

    monkeypatch.setattr(_config, "available_cpus", lambda: 16)
    monkeypatch.setattr(_config, "_threadpool_limit", lambda: None)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return _config


def test_threads_honour_cpu_affinity_and_loky_limit(monkeypatch):
    from skactivelab import _config

    monkeypatch.setattr(_config, "_threadpool_limit", lambda: None)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
        assert _config.available_cpus() == 1
        assert K_._n_threads(BIG) == 1  # 64 CPUs in the machine, 1 for this process
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")  # the same limit, set by the user
    assert K_._n_threads(BIG) == 1
    assert K_._n_threads(10) == 1  # small inputs never use threads


def test_threads_default_user_control_and_cpu_cap(sixteen_cpus):
    assert K_._n_threads(BIG) == 8  # default: available CPUs, at most 8
    assert K_._n_threads(1000) == 1
    with sk.config_context(n_threads=3):
        assert sk.get_config() == {"n_threads": 3}
        assert K_._n_threads(BIG) == 3
        with sk.config_context(n_threads=-1):  # all CPUs, beyond the default 8
            assert K_._n_threads(BIG) == 16
        with sk.config_context(n_threads=-4):
            assert K_._n_threads(BIG) == 13
        assert K_._n_threads(BIG) == 3
    with sk.config_context(n_threads=64):  # never more than the CPUs
        assert K_._n_threads(BIG) == 16
    assert sk.get_config() == {"n_threads": None}
    sk.set_config(n_threads=2)
    try:
        assert K_._n_threads(BIG) == 2
    finally:
        sk.set_config(n_threads=None)
    assert K_._n_threads(BIG) == 8


@pytest.mark.parametrize("bad, err", [(0, ValueError), (True, TypeError), (2.0, TypeError), ("4", TypeError)])
def test_bad_n_threads(bad, err):
    with pytest.raises(err, match="n_threads"):
        sk.set_config(n_threads=bad)
    with pytest.raises(err, match="n_threads"):
        with sk.config_context(n_threads=bad):
            pass
    assert sk.get_config() == {"n_threads": None}


def test_threads_honour_omp_num_threads(sixteen_cpus, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert K_._n_threads(BIG) == 3
    with sk.config_context(n_threads=12):  # an enclosing limit wins over the user's wish
        assert K_._n_threads(BIG) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "2,1")  # nested OpenMP levels: the outer one
    assert K_._n_threads(BIG) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "")
    assert K_._n_threads(BIG) == 8


def test_threads_honour_threadpoolctl_limits(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from skactivelab import _config

    if not threadpool_info():
        pytest.skip("no native thread pool loaded")
    monkeypatch.setattr(_config, "available_cpus", lambda: 16)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with threadpool_limits(limits=1):
        assert K_._n_threads(BIG) == 1


def _threads_in_worker():
    return K_._n_threads(BIG), os.environ.get("OMP_NUM_THREADS")


def test_threads_in_joblib_workers(sixteen_cpus):
    from joblib import Parallel, delayed

    # threads of a joblib worker share this process's CPUs with their siblings
    out = Parallel(n_jobs=2, backend="threading")(delayed(K_._n_threads)(BIG) for _ in range(2))
    assert out == [1, 1]
    assert K_._n_threads(BIG) == 8  # not in a worker


def test_threads_in_loky_worker_follow_its_share():
    """joblib's process workers (GridSearchCV(n_jobs=-1)) get OMP_NUM_THREADS = their share."""
    from joblib import Parallel, delayed

    out = Parallel(n_jobs=2, backend="loky")(delayed(_threads_in_worker)() for _ in range(2))
    for n, env in out:
        assert env is not None
        assert 1 <= n <= int(env)


def _record_kernel_threads(monkeypatch):
    seen = []
    real = K_.in_row_blocks

    def spy(block, n_rows, size):
        seen.append(K_._n_threads(BIG))
        return real(block, n_rows, size)

    monkeypatch.setattr(K_, "in_row_blocks", spy)
    return seen


@pytest.mark.parametrize(
    "n_jobs, context, expected", [(None, None, 1), (1, None, 1), (3, None, 3), (-1, None, 16), (-1, 2, 2)]
)
def test_estimator_kernels_follow_n_jobs(sixteen_cpus, monkeypatch, n_jobs, context, expected):
    from sklearn.linear_model import LogisticRegression

    from skactivelab import MultiAnnotatorClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    t = (X[:, 0] > 0).astype(int)
    L = np.where(rng.random((60, 3)) < 0.7, t[:, None], -1)
    L[:, 0] = t
    L[::5, 2] = 1 - t[::5]
    L[50:] = -1
    seen = _record_kernel_threads(monkeypatch)
    clf = MultiAnnotatorClassifier(LogisticRegression(), cv=3, n_jobs=n_jobs, random_state=0)
    with sk.config_context(n_threads=context):
        clf.fit(X, L)
        assert seen and set(seen) == {expected}
        seen.clear()
        clf.active_learning_scores(X[:7])
        assert seen and set(seen) == {expected}


# ------------------------------------------------------------------------------ blocked passes are exact
@pytest.mark.parametrize("K", [1, 2, 10, 16, 17, 300])
@pytest.mark.parametrize("n", [0, 1, 5, 1000])
def test_row_reductions_equal_numpy(n, K):
    rng = np.random.default_rng(n + K)
    A = rng.normal(size=(n, K))
    if n and K > 1:
        A[0, -1] = np.nan  # NaN propagates as in NumPy's reductions
        A[-1, 0] = -np.inf
    np.testing.assert_array_equal(K_.row_max(A), A.max(axis=1))
    np.testing.assert_array_equal(K_.row_min(A), A.min(axis=1))
    I = rng.integers(0, 5, size=(n, K))
    np.testing.assert_array_equal(K_.row_max(I), I.max(axis=1))
    out = np.empty(n, dtype=I.dtype)
    assert K_.row_max(I, out=out) is out
    M = rng.random((n, K)) < 0.3
    np.testing.assert_array_equal(K_.row_count(M), M.sum(axis=1))
    np.testing.assert_array_equal(K_.several(M), M.sum(axis=1) > 1)


def _direct_scaled(P, T):
    """Temperature scaling written as whole-array passes: R = max(P, 1e-30) ** (1 / T) (as
    exp(log(.) / T)), R / rowsum(R)."""
    R = np.maximum(P, 1e-30)
    if T != 1.0:
        R = np.exp(np.log(R) * (1.0 / T))
        np.testing.assert_allclose(R, np.power(np.maximum(P, 1e-30), 1.0 / T), rtol=1e-12, atol=0)
    return R, np.einsum("ij->i", R)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("n", [1, 37, 64 * 5 + 1, 1000])
def test_blocked_scaling_equals_whole_array_passes(monkeypatch, n, threads):
    rng = np.random.default_rng(n)
    P = rng.dirichlet(np.ones(6) * 0.4, n)
    P[: n // 3, 2] = 0.0
    monkeypatch.setattr(K_, "BLOCK_FLOATS", 6 * 64)  # blocks of 64 rows, the last one partial
    monkeypatch.setattr(K_, "_n_threads", lambda size: threads)
    for T in (1.0, 0.37, 2.0, 2.5):
        R, s = _direct_scaled(P, T)
        np.testing.assert_array_equal(K_.temp_scale(P, T), R / s[:, None])
        np.testing.assert_array_equal(K_.max_temp_scaled(P, T), R.max(axis=1) / s)
        U = P.copy()
        np.testing.assert_array_equal(K_.max_temp_scaled(U, T, overwrite=True), R.max(axis=1) / s)
        np.testing.assert_array_equal(U, R)  # our own copy, overwritten with R


def test_log_norms_exact_for_every_block_size(monkeypatch):
    rng = np.random.default_rng(3)
    shifted = np.log(rng.dirichlet(np.ones(4) * 0.5, 1001).T)
    shifted -= shifted.max(axis=0)
    temps = [0.1, 0.2, 0.5, 0.8, 1.0, 2.0, 3.0, 5.0, 8.0, 1.25, 0.2]  # a repeat is fine
    u = np.exp(shifted * (1 / 15.0))  # the coarse grid's one exp: every coarse power from it
    u2 = u * u
    u3 = u2 * u
    u5 = u3 * u2
    e = (u5 * u5) * u5
    e2 = e * e
    e5 = (e2 * e2) * e
    s2 = np.sqrt(np.sqrt(e))
    powers = {0.1: e5 * e5, 0.2: e5, 0.5: e2, 0.8: s2 * e, 1.0: e, 2.0: np.sqrt(e), 3.0: u5,
              8.0: np.sqrt(s2), 5.0: u3, 1.25: np.exp(shifted * (1 / 1.25))}
    expected = np.array([np.log(np.add.reduce(powers[T], axis=0)) for T in temps])
    for floats in (4, 4 * 64, 4 * 1001, 10**6):
        monkeypatch.setattr(K_, "BLOCK_FLOATS", floats)
        np.testing.assert_array_equal(_log_norms(shifted, temps), expected)
    # and each within a few 1e-14 of the direct formula (an exp per temperature)
    direct = np.array([np.log(np.exp(shifted / T).sum(axis=0)) for T in temps])
    np.testing.assert_allclose(expected, direct, rtol=0, atol=5e-14)


@pytest.mark.parametrize("budget", [0, 8 * 500 * 4, 1 << 30])  # 3, 4 and all T per pass
def test_entropy_loss_grid_at_once_equals_one_temperature_at_a_time(monkeypatch, budget):
    monkeypatch.setattr(K_, "LOG_NORM_BYTES", budget)
    N = 500
    P, L, ann, n = _case_with_zeros(5, N, 4, alpha=0.3, p_zero=0.2, tiny=(1, 1e-12), p_label=0.6)
    grid = K_.COARSE_TEMPERATURES
    loss = K_._EntropyLoss(P, ann, n, grid.min())
    assert K_.temperatures_per_pass(N) == {0: 3, 8 * 500 * 4: 4, 1 << 30: 268435}[budget]
    at_once = loss(grid)  # in groups of temperatures_per_pass(N) temperatures
    np.testing.assert_array_equal(at_once, [loss([T])[0] for T in grid])
    np.testing.assert_allclose(at_once, [_dense_entropy(P, ann, T) for T in grid], rtol=1e-12, atol=1e-12)


def _calibration_case(seed, sharpness, N=400, K=5):
    """Labels from a classifier's truth-mixed probabilities, the probabilities then sharpened
    or flattened (``P ** sharpness``): the best temperature moves across the grid."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, K, N)
    base = 0.6 * np.eye(K)[truth] + 0.4 * rng.dirichlet(np.ones(K), N)
    L = np.where(rng.random((N, 3)) < 0.7, -1, 0)
    L[:, 0] = 0
    draws = (rng.random((N, 3, 1)) > np.cumsum(base, axis=1)[:, None, :]).sum(axis=2)
    L = np.where(L == 0, np.minimum(draws, K - 1), -1)
    P = base ** sharpness
    P /= P.sum(axis=1, keepdims=True)
    return P, L


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("sharpness", [0.05, 0.15, 0.4, 0.7, 1.0, 1.3, 2.5, 6.0, 15.0])
def test_fine_grid_walk_finds_the_full_grids_first_argmin(monkeypatch, seed, sharpness):
    P, L = _calibration_case(seed, sharpness)
    ann = check_annotations(L, n_classes=P.shape[1])
    expected = _dense_best_temperature(P, ann)  # every fine temperature, by the dense formula
    evaluated = []
    real_call = K_._EntropyLoss.__call__

    def counting(self, temperatures):
        evaluated.extend(map(float, temperatures))
        return real_call(self, temperatures)

    monkeypatch.setattr(K_._EntropyLoss, "__call__", counting)
    assert sk.find_best_temperature(P, L) == pytest.approx(expected, abs=1e-12)
    fine = [T for T in evaluated[K_.COARSE_TEMPERATURES.size:]]
    assert len(fine) <= 4  # of the 6 fine temperatures not on the coarse grid (7 at the top end)


def test_fine_grid_is_evaluated_whole_where_a_clip_can_bind():
    # a label the classifier gives 1e-40: its clipped term makes the loss non-convex in 1/T
    P, L = _calibration_case(0, 1.0)
    P = P.copy()
    P[0] = 1e-40
    P[0, 1] = 1.0 - 4e-40
    L[0] = [0, -1, -1]
    ann = check_annotations(L, n_classes=P.shape[1])
    n = np.bincount(ann.example, minlength=ann.n_examples).astype(float)
    loss = K_._EntropyLoss(P, ann, n, 0.1)
    assert not loss.convex_above(0.5)
    assert sk.find_best_temperature(P, L) == pytest.approx(_dense_best_temperature(P, ann), abs=1e-12)
    P[0] = 0.0
    P[0, 1] = 1.0  # probability exactly 0 at the label: a constant term, still convex
    assert K_._EntropyLoss(P, ann, n, 0.1).convex_above(0.5)


# ------------------------------------------------------------------------------ memory-saving paths
def _crowd(seed, N, M, K, shuffle):
    """Sparse annotations (1 to 4 labels per example) and probabilities with exact ties:
    uniform rows, and examples whose two labels disagree on a uniform row (tied posterior)."""
    rng = np.random.default_rng(seed)
    n_per = rng.integers(1, 5, size=N)
    n_per[: N // 10] = 2
    ex = np.repeat(np.arange(N), n_per)
    an = np.concatenate([rng.choice(M, size=n, replace=False) for n in n_per])
    lab = rng.integers(K, size=ex.size)
    tied = ex < N // 10
    lab[tied] = np.tile([0, 1], N // 10)
    P = rng.dirichlet(np.ones(K), size=N)
    P[: N // 10] = 1.0 / K
    P[N // 10: N // 5] = 1.0 / K
    order = rng.permutation(ex.size) if shuffle else np.arange(ex.size)
    ann = check_annotations((ex[order], an[order], lab[order]), n_examples=N, n_classes=K)
    return ann, P, np.bincount(ann.example, minlength=N).astype(np.float64)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("E", [1, 2])
def test_first_pass_best_quality_in_row_blocks_equals_whole_posterior(monkeypatch, shuffle, E):
    # the first CROWDLAB pass keeps only the best-quality consensus of its posterior, made
    # row block by row block: the same consensus as from the whole posterior, ties included
    monkeypatch.setattr(K_, "ANNOTATION_BLOCK", 64)  # blocks of max(64, N / 8) rows
    N, K = 1000, 3
    ann, P1, n_per = _crowd(3, N, 12, K, shuffle)
    P = np.stack([P1, np.roll(P1, 1, axis=0)])[:E]
    count = K_.label_counts(ann)
    mv = K_.majority_vote(ann, count, P.mean(axis=0), np.random.default_rng(0))
    s = K_.annotator_agreement(ann, count, n_per)
    whole = K_.crowdlab_pass(ann, n_per, P, mv, s=s)
    expected = K_.best_quality_consensus(whole["post"], mv)
    assert np.count_nonzero(expected != np.argmax(whole["post"], axis=1)) > 0  # ties fell back
    seen = []  # the posterior's blocks, as the consensus sees them
    real = K_.best_quality_consensus
    monkeypatch.setattr(K_, "best_quality_consensus",
                        lambda post, fb: seen.append(post.copy()) or real(post, fb))
    blocks = K_.crowdlab_pass(ann, n_per, P, mv, s=s, best_of=mv)
    assert blocks["post"] is None and len(seen) == 8
    np.testing.assert_array_equal(np.concatenate(seen), whole["post"])  # bit for bit
    np.testing.assert_array_equal(blocks["consensus"], expected)
    for key in ("annotator_weights", "model_weight", "agree", "hit"):
        np.testing.assert_array_equal(blocks[key], whole[key])


@pytest.mark.parametrize("shuffle", [False, True])
def test_compact_label_counts_give_the_same_votes_and_agreement(shuffle):
    ann, P, n_per = _crowd(5, 600, 9, 4, shuffle)
    wide = K_.label_counts(ann)
    dtype = K_.count_dtype(n_per)
    assert dtype == np.uint8
    small = K_.label_counts(ann, dtype=dtype)
    assert small.dtype == np.uint8
    np.testing.assert_array_equal(small, wide)
    # no probabilities: ties go on to the dataset's totals, the annotators' trust, the draw
    for P_ties in (None, P):
        a = K_.majority_vote(ann, wide, P_ties, np.random.default_rng(1))
        b = K_.majority_vote(ann, small, P_ties, np.random.default_rng(1))
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(K_.annotator_agreement(ann, small, n_per),
                                  K_.annotator_agreement(ann, wide, n_per))
    assert K_.count_dtype(np.array([300.0])) == np.uint16


@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (7, 5), (40_000, 10)])
@pytest.mark.parametrize("contiguous", [True, False])
def test_exp_inplace_equals_numpy_exp_to_single_precision(shape, contiguous):
    rng = np.random.default_rng(shape[0])
    base = -np.abs(rng.normal(scale=8.0, size=(shape[0], 2 * shape[1])))
    J = base[:, ::2] if not contiguous else np.ascontiguousarray(base[:, ::2])
    x = J.copy()
    ref = np.exp(x)
    out = K_.exp_inplace(J)
    assert out is J  # written in place, also through a view that is not contiguous
    tiny = np.finfo(np.float32).tiny  # single precision: below it, zero or subnormal
    normal = ref > tiny
    # the input's rounding to single precision: a relative error of about 6e-8 * |J|
    rtol = 2e-7 * (1.0 + np.abs(x[normal]))
    assert np.all(np.abs(J[normal] - ref[normal]) <= rtol * ref[normal])  # every block, the last too
    assert np.all(J[~normal] <= tiny) and np.all(J >= 0)


@pytest.mark.parametrize("scale", [0.5, 3.0, 60.0, 400.0])
@pytest.mark.parametrize("n", [1, 5, 8, 1001])
def test_sum_log_rows_equals_log_then_sum(scale, n):
    rng = np.random.default_rng(n)
    T = np.exp(rng.uniform(-scale, scale, size=(n, 4)))  # up to e**400, where rows cannot be grouped
    with np.errstate(over="raise", under="raise"):
        got = K_.sum_log_rows(T)
    ref = np.log(T).sum(axis=0)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9 * n * scale)


def test_sum_log_rows_falls_back_to_the_plain_sum_outside_positive_float64_matrices():
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(K_.sum_log_rows(np.array([[2.0, 0.0], [3.0, 1.0]])), [np.log(6.0), -np.inf])
    v = np.array([2.0, 5.0, 7.0])
    assert K_.sum_log_rows(v) == pytest.approx(np.log(70.0))  # 1-D
    f32 = np.full((9, 2), 1e6, dtype=np.float32)  # products of float32 rows would overflow
    np.testing.assert_allclose(K_.sum_log_rows(f32), 9 * np.log(1e6), rtol=1e-6)
    ints = np.full((9, 2), 100_000, dtype=np.int64)  # products of integers would wrap around
    np.testing.assert_allclose(K_.sum_log_rows(ints), 9 * np.log(1e5), rtol=1e-12)
    assert K_.sum_log_rows(np.empty((0, 3))).shape == (3,)
