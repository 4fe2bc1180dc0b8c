"""``skactivelab score``: annotations and a classifier's probabilities in, the next batch out.

File formats and rules: ``docs/command_line.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace
from pathlib import Path

import numpy as np

from .._annotations import Annotations
from .._validation import arrays_handed_over
from ._batch import (
    AnnotatorTable,
    Batch,
    ConsensusTable,
    check_options,
    consensus_line,
    crowd_estimates,
    fmt_float,
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
from ._columns import ListColumn, consecutive, held_on_disk, reading, release_freed
from ._common import Progress, crowd_model_arg, recorded_warnings, warnings_to_stderr
from ._labelstudio import LabelColumnError
from ._pool import is_parquet_pool, plan_pool, resolve_pool_files, score_pool
from ._probs import align_pred_probs, read_pred_probs
from ._tables import InputFileError, shown
from ._write import check_output_paths

__all__ = ["ScoreResults", "run_score", "score_results"]


# --------------------------------------------------------------------------- reading
def _read_annotations_for_score(args, read=None):
    """The annotations (``read(classes=None)``, else the ``--annotations`` file); when
    several columns of a Label Studio export could hold the class, the class names of
    --pred-probs (its columns) pick the one holding only classes."""
    read = read or (lambda classes=None: read_annotations_of(args, classes=classes))
    try:
        return read()
    except LabelColumnError as exc:
        try:
            tab = read_pred_probs(args.pred_probs, id_column=args.example_column,
                                  ids_path=args.pred_probs_ids, usual_id_columns=("id",))
        except InputFileError:
            raise exc from None
        if tab.classes is None:
            raise
        return read(classes=set(tab.classes))


@dataclass
class _Inputs:
    """What ``score`` read: the annotations, the probabilities of their examples (``P``,
    one row per example, class codes ``codes`` of the labels), and the pool held in memory
    (``pool_ids``, ``U``: examples without a label, rows of ``--pred-probs`` that name no
    example, one CSV/.npy ``--unlabeled-pred-probs``). ``U`` may be a view of the rows of
    ``tab.probs``; it is scored in place (overwritten) and then dropped."""

    ann: object
    tab: object
    classes: list
    codes: np.ndarray
    P: np.ndarray
    labeled: np.ndarray
    extra_ids: object  # rows of --pred-probs that name no example of the annotations
    pool_ids: object
    U: np.ndarray
    usual: tuple
    #: ``(sparse triples, probabilities)`` of the labeled examples (:func:`_labeled_parts`)
    labeled_parts: tuple | None = None
    #: :func:`crowd_estimates` of the labeled examples, the posterior at the consensus only
    estimates: tuple | None = None
    #: notes on rows of --pred-probs (:func:`_copy_rows_note`, :func:`_pool_rows_note`),
    #: made while its IDs are held
    notes: list = ()

    def known_ids(self):
        """Every example ID named so far (annotations, then --pred-probs)."""
        return self.ann.example_ids.concat(self.extra_ids)

    def where(self, x):
        """Where example ID ``x`` is named (for a message)."""
        i = int(ListColumn([x]).positions_in(self.ann.example_ids)[0])
        if i >= 0:
            return f"in {self.ann.path} ({self.ann.row_label} {int(self.ann.example_line[i])})"
        return f"in {self.tab.path}"


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


def _read_unlabeled(args, inputs):
    """The one CSV/.npy ``--unlabeled-pred-probs`` file: its IDs (``unlabeled:0``, ... for
    rows without) and probabilities in the class order of ``--pred-probs``."""
    utab = read_pred_probs(args.unlabeled_pred_probs[0], what="--unlabeled-pred-probs",
                           class_names=set(inputs.classes), id_column=args.example_column,
                           usual_id_columns=inputs.usual)
    U = _unlabeled_probs(utab, inputs.classes, inputs.tab)
    ids = held_on_disk(utab.ids) if utab.ids is not None else ListColumn(
        [f"unlabeled:{i}" for i in range(U.shape[0])])
    again = np.flatnonzero(ids.positions_in(inputs.known_ids()) >= 0)
    if again.size:
        x = ids[int(again[0])]
        raise InputFileError(utab.path, int(utab.lines[again[0]]),
                             f"example ID {x!r} is also {inputs.where(x)}",
                             "Every example must appear once: keep it in one file only.",
                             row_label=utab.row_label)
    return ids, U


def _read_score_inputs(args, progress, streamed, read=None):
    """The annotations (``read``: see :func:`_read_annotations_for_score`), their
    probabilities, and the pool held in memory (read with :func:`reading`'s allocator
    settings)."""
    with reading():
        inputs = _read_inputs(args, progress, streamed, read)
    release_freed()  # what the reading freed, in holes the scoring's arrays do not fit
    return inputs


def _read_inputs(args, progress, streamed, read):
    ann = _read_annotations_for_score(args, read)
    progress(f"read {ann.n_labels} labels of {ann.n_examples} examples from {ann.path}")
    usual = ("id",) if ann.format.startswith("labelstudio") else ()
    tab = read_pred_probs(args.pred_probs, class_names=set(ann.label_names),
                          id_column=args.example_column, ids_path=args.pred_probs_ids,
                          usual_id_columns=usual)
    classes, codes, P, extra_ids, P_extra = align_pred_probs(ann, tab)
    # the labels as codes of the classes (column order of the probabilities): the scoring's
    # codes, not a second array of them; the example IDs, written out only at the end, held
    # in a temporary file while the scoring runs
    ann = replace(ann, label_code=codes, label_names=list(classes),
                  example_ids=held_on_disk(ann.example_ids))
    extra_ids = held_on_disk(extra_ids)
    labeled = ann.num_annotations() > 0
    unlabeled = np.flatnonzero(~labeled)
    inputs = _Inputs(ann, tab, classes, codes, P, labeled, extra_ids,
                     ann.example_ids.subset(unlabeled).concat(extra_ids),
                     _stacked(P[unlabeled], P_extra), usual)
    # the notes on its rows, then the file's IDs and line numbers are dropped (read by
    # nothing after): the pool's IDs (a part of them) stay, the others are freed
    inputs.notes = _copy_rows_note(ann, tab) + _pool_rows_note(ann, tab)
    inputs.tab = replace(tab, ids=None, lines=None)
    del tab
    if args.unlabeled_pred_probs and not streamed:
        ids, U = _read_unlabeled(args, inputs)
        inputs.pool_ids = inputs.pool_ids.concat(ids)
        inputs.U = _stacked(inputs.U, U)
    return inputs


def _stacked(A, B):
    """The rows of ``A`` then those of ``B``; one of them itself (no copy) when the other
    has no row (as when every example of the annotations has a label, and the pool is
    the other rows of the probability file)."""
    if not A.shape[0]:
        return B
    if not B.shape[0]:
        return A
    return np.concatenate([A, B])


# --------------------------------------------------------------------------- scoring
def _crowdlab_for_score(sparse, P_lab, seed):
    """CROWDLAB consensus and annotator quality of the labeled examples (single-label case:
    the label itself, as the estimator does)."""
    from ..crowdlab import label_quality

    return label_quality(sparse, P_lab, random_state=seed, one_label="label")[0]


def _sparse_labeled(inputs):
    """The labels as sparse triples over the labeled examples (never a matrix)."""
    ann = inputs.ann
    if inputs.labeled.all():  # the examples are the labeled ones: rows unchanged
        example = _read_only(ann.example)
    else:
        example = (np.cumsum(inputs.labeled) - 1)[ann.example]
    return Annotations(
        example=example, annotator=_read_only(ann.annotator), label=_read_only(inputs.codes),
        n_examples=int(inputs.labeled.sum()), n_annotators=ann.n_annotators,
        n_classes=len(inputs.classes), classes=np.arange(len(inputs.classes)),
        annotator_ids=np.asarray(ann.annotator_ids, dtype=object))


def _read_only(a):
    """A read-only view of ``a``: the scoring reads the arrays of the command, never
    writes into them (a write would raise)."""
    view = a.view()
    view.flags.writeable = False
    return view


def _labeled_parts(inputs):
    """``(sparse triples, probabilities)`` of the labeled examples, made once: the
    probabilities a read-only view of ``inputs.P`` when the labeled examples are a run
    of its rows (else a copy of theirs)."""
    if inputs.labeled_parts is None:
        lab_idx = np.flatnonzero(inputs.labeled)
        run = consecutive(lab_idx)
        P_lab = None if not lab_idx.size else _read_only(
            inputs.P[lab_idx] if run is None else inputs.P[run.start:run.stop])
        inputs.labeled_parts = (_sparse_labeled(inputs), P_lab)
    return inputs.labeled_parts


def _fit_labeled(args, sparse, P_lab):
    """Phase 1 of ``--crowd-model`` on the labeled examples (None: no labeled example) and
    the random generator of the scoring (seeded by ``--seed``)."""
    from sklearn.utils import check_random_state

    from ..activelab import fit_labeled_inputs
    from ..crowd_models import check_crowd_model

    rng = check_random_state(args.seed)
    model = check_crowd_model(crowd_model_arg(args))
    return fit_labeled_inputs(sparse, P_lab, crowd_model=model, rng=rng)[0], rng


def _score_in_memory(args, sparse, P_lab, U):
    """``(fitted, scores of the labeled examples, of the pool U or None)``, as
    :func:`~skactivelab.get_active_learning_scores` gives them."""
    from .._phases import score_rows

    if P_lab is None and U is None:
        raise ValueError("Nothing to score: no labeled example and no unlabeled one.")
    fitted, rng = _fit_labeled(args, sparse, P_lab)
    s_unl = np.empty(0) if U is None else score_rows(fitted, U, rng=rng, name="pred_probs_unlabeled")
    return fitted, fitted.scores_labeled, s_unl


def _stream_pool(args, files, inputs, sparse, P_lab, client, progress):
    """The labeled phase, the scores of the labeled examples and the in-memory pool, and the
    batch lowest of the streamed Parquet pool (its columns checked before any scoring)."""
    from .._phases import score_rows

    classes = inputs.classes
    spec, pieces, n_rows = plan_pool(
        files, option="--unlabeled-pred-probs", classes=list(classes),
        by_position=inputs.tab.classes is None, labeled_path=inputs.tab.path,
        class_names=set(classes), id_column=args.example_column, usual=inputs.usual,
        stats=None, known_ids=inputs.known_ids().to_list(), batch=args.batch,
        chunk_rows=args.chunk_rows, piece_rows=None if client is None else args.chunk_rows)
    fitted = _fit_labeled(args, sparse, P_lab)[0]
    s_lab, spec.stats = fitted.scores_labeled, fitted
    U = inputs.U  # checked by the reader, ours, and not read again: scored in place
    s_mem = score_rows(fitted, U[None]) if U.shape[0] else np.empty(0)
    where_run = "on the Dask cluster" if client is not None else "in chunks"
    progress(f"scoring {n_rows:,} pool rows of {len(pieces) if client else len(files)} "
             f"Parquet piece(s) {where_run}", force=n_rows >= 10**6)
    pool = score_pool(spec, pieces, where=inputs.where, client=client, address=args.scheduler,
                      progress=progress)
    return fitted, s_lab, s_mem, pool


def _scores(args, inputs, pool_files, client, progress):
    """``(scores of the labeled examples, of the pool, pool IDs, pool size, consensus)``; the
    consensus is CROWDLAB's result with, when ``--crowd-model`` decides the consensus, every
    column that depends on it from that model."""
    n_lab = int(np.count_nonzero(inputs.labeled))  # (no positions held while scoring)
    sparse, P_lab = _labeled_parts(inputs)
    pool_ids, n_pool = inputs.pool_ids, len(inputs.pool_ids)
    if pool_files is None:
        progress(f"scoring {n_lab} labeled and {n_pool} unlabeled examples")
        # the arrays are the command's own, checked by the same rule: the scoring uses them
        # without a copy (the labeled rows read-only; the pool's rows are not read again
        # and are scored in place, as a streamed pool's are)
        U = inputs.U if n_pool else None
        with arrays_handed_over(P_lab, U):
            fitted, s_lab, s_unl = _score_in_memory(args, sparse if n_lab else None, P_lab, U)
        del U
    else:
        fitted, s_lab, s_unl, pool = _stream_pool(args, pool_files, inputs,
                                                  sparse if n_lab else None, P_lab, client,
                                                  progress)
        # the streamed pool's batch lowest follow every other row (ties keep input order)
        pool_ids = pool_ids.concat(ListColumn(pool.ids))
        s_unl = np.concatenate([s_unl, pool.scores])
        n_pool += pool.n_rows
    res = None
    if n_lab:
        release_freed()  # the scoring's working arrays, before the labeled rows are copied
        sparse, P_lab = _pool_scored(inputs)
        fitted = _holding(fitted, P_lab)
        release_freed()  # the file's matrix and ActiveLab's working arrays
        # CROWDLAB first: of its results only the columns of the tables are kept (the
        # crowd model's posterior is not held yet while they are made, and only its
        # value at the consensus is kept after)
        with arrays_handed_over(P_lab):
            res = _crowdlab_for_score(sparse, P_lab, args.seed)
        if fitted.decides_consensus:
            res = fitted.consensus(res)[0]
        res = _consensus_fields(res)
        release_freed()  # CROWDLAB's working arrays (its posterior, per-label scores)
        with arrays_handed_over(P_lab):  # the crowd model's fit reads them without a copy
            accuracy, n_labels, post = crowd_estimates(sparse, P_lab, args.seed, fitted,
                                                       shares=getattr(args, "classifier_shares", "keep"))
        codes = np.asarray(res.consensus_label, dtype=np.int64)
        inputs.estimates = accuracy, n_labels, post[np.arange(codes.size), codes]
        del post
        release_freed()  # the crowd model's posterior and working arrays
    return s_lab, s_unl, pool_ids, n_pool, res


def _holding(fitted, P_lab):
    """``fitted`` with ``P_lab`` as the probabilities it was fitted on (the same values, an
    array of their own after :func:`_pool_scored`): it no longer holds the rows of the
    file's matrix, which is then freed."""
    if fitted.pred_probs is None or P_lab is None:
        return fitted
    return replace(fitted, pred_probs=P_lab[None])


