"""A team's loop with ``score`` over several rounds: pending picks, annotator shares, the
annotator report a team lead reads.

* a batch handed out (``--tasks-out`` imported into Label Studio) and not answered yet is
  not asked again: seen in an export with all tasks (the copies carry our example ID and
  have no annotation), or with ``--previous-batch`` for the default export;
* ``--suggest-annotators`` spreads the batch over the annotators (a default share) and
  says so;
* ``estimated_accuracy`` tracks the true accuracy of simulated annotators (the
  probability that their label is right), where CROWDLAB's quality does not.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import scipy.stats

from skactivelab import cli

CLASSES = ["cat", "dog", "fox"]
PEOPLE = ["ann@x", "bob@x", "cy@x", "dee@x"]


def choice(c):
    return [{"from_name": "animal", "to_name": "img", "type": "choices",
             "value": {"choices": [c]}}]


def project(seed=0, n=40, n_labeled=30):
    """Tasks 1..n of a Label Studio project; the first n_labeled labeled by 1-3 people."""
    rng = np.random.default_rng(seed)
    tasks = []
    for tid in range(1, n + 1):
        anns = []
        if tid <= n_labeled:
            for k, j in enumerate(rng.choice(4, size=rng.integers(1, 4), replace=False)):
                anns.append({"id": 100 * tid + k, "completed_by": {"id": int(j) + 1,
                                                                   "email": PEOPLE[j]},
                             "was_cancelled": False, "result": choice(CLASSES[rng.integers(3)]),
                             "created_at": "2024-01-01T00:00:00Z"})
        tasks.append({"id": tid, "data": {"image": f"/data/{tid}.jpg"}, "annotations": anns})
    P = rng.dirichlet(np.ones(3), n)
    return tasks, P


def write_probs(path, ids, P):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *CLASSES])
        w.writerows([i, *map(repr, p.tolist())] for i, p in zip(ids, P))


def imported(tasks, import_file, answered=()):
    """The project after importing ``import_file`` (new task IDs after the last), the
    copies of ``answered`` example IDs answered by dee@x."""
    tasks = [dict(t) for t in tasks]
    next_id = max(t["id"] for t in tasks) + 1
    for new in json.loads(import_file.read_text()):
        x = new["data"]["skactivelab_example_id"]
        anns = []
        if x in answered:
            anns = [{"id": 9000 + next_id, "completed_by": {"id": 4, "email": "dee@x"},
                     "was_cancelled": False, "result": choice("fox"),
                     "created_at": "2024-02-01T00:00:00Z"}]
        tasks.append({"id": next_id, "data": new["data"], "meta": new["meta"],
                      "annotations": anns})
        next_id += 1
    return tasks


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def picked(path):
    return [r["example_id"] for r in csv.DictReader(open(path, encoding="utf-8"))]


def score(tmp_path, capsys, tasks, P, name, *extra, all_tasks=True):
    listed = [t for t in tasks if all_tasks or t["annotations"]]
    (tmp_path / f"{name}.json").write_text(json.dumps(listed))
    write_probs(tmp_path / "probs.csv", range(1, len(P) + 1), P)
    out_dir = tmp_path / name
    code, out, err = run(["score", "--annotations", str(tmp_path / f"{name}.json"),
                          "--pred-probs", str(tmp_path / "probs.csv"), "--batch", "10",
                          "--out-dir", str(out_dir), "--tasks-out",
                          str(tmp_path / f"{name}-import.json"), *extra], capsys)
    assert code == 0, err
    return out_dir, out, err


# --------------------------------------------------------------------------- pending
def test_an_unanswered_batch_is_not_asked_again(tmp_path, capsys):
    tasks, P = project()
    r1, _, _ = score(tmp_path, capsys, tasks, P, "r1")
    first = picked(r1 / "next_batch.csv")
    assert len(first) == 10
    # the team imports round 1 and nobody answers yet: round 2 asks for other examples
    tasks2 = imported(tasks, tmp_path / "r1-import.json")
    r2, out, _ = score(tmp_path, capsys, tasks2, P, "r2")
    second = picked(r2 / "next_batch.csv")
    assert len(second) == 10 and not set(second) & set(first)
    assert "pending: 10 example(s) handed out earlier and not answered yet" in out
    # its import file holds none of round 1's examples: no duplicate tasks
    again = [t["data"]["skactivelab_example_id"]
             for t in json.loads((tmp_path / "r2-import.json").read_text())]
    assert not set(again) & set(first)
    # --include-pending asks them again: the same ten first (the scores did not change)
    r3, out, _ = score(tmp_path, capsys, tasks2, P, "r3", "--include-pending")
    assert picked(r3 / "next_batch.csv") == first
    assert "pending" not in out


def test_an_answered_copy_is_no_longer_pending(tmp_path, capsys):
    tasks, P = project()
    r1, _, _ = score(tmp_path, capsys, tasks, P, "r1")
    first = picked(r1 / "next_batch.csv")
    done = set(first[:4])
    tasks2 = imported(tasks, tmp_path / "r1-import.json", answered=done)
    r2, out, _ = score(tmp_path, capsys, tasks2, P, "r2")
    assert "pending: 6 example(s)" in out
    assert set(picked(r2 / "next_batch.csv")) & set(first) <= done
    # the answered copies' labels count for their examples
    rows = {r["example_id"]: r for r in csv.DictReader(open(r2 / "consensus.csv"))}
    n_before = {str(t["id"]): len(t["annotations"]) for t in tasks}
    for x in done:
        assert int(rows[x]["num_annotations"]) == n_before[x] + 1


def test_default_export_pending_from_the_previous_batch(tmp_path, capsys):
    """Label Studio's default export does not list the unanswered copies: --previous-batch
    names what was handed out; without it, --tasks-out warns that it cannot see them."""
    tasks, P = project()
    r1, _, _ = score(tmp_path, capsys, tasks, P, "r1", all_tasks=False)
    first = picked(r1 / "next_batch.csv")
    tasks2 = imported(tasks, tmp_path / "r1-import.json", answered=set(first[:3]))
    _, _, err = score(tmp_path, capsys, tasks2, P, "r2", all_tasks=False)
    assert "cannot be seen: export with all tasks, or give --previous-batch" in err
    r3, out, err = score(tmp_path, capsys, tasks2, P, "r3", "--previous-batch",
                         str(r1 / "next_batch.csv"), all_tasks=False)
    assert "cannot be seen" not in err
    assert "pending: 7 example(s)" in out  # the three answered ones got a label since
    assert not set(picked(r3 / "next_batch.csv")) & set(first[3:])


def test_previous_batch_must_be_a_next_batch_file(tmp_path, capsys):
    tasks, P = project()
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    (tmp_path / "e.json").write_text(json.dumps(tasks))
    write_probs(tmp_path / "probs.csv", range(1, 41), P)
    code, _, err = run(["score", "--annotations", str(tmp_path / "e.json"), "--pred-probs",
                        str(tmp_path / "probs.csv"), "--batch", "3", "--out",
                        str(tmp_path / "b.csv"), "--previous-batch",
                        str(tmp_path / "other.csv")], capsys)
    assert code == 2 and "has no example_id and num_annotations columns" in err
    assert not (tmp_path / "b.csv").exists()


# --------------------------------------------------------------------------- shares
def long_crowd(tmp_path, n=80, seed=1):
    """A long annotation file where one annotator (ann@x) is much better than the rest."""
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n)
    acc = [0.95, 0.7, 0.65, 0.6]
    rows = []
    for i in range(n):
        for j in rng.choice(4, size=2, replace=False):
            lab = y[i] if rng.random() < acc[j] else (y[i] + rng.integers(1, 3)) % 3
            rows.append([f"e{i}", PEOPLE[j], CLASSES[lab]])
    with open(tmp_path / "ann.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", "annotator_id", "label"], *rows])
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 1.5
    P = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    with open(tmp_path / "p.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", *CLASSES],
                                  *([f"e{i}", *P[i].tolist()] for i in range(n))])


def test_suggestions_share_the_batch_and_say_so(tmp_path, capsys):
    long_crowd(tmp_path)
    base = ["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs",
            str(tmp_path / "p.csv"), "--batch", "30", "--suggest-annotators"]
    code, out, err = run(base + ["--out", str(tmp_path / "b.csv")], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(open(tmp_path / "b.csv")))
    counts = {a: sum(r["suggested_annotator"] == a for r in rows) for a in PEOPLE}
    cap = math.ceil(1.5 * 30 / 4)  # the documented default share: 12
    assert max(counts.values()) <= cap
    assert sum(counts.values()) == 30 and min(counts.values()) > 0
    assert f"suggested annotators: at most {cap} pick(s) each (the default share" in out
    # an explicit cap wins, and is named
    code, out, err = run(base + ["--max-per-annotator", "8", "--out",
                                 str(tmp_path / "c.csv")], capsys)
    rows = list(csv.DictReader(open(tmp_path / "c.csv")))
    assert max(sum(r["suggested_annotator"] == a for r in rows) for a in PEOPLE) <= 8
    assert "at most 8 pick(s) each (--max-per-annotator)" in out


# --------------------------------------------------------------------------- accuracy
def simulated_crowd(seed, n=600, accuracy=np.linspace(0.55, 0.95, 8)):
    """Annotators of known accuracy (a wrong label is any other class), 1-3 per example,
    and a model right about 75% of the time; returns the files' rows, the probabilities
    and each annotator's share of right labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n)
    rows, right, total = [], np.zeros(accuracy.size), np.zeros(accuracy.size)
    for i in range(n):
        for j in rng.choice(accuracy.size, size=rng.integers(1, 4), replace=False):
            ok = rng.random() < accuracy[j]
            rows.append([f"x{i}", f"a{j}", CLASSES[y[i] if ok else (y[i] + rng.integers(1, 3)) % 3]])
            right[j] += ok
            total[j] += 1
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 1.6
    P = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return rows, P, right / total, y


