"""``skactivelab score`` and ``skactivelab fit``: a team's annotation files in, the next batch out.

File formats and rules: ``docs/command_line.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .._annotations import Annotations
from ._common import (
    MODELS,
    _seconds,
    Progress,
    default_n_jobs,
    joblib_progress,
    make_model,
    n_jobs,
    at_least_two,
    positive_int,
    recorded_warnings,
    seed,
    warnings_to_stderr,
)
from ._files import (
    align_pred_probs,
    encode_labels,
    read_annotations,
    read_features,
    read_pred_probs,
    sorted_class_names,
)
from ._tables import InputFileError, shown
from ._write import STDOUT, OutputPathError, check_output_paths, format_csv, write_files_atomically

__all__ = ["add_team_commands"]

NEXT_BATCH_COLUMNS = ("rank", "example_id", "score", "relabel", "num_annotations", "labeled_by",
                      "consensus_label", "consensus_quality")
SUGGESTED_COLUMN = "suggested_annotator"
CONSENSUS_COLUMNS = ("example_id", "consensus_label", "consensus_quality", "annotator_agreement",
                     "num_annotations")
ANNOTATOR_COLUMNS = ("annotator_id", "annotator_quality", "agreement_with_consensus", "worst_class",
                     "num_examples_labeled")

SCORE_EXAMPLE = """\
files:
  --annotations  a Label Studio export (JSON, JSON-MIN, CSV), or a long table (one row per
                 label: example_id,annotator_id,label) or a wide one (first column the example
                 ID, one column per annotator), as CSV, TSV, Parquet or JSON Lines
  --pred-probs   CSV/Parquet with an ID column and one column per class named by class, or .npy
                 (+ --pred-probs-ids); see docs/command_line.md for rows without IDs
  --unlabeled-pred-probs  more pool rows: one CSV/.npy file, or Parquet files, directories or
                 quoted globs of them, streamed in chunks (--scheduler: on a Dask cluster)
  --out          CSV: rank,example_id,score,relabel,num_annotations,labeled_by,consensus_label,
                 consensus_quality[,suggested_annotator] (lowest scores first)

example:
  skactivelab score --annotations annotations.csv --pred-probs oof_probs.csv \\
      --unlabeled-pred-probs pool_probs.csv --batch 100 --out next_batch.csv
  skactivelab score --annotations export.json --pred-probs probs.csv --batch 50 \\
      --suggest-annotators --out-dir round2/ --tasks-out round2/import.json
  skactivelab score --annotations annotations.csv --pred-probs oof_probs.csv \
      --unlabeled-pred-probs 'pool/*.parquet' --batch 10000 --out next_batch.csv

Details: docs/command_line.md. Exit status 2 on a malformed file; nothing is written then.
"""

FIT_EXAMPLE = """\
files:
  --features     CSV: example_id column (else the first column) + numeric feature columns;
                 rows without annotations are the unlabeled pool
  --annotations  a Label Studio export or a long or wide table naming the IDs of --features
  --out-dir      gets next_batch.csv, consensus.csv, annotators.csv

example:
  skactivelab fit --features features.csv --annotations annotations.csv \\
      --model extratrees --batch 100 --out-dir round1/

