"""Simulated annotators, datasets, the benchmark runner and the command line."""

import json

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier

from skactivelab import cli
from skactivelab.datasets import load_digits_data, load_wall_robot, paper_subset
from skactivelab.simulation import (
    SETTINGS,
    heterogeneous_noise_matrices,
    load_paper_results,
    make_task,
    mixed_annotator_accuracies,
    plot_results,
    run_benchmark,
    run_method,
    shared_noise_matrix,
    simulate_annotator_labels,
)



@pytest.fixture(scope="module")
def digits():
    ds = load_digits_data()
    return ds.data, ds.target


def small_model():
    return ExtraTreesClassifier(n_estimators=30, n_jobs=1)


def fast_model():
    """For tests of the mechanics, not of accuracy."""
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=5)


# --------------------------------------------------------------------------- annotators
@pytest.mark.parametrize("K,trace", [(4, 3.4), (10, 7.0), (2, 1.5)])
def test_shared_noise_matrix_trace_and_validity(K, trace):
    T = shared_noise_matrix(K, trace, random_state=0)
    assert T.shape == (K, K)
    np.testing.assert_allclose(T.sum(axis=1), 1.0)
    assert np.trace(T) == pytest.approx(trace)
    assert np.all(T >= 0)
    off = np.where(np.eye(K, dtype=bool), -1, T)
    assert np.all(np.diag(T) > off.max(axis=1))


def test_shared_noise_matrix_rejects_bad_trace():
    with pytest.raises(ValueError, match="trace"):
        shared_noise_matrix(4, 0.8)  # mean accuracy 0.2 < 1/K


def test_shared_annotators_accuracy_close_to_trace():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 5000)
    T = shared_noise_matrix(4, 0.85 * 4, random_state=1)
    oracle = simulate_annotator_labels(y, T, 30, random_state=2)
    assert oracle.shape == (5000, 30)
    acc = (oracle == y[:, None]).mean(axis=0)
    assert acc.mean() == pytest.approx(0.85, abs=0.01)
    # the per-class confusion matches the requested matrix
    emp = np.array([np.bincount(oracle[y == k].ravel(), minlength=4) / oracle[y == k].size for k in range(4)])
    np.testing.assert_allclose(emp, T, atol=0.01)


def test_heterogeneous_annotators_accuracy_close_to_requested():
    acc_req = np.array([1.0, 0.9, 0.7, 0.5, 0.25])
    T = heterogeneous_noise_matrices(acc_req, 4)
    np.testing.assert_allclose(T.sum(axis=2), 1.0)
    y = np.random.default_rng(3).integers(0, 4, 8000)
    oracle = simulate_annotator_labels(y, T, random_state=4)
    acc = (oracle == y[:, None]).mean(axis=0)
    np.testing.assert_allclose(acc, acc_req, atol=0.02)
    assert acc[0] == 1.0
    # the spammer's labels are uniform whatever the truth
    spam = np.bincount(oracle[y == 0, 4], minlength=4) / np.sum(y == 0)
    np.testing.assert_allclose(spam, 0.25, atol=0.03)


def test_mixed_accuracies_have_every_kind():
    acc = mixed_annotator_accuracies(20, 4, random_state=0)
    assert acc.shape == (20,)
    assert np.sum(acc >= 0.95) == 4
    assert np.sum(acc == 0.25) == 2
    assert np.sum((acc > 0.25) & (acc <= 0.6)) == 4


def test_oracle_is_seeded():
    y = np.arange(100) % 3
    T = shared_noise_matrix(3, 2.1, random_state=0)
    a = simulate_annotator_labels(y, T, 5, random_state=7)
    np.testing.assert_array_equal(a, simulate_annotator_labels(y, T, 5, random_state=7))
    assert not np.array_equal(a, simulate_annotator_labels(y, T, 5, random_state=8))


# --------------------------------------------------------------------------- tasks
def test_make_task_multiannotator(digits):
    X, y = digits
    task = make_task(X, y, setting="multiannotator", n_annotators=10, random_state=0)
    n_tr = task.y_train.size
    assert n_tr + task.y_test.size == y.size
    n_per = np.bincount(task.init_example, minlength=n_tr)
    assert np.sum(n_per > 0) == round(0.5 * n_tr)
    assert n_per.max() <= 5
    assert 0.8 < np.mean(n_per[n_per > 0] == 1) < 0.97  # mostly one label
    # distinct annotators per example, labels come from the oracle
    pairs = task.init_example * task.n_annotators + task.init_annotator
    assert np.unique(pairs).size == pairs.size
    np.testing.assert_array_equal(task.init_label, task.oracle[task.init_example, task.init_annotator])


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_make_task_settings(digits, setting):
    X, y = digits
    task = make_task(X, y, setting=setting, n_annotators=10, random_state=1)
    n_per = np.bincount(task.init_example, minlength=task.y_train.size)
    frac = np.mean(n_per > 0)
    assert frac == pytest.approx(SETTINGS[setting]["initial_fraction"], abs=1e-3)
    assert task.allow_relabel == SETTINGS[setting]["allow_relabel"]
    if SETTINGS[setting]["initial_label_probs"] == (1.0,):
        assert n_per.max() == 1


