"""The two table readers of the command line give the same cells, rows, line numbers,
numbers (bit for bit) and messages: pyarrow's columnar reader (the default) and the
standard library's ``csv`` module (where pyarrow is not installed)."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skactivelab import cli
from skactivelab.cli._columns import ArrowColumn
from skactivelab.cli._files import read_annotations, read_features
from skactivelab.cli._probs import read_pred_probs
from skactivelab.cli._tables import InputFileError
from skactivelab.cli._tabular import read_table

pytest.importorskip("pyarrow")

HIDDEN = ("pyarrow", "pyarrow.csv", "pyarrow.compute", "pyarrow.parquet", "pyarrow.types")


@pytest.fixture
def no_pyarrow(monkeypatch):
    """An install without pyarrow: importing it fails."""
    for name in HIDDEN:
        monkeypatch.setitem(sys.modules, name, None)


def both(fn, monkeypatch):
    """``fn()`` with pyarrow, then with pyarrow hidden: ``(with, without)`` (a result, or the
    text of the InputFileError raised)."""
    def call():
        try:
            return fn()
        except InputFileError as exc:
            return f"InputFileError: {exc}"
    with_arrow = call()
    with monkeypatch.context() as m:
        for name in HIDDEN:
            m.setitem(sys.modules, name, None)
        without = call()
    return with_arrow, without


def table_facts(table):
    return (table.header, table.header_line, table.lines.tolist(),
            [c.to_list() for c in table.columns])


def test_the_fixture_hides_pyarrow(no_pyarrow):
    with pytest.raises(ImportError):
        __import__("pyarrow")


# --------------------------------------------------------------------------- cells and lines
TRICKY = {
    "quoted": 'id,text,label\n1,"a, b",x\n2,"say ""hi""",y\n',
    "multi_line_cells": 'id,text,label\n1,"two\nlines",x\n2,"three\r\nlines\nhere",y\n3,z,w\n',
    "blank_lines": "id,label\n\n1,x\n\n\n2,y\n\n",
    "rows_of_empty_cells": "id,a,b\n1,x,y\n,,\n2,z,w\n , ,\n",
    "crlf": "id,label\r\n1,x\r\n\r\n2,y\r\n",
    "bom": "\ufeffid,label\n1,x\n2,y\n",
    "blank_before_header": "\n\nid,label\n1,x\n",
    "trailing_empty_cells": "id,label\n1,x,,\n2,y\n",
    "no_final_newline": "id,label\n1,x\n2,y",
    "quote_inside_a_cell": 'id,label\n1,x"y\n2,"a"b\n',
    "tabs": "id\tlabel\n1\tx y\n2\ty\n",
    "cr_only": "id,label\r1,x\r2,y\r",
    "unicode": "id,label\nélan,猫\n2,y\n",
}


@pytest.mark.parametrize("case", list(TRICKY))
def test_both_readers_give_the_same_cells_and_lines(tmp_path, monkeypatch, case):
    path = tmp_path / ("t.tsv" if case == "tabs" else "t.csv")
    path.write_bytes(TRICKY[case].encode("utf-8"))
    with_arrow, without = both(lambda: table_facts(read_table(path, "--x")), monkeypatch)
    assert with_arrow == without and not isinstance(with_arrow, str)
    columnar = isinstance(read_table(path, "--x").columns[0], ArrowColumn)
    assert columnar == (case != "trailing_empty_cells")  # that one pyarrow leaves to csv
    # and the lines are those of the csv module, which names rows by line_num
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter="\t" if case == "tabs" else ",")
        lines = [reader.line_num for row in reader
                 if any(c.strip() for c in row)]
    assert with_arrow[2] == lines[1:]


# cells that exercise quoting: commas, quotes, line breaks, spaces (kept as written)
CELL = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t1é')), max_size=6)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=12),
       blank=st.lists(st.booleans(), min_size=12, max_size=12),
       crlf=st.booleans())
def test_any_csv_writer_output_reads_back_alike(tmp_path, monkeypatch, rows, blank, crlf):
    end = "\r\n" if crlf else "\n"

    def line(cells):  # RFC 4180 (the csv module leaves a CR bare with "\n" line ends)
        return ",".join('"' + c.replace('"', '""') + '"' if any(x in c for x in ',"\r\n')
                        else c for c in cells) + end

    text = line(["a", "b", "c"]) + "".join(line(r) + (end if b else "")
                                           for r, b in zip(rows, blank))
    path = tmp_path / "h.csv"
    path.write_bytes(text.encode("utf-8"))
    with_arrow, without = both(lambda: table_facts(read_table(path, "--x")), monkeypatch)
    assert with_arrow == without
    if not isinstance(with_arrow, str):  # the cells as written (blank rows left out)
        kept = [r for r in rows if not all(c == "" or c.isspace() for c in r)]
        assert [list(r) for r in zip(*with_arrow[3])] == kept


NUMBERS = ["0.1", "1e-3", "1E+2", ".5", "5.", "-0.0", " 0.25", "0.25 ", "1_000", "nan", "inf",
           "0.30000000000000004", "2.2250738585072014e-308", "4.9e-324", "1e400", "+3"]