def _pool_scored(inputs):
    """Once the pool is scored, its rows are no longer needed: the probabilities of the
    labeled examples become an array of their own when they are a small part of the
    file's matrix (or were gathered into one already), and the matrix is freed. Returns
    :func:`_labeled_parts`."""
    sparse, P_lab = _labeled_parts(inputs)
    whole = inputs.tab.probs
    inputs.U = None
    if P_lab is None or whole is None:
        return sparse, P_lab
    if not np.may_share_memory(P_lab, whole):  # (gathered): the matrix held only the pool
        inputs.P, inputs.tab = None, replace(inputs.tab, probs=None)
        return sparse, P_lab
    if 2 * P_lab.nbytes > whole.nbytes:
        return sparse, P_lab
    inputs.labeled_parts = sparse, _read_only(np.array(P_lab))
    inputs.P, inputs.tab = None, replace(inputs.tab, probs=None)
    return inputs.labeled_parts


#: what the tables of ``score`` use of CROWDLAB's results
_CONSENSUS_FIELDS = ("consensus_label", "consensus_quality_score", "annotator_agreement",
                     "worst_class", "annotator_quality", "agreement_with_consensus")


def _consensus_fields(res):
    """The fields of CROWDLAB's results that the tables use (the posterior and the
    quality of every label are freed)."""
    return SimpleNamespace(**{name: getattr(res, name) for name in _CONSENSUS_FIELDS})


