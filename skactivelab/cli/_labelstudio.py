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
from datetime import datetime, timezone

import numpy as np

from ._columns import ListColumn
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


def _json_type(value):
    """How JSON calls the type of ``value``: object, list, text, number, true/false, null."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return {dict: "an object", list: "a list", str: "a text"}.get(type(value), "a number")


def _user(value):
    """Annotator ID as text from a user field (``completed_by``, ``annotator``): an
    integer user ID, a name or email, or the email (else the id) of a user object.

    None when the field is empty; ``ValueError`` (saying what it holds) when it names
    no user.
    """
    if _empty(value):
        return None
    if isinstance(value, dict):
        for key in ("email", "id"):
            if not _empty(value.get(key)):
                return _user(value[key])
        raise ValueError(f"is an object without 'email' or 'id' (keys: {shown(sorted(value), 6)})")
    if isinstance(value, (bool, list)) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"is {json.dumps(value)}, which names no user")
    return _id_text(value)


def _time_key(value):
    """A Label Studio time as a key that sorts by the instant: ``(seconds since 1970 UTC,
    fraction in 10**-12 s)``; None when empty.

    ISO 8601 as Label Studio writes it: ``2024-05-02T09:12:40.123456Z``, any number of
    fraction digits, ``Z`` or an offset (``+02:00``, ``+0200``, ``+02``); a time without
    zone is UTC. ``ValueError`` for anything else.
    """
    if _empty(value):
        return None
    m = _ISO_TIME.fullmatch(str(value))
    if m is None:
        raise ValueError(f"{value!r} is not an ISO 8601 time")
    y, mo, d, h, mi, sec, frac, zone = m.groups()
    try:
        instant = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
                           tzinfo=timezone.utc)
    except ValueError as exc:  # a day or an hour that does not exist
        raise ValueError(f"{value!r} is not a valid time ({exc})") from None
    offset = 0
    if zone and zone not in "Zz":
        offset = (int(zone[1:3]) * 60 + int(zone[-2:] if len(zone) > 3 else 0)) * 60
        offset = -offset if zone[0] == "-" else offset
    return int(instant.timestamp()) - offset, int((frac or "0")[:12].ljust(12, "0"))


_ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                       r"(Z|z|[+-]\d{2}(?::?\d{2})?)?)?")
#: The sort key of a label without time: older than any label with one.
_NO_TIME = (-(2**63), 0)


def _exact(text, what, fail):
    """``text`` if it is exact (the one cell rule: no white space around an ID, an
    annotator or a label), else the error ``fail(problem, fix)``."""
    if text != text.strip():
        raise fail(f"{what} {text!r} starts or ends with white space",
                   "IDs, annotators and labels are matched exactly: remove the spaces around "
                   "it.")
    return text


def _example_key(value, fail):
    """The ``skactivelab_example_id`` of a task (None when absent), taken exactly."""
    return None if _empty(value) else _exact(_id_text(value), f"{EXAMPLE_KEY}", fail)


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
        self.handed_out = {}  # task ID -> [example ID, answered] of tasks carrying EXAMPLE_KEY
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

    def handed(self, task_id, x, answered):
        """A task that carries ``EXAMPLE_KEY`` (written by an import of ours): pending for
        its example until somebody answers it (a cancelled, skipped annotation is no answer)."""
        entry = self.handed_out.setdefault(_id_text(task_id), [x, False])
        entry[1] = entry[1] or bool(answered)

    def add(self, i, x, annotator, label, stamp, line):
        """One label; of two by the same annotator on one example, the newer one is kept
        (``stamp``: a :func:`_time_key`, None when the export gives no time; then the later
        one in the file)."""
        j = self.an_index.get(annotator)
        if j is None:
            j = self.an_index[annotator] = len(self.an_ids)
            self.an_ids.append(annotator)
        self.order += 1
        old = self.pairs.get((i, j))
        new = (stamp or _NO_TIME, self.order, label, line)
        if old is not None:
            self.replaced.append((x, annotator))
            if (new[0], new[1]) < (old[0], old[1]):
                return
        self.pairs[(i, j)] = new

    def table(self, fmt, row_label, lists_every_task=False):
        """The labels kept, in the order in which they were given."""
        kept = sorted(self.pairs.items(), key=lambda kv: kv[1][1])
        names = {}
        label_code = [names.setdefault(v[2], len(names)) for _, v in kept]
        notes = ()
        if self.replaced:
            x, a = self.replaced[0]
            notes = (f"{self.path}: {len(self.replaced)} example(s) labeled twice by the same "
                     f"annotator (first: example {x!r} by {a!r}); kept the newest label of each "
                     "(by updated_at/created_at, else the later one in the file), as the "
                     "learner's duplicate_policy='replace' does",)
        ints = (lambda values: np.asarray(values, dtype=np.int64))
        return AnnotationTable(
            path=self.path, format=fmt, example_ids=ListColumn(self.ex_ids),
            annotator_ids=self.an_ids, example=ints([k[0] for k, _ in kept]),
            annotator=ints([k[1] for k, _ in kept]), label_code=ints(label_code),
            label_names=list(names), line=ints([v[3] for _, v in kept]),
            example_line=ints(self.ex_line), row_label=row_label, task_data=self.data,
            notes=notes, aliases=self.aliases, lists_every_task=lists_every_task,
            pending=tuple((t, x) for t, (x, answered) in self.handed_out.items() if not answered),
        )


def _choice_results(results, label_column):
    """The results of ``<Choices>`` tags, optionally of one ``from_name``."""
    out = [r for r in results if isinstance(r, dict) and isinstance(r.get("value"), dict)
           and "choices" in r["value"]]
    if label_column is not None:
        out = [r for r in out if r.get("from_name") == label_column]
    return out


def _check_tasks(path, tasks):
    """Every task an object with ``id`` and ``data``, task IDs distinct, annotations a list
    of objects whose ``result`` is a list: else an error naming the task."""
    task_line = {}
    for k, task in enumerate(tasks):
        tid = task.get("id") if isinstance(task, dict) else None
        if not isinstance(task, dict) or "data" not in task or "id" not in task:
            raise _task_error(path, k, tid, "has no 'id' or no 'data'",
                              "Give the JSON export of Label Studio (Export > JSON), unchanged.")
        if isinstance(tid, (bool, dict, list)) or _empty(tid) or _id_text(tid) != _id_text(
                tid).strip():
            raise _task_error(path, k, None, f"its 'id' is {json.dumps(tid)}, not a task ID",
                              "Give the JSON export of Label Studio (Export > JSON), unchanged.")
        if _id_text(tid) in task_line:
            raise _task_error(path, k, tid,
                              f"the task ID also belongs to task {task_line[_id_text(tid)]}",
                              "Give each task once: export the project again, or remove the "
                              "duplicated task.")
        task_line[_id_text(tid)] = k + 1
        _check_annotations(path, k, task)


def _check_annotations(path, k, task):
    key = "annotations" if "annotations" in task else "completions"
    anns = task.get(key)
    fix = "Give the JSON export of Label Studio unchanged: annotations are a list of objects."
    if anns is not None and not isinstance(anns, list):
        raise _task_error(path, k, task["id"], f"'{key}' is {_json_type(anns)}, not a list", fix)
    for a in anns or []:
        if not isinstance(a, dict):
            raise _task_error(path, k, task["id"], f"an annotation is {_json_type(a)}, not an "
                              "object", fix)
        if a.get("result") is not None and not isinstance(a["result"], list):
            raise _task_error(path, k, task["id"], f"annotation {a.get('id')!r}: 'result' is "
                              f"{_json_type(a['result'])}, not a list", fix)


def _live_annotations(task):
    """The annotations of a task that carry a result (not cancelled, not skipped); the
    export's structure was checked by :func:`_check_tasks`."""
    anns = task.get("annotations", task.get("completions")) or []
    return [a for a in anns if not a.get("was_cancelled") and not a.get("skipped")
            and a.get("result")]


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


