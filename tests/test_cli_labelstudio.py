"""Label Studio round trip and the other table formats of ``skactivelab score`` / ``fit``.

The exports are built here from one project description, following Label Studio's export
formats (full JSON; JSON-MIN: one flat record per submitted annotation; CSV/TSV: the same
records, columns sorted by name). Expected numbers come from the library's functions on
arrays built by the test.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from skactivelab import cli, get_active_learning_scores, get_label_quality_multiannotator
from skactivelab.cli._common import Progress
from skactivelab.query import assign_annotators

CLASSES = ["Negative", "Neutral", "Positive"]
TAG = "sentiment"
PEOPLE = [7, {"id": 8, "email": "eve@corp.com"}, 9, {"id": 12, "email": "bo@corp.com"}]
NAMES = ["7", "eve@corp.com", "9", "bo@corp.com"]


def run(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class Project:
    """A sentiment project: labeled, cancelled-only and unlabeled tasks, one duplicate."""

    def __init__(self, seed=0, n=24):
        rng = np.random.default_rng(seed)
        self.ids = list(range(1001, 1001 + n))
        self.tasks, self.triples = [], {}
        self.unlabeled = []
        stamp = 0
        for k, tid in enumerate(self.ids):
            anns = []
            if k % 6 == 5:  # nobody labeled it
                self.unlabeled.append(tid)
            elif k % 6 == 4:  # only a cancelled annotation
                anns.append(self._annotation(0, None, cancelled=True, stamp=stamp))
                self.unlabeled.append(tid)
            else:
                who = rng.choice(len(PEOPLE), size=rng.integers(1, 4), replace=False)
                if k == 0:
                    who = np.array([0, 1])  # annotator 0 will label this task again
                for j in who:
                    c = int(rng.integers(0, 3))
                    stamp += 1
                    anns.append(self._annotation(j, CLASSES[c], stamp=stamp))
                    self.triples[(tid, j)] = c
            self.tasks.append({"id": tid, "data": {"text": f"review number {tid}, \"quoted\""},
                               "annotations": anns, "predictions": []})
        # annotator 0 labels the first task twice: the newer label counts
        first = self.tasks[0]
        stamp += 1
        first["annotations"].append(self._annotation(0, "Negative", stamp=stamp))
        assert (first["id"], 0) in self.triples
        self.triples[(first["id"], 0)] = 0
        self.P = rng.dirichlet(np.ones(3), n)

    @staticmethod
    def _annotation(j, choice, cancelled=False, stamp=0):
        result = [] if choice is None else [
            {"from_name": TAG, "to_name": "text", "type": "choices",
             "value": {"choices": [choice]}}]
        return {"id": 500 + stamp, "completed_by": PEOPLE[j], "result": result,
                "was_cancelled": cancelled, "created_at": f"2024-03-01T10:{stamp:02d}:00Z",
                "updated_at": f"2024-03-01T10:{stamp:02d}:00Z", "lead_time": 3.5}

    # -- the three export formats
    def full_json(self):
        return self.tasks

    def json_min(self):
        records = []
        for t in self.tasks:
            anns = [a for a in t["annotations"] if not a["was_cancelled"]]
            if not t["annotations"]:
                records.append({**t["data"], "id": t["id"], "annotator": None,
                                "annotation_id": None, "created_at": None, "updated_at": None,
                                "lead_time": None})
            for a in anns:
                who = a["completed_by"]
                # one column per answered tag: one choice as text, several as {"choices": [...]}
                answers = {r["from_name"]: (r["value"]["choices"][0]
                                            if len(r["value"]["choices"]) == 1 else
                                            {"choices": r["value"]["choices"]})
                           for r in a["result"]}
                records.append({**t["data"], "id": t["id"], **answers,
                                "annotator": who["email"] if isinstance(who, dict) else who,
                                "annotation_id": a["id"], "created_at": a["created_at"],
                                "updated_at": a["updated_at"], "lead_time": a["lead_time"]})
        return records

    def csv_text(self, sep=","):
        records = self.json_min()
        keys = sorted({k for r in records for k in r})
        rows = [{k: ("" if r.get(k) is None else r[k] if not isinstance(r.get(k), (dict, list))
                     else json.dumps(r[k])) for k in keys} for r in records]
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys, quoting=csv.QUOTE_NONNUMERIC, delimiter=sep)
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()

    def write(self, tmp_path, fmt):
        if fmt == "json":
            path = tmp_path / "export.json"
            path.write_text(json.dumps(self.full_json(), indent=1))
        elif fmt == "json-min":
            path = tmp_path / "export_min.json"
            path.write_text(json.dumps(self.json_min(), indent=1))
        elif fmt == "csv":
            path = tmp_path / "export.csv"
            path.write_text(self.csv_text())
        else:
            path = tmp_path / "export.tsv"
            path.write_text(self.csv_text("\t"))
        return str(path)

    def probs_csv(self, tmp_path, id_name="id"):
        path = tmp_path / "probs.csv"
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([id_name, *CLASSES])
            w.writerows([tid, *map(repr, p.tolist())] for tid, p in zip(self.ids, self.P))
        return str(path)

    def prob_args(self, tmp_path, fmt):
        """--pred-probs (and --unlabeled-pred-probs): JSON-MIN and CSV exports leave out the
        tasks whose only annotations were cancelled, so their rows go in the pool file."""
        probs = self.probs_csv(tmp_path)
        gone = {str(t["id"]) for t in self.tasks if t["annotations"]
                and all(a["was_cancelled"] for a in t["annotations"])}
        gone -= {t["data"].get("skactivelab_example_id") for t in self.tasks
                 if any(not a["was_cancelled"] for a in t["annotations"])}  # labeled copies
        if fmt == "json" or not gone:
            return ["--pred-probs", probs]
        lines = open(probs).read().splitlines()
        open(probs, "w").write("\n".join(ln for ln in lines if ln.split(",")[0] not in gone)
                               + "\n")
        (tmp_path / "pool.csv").write_text("\n".join(
            [lines[0]] + [ln for ln in lines if ln.split(",")[0] in gone]) + "\n")
        return ["--pred-probs", probs, "--unlabeled-pred-probs", str(tmp_path / "pool.csv")]

    # -- what the library says on the same data
    def labeled(self):
        return [t for t in self.ids if t not in self.unlabeled]

    def matrix(self):
        lab = self.labeled()
        L = np.full((len(lab), len(PEOPLE)), -1)
        for (tid, j), c in self.triples.items():
            L[lab.index(tid), j] = c
        return L

    def expected_scores(self):
        lab, pos = self.labeled(), {t: i for i, t in enumerate(self.ids)}
        P = self.P[[pos[t] for t in lab]]
        U = self.P[[pos[t] for t in self.unlabeled]]
        s_lab, s_unl = get_active_learning_scores(self.matrix(), P, U, random_state=0)
        return dict(zip(map(str, lab + self.unlabeled), np.concatenate([s_lab, s_unl])))

    def expected_quality(self):
        lab, pos = self.labeled(), {t: i for i, t in enumerate(self.ids)}
        return get_label_quality_multiannotator(self.matrix(), self.P[[pos[t] for t in lab]],
                                                random_state=0)


FORMATS = ["json", "json-min", "csv", "tsv"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_label_studio_export_to_batch_and_import_file(tmp_path, capsys, fmt):
    pr = Project()
    export = pr.write(tmp_path, fmt)
    probs = pr.probs_csv(tmp_path)
    # JSON-MIN and CSV leave out tasks whose only annotation was cancelled: their rows are
    # given as the unlabeled pool (their data is unknown, the import file says only the ID)
    gone = {str(t["id"]) for t in pr.tasks if t["annotations"]
            and all(a["was_cancelled"] for a in t["annotations"])} if fmt != "json" else set()
    assert gone or fmt == "json"
    extra = []
    if gone:
        lines = open(probs).read().splitlines()
        open(probs, "w").write("\n".join(ln for ln in lines if ln.split(",")[0] not in gone)
                               + "\n")
        (tmp_path / "pool.csv").write_text("\n".join(
            [lines[0]] + [ln for ln in lines if ln.split(",")[0] in gone]) + "\n")
        extra = ["--unlabeled-pred-probs", str(tmp_path / "pool.csv")]
    out = tmp_path / "round2"
    code, stdout, err = run(["score", "--annotations", export, "--pred-probs", probs, *extra,
                             "--batch", "10", "--out-dir", str(out),
                             "--tasks-out", str(out / "import.json")], capsys)
    assert code == 0, err
    # the duplicate is resolved as the learner's "replace" policy does, and said
    assert "kept the newest label" in err and "'1001'" in err
    want = pr.expected_scores()
    rows = read_csv(out / "next_batch.csv")
    order = sorted(want, key=lambda x: want[x])[:10]
    assert [r["example_id"] for r in rows] == order
    np.testing.assert_allclose([float(r["score"]) for r in rows], [want[x] for x in order],
                               rtol=1e-10)
    res = pr.expected_quality()
    lab = [str(t) for t in pr.labeled()]
    by_id = {r["example_id"]: r for r in rows}
    for x, r in by_id.items():
        if x in lab:
            i = lab.index(x)
            who = [NAMES[j] for (tid, j) in pr.triples if str(tid) == x]
            assert sorted(r["labeled_by"].split(";")) == sorted(who)
            assert r["relabel"] == "true" and int(r["num_annotations"]) == len(who)
            assert r["consensus_label"] == CLASSES[res.consensus_label[i]]
            assert float(r["consensus_quality"]) == pytest.approx(res.consensus_quality_score[i],
                                                                  rel=1e-9)
        else:
            assert (r["relabel"], r["labeled_by"], r["consensus_label"]) == ("false", "", "")
    cons = read_csv(out / "consensus.csv")
    assert [r["example_id"] for r in cons] == lab
    assert [r["consensus_label"] for r in cons] == [CLASSES[k] for k in res.consensus_label]
    annot = {r["annotator_id"]: r for r in read_csv(out / "annotators.csv")}
    for j, name in enumerate(NAMES):
        assert float(annot[name]["annotator_quality"]) == pytest.approx(
            res.annotator_quality[j], rel=1e-9)
    tasks = json.loads((out / "import.json").read_text())
    assert [t["meta"]["example_id"] for t in tasks] == order
    texts = {str(t["id"]): t["data"]["text"] for t in pr.tasks}
    picked_gone = [x for x in order if x in gone]
    assert bool(picked_gone) == ("have no data from the annotations" in err)
    for t, r in zip(tasks, rows):
        x = t["meta"]["example_id"]
        assert t["data"] == ({"skactivelab_example_id": x} if x in gone else
                             {"text": texts[x], "skactivelab_example_id": x})
        assert t["meta"]["reason"] == ("relabel" if r["relabel"] == "true" else "first_label")
        assert t["meta"]["score"] == pytest.approx(float(r["score"]), rel=1e-12)


def test_suggested_annotators_follow_the_learner_rule(tmp_path, capsys):
    pr = Project(seed=3)
    export, probs = pr.write(tmp_path, "json"), pr.probs_csv(tmp_path)
    code, _, err = run(["score", "--annotations", export, "--pred-probs", probs, "--batch", "12",
                        "--suggest-annotators", "--max-per-annotator", "3", "--quiet",
                        "--out", str(tmp_path / "next.csv")], capsys)
    assert code == 0, err
    rows = read_csv(tmp_path / "next.csv")
    res = pr.expected_quality()
    # annotators in order of first appearance in the export
    seen = []
    for t in pr.tasks:
        for a in t["annotations"]:
            if not a["was_cancelled"]:
                j = PEOPLE.index(a["completed_by"])
                if j not in seen:
                    seen.append(j)
    eligible = np.ones((len(rows), len(seen)), dtype=bool)
    for k, r in enumerate(rows):
        for name in filter(None, r["labeled_by"].split(";")):
            eligible[k, seen.index(NAMES.index(name))] = False
    who = assign_annotators(res.annotator_quality[seen], eligible, max_per_annotator=3)
    assert [r["suggested_annotator"] for r in rows] == [
        NAMES[seen[j]] if j >= 0 else "" for j in who]
    counts = {}
    for r in rows:
        counts[r["suggested_annotator"]] = counts.get(r["suggested_annotator"], 0) + 1
    assert max(v for k, v in counts.items() if k) <= 3


def test_label_studio_csv_is_not_read_as_wide(tmp_path, capsys):
    """The export's 'annotator' column of emails is an annotator, not a class."""
    pr = Project()
    export = pr.write(tmp_path, "csv")
    assert "eve@corp.com" in open(export).read()
    code, _, err = run(["score", "--annotations", export, *pr.prob_args(tmp_path, "csv"),
                        "--batch", "3", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err


def test_npy_with_an_id_list(tmp_path, capsys):
    pr = Project()
    export = pr.write(tmp_path, "json")
    order = np.random.default_rng(1).permutation(len(pr.ids))
    np.save(tmp_path / "p.npy", pr.P[order])
    (tmp_path / "ids.txt").write_text("id\n" + "".join(f"{pr.ids[i]}\n" for i in order))
    code, _, err = run(["score", "--annotations", export, "--pred-probs", str(tmp_path / "p.npy"),
                        "--pred-probs-ids", str(tmp_path / "ids.txt"), "--batch", "24",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert got.keys() == want.keys()
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)


def test_bare_npy_with_a_label_studio_export_is_refused(tmp_path, capsys):
    pr = Project()
    np.save(tmp_path / "p.npy", pr.P)
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "json"),
                        "--pred-probs", str(tmp_path / "p.npy"), "--batch", "3",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "--pred-probs-ids" in err and len(err.splitlines()) == 1


# --------------------------------------------------------------------------- bad exports
def _bad_export(tmp_path, case):
    pr = Project()
    tasks = json.loads(json.dumps(pr.tasks))
    if case == "not_label_studio":
        return json.dumps({"images": [1, 2], "labels": ["a"]}), "not a list of tasks"
    if case == "list_of_other_records":
        return json.dumps([{"name": "x", "value": 3}]), "not a Label Studio export"
    if case == "multi_label":
        tasks[2]["annotations"][0]["result"][0]["value"]["choices"] = ["Positive", "Neutral"]
        return json.dumps(tasks), "task 3 (id 1003)"
    if case == "other_control":
        tasks[1]["annotations"][0]["result"] = [
            {"from_name": "box", "to_name": "image", "type": "rectanglelabels",
             "value": {"x": 1, "y": 2, "rectanglelabels": ["car"]}}]
        return json.dumps(tasks), "task 2 (id 1002)"
    if case == "missing_completed_by":
        del tasks[3]["annotations"][0]["completed_by"]
        return json.dumps(tasks), "task 4 (id 1004)"
    if case == "empty_export":
        return "[]", "no task"
    if case == "duplicated_task_id":
        tasks[7]["id"] = tasks[2]["id"]
        return json.dumps(tasks), "task 8 (id 1003)"
    if case == "invalid_json":
        return json.dumps(tasks)[:-5], "not valid JSON"
    if case == "several_choice_tags":  # both tags answer with class names: ambiguous
        extra = {"from_name": "topic", "to_name": "text", "type": "choices",
                 "value": {"choices": ["Positive"]}}
        tasks[0]["annotations"][0]["result"].append(extra)
        return json.dumps(tasks), "--label-column"
    raise AssertionError(case)


BAD = ["not_label_studio", "list_of_other_records", "multi_label", "other_control",
       "missing_completed_by", "empty_export", "duplicated_task_id", "invalid_json",
       "several_choice_tags"]


@pytest.mark.parametrize("case", BAD)
def test_bad_label_studio_exports_are_one_line_errors(tmp_path, capsys, case):
    text, where = _bad_export(tmp_path, case)
    (tmp_path / "export.json").write_text(text)
    probs = Project().probs_csv(tmp_path)
    out = tmp_path / "out"
    code, stdout, err = run(["score", "--annotations", str(tmp_path / "export.json"),
                             "--pred-probs", probs, "--batch", "3", "--out-dir", str(out),
                             "--tasks-out", str(out / "import.json")], capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1 and err.startswith("skactivelab: error: ")
    assert "export.json" in err and where in err, err
    assert not out.exists()


def test_several_choice_tags_pick_one_with_label_column(tmp_path, capsys):
    text, _ = _bad_export(tmp_path, "several_choice_tags")
    (tmp_path / "export.json").write_text(text)
    pr = Project()
    code, _, err = run(["score", "--annotations", str(tmp_path / "export.json"),
                        "--pred-probs", pr.probs_csv(tmp_path), "--label-column", TAG,
                        "--batch", "24", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)


def test_probability_id_missing_from_the_json_export_is_an_error(tmp_path, capsys):
    pr = Project()
    probs = pr.probs_csv(tmp_path)
    with open(probs, "a") as fh:
        fh.write("77777,0.2,0.3,0.5\n")
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "json"), "--pred-probs", probs,
                        "--batch", "3", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "'77777'" in err and "probs.csv, row 26" in err


# --------------------------------------------------------------------------- other tables
@pytest.mark.parametrize("kind", ["tsv", "jsonl", "parquet"])
def test_long_tables_with_named_columns(tmp_path, capsys, kind):
    pr = Project()
    triples = [(str(tid), NAMES[j], CLASSES[c]) for (tid, j), c in pr.triples.items()]
    header = ["item_id", "rater", "answer"]
    if kind == "tsv":
        path = tmp_path / "ann.tsv"
        path.write_text("\t".join(header) + "\n" + "".join("\t".join(t) + "\n" for t in triples))
    elif kind == "jsonl":
        path = tmp_path / "ann.jsonl"
        path.write_text("".join(json.dumps(dict(zip(header, (int(t[0]), *t[1:])))) + "\n"
                                for t in triples))
    else:
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        path = tmp_path / "ann.parquet"
        df = pd.DataFrame(triples, columns=header)
        df["item_id"] = df["item_id"].astype(int)
        df.to_parquet(path)
    probs = pr.probs_csv(tmp_path, id_name="item_id")
    code, _, err = run(["score", "--annotations", str(path), "--pred-probs", probs,
                        "--example-column", "item_id", "--annotator-column", "rater",
                        "--label-column", "answer", "--batch", "24",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    want = pr.expected_scores()  # unlabeled tasks come from the probabilities file
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert got.keys() == want.keys()
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)


def test_parquet_probabilities(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pr = Project()
    df = pd.DataFrame(pr.P, columns=CLASSES)
    df.insert(0, "id", pr.ids)
    df.to_parquet(tmp_path / "p.parquet")
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "json"),
                        "--pred-probs", str(tmp_path / "p.parquet"), "--batch", "24",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)


def test_long_file_read_as_wide_says_how_to_fix(tmp_path, capsys):
    rows = "photo,rater,answer\nimg1,ann,cat\nimg1,bob,dog\nimg2,ann,cat\n"
    (tmp_path / "a.csv").write_text(rows)
    (tmp_path / "p.csv").write_text("photo,cat,dog\nimg1,0.5,0.5\nimg2,0.2,0.8\n")
    code, _, err = run(["score", "--annotations", str(tmp_path / "a.csv"), "--pred-probs",
                        str(tmp_path / "p.csv"), "--batch", "2", "--out",
                        str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "read as wide format" in err and "--annotator-column" in err


# --------------------------------------------------------------------------- progress
def test_progress_goes_to_stderr_unless_quiet(capsys):
    Progress(quiet=False)("working", force=True)
    Progress(quiet=True)("hidden", force=True)
    Progress(quiet=False)("too early to say")
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("skactivelab: working (") and "hidden" not in err
    assert "too early" not in err


def test_fit_reports_progress_and_quiet_silences_it(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ids = [f"s{i}" for i in range(30)]
    X = rng.normal(size=(30, 2))
    (tmp_path / "f.csv").write_text("example_id,x1,x2\n" + "".join(
        f"{x},{a!r},{b!r}\n" for x, (a, b) in zip(ids, X.tolist())))
    (tmp_path / "a.csv").write_text("example_id,annotator_id,label\n" + "".join(
        f"{x},alice,{'up' if X[i, 0] > 0 else 'down'}\n" for i, x in enumerate(ids)))
    base = ["fit", "--features", str(tmp_path / "f.csv"), "--annotations", str(tmp_path / "a.csv"),
            "--model", "logreg", "--cv", "2", "--n-jobs", "1", "--batch", "3"]
    code, _, err = run(base + ["--out-dir", str(tmp_path / "o1")], capsys)
    assert code == 0 and "skactivelab: fitting logreg on 30 labeled rows" in err
    code, _, err = run(base + ["--out-dir", str(tmp_path / "o2"), "--quiet"], capsys)
    assert code == 0 and err == ""


@pytest.mark.parametrize("fmt", ["json-min", "csv"])
def test_multi_label_in_json_min_and_csv_is_an_error(tmp_path, capsys, fmt):
    pr = Project()
    records = pr.json_min()
    k = next(i for i, r in enumerate(records) if r.get(TAG))
    records[k][TAG] = ["Positive", "Neutral"]  # how JSON-MIN writes several choices
    if fmt == "json-min":
        path = tmp_path / "export.json"
        path.write_text(json.dumps(records))
        where = f"record {k + 1}"
    else:
        keys = sorted({c for r in records for c in r})
        with open(tmp_path / "export.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys, quoting=csv.QUOTE_NONNUMERIC)
            w.writeheader()
            for r in records:
                r = {c: ("" if r.get(c) is None else r.get(c)) for c in keys}
                if isinstance(r[TAG], list):
                    r[TAG] = json.dumps(r[TAG])  # the CSV export writes a JSON list
                w.writerow(r)
        path = tmp_path / "export.csv"
        where = f"row {k + 2}"
    code, _, err = run(["score", "--annotations", str(path), "--pred-probs", pr.probs_csv(tmp_path),
                        "--batch", "3", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert where in err and "multi-label" in err, err


def test_fit_on_a_label_studio_export_writes_an_import_file(tmp_path, capsys):
    pr = Project()
    rng = np.random.default_rng(5)
    X = rng.normal(size=(len(pr.ids), 3))
    (tmp_path / "features.csv").write_text("id,f1,f2,f3\n" + "".join(
        f"{tid},{a!r},{b!r},{c!r}\n" for tid, (a, b, c) in zip(pr.ids, X.tolist())))
    code, _, err = run(["fit", "--features", str(tmp_path / "features.csv"), "--example-column",
                        "id", "--annotations", pr.write(tmp_path, "json"), "--model", "logreg",
                        "--cv", "2", "--n-jobs", "1", "--batch", "5", "--suggest-annotators",
                        "--out-dir", str(tmp_path / "out"), "--tasks-out",
                        str(tmp_path / "out" / "import.json"), "--quiet"], capsys)
    assert code == 0, err
    rows = read_csv(tmp_path / "out" / "next_batch.csv")
    tasks = json.loads((tmp_path / "out" / "import.json").read_text())
    assert [t["meta"]["example_id"] for t in tasks] == [r["example_id"] for r in rows]
    texts = {str(t["id"]): t["data"] for t in pr.tasks}
    assert all(t["data"] == {**texts[t["meta"]["example_id"]],
                             "skactivelab_example_id": t["meta"]["example_id"]} for t in tasks)
    assert set(rows[0]) >= {"labeled_by", "consensus_label", "suggested_annotator"}


# --------------------------------------------------------------------------- a fresh project
def _fresh_project():
    pr = Project(seed=2, n=6)
    for t in pr.tasks:
        t["annotations"] = []
    pr.triples, pr.unlabeled = {}, list(pr.ids)
    return pr


@pytest.mark.parametrize("fmt", FORMATS)
def test_fresh_project_gives_a_first_batch_with_empty_suggestions(tmp_path, capsys, fmt):
    """Tasks nobody labeled yet, in every export format; --suggest-annotators says why it
    suggests nobody instead of failing."""
    pr = _fresh_project()
    export = pr.write(tmp_path, fmt)
    out = tmp_path / "round1"
    code, stdout, err = run(["score", "--annotations", export, "--pred-probs",
                             pr.probs_csv(tmp_path), "--batch", "4", "--suggest-annotators",
                             "--quiet", "--out-dir", str(out), "--tasks-out",
                             str(out / "import.json")], capsys)
    assert code == 0, err
    assert "nobody has labeled anything yet" in err and "--suggest-annotators" in err
    _, want = get_active_learning_scores(None, None, pr.P)
    order = np.argsort(want, kind="stable")[:4]
    rows = read_csv(out / "next_batch.csv")
    assert [r["example_id"] for r in rows] == [str(pr.ids[i]) for i in order]
    np.testing.assert_allclose([float(r["score"]) for r in rows], want[order], rtol=1e-12)
    assert [r["suggested_annotator"] for r in rows] == [""] * 4
    assert all(r["relabel"] == "false" and r["labeled_by"] == "" for r in rows)
    tasks = json.loads((out / "import.json").read_text())
    texts = {str(t["id"]): t["data"]["text"] for t in pr.tasks}
    assert [t["data"]["text"] for t in tasks] == [texts[r["example_id"]] for r in rows]
    assert all(t["meta"]["suggested_annotator"] is None for t in tasks)


@pytest.mark.parametrize("fmt", ["json-min", "csv"])
def test_fresh_project_accepts_a_label_column_it_cannot_see_yet(tmp_path, capsys, fmt):
    pr = _fresh_project()
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, fmt), "--pred-probs",
                        pr.probs_csv(tmp_path), "--label-column", TAG, "--batch", "2",
                        "--quiet", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    assert len(read_csv(tmp_path / "o.csv")) == 2


# --------------------------------------------------------------------------- which column is the class
def _with_second_tag(pr, answer):
    for t in pr.tasks:
        for a in t["annotations"]:
            if a["result"]:
                a["result"].append({"from_name": "topic", "to_name": "text", "type": "choices",
                                    "value": {"choices": [answer]}})
    return pr


@pytest.mark.parametrize("fmt", FORMATS)
def test_second_choices_tag_of_other_values_is_not_the_class_in_any_format(tmp_path, capsys, fmt):
    pr = _with_second_tag(Project(), "battery")
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, fmt), *pr.prob_args(tmp_path, fmt), "--batch", "24", "--quiet",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert got.keys() == want.keys()
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_choices_tags_of_class_names_are_refused_alike(tmp_path, capsys, fmt):
    pr = _with_second_tag(Project(), "Positive")
    export = pr.write(tmp_path, fmt)
    base = ["score", "--annotations", export, *pr.prob_args(tmp_path, fmt),
            "--batch", "3", "--quiet", "--out", str(tmp_path / "o.csv")]
    code, stdout, err = run(base, capsys)
    assert code == 2 and stdout == "" and len(err.splitlines()) == 1
    assert "several candidate label columns ['sentiment', 'topic']" in err
    assert "--label-column" in err and not (tmp_path / "o.csv").exists()
    code, _, err = run(base + ["--label-column", TAG], capsys)
    assert code == 0, err


@pytest.mark.parametrize("fmt", ["json-min", "csv"])
def test_a_data_field_named_label_is_task_data(tmp_path, capsys, fmt):
    """Filled on tasks nobody labeled: task data, not the class; kept in the import file."""
    pr = Project()
    for t in pr.tasks:
        t["data"]["label"] = "product review"
    out = tmp_path / "o"
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, fmt), *pr.prob_args(tmp_path, fmt), "--batch", "24", "--quiet", "--out-dir", str(out),
                        "--tasks-out", str(out / "import.json")], capsys)
    assert code == 0, err
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(out / "next_batch.csv")}
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)
    tasks = json.loads((out / "import.json").read_text())
    labeled = [t for t in tasks if t["meta"]["reason"] == "relabel"]
    assert labeled and all(t["data"]["label"] == "product review" for t in labeled)


def test_ambiguous_label_columns_without_class_names_name_the_option(tmp_path, capsys):
    """Every task labeled (no record shows what task data is) and no probability file (fit):
    the data fields 'label' and 'text' could be the class as well as 'sentiment'."""
    pr = Project()
    for t in pr.tasks:
        t["data"]["label"] = "product review"
    pr.tasks = [t for t in pr.tasks if any(not a["was_cancelled"] for a in t["annotations"])]
    ids = [t["id"] for t in pr.tasks]
    (tmp_path / "f.csv").write_text("id,f1\n" + "".join(f"{x},{k / 7!r}\n"
                                                       for k, x in enumerate(ids)))
    base = ["fit", "--features", str(tmp_path / "f.csv"), "--example-column", "id",
            "--annotations", pr.write(tmp_path, "json-min"), "--model", "logreg", "--cv", "2",
            "--n-jobs", "1", "--batch", "2", "--quiet", "--out-dir", str(tmp_path / "o")]
    code, stdout, err = run(base, capsys)
    assert code == 2 and stdout == "" and len(err.splitlines()) == 1
    assert "several candidate label columns ['label', 'sentiment', 'text']" in err
    assert "--label-column" in err and not (tmp_path / "o").exists()
    code, _, err = run(base + ["--label-column", TAG], capsys)
    assert code == 0, err


def test_multi_label_in_a_csv_export_is_reported_as_multi_label(tmp_path, capsys):
    """label-studio-converter writes several choices as {"choices": [...]} (JSON text in CSV)."""
    pr = Project()
    pr.tasks[2]["annotations"][0]["result"][0]["value"]["choices"] = ["Positive", "Neutral"]
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "csv"), "--pred-probs",
                        pr.probs_csv(tmp_path), "--batch", "3", "--quiet",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "multi-label" in err and "'1003'" in err and "export.csv, row" in err, err


# --------------------------------------------------------------------------- the second round
def _label_imported_tasks(pr, tasks, first_new_id=5001):
    """What Label Studio does with an import file, then a labeling session: each imported task
    gets a NEW task ID (data and meta kept); annotator 0 labels every one of them, again where
    it labeled the example before (its newer label then replaces the old one)."""
    for k, t in enumerate(tasks):
        x = int(t["meta"]["example_id"])
        assert t["data"]["skactivelab_example_id"] == str(x)
        c = k % 3
        a = pr._annotation(0, CLASSES[c])
        a["created_at"] = a["updated_at"] = f"2024-03-09T09:{k:02d}:00Z"  # newer than round 1
        pr.tasks.append({"id": first_new_id + k, "data": t["data"], "meta": t["meta"],
                         "annotations": [a], "predictions": []})
        pr.triples[(x, 0)] = c
        if x in pr.unlabeled:
            pr.unlabeled.remove(x)


@pytest.mark.parametrize("fmt", FORMATS)
def test_second_round_labels_attach_to_the_original_examples(tmp_path, capsys, fmt):
    pr = Project()
    r1 = tmp_path / "round1"
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "json"), "--pred-probs",
                        pr.probs_csv(tmp_path), "--batch", "8", "--quiet", "--out-dir", str(r1),
                        "--tasks-out", str(r1 / "import.json")], capsys)
    assert code == 0, err
    tasks = json.loads((r1 / "import.json").read_text())
    picked = [int(t["meta"]["example_id"]) for t in tasks]
    assert any(x in pr.unlabeled for x in picked) and any(x not in pr.unlabeled for x in picked)
    relabeled_by_0 = [x for x in picked if (x, 0) in pr.triples]
    _label_imported_tasks(pr, tasks)
    r2 = tmp_path / "round2"
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, fmt),
                        *pr.prob_args(tmp_path, fmt), "--batch", "24", "--quiet",
                        "--out-dir", str(r2)], capsys)
    assert code == 0, err
    if relabeled_by_0:  # the same annotator on one example twice: the newer label is kept
        assert "kept the newest label" in err
    cons = {r["example_id"]: r for r in read_csv(r2 / "consensus.csv")}
    assert sorted(cons) == sorted(str(x) for x in pr.labeled())  # no new examples
    n_labels = {str(x): sum(1 for (t, _) in pr.triples if t == x) for x in pr.labeled()}
    assert {x: int(r["num_annotations"]) for x, r in cons.items()} == n_labels
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(r2 / "next_batch.csv")}
    assert got.keys() == want.keys()
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)
    res = pr.expected_quality()
    assert [cons[str(x)]["consensus_label"] for x in pr.labeled()] == [
        CLASSES[k] for k in res.consensus_label]


