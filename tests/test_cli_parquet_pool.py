"""``skactivelab score`` over a pool stored as many Parquet files: streamed in chunks
(no Dask needed) or on a Dask cluster (``--scheduler``), equal to the in-memory run."""

import os
import re
import socket
import sys
import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from skactivelab import _dask, _phases  # noqa: E402
from skactivelab.query import RunningTopK  # noqa: E402
from skactivelab.cli import main  # noqa: E402
from skactivelab.cli import _pool  # noqa: E402
from skactivelab.query import select_batch  # noqa: E402

CLASSES = ["cat", "dog", "owl"]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _write_csv(path, ids, P, id_name="example_id"):
    with open(path, "w") as fh:
        fh.write(",".join([id_name] + CLASSES) + "\n")
        for x, row in zip(ids, P):
            fh.write(",".join([str(x)] + [repr(float(v)) for v in row]) + "\n")


class Project:
    """Annotations and labeled probabilities (CSV); a pool with many exact ties as
    one CSV (the in-memory reference) and as Parquet files of uneven sizes."""

    def __init__(self, tmp, n=40, N=700, int_ids=False, seed=0):
        rng = np.random.default_rng(seed)
        self.tmp = tmp
        K = len(CLASSES)
        ids = [f"e{i:03d}" for i in range(n)]
        rows = [(ids[i], f"a{a}", CLASSES[rng.integers(K)]) for i in range(n) for a in range(3)
                if rng.random() < 0.6 or a == 0]
        pd.DataFrame(rows, columns=["example_id", "annotator_id", "label"]).to_csv(
            tmp / "ann.csv", index=False)
        _write_csv(tmp / "p.csv", ids, rng.dirichlet(np.ones(K), n))
        U = np.round(rng.dirichlet(np.ones(K), N), 1)  # exact ties in the scores
        U[:, 0] = np.clip(1 - U[:, 1:].sum(axis=1), 0, 1)
        U /= U.sum(axis=1, keepdims=True)
        self.U = U
        self.uids = (list(10_000 + rng.permutation(N)) if int_ids else
                     [f"u{i:05d}" for i in rng.permutation(N)])
        _write_csv(tmp / "u.csv", self.uids, U)
        frame = pd.DataFrame(U, columns=CLASSES)
        frame.insert(0, "example_id", self.uids)
        self.frame = frame
        self.pool = tmp / "pool"
        self.pool.mkdir()
        self.cuts = [0, 123, 124, 500, N]  # one file of a single row
        for k, (a, b) in enumerate(zip(self.cuts[:-1], self.cuts[1:])):
            frame.iloc[a:b].to_parquet(self.pool / f"part{k:02d}.parquet", index=False,
                                       row_group_size=50)
        (self.pool / "_SUCCESS").write_text("")  # side files are skipped

    def argv(self, pool, out, *extra, batch=60):
        return ["score", "--annotations", str(self.tmp / "ann.csv"), "--pred-probs",
                str(self.tmp / "p.csv"), "--unlabeled-pred-probs", *pool, "--batch",
                str(batch), "--out-dir", str(out), "--quiet", *extra]

    def reference(self, capsys, batch=60):
        out = self.tmp / "ref"
        code, stdout, err = run(self.argv([str(self.tmp / "u.csv")], out, batch=batch), capsys)
        assert code == 0, err
        return out, stdout


def _same_outputs(a, b):
    for name in ("next_batch.csv", "consensus.csv", "annotators.csv"):
        assert (a / name).read_text() == (b / name).read_text(), name


