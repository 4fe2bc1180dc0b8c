"""What ``score`` and ``fit`` share: the next batch, the rows of the output files, writing
them, and the checks of options made before any file is read."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..query import lowest
from ._files import read_annotations
from ._labelstudio import import_tasks
from ._pool import check_scheduler_address
from ._tables import InputFileError, shown
from ._write import STDOUT, OutputPathError, format_csv, write_files_atomically

__all__ = ["Batch", "annotator_rows", "check_options", "consensus_rows", "fmt_float",
           "inputs_of", "outputs", "read_annotations_of", "say_notes", "summary_stream",
           "write_outputs"]

NEXT_BATCH_COLUMNS = ("rank", "example_id", "score", "relabel", "num_annotations", "labeled_by",
                      "consensus_label", "consensus_quality")
SUGGESTED_COLUMN = "suggested_annotator"
CONSENSUS_COLUMNS = ("example_id", "consensus_label", "consensus_quality", "annotator_agreement",
                     "num_annotations")
ANNOTATOR_COLUMNS = ("annotator_id", "annotator_quality", "agreement_with_consensus", "worst_class",
                     "num_examples_labeled")


def fmt_float(x):
    """A float as the shortest text that reads back as it; NaN as an empty cell."""
    x = float(x)
    return "" if x != x else repr(x)  # NaN


class Batch:
    """The next batch: the ``batch`` lowest scores (stable order on ties) and what to say
    about each pick (CSV rows of next_batch.csv, and the meta of a Label Studio import)."""

    def __init__(self, ids, scores, n_annotations, batch, *, ann_row, ann_annotator,
                 annotator_ids, consensus, quality, annotator_quality=None,
                 max_per_annotator=None):
        order = lowest(scores, np.arange(len(scores)), batch)  # ties keep input order
        self.order = order
        self.ids = ids.take(order)
        self.scores = scores[order]
        self.n_ann = np.asarray(n_annotations)[order]
        # who labeled each pick: only the annotations of the batch are looked at
        slot = np.full(len(ids), -1, dtype=np.int64)
        slot[order] = np.arange(order.size)
        hit = slot[ann_row] >= 0
        r, a = slot[ann_row[hit]], ann_annotator[hit]
        keep = np.argsort(r, kind="stable")
        self.labeled_by = [[] for _ in order]
        for rr, aa in zip(r[keep].tolist(), a[keep].tolist()):
            self.labeled_by[rr].append(str(annotator_ids[aa]))
        self.consensus = [consensus[i] for i in order]
        self.quality = [quality[i] for i in order]
        self.suggested = None
        self.notes = []
        if annotator_quality is not None and len(annotator_ids) == 0:
            self.suggested = [""] * order.size
            self.notes.append("--suggest-annotators: nobody has labeled anything yet, so there "
                              "is no annotator to suggest (suggested_annotator is empty); "
                              "suggestions follow once the first labels are in")
        elif annotator_quality is not None:
            from ..query import assign_annotators

            eligible = np.ones((order.size, len(annotator_ids)), dtype=bool)
            eligible[r, a] = False  # nobody labels the same example twice
            who = assign_annotators(annotator_quality, eligible,
                                    max_per_annotator=max_per_annotator)
            self.suggested = ["" if j < 0 else str(annotator_ids[j]) for j in who.tolist()]

    def __len__(self):
        return len(self.ids)

    @property
    def columns(self):
        return NEXT_BATCH_COLUMNS + ((SUGGESTED_COLUMN,) if self.suggested is not None else ())

    def rows(self):
        out = []
        for k, x in enumerate(self.ids):
            row = [k + 1, x, fmt_float(self.scores[k]), "true" if self.n_ann[k] > 0 else "false",
                   int(self.n_ann[k]), ";".join(self.labeled_by[k]), self.consensus[k],
                   fmt_float(self.quality[k])]
            if self.suggested is not None:
                row.append(self.suggested[k])
            out.append(row)
        return out

    def meta(self):
        out = []
        for k in range(len(self.ids)):
            m = {"rank": k + 1, "score": float(self.scores[k]),
                 "reason": "relabel" if self.n_ann[k] > 0 else "first_label",
                 "num_annotations": int(self.n_ann[k]), "labeled_by": self.labeled_by[k]}
            if self.consensus[k] != "" and self.consensus[k] is not None:
                m["consensus_label"] = self.consensus[k]
                m["consensus_quality"] = float(self.quality[k])
            if self.suggested is not None:
                m["suggested_annotator"] = self.suggested[k] or None
            out.append(m)
        return out

    def summary(self):
        n_re = int((self.n_ann > 0).sum())
        return f"{len(self)} examples: {n_re} re-label(s), {len(self) - n_re} first label(s)"


def consensus_rows(ids, consensus, quality, agreement, n_ann):
    columns = (ids, consensus, fmt_floats(quality), fmt_floats(agreement),
               np.asarray(n_ann, dtype=np.int64).tolist())
    return list(map(list, zip(*columns)))


def fmt_floats(values):
    """:func:`fmt_float` of each value, as a list."""
    values = np.asarray(values, dtype=float)
    out = np.asarray(list(map(repr, values.tolist())) or [""], dtype=object)[:values.size]
    out[np.isnan(values)] = ""
    return out.tolist()


def annotator_rows(annotator_ids, quality, agreement, worst, n_labeled):
    """One row per annotator, worst first; empty statistics for annotators without labels."""
    aq = np.asarray(quality, dtype=float)
    order = np.argsort(np.where(np.isnan(aq), np.inf, aq), kind="stable")
    return [[annotator_ids[j], fmt_float(aq[j]), fmt_float(agreement[j]), worst[j],
             int(n_labeled[j])] for j in order]


def outputs(args):
    """``[(path, option)]`` of every file the command will write (a list, not a dict: two
    options naming one file must both be seen to be refused)."""
    out = []
    if getattr(args, "out", None):
        out.append((Path(args.out), "--out"))
    if getattr(args, "out_dir", None):
        d = Path(args.out_dir)
        if d.exists() and not d.is_dir():
            raise OutputPathError(f"--out-dir {d} is a file; give a directory (it is created if "
                                  "missing). Nothing was written.")
        for name in ("next_batch.csv", "consensus.csv", "annotators.csv"):
            out.append((d / name, "--out-dir"))
    if getattr(args, "tasks_out", None):
        out.append((Path(args.tasks_out), "--tasks-out"))
    return out


def write_outputs(args, inputs, batch, consensus_rows, annotator_rows, task_data):
    """Every output of the command, all of them or none (``_write.py``); returns their paths."""
    files = {}
    next_csv = format_csv(batch.columns, batch.rows())
    if getattr(args, "out", None):
        files[Path(args.out)] = next_csv
    if getattr(args, "out_dir", None):
        d = Path(args.out_dir)
        files[d / "next_batch.csv"] = next_csv
        files[d / "consensus.csv"] = format_csv(CONSENSUS_COLUMNS, consensus_rows)
        files[d / "annotators.csv"] = format_csv(ANNOTATOR_COLUMNS, annotator_rows)
    if getattr(args, "tasks_out", None):
        files[Path(args.tasks_out)], unknown = import_tasks(batch.ids, batch.meta(), task_data,
                                                            {})
        if unknown:
            batch.notes.append(
                f"--tasks-out: {len(unknown)} task(s) of the import file have no data from the "
                f"annotations ({shown(unknown)}): their data holds only the example ID; add "
                "their data in Label Studio, or score only examples of the export")
    write_files_atomically(files, inputs=inputs)
    return list(files)


def inputs_of(args, *options):
    """``{path: option}`` of the input files given on the command line."""
    out = {}
    for opt in options:
        value = getattr(args, opt.lstrip("-").replace("-", "_"), None)
        if value:
            out[value] = opt
    return out


def check_options(args):
    """Combinations of options that cannot work, refused before any file is read."""
    if args.max_per_annotator is not None and not args.suggest_annotators:
        raise ValueError("--max-per-annotator caps the picks of --suggest-annotators; add "
                         "--suggest-annotators, or leave --max-per-annotator out.")
    if getattr(args, "scheduler", None):
        check_scheduler_address(args.scheduler)
    ids = getattr(args, "pred_probs_ids", None)
    if ids and not args.pred_probs.lower().endswith(".npy"):
        raise InputFileError(ids, None, f"is an ID list for {args.pred_probs}, which is not a "
                             ".npy file", "Use --pred-probs-ids only with a .npy file; a table "
                             "names its IDs in a column.")


def summary_stream(args):
    """Where the summary goes: stdout, unless an output is written there."""
    return sys.stderr if STDOUT in (getattr(args, "out", None), args.tasks_out) else sys.stdout


def say_notes(ann, batch):
    """The notes of the reading and of the batch, as warnings on stderr."""
    for note in list(ann.notes) + batch.notes:
        print(f"skactivelab: warning: {note}", file=sys.stderr)


def read_annotations_of(args, classes=None):
    """The ``--annotations`` file, read with the format options of the command line."""
    return read_annotations(args.annotations, args.format, example_column=args.example_column,
                            annotator_column=args.annotator_column,
                            label_column=args.label_column, classes=classes)