Details: docs/command_line.md. Exit status 2 on a malformed file; nothing is written then.
"""


# --------------------------------------------------------------------------- shared
def _fmt_float(x):
    x = float(x)
    return "" if np.isnan(x) else repr(x)


class _Batch:
    """The next batch: the ``batch`` lowest scores (stable order on ties) and what to say
    about each pick (CSV rows of next_batch.csv, and the meta of a Label Studio import)."""

    def __init__(self, ids, scores, n_annotations, batch, *, ann_row, ann_annotator,
                 annotator_ids, consensus, quality, annotator_quality=None,
                 max_per_annotator=None):
        order = np.argsort(scores, kind="stable")[:batch]
        self.order = order
        self.ids = [ids[i] for i in order]
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
            row = [k + 1, x, _fmt_float(self.scores[k]), "true" if self.n_ann[k] > 0 else "false",
                   int(self.n_ann[k]), ";".join(self.labeled_by[k]), self.consensus[k],
                   _fmt_float(self.quality[k])]
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


def _consensus_rows(ids, consensus, quality, agreement, n_ann):
    return [[x, c, _fmt_float(q), _fmt_float(g), int(n)]
            for x, c, q, g, n in zip(ids, consensus, quality, agreement, n_ann)]


def _annotator_rows(annotator_ids, quality, agreement, worst, n_labeled):
    """One row per annotator, worst first; empty statistics for annotators without labels."""
    aq = np.asarray(quality, dtype=float)
    order = np.argsort(np.where(np.isnan(aq), np.inf, aq), kind="stable")
    return [[annotator_ids[j], _fmt_float(aq[j]), _fmt_float(agreement[j]), worst[j],
             int(n_labeled[j])] for j in order]


def _outputs(args):
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


def _write_outputs(args, inputs, batch, consensus_rows, annotator_rows, task_data):
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
        from ._labelstudio import import_tasks

        files[Path(args.tasks_out)], unknown = import_tasks(batch.ids, batch.meta(), task_data,
                                                            {})
        if unknown:
            batch.notes.append(
                f"--tasks-out: {len(unknown)} task(s) of the import file have no data from the "
                f"annotations ({shown(unknown)}): their data holds only the example ID; add "
                "their data in Label Studio, or score only examples of the export")
    write_files_atomically(files, inputs=inputs)
    return list(files)


def _inputs(args, *options):
    """``{path: option}`` of the input files given on the command line."""
    out = {}
    for opt in options:
        value = getattr(args, opt.lstrip("-").replace("-", "_"), None)
        if value:
            out[value] = opt
    return out


def _duplicate_check(existing, new_ids, path, lines, row_label):
    """Raise if some of ``new_ids`` (from ``path``) is already in ``existing`` (id -> where)."""
    for i, x in enumerate(new_ids):
        if x in existing:
            raise InputFileError(
                path, int(lines[i]), f"example ID {x!r} is also {existing[x]}",
                "Every example must appear once: keep it in one file only.", row_label=row_label)


# --------------------------------------------------------------------------- score
def _unlabeled_probs(utab, classes, tab):
    """Columns of ``utab`` in the order of ``classes`` (names of the labeled probabilities)."""
    K = len(classes)
    if utab.probs.shape[1] != K:
        raise InputFileError(
            utab.path, utab.header_line, f"has {utab.probs.shape[1]} class columns but "
            f"{tab.path} has {K}", "Give both files the same classes.")
    if utab.classes is None or tab.classes is None:
        return utab.probs  # a .npy file: same column order as the other file
    if set(utab.classes) != set(classes):
        diff = sorted(set(utab.classes) ^ set(classes))
        raise InputFileError(
            utab.path, utab.header_line,
            f"its class columns differ from those of {tab.path}: {diff[:5]}",
            "Name the class columns exactly as in the labeled probabilities.")
    pos = {c: j for j, c in enumerate(utab.classes)}
    return utab.probs[:, [pos[c] for c in classes]]


def _read_annotations(args, classes=None):
    ann = read_annotations(args.annotations, args.format, example_column=args.example_column,
                           annotator_column=args.annotator_column, label_column=args.label_column,
                           classes=classes)
    return ann


def _read_annotations_for_score(args):
    """The annotations; when several columns of a Label Studio export could hold the class,
    the class names of --pred-probs (its columns) pick the one holding only classes."""
    from ._labelstudio import LabelColumnError

    try:
        return _read_annotations(args)
    except LabelColumnError as exc:
        try:
            tab = read_pred_probs(args.pred_probs, id_column=args.example_column,
                                  ids_path=args.pred_probs_ids, usual_id_columns=("id",))
        except InputFileError:
            raise exc from None
        if tab.classes is None:
            raise
        return _read_annotations(args, classes=set(tab.classes))


def _crowdlab_for_score(sparse, P_lab, seed):
    """CROWDLAB consensus and annotator quality of the labeled examples (single-label case:
    the label itself, as the estimator does)."""
    from ..crowdlab import label_quality

    return label_quality(sparse, P_lab, random_state=seed, one_label="label")[0]


def _pool_files(args):
    """The Parquet files of a streamed pool, or None for one CSV/.npy pool file (or none)."""
    from ._pool import is_parquet_pool, resolve_pool_files

    unl = args.unlabeled_pred_probs or []
    if args.scheduler and not is_parquet_pool(unl):
        raise InputFileError("--scheduler", None, "needs a pool of Parquet files",
                             "Give --unlabeled-pred-probs Parquet files (or a directory or a glob "
                             "of them), which the workers read.")
    if is_parquet_pool(unl):
        return resolve_pool_files(unl, "--unlabeled-pred-probs")
    if len(unl) > 1:
        raise InputFileError(unl[1], None, "is a second --unlabeled-pred-probs file, which is "
                             "allowed only for Parquet files",
                             "Give one CSV or .npy file, or Parquet files (or a directory or a "
                             "glob of them), which are streamed.")
    return None


def _check_options(args):
    """Combinations of options that cannot work, refused before any file is read."""
    if args.max_per_annotator is not None and not args.suggest_annotators:
        raise ValueError("--max-per-annotator caps the picks of --suggest-annotators; add "
                         "--suggest-annotators, or leave --max-per-annotator out.")
    if getattr(args, "scheduler", None):
        from ._pool import check_scheduler_address

        check_scheduler_address(args.scheduler)


def _summary_stream(args):
    """Where the summary goes: stdout, unless an output is written there."""
    return sys.stderr if STDOUT in (getattr(args, "out", None), args.tasks_out) else sys.stdout


def _run_score(args):
    _check_options(args)
    progress = Progress(args.quiet)
    pool_files = _pool_files(args)
    inputs = _inputs(args, "--annotations", "--pred-probs", "--pred-probs-ids")
    for f in pool_files or args.unlabeled_pred_probs or []:
        inputs[f] = "--unlabeled-pred-probs"
    check_output_paths(_outputs(args), inputs)
    client = None
    if args.scheduler:  # before the (possibly long) reading: fail fast
        from .._dask import connect

        client = connect(args.scheduler, timeout=args.scheduler_timeout)
        progress(f"connected to the Dask scheduler at {args.scheduler}", force=True)
    try:
        return _score(args, progress, inputs, pool_files, client)
    finally:
        if client is not None:
            client.close()


def _read_score_inputs(args, progress, streamed):
    """Annotations, labeled probabilities, and the pool held in memory (rows of
    ``--pred-probs`` and one CSV/.npy ``--unlabeled-pred-probs`` without annotation)."""
    ann = _read_annotations_for_score(args)
    progress(f"read {ann.label.size} labels of {ann.n_examples} examples from {ann.path}")
    usual = ("id",) if ann.format.startswith("labelstudio") else ()
    tab = read_pred_probs(args.pred_probs, class_names=set(ann.label.tolist()),
                          id_column=args.example_column, ids_path=args.pred_probs_ids,
                          usual_id_columns=usual)
    classes, codes, P, extra_ids, P_extra = align_pred_probs(ann, tab)
    labeled = ann.num_annotations() > 0
    where = {x: f"in {ann.path} ({ann.row_label} {int(ann.example_line[i])})"
             for i, x in enumerate(ann.example_ids)}
    if tab.ids is not None:
        where.update({x: f"in {tab.path}" for x in extra_ids})
    pool_ids = [x for x, lab in zip(ann.example_ids, labeled) if not lab] + list(extra_ids)
    pool_P = [P[~labeled], P_extra]
    unl = args.unlabeled_pred_probs or []
    if unl and not streamed:
        utab = read_pred_probs(unl[0], what="--unlabeled-pred-probs",
                               class_names=set(classes), id_column=args.example_column,
                               usual_id_columns=usual)
        U = _unlabeled_probs(utab, classes, tab)
        u_ids = utab.ids if utab.ids is not None else [f"unlabeled:{i}" for i in range(U.shape[0])]
        _duplicate_check(where, u_ids, utab.path, utab.lines, utab.row_label)
        pool_ids += u_ids
        pool_P.append(U)
    return ann, tab, classes, codes, P, labeled, where, pool_ids, np.concatenate(pool_P), usual


def _stream_pool(args, files, tab, classes, sparse, P_lab, U_mem, where, usual, client, progress):
    """Scores of the labeled examples and the in-memory pool, and the batch lowest of the
    streamed Parquet pool (its columns checked before any scoring)."""
    from sklearn.utils import check_random_state

    from .._phases import score_rows
    from ..activelab import fit_labeled_inputs
    from ._pool import plan_pool, score_pool

    spec, pieces, n_rows = plan_pool(
        files, option="--unlabeled-pred-probs", classes=list(classes),
        by_position=tab.classes is None, labeled_path=tab.path, class_names=set(classes),
        id_column=args.example_column, usual=usual, stats=None, known_ids=where.keys(),
        batch=args.batch, chunk_rows=args.chunk_rows,
        piece_rows=None if client is None else args.chunk_rows)
    fitted = fit_labeled_inputs(sparse, P_lab, rng=check_random_state(args.seed))[0]
    s_lab, spec.stats = fitted.scores_labeled, fitted
    s_mem = score_rows(fitted, U_mem, name="pred_probs_unlabeled") if U_mem.shape[0] else np.empty(0)
    where_run = "on the Dask cluster" if client is not None else "in chunks"
    progress(f"scoring {n_rows:,} pool rows of {len(pieces) if client else len(files)} "
             f"Parquet piece(s) {where_run}", force=n_rows >= 10**6)
    pool = score_pool(spec, pieces, where=where, client=client, address=args.scheduler,
                      progress=progress)
    return s_lab, s_mem, pool


def _score(args, progress, inputs, pool_files, client):
    from ..activelab import get_active_learning_scores

    ann, tab, classes, codes, P, labeled, where, pool_ids, U_mem, usual = _read_score_inputs(
        args, progress, pool_files is not None)
    n_per = ann.num_annotations()
    ex_ids = ann.example_ids
    lab_idx = np.flatnonzero(labeled)
    new_row = np.cumsum(labeled) - 1
    # sparse triples, never an examples x annotators matrix
    sparse = Annotations(
        example=new_row[ann.example], annotator=ann.annotator, label=codes,
        n_examples=int(lab_idx.size), n_annotators=ann.n_annotators, n_classes=len(classes),
        classes=np.arange(len(classes)), annotator_ids=np.asarray(ann.annotator_ids, dtype=object))
    sparse_or_none = sparse if lab_idx.size else None
    P_lab = P[lab_idx] if lab_idx.size else None
    n_unlabeled = len(pool_ids)
    with recorded_warnings() as caught:
        if pool_files is None:
            progress(f"scoring {lab_idx.size} labeled and {len(pool_ids)} unlabeled examples")
            s_lab, s_unl = get_active_learning_scores(
                sparse_or_none, P_lab, U_mem if U_mem.shape[0] else None, random_state=args.seed)
        else:
            s_lab, s_unl, pool = _stream_pool(args, pool_files, tab, classes, sparse_or_none, P_lab,
                                              U_mem, where, usual, client, progress)
            # the streamed pool's batch lowest follow every other row (ties keep input order)
            pool_ids = pool_ids + pool.ids
            s_unl = np.concatenate([s_unl, pool.scores])
            n_unlabeled += pool.n_rows
        res = _crowdlab_for_score(sparse, P[lab_idx], args.seed) if lab_idx.size else None
    ids = [ex_ids[i] for i in lab_idx] + pool_ids
    scores = np.concatenate([s_lab, s_unl])
    n_ann = np.concatenate([n_per[lab_idx], np.zeros(len(pool_ids), dtype=np.int64)])
    names = np.asarray(classes, dtype=object)
    n_pool = len(pool_ids)
    if res is not None:
        cons = names[np.asarray(res.consensus_label, dtype=np.int64)]
        consensus = np.concatenate([cons, np.full(n_pool, "", dtype=object)])
        quality = np.concatenate([res.consensus_quality_score, np.full(n_pool, np.nan)])
        worst = np.asarray(res.worst_class)
        worst_names = np.where(worst >= 0, names[np.maximum(worst, 0)], "")
        aq = np.asarray(res.annotator_quality, dtype=float)
        consensus_rows, annotator_rows = [], []
        if args.out_dir:  # one row per labeled example: only when asked for
            consensus_rows = _consensus_rows([ex_ids[i] for i in lab_idx], cons,
                                             res.consensus_quality_score,
                                             res.annotator_agreement, n_per[lab_idx])
            annotator_rows = _annotator_rows(ann.annotator_ids, aq, res.agreement_with_consensus,
                                             worst_names, res.num_examples_labeled)
    else:
        consensus, quality = np.full(n_pool, "", dtype=object), np.full(n_pool, np.nan)
        aq = np.full(ann.n_annotators, np.nan)
        consensus_rows, annotator_rows = [], []
    batch = _Batch(ids, scores, n_ann, args.batch, ann_row=new_row[ann.example],
                   ann_annotator=ann.annotator, annotator_ids=ann.annotator_ids,
                   consensus=consensus, quality=quality,
                   annotator_quality=aq if args.suggest_annotators else None,
                   max_per_annotator=args.max_per_annotator)
    batch.notes += _copy_rows_note(ann, tab)
    written = _write_outputs(args, inputs, batch, consensus_rows, annotator_rows, ann.task_data)
    _say_notes(ann, batch)
    warnings_to_stderr(caught)
    last = batch.scores[-1] if len(batch) else np.nan
    print(
        f"scored {lab_idx.size} labeled and {n_unlabeled} unlabeled examples "
        f"({ann.n_annotators} annotators, {len(classes)} classes, {ann.label.size} labels)\n"
        f"next batch: {batch.summary()}; scores {_fmt_float(scores.min())} .. "
        f"{_fmt_float(last)}\n"
        f"wrote {', '.join(map(str, written))}", file=_summary_stream(args)
    )
    return 0


def _copy_rows_note(ann, tab):
    """Said when probability rows name tasks that are copies of an example (imported from
    --tasks-out): those rows are not used, the example's own row is."""
    if not ann.aliases or tab.ids is None:
        return []
    copies = [x for x in tab.ids if x in ann.aliases]
    if not copies:
        return []
    return [f"{tab.path}: {len(copies)} row(s) name tasks imported from --tasks-out "
            f"({shown(copies)}; task {copies[0]!r} is example {ann.aliases[copies[0]]!r}): "
            "not used, the row of each example is"]


