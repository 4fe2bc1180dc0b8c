"""``skactivelab score`` and ``skactivelab fit`` on files (skactivelab/cli/).

Expected values come from the library's Python API on arrays the test builds
itself, never from a previous run of the commands.
"""

from __future__ import annotations

import csv

import numpy as np
import scipy.stats
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skactivelab import (
    MultiAnnotatorClassifier,
    get_active_learning_scores,
    get_label_quality_multiannotator,
)
from skactivelab import cli
from skactivelab.crowd_models import AnnotatorConfusion
from skactivelab.cli import InputFileError
from skactivelab._validation import ROW_SUM_TOL

CLASSES = ["bird", "cat", "dog"]  # sorted
ANNOTATORS = ["alice", "bob", "carol", "dave"]
# IDs that a careless reader would change: leading zeros, commas, spaces, non-ASCII, numbers
SPECIAL_IDS = ["007", "a,b", "x y", "élan", "12"]


# --------------------------------------------------------------------------- helpers
def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        if header is not None:
            w.writerow(header)
        w.writerows(rows)
    return str(path)


def fnum(v):
    """Shortest text that reads back as the same float."""
    return repr(float(v))


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # --help and usage errors, as argparse does
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


class Task:
    """Annotations, probabilities and their expected ActiveLab scores, built without _io."""

    def __init__(self, seed=0, n_lab=30, n_empty=2, n_extra=3, n_unl=5, classes=CLASSES):
        rng = np.random.default_rng(seed)
        K = len(classes)
        self.classes = list(classes)
        self.ids = SPECIAL_IDS + [f"img-{i:03d}" for i in range(n_lab - len(SPECIAL_IDS))]
        truth = rng.integers(0, K, n_lab)
        L = np.full((n_lab, len(ANNOTATORS)), -1)
        for i in range(n_lab):
            who = rng.choice(len(ANNOTATORS), size=rng.integers(1, 4), replace=False)
            noisy = rng.random(who.size) < 0.25
            L[i, who] = np.where(noisy, rng.integers(0, K, who.size), truth[i])
        self.L = L  # codes = positions in self.classes
        self.P = rng.dirichlet(np.ones(K), n_lab)
        self.P[np.arange(n_lab), truth] += 1.0
        self.P /= self.P.sum(axis=1, keepdims=True)
        self.empty_ids = [f"empty-{i}" for i in range(n_empty)]  # listed but never labeled
        self.P_empty = rng.dirichlet(np.ones(K), n_empty)
        self.extra_ids = [f"pool-{i}" for i in range(n_extra)]  # only in the probs file
        self.P_extra = rng.dirichlet(np.ones(K), n_extra)
        self.unl_ids = [f"u{i}" for i in range(n_unl)]
        self.U = rng.dirichlet(np.ones(K), n_unl)
        # long-format rows in a shuffled order: the order of first appearance differs
        triples = [(self.ids[i], ANNOTATORS[j], self.classes[L[i, j]])
                   for i, j in zip(*np.nonzero(L >= 0))]
        self.long_rows = [triples[k] for k in rng.permutation(len(triples))]

    def expected(self, pool_ids, pool_P):
        s_lab, s_unl = get_active_learning_scores(self.L, self.P, pool_P, random_state=0)
        ids = self.ids + pool_ids
        return dict(zip(ids, np.concatenate([s_lab, s_unl]))), ids

    def first_seen_order(self):
        seen = []
        for x, _, _ in self.long_rows:
            if x not in seen:
                seen.append(x)
        return seen


def check_batch(rows, expected, n_per, batch):
    """``rows`` of the output are the ``batch`` lowest expected scores, in order."""
    want = sorted(expected, key=lambda x: expected[x])[:batch]
    assert [r["example_id"] for r in rows] == want
    assert [int(r["rank"]) for r in rows] == list(range(1, batch + 1))
    got = np.array([float(r["score"]) for r in rows])
    np.testing.assert_allclose(got, [expected[x] for x in want], rtol=1e-10, atol=1e-12)
    for r in rows:
        n = n_per.get(r["example_id"], 0)
        assert int(r["num_annotations"]) == n
        assert r["relabel"] == ("true" if n > 0 else "false")


