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
:class:`~skactivelab.cli._files.InputFileError` naming the file, the task and the fix.
"""

from __future__ import annotations

import json

import numpy as np

from ._files import AnnotationTable, InputFileError, _shown

#: Columns every Label Studio JSON-MIN record / CSV row has besides the task data.
LS_META_COLUMNS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time")
_LS_OPTIONAL = ("agreement", "history", "drafts", "predictions")
#: Names of the ``<Choices>`` tag tried when ``--label-column`` is not given.
LABEL_NAMES = ("label", "labels", "answer", "choice", "choices", "class", "category",
               "sentiment")


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
        self.an_index, self.an_ids = {}, []
        self.pairs = {}  # (i, j) -> (stamp, order, label, line)
        self.replaced = []
        self.order = 0

    def example(self, task_id, line, data):
        x = _id_text(task_id)
        i = self.ex_index.get(x)
        if i is None:
            i = self.ex_index[x] = len(self.ex_ids)
            self.ex_ids.append(x)
            self.ex_line.append(line)
            self.data[x] = data
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
            notes = (f"{self.path}: {len(self.replaced)} task(s) labeled twice by the same "
                     f"annotator (first: task {x!r} by {a!r}); kept the newest label of each "
                     "(by updated_at/created_at, else the later one in the file), as the "
                     "learner's duplicate_policy='replace' does",)
        return AnnotationTable(
            path=self.path, format=fmt, example_ids=self.ex_ids, annotator_ids=self.an_ids,
            example=ex[order], annotator=an[order],
            label=np.asarray([vals[k][2] for k in order], dtype=object),
            line=np.asarray([vals[k][3] for k in order], dtype=np.int64),
            example_line=np.asarray(self.ex_line, dtype=np.int64),
            row_label=row_label, task_data=self.data, notes=notes,
        )


def _choice_results(results, label_column):
    """The results of ``<Choices>`` tags, optionally of one ``from_name``."""
    out = [r for r in results if isinstance(r, dict) and isinstance(r.get("value"), dict)
           and "choices" in r["value"]]
    if label_column is not None:
        out = [r for r in out if r.get("from_name") == label_column]
    return out


def _read_full(path, tasks, label_column):
    b = _Builder(path)
    from_names = set()
    for k, task in enumerate(tasks):
        if not isinstance(task, dict) or "data" not in task or "id" not in task:
            raise _task_error(path, k, task.get("id") if isinstance(task, dict) else None,
                              "has no 'id' or no 'data'",
                              "Give the JSON export of Label Studio (Export > JSON), unchanged.")
        i, x = b.example(task["id"], k + 1, task.get("data"))
        if b.ex_line[i] != k + 1:
            raise _task_error(path, k, task["id"],
                              f"the task ID also belongs to task {b.ex_line[i]}",
                              "Give each task once: export the project again, or remove the "
                              "duplicated task.")
        annotations = task.get("annotations", task.get("completions")) or []
        for a in annotations:
            if not isinstance(a, dict) or a.get("was_cancelled") or a.get("skipped"):
                continue  # a cancelled (skipped) annotation carries no label
            results = a.get("result") or []
            if not results:
                continue  # submitted without a choice: no label
            who = _annotator_of(a.get("completed_by"))
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


def _records_table(path, records, line_of, fmt, label_column, row_label):
    """JSON-MIN records or CSV rows (dicts) -> AnnotationTable."""
    keys = set()
    for r in records:
        keys |= set(r)
    label = label_column
    if label is None:
        extra = [c for c in keys if c not in LS_META_COLUMNS and c not in _LS_OPTIONAL]
        named = [c for c in LABEL_NAMES if c in extra]
        if len(named) == 1:
            label = named[0]
        else:
            # the <Choices> column is missing from rows of tasks nobody labeled
            unl = [r for r in records if r.get("annotator") in (None, "")]
            cand = [c for c in extra if unl and all(r.get(c) in (None, "") for r in unl)
                    and any(r.get(c) not in (None, "") for r in records)]
            if len(named) == 0 and len(cand) == 1:
                label = cand[0]
            else:
                raise InputFileError(path, None,
                                     "looks like a Label Studio export but its class column "
                                     f"is not known (columns: {sorted(keys)[:12]})",
                                     "Pass --label-column NAME: the name= of the <Choices> tag "
                                     "of your labeling config.")
    if label not in keys:
        raise InputFileError(path, None, f"has no column {label!r} (columns: {sorted(keys)[:12]})",
                             "Give --label-column the name= of the <Choices> tag.")
    b = _Builder(path)
    meta = set(LS_META_COLUMNS) | set(_LS_OPTIONAL) | {label}
    for k, r in enumerate(records):
        line = line_of(k)
        tid = r.get("id")
        if tid in (None, ""):
            raise InputFileError(path, line, "the task 'id' is empty",
                                 "Give the export unchanged: every row names its task.",
                                 row_label=row_label)
        data = {c: v for c, v in r.items() if c not in meta}
        i, x = b.example(tid, line, data)
        value = r.get(label)
        who = r.get("annotator")
        if value in (None, ""):
            continue  # task without annotation, or the tag was not answered
        if isinstance(value, str) and value.startswith("[") and fmt == "labelstudio-csv":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if isinstance(value, (list, dict)):
            kind = "several choices (multi-label)" if isinstance(value, list) else "not a choice"
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


def read_ls_json(path, label_column=None):
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
        return _read_full(path, obj, label_column)
    if "id" in first and ("annotator" in first or "annotation_id" in first):
        if not all(isinstance(r, dict) for r in obj):
            raise InputFileError(path, None, "mixes records and other values",
                                 "Give the JSON-MIN export unchanged.")
        return _records_table(path, obj, lambda k: k + 1, "labelstudio-json-min", label_column,
                              "record")
    raise InputFileError(path, None,
                         f"is not a Label Studio export (the first entry has keys "
                         f"{_shown(sorted(first), 8)})",
                         "Give a Label Studio export: JSON (tasks with 'data' and "
                         "'annotations') or JSON-MIN (records with 'id' and 'annotator').")


def read_ls_csv(table, label_column=None):
    """A Label Studio CSV/TSV export, already read as a table (``_files._Csv``)."""
    header = table.header
    records = [dict(zip(header, cells)) for cells in table.rows]
    lines = table.lines
    return _records_table(table.path, records, lambda k: int(lines[k]), "labelstudio-csv",
                          label_column, "row")


def import_tasks(ids, rows, task_data, extra_meta):
    """A Label Studio import file (list of tasks) for the picked examples.

    Each task gets its original ``data`` from the export (``{"example_id": ID}`` when the
    example was not in one) and, in ``meta``, the example ID and why it was picked.
    """
    tasks = []
    for x, meta in zip(ids, rows):
        data = (task_data or {}).get(x)
        if not isinstance(data, dict) or not data:
            data = {"example_id": x}
        tasks.append({"data": data, "meta": {"example_id": x, **meta, **extra_meta}})
    return json.dumps(tasks, indent=1, ensure_ascii=False) + "\n"
