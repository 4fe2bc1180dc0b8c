"""``skactivelab labelstudio round``: one active-learning round against a Label Studio server.

Pull a project's tasks and annotations through Label Studio's API (the official
``label-studio-sdk``, extra ``labelstudio``), score them as ``skactivelab score``
does (the same reader, and :func:`~skactivelab.cli._score.score_results`, in
memory), and push the round back so that the team works from Label Studio's own
screens:

* every task gets one prediction of the round's model version
  (``skactivelab-round-N``) whose ``score`` is its example's ActiveLab score and
  whose ``result`` is empty (nothing is pre-filled for the annotator); the
  project's model version is set to the round's, so the Data Manager's
  prediction score column and uncertainty sampling use this round's scores;
* a pick that needs a first label is its own task, marked in the task's
  ``meta``; a pick to re-label gets a new task (a copy of the example's data plus
  the example ID in ``skactivelab_example_id``, the field the readers join on);
* the project's task sampling becomes uncertainty sampling (lowest score first),
  unless ``--keep-sampling``.

Nothing is deleted; running the same round again changes nothing; picks of earlier
rounds (and ``--tasks-out`` imports) that are still unanswered (pending) are left out
of the batch (:func:`pending_tasks`). The plan
(:func:`plan_round`) is computed from the pulled state alone, without a server, so
it is tested on its own. See ``docs/label_studio_live.md``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ._batch import ANNOTATOR_COLUMNS, CONSENSUS_COLUMNS, consensus_line, fmt_float
from ._common import Progress
from ._labelstudio import EXAMPLE_KEY, read_ls_tasks
from ._score import score_results
from ._write import check_output_paths, format_csv, write_files_atomically

__all__ = ["LabelStudioError", "pending_tasks", "plan_round", "run_round"]

#: Key of the task ``meta`` where each round records why it handed the task out.
META_KEY = "skactivelab"
MODEL_VERSION = "skactivelab-round-{}"
UNCERTAINTY = "Uncertainty sampling"
_ROUND_RE = re.compile(r"skactivelab-round-(\d+)\Z")



class LabelStudioError(ValueError):
    """The server could not be reached, refused a request, or holds something unexpected."""


# --------------------------------------------------------------------------- the plan
@dataclass
class Plan:
    """What a round changes on the server (all lists of plain dicts, JSON-ready)."""

    model_version: str
    batch: list  # one dict per pick, in rank order (see plan_round)
    new_tasks: list  # [{"data", "meta", "predictions"}] to import
    create_predictions: list  # [{"task", "score", "result", "model_version"}]
    update_predictions: list  # [{"id", "task", "score", "old_score"}]
    update_meta: list  # [{"task", "meta"}] (the whole new meta of the task)
    project_changes: dict  # {field: (old, new)}
    pending: list  # [{"task", "example_id", "round"}] left out of the batch
    unchanged_predictions: int = 0
    reused_tasks: int = 0
    notes: list = field(default_factory=list)

    @property
    def changes(self):
        return (len(self.new_tasks) + len(self.create_predictions)
                + len(self.update_predictions) + len(self.update_meta)
                + len(self.project_changes))


def _example_of(task):
    data = task.get("data") or {}
    given = data.get(EXAMPLE_KEY) if isinstance(data, dict) else None
    return str(task["id"]) if given in (None, "") else str(given)


def _n_annotations(task):
    """Submitted annotations of a task: 0 means nobody answered it yet. A skipped
    (cancelled) annotation is no answer: Label Studio hands the task to others."""
    return sum(isinstance(a, dict) and not a.get("was_cancelled")
               for a in task.get("annotations") or [])


def _marks(task):
    meta = task.get("meta") or {}
    marks = meta.get(META_KEY) if isinstance(meta, dict) else None
    return marks if isinstance(marks, dict) else {}


def _same(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def rounds_of(model_versions):
    """Round numbers of ``skactivelab-round-N`` model versions."""
    out = set()
    for mv in model_versions:
        m = _ROUND_RE.match(str(mv or ""))
        if m:
            out.add(int(m.group(1)))
    return out


def pending_tasks(tasks, round_number):
    """Tasks handed out earlier and not answered yet: marked by another round (in
    ``meta``), or carrying an example ID of ours (a copy made by ``--tasks-out`` or a
    round) without this round's mark. ``[{"task", "example_id", "round"}]``; ``round`` is
    the model version of the round that handed it out ("import" for ``--tasks-out``)."""
    mv = MODEL_VERSION.format(round_number)
    out = []
    for t in sorted(tasks, key=lambda t: int(t["id"])):
        if _n_annotations(t):
            continue
        marks = _marks(t)
        other = sorted(k for k in marks if k != mv)
        data = t.get("data") if isinstance(t.get("data"), dict) else {}
        copied = data.get(EXAMPLE_KEY) not in (None, "") and mv not in marks
        if other or copied:
            out.append({"task": int(t["id"]), "example_id": _example_of(t),
                        "round": other[-1] if other else "import"})
    return out


def _by_example(tasks, scores):
    """``{example ID: [tasks]}`` (task ID order); every example must have a score."""
    by_example = {}
    for t in sorted(tasks, key=lambda t: int(t["id"])):
        by_example.setdefault(_example_of(t), []).append(t)
    missing = [x for x in by_example if x not in scores]
    if missing:
        raise LabelStudioError(f"{len(missing)} example(s) of the project got no score "
                               f"(first: {missing[0]!r})")
    return by_example


def _new_copy(x, ts, info, mv):
    """A new task to re-label example ``x``: its data plus the example ID."""
    own = next((t for t in ts if str(t["id"]) == x), ts[0] if ts else None)
    data = dict((own or {}).get("data") or {})
    data[EXAMPLE_KEY] = x
    return {"data": data, "meta": {META_KEY: {mv: info}},
            "predictions": [{"result": [], "score": info["score"], "model_version": mv}]}


def _hand_out(picks, by_example, mv):
    """Where each pick goes: a task this round already marked, else an unanswered task of
    the example (its own task first), else a new copy (a re-label). Sets ``task`` of each
    pick (None: a new task); returns ``(new_tasks, update_meta, reused)``."""
    new_tasks, update_meta, reused = [], [], 0
    for r in picks:
        x = r["example_id"]
        ts = by_example.get(x, [])
        info = {k: v for k, v in r.items() if k != "task"}
        mine = [t for t in ts if mv in _marks(t)]
        free = sorted((t for t in ts if _n_annotations(t) == 0),
                      key=lambda t: (str(t["id"]) != x, int(t["id"])))
        target = (mine or free or [None])[0]
        if target is None:
            new_tasks.append(_new_copy(x, ts, info, mv))
            r["task"] = None
            continue
        r["task"] = int(target["id"])
        reused += bool(mine)
        marks = dict(_marks(target))
        if not _same(marks.get(mv), info):
            marks[mv] = info
            update_meta.append({"task": int(target["id"]),
                                "meta": {**dict(target.get("meta") or {}), META_KEY: marks}})
    return new_tasks, update_meta, reused


def _round_predictions(by_example, scores, predictions, mv):
    """One prediction of this round per task, its score the example's score:
    ``(create, update, unchanged, notes)``."""
    existing = {}
    for p in predictions:
        if p.get("model_version") == mv:
            existing.setdefault(int(p["task"]), []).append(p)
    create, update, unchanged, notes = [], [], 0, []
    for x, ts in by_example.items():
        s = float(scores[x])
        for t in ts:
            tid = int(t["id"])
            ps = sorted(existing.get(tid, []), key=lambda p: int(p["id"]))
            if not ps:
                create.append({"task": tid, "score": s, "result": [], "model_version": mv})
            elif ps[0].get("score") is not None and math.isclose(
                    float(ps[0]["score"]), s, rel_tol=1e-12, abs_tol=1e-15):
                unchanged += 1
            else:
                update.append({"id": int(ps[0]["id"]), "task": tid, "score": s,
                               "old_score": ps[0].get("score")})
            if len(ps) > 1:
                notes.append(f"task {tid} has {len(ps)} predictions of {mv}; the Data Manager "
                             "shows their mean score (the first one is kept up to date)")
    return create, update, unchanged, notes


def plan_round(tasks, predictions, scores, picks, *, round_number, pending=(), project=None,
               keep_sampling=False):
    """The changes of one round, from the pulled state and the round's scoring alone (no
    server needed).

    Parameters
    ----------
    tasks : list of dict
        The project's tasks as Label Studio's JSON export gives them (``id``, ``data``,
        ``meta``, ``annotations``).
    predictions : list of dict
        The project's predictions (``id``, ``task``, ``model_version``, ``score``).
    scores : dict
        Example ID -> ActiveLab score, for every example of the project.
    picks : list of dict
        The batch in rank order (``Batch.picks()``: ``example_id``, ``rank``, ``score``,
        ``reason``, ``num_annotations``, ``labeled_by``, and ``consensus_label``,
        ``consensus_quality``, ``suggested_annotator`` when known); pending examples
        (:func:`pending_tasks`) already left out.
    round_number : int
    pending : list of dict
        :func:`pending_tasks`, reported with the plan.
    project : dict, optional
        ``model_version`` and ``sampling`` of the project, to update.
    keep_sampling : bool
        Leave the project's task sampling as it is.
    """
    mv = MODEL_VERSION.format(round_number)
    by_example = _by_example(tasks, scores)
    picks = [dict(r) for r in picks]
    new_tasks, update_meta, reused = _hand_out(picks, by_example, mv)
    create, update, unchanged, notes = _round_predictions(by_example, scores, predictions, mv)
    changes = {}
    project = project or {}
    if project.get("model_version") != mv:
        changes["model_version"] = (project.get("model_version") or "", mv)
    if not keep_sampling and project.get("sampling") != UNCERTAINTY:
        changes["sampling"] = (project.get("sampling") or "", UNCERTAINTY)
    return Plan(model_version=mv, batch=picks, new_tasks=new_tasks, create_predictions=create,
                update_predictions=update, update_meta=update_meta, project_changes=changes,
                pending=list(pending), unchanged_predictions=unchanged, reused_tasks=reused,
                notes=notes)


# --------------------------------------------------------------------------- server
class _Server:
    """The few Label Studio calls a round makes, through the official SDK; every failure
    becomes a :class:`LabelStudioError` naming the request and the fix."""

    def __init__(self, url, api_key, timeout=120.0):
        try:
            from label_studio_sdk import LabelStudio
        except ImportError:
            raise LabelStudioError(
                "the Label Studio SDK is not installed: pip install 'skactivelab[labelstudio]'"
            ) from None
        self.url = url.rstrip("/")
        try:
            self.ls = LabelStudio(base_url=self.url, api_key=api_key, timeout=timeout)
        except Exception as exc:  # the SDK validates the token (expired, malformed)
            raise LabelStudioError(f"LABEL_STUDIO_API_KEY was refused by the SDK ({exc}); "
                                   "create a new access token in Label Studio (Account & "
                                   "Settings)") from None

    def call(self, what, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # ApiError, httpx errors: one line for the user
            status = getattr(exc, "status_code", None)
            body = getattr(exc, "body", None)
            if status in (401, 403):
                fix = ("check LABEL_STUDIO_API_KEY (an access token of a user of this project; "
                       "Account & Settings in Label Studio)")
            elif status == 404:
                fix = "check --project (the number in the project's address)"
            elif status is None:
                fix = f"check that Label Studio runs at {self.url} (LABEL_STUDIO_URL or --url)"
            else:
                fix = "see the server's answer above"
            detail = f"HTTP {status}: {str(body)[:300]}" if status is not None else (
                f"{type(exc).__name__}: {exc}")
            raise LabelStudioError(f"Label Studio at {self.url}: {what} failed ({detail}); "
                                   f"{fix}") from None

    def project(self, pid):
        p = self.call(f"reading project {pid}", self.ls.projects.get, pid)
        return {"id": p.id, "title": p.title, "model_version": p.model_version,
                "sampling": p.sampling}

    def export(self, pid):
        chunks = self.call(f"exporting project {pid}", lambda: b"".join(
            self.ls.projects.exports.download_sync(pid, export_type="JSON",
                                                   download_all_tasks=True)))
        try:
            return json.loads(chunks)
        except ValueError as exc:
            raise LabelStudioError(f"the export of project {pid} is not JSON ({exc})") from None

    def predictions(self, pid):
        ps = self.call(f"listing the predictions of project {pid}", self.ls.predictions.list,
                       project=pid)
        return [{"id": p.id, "task": p.task, "model_version": p.model_version,
                 "score": p.score} for p in ps]

    def users(self):
        us = self.call("listing users", self.ls.users.list)
        return {str(u.id): u.email for u in us if getattr(u, "email", None)}

    def import_tasks(self, pid, tasks):
        r = self.call(f"importing {len(tasks)} task(s) into project {pid}",
                      self.ls.projects.import_tasks, pid, request=tasks, return_task_ids=True)
        return list(r.task_ids or [])

    def import_predictions(self, pid, preds):
        self.call(f"creating {len(preds)} prediction(s) in project {pid}",
                  self.ls.projects.import_predictions, pid, request=preds)

    def update_prediction(self, p):
        self.call(f"updating prediction {p['id']}", self.ls.predictions.update, p["id"],
                  score=p["score"])

    def update_task_meta(self, tid, meta):
        self.call(f"updating task {tid}", self.ls.tasks.update, str(tid), meta=meta)

    def update_project(self, pid, **changes):
        self.call(f"updating project {pid}", self.ls.projects.update, pid, **changes)


def _connect(args):
    url = args.url or os.environ.get("LABEL_STUDIO_URL")
    key = os.environ.get("LABEL_STUDIO_API_KEY")
    if not url:
        raise LabelStudioError("no server: set LABEL_STUDIO_URL (like http://localhost:8080) "
                               "or pass --url")
    if not re.match(r"https?://", url):
        raise LabelStudioError(f"--url/LABEL_STUDIO_URL {url!r} must start with http:// or "
                               "https://")
    if not key:
        raise LabelStudioError("no access token: set LABEL_STUDIO_API_KEY to your token "
                               "(Label Studio: Account & Settings > Personal Access Token)")
    return _Server(url, key)


# --------------------------------------------------------------------------- scoring
def _with_emails(tasks, emails):
    """The export with each ``completed_by`` user ID written as ``{"id", "email"}``, so
    that annotators are named by their email everywhere (outputs, suggestions)."""
    out = []
    for t in tasks:
        anns = []
        for a in t.get("annotations") or []:
            who = a.get("completed_by") if isinstance(a, dict) else None
            if isinstance(who, int) and str(who) in emails:
                a = {**a, "completed_by": {"id": who, "email": emails[str(who)]}}
            anns.append(a)
        out.append({**t, "annotations": anns})
    return out


# --------------------------------------------------------------------------- apply
def _apply(server, pid, plan, progress):
    """Push the plan: new tasks (with their prediction), predictions, marks, and the
    project's settings last (the Data Manager switches to the round once it is complete).
    Each step is idempotent, so an interrupted round completes when run again."""
    if plan.new_tasks:
        ids = server.import_tasks(pid, plan.new_tasks)
        it = iter(ids)
        for r in plan.batch:
            if r["task"] is None:
                r["task"] = next(it, None)
        progress(f"created {len(plan.new_tasks)} task(s) to re-label")
    if plan.create_predictions:
        for k in range(0, len(plan.create_predictions), 5000):
            server.import_predictions(pid, plan.create_predictions[k:k + 5000])
        progress(f"created {len(plan.create_predictions)} prediction(s)")
    for p in plan.update_predictions:
        server.update_prediction(p)
    for m in plan.update_meta:
        server.update_task_meta(m["task"], m["meta"])
    if plan.project_changes:
        server.update_project(pid, **{k: v[1] for k, v in plan.project_changes.items()})


NEXT_COLUMNS = ("rank", "example_id", "task", "score", "reason", "num_annotations",
                "labeled_by", "consensus_label", "consensus_quality", "suggested_annotator")


def _batch_csv(plan):
    rows = [[r["rank"], r["example_id"], "" if r.get("task") is None else r["task"],
             repr(float(r["score"])), r["reason"], r["num_annotations"],
             ";".join(r["labeled_by"]), r.get("consensus_label") or "",
             fmt_float(r["consensus_quality"]) if "consensus_quality" in r else "",
             r.get("suggested_annotator") or ""]
            for r in plan.batch]
    return format_csv(NEXT_COLUMNS, rows)


def _summary(plan, project, server_url, n_tasks, results, dry):
    would = "would " if dry else ""
    n_re = sum(r["reason"] == "relabel" for r in plan.batch)
    lines = [
        f"project {project['id']} ({project['title']!r}) at {server_url}: {n_tasks} task(s), "
        f"{len(results.ids)} example(s); round {plan.model_version}",
        f"pending from earlier rounds: {len(plan.pending)} task(s) handed out and not answered "
        f"yet ({len({p['example_id'] for p in plan.pending})} example(s)), left out of this batch",
        f"batch: {len(plan.batch)} example(s): {n_re} re-label(s), {len(plan.batch) - n_re} "
        "first label(s)",
    ]
    for r in plan.batch[:10]:
        where = f"task {r['task']}" if r.get("task") is not None else "a new task"
        who = f", suggested {r['suggested_annotator']}" if r.get("suggested_annotator") else ""
        lines.append(f"  {r['rank']}. example {r['example_id']} ({r['reason']}, score "
                     f"{float(r['score']):.4f}) on {where}{who}")
    if len(plan.batch) > 10:
        lines.append(f"  ... ({len(plan.batch) - 10} more)")
    share = results.batch.share_summary()
    lines += [share] if share else []
    if results.consensus is not None:
        lines += [consensus_line(results.consensus.confidence)] + results.annotators.summary()
    lines.append(
        f"{would}create {len(plan.new_tasks)} task(s) to re-label; {would}create "
        f"{len(plan.create_predictions)} and {would}update {len(plan.update_predictions)} "
        f"prediction(s) ({plan.unchanged_predictions} unchanged); {would}mark "
        f"{len(plan.update_meta)} task(s) in meta")
    for k, (old, new) in plan.project_changes.items():
        lines.append(f"{would}set the project's {k}: {old or '(none)'} -> {new}")
    if plan.changes == 0:
        lines.append("nothing to change: this round is already on the server")
    elif dry:
        lines.append("dry run: nothing was changed")
    return "\n".join(lines)


def _round_outputs(args):
    """The files the round writes, checked before any request."""
    out = []
    if args.out_dir:
        d = Path(args.out_dir)
        out = [(d / n, "--out-dir") for n in ("next_batch.csv", "consensus.csv",
                                              "annotators.csv", "export.json")]
    if args.report:
        out.append((Path(args.report), "--report"))
    check_output_paths(out, {args.pred_probs: "--pred-probs"})


def _pull(server, args, progress):
    """``(project, tasks, predictions)`` of the project, annotators named by email."""
    project = server.project(args.project)
    progress(f"connected to {server.url}, project {project['id']} ({project['title']!r})",
             force=True)
    tasks = server.export(args.project)
    if not tasks:
        raise LabelStudioError(f"project {args.project} has no task: import tasks first")
    predictions = server.predictions(args.project)
    later = sorted(n for n in rounds_of(p["model_version"] for p in predictions)
                   if n > args.round)
    if later:
        raise LabelStudioError(
            f"project {args.project} already has round {later[-1]} "
            f"({MODEL_VERSION.format(later[-1])}); give --round {later[-1]} to run it again, "
            f"or --round {later[-1] + 1} for the next one")
    try:
        emails = server.users()
    except LabelStudioError:  # a token that may not list users: name annotators by user ID
        emails = {}
        print("skactivelab: warning: this access token cannot list Label Studio's users: "
              "annotators are named by their user ID", file=sys.stderr)
    tasks = _with_emails(tasks, emails)
    progress(f"pulled {len(tasks)} task(s) and {len(predictions)} prediction(s)")
    return project, tasks, predictions


def _score_round(args, tasks, pending, progress):
    """The round's scoring (``skactivelab score``'s path) on the pulled tasks; pending
    examples are known from the tasks' marks (:func:`pending_tasks`), not read again."""
    name = f"Label Studio project {args.project}"

    def read(classes=None):
        ann = read_ls_tasks(tasks, name, args.label_column, classes)
        return dataclasses.replace(ann, pending=())

    return score_results(args, progress, read=read,
                         pending=[p["example_id"] for p in pending])


