"""The command line's outputs: all or none whatever signal arrives, never a device, a FIFO
or a link, ``-`` for standard output, no live spreadsheet formula, bad paths refused
before any work (docs/command_line.md, decisions 8 to 10)."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from skactivelab.cli._write import format_csv, neutralise_cell, write_files_atomically
from test_team_cli import run, write_csv

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("next_batch.csv", "consensus.csv", "annotators.csv")


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def task(tmp_path, ids=None, annotators=("alice", "bob"), classes=("cat", "dog"), n=12):
    """Long annotations (two annotators, every other example twice) and probabilities."""
    rng = np.random.default_rng(0)
    ids = list(ids or [f"ex{i}" for i in range(n)])
    rows = []
    for i, x in enumerate(ids):
        rows.append([x, annotators[0], classes[i % 2]])
        if i % 2:
            rows.append([x, annotators[1], classes[rng.integers(0, 2)]])
    P = rng.dirichlet([1, 1], len(ids))
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], rows)
    probs = write_csv(tmp_path / "p.csv", ["example_id", *classes],
                      [[x, *map(repr, p.tolist())] for x, p in zip(ids, P)])
    return ann, probs


def hidden(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- signals
# The child runs the command with one function slowed down, says when it is inside the
# window (a file appears), and the test sends a real signal then.
CHILD = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from skactivelab import cli
where, ready = sys.argv[1], sys.argv[2]
paused = []

def pause():
    if not paused:
        paused.append(1)
        open(ready, "w").close()
        time.sleep(1.5)

if where == "temp":  # in the middle of writing the first temporary file
    real_fdopen = os.fdopen

    class Slow:
        def __init__(self, fh):
            self.fh = fh
        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            pause()
            return self.fh.write(data[len(data) // 2:])
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.fh.close()
        def __getattr__(self, name):
            return getattr(self.fh, name)

    os.fdopen = lambda fd, *a, **k: Slow(real_fdopen(fd, *a, **k))
elif where == "rename":  # right after the first output was moved in place
    real_replace = os.replace

    def replace(src, dst):
        real_replace(src, dst)
        if os.path.basename(str(dst)) in {outputs!r}:
            pause()

    os.replace = replace
elif where == "plot":  # benchmark: while the plot is drawn in a temporary directory
    import skactivelab.simulation as sim
    real_plot = sim.plot_results

    def plot(*a, **k):
        pause()
        return real_plot(*a, **k)

    sim.plot_results = plot
sys.exit(cli.main(sys.argv[3:]))
"""


def _signalled_run(tmp_path, where, signame, argv, env=None):
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), outputs=OUTPUTS), where, str(ready),
         *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the child never reached the window ({where}): {err[-2000:]}")
        time.sleep(0.02)
    proc.send_signal(getattr(signal, signame))
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("where", ["temp", "rename"])
def test_a_signal_while_writing_leaves_every_output_new_or_every_output_old(tmp_path, where,
                                                                          signame):
    ann, probs = task(tmp_path)
    out = tmp_path / "round"
    out.mkdir()
    for name in OUTPUTS:
        (out / name).write_text("previous round\n")
    tasks = tmp_path / "import.json"
    tasks.write_text("previous round\n")
    code, _, err = _signalled_run(tmp_path, where, signame, [
        "score", "--annotations", ann, "--pred-probs", probs, "--batch", "4", "--out-dir",
        str(out), "--tasks-out", str(tasks)])
    old = [name for name in OUTPUTS if (out / name).read_text() == "previous round\n"]
    old += ["import.json"] * (tasks.read_text() == "previous round\n")
    if where == "temp":  # stopped before anything was moved in place: every file as it was
        assert len(old) == 4, err
        assert err.splitlines()[-1] == f"skactivelab: interrupted by {signame}; nothing was " \
                                       "written."
    else:  # stopped once the outputs were being moved in place: they all are
        assert old == [], err
        assert err.splitlines()[-1] == f"skactivelab: interrupted by {signame}; every output " \
                                       "was written."
        assert read_rows(out / "next_batch.csv")[0][0] == "rank"
    assert hidden(out) == [] and hidden(tmp_path) == []  # no temporary file, no backup
    assert code == 128 + getattr(signal, signame)