def test_probability_rows_of_imported_copies_are_not_used(tmp_path, capsys):
    pr = Project()
    r1 = tmp_path / "round1"
    run(["score", "--annotations", pr.write(tmp_path, "json"), "--pred-probs",
         pr.probs_csv(tmp_path), "--batch", "3", "--quiet", "--out-dir", str(r1),
         "--tasks-out", str(r1 / "import.json")], capsys)
    tasks = json.loads((r1 / "import.json").read_text())
    _label_imported_tasks(pr, tasks)
    probs = pr.probs_csv(tmp_path)
    with open(probs, "a") as fh:  # rows for the new task IDs too (a model run per task)
        fh.write("".join(f"{5001 + k},0.9,0.05,0.05\n" for k in range(len(tasks))))
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "json"), "--pred-probs",
                        probs, "--batch", "24", "--quiet", "--out", str(tmp_path / "o.csv")],
                       capsys)
    assert code == 0, err
    assert "row(s) name tasks imported from --tasks-out" in err and "'5001'" in err
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert got.keys() == want.keys()
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)


def test_duplicated_task_ids_stay_an_error_with_imported_copies(tmp_path, capsys):
    pr = Project()
    pr.tasks.append({"id": pr.tasks[3]["id"], "data": {"text": "x",
                                                        "skactivelab_example_id": "1002"},
                     "annotations": [], "predictions": []})
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "json"), "--pred-probs",
                        pr.probs_csv(tmp_path), "--batch", "3", "--quiet",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "task 25 (id 1004)" in err and "also belongs to task 4" in err