# --------------------------------------------------------------------------- runner
def test_run_method_reproducible_with_seed(digits):
    X, y = digits
    task = make_task(X[:600], y[:600], n_annotators=10, trace=0.7, random_state=0)
    kw = dict(model=small_model(), n_rounds=2, batch_size=30, n_folds=3)
    a = run_method(task, "activelab", random_state=5, **kw)
    b = run_method(task, "activelab", random_state=5, **kw)
    c = run_method(task, "random", random_state=6, **kw)
    for k in ("test_accuracy", "consensus_accuracy", "n_labeled", "n_annotations"):
        np.testing.assert_array_equal(a[k], b[k])
    assert a["round"].tolist() == [0, 1, 2]
    assert a["n_annotations"].tolist() == [a["n_annotations"][0] + 30 * r for r in range(3)]
    assert not np.array_equal(a["n_labeled"], c["n_labeled"]) or not np.array_equal(
        a["consensus_accuracy"], c["consensus_accuracy"]
    )


def test_no_relabel_and_label_cleaning(digits):
    X, y = digits
    kw = dict(model=small_model(), n_rounds=2, batch_size=25, n_folds=3, random_state=0)
    single = make_task(X[:500], y[:500], setting="single_label", n_annotators=5, random_state=0)
    rec = run_method(single, "uncertainty", **kw)
    assert rec["n_relabel_picks"].tolist() == [0, 0, 0]
    assert rec["n_labeled"].tolist() == [rec["n_labeled"][0] + 25 * r for r in range(3)]
    clean = make_task(X[:500], y[:500], setting="label_cleaning", n_annotators=5, random_state=0)
    rec = run_method(clean, "activelab", **kw)
    assert np.all(rec["n_labeled"] == clean.y_train.size)
    assert rec["n_relabel_picks"].tolist() == [0, 25, 50]


def test_distinct_and_custom_annotator_selection(digits):
    X, y = digits
    task = make_task(X[:400], y[:400], setting="label_cleaning", n_annotators=3, random_state=0)
    kw = dict(model=fast_model(), n_rounds=3, batch_size=60, n_folds=3, random_state=0)
    rec = run_method(task, "activelab", annotator_selection="distinct", **kw)
    assert rec["n_annotations"][-1] == task.init_example.size + 180
    calls = []

    def first_free(examples, labeled_by, rng):
        calls.append(len(examples))
        return np.argmin(labeled_by[examples], axis=1)

    run_method(task, "random", annotator_selection=first_free, **kw)
    assert calls and all(c > 0 for c in calls)

    def bad(examples, labeled_by, rng):
        return np.zeros(len(examples), dtype=int)  # annotator 0 labels everything again

    with pytest.raises(ValueError, match="annotator_selection"):
        run_method(task, "random", annotator_selection=bad, **kw)


def test_run_method_rejects_unknown_method(digits):
    X, y = digits
    task = make_task(X[:300], y[:300], n_annotators=3, random_state=0)
    with pytest.raises(ValueError, match="unknown method"):
        run_method(task, "oracle_peeking")


def test_activelab_beats_random_on_consensus_accuracy(digits):
    """Small version of the benchmark: ActiveLab's consensus is more accurate."""
    X, y = digits
    res = run_benchmark(
        X, y,
        setting="multiannotator",
        methods=("random", "activelab"),
        seeds=(0,),
        model=small_model(),
        n_rounds=4,
        batch_size=60,
        n_folds=3,
        task_kwargs=dict(n_annotators=20, trace=0.7),
    )
    s = res.summary()
    assert s["activelab"]["consensus_accuracy_mean"] > s["random"]["consensus_accuracy_mean"] + 0.01
    # both start from the same labels
    c = res.curves("consensus_accuracy")
    assert c["activelab"][0, 0] == c["random"][0, 0]