@pytest.mark.parametrize("chunk", ["7", "64", "500000"])
def test_parquet_directory_equals_in_memory(tmp_path, capsys, chunk):
    pr = Project(tmp_path)
    ref, ref_out = pr.reference(capsys)
    code, out, err = run(pr.argv([str(pr.pool)], tmp_path / "got", "--chunk-rows", chunk), capsys)
    assert code == 0, err
    _same_outputs(ref, tmp_path / "got")
    assert out.splitlines()[:2] == ref_out.splitlines()[:2]  # same counts and score range
    batch = pd.read_csv(tmp_path / "got" / "next_batch.csv", dtype=str)
    # the batch reaches into the pool and holds ties broken by input order
    assert (batch.relabel == "false").sum() > 10
    assert batch.score.duplicated().any()


def test_glob_and_file_list_equal_in_memory(tmp_path, capsys):
    pr = Project(tmp_path, seed=1)
    ref, _ = pr.reference(capsys, batch=100)
    pattern = str(pr.pool / "part*.parquet")
    code, _, err = run(pr.argv([pattern], tmp_path / "g", batch=100), capsys)
    assert code == 0, err
    _same_outputs(ref, tmp_path / "g")
    files = sorted(str(p) for p in pr.pool.glob("*.parquet"))
    code, _, err = run(pr.argv(files, tmp_path / "f", "--chunk-rows", "33", batch=100), capsys)
    assert code == 0, err
    _same_outputs(ref, tmp_path / "f")


def test_integer_ids_and_batch_beyond_the_pool(tmp_path, capsys):
    pr = Project(tmp_path, N=150, int_ids=True, seed=2)
    ref, _ = pr.reference(capsys, batch=500)  # more than every example: all are written
    code, _, err = run(pr.argv([str(pr.pool)], tmp_path / "got", batch=500), capsys)
    assert code == 0, err
    _same_outputs(ref, tmp_path / "got")
    got = pd.read_csv(tmp_path / "got" / "next_batch.csv", dtype=str)
    assert len(got) == 40 + 150 and set(map(str, pr.uids)) <= set(got.example_id)


def test_single_parquet_file_without_ids(tmp_path, capsys):
    """One file without an ID column: rows are named unlabeled:0, 1, ... as for CSV."""
    pr = Project(tmp_path, N=90, seed=3)
    bare = pd.DataFrame(pr.U, columns=CLASSES)
    bare.to_parquet(tmp_path / "bare.parquet", index=False, row_group_size=20)
    with open(tmp_path / "bare.csv", "w") as fh:
        fh.write(",".join(CLASSES) + "\n")
        for row in pr.U:
            fh.write(",".join(repr(float(v)) for v in row) + "\n")
    code, _, err = run(pr.argv([str(tmp_path / "bare.csv")], tmp_path / "ref"), capsys)
    assert code == 0, err
    code, _, err = run(pr.argv([str(tmp_path / "bare.parquet")], tmp_path / "got", "--chunk-rows",
                               "13"), capsys)
    assert code == 0, err
    _same_outputs(tmp_path / "ref", tmp_path / "got")
    assert "unlabeled:" in (tmp_path / "got" / "next_batch.csv").read_text()


def test_streaming_reads_bounded_chunks(tmp_path, capsys, monkeypatch):
    """The pool is scored chunk by chunk (never more than --chunk-rows rows at once)
    and only the batch lowest of each chunk are kept."""
    pr = Project(tmp_path, seed=4)
    seen = []
    real = _phases.score_rows

    def spy(fitted, U, *a, **k):
        seen.append(U.shape[-2])  # rows: (n, K) or (n_models, n, K)
        return real(fitted, U, *a, **k)

    monkeypatch.setattr(_phases, "score_rows", spy)
    code, _, err = run(pr.argv([str(pr.pool)], tmp_path / "got", "--chunk-rows", "40"), capsys)
    assert code == 0, err
    assert max(seen) <= 40 and sum(seen) == 700  # every example is annotated: all pool rows