def test_sigterm_while_the_benchmark_plots_leaves_no_temporary_directory(tmp_path):
    pytest.importorskip("matplotlib")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    code, _, err = _signalled_run(tmp_path, "plot", "SIGTERM", [
        "benchmark", "--dataset", "digits", "--rounds", "1", "--batch", "20", "--seeds", "1",
        "--methods", "random", "--model", "knn", "--n-jobs", "1", "--quiet", "--out",
        str(tmp_path / "res")], env={"TMPDIR": str(scratch), "MPLBACKEND": "Agg"})
    assert code == 128 + signal.SIGTERM, err
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "res").exists() or list((tmp_path / "res").iterdir()) == []


# --------------------------------------------------------------------------- not a regular file
@pytest.mark.parametrize("what", ["fifo", "symlink_to_file", "dangling_symlink", "dev_stdout"])
def test_outputs_naming_a_fifo_or_a_link_are_refused_before_any_work(tmp_path, capsys, what):
    ann, probs = task(tmp_path)
    target = tmp_path / "next.csv"
    elsewhere = tmp_path / "elsewhere.csv"
    if what == "fifo":
        os.mkfifo(target)
    elif what == "symlink_to_file":
        elsewhere.write_text("keep me\n")
        os.symlink(elsewhere, target)
    elif what == "dangling_symlink":
        os.symlink(elsewhere, target)
    else:  # a link of our own to the process's standard output, like /dev/stdout
        os.symlink("/proc/self/fd/1", target)
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                          "--out", str(target)], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "not a regular file" in err and "--out" in err
    kind = "FIFO" if what == "fifo" else "symbolic link"
    assert kind in err and "nothing was written" in err
    if what == "fifo":
        assert Path(target).is_fifo()
    else:
        assert Path(target).is_symlink()  # the link itself is left alone ...
    if what == "symlink_to_file":
        assert elsewhere.read_text() == "keep me\n"  # ... and so is what it points to
    if what == "dangling_symlink":
        assert not elsewhere.exists()
    assert hidden(tmp_path) == []


def test_a_character_device_is_refused_without_touching_it(tmp_path):
    from skactivelab.cli._write import OutputPathError, check_output_paths

    device = os.devnull  # only looked at (lstat): the check writes nothing
    with pytest.raises(OutputPathError, match=r"a character device, not a regular file"):
        check_output_paths([device])


def test_dash_writes_the_batch_to_standard_output(tmp_path, capsys):
    ann, probs = task(tmp_path)
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                          "--out", "-"], capsys)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))  # standard output holds the CSV alone
    assert rows[0][:2] == ["rank", "example_id"] and len(rows) == 4
    assert "scored 12 labeled" in err  # the summary went to stderr
    code, out2, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                           "--out", str(tmp_path / "o.csv")], capsys)
    assert (tmp_path / "o.csv").read_text() == out  # the same bytes as the file


def test_two_outputs_on_standard_output_are_refused(tmp_path, capsys):
    ann, probs = task(tmp_path)
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                          "--out", "-", "--tasks-out", "-"], capsys)
    assert code == 2 and out == ""
    assert "two outputs name the same file" in err


def test_a_file_named_dash_in_a_directory_is_an_ordinary_file(tmp_path, capsys):
    ann, probs = task(tmp_path)
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                          "--out", str(tmp_path / "-")], capsys)
    assert code == 0, err
    assert read_rows(tmp_path / "-")[0][0] == "rank"


# --------------------------------------------------------------------------- CSV formulas
FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_cells_a_spreadsheet_would_run_get_a_leading_quote(cell):
    assert neutralise_cell(cell) == "'" + cell
    text = format_csv(["a", "b"], [[cell, 1]])
    assert list(csv.reader(io.StringIO(text)))[1] == ["'" + cell, "1"]


@pytest.mark.parametrize("cell", ["-1", "-0.25", "+3", "-1e-05", "1E+300", "-.5", "a=b", "x-1",
                                  "", "'=x"])
def test_numbers_and_plain_text_are_written_as_given(cell):
    assert neutralise_cell(cell) == cell
    assert list(csv.reader(io.StringIO(format_csv(["a"], [[cell]]))))[1] == [cell]


def test_numbers_stay_numbers():
    assert neutralise_cell(-1) == -1 and neutralise_cell(-0.5) == -0.5