def _write_round(args, plan, results, tasks, project):
    """next_batch.csv, consensus.csv, annotators.csv, export.json and the report."""
    files = {}
    if args.out_dir:
        d = Path(args.out_dir)
        files[d / "next_batch.csv"] = _batch_csv(plan)
        files[d / "consensus.csv"] = format_csv(
            CONSENSUS_COLUMNS, results.consensus.rows() if results.consensus else [])
        files[d / "annotators.csv"] = format_csv(
            ANNOTATOR_COLUMNS, results.annotators.rows() if results.annotators else [])
        files[d / "export.json"] = json.dumps(tasks, ensure_ascii=False)
    if args.report:
        from ._report import round_report

        files[Path(args.report)] = round_report(
            results, title=f"skactivelab round {args.round}: project {project['id']} "
            f"({project['title']})")
    if files:
        write_files_atomically(files, inputs={args.pred_probs: "--pred-probs"})


def run_round(args):
    """``skactivelab labelstudio round``: pull, score, push back, write the outputs."""
    progress = Progress(args.quiet)
    _round_outputs(args)
    server = _connect(args)
    project, tasks, predictions = _pull(server, args, progress)
    pending = pending_tasks(tasks, args.round)
    results = _score_round(args, tasks, pending, progress)
    plan = plan_round(tasks, predictions, dict(zip(results.ids, results.scores.tolist())),
                      results.batch.picks(), round_number=args.round, pending=pending,
                      project=project, keep_sampling=args.keep_sampling)
    if not args.dry_run and plan.changes:
        try:
            _apply(server, args.project, plan, progress)
        except LabelStudioError as exc:
            print(f"skactivelab: error: {exc}. The round is partly on the server: run the "
                  "same command again to complete it.", file=sys.stderr)
            return 1
    _write_round(args, plan, results, tasks, project)
    for note in (plan.notes[:5] + results.batch.notes):
        print(f"skactivelab: warning: {note}", file=sys.stderr)
    print(_summary(plan, project, server.url, len(tasks), results, args.dry_run))
    return 0
