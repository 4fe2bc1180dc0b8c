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
    AnnotatorTable,
    Batch,
    ConsensusTable,
    check_options,
    consensus_line,
    crowd_estimates,
    pending_examples,
    pending_lines,
    pending_note,
    inputs_of,
    outputs,
    read_annotations_of,
    say_notes,
    summary_stream,
    write_outputs,
)
from ._columns import ListColumn, reading
from ._common import (TEXT_MODEL, Progress, crowd_model_arg, joblib_progress, recorded_warnings,
                      warnings_to_stderr)
from ._files import encode_labels, read_features, sorted_class_names
from ._tables import InputFileError, shown
from ._write import check_output_paths

__all__ = ["run_fit", "text_model"]


def _features(args):
    """Example IDs (a column) and features of ``--features`` and ``--unlabeled-features``."""
    feats = read_features(args.features, example_column=args.example_column,
                          text_column=args.text_column)
    ids, X = feats.ids, feats.X
    if args.unlabeled_features:
        unl = read_features(args.unlabeled_features, what="--unlabeled-features",
                            example_column=args.example_column, text_column=args.text_column)
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
    if args.text_column is None and args.model in ("logistic", "logreg", "knn", "mlp"):
        bad = np.flatnonzero(np.isnan(X).any(axis=1))
        if bad.size:
            i, n0 = int(bad[0]), feats.X.shape[0]
            path, ln = (feats.path, feats.lines[i]) if i < n0 else (unl.path, unl.lines[i - n0])
            raise InputFileError(path, int(ln), "has an empty feature cell",
                                 "Fill in missing values, or use --model extratrees, "
                                 "randomforest or hgb, which handle them.")
    return ids, X