def _annotation_label(a, label_column, fail):
    """``(tag, class)`` of one live annotation; ``fail(problem, fix)`` makes the error.
    None when the annotation does not answer ``label_column``."""
    results = a["result"]
    chosen = _choice_results(results, label_column)
    names = {r.get("from_name") for r in chosen}
    if len(names) > 1:
        raise fail(f"annotation {a.get('id')!r} answers several <Choices> tags "
                   f"{sorted(map(str, names))}",
                   "Pass --label-column NAME to say which tag holds the class.")
    if not chosen:
        if label_column is not None:
            return None  # this annotation did not answer the chosen tag
        types = sorted({str(r.get("type")) for r in results if isinstance(r, dict)})
        raise fail(f"annotation {a.get('id')!r} has no choices result (result types: {types})",
                   "skactivelab reads classification projects (<Choices>); export a project "
                   "whose labeling config has one.")
    answers = [r["value"]["choices"] for r in chosen]
    if any(c != answers[0] for c in answers[1:]):
        raise fail(f"annotation {a.get('id')!r} answers <Choices> {chosen[0].get('from_name')!r} "
                   f"twice, differently ({shown(answers, 3)})",
                   "Keep one answer per tag: correct the annotation in Label Studio and export "
                   "again.")
    choices = answers[0]
    if not isinstance(choices, list) or len(choices) != 1:
        raise fail(f"annotation {a.get('id')!r} chose {choices!r}, not one class (multi-label)",
                   "Use a single-choice <Choices> tag (choice=\"single\"); multi-label "
                   "annotations are not supported.")
    return chosen[0].get("from_name"), _exact(str(choices[0]), "the label", fail)


