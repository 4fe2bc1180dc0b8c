"""One method on one task, round by round: the paper's protocol (docs/algorithms.md, section 6).

A round: (1) consensus labels of the labeled set: majority vote while no example has
two labels (always in round 0), else CROWDLAB on the previous round's out-of-fold
``pred_probs`` (calibrated); (2) k-fold cross-validation on the consensus gives
out-of-fold ``pred_probs`` for the labeled set, the fold models' mean prediction for
the pool, and the mean of the fold models' test accuracies; (3) record test and
consensus accuracy; (4) the method scores every candidate (lower = label first) and
the ``batch_size`` lowest get one more label each from the oracle. Every random choice
flows from one seed through :class:`numpy.random.Generator` objects.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .._annotations import check_annotations
from .._models import fit_fold_model, fold_splits, seeded
from ..crowd_models import check_crowd_model, decides_consensus
from ..crowdlab import get_label_quality_multiannotator, get_label_quality_multiannotator_ensemble
from ..majority_vote import get_majority_vote_label
from ..query import assign_annotators, select_batch
from .._utils import user_stacklevel
from ..strategies import (ActiveLabQuery, EntropyQuery, GoodRandomQuery, PoolRows, RandomQuery,
                          UncertaintyQuery)

__all__ = ["DETAIL_KEYS", "METHODS", "METHOD_ALIASES", "canonical_method", "method_and_crowd_model", "run_method"]

#: Methods of :func:`run_method`. Each scores rows with its query strategy
#: (random, good_random, entropy, uncertainty: the baselines; the "activelab*"
#: methods: :class:`~skactivelab.ActiveLabQuery`); "activelab_ensemble" scores
#: with several models; "*suggest*" methods send each pick to the best-rated
#: annotator who has not labeled it (CROWDLAB quality, or the crowd model's
#: accuracy where it estimates one), "activelab_suggest" with at most
#: ``ceil(2 B / M)`` picks per annotator per round. A method may name its crowd
#: model after a colon, as in ``"activelab:annotator_confusion"``.
METHODS = (
    "random",
    "good_random",
    "entropy",
    "uncertainty",
    "activelab",
    "activelab_ensemble",
    "activelab_suggest",
    "activelab_suggest_nocap",
)
#: Deprecated method names: (method, crowd model) each stands for.
METHOD_ALIASES = {
    "activelab_em": ("activelab", "annotator_confusion"),
    "activelab_em_suggest": ("activelab_suggest_nocap", "annotator_confusion"),
}
_ACTIVELAB_METHODS = ("activelab", "activelab_ensemble", "activelab_suggest", "activelab_suggest_nocap")
_SUGGEST_METHODS = ("activelab_suggest", "activelab_suggest_nocap")


def canonical_method(method):
    """``method`` with a deprecated alias replaced by its new spelling (FutureWarning)."""
    if not isinstance(method, str):
        raise ValueError(f"method must be a string, one of {METHODS}, got {method!r}.")
    if method in METHOD_ALIASES:
        new = ":".join(METHOD_ALIASES[method])
        warnings.warn(f"method {method!r} is deprecated and will be removed; use {new!r} (or "
                      f"{METHOD_ALIASES[method][0]!r} with crowd_model='annotator_confusion').",
                      FutureWarning, stacklevel=user_stacklevel())
        return new
    return method


def method_and_crowd_model(method, crowd_model=None):
    """``(method of METHODS, crowd model instance)`` of a method name such as ``"activelab"``,
    ``"activelab:annotator_confusion"`` or a deprecated alias (FutureWarning).

    ``crowd_model`` applies when the name names none (a crowd model named in the name wins).

    Examples
    --------
    >>> method_and_crowd_model("activelab:majority_vote")
    ('activelab', MajorityVote())
    """
    base, _, named = canonical_method(method).partition(":")
    if base not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}, optionally followed by "
                         "':' and a crowd model (like 'activelab:annotator_confusion').")
    return base, check_crowd_model(named if named else crowd_model)


def _cross_val(models, X_lab, y_cons, X_other, y_test, n_test, K, n_folds, rng):
    """Out-of-fold P (E, N, K), mean fold prediction on X_other (E, n_other, K), test accuracy."""
    N = y_cons.size
    n_splits = min(n_folds, N)
    splits = fold_splits(X_lab, y_cons, n_splits, int(rng.integers(2**31 - 1)))
    E = len(models)
    P = np.zeros((E, N, K))
    O = np.zeros((E, X_other.shape[0], K))
    accs = []
    for tr, ho in splits:
        for e, model in enumerate(models):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence warnings of small folds
                # a fold with one class: every model predicts it
                m = fit_fold_model(seeded(model, int(rng.integers(2**31 - 1))), X_lab[tr], y_cons[tr])
            cols = np.asarray(m.classes_, dtype=np.int64)
            P[e][np.ix_(ho, cols)] = m.predict_proba(X_lab[ho])
            if X_other.shape[0]:
                po = m.predict_proba(X_other)
                O[e][:, cols] += po / n_splits
                pt = po[X_other.shape[0] - n_test :]
                accs.append(np.mean(cols[np.argmax(pt, axis=1)] == y_test))
    return P, O, float(np.mean(accs))


def _annotator_quality(ex, ann, lab, P, n_annotators):
    """CROWDLAB annotator quality (NaN where unknown) for the annotator-suggestion variant."""
    quality = np.full(n_annotators, np.nan)
    if np.bincount(ex).max() < 2:
        return quality  # nobody can be compared yet
    res = get_label_quality_multiannotator((ex, ann, lab), P[0], calibrate_probs=True, random_state=0)
    ids = np.asarray(res.annotator_ids, dtype=np.int64)
    inside = ids < n_annotators
    quality[ids[inside]] = res.annotator_quality[inside]
    return quality


def _crowd_fit(crowd, ex, ann, lab, P, seed):
    """The crowd model's phase fit of local-row triples and P (E, N, K), seeded by ``seed``
    (drawn from the run's random state) unless the model has a random_state of its own."""
    parsed = check_annotations((ex, ann, lab), n_examples=P.shape[1], n_classes=P.shape[2])
    return crowd._fit_for(parsed, P, np.random.RandomState(seed), P.shape[0])


def _annotator_ranking(crowd, triples, P, n_annotators, rng):
    """How a suggest method ranks annotators: its own crowd model's estimate of their quality
    (as :meth:`~skactivelab.MultiAnnotatorActiveLearner.suggest_annotators` does): the
    accuracies of the crowd model's fit where it estimates them, else CROWDLAB's quality."""
    if decides_consensus(crowd):
        fit = _crowd_fit(crowd, *triples, P, int(rng.integers(2**31 - 1)))
        acc = np.full(n_annotators, np.nan)
        ids = np.asarray(fit.annotations.annotator_ids, dtype=np.int64)
        inside = ids < n_annotators
        acc[ids[inside]] = fit.annotator_accuracy[inside]
        return acc
    return _annotator_quality(*triples, P, n_annotators)


def _consensus(ex, ann, lab, P, rng_seed, use_crowdlab, crowd=None):
    """Consensus of the labeled set (local rows); P is (E, N, K) or None; ``crowd``: the crowd
    model used where CROWDLAB would be (None: CROWDLAB)."""
    n_per = np.bincount(ex)
    triples = (ex, ann, lab)
    if crowd is not None and P is not None and use_crowdlab and decides_consensus(crowd):
        return np.asarray(_crowd_fit(crowd, *triples, P, rng_seed).consensus_codes(), dtype=np.int64), None
    if P is None or not use_crowdlab or n_per.max() < 2:
        pp = None if P is None else P.mean(axis=0)
        mv = get_majority_vote_label(triples, pred_probs=pp, random_state=rng_seed)
        return np.asarray(mv, dtype=np.int64), None
    if P.shape[0] == 1:
        res = get_label_quality_multiannotator(triples, P[0], calibrate_probs=True, random_state=rng_seed)
    else:
        res = get_label_quality_multiannotator_ensemble(triples, P, calibrate_probs=True, random_state=rng_seed)
    return np.asarray(res.consensus_label, dtype=np.int64), res


#: Extra per-round records of ``run_method(..., details=True)``.
DETAIL_KEYS = ("model_weight", "mean_annotator_weight", "mean_agreement_multi", "n_multi",
               "n_single_overridden", "single_overridden_right", "single_overridden_label_right",
               "batch_relabel_share", "batch_label_accuracy", "batch_poor_annotator_share")


def _consensus_details(res, cons, ex, lab, y_lab):
    """How CROWDLAB weighed the crowd this round, and what it did to single labels."""
    n_per = np.bincount(ex, minlength=cons.size)
    single = n_per == 1
    first = np.full(cons.size, -1)
    first[ex[single[ex]]] = lab[single[ex]]
    over = single & (cons != first)
    out = dict(
        model_weight=np.nan, mean_annotator_weight=np.nan, mean_agreement_multi=np.nan,
        n_multi=int(np.sum(n_per > 1)), n_single_overridden=int(over.sum()),
        single_overridden_right=float(np.mean(cons[over] == y_lab[over])) if over.any() else np.nan,
        single_overridden_label_right=float(np.mean(first[over] == y_lab[over])) if over.any() else np.nan,
    )
    if res is not None:
        out["model_weight"] = float(np.mean(res.model_weight))
        out["mean_annotator_weight"] = float(np.nanmean(res.annotator_weights))
        out["mean_agreement_multi"] = float(np.mean(np.asarray(res.annotator_agreement)[n_per > 1]))
    return out


# The steps of one round of :func:`run_method`, in the order it calls them.
def _split_rows(ex, n_tr):
    """Labels per training row, the labeled and pool rows, and each row's index among the labeled (-1 in the pool)."""
    n_per = np.bincount(ex, minlength=n_tr)
    lab_rows = np.flatnonzero(n_per > 0)
    pool_rows = np.flatnonzero(n_per == 0)
    local = np.full(n_tr, -1)
    local[lab_rows] = np.arange(lab_rows.size)
    return n_per, lab_rows, pool_rows, local


def _record_consensus_details(rec, cres, cons, ex, lab, y_lab):
    """Append the round's consensus details; the batch details start as NaN, filled when the batch is picked."""
    for key, val in _consensus_details(cres, cons, ex, lab, y_lab).items():
        rec[key].append(val)
    for key in ("batch_relabel_share", "batch_label_accuracy", "batch_poor_annotator_share"):
        rec[key].append(np.nan)


def _method_strategy(method, crowd):
    """The query strategy whose rule scores ``method``'s rows (the one a learner would use)."""
    if method in _ACTIVELAB_METHODS:
        return ActiveLabQuery(crowd_model=crowd)
    return {"random": RandomQuery, "good_random": GoodRandomQuery, "entropy": EntropyQuery,
            "uncertainty": UncertaintyQuery}[method]()


def _method_scores(strategy, n_per, P, U, triples, rng):
    """Score of every training row by ``strategy``'s rule (lower = label first)."""
    rows = PoolRows(labeled=n_per > 0, n_annotations=n_per, annotations=triples, P_lab=P, P_unl=U)
    return strategy.score_rows(rows, rng)


def _selection_mode(method, task, annotator_selection):
    """Who answers: "quality" (the learner suggests), "replay" (the next real label), or ``annotator_selection``."""
    selection = "quality" if method in _SUGGEST_METHODS else annotator_selection
    if task.is_replay and selection != "quality":
        selection = "replay"  # the next real label in this seed's order
    return selection


def _pick_examples(scores, task, pool_rows, labeled_by, selection, batch_size, rng):
    """The batch: the lowest scores among the rows that may (still) get a label."""
    cand = np.arange(scores.size) if task.allow_relabel else pool_rows
    if selection != "paper":
        cand = cand[~labeled_by[cand].all(axis=1)]  # someone left to ask
    if cand.size == 0:
        return np.empty(0, dtype=np.int64)
    return select_batch(scores, min(batch_size, cand.size), candidates=cand, random_state=rng)


def _pick_annotators(selection, method, crowd, picked, task, labeled_by, triples, P, annotator_selection, rng):
    """One annotator per picked example, one who has not labeled it yet (every mode but "paper")."""
    M = task.n_annotators
    if selection == "quality":
        # the learner's suggestion: the best-rated annotator (CROWDLAB quality, or the crowd
        # model's accuracy where it estimates one) among those who have not labeled the example;
        # "activelab_suggest" caps each annotator per round
        cap = int(np.ceil(2 * picked.size / M)) if method == "activelab_suggest" else None
        who = assign_annotators(
            _annotator_ranking(crowd, triples, P, M, rng), ~labeled_by[picked],
            max_per_annotator=cap,
        )
        left = who < 0  # caps exhausted: a random annotator still free
        if left.any():
            keys = (task.reveal_rank[picked[left]].astype(np.float64) if task.is_replay
                    else rng.random((int(left.sum()), M)))
            keys[labeled_by[picked[left]]] = np.inf
            who[left] = np.argmin(keys, axis=1)
        return who
    if selection == "replay":
        keys = task.reveal_rank[picked].astype(np.float64)
        keys[labeled_by[picked]] = np.inf
        return np.argmin(keys, axis=1)
    if selection == "distinct":
        keys = rng.random((picked.size, M))
        keys[labeled_by[picked]] = np.inf
        return np.argmin(keys, axis=1)
    who = np.asarray(annotator_selection(picked, labeled_by.copy(), rng), dtype=np.int64)
    if who.shape != picked.shape or np.any(labeled_by[picked, who]):
        raise ValueError(
            "annotator_selection must return one annotator per picked example, "
            "one who has not labeled that example yet."
        )
    return who


def _who_answers(selection, method, crowd, picked, task, labeled_by, triples, P, annotator_selection, rng,
                 next_col):
    """``(who, column, next_col)``: who labels each picked example and under which annotator
    column the label is stored ("paper" mode: a random annotator, one new column per round)."""
    if selection == "paper":
        who = rng.integers(0, task.n_annotators, picked.size)
        return who, np.full(picked.size, next_col), next_col + 1
    who = _pick_annotators(selection, method, crowd, picked, task, labeled_by, triples, P, annotator_selection,
                           rng)
    return who, who, next_col


def _check_run(method, crowd_model, consensus, batch_size, n_rounds):
    """``(method, crowd model)`` of a run, once its options are checked."""
    method, crowd = method_and_crowd_model(method, crowd_model)
    if consensus not in ("crowdlab", "majority_vote", "paper"):
        raise ValueError("consensus must be 'crowdlab', 'majority_vote' or 'paper'.")
    if batch_size < 1 or n_rounds < 0:
        raise ValueError("batch_size must be >= 1 and n_rounds >= 0.")
    return method, crowd


def _initial_state(task):
    """The task's initial (example, annotator, label) triples (copies) and ``labeled_by``:
    ``labeled_by[i, j]``, annotator j cannot be asked about example i (already answered,
    or, when replaying real labels, has no label for it)."""
    ex, ann, lab = task.init_example.copy(), task.init_annotator.copy(), task.init_label.copy()
    labeled_by = np.zeros(task.oracle.shape, dtype=bool) if not task.is_replay else ~task.available
    labeled_by[ex, ann] = True
    return ex, ann, lab, labeled_by


def _poor_annotators(task):
    """Annotators right less than ``2/K`` of the time over all their labels in the oracle."""
    has = task.available if task.is_replay else np.ones_like(task.oracle, dtype=bool)
    right = np.where(has, task.oracle == task.y_train[:, None], 0).sum(axis=0)
    return right < (2.0 / task.n_classes) * np.maximum(has.sum(axis=0), 1)


def _record_batch_details(rec, n_per, picked, who, task, poor, selection):
    """Fill the round's batch details: share of re-labels, accuracy of the new labels, share of poor annotators."""
    rec["batch_relabel_share"][-1] = float(np.mean(n_per[picked] > 0))
    rec["batch_label_accuracy"][-1] = float(np.mean(task.oracle[picked, who] == task.y_train[picked]))
    rec["batch_poor_annotator_share"][-1] = float(np.mean(poor[who])) if selection != "paper" else np.nan


def run_method(
    task,
    method,
    *,
    model="extratrees",
    ensemble_models=None,
    n_rounds=20,
    batch_size=100,
    n_folds=5,
    consensus="crowdlab",
    annotator_selection="paper",
    random_state=None,
    progress=None,
    details=False,
    crowd_model=None,
):
    """Run one method on one task; return per-round metrics.

    Parameters
    ----------
    task : SimulatedTask
    method : str
        One of :data:`METHODS`, optionally followed by ``":"`` and a crowd model
        (``"activelab:annotator_confusion"``). The deprecated names
        ``"activelab_em"`` and ``"activelab_em_suggest"`` stand for
        ``"activelab:annotator_confusion"`` and
        ``"activelab_suggest_nocap:annotator_confusion"`` (FutureWarning).
    model : str or estimator, default="extratrees"
        Classifier for single-model methods (a :func:`make_model` name or an
        unfitted scikit-learn classifier with ``predict_proba``).
    ensemble_models : list, optional
        Models of "activelab_ensemble"; default ``[model, "logreg", "knn"]``.
    n_rounds : int, default=20
        Number of annotation batches; metrics are recorded for rounds
        ``0..n_rounds`` (round r = after r batches).
    batch_size : int, default=100
        Annotations collected per round.
    n_folds : int, default=5
    consensus : {"crowdlab", "majority_vote", "paper"}, default="crowdlab"
        How each round's training labels are formed: CROWDLAB for every method,
        majority vote for every method, or as in the paper's code (CROWDLAB for
        the ActiveLab methods, majority vote with ``pred_probs`` tie-breaks for
        the baselines). Round 0, and any round where no example has two labels,
        always uses majority vote. A crowd model other than CROWDLAB (see
        ``crowd_model``) gives its own consensus wherever CROWDLAB would be
        used, from round 1 on even when no example has two labels yet (the
        model needs none).
    annotator_selection : "paper", "distinct" or callable, default="paper"
        Who labels a picked example. "paper": a uniformly random annotator (the
        same one may answer twice), the round's labels stored as one new
        annotator column, as in the paper's code. "distinct": a random annotator
        who has not labeled that example yet, stored under that annotator. A
        callable ``f(examples, labeled_by, rng) -> annotators`` (``labeled_by``
        is a boolean (n_train, n_annotators) array) is the hook for annotator
        suggestion; it must not repeat an annotator on an example.
    random_state : int or None
    progress : callable, optional
        Called as ``progress(round, record)`` after each round.
    details : bool, default=False
        Also record :data:`DETAIL_KEYS`: the CROWDLAB model weight, mean
        annotator weight and mean agreement of multiply-labeled examples of the
        round's consensus (NaN for majority vote), how many singly labeled
        examples the consensus overrides and how often rightly (and how often
        their label was right), and, for the batch picked after the round, the
        share of re-labels, the accuracy of the new labels and the share
        answered by poor annotators (right less than ``2/K`` of the time over
        all their labels in the oracle). NaN where undefined.
    crowd_model : {"crowdlab", "annotator_confusion", "majority_vote"}, instance or None, default=None
        The crowd model of the consensus (where CROWDLAB would be used), of the
        ActiveLab scores and of the annotator suggestions, unless ``method`` names
        one; None: CROWDLAB.

    Returns
    -------
    dict of ndarray
        ``round``, ``test_accuracy``, ``consensus_accuracy``, ``n_labeled``,
        ``n_annotations``, ``n_relabel_picks``, ``seconds`` (and the detail
        keys), each of length ``n_rounds + 1``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    >>> from skactivelab.simulation import make_task
    >>> task = make_task(X, y, n_annotators=5, random_state=0)
    >>> rec = run_method(task, "activelab", model="logreg", n_rounds=2, batch_size=5, n_folds=2,
    ...                  random_state=0)
    >>> rec["round"].tolist(), rec["n_annotations"].tolist()
    ([0, 1, 2], [20, 25, 30])
    """
    method, crowd = _check_run(method, crowd_model, consensus, batch_size, n_rounds)
    rng = np.random.default_rng(random_state)
    K, M = task.n_classes, task.n_annotators
    n_tr = task.y_train.size
    models = [model]
    if method == "activelab_ensemble":
        models = list(ensemble_models) if ensemble_models is not None else [model, "logreg", "knn"]
    use_crowdlab = consensus == "crowdlab" or (consensus == "paper" and method in _ACTIVELAB_METHODS)
    selection = _selection_mode(method, task, annotator_selection)
    strategy = _method_strategy(method, crowd)

    ex, ann, lab, labeled_by = _initial_state(task)
    next_col = M  # "paper" mode: one new annotator column per round
    P_all = None  # (E, n_tr, K): out-of-fold P of labeled rows, pool prediction elsewhere
    X_test, y_test = task.X_test, task.y_test
    rec = {k: [] for k in ("round", "test_accuracy", "consensus_accuracy", "n_labeled", "n_annotations",
                           "n_relabel_picks", "seconds") + (DETAIL_KEYS if details else ())}
    poor = _poor_annotators(task) if details else None
    n_relabel = 0
    for r in range(n_rounds + 1):
        t0 = time.perf_counter()
        n_per, lab_rows, pool_rows, local = _split_rows(ex, n_tr)
        # (1) consensus labels of the labeled set
        P_prev = None if P_all is None else P_all[:, lab_rows]
        cons, cres = _consensus(local[ex], ann, lab, P_prev, int(rng.integers(2**31 - 1)), use_crowdlab,
                                crowd)
        if details:
            _record_consensus_details(rec, cres, cons, local[ex], lab, task.y_train[lab_rows])
        cons_acc = float(np.mean(cons == task.y_train[lab_rows]))
        # (2) cross-validation on the consensus
        X_other = np.concatenate([task.X_train[pool_rows], X_test])
        P, O, test_acc = _cross_val(models, task.X_train[lab_rows], cons, X_other, y_test, y_test.size, K,
                                    n_folds, rng)
        U = O[:, : pool_rows.size]
        # (3) record
        for key, val in (("round", r), ("test_accuracy", test_acc), ("consensus_accuracy", cons_acc),
                         ("n_labeled", lab_rows.size), ("n_annotations", ex.size),
                         ("n_relabel_picks", n_relabel)):
            rec[key].append(val)
        if r < n_rounds:
            # (4) score, select, annotate
            triples = (local[ex], ann, lab)
            scores = _method_scores(strategy, n_per, P, U, triples, rng)
            picked = _pick_examples(scores, task, pool_rows, labeled_by, selection, batch_size, rng)
            n_relabel += int(np.sum(n_per[picked] > 0))
            who, col, next_col = _who_answers(selection, method, crowd, picked, task, labeled_by, triples, P,
                                              annotator_selection, rng, next_col)
            if details and picked.size:
                _record_batch_details(rec, n_per, picked, who, task, poor, selection)
            labeled_by[picked, who] = True
            ex = np.concatenate([ex, picked])
            ann = np.concatenate([ann, col])
            lab = np.concatenate([lab, task.oracle[picked, who]])
            P_all = np.empty((len(models), n_tr, K))
            P_all[:, lab_rows] = P
            P_all[:, pool_rows] = U
        rec["seconds"].append(time.perf_counter() - t0)
        if progress is not None:
            progress(r, {k: v[-1] for k, v in rec.items()})
    return {k: np.asarray(v) for k, v in rec.items()}