def test_streams_without_dask(tmp_path, capsys, monkeypatch):
    pr = Project(tmp_path, N=200, seed=5)
    ref, _ = pr.reference(capsys)
    for name in ("dask", "dask.array", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    code, _, err = run(pr.argv([str(pr.pool)], tmp_path / "got"), capsys)
    assert code == 0, err
    _same_outputs(ref, tmp_path / "got")


# --------------------------------------------------------------------------- bad input
def _fails(pr, pool, capsys, match, *extra):
    out = pr.tmp / "never"
    code, stdout, err = run(pr.argv(pool, out, *extra), capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("skactivelab: error: ")
    assert re.search(match, err), err
    assert not out.exists()  # nothing written
    return err


def test_file_with_other_columns(tmp_path, capsys):
    pr = Project(tmp_path, N=100)
    pr.frame.rename(columns={"owl": "Owl"}).iloc[:10].to_parquet(pr.pool / "part99.parquet")
    _fails(pr, [str(pr.pool)], capsys,
           r"part99.parquet: its columns differ from those of .*part00.parquet "
           r"\(no column \['owl'\]; extra column \['Owl'\]\)")


def test_pool_with_other_number_of_classes(tmp_path, capsys):
    pr = Project(tmp_path, N=100)
    for f in pr.pool.glob("*.parquet"):
        f.unlink()
    four = pr.frame.assign(bat=0.0)
    four.to_parquet(pr.pool / "a.parquet", index=False)
    _fails(pr, [str(pr.pool)], capsys, r"a.parquet: has 4 class columns but .*p.csv has 3")


@pytest.mark.parametrize("where", ["two files", "one file"])
def test_id_given_twice(tmp_path, capsys, where):
    pr = Project(tmp_path, N=100)
    if where == "two files":
        pr.frame.iloc[[70]].to_parquet(pr.pool / "part99.parquet", index=False)
        match = (r"part99.parquet, row 1: example ID 'u\d+' is also in .*part00.parquet "
                 r"\(row 71\)")  # with 100 rows, the other files have none
    else:
        pr.frame.iloc[:4].assign(example_id=["n5", "n0", "n9", "n5"]).to_parquet(
            pr.pool / "part99.parquet", index=False)
        match = r"part99.parquet, row 4: example ID 'n5' already appears on row 1"
    _fails(pr, [str(pr.pool)], capsys, match)


def test_pool_id_that_is_annotated(tmp_path, capsys):
    pr = Project(tmp_path, N=100)
    pr.frame.iloc[:3].assign(example_id=["x", "e007", "y"]).to_parquet(
        pr.pool / "part99.parquet", index=False)
    _fails(pr, [str(pr.pool)], capsys,
           r"part99.parquet, row 2: example ID 'e007' is also in .*ann.csv \(row \d+\)")


@pytest.mark.parametrize("what", ["null probability", "NaN probability", "null ID", "sum"])
def test_missing_values(tmp_path, capsys, what):
    pr = Project(tmp_path, N=100)
    bad = pr.frame.iloc[:5].copy()
    bad["example_id"] = [f"z{i}" for i in range(5)]
    if what == "null ID":
        bad = bad.astype({"example_id": object})
        bad.iloc[3, 0] = None
        match = r"part99.parquet, row 4: column 'example_id' is empty"
    elif what == "sum":
        bad.iloc[3, 2] += 0.5
        match = r"part99.parquet, row 4: probabilities sum to 1.5, not 1"
    else:
        bad["dog"] = bad["dog"].astype("Float64" if what == "null probability" else float)
        bad.iloc[3, 2] = pd.NA if what == "null probability" else np.nan
        match = r"part99.parquet, row 4: column 'dog' is empty"
    bad.to_parquet(pr.pool / "part99.parquet", index=False)
    _fails(pr, [str(pr.pool)], capsys, match)


def test_several_files_need_ids_and_parquet_only(tmp_path, capsys):
    pr = Project(tmp_path, N=100)
    for k in range(2):
        pd.DataFrame(pr.U[:5], columns=CLASSES).to_parquet(tmp_path / f"b{k}.parquet")
    _fails(pr, [str(tmp_path / "b0.parquet"), str(tmp_path / "b1.parquet")], capsys,
           r"b0.parquet: has no example-ID column .* and the pool has 2 files")
    _fails(pr, [str(pr.pool), str(tmp_path / "u.csv")], capsys,
           r"u.csv: is not a Parquet file")
    _fails(pr, [str(tmp_path / "u.csv"), str(tmp_path / "u.csv")], capsys,
           r"is a second --unlabeled-pred-probs file")
    _fails(pr, [str(tmp_path / "nothing*.parquet")], capsys, r"nothing\*.parquet: matches no file")
    _fails(pr, [str(pr.pool), str(pr.pool / "part01.parquet")], capsys, r"is given twice")
    _fails(pr, [str(tmp_path / "u.csv")], capsys, r"--scheduler: needs a pool of Parquet files",
           "--scheduler", "tcp://127.0.0.1:1")


def test_the_output_may_not_be_a_pool_file(tmp_path, capsys):
    pr = Project(tmp_path, N=50)
    target = pr.pool / "part01.parquet"
    before = target.read_bytes()
    code, _, err = run(["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs",
                        str(tmp_path / "p.csv"), "--unlabeled-pred-probs", str(pr.pool),
                        "--batch", "5", "--out", str(target)], capsys)
    assert code == 2 and "--unlabeled-pred-probs" in err
    assert target.read_bytes() == before


# --------------------------------------------------------------------------- running top-k
@pytest.mark.parametrize("seed", range(4))
def test_running_top_k_equals_select_batch_and_stable_sort(seed):
    rng = np.random.default_rng(seed)
    s = np.round(rng.random(997), 1)  # many ties
    cuts = np.sort(rng.choice(np.arange(1, 997), 9, replace=False))
    for n in (1, 10, 200, 997):
        draws = np.random.RandomState(seed).random_sample(997)  # select_batch's stream
        seeded, stable = RunningTopK(n), RunningTopK(n)
        chunks = list(zip(np.r_[0, cuts], np.r_[cuts, 997]))
        for a, b in reversed(chunks):  # chunk order does not matter
            pos = np.arange(a, b)
            seeded.add(s[a:b], pos, pos, tiebreak=draws[a:b])
            stable.add(s[a:b], pos, pos)
        want = select_batch(s, n, random_state=np.random.RandomState(seed))
        assert seeded.payload.tolist() == want.tolist()
        assert stable.payload.tolist() == np.argsort(s, kind="stable")[:n].tolist()


# --------------------------------------------------------------------------- Dask cluster
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                     protocol="tcp://", dashboard_address=None)
    yield c
    c.close()


def test_scheduler_equals_in_memory(tmp_path, capsys, cluster):
    pr = Project(tmp_path, seed=6)
    ref, ref_out = pr.reference(capsys)
    code, out, err = run(pr.argv([str(pr.pool)], tmp_path / "got", "--scheduler",
                                 cluster.scheduler_address, "--chunk-rows", "60"), capsys)
    assert code == 0, err
    _same_outputs(ref, tmp_path / "got")
    assert out.splitlines()[:2] == ref_out.splitlines()[:2]


def test_scheduler_reports_the_first_bad_row_of_the_pool(tmp_path, capsys, cluster):
    pr = Project(tmp_path)
    for name in ("part03.parquet", "part01.parquet"):  # two bad files: the first one is named
        bad = pd.read_parquet(pr.pool / name)
        bad.iloc[-1, 1] = -0.5
        bad.to_parquet(pr.pool / name, index=False, row_group_size=50)
    _fails(pr, [str(pr.pool)], capsys, r"part01.parquet, row 1: has a negative probability",
           "--scheduler", cluster.scheduler_address, "--chunk-rows", "50")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _closed_scheduler():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                     protocol="tcp://", dashboard_address=None)
    address = c.scheduler_address
    c.close()
    return address


