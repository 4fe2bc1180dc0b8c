"""The command line never loses a file, never overwrites an input, and reads probabilities
by one documented rule (docs/command_line.md, decisions 3, 4, 9 and 10)."""

from __future__ import annotations

import csv
import os
import tracemalloc

import numpy as np
import pytest

from skactivelab import cli, get_active_learning_scores
from skactivelab.cli import _probs
from skactivelab.cli._probs import read_pred_probs
from skactivelab.cli._write import OutputPathError, write_files_atomically
from skactivelab._validation import ROW_SUM_TOL, normalise_rows


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(directory):
    """Hidden temporary or backup files left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def small_task(tmp_path, n=12, seed=0, ids=None):
    """Long annotations (alice, bob) and probabilities with an example_id column."""
    rng = np.random.default_rng(seed)
    ids = ids or [f"ex{i}" for i in range(n)]
    classes = ["cat", "dog"]
    truth = rng.integers(0, 2, n)
    rows = []
    for i, x in enumerate(ids):
        rows.append([x, "alice", classes[truth[i]]])
        if i % 2:
            rows.append([x, "bob", classes[rng.integers(0, 2)]])
    P = rng.dirichlet([1, 1], n)
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], rows)
    probs = write_csv(tmp_path / "p.csv", ["example_id", *classes],
                      [[x, *map(repr, p.tolist())] for x, p in zip(ids, P)])
    return ann, probs, rows, P


# --------------------------------------------------------------------------- all or nothing
def test_writer_rolls_back_when_a_rename_fails(tmp_path, monkeypatch):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    a.write_text("old a\n")
    b.write_text("old b\n")
    real = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        write_files_atomically({a: "new a\n", b: "new b\n", c: "new c\n"})
    assert a.read_text() == "old a\n"
    assert b.read_text() == "old b\n"
    assert not c.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["directory", "below_a_file"])
def test_writer_checks_every_target_before_writing(tmp_path, where):
    first = tmp_path / "first.csv"
    first.write_text("old\n")
    if where == "directory":
        second = tmp_path / "second.csv"
        second.mkdir()
    else:
        (tmp_path / "plain").write_text("a file\n")
        second = tmp_path / "plain" / "second.csv"
    with pytest.raises(OutputPathError, match="second.csv|plain"):
        write_files_atomically({first: "new\n", second: "new\n"})
    assert first.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_writer_removes_directories_it_created_on_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError(28, "No space")))
    with pytest.raises(OSError):
        write_files_atomically({tmp_path / "new" / "deeper" / "x.csv": "x\n"})
    assert list(tmp_path.iterdir()) == []


def test_fit_with_a_directory_in_place_of_an_output_changes_nothing(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ids = [f"s{i}" for i in range(30)]
    X = rng.normal(size=(30, 2))
    feats = write_csv(tmp_path / "f.csv", ["example_id", "x1", "x2"],
                      [[x, *map(repr, r.tolist())] for x, r in zip(ids, X)])
    ann = write_csv(tmp_path / "a.csv", ["example_id", "annotator_id", "label"],
                    [[x, "alice", "up" if X[i, 0] > 0 else "down"] for i, x in enumerate(ids)])
    out = tmp_path / "out"
    out.mkdir()
    (out / "next_batch.csv").write_text("previous round\n")
    (out / "consensus.csv").mkdir()  # cannot be replaced by a file
    code, stdout, err = run(["fit", "--features", feats, "--annotations", ann, "--model", "logistic",
                             "--cv", "2", "--n-jobs", "1", "--batch", "3", "--out-dir", str(out)],
                            capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1 and "consensus.csv" in err and "directory" in err
    assert (out / "next_batch.csv").read_text() == "previous round\n"
    assert sorted(p.name for p in out.iterdir()) == ["consensus.csv", "next_batch.csv"]


def test_score_out_below_a_file_is_refused_with_exit_2(tmp_path, capsys):
    ann, probs, _, _ = small_task(tmp_path)
    (tmp_path / "report").write_text("not a directory\n")
    code, stdout, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                             "--out", str(tmp_path / "report" / "next.csv")], capsys)
    assert code == 2 and stdout == ""
    assert "report" in err and "is a file" in err and "nothing was written" in err.lower()


@pytest.mark.parametrize("outs", [
    ["--out", "o.csv", "--tasks-out", "o.csv"],
    ["--out", "o.csv", "--tasks-out", "./sub/../o.csv"],
    ["--out-dir", "d", "--tasks-out", "d/consensus.csv"],
    ["--out-dir", "d", "--tasks-out", "d/./annotators.csv"],
])
def test_score_refuses_two_outputs_naming_one_file(tmp_path, capsys, monkeypatch, outs):
    ann, probs, _, _ = small_task(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    code, stdout, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                             "--quiet", *outs], capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1 and "two outputs name the same file" in err
    assert outs[0] in err and "--tasks-out" in err and "nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_fit_refuses_tasks_out_inside_its_out_dir_files(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    ids = [f"s{i}" for i in range(12)]
    feats = write_csv(tmp_path / "f.csv", ["example_id", "x1"],
                      [[x, repr(float(v))] for x, v in zip(ids, rng.normal(size=12))])
    ann = write_csv(tmp_path / "a.csv", ["example_id", "annotator_id", "label"],
                    [[x, "alice", "ab"[i % 2]] for i, x in enumerate(ids)])
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "next_batch.csv").write_text("previous round\n")
    code, stdout, err = run(["fit", "--features", feats, "--annotations", ann, "--model",
                             "logistic", "--cv", "2", "--n-jobs", "1", "--batch", "3",
                             "--out-dir", str(tmp_path / "d"), "--tasks-out",
                             str(tmp_path / "d" / "next_batch.csv")], capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1 and "two outputs name the same file" in err
    assert (tmp_path / "d" / "next_batch.csv").read_text() == "previous round\n"
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["next_batch.csv"]


def test_writer_refuses_two_pairs_naming_one_file(tmp_path):
    from skactivelab.cli._write import check_output_paths

    a = tmp_path / "x.csv"
    with pytest.raises(OutputPathError, match="two outputs name the same file: --a .* --b"):
        check_output_paths([(a, "--a"), (tmp_path / "." / "x.csv", "--b")])
    os.symlink(tmp_path, tmp_path / "link")
    with pytest.raises(OutputPathError, match="two outputs name the same file"):
        check_output_paths([(a, "--a"), (tmp_path / "link" / "x.csv", "--b")])
    check_output_paths([(a, "--a"), (tmp_path / "y.csv", "--b")])  # different files pass


# --------------------------------------------------------------------------- inputs are safe
@pytest.mark.parametrize("how", ["same", "dot_slash", "symlink", "hard_link"])
def test_score_refuses_to_overwrite_an_input(tmp_path, capsys, monkeypatch, how):
    ann, probs, _, _ = small_task(tmp_path)
    before = open(ann, encoding="utf-8").read()
    monkeypatch.chdir(tmp_path)
    if how == "same":
        out = ann
    elif how == "dot_slash":
        out = "./sub/../ann.csv"
        (tmp_path / "sub").mkdir()
    elif how == "symlink":
        out = "link.csv"
        os.symlink(ann, tmp_path / "link.csv")
    else:
        out = "hard.csv"
        os.link(ann, tmp_path / "hard.csv")
    code, stdout, err = run(["score", "--annotations", "ann.csv", "--pred-probs", probs,
                             "--batch", "3", "--out", out], capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1
    assert "--out" in err and "ann.csv" in err and "--annotations" in err
    assert open(ann, encoding="utf-8").read() == before


def test_fit_refuses_an_out_dir_holding_an_input(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ids = [f"s{i}" for i in range(10)]
    feats = write_csv(tmp_path / "next_batch.csv", ["example_id", "x1"],
                      [[x, repr(float(v))] for x, v in zip(ids, rng.normal(size=10))])
    ann = write_csv(tmp_path / "a.csv", ["example_id", "annotator_id", "label"],
                    [[x, "alice", "ab"[i % 2]] for i, x in enumerate(ids)])
    before = open(feats, encoding="utf-8").read()
    code, _, err = run(["fit", "--features", feats, "--annotations", ann, "--model", "logistic",
                        "--cv", "2", "--batch", "3", "--out-dir", str(tmp_path)], capsys)
    assert code == 2 and "--features" in err and "next_batch.csv" in err
    assert open(feats, encoding="utf-8").read() == before
    assert not (tmp_path / "consensus.csv").exists()


# --------------------------------------------------------------------------- file modes
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_outputs_follow_the_umask_replaced_ones_keep_their_mode(tmp_path, umask):
    old_mask = os.umask(umask)
    try:
        kept = tmp_path / "kept.csv"
        kept.write_text("old\n")
        os.chmod(kept, 0o640)
        write_files_atomically({tmp_path / "new.csv": "x\n", kept: "y\n"})
    finally:
        os.umask(old_mask)
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o666 & ~umask
    assert kept.stat().st_mode & 0o777 == 0o640
    assert kept.read_text() == "y\n"


def test_score_output_mode_follows_umask(tmp_path, capsys):
    ann, probs, _, _ = small_task(tmp_path)
    old_mask = os.umask(0o022)
    try:
        code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                            "--out", str(tmp_path / "next.csv")], capsys)
    finally:
        os.umask(old_mask)
    assert code == 0, err
    assert (tmp_path / "next.csv").stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- one tolerance
def test_cli_uses_the_library_tolerance():
    assert _probs.ROW_SUM_TOL is ROW_SUM_TOL
    assert "ROW_SUM_TOL =" not in open(_probs.__file__, encoding="utf-8").read()


def test_rows_beyond_the_tolerance_are_named(tmp_path, capsys):
    ann, _, _, P = small_task(tmp_path)
    P = P.copy()
    P[[2, 5]] *= 1 + 3 * ROW_SUM_TOL
    probs = write_csv(tmp_path / "p.csv", ["example_id", "cat", "dog"],
                      [[f"ex{i}", *map(repr, p.tolist())] for i, p in enumerate(P)])
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2
    assert "p.csv, row 4" in err and "rows 7" in err and f"{ROW_SUM_TOL:g}" in err


def _refused(path):
    with pytest.raises(cli.InputFileError) as info:
        read_pred_probs(str(path))
    return str(info.value)


def test_the_first_refused_row_is_named_by_its_own_problem(tmp_path):
    """Row by row, in file order: the first refused row says what is wrong with it, and
    the next refused rows (any problem) follow it, at most five, then '...'."""
    P = np.full((20, 2), 0.5)
    P[3] = [0.9, 0.9]  # off: sums to 1.8
    P[7, 0] = np.nan
    P[10] = [-0.5, 1.5]  # sums to 1, but negative
    np.save(tmp_path / "p.npy", P)
    msg = _refused(tmp_path / "p.npy")
    assert "array row 3: probabilities sum to 1.8, not 1 (also array rows 7, 10)" in msg
    P[3] = 0.5
    np.save(tmp_path / "p.npy", P)
    assert "array row 7: holds NaN or infinity" in _refused(tmp_path / "p.npy")
    P[7] = 0.5
    np.save(tmp_path / "p.npy", P)
    assert "array row 10: has a negative probability" in _refused(tmp_path / "p.npy")
    P[10] = 0.5
    P[11:17] = 0.2  # rows 11..16: the first and five more
    np.save(tmp_path / "p.npy", P)
    msg = _refused(tmp_path / "p.npy")
    assert "array row 11: probabilities sum to 0.4, not 1 (also array rows 12, 13, 14, 15, 16)." in msg
    P[17] = 0.2  # one more than shown
    np.save(tmp_path / "p.npy", P)
    assert "(also array rows 12, 13, 14, 15, 16 ...)" in _refused(tmp_path / "p.npy")


def test_refused_csv_rows_are_named_by_their_line(tmp_path):
    rows = [["0.5", "0.5"]] * 6
    rows[1], rows[4] = ["0.7", "0.7"], ["0.1", "0.1"]
    msg = _refused(write_csv(tmp_path / "p.csv", ["a", "b"], rows))
    assert "p.csv, row 3: probabilities sum to 1.4, not 1 (also rows 6)" in msg


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_rows_are_checked_in_place_on_the_readers_own_float64(dtype):
    """A float64 array the reader made is renormalised in place (no copy); another dtype
    is converted once; the values are the library rule's."""
    P = (np.eye(3)[[0, 1, 2, 0]] if dtype == np.int64 else
         np.array([[0.333, 0.666, 0.0], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.6, 0.4, 0.0]]))
    P = P.astype(dtype)
    want = normalise_rows(P)
    tab = _probs.ProbTable("p.npy", P, None, None, np.arange(4), row_label="array row")
    got = _probs.check_prob_rows(tab, "--pred-probs").probs
    assert got.tobytes() == want.tobytes()
    assert (got is P) == (dtype == np.float64)


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_rows_are_renormalised_by_the_library_rule(tmp_path, suffix):
    rng = np.random.default_rng(4)
    P = rng.dirichlet([1, 1, 1], 50)
    P[::3] *= 1 + rng.uniform(-0.9, 0.9, (17, 1)) * ROW_SUM_TOL  # off, within the tolerance
    path = tmp_path / f"p{suffix}"
    if suffix == ".npy":
        np.save(path, P)
    else:
        write_csv(path, ["a", "b", "c"], [list(map(repr, p)) for p in P.tolist()])
    got = read_pred_probs(str(path)).probs
    assert got.tobytes() == normalise_rows(P).tobytes()  # bit for bit the library's rows