# --------------------------------------------------------------------------- results
@dataclass
class ScoreResults:
    """What one scoring gives, for ``score``'s files and ``labelstudio round`` alike.

    ``ids``, ``scores`` and ``n_annotations`` cover every example scored (labeled first,
    then the pool); ``batch`` is the next batch (pending examples left out);
    ``consensus`` and ``annotators`` are None before the first label.
    """

    ann: object
    classes: list
    ids: object
    scores: np.ndarray
    n_annotations: np.ndarray
    n_labeled: int
    n_pool: int
    batch: Batch
    consensus: ConsensusTable | None
    annotators: AnnotatorTable | None
    pending: object  # example IDs left out of the batch (handed out, not answered)


def _tables(inputs, res):
    """The consensus and annotator tables of the labeled examples (the crowd model's
    estimates made by :func:`_scores`)."""
    ann, names = inputs.ann, np.asarray(inputs.classes, dtype=object)
    lab_idx = np.flatnonzero(inputs.labeled)
    codes = np.asarray(res.consensus_label, dtype=np.int64)
    accuracy, n_labels, confidence = inputs.estimates
    consensus = ConsensusTable(ann.example_ids.subset(lab_idx), names[codes],
                               confidence, res.consensus_quality_score,
                               res.annotator_agreement, ann.num_annotations()[lab_idx])
    worst = np.asarray(res.worst_class)
    annotators = AnnotatorTable.build(
        ann.annotator_ids, accuracy, n_labels, quality=res.annotator_quality,
        agreement=res.agreement_with_consensus,
        worst=np.where(worst >= 0, names[np.maximum(worst, 0)], ""))
    return consensus, annotators