# --------------------------------------------------------------------------- score
@pytest.mark.parametrize("on_disk", [False, True])
@pytest.mark.parametrize("layout", ["long+csv_ids", "wide+csv_order+npy_unl", "long+npy"])
def test_score_matches_active_learning_scores(tmp_path, capsys, monkeypatch, layout, on_disk):
    from skactivelab.cli import _columns, _score

    held = []
    if on_disk:  # every ID column held in a temporary file while the scoring runs
        monkeypatch.setattr(_columns, "HELD_ON_DISK_BYTES", 0)
        monkeypatch.setattr(_columns, "_in_memory_filesystem", lambda path: False)  # (any /tmp)
        real = _score.held_on_disk

        def counted(column, min_bytes=None):
            out = real(column, min_bytes)
            held.append(out is not column)
            return out

        monkeypatch.setattr(_score, "held_on_disk", counted)
    t = Task()
    order_cls = ["dog", "bird", "cat"]  # probability columns not in sorted order
    col = [t.classes.index(c) for c in order_cls]
    argv = ["score", "--batch", "12", "--out", str(tmp_path / "next.csv")]
    if layout == "long+csv_ids":
        ann = write_csv(tmp_path / "ann.csv", ["task", "worker", "label"], t.long_rows)
        # rows shuffled; extra IDs are pool rows; unlabeled file has an ID column
        rows = [[x, *map(fnum, p[col])] for x, p in zip(t.ids + t.extra_ids,
                                                        np.vstack([t.P, t.P_extra]))]
        rows = [rows[k] for k in np.random.default_rng(1).permutation(len(rows))]
        probs = write_csv(tmp_path / "p.csv", ["example_id", *order_cls], rows)
        unl = write_csv(tmp_path / "u.csv", ["item", *order_cls[::-1]],
                        [[x, *map(fnum, p[col[::-1]])] for x, p in zip(t.unl_ids, t.U)])
        argv += ["--annotations", ann, "--pred-probs", probs, "--unlabeled-pred-probs", unl]
        pool_ids, pool_P = t.extra_ids + t.unl_ids, np.vstack([t.P_extra, t.U])
    elif layout == "wide+csv_order+npy_unl":
        wide = [[x, *[t.classes[k] if k >= 0 else "" for k in row]] for x, row in zip(t.ids, t.L)]
        wide += [[x] + [""] * len(ANNOTATORS) for x in t.empty_ids]
        ann = write_csv(tmp_path / "ann.csv", ["", *ANNOTATORS], wide)
        probs = write_csv(tmp_path / "p.csv", order_cls,
                          [list(map(fnum, p[col])) for p in np.vstack([t.P, t.P_empty])])
        np.save(tmp_path / "u.npy", t.U[:, col])
        argv += ["--annotations", ann, "--pred-probs", probs,
                 "--unlabeled-pred-probs", str(tmp_path / "u.npy"), "--format", "wide"]
        pool_ids = t.empty_ids + [f"unlabeled:{i}" for i in range(len(t.unl_ids))]
        pool_P = np.vstack([t.P_empty, t.U])
    else:
        ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], t.long_rows)
        pos = {x: i for i, x in enumerate(t.ids)}
        np.save(tmp_path / "p.npy", t.P[[pos[x] for x in t.first_seen_order()]])  # sorted classes
        argv += ["--annotations", ann, "--pred-probs", str(tmp_path / "p.npy")]
        pool_ids, pool_P = [], None
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "wrote" in out and err == ""
    if on_disk:  # the annotations' example IDs, then those of the probability files
        assert sum(held) == (3 if layout == "long+csv_ids" else 1), held
    expected, _ = t.expected(pool_ids, pool_P)
    n_per = dict(zip(t.ids, (t.L >= 0).sum(axis=1)))
    rows = read_csv(tmp_path / "next.csv")
    assert list(rows[0]) == ["rank", "example_id", "score", "relabel", "num_annotations",
                             "labeled_by", "consensus_label", "consensus_quality"]
    check_batch(rows, expected, n_per, 12)