@pytest.mark.parametrize("kind", ["closed", "nothing listens"])
def test_unreachable_scheduler(tmp_path, capsys, kind):
    pr = Project(tmp_path, N=50)
    address = _closed_scheduler() if kind == "closed" else f"tcp://127.0.0.1:{_free_port()}"
    err = _fails(pr, [str(pr.pool)], capsys,
                 rf"cannot reach the Dask scheduler at {address} within 1 s .*check the address",
                 "--scheduler", address, "--scheduler-timeout", "1")
    assert "Traceback" not in err
    with pytest.raises(_dask.SchedulerError, match="cannot reach the Dask scheduler"):
        _dask.connect(address, timeout=1)
    assert isinstance(_dask.SchedulerError("x"), ConnectionError)


def test_piece_plan_covers_every_row(tmp_path):
    pr = Project(tmp_path, N=700)
    files = _pool.resolve_pool_files([str(pr.pool)], "--unlabeled-pred-probs")
    assert [os.path.basename(f) for f in files] == [f"part{k:02d}.parquet" for k in range(4)]
    spec, pieces, n = _pool.plan_pool(
        files, option="--unlabeled-pred-probs", classes=CLASSES, by_position=False,
        labeled_path="p.csv", class_names=set(CLASSES), id_column=None, usual=(), stats=None,
        known_ids=[], batch=5, chunk_rows=10, piece_rows=120)
    assert n == 700 and spec.id_column == "example_id"
    assert [p.first_pos for p in pieces] == list(np.cumsum([0] + [p.n_rows for p in pieces[:-1]]))
    assert all(p.n_rows <= 170 for p in pieces)  # whole row groups of 50 rows