@pytest.mark.parametrize("seed", [0, 1])
def test_estimated_accuracy_tracks_true_accuracy(tmp_path, capsys, seed):
    rows, P, true_acc, y = simulated_crowd(seed)
    with open(tmp_path / "ann.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", "annotator_id", "label"], *rows])
    with open(tmp_path / "p.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", *CLASSES],
                                  *([f"x{i}", *P[i].tolist()] for i in range(len(P)))])
    code, out, err = run(["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs",
                          str(tmp_path / "p.csv"), "--batch", "20", "--out-dir",
                          str(tmp_path / "out")], capsys)
    assert code == 0, err
    got = {r["annotator_id"]: r for r in csv.DictReader(open(tmp_path / "out" / "annotators.csv"))}
    est = np.array([float(got[f"a{j}"]["estimated_accuracy"]) for j in range(8)])
    low = np.array([float(got[f"a{j}"]["accuracy_low"]) for j in range(8)])
    high = np.array([float(got[f"a{j}"]["accuracy_high"]) for j in range(8)])
    quality = np.array([float(got[f"a{j}"]["annotator_quality"]) for j in range(8)])
    # on the scale of the true accuracy (the share of right labels), in the right order
    assert scipy.stats.spearmanr(est, true_acc)[0] >= 0.95
    assert np.abs(est - true_acc).max() <= 0.07
    assert ((low <= true_acc) & (true_acc <= high)).sum() >= 7
    assert np.all(low < est) and np.all(est < high)
    # CROWDLAB's quality ranks them too, but is no probability of being right
    assert np.abs(quality - true_acc).max() > 0.15
    # the consensus confidence: the share of right consensus labels, on average
    cons = list(csv.DictReader(open(tmp_path / "out" / "consensus.csv")))
    right = np.mean([r["consensus_label"] == CLASSES[y[int(r["example_id"][1:])]] for r in cons])
    conf = np.mean([float(r["consensus_confidence"]) for r in cons])
    assert abs(conf - right) <= 0.04
    # the summary speaks of accuracy, not of "quality"
    assert "estimated accuracy (probability that a label is right, 95% interval)" in out
    assert "quality" not in out
    assert f"about {100 * conf:.0f}% of consensus labels expected right" in out


def test_estimated_accuracy_is_the_same_whichever_crowd_model_scores(tmp_path, capsys):
    """annotators.csv's estimated_accuracy comes from the annotator-confusion model whatever
    --crowd-model forms the consensus: with that model as --crowd-model (its scoring fit is
    reused) the column equals the one written with CROWDLAB scoring (a fit of its own)."""
    rows, P, _, _ = simulated_crowd(3, n=300)
    with open(tmp_path / "ann.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", "annotator_id", "label"], *rows])
    with open(tmp_path / "p.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", *CLASSES],
                                  *([f"x{i}", *P[i].tolist()] for i in range(len(P)))])
    got = {}
    for model in ("crowdlab", "annotator_confusion"):
        code, _, err = run(["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs",
                            str(tmp_path / "p.csv"), "--batch", "10", "--crowd-model", model,
                            "--out-dir", str(tmp_path / model)], capsys)
        assert code == 0, err
        got[model] = {r["annotator_id"]: r["estimated_accuracy"]
                      for r in csv.DictReader(open(tmp_path / model / "annotators.csv"))}
    assert got["crowdlab"] == got["annotator_confusion"]