def _results(args, inputs, res, s_lab, s_unl, pool_ids, exclude):
    """The next batch, and the consensus and annotator tables."""
    ann = inputs.ann
    lab_idx = np.flatnonzero(inputs.labeled)
    n_pool, n_per = len(pool_ids), ann.num_annotations()
    consensus, quality = _Padded(np.empty(0, dtype=object), n_pool, ""), \
        _Padded(np.empty(0), n_pool, np.float64(np.nan))
    aq = np.full(ann.n_annotators, np.nan)
    tables = (None, None)
    if res is not None:
        tables = _tables(inputs, res)
        inputs.estimates = None  # the tables hold what they need of it
        consensus = _Padded(tables[0].label, n_pool, "")
        quality = _Padded(np.asarray(res.consensus_quality_score, dtype=np.float64), n_pool,
                          np.float64(np.nan))
        aq = np.asarray(res.annotator_quality, dtype=float)
    ids = ann.example_ids.subset(lab_idx).concat(pool_ids)
    n_ann = np.concatenate([n_per[lab_idx], np.zeros(n_pool, dtype=np.int64)])
    skip = None if exclude is None else ids.positions_in(exclude) >= 0
    ann_row = ann.example if inputs.labeled.all() else (np.cumsum(inputs.labeled) - 1)[ann.example]
    batch = Batch(ids, np.concatenate([s_lab, s_unl]), n_ann, args.batch,
                  ann_row=ann_row,
                  ann_annotator=ann.annotator, annotator_ids=ann.annotator_ids,
                  consensus=consensus, quality=quality,
                  annotator_quality=aq if args.suggest_annotators else None,
                  max_per_annotator=args.max_per_annotator, exclude=skip)
    return ids, n_ann, batch, tables


