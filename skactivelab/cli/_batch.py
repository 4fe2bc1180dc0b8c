"""What ``score`` and ``fit`` share: the next batch, the rows of the output files, writing
them, and the checks of options made before any file is read."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..query import lowest
from ._files import read_annotations
from ._columns import ListColumn
from ._labelstudio import import_tasks
from ._pool import check_scheduler_address
from ._tables import InputFileError, shown
from ._tabular import read_table
from ._write import STDOUT, OutputPathError, format_csv, write_files_atomically

__all__ = ["SHARE_SLACK", "AnnotatorTable", "Batch", "ConsensusTable", "check_options", "consensus_line", "crowd_estimates",
           "default_share", "fmt_float", "inputs_of", "outputs", "pending_examples",
           "pending_lines", "pending_note", "read_annotations_of",
           "say_notes", "summary_stream", "write_outputs"]

NEXT_BATCH_COLUMNS = ("rank", "example_id", "score", "relabel", "num_annotations", "labeled_by",
                      "consensus_label", "consensus_quality")
SUGGESTED_COLUMN = "suggested_annotator"
CONSENSUS_COLUMNS = ("example_id", "consensus_label", "consensus_confidence", "consensus_quality",
                     "annotator_agreement", "num_annotations")
ANNOTATOR_COLUMNS = ("annotator_id", "estimated_accuracy", "accuracy_low", "accuracy_high",
                     "num_examples_labeled", "annotator_quality", "agreement_with_consensus",
                     "worst_class")
#: ``--suggest-annotators`` without ``--max-per-annotator`` gives each annotator at most
#: ``ceil(SHARE_SLACK * picks / annotators)`` picks (see :func:`default_share`)
SHARE_SLACK = 1.5
#: the normal quantile of the accuracy interval (95 %)
_Z95 = 1.959963984540054


def fmt_float(x):
    """A float as the shortest text that reads back as it; NaN as an empty cell."""
    x = float(x)
    return "" if x != x else repr(x)  # NaN


def fmt_floats(values):
    """:func:`fmt_float` of each value, as a list."""
    values = np.asarray(values, dtype=float)
    out = np.asarray(list(map(repr, values.tolist())) or [""], dtype=object)[:values.size]
    out[np.isnan(values)] = ""
    return out.tolist()


class Batch:
    """The next batch: the ``batch`` lowest scores (stable order on ties) and what to say
    about each pick (CSV rows of next_batch.csv, and the meta of a Label Studio import)."""

    def __init__(self, ids, scores, n_annotations, batch, *, ann_row, ann_annotator,
                 annotator_ids, consensus, quality, annotator_quality=None,
                 max_per_annotator=None, exclude=None):
        if exclude is None:  # every row a candidate: its position is its index
            order = lowest(scores, np.arange(len(scores)), batch)  # ties keep input order
        else:
            cand = np.flatnonzero(~exclude)
            order = cand[lowest(scores[cand], cand, batch)]
        self.order = order
        self.ids = ids.take(order)
        self.scores = scores[order]
        self.n_ann = np.asarray(n_annotations)[order]
        # who labeled each pick: only the annotations of the batch are looked at (r: the
        # pick of each of their annotations)
        picked = np.zeros(len(ids), dtype=bool)
        picked[order] = True
        hit = picked[ann_row]
        del picked
        by_row = np.argsort(order)
        r = by_row[np.searchsorted(order, ann_row[hit], sorter=by_row)]
        a = ann_annotator[hit]
        keep = np.argsort(r, kind="stable")
        self.labeled_by = [[] for _ in order]
        for rr, aa in zip(r[keep].tolist(), a[keep].tolist()):
            self.labeled_by[rr].append(str(annotator_ids[aa]))
        self.consensus = [consensus[i] for i in order]
        self.quality = [quality[i] for i in order]
        self.suggested, self.share, self.notes = None, None, []
        self.n_annotators = len(annotator_ids)
        self.n_pending = 0 if exclude is None else int(exclude.sum())
        if annotator_quality is not None:
            self._suggest(annotator_quality, annotator_ids, r, a, max_per_annotator)

    def _suggest(self, annotator_quality, annotator_ids, r, a, max_per_annotator):
        """The suggested annotator of each pick: the best (CROWDLAB quality) who has not
        labeled it, each at most ``max_per_annotator`` picks (default: :func:`default_share`)."""
        from ..query import assign_annotators

        n = self.order.size
        if len(annotator_ids) == 0:
            self.suggested = [""] * n
            self.notes.append("--suggest-annotators: nobody has labeled anything yet, so there "
                              "is no annotator to suggest (suggested_annotator is empty); "
                              "suggestions follow once the first labels are in")
            return
        self.share = (max_per_annotator, "--max-per-annotator") if max_per_annotator else (
            default_share(n, len(annotator_ids)), "default")
        eligible = np.ones((n, len(annotator_ids)), dtype=bool)
        eligible[r, a] = False  # nobody labels the same example twice
        who = assign_annotators(annotator_quality, eligible, max_per_annotator=self.share[0])
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

    def picks(self):
        """One dict per pick, in rank order: ``example_id`` and :meth:`meta`."""
        return [{"example_id": x, **m} for x, m in zip(self.ids, self.meta())]

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

    def share_summary(self):
        """What the suggestions gave each annotator, and the cap (None without them)."""
        if self.suggested is None or self.share is None:
            return None
        names, counts = np.unique([s for s in self.suggested if s], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        given = ", ".join(f"{names[k]} {counts[k]}" for k in order[:8]) + (
            f", ... ({names.size} annotators)" if names.size > 8 else "")
        cap, how = self.share
        rule = (f"the default share, ceil({SHARE_SLACK} x {len(self)} picks / "
                f"{self.n_annotators} annotators); --max-per-annotator N to change it"
                if how == "default" else "--max-per-annotator")
        none = self.suggested.count("")
        return (f"suggested annotators: at most {cap} pick(s) each ({rule}): {given or '-'}"
                + (f"; {none} pick(s) without a suggestion (every annotator labeled them or "
                   "reached the cap)" if none else ""))



def consensus_line(confidence):
    """The consensus in one line: how many of its labels are expected right (the mean of
    each example's ``consensus_confidence``)."""
    q = np.asarray(confidence, dtype=float)
    if q.size == 0:
        return "consensus: no labeled example yet"
    return (f"consensus: {q.size} labeled example(s), about {100 * np.mean(q):.0f}% of "
            f"consensus labels expected right (mean consensus_confidence); "
            f"{int((q < 0.5).sum())} below 50%")


def default_share(n_picks, n_annotators):
    """At most ``ceil(SHARE_SLACK * n_picks / n_annotators)`` picks per annotator: an even
    share with room for annotators who cannot take a pick (they labeled it already)."""
    return max(1, math.ceil(SHARE_SLACK * n_picks / max(1, n_annotators)))


@dataclass
class ConsensusTable:
    """The consensus of each labeled example (consensus.csv): its label (CROWDLAB's),
    ``confidence`` the estimated probability that it is right (the crowd model of
    :func:`crowd_estimates`), and CROWDLAB's ``quality`` (a ranking score)."""

    ids: object  # a column of _columns.py (or a list)
    label: np.ndarray
    confidence: np.ndarray
    quality: np.ndarray
    agreement: np.ndarray
    n_annotations: np.ndarray

    def rows(self):
        columns = (self.ids, self.label, fmt_floats(self.confidence), fmt_floats(self.quality),
                   fmt_floats(self.agreement),
                   np.asarray(self.n_annotations, dtype=np.int64).tolist())
        return list(map(list, zip(*columns)))


@dataclass
class AnnotatorTable:
    """One row per annotator (annotators.csv), worst estimated accuracy first.

    ``accuracy`` is the estimated probability that the annotator's label is right
    (:func:`estimated_accuracy`); ``low``/``high`` its 95 % Wilson interval for that many
    labels. ``quality`` is CROWDLAB's annotator quality (a ranking score, not a
    probability).
    """

    ids: object  # a column of _columns.py (or a list)
    accuracy: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_labels: np.ndarray
    quality: np.ndarray
    agreement: np.ndarray
    worst: list

    @classmethod
    def build(cls, ids, accuracy, n, *, quality, agreement, worst):
        """From :func:`crowd_estimates`' accuracy and label counts and CROWDLAB's columns."""
        acc = np.asarray(accuracy, dtype=float)
        low, high = wilson_interval(acc, n)
        return cls(list(ids), acc, low, high, n, np.asarray(quality, dtype=float),
                   np.asarray(agreement, dtype=float), list(worst))

    def order(self):
        """Worst estimated accuracy first; annotators without labels last."""
        return np.argsort(np.where(np.isnan(self.accuracy), np.inf, self.accuracy),
                          kind="stable")

    def rows(self):
        return [[self.ids[j], fmt_float(self.accuracy[j]), fmt_float(self.low[j]),
                 fmt_float(self.high[j]), int(self.n_labels[j]), fmt_float(self.quality[j]),
                 fmt_float(self.agreement[j]), self.worst[j]] for j in self.order()]

    def line(self, j):
        """One annotator for the summary: accuracy, interval, labels."""
        return (f"{self.ids[j]} {100 * self.accuracy[j]:.0f}% "
                f"[{100 * self.low[j]:.0f}-{100 * self.high[j]:.0f}%], "
                f"{int(self.n_labels[j])} labels")

    def summary(self, k=3):
        """The annotators a team lead looks at first: the least accurate, then the best."""
        rated = [int(j) for j in self.order() if self.n_labels[j] > 0]
        if not rated:
            return []
        lines = ["annotators, estimated accuracy (probability that a label is right, 95% "
                 "interval), least accurate first: "
                 + "; ".join(self.line(j) for j in rated[:k])
                 + (f"; ... ({len(rated)} annotators)" if len(rated) > k else "")]
        if len(rated) > k:
            lines.append(f"most accurate: {self.line(rated[-1])}")
        return lines


def crowd_estimates(sparse, P, seed=0, fitted=None, shares="keep"):
    """``(accuracy, n_labels, posterior)``: per annotator, the probability that their
    label is the true class (NaN for an annotator without labels) and their number of
    labels; per labeled example, the probability of each class (N, K).

    From the annotator-confusion crowd model with the classifier as a fitted prior
    (:class:`~skactivelab.crowd_models.AnnotatorConfusion`, seeded by ``seed``): its
    ``annotator_accuracy_`` and ``posterior_``, whatever ``--crowd-model`` forms the
    consensus. ``sparse``: :class:`~skactivelab._annotations.Annotations` over the
    labeled examples (class codes 0..K-1); ``P``: their probabilities (N, K).
    ``fitted``: the scoring's own fit of that model on the same examples and seed, when
    ``--crowd-model annotator_confusion`` made one (used as it is: the same numbers).
    ``shares``: its ``classifier_shares`` (``--classifier-shares``).
    """
    from .._phases import ConfusionFit
    from ..crowd_models import AnnotatorConfusion

    n = np.bincount(sparse.annotator, minlength=sparse.n_annotators)
    if isinstance(fitted, ConfusionFit) and fitted.posterior is not None:
        return np.asarray(fitted.annotator_accuracy, dtype=np.float64), n, fitted.posterior
    model = AnnotatorConfusion(random_state=seed, classifier_shares=shares)
    model.fit(sparse, np.asarray(P, dtype=np.float64))
    return model.annotator_accuracy_, n, model.posterior_


def wilson_interval(p, n, z=_Z95):
    """The Wilson score interval of a proportion ``p`` seen over ``n`` trials (NaN where
    ``n == 0``); it says how much ``n`` labels can tell, not how sure the consensus is."""
    p, n = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / d
        half = z * np.sqrt(np.maximum(p * (1 - p), 0) / n + z * z / (4 * n * n)) / d
        ok = n > 0
        return (np.where(ok, np.clip(mid - half, 0, 1), np.nan),
                np.where(ok, np.clip(mid + half, 0, 1), np.nan))


def _previous_batch_pending(path, ann):
    """Examples of an earlier next_batch.csv that got no new label since: the
    ``num_annotations`` it wrote is still their number of labels."""
    table = read_table(path, "--previous-batch")
    cols = {c: j for j, c in enumerate(table.header)}
    if "example_id" not in cols or "num_annotations" not in cols:
        raise InputFileError(path, table.header_line, "has no example_id and num_annotations "
                             "columns", "Give a next_batch.csv written by skactivelab score, "
                             "fit or labelstudio round.")
    ids = table.columns[cols["example_id"]]
    then, bad = table.columns[cols["num_annotations"]].numbers()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise table.error(i, f"num_annotations {table.cell(i, cols['num_annotations'])!r} is "
                          "no number", "Give the next_batch.csv as skactivelab wrote it.")
    pos = ids.positions_in(ann.example_ids)
    now = np.where(pos >= 0, ann.num_annotations()[np.maximum(pos, 0)], 0)
    return ids.take(np.flatnonzero(now <= then))


def pending_examples(args, ann, pending=()):
    """Example IDs handed out and not answered yet, left out of the batch: tasks of the
    export that carry our example ID and have no answer, the examples of
    ``--previous-batch`` files that got no label since, and ``pending`` (given by the
    caller). None of them with ``--include-pending``."""
    if getattr(args, "include_pending", False):
        return ListColumn([])
    held = dict.fromkeys(x for _, x in ann.pending)
    for path in getattr(args, "previous_batch", None) or ():
        held.update(dict.fromkeys(_previous_batch_pending(path, ann)))
    held.update(dict.fromkeys(map(str, pending)))
    return ListColumn(list(held))


def pending_note(args, ann):
    """Said when an import of ours may be pending but cannot be seen: --tasks-out with an
    export that lists annotated tasks only, and no --previous-batch."""
    if (getattr(args, "tasks_out", None) and ann.format.startswith("labelstudio")
            and not ann.lists_every_task and not getattr(args, "previous_batch", None)
            and not getattr(args, "include_pending", False)):
        return ["--tasks-out: the export lists annotated tasks only, so tasks imported "
                "earlier and not answered yet cannot be seen: export with all tasks, or give "
                "--previous-batch with the earlier next_batch.csv, so that they are not asked "
                "again"]
    return []


def pending_lines(batch, held):
    """The summary's line about pending examples."""
    if not len(held):
        return []
    n_in = batch.n_pending
    return [f"pending: {len(held)} example(s) handed out earlier and not answered yet; "
            f"{n_in} of them scored here, left out of this batch (--include-pending to ask "
            "them again)"]


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
    if getattr(args, "report", None):
        out.append((Path(args.report), "--report"))
    return out


def write_outputs(args, inputs, batch, consensus, annotators, task_data, extra=None):
    """Every output of the command, all of them or none (``_write.py``); returns their paths.
    ``consensus`` and ``annotators`` are tables (None: no labels yet); ``extra`` maps more
    paths to their text (the HTML report)."""
    files = {}
    next_csv = format_csv(batch.columns, batch.rows())
    if getattr(args, "out", None):
        files[Path(args.out)] = next_csv
    if getattr(args, "out_dir", None):
        d = Path(args.out_dir)
        files[d / "next_batch.csv"] = next_csv
        files[d / "consensus.csv"] = format_csv(CONSENSUS_COLUMNS,
                                                consensus.rows() if consensus else [])
        files[d / "annotators.csv"] = format_csv(ANNOTATOR_COLUMNS,
                                                 annotators.rows() if annotators else [])
    files.update(extra or {})
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