def _say_notes(ann, batch):
    for note in list(ann.notes) + batch.notes:
        print(f"skactivelab: warning: {note}", file=sys.stderr)


# --------------------------------------------------------------------------- fit
def _read_fit_inputs(args):
    feats = read_features(args.features, example_column=args.example_column)
    ids, X = list(feats.ids), feats.X
    if args.unlabeled_features:
        unl = read_features(args.unlabeled_features, what="--unlabeled-features",
                            example_column=args.example_column)
        if set(unl.feature_names) != set(feats.feature_names):
            diff = sorted(set(unl.feature_names) ^ set(feats.feature_names))
            raise InputFileError(unl.path, unl.header_line,
                                 f"its feature columns differ from those of {feats.path}: {diff[:5]}",
                                 "Give both files the same feature columns.")
        pos = {c: j for j, c in enumerate(unl.feature_names)}
        where = {x: f"in {feats.path} (row {int(feats.lines[i])})" for i, x in enumerate(ids)}
        _duplicate_check(where, unl.ids, unl.path, unl.lines, "row")
        ids += unl.ids
        X = np.vstack([X, unl.X[:, [pos[c] for c in feats.feature_names]]])
    if args.model in ("logistic", "logreg", "knn", "mlp"):
        bad = np.flatnonzero(np.isnan(X).any(axis=1))
        if bad.size:
            i = int(bad[0])
            path, ln = (feats.path, feats.lines[i]) if i < feats.X.shape[0] else (
                args.unlabeled_features, unl.lines[i - feats.X.shape[0]])
            raise InputFileError(path, int(ln), "has an empty feature cell",
                                 "Fill in missing values, or use --model extratrees, "
                                 "randomforest or hgb, which handle them.")
    ann = _read_annotations(args)
    if ann.aliases:  # feature rows of tasks imported from --tasks-out: their example's row counts
        keep = np.fromiter((x not in ann.aliases for x in ids), dtype=bool, count=len(ids))
        if not keep.all():
            ids, X = [x for x, k in zip(ids, keep) if k], X[keep]
    pos = {x: i for i, x in enumerate(ids)}
    rows = np.fromiter((pos.get(x, -1) for x in ann.example_ids), dtype=np.int64,
                       count=ann.n_examples)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        shown = ", ".join(repr(ann.example_ids[i]) for i in missing[:5])
        raise InputFileError(
            ann.path, int(ann.example_line[missing[0]]),
            f"example ID {ann.example_ids[missing[0]]!r} is not in the features "
            f"({missing.size} such ID(s): {shown}{' ...' if missing.size > 5 else ''})",
            "Annotations must name example IDs of --features (or --unlabeled-features) exactly.",
            row_label=ann.row_label)
    classes = sorted_class_names(ann.label.tolist())
    if len(classes) < 2:
        raise InputFileError(ann.path, None,
                             f"uses {len(classes)} class(es) {classes}; a classifier needs at least 2",
                             "Add annotations of at least two classes.")
    codes = encode_labels(ann, classes)
    # sparse triples with the class names, so the estimator's messages name classes
    y = Annotations(
        example=rows[ann.example], annotator=ann.annotator, label=codes, n_examples=len(ids),
        n_annotators=ann.n_annotators, n_classes=len(classes),
        classes=np.asarray(classes, dtype=object),
        annotator_ids=np.asarray(ann.annotator_ids, dtype=object))
    return ids, X, ann, classes, y