@pytest.mark.parametrize("fmt", FORMATS)
def test_probability_id_of_no_task_is_an_error_in_every_format(tmp_path, capsys, fmt):
    """A stale ID is not silently scored (and put in the import file without data)."""
    pr = Project()
    args = pr.prob_args(tmp_path, fmt)
    with open(args[1], "a") as fh:
        fh.write("77777,0.98,0.01,0.01\n")  # would top the batch
    n_rows = len(open(args[1]).read().splitlines())
    out = tmp_path / "out"
    code, stdout, err = run(["score", "--annotations", pr.write(tmp_path, fmt), *args,
                             "--batch", "3", "--out-dir", str(out),
                             "--tasks-out", str(out / "import.json")], capsys)
    assert code == 2 and stdout == "" and len(err.splitlines()) == 1
    assert f"probs.csv, row {n_rows}" in err and "'77777'" in err and "no task" in err
    assert ("cancelled" in err) == (fmt != "json") and not out.exists()


def test_fit_merges_imported_copies_and_drops_their_feature_rows(tmp_path, capsys):
    pr = Project()
    r1 = tmp_path / "round1"
    run(["score", "--annotations", pr.write(tmp_path, "json"), "--pred-probs",
         pr.probs_csv(tmp_path), "--batch", "4", "--quiet", "--out-dir", str(r1),
         "--tasks-out", str(r1 / "import.json")], capsys)
    tasks = json.loads((r1 / "import.json").read_text())
    _label_imported_tasks(pr, tasks)
    all_ids = [t["id"] for t in pr.tasks]  # features of every task, copies included
    X = np.random.default_rng(5).normal(size=(len(all_ids), 2))
    (tmp_path / "f.csv").write_text("id,f1,f2\n" + "".join(
        f"{x},{a!r},{b!r}\n" for x, (a, b) in zip(all_ids, X.tolist())))
    code, _, err = run(["fit", "--features", str(tmp_path / "f.csv"), "--example-column", "id",
                        "--annotations", pr.write(tmp_path, "json"), "--model", "logreg",
                        "--cv", "2", "--n-jobs", "1", "--batch", "30", "--quiet",
                        "--out-dir", str(tmp_path / "o")], capsys)
    assert code == 0, err
    rows = read_csv(tmp_path / "o" / "next_batch.csv")
    assert sorted(r["example_id"] for r in rows) == sorted(map(str, pr.ids))  # no copy
    cons = {r["example_id"]: int(r["num_annotations"]) for r in
            read_csv(tmp_path / "o" / "consensus.csv")}
    assert cons == {str(x): sum(1 for (t, _) in pr.triples if t == x) for x in pr.labeled()}


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json-min"])
def test_import_file_carries_the_task_data_as_exported(tmp_path, capsys, fmt):
    """Nested data comes back as JSON (not text), and fields a task does not have (empty cells
    of a CSV export, which has every column on every row) are not added."""
    pr = Project()
    for k, t in enumerate(pr.tasks):
        if k % 2:
            t["data"]["meta_info"] = {"src": "web", "tags": ["a", str(k)]}
        if k % 3 == 0:
            t["data"]["links"] = [k, k + 1]
    out = tmp_path / "o"
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, fmt),
                        *pr.prob_args(tmp_path, fmt), "--batch", "24", "--quiet",
                        "--out-dir", str(out), "--tasks-out", str(out / "import.json")], capsys)
    assert code == 0, err
    data = {str(t["id"]): t["data"] for t in pr.tasks}
    tasks = json.loads((out / "import.json").read_text())
    known = [t for t in tasks if t["meta"]["example_id"] in data
             and len(t["data"]) > 1]
    assert len(known) > 12
    for t in known:
        x = t["meta"]["example_id"]
        assert t["data"] == {**data[x], "skactivelab_example_id": x}