def test_rows_that_sum_to_one_stay_bit_for_bit(tmp_path):
    row = [0.14, 0.02, 0.31, 0.43, 0.1]  # sums to 0.9999999999999999 in floating point
    assert np.sum(row) != 1.0 and (np.array(row) / np.sum(row)).tolist() != row
    path = write_csv(tmp_path / "p.csv", list("abcde"), [list(map(repr, row)), ["0.2"] * 5])
    P = read_pred_probs(path).probs
    assert P[0].tolist() == row
    assert P[1].tolist() == [0.2] * 5


# --------------------------------------------------------------------------- bare probabilities
def test_integer_example_ids_are_row_numbers_of_a_bare_array(tmp_path, capsys):
    rng = np.random.default_rng(3)
    n, n_rows = 10, 13  # rows 10..12 are named by no annotation: the unlabeled pool
    L = np.full((n, 3), -1)
    for i in range(n):
        L[i, rng.choice(3, size=2, replace=False)] = rng.integers(0, 2, 2)
    triples = [(str(i), f"w{j}", "ab"[L[i, j]]) for i, j in zip(*np.nonzero(L >= 0))]
    triples = [triples[k] for k in rng.permutation(len(triples))]  # first appearance != ID order
    ann = write_csv(tmp_path / "ann.csv", ["task", "worker", "label"], triples)
    P = rng.dirichlet([1, 1], n_rows)
    np.save(tmp_path / "p.npy", P)
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", str(tmp_path / "p.npy"),
                        "--batch", str(n_rows), "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    s_lab, s_unl = get_active_learning_scores(L, P[:n], P[n:], random_state=0)
    want = dict(zip([str(i) for i in range(n_rows)], np.concatenate([s_lab, s_unl])))
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert set(got) == set(want)
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10, abs=1e-12)