def _annotation_user_and_time(a, emails, fail):
    """Who made annotation ``a`` (user 5 and ``{"id": 5, "email": ...}`` are one
    annotator) and when (:func:`_time_key` of ``updated_at``, else ``created_at``)."""
    if "completed_by" not in a or a["completed_by"] is None:
        raise fail(f"annotation {a.get('id')!r} has no 'completed_by'",
                   "Export with annotator information (Label Studio includes completed_by by "
                   "default), or fill it in.")
    try:
        who = _user(a["completed_by"])
    except ValueError as exc:
        raise fail(f"annotation {a.get('id')!r}: 'completed_by' {exc}",
                   "Give the user who annotated: an integer user ID, or an object with 'id' "
                   "or 'email', as Label Studio exports it.") from None
    if who is None:
        raise fail(f"annotation {a.get('id')!r}: 'completed_by' is empty",
                   "Give the user who annotated: an integer user ID, or an object with 'id' "
                   "or 'email', as Label Studio exports it.")
    field = "updated_at" if not _empty(a.get("updated_at")) else "created_at"
    try:
        return _exact(emails.get(who, who), "the annotator", fail), _time_key(a.get(field))
    except ValueError as exc:
        raise fail(f"annotation {a.get('id')!r}: '{field}' {exc}",
                   "Give the export unchanged (Label Studio writes times like "
                   "2024-05-02T09:12:40.123456Z).") from None


def _read_full(path, tasks, label_column, classes=None):
    _check_tasks(path, tasks)
    if label_column is None:
        label_column = _tag_of_full_export(path, tasks, classes)
    emails = _emails_by_user_id(tasks)
    b = _Builder(path)
    from_names = set()
    for k, task in enumerate(tasks):
        data = task.get("data")

        def fail(problem, fix, k=k, task=task):
            return _task_error(path, k, task["id"], problem, fix)

        given = data.get(EXAMPLE_KEY) if isinstance(data, dict) else None
        i, x = b.example(task["id"], k + 1, data, _example_key(given, fail))
        if not _empty(given):
            b.handed(task["id"], x, any(not a.get("was_cancelled") for a in
                                        task.get("annotations", task.get("completions")) or []))
        for a in _live_annotations(task):
            answer = _annotation_label(a, label_column, fail)
            if answer is None:
                continue
            from_names.add(answer[0])
            who, stamp = _annotation_user_and_time(a, emails, fail)
            b.add(i, x, who, answer[1], stamp, k + 1)
    if len(from_names) > 1:
        raise InputFileError(path, None,
                             f"annotations answer several <Choices> tags {sorted(map(str, from_names))}",
                             "Pass --label-column NAME to say which tag holds the class.")
    unannotated = any(not (t.get("annotations") or t.get("completions")) for t in tasks)
    return b.table("labelstudio-json", "task", lists_every_task=unannotated)


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


def _label_of_records(path, records, keys, label_column, classes):
    """The label column and the columns that hold answers rather than task data."""
    if label_column is None:
        return _label_column_of_records(path, records, keys, classes)
    if label_column not in keys and any(not _empty(r.get("annotator")) for r in records):
        raise InputFileError(path, None,
                             f"has no column {label_column!r} (columns: {sorted(keys)[:12]})",
                             "Give --label-column the name= of the <Choices> tag.")
    return label_column, {label_column}


