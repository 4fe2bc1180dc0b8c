"""Label Studio exports in, a Label Studio import file out.

Three export formats are read, recognised by their content:

* **JSON** (full export): a list of tasks ``{"id", "data", "annotations": [{"completed_by",
  "result": [{"from_name", "type": "choices", "value": {"choices": [...]}}], "was_cancelled",
  "created_at", "updated_at"}, ...]}``; ``completed_by`` is a user ID (integer) or an object
  with ``id`` and ``email``.
* **JSON-MIN**: a list of flat records, one per submitted annotation (one per task without
  one): the task's data fields, ``id`` (task), the chosen class under the name of the
  ``<Choices>`` tag, ``annotator`` (user ID or email), ``annotation_id``, ``created_at``,
  ``updated_at``, ``lead_time``.
* **CSV** (and TSV): the JSON-MIN records as a table, columns sorted by name.

The task ``id`` is the example ID everywhere after. Every problem raises
:class:`~skactivelab.cli._tables.InputFileError` naming the file, the task and the fix.
"""

from __future__ import annotations

import json
import re

import numpy as np

from ._tables import AnnotationTable, InputFileError, shown

#: The task data field where ``--tasks-out`` writes the example ID of each task; read back
#: from every export format as the example ID of the task (Label Studio gives imported
#: tasks new task IDs, and JSON-MIN and CSV exports drop ``meta``).
EXAMPLE_KEY = "skactivelab_example_id"
#: Columns every Label Studio JSON-MIN record / CSV row has besides the task data.
LS_META_COLUMNS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time",
                   EXAMPLE_KEY)
_LS_OPTIONAL = ("agreement", "history", "drafts", "predictions")


class LabelColumnError(InputFileError):
    """Several columns (``<Choices>`` tags) of a Label Studio export could hold the class.

    ``candidates`` lists them; a caller that knows the class names (``score``: the columns of
    the probability file) may read the export again with ``classes=`` to narrow them.
    """

    def __init__(self, path, candidates):
        self.candidates = sorted(map(str, candidates))
        super().__init__(path, None, f"several candidate label columns {self.candidates} (the "
                         "answers of several <Choices> tags, or task data filled only on labeled "
                         "tasks), and not exactly one of them holds only class names",
                         "Pass --label-column NAME: the name= of the <Choices> tag that holds "
                         "the class.")


_TASK_ID_RE = re.compile(r"\d+")


def _empty(value):
    return value is None or value == ""