def test_a_user_as_id_and_as_object_is_one_annotator(tmp_path, capsys):
    """completed_by 8 and {"id": 8, "email": "eve@corp.com"} are the same person."""
    pr = Project()
    t = next(t for t in pr.tasks if t["annotations"] and not any(
        a["completed_by"] == PEOPLE[1] for a in t["annotations"]))
    a = pr._annotation(1, "Neutral")
    a["completed_by"] = 8  # eve as a bare user ID
    t["annotations"].append(a)
    pr.triples[(t["id"], 1)] = 1
    if t["id"] in pr.unlabeled:
        pr.unlabeled.remove(t["id"])
    out = tmp_path / "o"
    code, _, err = run(["score", "--annotations", pr.write(tmp_path, "json"), "--pred-probs",
                        pr.probs_csv(tmp_path), "--batch", "24", "--quiet", "--out-dir",
                        str(out)], capsys)
    assert code == 0, err
    annot = [r["annotator_id"] for r in read_csv(out / "annotators.csv")]
    assert sorted(annot) == sorted(NAMES)  # no annotator '8'
    want = pr.expected_scores()
    got = {r["example_id"]: float(r["score"]) for r in read_csv(out / "next_batch.csv")}
    for x in want:
        assert got[x] == pytest.approx(want[x], rel=1e-10)


