"""``skactivelab score`` and ``skactivelab fit``: a team's annotation files in, the next batch out.

File formats and rules: ``docs/command_line.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .._annotations import Annotations
from ._common import (
    MODELS,
    default_n_jobs,
    make_model,
    n_jobs,
    positive_int,
    recorded_warnings,
    seed,
    warnings_to_stderr,
)
from ._files import (
    InputFileError,
    OutputPathError,
    align_pred_probs,
    check_output_paths,
    encode_labels,
    format_csv,
    read_annotations,
    read_features,
    read_pred_probs,
    sorted_class_names,
    write_files_atomically,
)

__all__ = ["add_team_commands", "main"]

NEXT_BATCH_COLUMNS = ("rank", "example_id", "score", "relabel", "num_annotations")
CONSENSUS_COLUMNS = ("example_id", "consensus_label", "consensus_quality", "annotator_agreement",
                     "num_annotations")
ANNOTATOR_COLUMNS = ("annotator_id", "annotator_quality", "agreement_with_consensus", "worst_class",
                     "num_examples_labeled")

SCORE_EXAMPLE = """\
files:
  --annotations  long CSV (example_id,annotator_id,label; one row per label) or wide CSV
                 (first column the example ID, one column per annotator, empty = no label)
  --pred-probs   CSV with one column per class named by class (plus an optional example_id
                 column to align rows by ID), or .npy; without IDs, rows follow the order in
                 which examples first appear in --annotations
  --out          CSV: rank,example_id,score,relabel,num_annotations (lowest scores first)

example:
  skactivelab score --annotations annotations.csv --pred-probs oof_probs.csv \\
      --unlabeled-pred-probs pool_probs.csv --batch 100 --out next_batch.csv

Details: docs/command_line.md. Exit status 2 on a malformed file; nothing is written then.
"""

FIT_EXAMPLE = """\
files:
  --features     CSV: example_id column (else the first column) + numeric feature columns;
                 rows without annotations are the unlabeled pool
  --annotations  long or wide CSV naming the example IDs of --features
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


def _next_batch_rows(ids, scores, n_annotations, batch):
    """The ``batch`` lowest scores (stable order on ties), as CSV rows."""
    order = np.argsort(scores, kind="stable")[:batch]
    return [
        [rank, ids[i], _fmt_float(scores[i]), "true" if n_annotations[i] > 0 else "false",
         int(n_annotations[i])]
        for rank, i in enumerate(order, start=1)
    ]


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


def _summary_batch(rows):
    n_re = sum(r[3] == "true" for r in rows)
    return f"{len(rows)} examples: {n_re} re-label(s), {len(rows) - n_re} first label(s)"


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


