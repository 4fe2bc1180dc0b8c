"""The plan of ``skactivelab labelstudio round``, on pulled states (no server needed).

The same command against a real server: tests/test_labelstudio_live.py.
"""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest

from skactivelab import cli
from skactivelab.cli._ls_server import (
    META_KEY,
    LabelStudioError,
    _with_emails,
    pending_tasks,
    plan_round,
    rounds_of,
)


def task(tid, annotations=0, example=None, meta=None, cancelled=False):
    data = {"text": f"text {tid}"}
    if example is not None:
        data = {"text": f"text {example}", "skactivelab_example_id": str(example)}
    return {"id": tid, "data": data, "meta": meta or {},
            "annotations": [{"id": 100 * tid + k, "completed_by": 1 + k,
                             "was_cancelled": cancelled} for k in range(annotations)]}


def scored(rows):
    """rows: (example ID, score, num_annotations, labeled_by) in any order -> best first."""
    out = [{"example_id": str(x), "score": s, "num_annotations": n, "labeled_by": list(by),
            "consensus_label": "A" if n else "", "consensus_quality": "0.6" if n else ""}
           for x, s, n, by in rows]
    return sorted(out, key=lambda r: r["score"])


def plan_of(tasks, predictions, s, *, round_number, batch, **kw):
    """The plan as the command makes it: pending tasks from the pulled state, the batch the
    lowest scores of the other examples (the batch itself is ``score``'s, tested with it),
    each pick described as ``Batch.picks()`` does."""
    pending = pending_tasks(tasks, round_number)
    held = {p["example_id"] for p in pending}
    picks = []
    for r in [r for r in s if r["example_id"] not in held][:batch]:
        m = {"example_id": r["example_id"], "rank": len(picks) + 1, "score": r["score"],
             "reason": "relabel" if r["num_annotations"] else "first_label",
             "num_annotations": r["num_annotations"], "labeled_by": r["labeled_by"]}
        if r["consensus_label"]:
            m.update(consensus_label=r["consensus_label"],
                     consensus_quality=float(r["consensus_quality"]))
        picks.append(m)
    return plan_round(tasks, predictions, {r["example_id"]: r["score"] for r in s}, picks,
                      round_number=round_number, pending=pending, **kw)


def apply(tasks, predictions, project, plan):
    """What the server holds after the plan (as _apply pushes it)."""
    tasks, predictions, project = copy.deepcopy((tasks, predictions, project))
    next_id = max(t["id"] for t in tasks) + 1
    for new in plan.new_tasks:
        tasks.append({"id": next_id, "data": new["data"], "meta": new["meta"],
                      "annotations": []})
        for p in new["predictions"]:
            predictions.append({"id": 1000 + len(predictions), "task": next_id, **p})
        next_id += 1
    for p in plan.create_predictions:
        predictions.append({"id": 1000 + len(predictions), **p})
    for u in plan.update_predictions:
        next(p for p in predictions if p["id"] == u["id"])["score"] = u["score"]
    for m in plan.update_meta:
        next(t for t in tasks if t["id"] == m["task"])["meta"] = m["meta"]
    for k, (_, new) in plan.project_changes.items():
        project[k] = new
    return tasks, predictions, project


@pytest.fixture
def state():
    tasks = [task(1, 2), task(2, 1), task(3), task(4), task(5, 1, meta={"team": "x"})]
    s = scored([(1, 0.50, 2, ["1", "2"]), (2, 0.20, 1, ["1"]), (3, 0.10, 0, []),
                (4, 0.70, 0, []), (5, 0.30, 1, ["1"])])
    project = {"model_version": "", "sampling": "Sequential sampling"}
    return tasks, [], s, project