def test_kernels_in_the_workers_use_one_thread(tmp_path, capsys, cluster, monkeypatch):
    import threading

    import skactivelab as sk
    from skactivelab import _kernels as K_

    pr = Project(tmp_path, N=300, seed=7)
    seen = []
    real = K_.in_row_blocks

    def spy(block, n_rows, size):
        if threading.current_thread() is not threading.main_thread():
            seen.append(K_._n_threads(10**9))
        return real(block, n_rows, size)

    monkeypatch.setattr(K_, "in_row_blocks", spy)
    monkeypatch.setattr(sk._config, "_env_limit", lambda: None)  # no enclosing limit
    monkeypatch.setattr(sk._config, "_threadpool_limit", lambda: None)
    with sk.config_context(n_threads=2):
        code, _, err = run(pr.argv([str(pr.pool)], tmp_path / "got", "--scheduler",
                                   cluster.scheduler_address, "--chunk-rows", "50"), capsys)
    assert code == 0, err
    assert seen and set(seen) == {1}


def test_scheduler_lost_while_scoring(tmp_path, capsys, cluster, monkeypatch):
    from distributed.comm import CommClosedError

    pr = Project(tmp_path, N=200)

    def lost(self, *a, **k):
        raise CommClosedError("in <TCP (closed)>: Stream is closed")

    monkeypatch.setattr(distributed.Client, "map", lost)
    _fails(pr, [str(pr.pool)], capsys,
           rf"lost the Dask scheduler at {cluster.scheduler_address} while scoring the pool "
           r"\(.*Stream is closed\); nothing was written",
           "--scheduler", cluster.scheduler_address)


def test_input_file_error_survives_pickling():
    """Errors found on a Dask worker travel to the caller by pickle, unchanged."""
    import pickle

    from skactivelab.cli import InputFileError

    exc = InputFileError("p.npy", 3, "holds NaN", "Give finite numbers.", row_label="array row")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is InputFileError and str(back) == str(exc) == (
        "p.npy, array row 3: holds NaN. Give finite numbers.")
    assert (back.file, back.row, back.problem, back.fix) == ("p.npy", 3, "holds NaN", "Give finite numbers.")