def _answer_value(value):
    """A JSON-MIN/CSV cell as Label Studio wrote it: CSV cells holding a JSON list or object
    (several choices, or another control's result) are parsed; other values unchanged."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _choices_of(value):
    """The chosen classes of an answer cell (a list), or None when it is no <Choices> answer.

    One choice is a string; several are ``{"choices": [...]}`` (label-studio-converter) or a
    list of strings.
    """
    value = _answer_value(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and isinstance(value.get("choices"), list):
        value = value["choices"]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def _only_classes(answers, classes):
    """True when every answer is one class or several (multi-label, reported later) of them."""
    for v in answers:
        chosen = _choices_of(v)
        if chosen is None or not set(chosen) <= classes:
            return False
    return True


def _pick_label(path, candidates, answers, classes):
    """The one candidate label column/tag, else :class:`LabelColumnError`.

    ``answers[c]`` are the values given under candidate ``c``; with ``classes`` (a set of
    class names), candidates whose answers are not all class names are dropped.
    """
    if len(candidates) == 1:
        return candidates[0]
    if classes is not None:
        fit = [c for c in candidates if _only_classes(answers[c], classes)]
        if len(fit) == 1:
            return fit[0]
    raise LabelColumnError(path, candidates)


def looks_like_ls_header(header):
    """True for a CSV header of a Label Studio export (id, annotator, annotation_id, ...)."""
    names = set(header)
    return {"id", "annotator", "annotation_id"} <= names and bool(
        names & {"created_at", "updated_at", "lead_time"})


def _task_error(path, k, task_id, problem, fix):
    where = f"task {k + 1}" + (f" (id {task_id!r})" if task_id is not None else "")
    return InputFileError(path, None, f"{where}: {problem}", fix)


def _annotator_of(value):
    """Annotator ID as text: an integer user ID, or the email (else id) of a user object."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, dict):
        for key in ("email", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _id_text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Builder:
    """Collects (example, annotator, label) in order of first appearance; newest label wins."""

    def __init__(self, path):
        self.path = path
        self.ex_index, self.ex_ids, self.ex_line, self.data = {}, [], [], {}
        self.aliases = {}  # task ID -> example ID, for tasks written by --tasks-out
        self.an_index, self.an_ids = {}, []
        self.pairs = {}  # (i, j) -> (stamp, order, label, line)
        self.replaced = []
        self.order = 0

    def example(self, task_id, line, data, given=None):
        """Index and ID of the example of a task: its ``EXAMPLE_KEY`` data field when set
        (a task imported from ``--tasks-out``), else the task ID. Tasks of one example merge;
        the example keeps the data of its own task (ID = example ID) when the export has it."""
        tid = _id_text(task_id)
        x = tid if _empty(given) else _id_text(given)
        if x != tid:
            self.aliases[tid] = x
        i = self.ex_index.get(x)
        if i is None:
            i = self.ex_index[x] = len(self.ex_ids)
            self.ex_ids.append(x)
            self.ex_line.append(line)
            self.data[x] = data
        elif x == tid and x in self.aliases.values():
            self.data[x] = data  # the example's own task, after a copy of it
        return i, x

    def add(self, i, x, annotator, label, stamp, line):
        j = self.an_index.get(annotator)
        if j is None:
            j = self.an_index[annotator] = len(self.an_ids)
            self.an_ids.append(annotator)
        self.order += 1
        old = self.pairs.get((i, j))
        new = (stamp or "", self.order, label, line)
        if old is not None:
            self.replaced.append((x, annotator))
            if (new[0], new[1]) < (old[0], old[1]):
                return
        self.pairs[(i, j)] = new

    def table(self, fmt, row_label):
        keys = list(self.pairs)
        ex = np.fromiter((k[0] for k in keys), dtype=np.int64, count=len(keys))
        an = np.fromiter((k[1] for k in keys), dtype=np.int64, count=len(keys))
        vals = list(self.pairs.values())
        order = np.argsort(np.fromiter((v[1] for v in vals), dtype=np.int64, count=len(vals)),
                           kind="stable")
        notes = ()
        if self.replaced:
            x, a = self.replaced[0]
            notes = (f"{self.path}: {len(self.replaced)} example(s) labeled twice by the same "
                     f"annotator (first: example {x!r} by {a!r}); kept the newest label of each "
                     "(by updated_at/created_at, else the later one in the file), as the "
                     "learner's duplicate_policy='replace' does",)
        return AnnotationTable(
            path=self.path, format=fmt, example_ids=self.ex_ids, annotator_ids=self.an_ids,
            example=ex[order], annotator=an[order],
            label=np.asarray([vals[k][2] for k in order], dtype=object),
            line=np.asarray([vals[k][3] for k in order], dtype=np.int64),
            example_line=np.asarray(self.ex_line, dtype=np.int64),
            row_label=row_label, task_data=self.data, notes=notes, aliases=self.aliases,
        )


def _choice_results(results, label_column):
    """The results of ``<Choices>`` tags, optionally of one ``from_name``."""
    out = [r for r in results if isinstance(r, dict) and isinstance(r.get("value"), dict)
           and "choices" in r["value"]]
    if label_column is not None:
        out = [r for r in out if r.get("from_name") == label_column]
    return out


def _live_annotations(task):
    """The annotations of a task that carry a result (not cancelled, not skipped)."""
    anns = task.get("annotations", task.get("completions")) if isinstance(task, dict) else None
    return [a for a in anns or [] if isinstance(a, dict) and not a.get("was_cancelled")
            and not a.get("skipped") and a.get("result")]


def _tag_of_full_export(path, tasks, classes):
    """The ``from_name`` of the ``<Choices>`` tag holding the class (one rule with JSON-MIN
    and CSV: the one tag answered, else the one whose answers are all ``classes``)."""
    answers = {}
    for task in tasks:
        for a in _live_annotations(task):
            for r in _choice_results(a["result"], None):
                answers.setdefault(r.get("from_name"), []).append(r["value"]["choices"])
    if len(answers) <= 1:
        return None  # one tag (or none): read as it comes
    return _pick_label(path, list(answers), answers, classes)


def _emails_by_user_id(tasks):
    """``{user id (text): email}`` of the ``completed_by`` objects of an export, so that a
    user written as a bare ID elsewhere in the same export is the same annotator."""
    out = {}
    for task in tasks:
        for a in _live_annotations(task):
            who = a.get("completed_by")
            if isinstance(who, dict) and not _empty(who.get("id")) and not _empty(
                    who.get("email")):
                out.setdefault(_id_text(who["id"]), str(who["email"]))
    return out


def _read_full(path, tasks, label_column, classes=None):
    if label_column is None:
        label_column = _tag_of_full_export(path, tasks, classes)
    emails = _emails_by_user_id(tasks)
    b = _Builder(path)
    from_names = set()
    task_line = {}
    for k, task in enumerate(tasks):
        if not isinstance(task, dict) or "data" not in task or "id" not in task:
            raise _task_error(path, k, task.get("id") if isinstance(task, dict) else None,
                              "has no 'id' or no 'data'",
                              "Give the JSON export of Label Studio (Export > JSON), unchanged.")
        tid = _id_text(task["id"])
        if tid in task_line:
            raise _task_error(path, k, task["id"],
                              f"the task ID also belongs to task {task_line[tid]}",
                              "Give each task once: export the project again, or remove the "
                              "duplicated task.")
        task_line[tid] = k + 1
        data = task.get("data")
        i, x = b.example(task["id"], k + 1, data,
                         data.get(EXAMPLE_KEY) if isinstance(data, dict) else None)
        annotations = task.get("annotations", task.get("completions")) or []
        for a in annotations:
            if not isinstance(a, dict) or a.get("was_cancelled") or a.get("skipped"):
                continue  # a cancelled (skipped) annotation carries no label
            results = a.get("result") or []
            if not results:
                continue  # submitted without a choice: no label
            who = _annotator_of(a.get("completed_by"))
            who = emails.get(who, who)  # user 5 and {"id": 5, "email": ...}: one annotator
            if who is None:
                raise _task_error(path, k, task["id"],
                                  f"annotation {a.get('id')!r} has no 'completed_by'",
                                  "Export with annotator information (Label Studio includes "
                                  "completed_by by default), or fill it in.")
            chosen = _choice_results(results, label_column)
            names = {r.get("from_name") for r in chosen}
            from_names |= names
            if len(names) > 1:
                raise _task_error(path, k, task["id"],
                                  f"annotation {a.get('id')!r} answers several <Choices> tags "
                                  f"{sorted(map(str, names))}",
                                  "Pass --label-column NAME to say which tag holds the class.")
            if not chosen:
                if label_column is not None:
                    continue  # this annotation did not answer the chosen tag
                types = sorted({str(r.get("type")) for r in results if isinstance(r, dict)})
                raise _task_error(path, k, task["id"],
                                  f"annotation {a.get('id')!r} has no choices result (result "
                                  f"types: {types})",
                                  "skactivelab reads classification projects (<Choices>); "
                                  "export a project whose labeling config has one.")
            choices = chosen[0]["value"]["choices"]
            if not isinstance(choices, list) or len(choices) != 1:
                raise _task_error(path, k, task["id"],
                                  f"annotation {a.get('id')!r} chose {choices!r}, not one class "
                                  "(multi-label)",
                                  "Use a single-choice <Choices> tag (choice=\"single\"); "
                                  "multi-label annotations are not supported.")
            stamp = str(a.get("updated_at") or a.get("created_at") or "")
            b.add(i, x, who, str(choices[0]), stamp, k + 1)
    if len(from_names) > 1:
        raise InputFileError(path, None,
                             f"annotations answer several <Choices> tags {sorted(map(str, from_names))}",
                             "Pass --label-column NAME to say which tag holds the class.")
    return b.table("labelstudio-json", "task")


def _json_columns(records, keys, meta):
    """Data columns of a CSV export that hold JSON: every filled cell a JSON object or list
    (the CSV export writes nested task data so); they are parsed back for the import file."""
    out = set()
    for c in keys:
        if c in meta:
            continue
        cells = [r.get(c) for r in records if not _empty(r.get(c))]
        if cells and all(isinstance(_answer_value(v), (dict, list)) for v in cells):
            out.add(c)
    return out


def _label_column_of_records(path, records, keys, classes):
    """The column of JSON-MIN records / CSV rows holding the class, or None when nobody
    labeled anything yet; and the columns that hold answers rather than task data.

    A record without annotator is a task nobody labeled: the columns it fills are task
    data. The candidates are the other columns filled on some labeled record whose values
    could be <Choices> answers (text, or several choices); then :func:`_pick_label`.
    """
    labeled = [r for r in records if not _empty(r.get("annotator"))]
    if not labeled:
        return None, set()
    unlabeled = [r for r in records if _empty(r.get("annotator"))]
    extra = [c for c in keys if c not in LS_META_COLUMNS and c not in _LS_OPTIONAL]
    data = {c for c in extra if any(not _empty(r.get(c)) for r in unlabeled)}
    answers = {c: [r[c] for r in labeled if not _empty(r.get(c))] for c in extra if c not in data}
    answers = {c: v for c, v in answers.items() if v}
    cand = [c for c, v in answers.items() if all(_choices_of(x) is not None for x in v)]
    if not cand:
        raise InputFileError(path, None,
                             "looks like a Label Studio export but no column holds <Choices> "
                             f"answers (columns: {sorted(keys)[:12]})",
                             "Pass --label-column NAME: the name= of the <Choices> tag of your "
                             "labeling config.")
    label = _pick_label(path, cand, answers, classes)
    return label, (set(cand) if unlabeled else {label})


def _records_table(path, records, line_of, fmt, label_column, row_label, classes=None):
    """JSON-MIN records or CSV rows (dicts) -> AnnotationTable."""
    keys = {}
    for r in records:
        keys.update(dict.fromkeys(r))
    label = label_column
    if label is None:
        label, answer_columns = _label_column_of_records(path, records, keys, classes)
    else:
        answer_columns = {label}
        if label not in keys and any(not _empty(r.get("annotator")) for r in records):
            raise InputFileError(path, None,
                                 f"has no column {label!r} (columns: {sorted(keys)[:12]})",
                                 "Give --label-column the name= of the <Choices> tag.")
    b = _Builder(path)
    meta = set(LS_META_COLUMNS) | set(_LS_OPTIONAL) | answer_columns
    json_columns = _json_columns(records, keys, meta) if fmt == "labelstudio-csv" else set()
    for k, r in enumerate(records):
        line = line_of(k)
        tid = r.get("id")
        if tid in (None, ""):
            raise InputFileError(path, line, "the task 'id' is empty",
                                 "Give the export unchanged: every row names its task.",
                                 row_label=row_label)
        if fmt == "labelstudio-csv" and not _TASK_ID_RE.fullmatch(str(tid)):
            raise InputFileError(path, line,
                                 f"the 'id' column holds {tid!r}, not a Label Studio task ID: "
                                 "the task data has a field 'id', which the CSV export writes "
                                 "over the task ID", "Export as JSON (or JSON-MIN), which keep "
                                 "the task ID, or rename the data field.", row_label=row_label)
        if fmt == "labelstudio-csv":  # every row has every column: an empty cell is no field
            data = {c: (json.loads(v) if c in json_columns else v) for c, v in r.items()
                    if c not in meta and v != ""}
        else:
            data = {c: v for c, v in r.items() if c not in meta}
        i, x = b.example(tid, line, data, r.get(EXAMPLE_KEY))
        value = None if label is None else r.get(label)
        who = r.get("annotator")
        if value in (None, ""):
            continue  # task without annotation, or the tag was not answered
        if fmt == "labelstudio-csv":
            value = _answer_value(value)
        if isinstance(value, (list, dict)):
            chosen = _choices_of(value)
            kind = ("several choices (multi-label)" if chosen is not None and len(chosen) > 1
                    else "not a choice")
            raise InputFileError(path, line, f"task {x!r}: column {label!r} holds {kind}: {value!r}",
                                 "Use a single-choice <Choices> tag; multi-label annotations "
                                 "and other controls are not supported.", row_label=row_label)
        who = _annotator_of(who) if who not in ("",) else None
        if who is None:
            raise InputFileError(path, line, f"task {x!r}: a label without an annotator",
                                 "Export with annotator information (the 'annotator' column).",
                                 row_label=row_label)
        b.add(i, x, who, _id_text(value), str(r.get("updated_at") or r.get("created_at") or ""),
              line)
    return b.table(fmt, row_label)


def read_ls_json(path, label_column=None, classes=None):
    """Read a Label Studio JSON or JSON-MIN export into an :class:`AnnotationTable`."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            obj = json.load(fh)
    except OSError as exc:
        raise InputFileError(path, None, f"cannot be read ({exc.strerror or exc})",
                             "Check the path given to --annotations.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if "Extra data" in str(exc):  # several JSON documents: one per line
            raise InputFileError(path, None, f"is not one JSON document ({exc})",
                                 "If it holds one JSON object per line (JSON Lines), name it "
                                 ".jsonl.") from None
        raise InputFileError(path, None, f"is not valid JSON ({exc})",
                             "Give a Label Studio export (JSON, JSON-MIN or CSV), or a CSV, TSV, "
                             "Parquet or JSON Lines table.") from None
    if isinstance(obj, dict) and ("annotations" in obj or "completions" in obj) and "data" in obj:
        obj = [obj]  # one task
    if not isinstance(obj, list):
        raise InputFileError(path, None, f"holds a JSON {type(obj).__name__}, not a list of tasks",
                             "Give a Label Studio export (Export > JSON or JSON-MIN).")
    if not obj:
        raise InputFileError(path, None, "the export has no task",
                             "Export a project with tasks (Label Studio: Export > JSON).")
    first = obj[0]
    if not isinstance(first, dict):
        raise InputFileError(path, None, "is a JSON list but not of tasks",
                             "Give a Label Studio export (Export > JSON or JSON-MIN).")
    if "data" in first and ("annotations" in first or "completions" in first or "id" in first):
        return _read_full(path, obj, label_column, classes)
    if "id" in first and ("annotator" in first or "annotation_id" in first):
        if not all(isinstance(r, dict) for r in obj):
            raise InputFileError(path, None, "mixes records and other values",
                                 "Give the JSON-MIN export unchanged.")
        return _records_table(path, obj, lambda k: k + 1, "labelstudio-json-min", label_column,
                              "record", classes)
    raise InputFileError(path, None,
                         f"is not a Label Studio export (the first entry has keys "
                         f"{shown(sorted(first), 8)})",
                         "Give a Label Studio export: JSON (tasks with 'data' and "
                         "'annotations') or JSON-MIN (records with 'id' and 'annotator').")


def read_ls_csv(table, label_column=None, classes=None):
    """A Label Studio CSV/TSV export, already read as a table (``_tables.Table``)."""
    header = table.header
    records = [dict(zip(header, cells)) for cells in table.rows]
    lines = table.lines
    return _records_table(table.path, records, lambda k: int(lines[k]), "labelstudio-csv",
                          label_column, "row", classes)


def import_tasks(ids, rows, task_data, extra_meta):
    """A Label Studio import file (list of tasks) for the picked examples.

    Each task gets its original ``data`` from the export plus the example ID under
    ``EXAMPLE_KEY`` (which every export format carries back, so the labels of the next
    round attach to this example), and, in ``meta``, the example ID and why it was picked.
    Returns ``(text, unknown)``: the file and the IDs whose data no export gave (their data
    is the example ID alone).
    """
    tasks, unknown = [], []
    for x, meta in zip(ids, rows):
        data = (task_data or {}).get(x)
        if not isinstance(data, dict) or not data:
            data = {}
            unknown.append(x)
        tasks.append({"data": {**data, EXAMPLE_KEY: x},
                      "meta": {"example_id": x, **meta, **extra_meta}})
    return json.dumps(tasks, indent=1, ensure_ascii=False) + "\n", unknown