def test_csv_export_whose_data_id_overwrote_the_task_id_is_reported(tmp_path, capsys):
    pr = Project()
    for t in pr.tasks:
        t["data"]["id"] = f"sku-{t['id']}"
    # label-studio-converter's CSV writes the task data after the task id: data 'id' wins
    rows = list(csv.DictReader(pr.csv_text().splitlines()))
    assert all(r["id"].isdigit() for r in rows)  # this test's writer keeps the task ID: redo
    path = tmp_path / "export.csv"
    keys = list(rows[0])
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, quoting=csv.QUOTE_NONNUMERIC)
        w.writeheader()
        for r in rows:
            w.writerow({**r, "id": f"sku-{r['id']}"})
    code, _, err = run(["score", "--annotations", str(path), "--pred-probs",
                        pr.probs_csv(tmp_path), "--batch", "3", "--quiet",
                        "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "export.csv, row 2" in err and "'sku-1001'" in err and "data has a field 'id'" in err


# --------------------------------------------------------------------------- times, bad fields
def _twice_export(first, second):
    """Task 1 labeled twice by user 7 (at ``first``: Positive, at ``second``: Negative);
    tasks 2 and 3 once each by user 8. Returns the tasks (full JSON)."""
    def ann(aid, who, choice, when):
        return {"id": aid, "completed_by": who, "was_cancelled": False, "created_at": when,
                "updated_at": when, "result": [{"from_name": TAG, "to_name": "text",
                                                "type": "choices",
                                                "value": {"choices": [choice]}}]}
    return [
        {"id": 1, "data": {"text": "a"}, "annotations": [ann(1, 7, "Positive", first),
                                                          ann(2, 7, "Negative", second)]},
        {"id": 2, "data": {"text": "b"}, "annotations": [ann(3, 8, "Negative",
                                                              "2024-01-01T00:00:00Z")]},
        {"id": 3, "data": {"text": "c"}, "annotations": [ann(4, 8, "Neutral",
                                                              "2024-01-01T00:00:00Z")]},
    ]


def _write_export(tmp_path, tasks, fmt):
    """The full JSON ``tasks`` as a JSON, JSON-MIN or CSV export."""
    if fmt == "json":
        path = tmp_path / "export.json"
        path.write_text(json.dumps(tasks))
        return str(path)
    records = [{**t["data"], "id": t["id"], TAG: a["result"][0]["value"]["choices"][0],
                "annotator": a["completed_by"], "annotation_id": a["id"],
                "created_at": a["created_at"], "updated_at": a["updated_at"], "lead_time": 1.0}
               for t in tasks for a in t["annotations"]]
    if fmt == "json-min":
        path = tmp_path / "export_min.json"
        path.write_text(json.dumps(records))
        return str(path)
    path = tmp_path / "export.csv"
    keys = sorted(records[0])
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(records)
    return str(path)


TIMES = [  # (first, second, which is newer): first Positive, second Negative
    ("2024-03-01T10:00:00.5Z", "2024-03-01T10:00:00Z", "Positive"),  # a fraction of a second
    ("2024-03-01T10:00:00.123456Z", "2024-03-01T10:00:00.9Z", "Negative"),
    ("2024-03-01T12:00:00+02:00", "2024-03-01T11:00:00Z", "Negative"),  # 10:00Z < 11:00Z
    ("2024-03-01T09:30:00-01:00", "2024-03-01T10:00:00Z", "Positive"),  # 10:30Z > 10:00Z
    ("2024-03-01T10:30:00", "2024-03-01T11:00:00+01:00", "Positive"),  # no zone: UTC
]


@pytest.mark.parametrize("fmt", ["json", "json-min", "csv"])
@pytest.mark.parametrize("first,second,newer", TIMES)
def test_the_newest_label_is_the_latest_instant(tmp_path, capsys, fmt, first, second, newer):
    export = _write_export(tmp_path, _twice_export(first, second), fmt)
    probs = tmp_path / "probs.csv"
    probs.write_text("id,Negative,Neutral,Positive\n1,0.2,0.3,0.5\n2,0.6,0.3,0.1\n"
                     "3,0.3,0.4,0.3\n")
    code, _, err = run(["score", "--annotations", export, "--pred-probs", str(probs),
                        "--batch", "3", "--out-dir", str(tmp_path / "o")], capsys)
    assert code == 0, err
    consensus = {r["example_id"]: r["consensus_label"]
                 for r in read_csv(tmp_path / "o" / "consensus.csv")}
    assert consensus == {"1": newer, "2": "Negative", "3": "Neutral"}  # one label each
    assert "labeled twice by the same annotator" in err


@pytest.mark.parametrize("fmt", ["json", "json-min"])
def test_a_time_that_is_no_iso_time_names_the_task(tmp_path, capsys, fmt):
    export = _write_export(tmp_path, _twice_export("2024-03-01T10:00:00Z", "yesterday"), fmt)
    probs = tmp_path / "probs.csv"
    probs.write_text("id,Negative,Neutral,Positive\n1,0.2,0.3,0.5\n2,0.6,0.3,0.1\n"
                     "3,0.3,0.4,0.3\n")
    code, _, err = run(["score", "--annotations", export, "--pred-probs", str(probs),
                        "--batch", "3", "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    where = "task 1 (id 1)" if fmt == "json" else "record 2: task '1'"
    assert where in err and "'yesterday' is not an ISO 8601 time" in err


def _label_studio_error(tmp_path, capsys, tasks):
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    probs = Project().probs_csv(tmp_path)
    code, out, err = run(["score", "--annotations", str(tmp_path / "export.json"),
                          "--pred-probs", probs, "--batch", "3", "--out",
                          str(tmp_path / "o.csv")], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert not (tmp_path / "o.csv").exists()
    return err


def test_two_different_answers_to_one_tag_in_one_annotation_are_an_error(tmp_path, capsys):
    tasks = Project().full_json()
    result = tasks[1]["annotations"][0]["result"]
    other = "Positive" if result[0]["value"]["choices"] != ["Positive"] else "Negative"
    result.append({"from_name": TAG, "to_name": "text", "type": "choices",
                   "value": {"choices": [other]}})
    err = _label_studio_error(tmp_path, capsys, tasks)
    assert "task 2 (id 1002)" in err and f"answers <Choices> '{TAG}' twice" in err


def test_the_same_answer_given_twice_in_one_annotation_is_one_label(tmp_path, capsys):
    pr = Project()
    tasks = pr.full_json()
    result = tasks[1]["annotations"][0]["result"]
    result.append(json.loads(json.dumps(result[0])))
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    code, _, err = run(["score", "--annotations", str(tmp_path / "export.json"), "--pred-probs",
                        pr.probs_csv(tmp_path), "--batch", "24", "--out",
                        str(tmp_path / "o.csv")], capsys)
    assert code == 0, err
    got = {r["example_id"]: float(r["score"]) for r in read_csv(tmp_path / "o.csv")}
    assert got == pytest.approx(pr.expected_scores(), rel=1e-10)


@pytest.mark.parametrize("value,kind", [({"0": {"completed_by": 7}}, "an object"),
                                        ("none", "a text"), (3, "a number")])
def test_annotations_that_are_not_a_list_name_the_task(tmp_path, capsys, value, kind):
    tasks = Project().full_json()
    tasks[2]["annotations"] = value
    err = _label_studio_error(tmp_path, capsys, tasks)
    assert f"task 3 (id 1003): 'annotations' is {kind}, not a list" in err


def test_a_result_that_is_not_a_list_names_the_task(tmp_path, capsys):
    tasks = Project().full_json()
    tasks[0]["annotations"][0]["result"] = tasks[0]["annotations"][0]["result"][0]
    err = _label_studio_error(tmp_path, capsys, tasks)
    assert "task 1 (id 1001)" in err and "'result' is an object, not a list" in err


@pytest.mark.parametrize("who,said", [(True, "is true, which names no user"),
                                      (2.5, "is 2.5, which names no user"),
                                      ({"first_name": "eve"}, "is an object without 'email' or "
                                                              "'id'"),
                                      ([7], "is [7], which names no user")])
def test_a_completed_by_that_names_no_user_says_so(tmp_path, capsys, who, said):
    tasks = Project().full_json()
    tasks[3]["annotations"][0]["completed_by"] = who
    err = _label_studio_error(tmp_path, capsys, tasks)
    assert "task 4 (id 1004)" in err and f"'completed_by' {said}" in err
    assert "has no 'completed_by'" not in err


def test_an_annotator_that_names_no_user_in_json_min_says_so(tmp_path, capsys):
    records = Project().json_min()
    k = next(k for k, r in enumerate(records) if r["annotator"] is not None)
    records[k]["annotator"] = True
    (tmp_path / "export.json").write_text(json.dumps(records))
    err = _label_studio_error(tmp_path, capsys, records)
    assert f"record {k + 1}" in err and "'annotator' is true, which names no user" in err


@pytest.mark.parametrize("fmt", ["json", "json-min", "csv"])
@pytest.mark.parametrize("field", ["label", "annotator"])
def test_labels_and_annotators_with_white_space_around_them_name_the_task(tmp_path, capsys, fmt,
                                                                        field):
    tasks = _twice_export("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z")
    ann = tasks[1]["annotations"][0]
    if field == "label":
        ann["result"][0]["value"]["choices"] = ["Negative "]
    else:
        ann["completed_by"] = " eve@corp.com"
    export = _write_export(tmp_path, tasks, fmt)
    probs = tmp_path / "probs.csv"
    probs.write_text("id,Negative,Neutral,Positive\n1,0.2,0.3,0.5\n2,0.6,0.3,0.1\n"
                     "3,0.3,0.4,0.3\n")
    code, out, err = run(["score", "--annotations", export, "--pred-probs", str(probs),
                          "--label-column", TAG, "--batch", "3", "--out",
                          str(tmp_path / "o.csv")], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    where = {"json": "task 2 (id 2)", "json-min": "record 3: task '2'", "csv": "row 4: task '2'"}
    assert where[fmt] in err and "starts or ends with white space" in err