def _export_texts(args, ann):
    """Example IDs and texts (an object array (n, 1)) of the task data field
    ``--text-field`` of a Label Studio export: every task it lists is an example."""
    if not ann.format.startswith("labelstudio"):
        raise InputFileError(ann.path, None, "is no Label Studio export, so it has no task data "
                             "for --text-field", "Give a Label Studio export (JSON, JSON-MIN or "
                             "CSV), or the texts as --features FILE --text-column NAME.")
    ids = ann.example_ids.to_list()
    data = ann.task_data or {}
    texts = [(data.get(x) or {}).get(args.text_field) for x in ids]
    bad = [k for k, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        x = ids[bad[0]]
        raise InputFileError(ann.path, int(ann.example_line[bad[0]]),
                             f"task {x!r} has no text in its data field {args.text_field!r} "
                             f"(it holds {texts[bad[0]]!r}; {len(bad)} such task(s))",
                             "Give --text-field the name of the data field holding the text "
                             "(the value= of the <Text> tag, without the $).",
                             row_label=ann.row_label)
    return ann.example_ids, np.asarray(texts, dtype=object).reshape(-1, 1)


def _no_classifier_yet(args, ann, classes):
    """The one-line route for a project without labels of two classes."""
    if not classes:
        problem = "has no label yet: a classifier needs labels of at least 2 classes"
    else:
        problem = f"has labels of one class only ({classes[0]!r}): a classifier needs 2"
    first = max(20, 2 * args.cv)
    return InputFileError(
        ann.path, None, problem,
        f"Label a first random sample of about {first} tasks (at least --cv {args.cv} "
        "labeled examples, every class you expect), then run fit again; or, with "
        "probabilities from a model you already have, rank the tasks by least confidence: "
        f"skactivelab score --annotations {ann.path} --pred-probs PROBS.csv --batch "
        f"{args.batch} --out next_batch.csv.")


def _read_fit_inputs(args):
    """``(ids, X, annotations, classes, sparse triples)``: every example of the features,
    labeled or not (``ids`` a column), and its labels as sparse triples with the class
    names."""
    if args.text_field is not None:
        ann = read_annotations_of(args)
        ids, X = _export_texts(args, ann)
    else:
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
        raise _no_classifier_yet(args, ann, classes)
    # sparse triples with the class names, so the estimator's messages name classes
    y = Annotations(
        example=rows[ann.example], annotator=ann.annotator, label=encode_labels(ann, classes),
        n_examples=len(ids), n_annotators=ann.n_annotators, n_classes=len(classes),
        classes=np.asarray(classes, dtype=object),
        annotator_ids=np.asarray(ann.annotator_ids, dtype=object))
    return ids, X, ann, classes, y


#: the model of ``fit`` on text (``--text-column``, ``--text-field``)


def text_model():
    """TF-IDF of words and word pairs (sublinear term frequencies, accents stripped) and a
    logistic regression: the standard baseline for text classification. Features are
    one column of text (shape (n, 1))."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), strip_accents="unicode")
    return make_pipeline(ColumnTransformer([("tfidf", tfidf, 0)]),
                         LogisticRegression(max_iter=1000))


def _model(args):
    return text_model() if args.model == TEXT_MODEL else make_model(args.model, args.seed)


def _fitted(args, X, y, ann, progress):
    """The fitted ``MultiAnnotatorClassifier`` and the warnings it gave."""
    from ..estimator import MultiAnnotatorClassifier

    n_labeled = int(np.unique(y.example).size)
    if n_labeled < args.cv:
        raise InputFileError(ann.path, None,
                             f"labels only {n_labeled} example(s), fewer than --cv {args.cv} folds",
                             "Label more examples or lower --cv.")
    clf = MultiAnnotatorClassifier(_model(args), cv=args.cv, random_state=args.seed,
                                   n_jobs=args.n_jobs, crowd_model=crowd_model_arg(args))
    n_pool = X.shape[0] - n_labeled
    progress(f"fitting {args.model} on {n_labeled} labeled rows ({args.cv} cross-validation "
             "folds per round, then the final model)"
             + (f", then predicting the {n_pool} unlabeled rows with the fold models" if n_pool
                else ""), force=True)
    with recorded_warnings() as caught, joblib_progress(progress, "fit"):
        clf.fit(X, y)
    return clf, caught


def _fit_results(args, clf, ids, ann, y):
    """The next batch, the consensus table and the annotator table."""
    lab_idx = np.flatnonzero(clf.labeled_mask_)
    n_ann = clf.n_annotations_
    cons_all = np.asarray(clf.consensus_labels_, dtype=object)
    lab_row = np.cumsum(clf.labeled_mask_) - 1
    sparse = Annotations(example=lab_row[y.example], annotator=y.annotator, label=y.label,
                         n_examples=lab_idx.size, n_annotators=y.n_annotators,
                         n_classes=y.n_classes, classes=np.arange(y.n_classes),
                         annotator_ids=y.annotator_ids)
    accuracy, n_labels, post = crowd_estimates(sparse, np.asarray(clf.oof_pred_probs_)[lab_idx], args.seed,
                                               shares=getattr(args, "classifier_shares", "keep"))
    codes = _class_codes(cons_all[lab_idx], np.asarray(clf.classes_, dtype=object))
    consensus_all = cons_all.copy()
    consensus_all[np.equal(cons_all, None)] = ""  # unlabeled rows
    consensus = ConsensusTable(ids.take(lab_idx), cons_all[lab_idx],
                               post[np.arange(lab_idx.size), codes],
                               clf.consensus_quality_[lab_idx],
                               clf.label_quality_.annotator_agreement, n_ann[lab_idx])
    worst = ["" if w is None or (isinstance(w, (int, np.integer)) and w == -1) else w
             for w in np.asarray(clf.worst_class_, dtype=object)]
    aq = np.asarray(clf.annotator_quality_, dtype=float)
    annotators = AnnotatorTable.build(
        list(clf.annotator_ids_), accuracy, n_labels, quality=aq,
        agreement=clf.agreement_with_consensus_, worst=worst)
    held = pending_examples(args, ann)
    skip = ids.positions_in(held) >= 0 if len(held) else None
    batch = Batch(ids, clf.active_learning_scores_, n_ann, args.batch,
                  ann_row=y.example, ann_annotator=y.annotator, annotator_ids=ann.annotator_ids,
                  consensus=consensus_all,
                  quality=clf.consensus_quality_,
                  annotator_quality=aq if args.suggest_annotators else None,
                  max_per_annotator=args.max_per_annotator, exclude=skip)
    batch.notes += pending_note(args, ann)
    return batch, consensus, annotators, held


def _summary(args, clf, ids, ann, tables, batch):
    """What ``fit`` prints: counts, the model, consensus, the annotators, the batch."""
    consensus, annotators = tables
    names = np.asarray(clf.classes_, dtype=object)
    lab_idx = np.flatnonzero(clf.labeled_mask_)
    cons_names = np.asarray(clf.consensus_labels_, dtype=object)[lab_idx]
    counts = _class_counts(cons_names, names)
    n = len(ids)
    lines = [
        f"skactivelab fit: {n} examples ({lab_idx.size} labeled, {n - lab_idx.size} unlabeled), "
        f"{ann.n_annotators} annotators, {ann.n_labels} labels, {len(names)} classes",
        f"model: {args.model}, {clf.n_splits_}-fold cross-validation, seed {args.seed}; "
        f"crowd model {getattr(args, 'crowd_model', 'crowdlab')}"
        + ("" if getattr(args, "classifier_shares", "keep") == "keep" else " (classifier's class shares removed)")
        + f"; CROWDLAB model weight {float(np.mean(clf.model_weight_)):.3f}",
        consensus_line(consensus.confidence) + "; " + ", ".join(f"{c} {k}" for c, k in zip(names, counts)),
    ]
    lines += annotators.summary()
    lines.append(f"(every annotator: {Path(args.out_dir) / 'annotators.csv'})")
    lines.append(f"next batch: {batch.summary()}")
    share = batch.share_summary()
    if share:
        lines.append(share)
    return lines


def _check_fit_options(args):
    """--features or --text-field; the model follows the kind of features."""
    text = args.text_column is not None or args.text_field is not None
    if args.text_field is not None and (args.features or args.unlabeled_features):
        raise ValueError("--text-field reads the texts from the Label Studio export: leave "
                         "--features and --unlabeled-features out (or give --features FILE "
                         "--text-column NAME instead).")
    if args.text_field is None and not args.features:
        raise ValueError("give the features: --features FILE (numeric columns, or a text "
                         "column with --text-column NAME), or --text-field NAME to read the "
                         "texts from the Label Studio export's task data.")
    if text and args.model not in (None, TEXT_MODEL):
        raise ValueError(f"--model {args.model} needs numeric features; on text, fit uses "
                         f"TF-IDF and logistic regression ({TEXT_MODEL}): leave --model out.")
    args.model = args.model or (TEXT_MODEL if text else "extratrees")


def _class_codes(values, names):
    """The position of each of ``values`` in ``names`` (distinct class names, every value one
    of them): the distinct values matched once, then spread back."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
    pos = {str(c): k for k, c in enumerate(names)}
    return np.asarray([pos[u] for u in uniq.tolist()], dtype=np.int64)[inverse.ravel()]


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
    _check_fit_options(args)
    progress = Progress(args.quiet)
    inputs = inputs_of(args, "--features", "--unlabeled-features", "--annotations")
    check_output_paths(outputs(args), inputs)
    with reading():
        ids, X, ann, classes, y = _read_fit_inputs(args)
    clf, caught = _fitted(args, X, y, ann, progress)
    t_fit = time.perf_counter() - t0
    progress("fitted; writing the outputs")
    with _collector_paused():
        batch, consensus, annotators, held = _fit_results(args, clf, ids, ann, y)
        written = write_outputs(args, inputs, batch, consensus, annotators, ann.task_data)
    say_notes(ann, batch)
    warnings_to_stderr(caught)
    lines = (_summary(args, clf, ids, ann, (consensus, annotators), batch)
             + pending_lines(batch, held))
    lines.append(f"wrote {', '.join(map(str, written))} "
                 f"in {time.perf_counter() - t0:.1f} s (fit {t_fit:.1f} s)")
    print("\n".join(lines), file=summary_stream(args))
    return 0