def _run_score(args):
    from ..activelab import get_active_learning_scores

    inputs = _inputs(args, "--annotations", "--pred-probs", "--unlabeled-pred-probs")
    check_output_paths({args.out: "--out"}, inputs)
    ann = read_annotations(args.annotations, args.format, example_column=args.example_column)
    tab = read_pred_probs(args.pred_probs, class_names=set(ann.label.tolist()),
                          id_column=args.example_column)
    classes, codes, P, extra_ids, P_extra = align_pred_probs(ann, tab)
    n_per = ann.num_annotations()
    labeled = n_per > 0
    ex_ids = ann.example_ids
    where = {x: f"in {ann.path} (row {int(ann.example_line[i])})" for i, x in enumerate(ex_ids)}
    pool_ids = [x for x, lab in zip(ex_ids, labeled) if not lab] + list(extra_ids)
    pool_P = [P[~labeled], P_extra]
    if args.unlabeled_pred_probs:
        utab = read_pred_probs(args.unlabeled_pred_probs, what="--unlabeled-pred-probs",
                               class_names=set(classes), id_column=args.example_column)
        U = _unlabeled_probs(utab, classes, tab)
        if utab.ids is None:
            u_ids = [f"unlabeled:{i}" for i in range(U.shape[0])]
        else:
            u_ids = utab.ids
        if tab.ids is not None:
            where.update({x: f"in {tab.path}" for x in extra_ids})
        _duplicate_check(where, u_ids, utab.path, utab.lines, utab.row_label)
        pool_ids += u_ids
        pool_P.append(U)
    U_all = np.concatenate(pool_P)

    lab_idx = np.flatnonzero(labeled)
    new_row = np.cumsum(labeled) - 1
    # sparse triples, never an examples x annotators matrix
    sparse = Annotations(
        example=new_row[ann.example], annotator=ann.annotator, label=codes,
        n_examples=int(lab_idx.size), n_annotators=ann.n_annotators, n_classes=len(classes),
        classes=np.arange(len(classes)), annotator_ids=np.asarray(ann.annotator_ids, dtype=object))
    with recorded_warnings() as caught:
        s_lab, s_unl = get_active_learning_scores(
            sparse if lab_idx.size else None,
            P[lab_idx] if lab_idx.size else None,
            U_all if U_all.shape[0] else None,
            random_state=args.seed,
        )
    ids = [ex_ids[i] for i in lab_idx] + pool_ids
    scores = np.concatenate([s_lab, s_unl])
    n_ann = np.concatenate([n_per[lab_idx], np.zeros(len(pool_ids), dtype=np.int64)])
    rows = _next_batch_rows(ids, scores, n_ann, args.batch)
    write_files_atomically({args.out: format_csv(NEXT_BATCH_COLUMNS, rows)}, inputs=inputs)
    warnings_to_stderr(caught)
    print(
        f"scored {lab_idx.size} labeled and {len(pool_ids)} unlabeled examples "
        f"({ann.n_annotators} annotators, {len(classes)} classes, {ann.label.size} labels)\n"
        f"next batch: {_summary_batch(rows)}; scores {_fmt_float(scores.min())} .. "
        f"{_fmt_float(scores[np.argsort(scores, kind='stable')[len(rows) - 1]])}\n"
        f"wrote {args.out}"
    )
    return 0


# --------------------------------------------------------------------------- fit
def _read_fit_inputs(args):
    feats = read_features(args.features, example_column=args.example_column)
    ids, X, lines = list(feats.ids), feats.X, [(feats.path, feats.lines)]
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
                                 "Fill in missing values, or use --model extratrees, randomforest or hgb, "
                                 "which handle them.")
    ann = read_annotations(args.annotations, args.format, example_column=args.example_column)
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
            "Annotations must name example IDs of --features (or --unlabeled-features) exactly.")
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
    out = Path(args.out_dir)
    inputs = _inputs(args, "--features", "--unlabeled-features", "--annotations")
    outputs = {out / name: "--out-dir" for name in ("next_batch.csv", "consensus.csv",
                                                    "annotators.csv")}
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"--out-dir {out} is a file; give a directory (it is created if "
                              "missing). Nothing was written.")
    check_output_paths(outputs, inputs)
    ids, X, ann, classes, y = _read_fit_inputs(args)
    n_labeled = int(np.unique(y.example).size)
    if n_labeled < args.cv:
        raise InputFileError(ann.path, None,
                             f"labels only {n_labeled} example(s), fewer than --cv {args.cv} folds",
                             "Label more examples or lower --cv.")
    clf = MultiAnnotatorClassifier(make_model(args.model, args.seed), cv=args.cv,
                                   random_state=args.seed, n_jobs=args.n_jobs)
    with recorded_warnings() as caught:
        clf.fit(X, y)
    t_fit = time.perf_counter() - t0

    names = np.asarray(clf.classes_, dtype=object)
    lab = clf.labeled_mask_
    n_ann = clf.n_annotations_
    scores = clf.active_learning_scores_
    batch_rows = _next_batch_rows(ids, scores, n_ann, args.batch)

    lab_idx = np.flatnonzero(lab)
    cons_names = np.asarray(clf.consensus_labels_, dtype=object)[lab_idx]
    agreement = clf.label_quality_.annotator_agreement
    quality = clf.consensus_quality_[lab_idx]
    consensus_rows = [
        [ids[i], cons_names[r], _fmt_float(quality[r]), _fmt_float(agreement[r]), int(n_ann[i])]
        for r, i in enumerate(lab_idx)
    ]

    aq = np.asarray(clf.annotator_quality_, dtype=float)
    order = np.argsort(np.where(np.isnan(aq), np.inf, aq), kind="stable")  # worst first
    worst = np.asarray(clf.worst_class_, dtype=object)
    annot_rows = []
    for j in order:
        w = worst[j]
        annot_rows.append([
            clf.annotator_ids_[j], _fmt_float(aq[j]),
            _fmt_float(clf.agreement_with_consensus_[j]),
            "" if w is None or (isinstance(w, (int, np.integer)) and w == -1) else w,
            int(clf.num_examples_labeled_[j]),
        ])

    write_files_atomically({
        out / "next_batch.csv": format_csv(NEXT_BATCH_COLUMNS, batch_rows),
        out / "consensus.csv": format_csv(CONSENSUS_COLUMNS, consensus_rows),
        out / "annotators.csv": format_csv(ANNOTATOR_COLUMNS, annot_rows),
    }, inputs=inputs)
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
    lines.append(f"next batch: {_summary_batch(batch_rows)}")
    lines.append(f"wrote {out / 'next_batch.csv'}, {out / 'consensus.csv'}, {out / 'annotators.csv'} "
                 f"in {time.perf_counter() - t0:.1f} s (fit {t_fit:.1f} s)")
    print("\n".join(lines))
    return 0