def test_integer_id_beyond_the_array_is_an_error(tmp_path, capsys):
    ann = write_csv(tmp_path / "ann.csv", ["task", "worker", "label"],
                    [["0", "w", "a"], ["1", "w", "b"], ["7", "w", "a"]])
    np.save(tmp_path / "p.npy", np.full((3, 2), 0.5))
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", str(tmp_path / "p.npy"),
                        "--batch", "2", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "ann.csv, row 4" in err and "'7'" in err and "3 rows" in err


def test_padded_ids_follow_first_appearance(tmp_path, capsys):
    """``007`` is text, not row 7: rows follow the order of first appearance."""
    ids = ["002", "000", "001"]
    ann = write_csv(tmp_path / "ann.csv", ["task", "worker", "label"],
                    [[x, "w", "ab"[k % 2]] for k, x in enumerate(ids)])
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    np.save(tmp_path / "p.npy", P)
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", str(tmp_path / "p.npy"),
                        "--batch", "3", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    L = np.array([[0], [1], [0]])
    s, _ = get_active_learning_scores(L, P, random_state=0)
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert [got[x] for x in ids] == pytest.approx(s.tolist(), rel=1e-10)


# --------------------------------------------------------------------------- ID column or class
@pytest.mark.parametrize("case", ["class_item_with_ids", "class_task_unused", "class_example_bare"])
def test_a_class_named_like_an_id_column_stays_a_class(tmp_path, capsys, case):
    rng = np.random.default_rng(4)
    n = 8
    ids = [f"p{i}" for i in range(n)]
    if case == "class_item_with_ids":
        classes, labels = ["item", "other"], ["item", "other"]
    elif case == "class_task_unused":
        classes, labels = ["a", "b", "task"], ["a", "b"]  # nobody chose 'task' yet
    else:
        classes, labels = ["example", "x"], ["example", "x"]
    P = rng.dirichlet(np.ones(len(classes)), n)
    codes = np.arange(n) % len(labels)
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"],
                    [[x, "ann", labels[k]] for x, k in zip(ids, codes)])
    if case == "class_example_bare":
        probs = write_csv(tmp_path / "p.csv", classes, [list(map(repr, p.tolist())) for p in P])
    else:
        probs = write_csv(tmp_path / "p.csv", ["example_id", *classes],
                          [[x, *map(repr, p.tolist())] for x, p in zip(ids, P)])
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", str(n),
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    L = np.array([classes.index(labels[k]) for k in codes])[:, None]
    s, _ = get_active_learning_scores(L, P, random_state=0)
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert [got[x] for x in ids] == pytest.approx(s.tolist(), rel=1e-10)


