"""Label Studio's default export (annotated tasks only) plus probabilities of every task.

The default export of Label Studio lists only tasks with annotations; the
probabilities name every task of the project: the tasks the export does not
list are the unlabeled pool, in the three export formats. An export with all
tasks (which lists unannotated tasks) still refuses a row of an unknown task (a
stale ID). Scores are checked against cleanlab's ActiveLab (the oracle).
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from skactivelab import cli

CLASSES = ["cat", "dog"]
PEOPLE = [3, 4, 5]


def make(seed=3, n=12, n_labeled=7):
    """Tasks 141..: the first n_labeled labeled (task 141+n_labeled-1 only skipped)."""
    rng = np.random.default_rng(seed)
    ids = list(range(141, 141 + n))
    tasks, labels = [], {}
    for k, tid in enumerate(ids):
        anns = []
        if k < n_labeled - 1:
            c = int(rng.integers(0, 2))
            for j in ([0] if k % 2 else [0, 1, 2]):
                cj = c if j < 2 else int(rng.integers(0, 2))  # never a tied vote
                anns.append({"id": 10 * tid + j, "completed_by": PEOPLE[j],
                             "was_cancelled": False, "created_at": f"2024-01-01T00:0{j}:00Z",
                             "result": [{"from_name": "animal", "to_name": "img",
                                         "type": "choices",
                                         "value": {"choices": [CLASSES[cj]]}}]})
                labels[(tid, j)] = cj
        elif k == n_labeled - 1:  # skipped only: in the JSON export, not in JSON-MIN/CSV
            anns.append({"id": 10 * tid, "completed_by": PEOPLE[1], "was_cancelled": True,
                         "result": []})
        tasks.append({"id": tid, "data": {"image": f"/data/{tid}.jpg"}, "annotations": anns})
    P = rng.dirichlet(np.ones(2) * 2, n)
    return ids, tasks, labels, P


def export(tasks, fmt, all_tasks=False):
    """What Label Studio writes: by default only annotated tasks (any annotation)."""
    listed = [t for t in tasks if all_tasks or t["annotations"]]
    if fmt == "json":
        return json.dumps(listed)
    records = []
    for t in listed:
        live = [a for a in t["annotations"] if not a["was_cancelled"]]
        if not t["annotations"]:
            records.append({**t["data"], "id": t["id"], "annotator": None,
                            "annotation_id": None, "created_at": None, "updated_at": None,
                            "lead_time": None})
        for a in live:
            records.append({**t["data"], "id": t["id"],
                            "animal": a["result"][0]["value"]["choices"][0],
                            "annotator": a["completed_by"], "annotation_id": a["id"],
                            "created_at": a["created_at"], "updated_at": a["created_at"],
                            "lead_time": 2.0})
    if fmt == "json-min":
        return json.dumps(records)
    keys = sorted({k for r in records for k in r})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    w.writerows({k: "" if r.get(k) is None else r[k] for k in keys} for r in records)
    return buf.getvalue()


def write_probs(path, ids, P, extra=()):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *CLASSES])
        w.writerows([i, *map(repr, p.tolist())] for i, p in zip(ids, P))
        w.writerows([i, 0.5, 0.5] for i in extra)


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["json", "json-min", "csv"])
def test_default_export_and_probabilities_of_every_task(tmp_path, capsys, oracle, fmt):
    ids, tasks, labels, P = make()
    path = tmp_path / ("export.csv" if fmt == "csv" else "export.json")
    path.write_text(export(tasks, fmt))
    write_probs(tmp_path / "probs.csv", ids, P)
    code, out, err = run(["score", "--annotations", str(path), "--pred-probs",
                          str(tmp_path / "probs.csv"), "--batch", str(len(ids)),
                          "--out-dir", str(tmp_path / "out")], capsys)
    assert code == 0, err
    # the pool: every task without a label, listed by the export or not
    lab = sorted({t for t, _ in labels})
    pool = [t for t in ids if t not in lab]
    listed = 7 if fmt == "json" else 6  # JSON also lists the skipped-only task 147
    assert f"scored {len(lab)} labeled and {len(pool)} unlabeled examples" in out
    unlisted = len(ids) - listed
    assert f"{unlisted} row(s) name tasks that {path} does not list" in err
    # scores: cleanlab's, on the same labels
    L = np.full((len(lab), len(PEOPLE)), np.nan)
    for (t, j), c in labels.items():
        L[lab.index(t), j] = c
    pos = {t: i for i, t in enumerate(ids)}
    s_lab, s_unl = oracle.get_active_learning_scores(L, P[[pos[t] for t in lab]],
                                                     P[[pos[t] for t in pool]])
    want = dict(zip(map(str, lab + pool), np.concatenate([s_lab, s_unl])))
    rows = list(csv.DictReader(open(tmp_path / "out" / "next_batch.csv")))
    assert sorted(r["example_id"] for r in rows) == sorted(want)
    for r in rows:
        assert float(r["score"]) == pytest.approx(want[r["example_id"]], rel=0, abs=1e-10)
        assert r["relabel"] == ("true" if int(r["example_id"]) in lab else "false")


@pytest.mark.parametrize("fmt", ["json", "json-min", "csv"])
def test_export_with_all_tasks_still_refuses_a_stale_id(tmp_path, capsys, fmt):
    ids, tasks, _, P = make()
    path = tmp_path / ("export.csv" if fmt == "csv" else "export.json")
    path.write_text(export(tasks, fmt, all_tasks=True))
    probs = tmp_path / "probs.csv"
    write_probs(probs, ids, P, extra=[999])
    if fmt != "json":  # the skipped-only task is not in JSON-MIN/CSV: its row goes apart
        lines = probs.read_text().splitlines()
        probs.write_text("\n".join(ln for ln in lines if not ln.startswith("147,")) + "\n")
    code, out, err = run(["score", "--annotations", str(path), "--pred-probs", str(probs),
                          "--batch", "2", "--out", str(tmp_path / "b.csv")], capsys)
    assert code == 2 and out == ""
    assert "example ID '999' is no task of the Label Studio export" in err
    assert not (tmp_path / "b.csv").exists()


def test_default_export_pool_pick_in_the_import_file(tmp_path, capsys):
    """A pool pick the export does not list has no data: the import file holds its ID and
    the warning says to label it in Label Studio directly."""
    ids, tasks, _, P = make()
    P[-1] = [0.5, 0.5]  # the most uncertain: picked first
    (tmp_path / "export.json").write_text(export(tasks, "json"))
    write_probs(tmp_path / "probs.csv", ids, P)
    code, _, err = run(["score", "--annotations", str(tmp_path / "export.json"),
                        "--pred-probs", str(tmp_path / "probs.csv"), "--batch", "1",
                        "--out", str(tmp_path / "b.csv"), "--tasks-out",
                        str(tmp_path / "import.json")], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "import.json").read_text())[0]["data"] == {
        "skactivelab_example_id": str(ids[-1])}
    assert "label them in Label Studio directly" in err