def test_benchmark_outputs(digits, tmp_path):
    X, y = digits
    res = run_benchmark(X[:400], y[:400], methods=("good_random", "entropy"), seeds=(0, 1), model=fast_model(),
                        n_rounds=1, batch_size=20, n_folds=3, task_kwargs=dict(n_annotators=5))
    assert len(res.records) == 2 * 2 * 2
    res.to_csv(tmp_path / "r.csv")
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0].startswith("setting,model,method,seed,round,test_accuracy")
    assert len(lines) == 9
    res.to_json(tmp_path / "r.json")
    d = json.loads((tmp_path / "r.json").read_text())
    assert set(d["summary"]) == {"good_random", "entropy"}
    pytest.importorskip("matplotlib")
    plot_results(res, tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


# --------------------------------------------------------------------------- data
def test_load_wall_robot_and_paper_subset(shared_file):
    ds = load_wall_robot(shared_file("wall_robot.csv"))
    assert ds.data.shape == (5456, 24)
    assert ds.target_names.tolist() == ["Move-Forward", "Sharp-Right-Turn", "Slight-Left-Turn", "Slight-Right-Turn"]
    assert np.bincount(ds.target).tolist() == [2205, 2097, 328, 826]
    X, y = paper_subset(ds.data, ds.target, random_state=0)
    assert np.bincount(y).tolist() == [1100, 900, 300, 700]
    assert X.shape == (3000, 24)


def test_load_paper_results(shared_file):
    p = load_paper_results(shared_file("paper_results_wall_robot.csv"), "multiannotator", "extratrees")
    assert set(p) == {"random", "good_random", "entropy", "uncertainty", "activelab"}
    assert p["activelab"]["test_accuracy"].shape == (20,)
    assert p["activelab"]["consensus_accuracy"][-1] == pytest.approx(0.9982)


def test_load_wall_robot_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="--data"):
        load_wall_robot(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("cmd", ["demo", "benchmark"])
def test_cli_help_has_example(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([cmd, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"skactivelab {cmd}" in out


@pytest.mark.slow
def test_cli_benchmark_digits_runs(tmp_path, capsys):
    cli.main(["benchmark", "--dataset", "digits", "--rounds", "1", "--batch", "20", "--seeds", "1",
              "--methods", "random,activelab", "--model", "knn", "--n-jobs", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "activelab" in out and "round" in out
    assert (tmp_path / "digits_multiannotator_knn.csv").exists()


def test_wall_robot_4_features_match_openml_1526_rows(shared_file):
    """The 4 distances equal OpenML 1526's values for the rows printed in the paper's notebook."""
    from skactivelab.datasets import wall_robot_4_features

    ds = load_wall_robot(shared_file("wall_robot.csv"))
    published = {
        0: (1.687, 0.445, 2.332, 0.429), 4: (1.687, 0.449, 2.334, 0.429),
        5451: (1.024, 0.657, 1.087, 1.562), 5452: (0.894, 0.649, 1.071, 1.085),
        5453: (0.873, 0.642, 1.053, 1.105), 5454: (0.967, 0.635, 1.034, 1.118),
        5455: (0.854, 0.628, 1.016, 1.168),
    }
    rows = np.array(list(published))
    np.testing.assert_allclose(wall_robot_4_features(ds.data[rows]), np.array(list(published.values())), atol=1e-6)


def test_activelab_ensemble_runs_and_relabels(digits):
    from sklearn.naive_bayes import GaussianNB

    X, y = digits
    task = make_task(X[:400], y[:400], n_annotators=5, trace=0.7, random_state=0)
    rec = run_method(task, "activelab_ensemble", ensemble_models=[fast_model(), GaussianNB()], n_rounds=2,
                     batch_size=30, n_folds=3, random_state=0)
    assert rec["round"].tolist() == [0, 1, 2]
    assert np.all((rec["consensus_accuracy"] > 0.5) & (rec["consensus_accuracy"] <= 1))
    assert rec["n_annotations"][-1] == task.init_example.size + 60


@pytest.mark.slow
def test_annotator_suggestion_variant_beats_random_annotators_on_mixed_crowd():
    """activelab_suggest routes each pick to the best CROWDLAB-rated annotator who has
    not labeled it; with spammers in the crowd that beats random annotators."""
    from sklearn.linear_model import LogisticRegression

    from skactivelab.datasets import load_digits_data
    from skactivelab.simulation import heterogeneous_noise_matrices, mixed_annotator_accuracies

    d = load_digits_data()
    acc = mixed_annotator_accuracies(10, 10, random_state=0)
    task = make_task(
        d.data[:900], d.target[:900], n_annotators=10,
        noise_matrices=heterogeneous_noise_matrices(acc, 10), random_state=0,
    )
    kw = dict(model=LogisticRegression(max_iter=300), n_rounds=4, batch_size=40, n_folds=3,
              annotator_selection="distinct", random_state=0)
    plain = run_method(task, "activelab", **kw)
    suggest = run_method(task, "activelab_suggest", **kw)
    assert suggest["consensus_accuracy"][-1] > plain["consensus_accuracy"][-1]
    assert suggest["n_annotations"][-1] == plain["n_annotations"][-1]


# --------------------------------------------------------------------------- replaying a real crowd
def tiny_crowd(seed=0, n=120, n_test=60, M=6, K=3):
    """A small synthetic 'real' crowd: each example labeled by 1-4 of M annotators."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (K, 4))
    y = rng.integers(0, K, n + n_test)
    X = centers[y] + rng.normal(0, 1, (n + n_test, 4))
    acc = np.linspace(0.95, 1.0 / K, M)  # the last annotator is a spammer
    n_lab = rng.integers(1, 5, n)
    order = np.argsort(rng.random((n, M)), axis=1)
    take = np.arange(M)[None, :] < n_lab[:, None]
    ex = np.repeat(np.arange(n), n_lab)
    ann = order[take]
    right = rng.random(ex.size) < acc[ann]
    lab = np.where(right, y[ex], (y[ex] + rng.integers(1, K, ex.size)) % K)
    return dict(annotations=(ex, ann, lab), data=X[:n], target=y[:n], data_test=X[n:], target_test=y[n:])


def _replay(crowd, **kw):
    from skactivelab.simulation import make_replay_task

    return make_replay_task(crowd["annotations"], crowd["target"], crowd["data"], crowd["data_test"],
                            crowd["target_test"], **kw)


def test_replay_task_reveals_real_labels_in_a_per_seed_order():
    crowd = tiny_crowd()
    ex, ann, lab = crowd["annotations"]
    a = _replay(crowd, n_initial=50, random_state=0)
    b = _replay(crowd, n_initial=50, random_state=0)
    c = _replay(crowd, n_initial=50, random_state=1)
    # the oracle holds exactly the real labels
    assert np.count_nonzero(a.available) == ex.size
    np.testing.assert_array_equal(a.oracle[ex, ann], lab)
    assert np.all(a.oracle[~a.available] == -1)
    # 50 examples start with one label: their first annotator in this seed's order
    assert a.init_example.size == 50 and np.unique(a.init_example).size == 50
    np.testing.assert_array_equal(a.reveal_rank[a.init_example, a.init_annotator], 0)
    given = dict(zip((ex * 6 + ann).tolist(), lab.tolist()))
    assert a.init_label.tolist() == [given[k] for k in (a.init_example * 6 + a.init_annotator).tolist()]
    # the order is a permutation of each example's annotators, available ones first
    n_av = a.available.sum(axis=1)
    assert np.all(np.where(a.available, a.reveal_rank, -1).max(axis=1) == n_av - 1)
    # seeded: same seed, same order; another seed, another order
    np.testing.assert_array_equal(a.reveal_rank, b.reveal_rank)
    assert not np.array_equal(a.reveal_rank[n_av > 2], c.reveal_rank[n_av > 2])


def test_replay_exhausted_examples_cannot_be_picked_and_order_is_followed():
    """Label cleaning on a crowd of 4 examples: every pick reveals the next label in
    this seed's order; once all of an example's labels are out it is never picked."""
    crowd = tiny_crowd(n=40, n_test=30)
    task = _replay(crowd, n_initial=40, random_state=3)
    total = int(task.available.sum())
    seen = []
    rec = run_method(task, "activelab", model=fast_model(), n_rounds=6, batch_size=20, n_folds=3,
                     random_state=0, progress=lambda r, row: seen.append(row["n_annotations"]))
    # 40 initial labels + at most the remaining real labels, never more
    assert rec["n_annotations"][-1] == min(40 + 6 * 20, total)
    assert rec["n_annotations"][-1] <= total

    # the reveal order: with random selection, after each round the labels of each
    # example are a prefix of its order (so nobody answers out of turn)
    from skactivelab.simulation import protocol as S

    got = {}
    orig = S._consensus

    def spy(ex, ann, lab, *rest):
        got["last"] = (ex.copy(), ann.copy())
        return orig(ex, ann, lab, *rest)

    S._consensus = spy
    try:
        rec2 = run_method(task, "random", model=fast_model(), n_rounds=3, batch_size=25, n_folds=3, random_state=1)
    finally:
        S._consensus = orig
    ex_loc, ann_ = got["last"]
    # all rows are labeled from the start here, so local rows == task rows
    ranks = task.reveal_rank[ex_loc, ann_]
    n_rev = np.bincount(ex_loc, minlength=40)
    assert np.all(task.available[ex_loc, ann_])
    assert np.all(ranks < n_rev[ex_loc])  # ranks 0..n-1 for n revealed labels: a prefix
    # one pick per example per batch: the last batch finds fewer examples with labels left
    assert n_rev.sum() == rec2["n_annotations"][-1] and 40 + 50 < n_rev.sum() <= total
    assert np.all(n_rev <= task.available.sum(axis=1))


def test_replay_suggest_chooses_among_remaining_annotators():
    crowd = tiny_crowd(seed=2)
    task = _replay(crowd, n_initial=60, random_state=0)
    from skactivelab.simulation import protocol as S

    got = []
    orig = S._consensus

    def spy(ex, ann, lab, *rest):
        got.append((ex.copy(), ann.copy(), lab.copy()))
        return orig(ex, ann, lab, *rest)

    S._consensus = spy
    try:
        for method in ("activelab_suggest", "activelab_suggest_nocap"):
            got.clear()
            run_method(task, method, model=fast_model(), n_rounds=3, batch_size=20, n_folds=3, random_state=0)
            ex_loc, ann_, lab_ = got[-1]
            assert ann_.size == 60 + 60
            pairs = ex_loc * 6 + ann_
            assert np.unique(pairs).size == pairs.size  # nobody answers twice
    finally:
        S._consensus = orig
    # the answers are real labels: each (example, annotator) pair has a label in the crowd
    lab_rows = np.flatnonzero(np.bincount(task.init_example, minlength=120) > 0)
    assert lab_rows.size == 60


@pytest.mark.slow
def test_replay_benchmark_runs_every_method_on_a_tiny_crowd():
    from skactivelab.simulation import METHODS

    crowd = tiny_crowd(seed=1)
    methods = ("random", "good_random", "uncertainty", "entropy", "activelab", "activelab_suggest",
               "activelab_suggest_nocap")
    assert set(methods) <= set(METHODS)
    res = run_benchmark(None, None, methods=methods, seeds=(0, 1), model="logreg", n_rounds=2, batch_size=15,
                        n_folds=3, crowd=crowd, task_kwargs=dict(n_initial=40), details=True)
    assert {r["setting"] for r in res.records} == {"replay"}
    c = res.curves("consensus_accuracy")
    for m in methods:
        assert c[m].shape == (2, 3)
        assert np.all(c[m][:, 0] == c["random"][:, 0])  # the same start per seed
    n_ann = res.curves("n_annotations")
    assert np.all(n_ann["activelab"][:, -1] == 40 + 30)
    # the first ActiveLab batch with one label per example: every pick a re-label share in [0, 1]
    share = res.curves("batch_relabel_share")["activelab"][:, 0]
    assert np.all((share >= 0) & (share <= 1))
    with pytest.raises(ValueError, match="crowd lacks"):
        run_benchmark(None, None, methods=("random",), crowd={"data": crowd["data"]})


def test_load_real_crowd_matches_rows_by_id(tmp_path):
    from skactivelab.datasets import load_real_crowd

    (tmp_path / "a.csv").write_text("id,annotator,label\ns2,bob,rock\ns1,ann,pop\ns1,bob,rock\n")
    (tmp_path / "t.csv").write_text("id,label\ns1,pop\ns2,rock\n")
    (tmp_path / "f.csv").write_text("id,x,y\ns2,2,20\ns1,1,10\n")
    (tmp_path / "s.csv").write_text("id,label,x,y\nt1,rock,3,30\n")
    c = load_real_crowd(*(tmp_path / f for f in ("a.csv", "t.csv", "f.csv", "s.csv")))
    assert c.data.tolist() == [[1, 10], [2, 20]]  # in the order of truth, matched by ID
    assert c.target.tolist() == [0, 1] and c.target_names.tolist() == ["pop", "rock"]
    assert c.annotator_ids.tolist() == ["bob", "ann"]
    assert [a.tolist() for a in c.annotations] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    (tmp_path / "a2.csv").write_text("id,annotator,label\ns9,bob,rock\n")
    with pytest.raises(ValueError, match="s9"):
        load_real_crowd(*(tmp_path / f for f in ("a2.csv", "t.csv", "f.csv", "s.csv")))
    (tmp_path / "a3.csv").write_text("id,annotator,label\ns1,bob,rock\ns1,bob,pop\n")
    with pytest.raises(ValueError, match="at most once"):
        load_real_crowd(*(tmp_path / f for f in ("a3.csv", "t.csv", "f.csv", "s.csv")))


def test_load_music_genre_needs_a_path(monkeypatch, tmp_path):
    from skactivelab.datasets import MUSIC_GENRE_ENV, load_music_genre

    monkeypatch.delenv(MUSIC_GENRE_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match=MUSIC_GENRE_ENV):
        load_music_genre()
    with pytest.raises(FileNotFoundError, match="annotations.csv"):
        load_music_genre(tmp_path)


def test_music_genre_replay_round_zero(shared_file):
    from skactivelab.datasets import load_music_genre

    c = load_music_genre(shared_file("music_genre"))
    assert c.data.shape == (700, 124) and c.data_test.shape == (300, 124)
    assert c.annotations[0].size == 2945 and c.annotator_ids.size == 44
    task = _replay(c, n_initial=350, random_state=0)
    assert task.init_example.size == 350 and task.n_classes == 10
    # real labels: 0.56 of all labels are right (dataset README)
    assert np.mean(task.oracle[task.available] == np.broadcast_to(c.target[:, None], task.oracle.shape)[task.available]) == pytest.approx(0.56, abs=0.005)


def test_cli_music_genre_without_data_is_a_clear_error(monkeypatch, tmp_path, capsys):
    from skactivelab.datasets import MUSIC_GENRE_ENV

    monkeypatch.delenv(MUSIC_GENRE_ENV, raising=False)
    code = cli.main(["benchmark", "--dataset", "music_genre", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    # the first progress line (said before loading), then the error in one line
    said, error = err.strip().splitlines()
    assert said.startswith("skactivelab: benchmark: loading music_genre")
    assert code == 2 and error.startswith("skactivelab: error: ") and MUSIC_GENRE_ENV in error
    assert not any(tmp_path.iterdir())  # nothing written


def test_cli_benchmark_music_genre_replay(tmp_path, capsys, shared_file):
    cli.main(["benchmark", "--dataset", "music_genre", "--data", str(shared_file("music_genre")), "--rounds", "1",
              "--batch", "10",
              "--seeds", "1", "--methods", "random,activelab:annotator_confusion", "--model", "knn", "--n-jobs",
              "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "activelab:annotator_confusion" in out and "replay" in out
    rows = (tmp_path / "music_genre_replay_knn.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2
    assert rows[1].split(",")[8] == "350"  # n_annotations at round 0: the initial labels


def test_em_suggest_ranks_annotators_by_the_crowd_model(monkeypatch):
    """activelab_suggest_nocap with the annotator-confusion crowd model ranks annotators by the crowd
    model's accuracy: already in round 0,
    where every example has one label and CROWDLAB cannot rate anyone, the spammer ranks last;
    and it sets no cap."""
    from sklearn.linear_model import LogisticRegression

    from skactivelab.simulation import protocol as S
    from skactivelab.datasets import load_digits_data
    from skactivelab.simulation import heterogeneous_noise_matrices

    d = load_digits_data()
    acc = np.array([0.1, 0.95, 0.9, 0.85, 0.8])  # annotator 0: a spammer (chance is 0.1)
    task = make_task(d.data[:600], d.target[:600], n_annotators=5, initial_label_probs=(1.0,),
                     noise_matrices=heterogeneous_noise_matrices(acc, 10), random_state=0)
    assert np.bincount(task.init_example).max() == 1  # 200 examples, one label each
    seen = []
    orig = S.assign_annotators

    def spy(quality, eligible, *, max_per_annotator=None):
        seen.append((np.asarray(quality).copy(), max_per_annotator))
        return orig(quality, eligible, max_per_annotator=max_per_annotator)

    monkeypatch.setattr(S, "assign_annotators", spy)
    run_method(task, "activelab_suggest_nocap", model=LogisticRegression(max_iter=300), n_rounds=1,
               crowd_model="annotator_confusion",
               batch_size=20, n_folds=3, annotator_selection="distinct", random_state=0)
    (quality, cap), = seen
    assert cap is None
    assert np.all(np.isfinite(quality)) and np.argmin(quality) == 0
    assert quality[0] < 0.3 and np.all(quality[1:] > 0.6)  # estimated from ~40 labels each


def test_em_methods_honour_majority_vote_consensus():
    """consensus="majority_vote" means majority vote for every method, those with another crowd
    model included."""
    from sklearn.datasets import make_classification

    X, y = make_classification(90, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=1)
    task = make_task(X, y, n_annotators=4, random_state=0)
    kw = dict(model="logreg", n_rounds=3, batch_size=8, n_folds=2, random_state=0,
              annotator_selection="distinct")
    for method in ("activelab:annotator_confusion", "activelab_suggest_nocap:annotator_confusion"):
        for consensus in ("crowdlab", "majority_vote"):
            from skactivelab.simulation import protocol as S

            seen = []
            orig = S._consensus

            def spy(ex, ann, lab, P, seed, use_crowdlab, crowd=None):
                out = orig(ex, ann, lab, P, seed, use_crowdlab, crowd)
                if P is not None:  # rounds after 0: what each consensus rule gives
                    mv = np.asarray(S.get_majority_vote_label((ex, ann, lab), pred_probs=P.mean(axis=0),
                                                              random_state=seed), dtype=np.int64)
                    seen.append(np.array_equal(out[0], mv))
                return out

            S._consensus = spy
            try:
                run_method(task, method, consensus=consensus, **kw)
            finally:
                S._consensus = orig
            if consensus == "majority_vote":
                assert seen and all(seen)
            else:  # the crowd model's consensus differs from the majority vote somewhere
                assert seen and not all(seen)


def _write_crowd(d, crowd, names=("rock", "jazz", "pop")):
    """tiny_crowd as the four CSV files of a real crowd, with string IDs and class names."""
    ex, ann, lab = crowd["annotations"]
    d.mkdir(exist_ok=True)
    rows = [f"s{e},w{a},{names[l]}" for e, a, l in zip(ex, ann, lab)]
    (d / "annotations.csv").write_text("song,worker,genre\n" + "\n".join(rows[::-1]) + "\n")  # any order
    (d / "truth.csv").write_text("song,genre\n" + "".join(f"s{i},{names[t]}\n" for i, t in enumerate(crowd["target"])))
    feats = "".join(f"s{i}," + ",".join(map(str, x)) + "\n" for i, x in enumerate(crowd["data"]))
    (d / "features.csv").write_text("song,a,b,c,d\n" + feats)
    test = "".join(f"t{i},{names[t]}," + ",".join(map(str, x)) + "\n"
                   for i, (t, x) in enumerate(zip(crowd["target_test"], crowd["data_test"])))
    (d / "test.csv").write_text("song,genre,a,b,c,d\n" + test)


def test_cli_benchmark_replays_any_real_crowd(tmp_path, capsys):
    """--dataset crowd replays a crowd given as four CSV files (a directory or the files by name):
    round 0 reveals --initial labels (default half of the annotated examples), every later pick
    one more real label."""
    crowd = tiny_crowd(seed=3)
    _write_crowd(tmp_path / "c", crowd)
    argv = ["benchmark", "--dataset", "crowd", "--rounds", "2", "--batch", "10", "--seeds", "1",
            "--methods", "random,activelab_suggest_nocap", "--crowd-model", "annotator_confusion",
            "--model", "logreg", "--n-jobs", "1"]
    assert cli.main(argv + ["--data", str(tmp_path / "c"), "--out", str(tmp_path / "o1")]) == 0
    rows = [r.split(",") for r in (tmp_path / "o1" / "crowd_replay_logreg.csv").read_text().splitlines()]
    head = rows[0]
    n_ann = [int(r[head.index("n_annotations")]) for r in rows[1:]]
    assert n_ann == [60, 70, 80] * 2  # 120 annotated examples: 60 start labeled; 10 labels a round
    files = [str(tmp_path / "c" / f) for f in ("annotations.csv", "truth.csv", "features.csv", "test.csv")]
    assert cli.main(argv + ["--crowd-files", *files, "--initial", "30", "--out", str(tmp_path / "o2")]) == 0
    rows2 = (tmp_path / "o2" / "crowd_replay_logreg.csv").read_text().splitlines()
    assert rows2[1].split(",")[head.index("n_annotations")] == "30"
    capsys.readouterr()
    # neither a directory nor files; or both; or --crowd-files with another dataset: one line, exit 2
    for bad in (argv, argv + ["--data", "x", "--crowd-files", *files], ["benchmark", "--dataset", "digits",
                                                                          "--crowd-files", *files]):
        assert cli.main(bad + ["--out", str(tmp_path / "o3")]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "crowd" in err
    assert not (tmp_path / "o3").exists()


def _crowd_files(tmp_path, **replace):
    """A tiny valid crowd as four CSV files; ``replace`` swaps a file's text."""
    texts = dict(
        annotations="song,worker,genre\ns1,w1,rock\ns1,w2,jazz\ns2,w1,jazz\ns3,w2,rock\n",
        truth="song,genre\ns1,rock\ns2,jazz\ns3,rock\n",
        features="song,a,b\ns3,3.0,0.3\ns1,1.0,0.1\ns2,2.0,0.2\n",
        test="song,genre,a,b\nt1,rock,1.5,0.1\nt2,jazz,2.5,0.2\n",
    )
    texts.update(replace)
    paths = []
    for name in ("annotations", "truth", "features", "test"):
        (tmp_path / f"{name}.csv").write_bytes(texts[name].encode("utf-8") if isinstance(texts[name], str)
                                              else texts[name])
        paths.append(tmp_path / f"{name}.csv")
    return paths


def test_load_real_crowd_matches_rows_by_id_and_reads_messy_but_valid_csv(tmp_path):
    from skactivelab.datasets import load_real_crowd

    c = load_real_crowd(*_crowd_files(tmp_path))
    assert c.example_ids.tolist() == ["s1", "s2", "s3"] and c.target_names.tolist() == ["jazz", "rock"]
    np.testing.assert_array_equal(c.data, [[1.0, 0.1], [2.0, 0.2], [3.0, 0.3]])  # by ID, not file order
    assert [a.tolist() for a in c.annotations] == [[0, 0, 1, 2], [0, 1, 0, 1], [1, 0, 0, 1]]
    # a byte-order mark, CRLF line ends, blank lines and quoted commas read the same
    messy = _crowd_files(
        tmp_path,
        annotations=b"\xef\xbb\xbfsong,worker,genre\r\ns1,w1,rock\r\n\r\ns1,\"w2, jr\",jazz\r\ns2,w1,jazz\r\ns3,\"w2, jr\",rock\r\n",
    )
    c2 = load_real_crowd(*messy)
    assert c2.annotator_ids.tolist() == ["w1", "w2, jr"]
    assert [a.tolist() for a in c2.annotations] == [a.tolist() for a in c.annotations]


@pytest.mark.parametrize("replace, match", [
    (dict(test="song,genre,a,b\nt1,rock,1.5,0.1\nt2,pop,2.5,0.2\n"), r"test.csv line 3: label 'pop' is not a class"),
    (dict(truth="song,genre\ns1,rock \ns2,jazz\ns3,rock\n"), r"truth.csv line 2: the cell 'rock ' is empty or padded"),
    (dict(features="song,a,b\ns3,3.0,0.3\ns1,1.0\ns2,2.0,0.2\n"), r"features.csv line 3: 2 fields but the header has 3"),
    (dict(annotations="song,worker,genre,time\ns1,w1,rock,1\ns1,w2,jazz\n"), r"annotations.csv line 3: 3 fields"),
    (dict(annotations="song,worker\ns1,w1\n"), r"annotations.csv: expected the columns \(example ID, annotator ID, label\)"),
    (dict(annotations="s1,w1,rock\ns1,w2,jazz\ns2,w1,jazz\n"), r"annotations.csv: the first line is read as the header"),
    (dict(features="song,a,b\ns3,3.0,0.3\ns1,,0.1\ns2,2.0,0.2\n"), r"features.csv line 3: feature 'a' is ''"),
    (dict(test="song,genre,a,b\nt1,rock,nan,0.1\n"), r"test.csv line 2: feature 'a' is 'nan', not a finite number"),
    (dict(truth="song,genre\ns1,rock\ns2,rock\ns3,rock\n", annotations="song,worker,genre\ns1,w1,rock\n"),
     r"truth.csv: every example has the class 'rock'"),
    (dict(annotations="song,worker,genre\ns1,w1,rock\ns9,w2,jazz\n"), r"annotations.csv line 3: example ID 's9' has no row in"),
    (dict(annotations="song,worker,genre\ns1,w1,rock\ns2,w2,jazz\ns1,w1,jazz\n"),
     r"annotations.csv lines \[2, 4\]: annotator 'w1' labels example 's1' twice"),
    (dict(truth="song,genre\ns1,rock\ns2,jazz\ns1,rock\n"), r"truth.csv: example ID 's1' appears more than once \(lines \[2, 4\]\)"),
    (dict(features="song,a,b\ns3,3.0,0.3\ns1,1.0,0.1\n"), r"features.csv: no row for the example\(s\) \['s2'\]"),
    (dict(annotations=b"song,worker,genre\ns1,Jos\xe9,rock\n"), r"annotations.csv: not UTF-8 text"),
])
def test_load_real_crowd_errors_name_file_line_and_fix(tmp_path, replace, match):
    from skactivelab.datasets import load_real_crowd

    with pytest.raises(ValueError, match=match):
        load_real_crowd(*_crowd_files(tmp_path, **replace))


def test_load_real_crowd_warns_when_test_ids_are_crowd_examples(tmp_path):
    from skactivelab.datasets import load_real_crowd

    with pytest.warns(UserWarning, match="shares 1 example ID"):
        load_real_crowd(*_crowd_files(tmp_path, test="song,genre,a,b\ns1,rock,1.5,0.1\nt2,jazz,2.5,0.2\n"))


def test_replay_with_one_class_in_a_fold_and_tiny_initial_sets():
    """Two initial examples (the minimum) of one class: the cross-validation predicts that class
    instead of failing; fewer than two is a clear error."""
    from skactivelab.simulation import make_replay_task

    crowd = tiny_crowd(seed=4)
    task = make_replay_task(crowd["annotations"], crowd["target"], crowd["data"], crowd["data_test"],
                            crowd["target_test"], n_initial=2, random_state=0)
    rec = run_method(task, "activelab:annotator_confusion", model="logreg", n_rounds=2, batch_size=5, n_folds=5,
                     random_state=0)
    assert rec["n_annotations"].tolist() == [2, 7, 12]
    with pytest.raises(ValueError, match=r"n_initial must be in 2\.\."):
        make_replay_task(crowd["annotations"], crowd["target"], crowd["data"], crowd["data_test"],
                         crowd["target_test"], n_initial=1, random_state=0)