def test_example_column_option_names_the_id_column(tmp_path, capsys):
    ids = ["u1", "u2", "u3", "u4"]
    ann = write_csv(tmp_path / "ann.csv", ["photo", "annotator", "label"],
                    [[x, "ann", "ab"[k % 2]] for k, x in enumerate(ids)])
    P = np.array([[0.9, 0.1], [0.3, 0.7], [0.5, 0.5], [0.2, 0.8]])
    order = [2, 0, 3, 1]
    probs = write_csv(tmp_path / "p.csv", ["a", "photo", "b"],
                      [[repr(float(P[i, 0])), ids[i], repr(float(P[i, 1]))] for i in order])
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "4",
                        "--example-column", "photo", "--format", "long",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    s, _ = get_active_learning_scores(np.array([[0], [1], [0], [1]]), P, random_state=0)
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert [got[x] for x in ids] == pytest.approx(s.tolist(), rel=1e-10)


# --------------------------------------------------------------------------- sparse
def _many_annotators(tmp_path, n=2000, m=2000, per=2, k=3, seed=0):
    rng = np.random.default_rng(seed)
    ex = np.repeat(np.arange(n), per)
    an = rng.integers(0, m, ex.size)
    keep = np.unique(ex * m + an, return_index=True)[1]
    ex, an = ex[keep], an[keep]
    lab = rng.integers(0, k, ex.size)
    classes = [f"c{j}" for j in range(k)]
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"],
                    [[f"e{i}", f"a{j}", classes[c]] for i, j, c in zip(ex, an, lab)])
    P = rng.dirichlet(np.ones(k), n)
    probs = write_csv(tmp_path / "p.csv", ["example_id", *classes],
                      [[f"e{i}", *map(repr, p.tolist())] for i, p in enumerate(P)])
    return ann, probs, n, m