def test_first_round_plan(state):
    tasks, preds, s, project = state
    plan = plan_of(tasks, preds, s, round_number=1, batch=3, project=project)
    # the three lowest scores: 3 (first label), 2 and 5 (re-labels)
    assert [r["example_id"] for r in plan.batch] == ["3", "2", "5"]
    assert [r["reason"] for r in plan.batch] == ["first_label", "relabel", "relabel"]
    # a first label is its own task, marked in meta; a re-label gets a new task (copy)
    assert [m["task"] for m in plan.update_meta] == [3]
    assert plan.update_meta[0]["meta"][META_KEY]["skactivelab-round-1"]["rank"] == 1
    assert [t["data"] for t in plan.new_tasks] == [
        {"text": "text 2", "skactivelab_example_id": "2"},
        {"text": "text 5", "skactivelab_example_id": "5"}]
    assert [t["predictions"][0]["score"] for t in plan.new_tasks] == [0.20, 0.30]
    assert all(t["predictions"][0]["result"] == [] for t in plan.new_tasks)
    # one prediction per existing task, its example's score, empty result
    assert sorted((p["task"], p["score"]) for p in plan.create_predictions) == [
        (1, 0.5), (2, 0.2), (3, 0.1), (4, 0.7), (5, 0.3)]
    assert {p["model_version"] for p in plan.create_predictions} == {"skactivelab-round-1"}
    assert plan.project_changes == {
        "model_version": ("", "skactivelab-round-1"),
        "sampling": ("Sequential sampling", "Uncertainty sampling")}
    assert plan.pending == []


def test_same_round_again_changes_nothing(state):
    tasks, preds, s, project = state
    plan = plan_of(tasks, preds, s, round_number=1, batch=3, project=project)
    after = apply(tasks, preds, project, plan)
    again = plan_of(*after[:2], s, round_number=1, batch=3, project=after[2])
    assert again.changes == 0
    assert again.unchanged_predictions == 7 and again.reused_tasks == 3
    assert [r["example_id"] for r in again.batch] == ["3", "2", "5"]
    # the marked tasks keep the team's own meta
    t5 = next(t for t in after[0] if t["data"].get("skactivelab_example_id") == "5")
    assert t5["meta"][META_KEY]["skactivelab-round-1"]["labeled_by"] == ["1"]
    # new scores (another model) update the round's predictions, nothing is added
    s2 = [{**r, "score": r["score"] + 0.01} for r in s]
    upd = plan_of(*after[:2], s2, round_number=1, batch=3, project=after[2])
    assert len(upd.update_predictions) == 7 and not upd.create_predictions
    assert not upd.new_tasks and len(upd.update_meta) == 3  # the scores in the marks changed
    assert {round(u["score"] - u["old_score"], 12) for u in upd.update_predictions} == {0.01}


def test_pending_picks_are_left_out_of_the_next_round(state):
    tasks, preds, s, project = state
    plan = plan_of(tasks, preds, s, round_number=1, batch=3, project=project)
    tasks, preds, project = apply(tasks, preds, project, plan)
    # the copy of example 2 is answered; task 3 (first label) was skipped (cancelled: no
    # answer, Label Studio hands it to others) and the copy of example 5 is still open
    copy2 = next(t for t in tasks if t["data"].get("skactivelab_example_id") == "2")
    copy2["annotations"] = [{"id": 9, "completed_by": 3, "was_cancelled": False}]
    next(t for t in tasks if t["id"] == 3)["annotations"] = [
        {"id": 10, "completed_by": 2, "was_cancelled": True}]
    s2 = scored([(1, 0.50, 2, ["1", "2"]), (2, 0.05, 2, ["1", "3"]), (3, 0.10, 0, []),
                 (4, 0.70, 0, []), (5, 0.01, 1, ["1"])])
    plan2 = plan_of(tasks, preds, s2, round_number=2, batch=3, project=project)
    copy5 = next(t for t in tasks if t["data"].get("skactivelab_example_id") == "5")
    assert sorted(plan2.pending, key=lambda p: p["task"]) == [
        {"task": 3, "example_id": "3", "round": "skactivelab-round-1"},
        {"task": copy5["id"], "example_id": "5", "round": "skactivelab-round-1"}]
    # 5 and 3 have the lowest scores but are pending; 2 gets a second copy (its first is
    # answered), 1 its first; 4 is a first label on its own task
    assert [r["example_id"] for r in plan2.batch] == ["2", "1", "4"]
    assert [t["data"]["skactivelab_example_id"] for t in plan2.new_tasks] == ["2", "1"]
    assert plan2.new_tasks[0]["data"]["text"] == "text 2"  # the example's own data
    assert [m["task"] for m in plan2.update_meta] == [4]
    # every task, copies included, gets round 2's prediction; round 1's stay
    assert len(plan2.create_predictions) == len(tasks) and not plan2.update_predictions
    assert plan2.project_changes == {"model_version": ("skactivelab-round-1",
                                                      "skactivelab-round-2")}