def _record_task_id(path, r, line, fmt, row_label):
    tid = r.get("id")
    if _empty(tid):
        raise InputFileError(path, line, "the task 'id' is empty",
                             "Give the export unchanged: every row names its task.",
                             row_label=row_label)
    if isinstance(tid, (bool, dict, list)) or str(tid) != str(tid).strip() or (
            fmt == "labelstudio-csv" and not _TASK_ID_RE.fullmatch(str(tid))):
        raise InputFileError(path, line,
                             f"the 'id' column holds {tid!r}, not a Label Studio task ID"
                             + (": the task data has a field 'id', which the CSV export writes "
                                "over the task ID" if fmt == "labelstudio-csv" else ""),
                             "Export as JSON (or JSON-MIN), which keep the task ID, or rename "
                             "the data field.", row_label=row_label)
    return tid


def _record_label(r, label, fmt, fail):
    """``(annotator, class, time key)`` of one record, or None when it holds no label."""
    value = None if label is None else r.get(label)
    if _empty(value):
        return None  # task without annotation, or the tag was not answered
    if fmt == "labelstudio-csv":
        value = _answer_value(value)
    if isinstance(value, (list, dict, bool)):
        chosen = _choices_of(value)
        kind = ("several choices (multi-label)" if chosen is not None and len(chosen) > 1
                else "not a choice")
        raise fail(f"column {label!r} holds {kind}: {value!r}",
                   "Use a single-choice <Choices> tag; multi-label annotations and other "
                   "controls are not supported.")
    try:
        who = _user(r.get("annotator"))
    except ValueError as exc:
        raise fail(f"'annotator' {exc}", "Give the export unchanged: the annotator is a user "
                   "ID or an email.") from None
    if who is None:
        raise fail("a label without an annotator",
                   "Export with annotator information (the 'annotator' column).")
    field = "updated_at" if not _empty(r.get("updated_at")) else "created_at"
    try:
        return (_exact(who, "the annotator", fail), _exact(_id_text(value), "the label", fail),
                _time_key(r.get(field)))
    except ValueError as exc:
        raise fail(f"'{field}' {exc}", "Give the export unchanged (Label Studio writes times "
                   "like 2024-05-02T09:12:40.123456Z).") from None


def _records_table(path, records, line_of, fmt, label_column, row_label, classes=None):
    """JSON-MIN records or CSV rows (dicts) -> AnnotationTable."""
    keys = {}
    for r in records:
        keys.update(dict.fromkeys(r))
    label, answer_columns = _label_of_records(path, records, keys, label_column, classes)
    b = _Builder(path)
    meta = set(LS_META_COLUMNS) | set(_LS_OPTIONAL) | answer_columns
    json_columns = _json_columns(records, keys, meta) if fmt == "labelstudio-csv" else set()
    for k, r in enumerate(records):
        line = line_of(k)
        tid = _record_task_id(path, r, line, fmt, row_label)
        if fmt == "labelstudio-csv":  # every row has every column: an empty cell is no field
            data = {c: (json.loads(v) if c in json_columns else v) for c, v in r.items()
                    if c not in meta and v != ""}
        else:
            data = {c: v for c, v in r.items() if c not in meta}
        def fail(problem, fix, line=line, tid=tid):
            return InputFileError(path, line, f"task {_id_text(tid)!r}: {problem}", fix,
                                  row_label=row_label)

        i, x = b.example(tid, line, data, _example_key(r.get(EXAMPLE_KEY), fail))
        if not _empty(r.get(EXAMPLE_KEY)):
            b.handed(tid, x, not _empty(r.get("annotator")))

        got = _record_label(r, label, fmt, fail)
        if got is not None:
            b.add(i, x, *got[:2], got[2], line)
    unannotated = any(_empty(r.get("annotator")) for r in records)
    return b.table(fmt, row_label, lists_every_task=unannotated)


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
    return read_ls_tasks(obj, path, label_column, classes)


def read_ls_tasks(obj, path, label_column=None, classes=None):
    """A Label Studio export already parsed (``obj``: its JSON, a list of tasks or of
    JSON-MIN records) into an :class:`AnnotationTable`; ``path`` names it in messages."""
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
    records = [dict(zip(header, cells)) for cells in table.rows()]
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