def test_numbers_are_pythons_floats_bit_for_bit(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    values = (rng.random(200) ** 7).tolist()
    texts = [repr(v) for v in values] + [f"{v:.17g}" for v in values] + NUMBERS
    path = tmp_path / "n.csv"
    path.write_text("id,x\n" + "".join(f"r{k},{t}\n" for k, t in enumerate(texts)))

    def numbers():
        return read_table(path, "--x", numeric=lambda h: [1]).columns[1].numbers()[0].tobytes()

    assert isinstance(read_table(path, "--x", numeric=lambda h: [1]).columns[1], ArrowColumn)
    with_arrow, without = both(numbers, monkeypatch)
    assert with_arrow == without == np.array([float(t) for t in texts]).tobytes()


# --------------------------------------------------------------------------- whole files
def _task_files(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[f"x{i:03d}", f"w{j}", ["cat", "dog", "a,b"][rng.integers(0, 3)]]
            for i in range(40) for j in range(rng.integers(0, 3))]
    with open(tmp_path / "ann.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["example_id", "annotator_id", "label"])
        w.writerows(rows[:10])
        fh.write("\n")
        w.writerows(rows[10:])
    P = rng.dirichlet([1, 1, 1], 45)
    with open(tmp_path / "p.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["example_id", "cat", "dog", "a,b"])
        w.writerows([f"x{i:03d}", *map(repr, p)] for i, p in enumerate(P.tolist()))
    with open(tmp_path / "f.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["example_id", "f1", "f2"])
        w.writerows([f"x{i:03d}", repr(float(v)), "" if i % 7 == 0 else "1.5"]
                    for i, v in enumerate(rng.normal(size=45)))
    return tmp_path / "ann.csv", tmp_path / "p.csv", tmp_path / "f.csv"


def test_annotations_probabilities_and_features_read_alike(tmp_path, monkeypatch):
    ann, probs, feats = _task_files(tmp_path)

    def read():
        a = read_annotations(ann)
        p = read_pred_probs(probs)
        f = read_features(feats)
        return (a.example_ids.to_list(), a.annotator_ids, a.example.tolist(),
                a.annotator.tolist(), a.label.tolist(), a.line.tolist(), a.example_line.tolist(),
                p.probs.tobytes(), p.classes, p.ids.to_list(), p.lines.tolist(),
                f.ids.to_list(), f.X.tobytes(), f.feature_names)

    with_arrow, without = both(read, monkeypatch)
    assert with_arrow == without and not isinstance(with_arrow, str)


def test_score_writes_the_same_bytes_without_pyarrow(tmp_path, capsys, monkeypatch):
    ann, probs, _ = _task_files(tmp_path)

    def score():
        out = tmp_path / "o"
        assert cli.main(["score", "--annotations", str(ann), "--pred-probs", str(probs),
                         "--batch", "10", "--out-dir", str(out), "--quiet"]) == 0
        return [(out / n).read_bytes() for n in ("next_batch.csv", "consensus.csv",
                                                 "annotators.csv")]

    with_arrow, without = both(score, monkeypatch)
    capsys.readouterr()
    assert with_arrow == without


# --------------------------------------------------------------------------- messages
def _message(argv, capsys):
    code = cli.main(argv)
    return code, capsys.readouterr().err


def test_every_malformed_file_message_is_the_same_without_pyarrow(tmp_path, capsys, monkeypatch):
    from test_team_cli import MALFORMED, _bad

    for case in MALFORMED:
        d = tmp_path / case
        d.mkdir()
        ann, probs, _, _, *extra = _bad(d, case)
        argv = ["score", "--annotations", ann, "--pred-probs", probs, "--batch", "5", "--out",
                str(d / "next.csv")] + (extra[0] if extra else [])
        with_arrow, without = both(lambda: _message(argv, capsys), monkeypatch)
        assert with_arrow == without, case
        assert with_arrow[0] == 2


def test_every_padded_cell_message_is_the_same_without_pyarrow(tmp_path, capsys, monkeypatch):
    from test_cli_hardening import PADDED

    for where, (ann_text, probs_text, *_rest) in PADDED.items():
        d = tmp_path / where
        d.mkdir()
        (d / "ann.csv").write_text(ann_text or "example_id,annotator_id,label\ne1,a,cat\n")
        (d / "p.csv").write_text(probs_text or "example_id,cat,dog\ne1,0.3,0.7\n")
        argv = ["score", "--annotations", str(d / "ann.csv"), "--pred-probs", str(d / "p.csv"),
                "--batch", "2", "--out", str(d / "o.csv")]
        with_arrow, without = both(lambda: _message(argv, capsys), monkeypatch)
        assert with_arrow == without and with_arrow[0] == 2, where


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, capsys, no_pyarrow):
    (tmp_path / "ann.parquet").write_bytes(b"PAR1")
    (tmp_path / "p.csv").write_text("example_id,cat,dog\ne1,0.3,0.7\n")
    code, err = _message(["score", "--annotations", str(tmp_path / "ann.parquet"),
                          "--pred-probs", str(tmp_path / "p.csv"), "--batch", "1", "--out",
                          str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "needs pyarrow" in err and "skactivelab[cli]" in err


@pytest.mark.parametrize("block", [1, 3, 7, 1 << 16])
def test_rows_moved_to_the_front_are_the_rows_asked_for_in_place(monkeypatch, block):
    from skactivelab.cli import _probs

    monkeypatch.setattr(_probs, "_MOVE_ROWS", block)
    rng = np.random.default_rng(block)
    for n, take in [(40, 0.5), (41, 0.9), (25, 0.1), (30, 1.0)]:
        for idx in (np.flatnonzero(rng.random(n) < take), np.arange(3, n - 2), np.arange(n - 4)):
            P = rng.random((n, 3))
            want = P[idx].copy()  # the oracle: NumPy's gather, taken before anything moves
            got = _probs._rows_in_front(P, idx)
            np.testing.assert_array_equal(got, want)
            assert got.base is P and got.ctypes.data == P.ctypes.data  # P's first rows, no copy