def _run_fit(args):
    from ..estimator import MultiAnnotatorClassifier

    t0 = time.perf_counter()
    _check_options(args)
    progress = Progress(args.quiet)
    inputs = _inputs(args, "--features", "--unlabeled-features", "--annotations")
    check_output_paths(_outputs(args), inputs)
    out = Path(args.out_dir)
    ids, X, ann, classes, y = _read_fit_inputs(args)
    n_labeled = int(np.unique(y.example).size)
    if n_labeled < args.cv:
        raise InputFileError(ann.path, None,
                             f"labels only {n_labeled} example(s), fewer than --cv {args.cv} folds",
                             "Label more examples or lower --cv.")
    clf = MultiAnnotatorClassifier(make_model(args.model, args.seed), cv=args.cv,
                                   random_state=args.seed, n_jobs=args.n_jobs)
    progress(f"fitting {args.model} on {n_labeled} labeled rows: {args.cv} cross-validation "
             f"folds, then the final model ({len(ids) - n_labeled} unlabeled rows to score)",
             force=True)
    with recorded_warnings() as caught, joblib_progress(
            progress, f"fit ({args.cv} folds per round, then the final model)"):
        clf.fit(X, y)
    t_fit = time.perf_counter() - t0
    progress("fitted; writing the outputs")

    names = np.asarray(clf.classes_, dtype=object)
    lab = clf.labeled_mask_
    n_ann = clf.n_annotations_
    lab_idx = np.flatnonzero(lab)
    cons_all = np.asarray(clf.consensus_labels_, dtype=object)
    cons_names = cons_all[lab_idx]
    quality = clf.consensus_quality_[lab_idx]
    consensus_rows = _consensus_rows([ids[i] for i in lab_idx], cons_names, quality,
                                     clf.label_quality_.annotator_agreement, n_ann[lab_idx])
    worst = ["" if w is None or (isinstance(w, (int, np.integer)) and w == -1) else w
             for w in np.asarray(clf.worst_class_, dtype=object)]
    aq = np.asarray(clf.annotator_quality_, dtype=float)
    annot_rows = _annotator_rows(list(clf.annotator_ids_), aq, clf.agreement_with_consensus_,
                                 worst, clf.num_examples_labeled_)
    batch = _Batch(ids, clf.active_learning_scores_, n_ann, args.batch, ann_row=y.example,
                   ann_annotator=y.annotator, annotator_ids=ann.annotator_ids,
                   consensus=["" if c is None else c for c in cons_all],
                   quality=clf.consensus_quality_,
                   annotator_quality=aq if args.suggest_annotators else None,
                   max_per_annotator=args.max_per_annotator)
    written = _write_outputs(args, inputs, batch, consensus_rows, annot_rows, ann.task_data)
    _say_notes(ann, batch)
    warnings_to_stderr(caught)

    n = len(ids)
    pos = {c: k for k, c in enumerate(names)}
    counts = np.bincount([pos[c] for c in cons_names], minlength=len(names))
    low = int((quality < 0.5).sum())
    mw = clf.model_weight_
    lines = [
        f"skactivelab fit: {n} examples ({lab_idx.size} labeled, {n - lab_idx.size} unlabeled), "
        f"{ann.n_annotators} annotators, {ann.label.size} labels, {len(names)} classes",
        f"model: {args.model}, {clf.n_splits_}-fold cross-validation, seed {args.seed}; "
        f"CROWDLAB model weight {float(np.mean(mw)):.3f}",
        f"consensus: mean quality {np.mean(quality):.3f}; {low} example(s) below 0.5; "
        + ", ".join(f"{c} {k}" for c, k in zip(names, counts)),
    ]
    shown = [r for r in annot_rows if r[1] != ""][:3]
    lines.append("annotators, worst first: " + "; ".join(
        f"{r[0]} quality {float(r[1] or 'nan'):.3f}, agreement {float(r[2] or 'nan'):.3f}, "
        f"worst class {r[3] or '-'}, {r[4]} labels" for r in shown)
        + (f"; ... ({len(annot_rows)} in {out / 'annotators.csv'})" if len(annot_rows) > 3 else ""))
    rated = [r for r in annot_rows if r[1] != ""]
    if rated:
        r = rated[-1]
        lines.append(f"best annotator: {r[0]} quality {float(r[1] or 'nan'):.3f}, {r[4]} labels")
    lines.append(f"next batch: {batch.summary()}")
    lines.append(f"wrote {', '.join(map(str, written))} "
                 f"in {time.perf_counter() - t0:.1f} s (fit {t_fit:.1f} s)")
    print("\n".join(lines), file=_summary_stream(args))
    return 0