def test_keep_sampling_duplicate_predictions_and_errors(state):
    tasks, _, s, project = state
    preds = [{"id": 1, "task": 1, "model_version": "skactivelab-round-1", "score": 0.5},
             {"id": 2, "task": 1, "model_version": "skactivelab-round-1", "score": 0.4},
             {"id": 3, "task": 2, "model_version": "other-model", "score": 0.9}]
    plan = plan_of(tasks, preds, s, round_number=1, batch=1, project=project,
                      keep_sampling=True)
    assert "sampling" not in plan.project_changes
    assert plan.unchanged_predictions == 1 and len(plan.create_predictions) == 4
    assert any("task 1 has 2 predictions" in n for n in plan.notes)
    with pytest.raises(LabelStudioError, match="got no score"):
        plan_of(tasks + [task(9)], [], s, round_number=1, batch=1)
    assert rounds_of(["skactivelab-round-3", "skactivelab-round-12", "x", None,
                      "skactivelab-round-2b"]) == {3, 12}


def test_annotator_emails():
    tasks = [task(1, 2)]
    out = _with_emails(tasks, {"1": "one@x"})
    assert [a["completed_by"] for a in out[0]["annotations"]] == [{"id": 1, "email": "one@x"}, 2]
    assert tasks[0]["annotations"][0]["completed_by"] == 1  # the input is not modified


def run(argv, capsys, monkeypatch, env):
    for k in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


BASE = ["labelstudio", "round", "--project", "3", "--round", "1", "--pred-probs", "p.csv",
        "--batch", "2"]


@pytest.mark.parametrize("env, message", [
    ({}, "set LABEL_STUDIO_URL"),
    ({"LABEL_STUDIO_URL": "localhost:8080", "LABEL_STUDIO_API_KEY": "k"}, "must start with"),
    ({"LABEL_STUDIO_URL": "http://127.0.0.1:9"}, "set LABEL_STUDIO_API_KEY"),
])
def test_missing_settings_are_one_line(capsys, monkeypatch, env, message):
    code, out, err = run(BASE, capsys, monkeypatch, env)
    assert code == 2 and out == ""
    assert err.startswith("skactivelab: error: ") and err.count("\n") == 1 and message in err


def test_without_the_sdk_the_fix_is_named(capsys, monkeypatch):
    if importlib.util.find_spec("label_studio_sdk") is not None:
        pytest.skip("label-studio-sdk is installed here")
    code, _, err = run(BASE, capsys, monkeypatch, {"LABEL_STUDIO_URL": "http://127.0.0.1:9",
                                                   "LABEL_STUDIO_API_KEY": "k"})
    assert code == 2 and "pip install 'skactivelab[labelstudio]'" in err


def test_unreachable_server_is_one_line(capsys, monkeypatch):
    pytest.importorskip("label_studio_sdk")
    code, _, err = run(BASE, capsys, monkeypatch, {"LABEL_STUDIO_URL": "http://127.0.0.1:9",
                                                   "LABEL_STUDIO_API_KEY": "k" * 40})
    assert code == 2 and err.count("\n") == 1
    assert "check that Label Studio runs at http://127.0.0.1:9" in err


def test_sorted_scores_pick_lowest():
    # the batch follows the scores' order, whatever the order of the pulled tasks
    rng = np.random.default_rng(0)
    sc = rng.random(20)
    tasks = [task(i + 1) for i in rng.permutation(20)]
    s = scored([(i + 1, float(sc[i]), 0, []) for i in range(20)])
    plan = plan_of(tasks, [], s, round_number=4, batch=5)
    assert [r["example_id"] for r in plan.batch] == [str(i + 1) for i in np.argsort(sc)[:5]]
    assert [r["rank"] for r in plan.batch] == [1, 2, 3, 4, 5]


def test_copies_imported_by_tasks_out_are_pending():
    """A copy that --tasks-out imported (our example ID in its data, no round's mark) and
    nobody answered is pending; answered, or made by this very round, it is not."""
    tasks = [task(1, 1), task(2, 1), task(3), task(10, example=1), task(11, 1, example=2),
             task(12, example=3, meta={META_KEY: {"skactivelab-round-2": {"rank": 1}}})]
    assert pending_tasks(tasks, 2) == [{"task": 10, "example_id": "1", "round": "import"}]
    assert pending_tasks(tasks, 3) == [
        {"task": 10, "example_id": "1", "round": "import"},
        {"task": 12, "example_id": "3", "round": "skactivelab-round-2"}]
