"""Two active-learning rounds against a real Label Studio server.

The server (label-studio, in its own virtual environment) is installed and
started by ``tests/labelstudio_server.py``: in CI beside the main install (see
``.ci/run``, which sets SKACTIVELAB_LS_STATE), else by the fixture below. A team
is simulated through the web app and the API as people use them: an admin with
a personal access token, three annotators who sign up and post their own
annotations. The command runs as a user runs it (``skactivelab labelstudio
round``, a subprocess with LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY), and
every check reads what the server shows. Scores are checked against cleanlab's
ActiveLab (the oracle) on the labels the annotators posted.

Skipped only when label-studio cannot be installed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import labelstudio_server as lss

pytestmark = pytest.mark.labelstudio_live

CLASSES = ["Negative", "Neutral", "Positive"]
CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" '
          'choice="single">' + "".join(f'<Choice value="{c}"/>' for c in CLASSES)
          + "</Choices></View>")
N_TASKS = 30
BATCH = 6
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- server
@pytest.fixture(scope="session")
def server(request):
    """The ready status of the server (url, admin token, client python). The job was
    started by .ci/run (SKACTIVELAB_LS_STATE) or at collection (conftest.py, which ends
    it with the session); else here."""
    state = os.environ.get("SKACTIVELAB_LS_STATE")
    started = None
    job = getattr(request.config, "_skactivelab_ls_job", None)
    if job is not None:
        state = job[0]
    elif not state:
        started = lss.start_in_background()
        state = started[0]
    try:
        st = lss.wait_ready(state, timeout=900)
        if st["phase"] == "install_failed":
            pytest.skip(f"label-studio {lss.LS_VERSION} cannot be installed here: "
                        f"{st.get('error')}")
        yield st
    finally:
        if started is not None:
            lss.end_background(*started)


class Client:
    """One user's API access with a personal access token (refreshed as the docs say)."""

    def __init__(self, url, refresh):
        self.url, self.refresh, self.access = url, refresh, None

    def _access(self):
        req = urllib.request.Request(self.url + "/api/token/refresh/",
                                     data=json.dumps({"refresh": self.refresh}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            self.access = json.loads(r.read())["access"]

    def __call__(self, method, path, payload=None, **query):
        if self.access is None:
            self._access()
        q = ("?" + urllib.parse.urlencode(query)) if query else ""
        for attempt in (0, 1):
            req = urllib.request.Request(
                self.url + path + q, method=method,
                data=None if payload is None else json.dumps(payload).encode(),
                headers={"Authorization": f"Bearer {self.access}",
                         "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    body = r.read()
                    return json.loads(body) if body else None
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 0:
                    self._access()
                    continue
                raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}")


# --------------------------------------------------------------------------- the team
class Team:
    """A project, three annotators of different quality, and what they posted."""

    def __init__(self, st, tmp):
        self.url, self.tmp = st["url"], Path(tmp)
        self.client_python = st["client_python"]
        self.admin_token = st["token"]
        self.admin = Client(self.url, st["token"])
        uniq = os.urandom(3).hex()
        self.emails = [f"annotator{k}-{uniq}@skactivelab.test" for k in range(3)]
        self.people = []
        for e in self.emails:
            token = lss.personal_access_token(self.url, e, "annotator-password-1", signup=True)
            self.people.append(Client(self.url, token))
        p = self.admin("POST", "/api/projects/", {"title": f"reviews {uniq}",
                                                   "label_config": CONFIG})
        self.project = p["id"]
        texts = [{"text": f"review {k}: " + ["awful", "fine", "great"][k % 3] * (1 + k % 4)}
                 for k in range(N_TASKS)]
        self.admin("POST", f"/api/projects/{self.project}/import", texts)
        self.task_ids = sorted(t["id"] for t in self.tasks())
        assert len(self.task_ids) == N_TASKS
        rng = np.random.default_rng(7)
        self.truth = {t: int(rng.integers(0, 3)) for t in self.task_ids}
        self.P = {}
        for t in self.task_ids:  # a model right 70% of the time, of mixed confidence
            c = self.truth[t] if rng.random() < 0.7 else int(rng.integers(0, 3))
            p = rng.dirichlet(np.ones(3)) * 0.5
            p[c] += 0.5
            self.P[t] = p
        self.labels = {}  # (example ID, annotator k) -> class index, as posted

    def tasks(self):
        return self.admin("GET", f"/api/projects/{self.project}/export", exportType="JSON",
                          download_all_tasks="true")

    def answer(self, k, task_id, example_id, cls):
        """Annotator k labels a task (the labels of its example, for the oracle)."""
        self.people[k]("POST", f"/api/tasks/{task_id}/annotations/", {
            "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                        "value": {"choices": [CLASSES[cls]]}}]})
        self.labels[(str(example_id), k)] = cls

    def noisy(self, k, t, rng):
        """Annotator 0 is right 90% of the time, 1: 75%, 2: 45%."""
        good = [0.9, 0.75, 0.45][k]
        return self.truth[t] if rng.random() < good else int(rng.integers(0, 3))

    def probs_csv(self):
        path = self.tmp / "probs.csv"
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", *CLASSES])
            w.writerows([t, *map(repr, self.P[t].tolist())] for t in self.task_ids)
        return str(path)

    def run(self, *args):
        env = {**os.environ, "LABEL_STUDIO_URL": self.url,
               "LABEL_STUDIO_API_KEY": self.admin_token, "PYTHONPATH": ""}
        py = sys.executable if _has_sdk() else self.client_python
        if py == sys.executable:
            env["PYTHONPATH"] = str(ROOT)
        r = subprocess.run([py, "-m", "skactivelab", "labelstudio", "round", "--project",
                            str(self.project), *args], capture_output=True, text=True, env=env,
                           cwd=self.tmp, timeout=600)
        return r.returncode, r.stdout, r.stderr

    def predictions(self):
        return self.admin("GET", "/api/predictions/", project=self.project)

    def project_info(self):
        return self.admin("GET", f"/api/projects/{self.project}/")

    def data_manager_order(self):
        """Task IDs as the Data Manager lists them sorted by prediction score."""
        q = json.dumps({"ordering": ["tasks:predictions_score"]})
        d = self.admin("GET", "/api/tasks/", project=self.project, query=q, page_size=1000,
                       fields="all")
        return [(t["id"], t.get("predictions_score")) for t in d["tasks"]]

    def expected_scores(self, oracle):
        """cleanlab's ActiveLab scores of every example from the posted labels."""
        ex = [str(t) for t in self.task_ids]
        lab = [x for x in ex if any((x, k) in self.labels for k in range(3))]
        unl = [x for x in ex if x not in lab]
        L = np.full((len(lab), 3), np.nan)
        for (x, k), c in self.labels.items():
            L[lab.index(x), k] = c
        keep = ~np.isnan(L).all(axis=0)  # annotators with a label
        P = np.array([self.P[int(x)] for x in lab])
        U = np.array([self.P[int(x)] for x in unl]) if unl else None
        s_lab, s_unl = oracle.get_active_learning_scores(L[:, keep], P, U)
        return dict(zip(lab + unl, np.concatenate([s_lab, s_unl if unl else []])))


def _has_sdk():
    try:
        import label_studio_sdk  # noqa: F401
    except ImportError:
        return False
    return True


def example_of(task):
    return str(task["data"].get("skactivelab_example_id") or task["id"])


def marks(task, round_number):
    return ((task.get("meta") or {}).get("skactivelab") or {}).get(
        f"skactivelab-round-{round_number}")


def snapshot(team):
    """Everything a round may change, to compare before and after."""
    tasks = team.tasks()
    return (sorted((t["id"], json.dumps(t["data"], sort_keys=True),
                    json.dumps(t.get("meta"), sort_keys=True)) for t in tasks),
            sorted((p["id"], p["task"], p["model_version"], p["score"])
                   for p in team.predictions()),
            {k: team.project_info()[k] for k in ("model_version", "sampling")})


def round_scores(team, round_number):
    """{task ID: score} of the round's predictions, one per task."""
    mv = f"skactivelab-round-{round_number}"
    mine = [p for p in team.predictions() if p["model_version"] == mv]
    assert len({p["task"] for p in mine}) == len(mine), "one prediction of a round per task"
    assert all(p["result"] == [] for p in mine), "nothing is pre-filled for the annotator"
    return {p["task"]: p["score"] for p in mine}


def check_round(team, oracle, round_number, exclude=(), handed_out=()):
    """The server after a round: scores, batch, Data Manager order, labeling stream."""
    tasks = team.tasks()
    want = team.expected_scores(oracle)
    got = round_scores(team, round_number)
    assert sorted(got) == sorted(t["id"] for t in tasks), "every task has the round's score"
    for t in tasks:
        assert got[t["id"]] == pytest.approx(want[example_of(t)], rel=0, abs=1e-9), t["id"]
    # the batch: the lowest scores, leaving out the examples still pending
    order = sorted((x for x in want if x not in exclude), key=lambda x: (want[x], int(x)))
    picked = {}
    for t in tasks:
        m = marks(t, round_number)
        if m is not None:
            picked.setdefault(m["example_id"], []).append(t)
    assert set(picked) == set(order[:BATCH])
    info = {x: marks(ts[0], round_number) for x, ts in picked.items()}
    assert sorted(m["rank"] for m in info.values()) == list(range(1, BATCH + 1))
    assert [x for x, _ in sorted(info.items(), key=lambda kv: kv[1]["rank"])] == order[:BATCH]
    for x, ts in picked.items():
        assert len(ts) == 1, f"example {x} handed out once"
        t, m = ts[0], info[x]
        assert not t["annotations"], "a pick is a task nobody answered"
        n = sum(1 for (e, _) in team.labels if e == x)
        assert m["num_annotations"] == n
        if n:  # a re-label: a new task carrying the example ID and the example's data
            assert m["reason"] == "relabel" and t["id"] not in team.task_ids
            assert t["data"]["skactivelab_example_id"] == x
            own = next(o for o in tasks if str(o["id"]) == x)
            assert t["data"]["text"] == own["data"]["text"]
            labeled_by = {team.emails[k] for (e, k) in team.labels if e == x}
            assert set(m["labeled_by"]) == labeled_by
            assert m.get("suggested_annotator") not in labeled_by
        else:  # a first label: the example's own task, marked in its meta
            assert m["reason"] == "first_label" and t["id"] == int(x)
    # the default share: no annotator suggested for more than ceil(1.5 x picks / 3)
    suggested = [m.get("suggested_annotator") for m in info.values()]
    cap = math.ceil(1.5 * len(info) / 3)
    assert all(suggested.count(a) <= cap for a in set(suggested) if a)
    # the Data Manager, sorted by prediction score, lists the tasks by this round's score
    dm = team.data_manager_order()
    assert [s for _, s in dm] == sorted(s for _, s in dm)
    assert {i: s for i, s in dm} == pytest.approx(got, rel=0, abs=1e-12)
    info_p = team.project_info()
    assert info_p["model_version"] == f"skactivelab-round-{round_number}"
    assert info_p["sampling"] == "Uncertainty sampling"
    # the labeling stream hands an annotator one of the round's picks (or a task still
    # pending from an earlier round)
    pick_tasks = {ts[0]["id"] for ts in picked.values()} | set(handed_out)
    nxt = team.people[0]("GET", f"/api/projects/{team.project}/next")
    assert nxt["id"] in pick_tasks
    return picked, info


def test_two_rounds_against_label_studio(server, oracle, tmp_path):
    team = Team(server, tmp_path)
    rng = np.random.default_rng(11)
    # the first labels: 14 tasks, one to three annotators each (three labels where two
    # would disagree, so that majority votes never tie)
    for i, t in enumerate(team.task_ids[:14]):
        if i % 4:
            team.answer(i % 3, t, t, team.noisy(i % 3, t, rng))
        else:
            c = team.noisy(0, t, rng)
            team.answer(0, t, t, c)
            team.answer(1, t, t, c)
            team.answer(2, t, t, team.noisy(2, t, rng))
    probs = team.probs_csv()
    before = snapshot(team)

    # a dry run shows the round and changes nothing
    code, out, err = team.run("--round", "1", "--pred-probs", probs, "--batch", str(BATCH),
                              "--suggest-annotators", "--dry-run")
    assert code == 0, err
    assert "dry run: nothing was changed" in out
    assert f"would create {N_TASKS} and would update 0 prediction(s)" in out
    assert snapshot(team) == before

    # round 1
    code, out, err = team.run("--round", "1", "--pred-probs", probs, "--batch", str(BATCH),
                              "--suggest-annotators", "--out-dir", "round1")
    assert code == 0, err
    assert "pending from earlier rounds: 0 task(s)" in out
    picked1, info1 = check_round(team, oracle, 1)
    batch_csv = list(csv.DictReader(open(tmp_path / "round1" / "next_batch.csv")))
    assert [r["example_id"] for r in batch_csv] == sorted(info1, key=lambda x: info1[x]["rank"])
    assert {int(r["task"]) for r in batch_csv} == {ts[0]["id"] for ts in picked1.values()}
    n_relabel1 = sum(m["reason"] == "relabel" for m in info1.values())
    assert len(team.tasks()) == N_TASKS + n_relabel1

    # the same round again changes nothing
    after1 = snapshot(team)
    code, out, err = team.run("--round", "1", "--pred-probs", probs, "--batch", str(BATCH),
                              "--suggest-annotators")
    assert code == 0, err
    assert "nothing to change" in out
    assert snapshot(team) == after1

    # the team answers half of the batch (re-labels first, so a copy's label joins its
    # example); the other half stays pending
    ranked = sorted(info1, key=lambda x: (info1[x]["reason"] != "relabel", info1[x]["rank"]))
    answered, pending = ranked[:BATCH // 2], ranked[BATCH // 2:]
    assert any(info1[x]["reason"] == "relabel" for x in answered)
    for x in answered:
        t = picked1[x][0]
        done = {k for (e, k) in team.labels if e == x}
        k = next(k for k in range(3) if k not in done)
        given = [c for (e, _), c in team.labels.items() if e == x] or [team.truth[int(x)]]
        team.answer(k, t["id"], x, max(set(given), key=given.count))  # no tied vote

    # round 2: one command; the pending picks of round 1 are left out
    code, out, err = team.run("--round", "2", "--pred-probs", probs, "--batch", str(BATCH),
                              "--suggest-annotators", "--out-dir", "round2", "--report",
                              "round2/report.html")
    assert code == 0, err
    assert "suggested annotators: at most" in out and "estimated accuracy" in out
    # the report and annotators.csv name the team by email, with accuracies in [0, 1]
    annotators = list(csv.DictReader(open(tmp_path / "round2" / "annotators.csv")))
    report = (tmp_path / "round2" / "report.html").read_text(encoding="utf-8")
    assert report.count('class="annotator-row"') == len(annotators) == 3
    assert {r["annotator_id"] for r in annotators} == set(team.emails)
    for r in annotators:
        assert f"<td>{r['annotator_id']}</td>" in report
        assert 0 <= float(r["accuracy_low"]) <= float(r["estimated_accuracy"]) <= float(
            r["accuracy_high"]) <= 1
    assert (f"pending from earlier rounds: {len(pending)} task(s) handed out and not answered "
            f"yet ({len(pending)} example(s))") in out
    picked2, info2 = check_round(team, oracle, 2, exclude=set(pending),
                                 handed_out={picked1[x][0]["id"] for x in pending})
    assert not set(picked2) & set(pending)
    # re-labels joined to their examples: consensus counts the copy's label, and no copy
    # appears as an example of its own
    cons = {r["example_id"]: r for r in csv.DictReader(open(tmp_path / "round2" /
                                                             "consensus.csv"))}
    for x in answered:
        assert int(cons[x]["num_annotations"]) == sum(1 for (e, _) in team.labels if e == x)
    assert set(cons) <= {str(t) for t in team.task_ids}
    # nothing deleted: round 1's predictions and marks are still there
    preds = team.predictions()
    assert sum(p["model_version"] == "skactivelab-round-1" for p in preds) == len(
        after1[1]), "round 1's predictions are kept"
    tasks = team.tasks()
    assert {t["id"] for t in tasks} >= {row[0] for row in after1[0]}
    # no duplicate tasks: at most one unanswered task per example
    open_tasks = {}
    for t in tasks:
        if not t["annotations"]:
            open_tasks.setdefault(example_of(t), []).append(t["id"])
    assert all(len(v) == 1 for v in open_tasks.values()), open_tasks

    # round 2 again with a retrained model: the round's predictions are updated in place
    n_preds, n_tasks = len(team.predictions()), len(team.tasks())
    for t in team.task_ids:
        team.P[t] = 0.8 * team.P[t] + 0.2 * np.roll(team.P[t], 1)
    probs = team.probs_csv()
    code, out, err = team.run("--round", "2", "--pred-probs", probs, "--batch", str(BATCH),
                              "--suggest-annotators")
    assert code == 0, err
    assert f"create 0 and update {n_tasks} prediction(s)" in out
    new_tasks = len(team.tasks()) - n_tasks  # copies for new re-label picks, if any
    assert len(team.predictions()) == n_preds + new_tasks
    want = team.expected_scores(oracle)
    got = round_scores(team, 2)
    for t in team.tasks():
        assert got[t["id"]] == pytest.approx(want[example_of(t)], rel=0, abs=1e-9)

    # round 2 again: nothing changes; an earlier round is refused
    after2 = snapshot(team)
    code, out, err = team.run("--round", "2", "--pred-probs", probs, "--batch", str(BATCH),
                              "--suggest-annotators")
    assert code == 0 and "nothing to change" in out, err
    assert snapshot(team) == after2
    code, out, err = team.run("--round", "1", "--pred-probs", probs, "--batch", str(BATCH))
    assert code == 2 and "already has round 2" in err
    assert snapshot(team) == after2

    # the next round with the annotator-confusion crowd model, as a dry run: it reads the
    # same server, plans a prediction for every task and changes nothing
    code, out, err = team.run("--round", "3", "--pred-probs", probs, "--batch", str(BATCH),
                              "--suggest-annotators", "--crowd-model", "annotator_confusion", "--dry-run")
    assert code == 0, err
    assert "dry run: nothing was changed" in out
    assert f"would create {len(team.tasks())} and would update 0 prediction(s)" in out
    assert snapshot(team) == after2


def test_bad_token_is_one_clear_line(server, tmp_path):
    env = {**os.environ, "LABEL_STUDIO_URL": server["url"], "LABEL_STUDIO_API_KEY": "not-a-token"}
    py = sys.executable if _has_sdk() else server["client_python"]
    if py == sys.executable:
        env["PYTHONPATH"] = str(ROOT)
    probs = tmp_path / "p.csv"
    probs.write_text("id,a,b\n1,0.5,0.5\n")
    r = subprocess.run([py, "-m", "skactivelab", "labelstudio", "round", "--project", "1",
                        "--round", "1", "--pred-probs", str(probs), "--batch", "1"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "LABEL_STUDIO_API_KEY" in r.stderr, r.stderr