def add_team_commands(subparsers):
    """Register ``score`` and ``fit`` on an argparse subparsers object.

    Each sub-parser sets ``func``: a handler ``func(args) -> int`` (exit status).
    """
    fmt = argparse.RawDescriptionHelpFormatter
    s = subparsers.add_parser(
        "score",
        help="which examples to label or re-label next, from your own predicted probabilities",
        description="Score every example with ActiveLab from annotations and a classifier's "
        "predicted probabilities, and write the B examples to label (or re-label) next.",
        epilog=SCORE_EXAMPLE,
        formatter_class=fmt,
    )
    s.add_argument("--annotations", required=True, metavar="FILE",
                   help="annotations CSV, long or wide format")
    s.add_argument("--pred-probs", required=True, metavar="FILE",
                   help="out-of-fold predicted probabilities of the annotated examples (CSV or .npy)")
    s.add_argument("--unlabeled-pred-probs", metavar="FILE",
                   help="predicted probabilities of unlabeled examples (CSV or .npy); rows "
                   "without an example_id column are named unlabeled:0, unlabeled:1, ...")
    s.add_argument("--batch", required=True, type=positive_int, metavar="B",
                   help="how many examples to (re)label next")
    s.add_argument("--out", required=True, metavar="FILE", help="output CSV (replaced if it exists)")
    s.add_argument("--format", choices=("auto", "long", "wide"), default="auto",
                   help="annotations format (default: auto)")
    s.add_argument("--seed", type=seed, default=0, help="seed for majority-vote tie-breaks (default: 0)")
    s.add_argument("--example-column", metavar="NAME",
                   help="name of the example-ID column of the annotations (long format) and "
                   "of the probability files, when it is not one of the usual names or a "
                   "usual name is also a class")
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
    f.add_argument("--annotations", required=True, metavar="FILE",
                   help="annotations CSV, long or wide format")
    f.add_argument("--model", choices=MODELS + ("logistic",), default="extratrees",
                   metavar="MODEL",
                   help="extratrees (100 trees, default), randomforest (100 trees), logreg or "
                   "logistic (standardised logistic regression), knn (10 neighbours, "
                   "standardised), mlp (one hidden layer of 100), hgb (HistGradientBoosting); "
                   "the same models as the benchmark")
    f.add_argument("--unlabeled-features", metavar="FILE",
                   help="more rows for the unlabeled pool, same feature columns")
    f.add_argument("--batch", required=True, type=positive_int, metavar="B",
                   help="how many examples to (re)label next")
    f.add_argument("--out-dir", required=True, metavar="DIR",
                   help="output directory (created if missing; its three files are replaced)")
    f.add_argument("--format", choices=("auto", "long", "wide"), default="auto",
                   help="annotations format (default: auto)")
    f.add_argument("--cv", type=positive_int, default=5, help="cross-validation folds (default: 5)")
    f.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    f.add_argument("--example-column", metavar="NAME",
                   help="name of the example-ID column of the features and annotations files")
    f.add_argument("--n-jobs", type=n_jobs, default=n_cpu,
                   help=f"folds fitted in parallel (default: {n_cpu})")
    f.set_defaults(func=_run_fit)
    return subparsers