class _Padded:
    """The values of the labeled examples, then ``n_pool`` times ``fill`` (the pool has
    no consensus): entry ``i`` of their concatenation, without making it."""

    def __init__(self, values, n_pool, fill):
        self.values, self.n, self.fill = values, len(values), fill
        self.size = self.n + n_pool

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        return self.values[i] if i < self.n else self.fill


def _copy_rows_note(ann, tab):
    """Said when probability rows name tasks that are copies of an example (imported from
    --tasks-out): those rows are not used, the example's own row is."""
    if not ann.aliases or tab.ids is None:
        return []
    aliases = ListColumn(list(ann.aliases))
    copies = tab.ids.take(np.flatnonzero(tab.ids.positions_in(aliases) >= 0))
    if not copies:
        return []
    return [f"{tab.path}: {len(copies)} row(s) name tasks imported from --tasks-out "
            f"({shown(copies)}; task {copies[0]!r} is example {ann.aliases[copies[0]]!r}): "
            "these rows are not used; each example's own row is used instead"]


def _pool_rows_note(ann, tab):
    """Said when probability rows name tasks that Label Studio's default export (annotated
    tasks only) does not list: they are scored as unlabeled tasks."""
    if not ann.format.startswith("labelstudio") or ann.lists_every_task or tab.ids is None:
        return []
    known = ann.example_ids.concat(ListColumn(list(ann.aliases or ())))
    pool = tab.ids.take(np.flatnonzero(tab.ids.positions_in(known) < 0))
    if not pool:
        return []
    return [f"{tab.path}: {len(pool)} row(s) name tasks that {ann.path} does not list "
            f"({shown(pool)}): the export lists annotated tasks only (Label Studio's "
            "default), so these are scored as unlabeled tasks; the export has no data of "
            "theirs for --tasks-out: label them in Label Studio directly, or export with "
            "all tasks"]