def test_score_npy_integer_labels_are_column_indices(tmp_path, capsys):
    t = Task(classes=["0", "1", "2"], n_extra=0)
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], t.long_rows)
    pos = {x: i for i, x in enumerate(t.ids)}
    order = [pos[x] for x in t.first_seen_order()]
    np.save(tmp_path / "p.npy", t.P[order])
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", str(tmp_path / "p.npy"),
                        "--batch", str(len(t.ids)), "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    expected, _ = t.expected([], None)
    check_batch(read_csv(tmp_path / "o.csv"), expected, dict(zip(t.ids, (t.L >= 0).sum(1))), len(t.ids))


def test_score_batch_larger_than_pool_writes_everything(tmp_path, capsys):
    t = Task(n_extra=0)
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], t.long_rows)
    probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes],
                      [[x, *map(fnum, p)] for x, p in zip(t.ids, t.P)])
    code, _, _ = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "1000",
                      "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0
    rows = read_csv(tmp_path / "o.csv")
    assert sorted(r["example_id"] for r in rows) == sorted(t.ids)  # IDs unchanged ("007", "a,b")


# --------------------------------------------------------------------------- malformed files
def _good_files(tmp_path):
    t = Task(n_extra=0)
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], t.long_rows)
    probs_rows = [[x, *map(fnum, p)] for x, p in zip(t.ids, t.P)]
    probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes], probs_rows)
    return t, ann, probs, probs_rows


def _bad(tmp_path, case):
    """Files with one defect; returns (annotations, probs, bad file name, bad row)."""
    t, ann, probs, probs_rows = _good_files(tmp_path)
    long_header = ["example_id", "annotator_id", "label"]
    if case == "missing_annotator_column":
        ann = write_csv(tmp_path / "ann.csv", ["example_id", "label"], [r[::2] for r in t.long_rows])
        return ann, probs, "ann.csv", 1
    if case == "long_format_missing_label_column":
        ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "answer"], t.long_rows)
        return ann, probs, "ann.csv", 1, ["--format", "long"]
    if case == "unknown_class_in_annotations":
        rows = list(t.long_rows)
        rows[6] = (rows[6][0], rows[6][1], "Dog")  # case matters
        ann = write_csv(tmp_path / "ann.csv", long_header, rows)
        return ann, probs, "ann.csv", 8
    if case == "unknown_class_name_in_probs":
        probs = write_csv(tmp_path / "p.csv", ["example_id", "bird", "cat", "dgo"], probs_rows)
        return ann, probs, "p.csv", 1
    if case == "duplicated_annotation":
        rows = list(t.long_rows)
        rows.insert(10, rows[3])
        ann = write_csv(tmp_path / "ann.csv", long_header, rows)
        return ann, probs, "ann.csv", 12
    if case == "duplicated_example_in_wide":
        wide = [[x, *[t.classes[k] if k >= 0 else "" for k in row]] for x, row in zip(t.ids, t.L)]
        wide.insert(5, wide[2])
        ann = write_csv(tmp_path / "ann.csv", ["id", *ANNOTATORS], wide)
        return ann, probs, "ann.csv", 7
    if case == "duplicated_id_in_probs":
        rows = list(probs_rows)
        rows.append(rows[4])
        probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes], rows)
        return ann, probs, "p.csv", len(rows) + 1
    if case == "empty_annotations":
        (tmp_path / "ann.csv").write_text("")
        return ann, probs, "ann.csv", 1
    if case == "header_only_annotations":
        ann = write_csv(tmp_path / "ann.csv", long_header, [])
        return ann, probs, "ann.csv", 2
    if case == "empty_probs":
        (tmp_path / "p.csv").write_text("\n\n")
        return ann, probs, "p.csv", 1
    if case == "non_numeric_probability":
        rows = [list(r) for r in probs_rows]
        rows[9][2] = "0.3x"
        probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes], rows)
        return ann, probs, "p.csv", 11
    if case == "probabilities_without_header":
        probs = write_csv(tmp_path / "p.csv", None, [r[1:] for r in probs_rows])
        return ann, probs, "p.csv", 1
    if case == "row_not_summing_to_one":
        rows = [list(r) for r in probs_rows]
        rows[3][1] = "0.9"
        rows[3][2] = "0.9"
        probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes], rows)
        return ann, probs, "p.csv", 5
    if case == "negative_probability":
        rows = [list(r) for r in probs_rows]
        rows[0][1:] = ["-0.5", "1.0", "0.5"]
        probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes], rows)
        return ann, probs, "p.csv", 2
    if case == "ragged_row":
        rows = [list(r) for r in t.long_rows]
        rows[4] = rows[4][:2]
        ann = write_csv(tmp_path / "ann.csv", long_header, rows)
        return ann, probs, "ann.csv", 6
    if case == "missing_example_in_probs":
        probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes], probs_rows[1:])
        first = next(k for k, r in enumerate(t.long_rows) if r[0] == t.ids[0])
        return ann, probs, "p.csv", first + 2  # the row of the annotations file
    if case == "extra_row_without_ids":
        order = t.first_seen_order()
        pos = {x: i for i, x in enumerate(t.ids)}
        probs = write_csv(tmp_path / "p.csv", t.classes,
                          [list(map(fnum, t.P[pos[x]])) for x in order] + [["0.5", "0.5", "0"]])
        return ann, probs, "p.csv", len(order) + 2
    raise AssertionError(case)


