"""``skactivelab fit``: features and annotations in; a cross-validated classifier, the
consensus, annotator quality and the next batch out.

File formats and rules: ``docs/command_line.md``.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .._annotations import Annotations
from .._models import make_model
from ._batch import (
    Batch,
    annotator_rows,
    check_options,
    consensus_rows,
    inputs_of,
    outputs,
    read_annotations_of,
    say_notes,
    summary_stream,
    write_outputs,
)
from ._columns import ListColumn
from ._common import Progress, joblib_progress, recorded_warnings, warnings_to_stderr
from ._files import encode_labels, read_features, sorted_class_names
from ._tables import InputFileError, shown
from ._write import check_output_paths

__all__ = ["run_fit"]


def _features(args):
    """Example IDs (a column) and features of ``--features`` and ``--unlabeled-features``."""
    feats = read_features(args.features, example_column=args.example_column)
    ids, X = feats.ids, feats.X
    if args.unlabeled_features:
        unl = read_features(args.unlabeled_features, what="--unlabeled-features",
                            example_column=args.example_column)
        if set(unl.feature_names) != set(feats.feature_names):
            diff = sorted(set(unl.feature_names) ^ set(feats.feature_names))
            raise InputFileError(unl.path, unl.header_line,
                                 f"its feature columns differ from those of {feats.path}: {diff[:5]}",
                                 "Give both files the same feature columns.")
        again = np.flatnonzero(unl.ids.positions_in(feats.ids) >= 0)
        if again.size:
            i = int(again[0])
            x = unl.ids[i]
            at = int(feats.lines[int(ListColumn([x]).positions_in(feats.ids)[0])])
            raise InputFileError(unl.path, int(unl.lines[i]),
                                 f"example ID {x!r} is also in {feats.path} (row {at})",
                                 "Every example must appear once: keep it in one file only.")
        pos = {c: j for j, c in enumerate(unl.feature_names)}
        ids = ids.concat(unl.ids)
        X = np.vstack([X, unl.X[:, [pos[c] for c in feats.feature_names]]])
    if args.model in ("logistic", "logreg", "knn", "mlp"):
        bad = np.flatnonzero(np.isnan(X).any(axis=1))
        if bad.size:
            i, n0 = int(bad[0]), feats.X.shape[0]
            path, ln = (feats.path, feats.lines[i]) if i < n0 else (unl.path, unl.lines[i - n0])
            raise InputFileError(path, int(ln), "has an empty feature cell",
                                 "Fill in missing values, or use --model extratrees, "
                                 "randomforest or hgb, which handle them.")
    return ids, X


def _read_fit_inputs(args):
    """``(ids, X, annotations, classes, sparse triples)``: every example of the features,
    labeled or not (``ids`` a column), and its labels as sparse triples with the class
    names."""
    ids, X = _features(args)
    ann = read_annotations_of(args)
    if ann.aliases:  # feature rows of tasks imported from --tasks-out: their example's row counts
        keep = ids.positions_in(ListColumn(list(ann.aliases))) < 0
        if not keep.all():
            ids, X = ids.subset(np.flatnonzero(keep)), X[keep]
    rows = ann.example_ids.positions_in(ids)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        shown_ids = shown(ann.example_ids.take(missing[:6]), total=missing.size)
        raise InputFileError(
            ann.path, int(ann.example_line[missing[0]]),
            f"example ID {ann.example_ids[int(missing[0])]!r} is not in the features "
            f"({missing.size} such ID(s): {shown_ids})",
            "Annotations must name example IDs of --features (or --unlabeled-features) exactly.",
            row_label=ann.row_label)
    classes = sorted_class_names(ann.label_names)
    if len(classes) < 2:
        raise InputFileError(ann.path, None,
                             f"uses {len(classes)} class(es) {classes}; a classifier needs at least 2",
                             "Add annotations of at least two classes.")
    # sparse triples with the class names, so the estimator's messages name classes
    y = Annotations(
        example=rows[ann.example], annotator=ann.annotator, label=encode_labels(ann, classes),
        n_examples=len(ids), n_annotators=ann.n_annotators, n_classes=len(classes),
        classes=np.asarray(classes, dtype=object),
        annotator_ids=np.asarray(ann.annotator_ids, dtype=object))
    return ids, X, ann, classes, y


def _fitted(args, X, y, ann, progress):
    """The fitted ``MultiAnnotatorClassifier`` and the warnings it gave."""
    from ..estimator import MultiAnnotatorClassifier

    n_labeled = int(np.unique(y.example).size)
    if n_labeled < args.cv:
        raise InputFileError(ann.path, None,
                             f"labels only {n_labeled} example(s), fewer than --cv {args.cv} folds",
                             "Label more examples or lower --cv.")
    clf = MultiAnnotatorClassifier(make_model(args.model, args.seed), cv=args.cv,
                                   random_state=args.seed, n_jobs=args.n_jobs)
    n_pool = X.shape[0] - n_labeled
    progress(f"fitting {args.model} on {n_labeled} labeled rows ({args.cv} cross-validation "
             "folds per round, then the final model)"
             + (f", then predicting the {n_pool} unlabeled rows with the fold models" if n_pool
                else ""), force=True)
    with recorded_warnings() as caught, joblib_progress(progress, "fit"):
        clf.fit(X, y)
    return clf, caught


def _fit_results(args, clf, ids, ann, y):
    """The next batch and the rows of consensus.csv and annotators.csv."""
    lab_idx = np.flatnonzero(clf.labeled_mask_)
    n_ann = clf.n_annotations_
    cons_all = np.asarray(clf.consensus_labels_, dtype=object)
    consensus = cons_all.copy()
    consensus[np.equal(cons_all, None)] = ""  # unlabeled rows
    cons_rows = consensus_rows(ids.take(lab_idx), cons_all[lab_idx],
                               clf.consensus_quality_[lab_idx],
                               clf.label_quality_.annotator_agreement, n_ann[lab_idx])
    worst = ["" if w is None or (isinstance(w, (int, np.integer)) and w == -1) else w
             for w in np.asarray(clf.worst_class_, dtype=object)]
    aq = np.asarray(clf.annotator_quality_, dtype=float)
    annot_rows = annotator_rows(list(clf.annotator_ids_), aq, clf.agreement_with_consensus_,
                                worst, clf.num_examples_labeled_)
    batch = Batch(ids, clf.active_learning_scores_, n_ann, args.batch,
                  ann_row=y.example, ann_annotator=y.annotator, annotator_ids=ann.annotator_ids,
                  consensus=consensus,
                  quality=clf.consensus_quality_,
                  annotator_quality=aq if args.suggest_annotators else None,
                  max_per_annotator=args.max_per_annotator)
    return batch, cons_rows, annot_rows


def _summary(args, clf, ids, ann, annot_rows, batch):
    """What ``fit`` prints: counts, the model, consensus, the annotators, the batch."""
    names = np.asarray(clf.classes_, dtype=object)
    lab_idx = np.flatnonzero(clf.labeled_mask_)
    cons_names = np.asarray(clf.consensus_labels_, dtype=object)[lab_idx]
    quality = clf.consensus_quality_[lab_idx]
    counts = _class_counts(cons_names, names)
    n = len(ids)
    lines = [
        f"skactivelab fit: {n} examples ({lab_idx.size} labeled, {n - lab_idx.size} unlabeled), "
        f"{ann.n_annotators} annotators, {ann.n_labels} labels, {len(names)} classes",
        f"model: {args.model}, {clf.n_splits_}-fold cross-validation, seed {args.seed}; "
        f"CROWDLAB model weight {float(np.mean(clf.model_weight_)):.3f}",
        f"consensus: mean quality {np.mean(quality):.3f}; {int((quality < 0.5).sum())} "
        "example(s) below 0.5; " + ", ".join(f"{c} {k}" for c, k in zip(names, counts)),
    ]
    shown_rows = [r for r in annot_rows if r[1] != ""][:3]
    lines.append("annotators, worst first: " + "; ".join(
        f"{r[0]} quality {float(r[1] or 'nan'):.3f}, agreement {float(r[2] or 'nan'):.3f}, "
        f"worst class {r[3] or '-'}, {r[4]} labels" for r in shown_rows)
        + (f"; ... ({len(annot_rows)} in {Path(args.out_dir) / 'annotators.csv'})"
           if len(annot_rows) > 3 else ""))
    rated = [r for r in annot_rows if r[1] != ""]
    if rated:
        r = rated[-1]
        lines.append(f"best annotator: {r[0]} quality {float(r[1] or 'nan'):.3f}, {r[4]} labels")
    lines.append(f"next batch: {batch.summary()}")
    return lines


def _class_counts(values, names):
    """How many of ``values`` are each of ``names`` (distinct class names): the distinct
    values counted at once, then matched to the names."""
    if not len(values):
        return np.zeros(len(names), dtype=np.int64)
    uniq, count = np.unique(np.asarray(values).astype(str), return_counts=True)
    found = dict(zip(uniq.tolist(), count.tolist()))
    return np.asarray([found.get(str(c), 0) for c in names], dtype=np.int64)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector paused: the rows of consensus.csv are a list per
    labeled example, and a collection every few hundred of them would walk every object of
    the process (they hold no reference cycle)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_fit(args):
    """``skactivelab fit``: check, read, fit, write; returns the exit status."""
    t0 = time.perf_counter()
    check_options(args)
    progress = Progress(args.quiet)
    inputs = inputs_of(args, "--features", "--unlabeled-features", "--annotations")
    check_output_paths(outputs(args), inputs)
    ids, X, ann, classes, y = _read_fit_inputs(args)
    clf, caught = _fitted(args, X, y, ann, progress)
    t_fit = time.perf_counter() - t0
    progress("fitted; writing the outputs")
    with _collector_paused():
        batch, cons_rows, annot_rows = _fit_results(args, clf, ids, ann, y)
        written = write_outputs(args, inputs, batch, cons_rows, annot_rows, ann.task_data)
    say_notes(ann, batch)
    warnings_to_stderr(caught)
    lines = _summary(args, clf, ids, ann, annot_rows, batch)
    lines.append(f"wrote {', '.join(map(str, written))} "
                 f"in {time.perf_counter() - t0:.1f} s (fit {t_fit:.1f} s)")
    print("\n".join(lines), file=summary_stream(args))
    return 0