def test_ids_labels_and_annotators_that_look_like_formulas_are_neutralised(tmp_path, capsys):
    ids = ["=cmd|' /C calc'!A0", "+A1", "-1", "ok", "@x", "e5", "e6", "e7"]
    ann, probs = task(tmp_path, ids=ids, annotators=("=evil@corp.com", "-bob"),
                      classes=("=cat", "-1"))
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "8",
                          "--out-dir", str(tmp_path / "o"), "--tasks-out",
                          str(tmp_path / "import.json")], capsys)
    assert code == 0, err
    text = "".join((tmp_path / "o" / n).read_text() for n in OUTPUTS)
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(("=", "+", "@")) or cell.startswith("'")
            assert not cell.startswith("-") or cell in ("-1",), cell  # a number stays one
    batch = {r[1] for r in read_rows(tmp_path / "o" / "next_batch.csv")[1:]}
    assert batch == {"'=cmd|' /C calc'!A0", "'+A1", "-1", "ok", "'@x", "e5", "e6", "e7"}
    annotators = {r[0] for r in read_rows(tmp_path / "o" / "annotators.csv")[1:]}
    assert annotators == {"'=evil@corp.com", "'-bob"}
    consensus = {r[1] for r in read_rows(tmp_path / "o" / "consensus.csv")[1:]}
    assert consensus <= {"'=cat", "-1"}
    # the Label Studio import file (JSON, not a spreadsheet) keeps every ID exactly
    import json

    tasks = json.loads((tmp_path / "import.json").read_text())
    assert {t["meta"]["example_id"] for t in tasks} == set(ids)


# --------------------------------------------------------------------------- checked up front
def test_a_path_through_a_missing_directory_is_refused_before_any_work(tmp_path, capsys,
                                                                       monkeypatch):
    ann, probs = task(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                          "--out", "o.csv", "--tasks-out", "sub/../x.json"], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "--tasks-out" in err and "sub" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ann.csv", "p.csv"]


def test_a_path_through_an_existing_directory_is_fine(tmp_path, capsys, monkeypatch):
    ann, probs = task(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                        "--out", "sub/../o.csv"], capsys)
    assert code == 0, err
    assert read_rows(tmp_path / "o.csv")[0][0] == "rank"


def test_fit_cv_below_two_is_a_usage_error(tmp_path, capsys):
    code, out, err = run(["fit", "--features", "f.csv", "--annotations", "a.csv", "--batch", "3",
                          "--out-dir", str(tmp_path / "o"), "--cv", "1"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--cv" in err and "at least 2" in err


def test_max_per_annotator_needs_suggest_annotators(tmp_path, capsys):
    ann, probs = task(tmp_path)
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                          "--out", str(tmp_path / "o.csv"), "--max-per-annotator", "2"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--suggest-annotators" in err
    assert not (tmp_path / "o.csv").exists()


def _pool_task(tmp_path):
    pd = pytest.importorskip("pandas")
    ann, probs = task(tmp_path)
    pool = tmp_path / "pool"
    pool.mkdir()
    pd.DataFrame({"example_id": ["u1"], "cat": [0.5], "dog": [0.5]}).to_parquet(pool / "a.parquet")
    return ann, probs, pool


def test_a_malformed_scheduler_address_is_one_line_and_no_traceback(tmp_path):
    pytest.importorskip("distributed")
    ann, probs, pool = _pool_task(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "skactivelab", "score", "--annotations", ann,
                           "--pred-probs", probs, "--unlabeled-pred-probs", str(pool),
                           "--scheduler", "garbage", "--batch", "1", "--out",
                           str(tmp_path / "o.csv")], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1, proc.stderr  # no traceback at exit
    assert proc.stderr.startswith("skactivelab: error: --scheduler garbage")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("address", ["tcp://::::", "tcp://host:notaport", "nosuchscheme://h:1"])
def test_a_malformed_scheduler_address_is_refused_before_any_work(tmp_path, capsys, address):
    pytest.importorskip("distributed")
    ann, probs, pool = _pool_task(tmp_path)
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs,
                          "--unlabeled-pred-probs", str(pool), "--scheduler", address,
                          "--batch", "1", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"skactivelab: error: --scheduler {address} is not a Dask scheduler")
    assert not (tmp_path / "o.csv").exists()


def test_writer_keeps_content_and_mode_with_dash_and_files(tmp_path, capsys):
    write_files_atomically({"-": "to stdout\n", tmp_path / "a.txt": "to a file\n"})
    assert capsys.readouterr().out == "to stdout\n"
    assert (tmp_path / "a.txt").read_text() == "to a file\n"


def test_an_abbreviated_option_is_refused_not_guessed(tmp_path, monkeypatch, capsys):
    """``fit --out -`` is an error naming the unknown option; argparse's abbreviations would
    read it as ``--out-dir -`` and make a directory named ``-``."""
    from skactivelab.cli import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--features", "f.csv", "--annotations", "a.csv", "--batch", "2", "--out", "-"])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()