MALFORMED = [
    "missing_annotator_column", "long_format_missing_label_column", "unknown_class_in_annotations",
    "unknown_class_name_in_probs", "duplicated_annotation", "duplicated_example_in_wide",
    "duplicated_id_in_probs", "empty_annotations", "header_only_annotations", "empty_probs",
    "non_numeric_probability", "probabilities_without_header", "row_not_summing_to_one",
    "negative_probability", "ragged_row", "missing_example_in_probs", "extra_row_without_ids",
]


@pytest.mark.parametrize("case", MALFORMED)
def test_score_malformed_file_exit_2_one_line_nothing_written(tmp_path, capsys, case):
    ann, probs, bad_file, bad_row, *extra = _bad(tmp_path, case)
    out = tmp_path / "next.csv"
    argv = ["score", "--annotations", ann, "--pred-probs", probs, "--batch", "5", "--out", str(out)]
    code, stdout, err = run(argv + (extra[0] if extra else []), capsys)
    assert code == 2
    assert stdout == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skactivelab: error: ")
    assert bad_file in lines[0]
    assert f"row {bad_row}" in lines[0], lines[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files


def test_error_keeps_existing_output_and_names_fix(tmp_path, capsys):
    ann, probs, _, _ = _bad(tmp_path, "non_numeric_probability")
    out = tmp_path / "next.csv"
    out.write_text("previous round\n")
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "5",
                        "--out", str(out)], capsys)
    assert code == 2
    assert "'0.3x'" in err and "number" in err
    assert out.read_text() == "previous round\n"


def test_input_file_error_is_value_error():
    e = InputFileError("f.csv", 4, "column 'x' is empty", "Fill it in.")
    assert isinstance(e, ValueError) and (e.file, e.row) == ("f.csv", 4)
    assert str(e) == "f.csv, row 4: column 'x' is empty. Fill it in."


# --------------------------------------------------------------------------- fit
def _fit_files(tmp_path, seed=0):
    rng = np.random.default_rng(seed)
    classes = ["left", "right", "up"]
    n, n_lab, n_unl = 90, 70, 12
    X = rng.normal(size=(n + n_unl, 2))
    truth = np.where(X[:, 0] > 0.4, 2, np.where(X[:, 1] > 0, 1, 0))
    ids = [f"s-{i:03d}" for i in range(n)] + [f"0{i}" for i in range(n_unl)]
    L = np.full((n + n_unl, len(ANNOTATORS)), -1)
    acc = [0.95, 0.85, 0.7, 0.5]
    for i in range(n_lab):
        for j in rng.choice(len(ANNOTATORS), size=rng.integers(1, 4), replace=False):
            L[i, j] = truth[i] if rng.random() < acc[j] else rng.integers(0, 3)
    triples = [(ids[i], ANNOTATORS[j], classes[L[i, j]]) for i, j in zip(*np.nonzero(L >= 0))]
    triples = [triples[k] for k in rng.permutation(len(triples))]
    feats = write_csv(tmp_path / "f.csv", ["example_id", "x1", "x2"],
                      [[ids[i], *map(fnum, X[i])] for i in range(n)])
    unl = write_csv(tmp_path / "fu.csv", ["x2", "example_id", "x1"],  # other column order
                    [[fnum(X[i, 1]), ids[i], fnum(X[i, 0])] for i in range(n, n + n_unl)])
    ann = write_csv(tmp_path / "a.csv", ["item", "annotator", "label"], triples)
    return feats, unl, ann, X, L, ids, classes