# --------------------------------------------------------------------------- the command
def _pool_files(args):
    """The Parquet files of a streamed pool, or None for one CSV/.npy pool file (or none)."""
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


def run_score(args):
    """``skactivelab score``: check the options and outputs, connect to the scheduler (if
    any), then read, score and write; returns the exit status."""
    check_options(args)
    progress = Progress(args.quiet)
    pool_files = _pool_files(args)
    inputs = inputs_of(args, "--annotations", "--pred-probs", "--pred-probs-ids")
    for f in pool_files or args.unlabeled_pred_probs or []:
        inputs[f] = "--unlabeled-pred-probs"
    check_output_paths(outputs(args), inputs)
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


def score_results(args, progress, *, read=None, pool_files=None, client=None, pending=()):
    """Read, score, and pick the next batch: the one path of ``score`` and ``labelstudio
    round``. ``read(classes=None)`` gives the annotations (default: the ``--annotations``
    file); ``pending`` names more example IDs not to pick (handed out, not answered yet).
    Warnings of the scoring are printed on stderr."""
    inputs = _read_score_inputs(args, progress, pool_files is not None, read)
    with recorded_warnings() as caught:
        s_lab, s_unl, pool_ids, n_pool, res = _scores(args, inputs, pool_files, client, progress)
    ann = inputs.ann
    held = pending_examples(args, ann, pending)
    ids, n_ann, batch, (consensus, annotators) = _results(
        args, inputs, res, s_lab, s_unl, pool_ids, held if len(held) else None)
    batch.notes += inputs.notes + pending_note(args, ann)
    warnings_to_stderr(caught)
    return ScoreResults(ann, list(inputs.classes), ids, np.concatenate([s_lab, s_unl]), n_ann,
                        int(inputs.labeled.sum()), n_pool, batch, consensus, annotators, held)


def _score(args, progress, files, pool_files, client):
    r = score_results(args, progress, pool_files=pool_files, client=client)
    ann, batch = r.ann, r.batch
    extra = {}
    if getattr(args, "report", None):
        from ._report import round_report

        extra[Path(args.report)] = round_report(r, title=f"skactivelab score: {ann.path}")
    written = write_outputs(args, files, batch, r.consensus, r.annotators, ann.task_data, extra)
    say_notes(ann, batch)
    last = batch.scores[-1] if len(batch) else np.nan
    lines = [
        f"scored {r.n_labeled} labeled and {r.n_pool} unlabeled examples "
        f"({ann.n_annotators} annotators, {len(r.classes)} classes, {ann.n_labels} labels)",
        f"next batch: {batch.summary()}; scores {fmt_float(r.scores.min())} .. "
        f"{fmt_float(last)}"]
    lines += pending_lines(batch, r.pending)
    share = batch.share_summary()
    lines += [share] if share else []
    if r.consensus is not None:
        lines += [consensus_line(r.consensus.confidence)] + r.annotators.summary()
    lines.append(f"wrote {', '.join(map(str, written))}")
    print("\n".join(lines), file=summary_stream(args))
    return 0