def _annotation_options(p):
    p.add_argument("--annotations", required=True, metavar="FILE",
                   help="a Label Studio export (JSON, JSON-MIN or CSV), or a long or wide table "
                   "(CSV, TSV, Parquet, JSON Lines), recognised by its content")
    p.add_argument("--format", choices=("auto", "labelstudio", "long", "wide"), default="auto",
                   help="annotations format (default: auto, from the content)")
    p.add_argument("--example-column", metavar="NAME",
                   help="the example-ID column of the annotations (long format) and of the "
                   "probability or features files, when it has another name (or a usual name "
                   "is also a class)")
    p.add_argument("--annotator-column", metavar="NAME",
                   help="the annotator-ID column of long-format annotations")
    p.add_argument("--label-column", metavar="NAME",
                   help="the label column of long-format annotations; for a Label Studio "
                   "export, the name= of the <Choices> tag")


def _batch_options(p):
    p.add_argument("--batch", required=True, type=positive_int, metavar="B",
                   help="how many examples to (re)label next")
    p.add_argument("--suggest-annotators", action="store_true",
                   help="add a suggested_annotator column: the best annotator (CROWDLAB "
                   "quality) who has not labeled the example yet")
    p.add_argument("--max-per-annotator", type=positive_int, metavar="N",
                   help="with --suggest-annotators, at most N picks per annotator")
    p.add_argument("--tasks-out", metavar="FILE",
                   help="also write a Label Studio import file (JSON) of the batch: each task "
                   "with its data from the export and why it was picked in meta (- for "
                   "standard output)")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def add_team_commands(subparsers):
    """Register ``score`` and ``fit`` on the subparsers of the one parser.

    Each sub-parser sets ``func(args) -> int`` (exit status).
    """
    fmt = argparse.RawDescriptionHelpFormatter
    s = subparsers.add_parser(
        "score",
        help="which examples to label or re-label next, from your own predicted probabilities",
        description="Score every example with ActiveLab from annotations and a classifier's "
        "predicted probabilities, and write the B examples to label (or re-label) next, "
        "with CROWDLAB consensus labels and annotator quality.",
        epilog=SCORE_EXAMPLE,
        formatter_class=fmt,
    )
    _annotation_options(s)
    s.add_argument("--pred-probs", required=True, metavar="FILE",
                   help="out-of-fold predicted probabilities of the annotated examples: CSV or "
                   "Parquet (an ID column and one column per class), or .npy")
    s.add_argument("--pred-probs-ids", metavar="FILE",
                   help="the example ID of each row of a .npy --pred-probs, one per line")
    s.add_argument("--unlabeled-pred-probs", metavar="FILE", nargs="+",
                   help="predicted probabilities of unlabeled examples: one CSV or .npy file "
                   "(rows without an ID column are named unlabeled:0, unlabeled:1, ...), or "
                   "Parquet files, directories or quoted globs of them ('pool/*.parquet'), "
                   "streamed in chunks with bounded memory")
    s.add_argument("--chunk-rows", type=positive_int, default=500_000, metavar="N",
                   help="rows of a Parquet pool read at a time (default: 500000); with "
                   "--scheduler, also about the rows of one task")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="score the Parquet pool on this Dask scheduler (like tcp://host:8786); "
                   "its workers must be able to read the files at the same paths")
    s.add_argument("--scheduler-timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="how long to wait for the scheduler and a worker (default: 10)")
    _batch_options(s)
    where = s.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="FILE",
                       help="the next batch as CSV (replaced if it exists; - for standard output)")
    where.add_argument("--out-dir", metavar="DIR",
                       help="directory for next_batch.csv, consensus.csv and annotators.csv")
    s.add_argument("--seed", type=seed, default=0, help="seed for majority-vote tie-breaks (default: 0)")
    s.set_defaults(func=_run_score)

    n_cpu = default_n_jobs()
    f = subparsers.add_parser(
        "fit",
        help="train a classifier on the annotations; consensus, annotator quality, next batch",
        description="Train a classifier with cross-validation on CROWDLAB consensus labels "
        "(MultiAnnotatorClassifier), then write the next batch to (re)label, the consensus "
        "label and quality of each example, and the quality of each annotator.",
        epilog=FIT_EXAMPLE,
        formatter_class=fmt,
    )
    f.add_argument("--features", required=True, metavar="FILE", help="features CSV")
    _annotation_options(f)
    f.add_argument("--model", choices=MODELS + ("logistic",), default="extratrees",
                   metavar="MODEL",
                   help="extratrees (100 trees, default), randomforest (100 trees), logreg or "
                   "logistic (standardised logistic regression), knn (10 neighbours, "
                   "standardised), mlp (one hidden layer of 100), hgb (HistGradientBoosting); "
                   "the same models as the benchmark")
    f.add_argument("--unlabeled-features", metavar="FILE",
                   help="more rows for the unlabeled pool, same feature columns")
    _batch_options(f)
    f.add_argument("--out-dir", required=True, metavar="DIR",
                   help="output directory (created if missing; its three files are replaced)")
    f.add_argument("--cv", type=at_least_two, default=5,
                   help="cross-validation folds, at least 2 (default: 5)")
    f.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    f.add_argument("--n-jobs", type=n_jobs, default=n_cpu,
                   help=f"folds fitted in parallel; -1 for all CPUs (default: {n_cpu})")
    f.set_defaults(func=_run_fit)
    return subparsers