def test_fit_outputs_match_estimator_and_functional_api(tmp_path, capsys):
    feats, unl, ann, X, L, ids, classes = _fit_files(tmp_path)
    out_dir = tmp_path / "out"
    code, out, err = run(["fit", "--features", feats, "--unlabeled-features", unl, "--annotations", ann,
                          "--model", "logistic", "--cv", "3", "--n-jobs", "1", "--batch", "15",
                          "--out-dir", str(out_dir)], capsys)
    assert code == 0, err
    assert "skactivelab fit: 102 examples (70 labeled, 32 unlabeled), 4 annotators" in out
    assert "next batch: 15 examples" in out

    y = np.where(L >= 0, np.asarray(classes, dtype=object)[np.maximum(L, 0)], None)
    clf = MultiAnnotatorClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                                   cv=3, random_state=0, n_jobs=1).fit(X, y)
    lab = clf.labeled_mask_
    # the functional API on the estimator's out-of-fold probabilities gives the same numbers
    L_lab = L[lab]
    P = clf.oof_pred_probs_
    s_lab, s_unl = get_active_learning_scores(L_lab, P[lab], P[~lab], random_state=0)
    scores = np.empty(len(ids))
    scores[lab], scores[~lab] = s_lab, s_unl
    np.testing.assert_allclose(scores, clf.active_learning_scores_, rtol=1e-10)
    res = get_label_quality_multiannotator(L_lab, P[lab], calibrate_probs=True, random_state=0)

    n_per = dict(zip(ids, (L >= 0).sum(axis=1)))
    check_batch(read_csv(out_dir / "next_batch.csv"), dict(zip(ids, scores)), n_per, 15)

    cons = read_csv(out_dir / "consensus.csv")
    lab_ids = [x for x, m in zip(ids, lab) if m]
    assert [r["example_id"] for r in cons] == lab_ids
    assert [r["consensus_label"] for r in cons] == [classes[k] for k in res.consensus_label]
    np.testing.assert_allclose([float(r["consensus_quality"]) for r in cons],
                               res.consensus_quality_score, rtol=1e-8)
    np.testing.assert_allclose([float(r["annotator_agreement"]) for r in cons],
                               res.annotator_agreement, rtol=1e-10)
    assert [int(r["num_annotations"]) for r in cons] == [n_per[x] for x in lab_ids]

    annot = read_csv(out_dir / "annotators.csv")
    accuracy = [float(r["estimated_accuracy"]) for r in annot]
    assert accuracy == sorted(accuracy)  # worst first
    by_id = {r["annotator_id"]: r for r in annot}
    assert sorted(by_id) == sorted(ANNOTATORS)
    z = scipy.stats.norm.ppf(0.975)
    # the annotator-confusion crowd model (seeded by --seed) on the same labels and probabilities
    em_accuracy = AnnotatorConfusion(random_state=0).fit(L_lab, P[lab]).annotator_accuracy_
    for j, a in enumerate(ANNOTATORS):
        r = by_id[a]
        acc = em_accuracy[j]
        np.testing.assert_allclose(float(r["estimated_accuracy"]), acc, rtol=1e-8)
        n = (L[:, j] >= 0).sum()  # Wilson's score interval, written out
        centre = (acc + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(acc * (1 - acc) / n + z * z / (4 * n * n))
        np.testing.assert_allclose([float(r["accuracy_low"]), float(r["accuracy_high"])],
                                   [centre - half, centre + half], rtol=1e-8)
        np.testing.assert_allclose(float(r["annotator_quality"]), res.annotator_quality[j], rtol=1e-8)
        np.testing.assert_allclose(float(r["agreement_with_consensus"]),
                                   res.agreement_with_consensus[j], rtol=1e-10)
        assert r["worst_class"] == classes[res.worst_class[j]]
        assert int(r["num_examples_labeled"]) == (L[:, j] >= 0).sum()


@pytest.mark.parametrize("case", ["non_numeric_feature", "unknown_example", "duplicated_feature_id"])
def test_fit_malformed_exit_2_and_no_output_dir(tmp_path, capsys, case):
    feats, unl, ann, X, L, ids, classes = _fit_files(tmp_path)
    rows = list(csv.reader(open(feats, encoding="utf-8")))
    if case == "non_numeric_feature":
        rows[7][2] = "n/a"
        bad, row = "f.csv", 8
    elif case == "duplicated_feature_id":
        rows.append(rows[3])
        bad, row = "f.csv", len(rows)
    else:
        triples = list(csv.reader(open(ann, encoding="utf-8")))
        triples[5][0] = "s-999"
        write_csv(tmp_path / "a.csv", None, triples)
        bad, row = "a.csv", 6
    write_csv(tmp_path / "f.csv", None, rows)
    out_dir = tmp_path / "out"
    code, stdout, err = run(["fit", "--features", feats, "--annotations", ann, "--model", "logistic",
                             "--cv", "3", "--n-jobs", "1", "--batch", "5", "--out-dir", str(out_dir)],
                            capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1
    assert bad in err and f"row {row}" in err, err
    assert not out_dir.exists()


# --------------------------------------------------------------------------- wiring and help
@pytest.mark.parametrize("command", ["score", "fit"])
def test_help_has_an_example(capsys, command):
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0
    assert f"skactivelab {command} --" in out and "example:" in out


def test_one_parser_for_every_command(tmp_path, capsys):
    t, ann, probs, _ = _good_files(tmp_path)
    parser = cli.build_parser()
    args = parser.parse_args(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "3",
                              "--out", str(tmp_path / "o.csv")])
    assert args.func(args) == 0
    assert len(read_csv(tmp_path / "o.csv")) == 3
    for command in ("demo", "benchmark", "score", "fit"):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([command, "--help"])
        assert exc.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        parser.parse_args(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "0",
                           "--out", "x.csv"])