def test_score_memory_does_not_grow_with_examples_times_annotators(tmp_path, capsys):
    ann, probs, n, m = _many_annotators(tmp_path)
    dense = n * m * 8  # one int64 examples x annotators matrix: 32 MB
    tracemalloc.start()
    try:
        code = cli.main(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "5",
                               "--out", str(tmp_path / "o.csv")])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0, capsys.readouterr().err
    assert peak < dense / 2, f"peak {peak / 1e6:.1f} MB"


def test_fit_passes_sparse_annotations_with_class_names(tmp_path, capsys, monkeypatch):
    from skactivelab._annotations import Annotations
    from skactivelab.estimator import MultiAnnotatorClassifier

    seen = {}
    real_fit = MultiAnnotatorClassifier.fit

    def spy(self, X, y, **kw):
        seen["y"] = y
        return real_fit(self, X, y, **kw)

    monkeypatch.setattr(MultiAnnotatorClassifier, "fit", spy)
    rng = np.random.default_rng(2)
    ids = [f"s{i}" for i in range(40)]
    X = rng.normal(size=(40, 2))
    feats = write_csv(tmp_path / "f.csv", ["example_id", "x1", "x2"],
                      [[x, *map(repr, r.tolist())] for x, r in zip(ids, X)])
    labels = np.where(X[:, 0] > 0, "up", "down").astype(object)
    labels[7] = "rare"  # one row: fewer than --cv folds
    ann = write_csv(tmp_path / "a.csv", ["example_id", "annotator_id", "label"],
                    [[x, "alice", labels[i]] for i, x in enumerate(ids)])
    code, _, err = run(["fit", "--features", feats, "--annotations", ann, "--model", "logistic",
                        "--cv", "3", "--n-jobs", "1", "--batch", "3",
                        "--out-dir", str(tmp_path / "out")], capsys)
    assert code == 0, err
    assert isinstance(seen["y"], Annotations)
    # the warning names the class as the user wrote it, not its code
    assert "skactivelab: warning:" in err and "'rare' (1)" in err