def test_score_accepts_rounded_probabilities(tmp_path, capsys):
    """Rows off by less than the library's one tolerance (ROW_SUM_TOL) are renormalised."""
    t = Task(n_extra=0)
    rng = np.random.default_rng(5)
    # a rounded export: each row sums to 1 only within half the tolerance
    off = t.P * (1 + rng.uniform(-0.5, 0.5, size=(len(t.ids), 1)) * ROW_SUM_TOL)
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], t.long_rows)
    probs = write_csv(tmp_path / "p.csv", ["example_id", *t.classes],
                      [[x, *map(fnum, p)] for x, p in zip(t.ids, off)])
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "8",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    s_lab, _ = get_active_learning_scores(t.L, off / off.sum(axis=1, keepdims=True))
    check_batch(read_csv(tmp_path / "o.csv"), dict(zip(t.ids, s_lab)),
                dict(zip(t.ids, (t.L >= 0).sum(axis=1))), 8)


def _npy_task(tmp_path, labels):
    """Two annotators on four examples with the given labels; a .npy of 2 columns."""
    rows = [[f"e{i}", a, y] for i, (a, y) in enumerate(zip(["alice", "bob"] * 2, labels))]
    ann = write_csv(tmp_path / "ann.csv", ["example_id", "annotator_id", "label"], rows)
    np.save(tmp_path / "p.npy", np.array([[0.3, 0.7], [0.6, 0.4], [0.5, 0.5], [0.2, 0.8]]))
    return ann, str(tmp_path / "p.npy")


def test_npy_labels_that_are_one_number_written_two_ways_are_refused(tmp_path, capsys):
    ann, probs = _npy_task(tmp_path, ["1", "01", "1", "01"])
    code, out, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "4",
                          "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "ann.csv, row 3" in err and "'01' and '1'" in err and "two ways" in err
    assert not (tmp_path / "o.csv").exists()


def test_npy_labels_with_leading_zeros_keep_their_names(tmp_path, capsys):
    ann, probs = _npy_task(tmp_path, ["01", "00", "01", "00"])
    code, _, err = run(["score", "--annotations", ann, "--pred-probs", probs, "--batch", "4",
                        "--out-dir", str(tmp_path / "o")], capsys)
    assert code == 0, err
    consensus = {r["example_id"]: r["consensus_label"]
                 for r in read_csv(tmp_path / "o" / "consensus.csv")}
    assert consensus == {"e0": "01", "e1": "00", "e2": "01", "e3": "00"}  # never renamed 0, 1