# --------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("argv", [
    ["demo", "--batch", "0"], ["demo", "--rounds", "-1"], ["demo", "--n-jobs", "0"],
    ["demo", "--seed", "-3"], ["benchmark", "--seeds", "0"], ["benchmark", "--trace", "1.5"],
    ["benchmark", "--n-jobs", "0"], ["fit", "--features", "f", "--annotations", "a", "--batch",
                                     "1", "--out-dir", "o", "--n-jobs", "0"],
])
def test_bad_numbers_are_usage_errors_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"skactivelab {argv[0]}: error: argument {argv[-2]}")


@pytest.mark.parametrize("argv", [["benchmark", "--setting", "nope"], ["benchmark", "--methods", "x,activelab"]])
def test_benchmark_unknown_names_are_one_line_errors(argv, tmp_path, capsys):
    code = cli.main(argv + ["--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    # the names are checked once the simulation is loaded, after the first progress line
    said, error = err.splitlines()
    assert said.startswith("skactivelab: benchmark: ")
    assert code == 2 and error.startswith("skactivelab: error: ") and argv[1] in error
    assert not (tmp_path / "o").exists()
    assert cli.main(argv + ["--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert capsys.readouterr().err == err[len(said) + 1:]  # --quiet: the error alone


def test_benchmark_refuses_unwritable_outputs_before_running(tmp_path, capsys):
    (tmp_path / "digits_multiannotator_knn.json").mkdir()
    code = cli.main(["benchmark", "--dataset", "digits", "--rounds", "1", "--batch", "20", "--seeds",
                     "1", "--methods", "random", "--model", "knn", "--n-jobs", "1",
                     "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and "digits_multiannotator_knn.json" in err and "directory" in err
    assert out == ""  # refused before the benchmark ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits_multiannotator_knn.json"]


def test_demo_out_that_is_a_file_is_refused_before_running(tmp_path, capsys):
    (tmp_path / "taken").write_text("x\n")
    code = cli.main(["demo", "--out", str(tmp_path / "taken")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "is a file" in err and len(err.splitlines()) == 1
    assert (tmp_path / "taken").read_text() == "x\n"


def test_benchmark_writes_its_three_files_together(tmp_path, capsys):
    code = cli.main(["benchmark", "--dataset", "digits", "--rounds", "1", "--batch", "20", "--seeds",
                     "1", "--methods", "random", "--model", "knn", "--n-jobs", "1",
                     "--out", str(tmp_path / "res")])
    capsys.readouterr()
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "res").iterdir())
    assert "digits_multiannotator_knn.csv" in names and "digits_multiannotator_knn.json" in names
    assert [x for x in names if x.startswith(".")] == []


PADDED = {  # where the white space is -> (annotations, probabilities, file, row, what is named)
    "header": ("example_id ,annotator_id,label\ne1,alice,cat\ne2,bob,dog\n", None, "ann.csv", 1,
               "'example_id '"),
    "example_id": ("example_id,annotator_id,label\ne1,alice,cat\n e2,bob,dog\n", None, "ann.csv",
                   3, "example ID ' e2'"),
    "annotator": ("example_id,annotator_id,label\ne1,alice\t,cat\ne2,bob,dog\n", None,
                  "ann.csv", 2, "annotator ID 'alice\\t'"),
    "label": ("example_id,annotator_id,label\ne1,alice,cat\ne2,bob,dog\u00a0\n", None,
              "ann.csv", 3, "label 'dog\\xa0'"),
    "wide_label": ("id,alice,bob\ne1,cat, dog\ne2,dog,\n", None, "ann.csv", 2, "label ' dog'"),
    "probability_id": (None, "example_id,cat,dog\ne1,0.3,0.7\ne2 ,0.6,0.4\n", "p.csv", 3,
                       "example ID 'e2 '"),
    "class_name": (None, "example_id,cat , dog\ne1,0.3,0.7\ne2,0.6,0.4\n", "p.csv", 1,
                   "'cat '"),
}


@pytest.mark.parametrize("where", list(PADDED))
def test_cells_with_surrounding_spaces_are_refused(tmp_path, capsys, where):
    ann_text, probs_text, bad_file, row, named = PADDED[where]
    ann = tmp_path / "ann.csv"
    ann.write_text(ann_text or "example_id,annotator_id,label\ne1,alice,cat\ne2,bob,dog\n")
    probs = tmp_path / "p.csv"
    probs.write_text(probs_text or "example_id,cat,dog\ne1,0.3,0.7\ne2,0.6,0.4\n")
    code, out, err = run(["score", "--annotations", str(ann), "--pred-probs", str(probs),
                          "--batch", "2", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert f"{bad_file}, row {row}:" in err and named in err
    assert "starts or ends with white space" in err and "remove the spaces" in err
    assert not (tmp_path / "o.csv").exists()


def test_numbers_with_surrounding_spaces_are_numbers(tmp_path, capsys):
    ann = tmp_path / "ann.csv"
    ann.write_text("example_id,annotator_id,label\ne1,alice,cat\ne2,bob,dog\n")
    probs = tmp_path / "p.csv"
    probs.write_text("example_id,cat,dog\ne1, 0.3,0.7 \ne2,0.6 ,\t0.4\n")
    code, _, err = run(["score", "--annotations", str(ann), "--pred-probs", str(probs),
                        "--batch", "2", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    s, _ = get_active_learning_scores(np.array([[0, -1], [-1, 1]]),
                                      np.array([[0.3, 0.7], [0.6, 0.4]]), random_state=0)
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert got == pytest.approx({"e1": s[0], "e2": s[1]}, rel=1e-12)


@pytest.mark.parametrize("quiet", [False, True])
def test_benchmark_progress_on_stderr_unless_quiet(tmp_path, capsys, quiet):
    argv = ["benchmark", "--dataset", "digits", "--rounds", "1", "--batch", "20", "--seeds", "1",
            "--methods", "random", "--model", "knn", "--n-jobs", "1", "--out", str(tmp_path)]
    assert cli.main(argv + (["--quiet"] if quiet else [])) == 0
    out, err = capsys.readouterr()
    assert "random" in out
    assert ("[1/1] random seed=0 done" in err) != quiet
    # a first line before the work, then one line per round (rounds 0 and 1) of the run
    lines = err.splitlines()
    assert (lines[:1] == ["skactivelab: benchmark: loading digits, then 1 method x 1 seed: "
                          "1 round of 20 labels each; a line per round follows (0 s)"]) != quiet
    rounds = [ln for ln in lines if ln.startswith("skactivelab: benchmark: random seed 0, round ")]
    assert [ln.split(", round ")[1][:6] for ln in rounds] == ([] if quiet else ["0 of 1", "1 of 1"])
    assert quiet == (err == "")


def test_entry_points_reach_the_one_parser(tmp_path):
    import configparser
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    entry = cfg["options.entry_points"]["console_scripts"].strip()
    assert entry == "skactivelab = skactivelab.cli:console_main"
    # the program's entry is main() in a process of its own: the same parser
    proc = subprocess.run([sys.executable, "-c", "import sys; from skactivelab.cli import console_main; "
                           "sys.exit(console_main(['score', '--batch', '0']))"],
                          capture_output=True, text=True, cwd=root, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("skactivelab score: error:") and len(proc.stderr.splitlines()) == 1
    proc = subprocess.run([sys.executable, "-m", "skactivelab", "score", "--batch", "0"],
                          capture_output=True, text=True, cwd=root, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("skactivelab score: error:") and len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("what", ["read_only_file", "read_only_directory"])
def test_read_only_targets_are_refused_before_writing(tmp_path, monkeypatch, what):
    # tests run as root, where permissions do not block writes: ask os.access instead
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("old\n")
    second.write_text("old 2\n")
    real = os.access
    blocked = str(second) if what == "read_only_file" else str(tmp_path)
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == blocked else real(p, mode))
    with pytest.raises(OutputPathError, match="read-only|no write permission"):
        write_files_atomically({first: "new\n", second: "new\n"})
    assert first.read_text() == "old\n" and second.read_text() == "old 2\n"
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- an "id" column
def test_id_is_a_default_example_column_of_long_tables_and_probabilities(tmp_path, capsys):
    ann, probs, rows, P = small_task(tmp_path)
    for path in (ann, probs):
        text = open(path).read().replace("example_id,", "id,", 1)
        open(path, "w").write(text)
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "12",
                        "--quiet", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    ids = [f"ex{i}" for i in range(12)]
    L = np.full((12, 2), -1)
    for x, a, y in rows:
        L[ids.index(x), ["alice", "bob"].index(a)] = ["cat", "dog"].index(y)
    want, _ = get_active_learning_scores(L, P)
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert got == pytest.approx(dict(zip(ids, want.tolist())), rel=1e-12)


def test_a_row_counter_id_beside_task_stays_a_plain_column(tmp_path, capsys):
    ann, probs, rows, P = small_task(tmp_path)
    write_csv(tmp_path / "ann2.csv", ["id", "task", "annotator", "label"],
              [[k, *r] for k, r in enumerate(rows)])
    code, _, err = run(["score", "--annotations", str(tmp_path / "ann2.csv"), "--pred-probs",
                        probs, "--batch", "12", "--quiet", "--out", str(tmp_path / "o.csv")],
                       capsys)
    assert code == 0, err
    assert sorted(r["example_id"] for r in read_csv(tmp_path / "o.csv")) == sorted(
        f"ex{i}" for i in range(12))


def test_in_memory_long_frame_prefers_task_over_a_row_counter_id():
    pd = pytest.importorskip("pandas")
    from skactivelab import get_label_quality_multiannotator

    df = pd.DataFrame({"id": [10, 11, 12, 13], "task": ["a", "a", "b", "b"],
                       "annotator": ["x", "y", "x", "y"], "label": [0, 0, 1, 0]})
    P = np.array([[0.8, 0.2], [0.3, 0.7]])
    res = get_label_quality_multiannotator(df, P)
    ref = get_label_quality_multiannotator(np.array([[0, 0], [1, 0]]), P)
    np.testing.assert_array_equal(np.asarray(res.consensus_label), ref.consensus_label)
    only_id = df.drop(columns="task").assign(id=[0, 0, 1, 1])  # "id" alone names examples
    res = get_label_quality_multiannotator(only_id, P)
    np.testing.assert_array_equal(np.asarray(res.consensus_label), ref.consensus_label)


def test_a_text_id_column_under_another_name_gets_the_option_hint(tmp_path, capsys):
    ann, probs, _, _ = small_task(tmp_path)
    text = open(probs).read().replace("example_id,", "uid,", 1)
    open(probs, "w").write(text)
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                        "--quiet", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "'ex0', which is not a number" in err and "--example-column uid" in err
