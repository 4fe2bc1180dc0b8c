"""Pools beyond one machine: Dask arrays and Dask DataFrames.

Optional: needs ``dask[array]`` (and ``distributed`` for a cluster). Nothing here
imports Dask until a Dask collection is actually given, so the rest of the
package stays NumPy-only. Every function gives the same numbers as the NumPy
path, because scoring a pool is row-wise once the labeled part (temperature,
model and annotator weights) is known: that part is computed once, eagerly, in
the calling process, and the pool is scored block by block on the workers.

* :func:`model_scores`: ``uncertainty_scores`` and friends on a Dask array (lazy).
* :func:`select_batch`: the ``n`` lowest scores by a reduction (top ``n`` per
  chunk, then a merge); ties broken exactly as in NumPy, from the same seeded
  random stream, without materialising the scores in the caller.
* :func:`active_learning_scores`: ActiveLab with a Dask ``pred_probs_unlabeled``
  (lazy result for the pool).
* :func:`estimator_pool_scores`, :func:`estimator_predict_proba`,
  :func:`estimator_predict`: the estimator on a Dask array or DataFrame pool; the
  fitted models travel to the workers once per computation.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ._config import config_context

__all__ = [
    "RunningTopK",
    "SchedulerError",
    "active_learning_scores",
    "classes_of",
    "connect",
    "estimator_pool_scores",
    "estimator_predict",
    "estimator_predict_proba",
    "is_dask_collection",
    "labeled_stats",
    "lowest",
    "model_scores",
    "score_rows",
    "select_batch",
]

_DRAW_PIECE = 1 << 20  # random numbers drawn at a time when skipping ahead


def is_dask_collection(x):
    """True for a Dask array, DataFrame or Series (checked without importing Dask)."""
    root = type(x).__module__.split(".")[0]
    return root in ("dask", "dask_expr") and hasattr(x, "__dask_graph__")


def _is_dask_frame(x):
    return is_dask_collection(x) and hasattr(x, "map_partitions")


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - only reached with a Dask object in hand
        raise ImportError(
            "Dask pools need dask[array]; install it with pip install 'skactivelab[dask]'."
        ) from None
    return dask, da


def _as_probability_array(x, name, ndim):
    """A Dask array of probabilities with the class (and model) axes in one chunk."""
    _, da = _dask()
    if _is_dask_frame(x):
        x = x.to_dask_array()
    if not isinstance(x, da.Array):
        raise TypeError(f"{name} must be a Dask array or DataFrame, got {type(x).__name__}.")
    if x.ndim != ndim:
        shape = "(n_examples, n_classes)" if ndim == 2 else "(n_models, n_examples, n_classes)"
        raise ValueError(f"{name} must have {ndim} dimensions {shape}, got shape {x.shape}.")
    K = x.shape[-1]
    if not np.isfinite(K):
        raise ValueError(
            f"{name} has an unknown number of columns; give a Dask array whose class axis "
            "has a known size (e.g. from a DataFrame with known columns)."
        )
    if K < 2:
        raise ValueError(
            f"{name} has {K} column(s); at least 2 classes are needed (one column per class)."
        )
    # classes (and models) in one chunk: each block holds whole rows
    whole = {ax: -1 for ax in range(ndim) if ax != ndim - 2 and len(x.chunks[ax]) > 1}
    return x.rechunk(whole) if whole else x


@contextmanager
def _in_block(block_info):
    """Say which rows of the whole array a block's error is about (rows count from 0 in a block)."""
    try:
        yield
    except ValueError as exc:
        info = (block_info or {}).get(0) or {}
        where = info.get("array-location")
        if where and np.isfinite(where[0][0]):
            lo, hi = where[0]
            raise ValueError(
                f"in the block of rows {lo}..{hi - 1} (row numbers below count from {lo}): {exc}"
            ) from None
        if info.get("chunk-location"):
            raise ValueError(f"in block {info['chunk-location'][0]} (row numbers count from its first row): {exc}") from None
        raise


# --------------------------------------------------------------------------- model-only scores
def _score_block(block, fn, block_info=None):
    with _in_block(block_info), config_context(n_threads=1):  # workers' threads are the parallelism
        return fn(block)


def model_scores(fn, pred_probs):
    """``fn`` (a NumPy row-wise score of ``skactivelab.query``) over a Dask array, lazily."""
    P = _as_probability_array(pred_probs, "pred_probs", 2)
    return P.map_blocks(_score_block, fn, drop_axis=1, dtype=np.float64, meta=np.empty(0))


# --------------------------------------------------------------------------- select_batch
def _draw(rng, n):
    return rng.random(n) if isinstance(rng, np.random.Generator) else rng.random_sample(n)


def _get_state(rng):
    return rng.bit_generator.state if isinstance(rng, np.random.Generator) else rng.get_state()


def _rng_at(kind, state):
    if kind == "generator":
        bg = getattr(np.random, state["bit_generator"])()
        bg.state = state
        return np.random.Generator(bg)
    rng = np.random.RandomState()
    rng.set_state(state)
    return rng


def _skip(rng, n):
    """Advance ``rng`` by ``n`` uniform draws, in bounded memory."""
    while n > 0:
        step = min(n, _DRAW_PIECE)
        _draw(rng, step)
        n -= step


def _chunk_top(block, mask, local, positions, tiebreak, lo, first_pos, kind, state, n):
    """The ``n`` lowest (score, tie-break) candidates of one chunk, with their global
    row and candidate position (the NumPy path's order among exact ties)."""
    s = np.asarray(block, dtype=np.float64)
    if local is None:
        local = np.arange(s.shape[0]) if mask is None else np.flatnonzero(np.asarray(mask))
        positions = first_pos + np.arange(local.size)
        tiebreak = _draw(_rng_at(kind, state), local.size) if local.size else np.empty(0)
    cs = s[local]
    if np.isnan(cs).any():
        raise ValueError("scores contains NaN at candidate indices; every candidate needs a score.")
    order = np.lexsort((positions, tiebreak, cs))[:n]
    return cs[order], tiebreak[order], positions[order], lo + local[order]


def _merge_tops(parts, n):
    cs, tb, pos, idx = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return idx[np.lexsort((pos, tb, cs))[:n]].astype(np.int64)


def select_batch(scores, n_instances, candidates, random_state):
    """``skactivelab.query.select_batch`` for a Dask array of scores (see there)."""
    dask, da = _dask()
    from sklearn.utils import check_random_state

    if not isinstance(scores, da.Array):
        scores = scores.to_dask_array() if _is_dask_frame(scores) else scores
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D (one score per example), got shape {scores.shape}.")
    sizes = scores.chunks[0]
    if not all(np.isfinite(c) for c in sizes):
        raise ValueError(
            "scores has unknown chunk sizes (e.g. computed from a Dask DataFrame); call "
            "scores = scores.persist(); scores.compute_chunk_sizes() first, so that rows "
            "have known positions."
        )
    N = int(sum(sizes))
    edges = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rng = random_state if isinstance(random_state, np.random.Generator) else check_random_state(random_state)
    kind = "generator" if isinstance(rng, np.random.Generator) else "legacy"
    blocks = scores.to_delayed().ravel()
    n_chunks = len(blocks)
    per_chunk = [dict(mask=None, local=None, positions=None, tiebreak=None) for _ in range(n_chunks)]

    mask = None
    if candidates is not None:
        if isinstance(candidates, da.Array):
            mask = candidates
            if mask.dtype != bool or mask.ndim != 1 or mask.shape[0] != N:
                raise ValueError(
                    f"a Dask candidates must be a boolean mask of shape ({N},) like scores, "
                    f"got dtype {mask.dtype} and shape {mask.shape}."
                )
            mask = mask.rechunk((sizes,))
            counts = mask.map_blocks(
                lambda b: np.array([np.count_nonzero(b)]), chunks=((1,) * n_chunks,), dtype=np.int64
            ).compute()
            for c, m in enumerate(mask.to_delayed().ravel()):
                per_chunk[c]["mask"] = m
        else:
            cand = np.asarray(candidates)
            if cand.dtype == bool:
                if cand.shape != (N,):
                    raise ValueError(
                        f"candidates is a boolean mask of shape {cand.shape} but scores has "
                        f"shape ({N},); give one entry per score."
                    )
                # one slice of the mask per chunk; tie-breaks drawn by the chunks
                counts = np.array([np.count_nonzero(cand[a:b]) for a, b in zip(edges[:-1], edges[1:])])
                for c in range(n_chunks):
                    per_chunk[c]["mask"] = cand[edges[c] : edges[c + 1]]
            elif cand.ndim != 1 or (cand.size and cand.dtype.kind not in "iu"):
                raise ValueError("candidates must be a 1-D array of integer indices or a boolean mask.")
            else:
                cand = cand.astype(np.int64)
                if cand.size and (cand.min() < 0 or cand.max() >= N):
                    raise ValueError(f"candidates holds indices outside 0..{N - 1} (the length of scores).")
                if np.unique(cand).size != cand.size:
                    raise ValueError("candidates contains duplicate indices; give each index once.")
                counts = None
    else:
        counts = np.asarray(sizes, dtype=np.int64)

    n_cand = cand.size if counts is None else int(counts.sum())
    if n_instances > n_cand:
        raise ValueError(
            f"n_instances={n_instances} is more than the {n_cand} candidate examples; "
            "ask for fewer or allow more candidates."
        )

    states, first = [None] * n_chunks, np.zeros(n_chunks, dtype=np.int64)
    if counts is not None:
        # the NumPy path draws one tie-break per candidate, in row order: chunk c
        # starts where the previous chunks' candidates end in the same stream
        pos = 0
        for c in range(n_chunks):
            states[c], first[c] = _get_state(rng), pos
            _skip(rng, int(counts[c]))
            pos += int(counts[c])
    else:
        # explicit indices: one tie-break per index in the caller's order
        tiebreak = _draw(rng, cand.size)
        chunk_of = np.searchsorted(edges, cand, side="right") - 1
        order = np.argsort(chunk_of, kind="stable")
        bounds = np.searchsorted(chunk_of[order], np.arange(n_chunks + 1))
        for c in range(n_chunks):
            sel = order[bounds[c] : bounds[c + 1]]
            per_chunk[c].update(local=cand[sel] - edges[c], positions=sel, tiebreak=tiebreak[sel])

    delayed = dask.delayed
    tops = [
        delayed(_chunk_top, pure=True)(
            blocks[c], per_chunk[c]["mask"], per_chunk[c]["local"], per_chunk[c]["positions"],
            per_chunk[c]["tiebreak"], int(edges[c]), int(first[c]), kind, states[c], n_instances,
        )
        for c in range(n_chunks)
    ]
    (idx,) = dask.compute(delayed(_merge_tops, pure=True)(tops, n_instances))
    return idx


# --------------------------------------------------------------------------- ActiveLab
def score_rows(U, temperatures, w_M, wbar_A, n_classes, *, name="pred_probs_unlabeled"):
    """ActiveLab scores of unlabeled rows ``U`` (n, K) of one model, given the labeled
    part (:func:`labeled_stats`): row-wise, so any split of the pool into chunks gives
    the scores of the whole pool. ``U`` is checked like any ``pred_probs``."""
    from ._validation import check_pred_probs
    from .activelab import _unlabeled_part

    U = check_pred_probs(U, name=name, n_classes=n_classes)[None]
    return _unlabeled_part(U, temperatures, w_M, wbar_A, None)


def _unlabeled_block(block, temperatures, w_M, wbar_A, n_classes, block_info=None):
    from ._validation import check_pred_probs
    from .activelab import _unlabeled_part

    with _in_block(block_info):
        U = check_pred_probs(block, name="pred_probs_unlabeled", n_classes=n_classes)[None]
    with config_context(n_threads=1):
        return _unlabeled_part(U, temperatures, w_M, wbar_A, None)


def _labeled_stats(labels_multiannotator, pred_probs, classes, rng, ensemble=False, n_models=1):
    """The labeled part, eagerly: (scores, temperatures, model weights, mean annotator
    weight, n_classes), exactly as ``get_active_learning_scores`` computes it (same
    input checks and row matching; a Series indexed by example ID when the input
    carries IDs)."""
    from ._annotations import _labeled_inputs
    from .activelab import _labeled_part, _with_index

    if pred_probs is None:
        return np.empty(0), np.ones(n_models), np.ones(n_models), 1.0, None
    if is_dask_collection(pred_probs) or is_dask_collection(labels_multiannotator):
        raise TypeError(
            "labels_multiannotator and pred_probs (the labeled examples) must be in memory "
            "(NumPy, pandas); only pred_probs_unlabeled (the pool) may be a Dask collection."
        )
    ann, P, index, _ = _labeled_inputs(
        labels_multiannotator, pred_probs, ndim=3 if ensemble else 2, classes=classes
    )
    if not ensemble:
        P = P[None]
    if P.shape[0] != n_models:
        raise ValueError(
            f"pred_probs has {P.shape[0]} models but pred_probs_unlabeled has {n_models}; "
            "give both from the same models in the same order."
        )
    scores, temperatures, w_M, wbar_A = _labeled_part(ann, P, rng)
    return _with_index(scores, index), temperatures, w_M, wbar_A, P.shape[2]


def labeled_stats(labels_multiannotator, pred_probs, *, classes=None, random_state=None):
    """The labeled part of ActiveLab for one model, computed now.

    Returns ``(scores_labeled, (temperatures, model_weights, mean_annotator_weight),
    n_classes)``: exactly what ``get_active_learning_scores`` computes for the
    labeled examples (same checks, same random stream), and what
    :func:`score_rows` needs to score any chunk of the pool. With
    ``labels_multiannotator`` and ``pred_probs`` both None (no labeled example),
    the weights are those of an empty labeled set and ``n_classes`` is None.
    """
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    s_lab, temperatures, w_M, wbar_A, K = _labeled_stats(labels_multiannotator, pred_probs, classes, rng)
    return s_lab, (temperatures, w_M, wbar_A), K


def active_learning_scores(
    labels_multiannotator, pred_probs, pred_probs_unlabeled, *, ensemble, classes, random_state
):
    """``get_active_learning_scores`` with a Dask ``pred_probs_unlabeled``.

    Returns ``(scores_labeled, scores_unlabeled)``: the first a NumPy array
    (computed now), the second a lazy Dask array with one score per pool row.
    """
    from sklearn.utils import check_random_state

    from .activelab import check_partners

    check_partners(labels_multiannotator, pred_probs)
    rng = check_random_state(random_state)
    U = _as_probability_array(pred_probs_unlabeled, "pred_probs_unlabeled", 3 if ensemble else 2)
    n_models = U.shape[0] if ensemble else 1
    scores_labeled, temperatures, w_M, wbar_A, K = _labeled_stats(
        labels_multiannotator, pred_probs, classes, rng, ensemble, n_models
    )
    if K is not None and U.shape[-1] != K:
        raise ValueError(
            f"pred_probs_unlabeled has {U.shape[-1]} classes (columns) but the labeled pred_probs "
            f"has {K}; both must use the same classes in the same column order."
        )
    if ensemble:
        if not all(np.isfinite(c) for c in U.chunks[1]):
            raise ValueError("pred_probs_unlabeled has unknown chunk sizes; call compute_chunk_sizes() first.")
        edges = np.concatenate([[0], np.cumsum(U.chunks[1])]).astype(np.int64)
        blocks = [(b, int(lo)) for b, lo in zip(U.to_delayed().ravel(), edges[:-1])]
        scores_unlabeled = _ensemble_pool(
            blocks, U.chunks[1], _checked_ensemble_block, [U.shape[-1]],
            temperatures, w_M, wbar_A, rng,
        )
        return scores_labeled, scores_unlabeled
    scores_unlabeled = U.map_blocks(
        _unlabeled_block, temperatures, w_M, wbar_A, U.shape[1],
        drop_axis=1, dtype=np.float64, meta=np.empty(0),
    )
    return scores_labeled, scores_unlabeled


# --------------------------------------------------------------------------- several models
# With several models the pool's consensus is the models' majority vote, whose
# tie-breaks use statistics of the whole pool (class totals, each model's
# agreement with the unique modes) and one random stream over its tied rows. Two
# eager passes over the pool compute them (the second only when some row is
# tied); the scores themselves stay lazy.
def _checked_ensemble_block(block, lo, n_classes):
    from ._validation import check_pred_probs

    with _in_block({0: {"array-location": [(lo, lo + block.shape[1])]}}):
        return check_pred_probs(block, name="pred_probs_unlabeled", ndim=3, n_classes=n_classes)


def _ensemble_stats_block(U, temperatures):
    """Pass 1: class totals, agreement sums of each model, number of tied rows."""
    from . import _kernels as K_

    with config_context(n_threads=1):
        from .activelab import _scaled_votes

        U, votes = _scaled_votes(U, temperatures)
        count = K_.label_counts(votes)
        label, n_modes, _ = K_.modes(count)
        hits, on_unique = K_.agreement_sums(votes, label, n_modes == 1)
    return count.sum(axis=0), hits, on_unique, int(np.count_nonzero(n_modes > 1))


def _ensemble_scores(U, temperatures, w_M, wbar_A, totals, agree, noise):
    """ActiveLab scores of a block of the pool (as ``activelab._unlabeled_part``, E > 1)."""
    from . import _kernels as K_

    with config_context(n_threads=1):
        from .activelab import _scaled_votes

        U, votes = _scaled_votes(U, temperatures)
        E, Nu, K = U.shape
        c = K_.majority_vote(
            votes, K_.label_counts(votes), U.mean(axis=0), None, totals=totals, agree=agree, noise=noise
        )
        prob = K_.weighted_sum(w_M, U[:, np.arange(Nu), c]) / w_M.sum()
    return (w_M.sum() * prob + wbar_A / K) / (w_M.sum() + wbar_A)


def _ensemble_needs_noise_block(U, temperatures, w_M, wbar_A, totals, agree):
    """Pass 2: does some row of this block stay tied until the random step?"""
    asked = []

    def noise(shape):
        asked.append(shape)
        return np.zeros(shape)

    _ensemble_scores(U, temperatures, w_M, wbar_A, totals, agree, noise)
    return bool(asked)


def _ensemble_final_block(U, temperatures, w_M, wbar_A, totals, agree, kind, state):
    noise = None
    if state is not None:
        rng = _rng_at(kind, state)
        noise = (lambda shape: rng.random(shape)) if kind == "generator" else rng.random_sample
    else:

        def noise(shape):  # pragma: no cover - pass 2 found no such row
            raise RuntimeError("a row stayed tied that the first passes did not see")

    return _ensemble_scores(U, temperatures, w_M, wbar_A, totals, agree, noise)


def _ensemble_pool(blocks, lengths, source, source_args, temperatures, w_M, wbar_A, rng):
    """Lazy ActiveLab scores of a pool given as ``[(block, first row), ...]``, where
    ``source(block, first_row, *source_args)`` gives the block's (E, n, K) probabilities."""
    from . import _kernels as K_

    dask, da = _dask()
    d = dask.delayed
    args = [d(a, pure=True) for a in source_args]  # e.g. the fold models: one task
    Us = [d(source, pure=True)(b, lo, *args) for b, lo in blocks]
    stats = dask.compute(*[d(_ensemble_stats_block, pure=True)(u, temperatures) for u in Us])
    totals = np.sum([st[0] for st in stats], axis=0)
    agree = K_.agreement_from_sums(np.sum([st[1] for st in stats], axis=0), np.sum([st[2] for st in stats], axis=0))
    n_tied = np.array([st[3] for st in stats], dtype=np.int64)
    kind = "generator" if isinstance(rng, np.random.Generator) else "legacy"
    states = [None] * len(Us)
    if n_tied.sum():
        needs = dask.compute(
            *[d(_ensemble_needs_noise_block, pure=True)(u, temperatures, w_M, wbar_A, totals, agree) for u in Us]
        )
        if any(needs):
            # the NumPy path draws K numbers per tied row of the whole pool, in row order
            K = totals.shape[0]
            for b in range(len(Us)):
                states[b] = _get_state(rng)
                _skip(rng, K * int(n_tied[b]))
    pieces = [
        da.from_delayed(
            d(_ensemble_final_block, pure=True)(u, temperatures, w_M, wbar_A, totals, agree, kind, states[b]),
            shape=(lengths[b],),
            dtype=np.float64,
        )
        for b, u in enumerate(Us)
    ]
    return da.concatenate(pieces)


# --------------------------------------------------------------------------- estimator
def _feature_blocks(X, n_features):
    """Dask array with all features in one chunk, or a Dask DataFrame unchanged."""
    if _is_dask_frame(X):
        return X
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _rowwise(X, fn, args, n_out, dtype):
    """Apply ``fn(block, *args)`` (block = rows of X) lazily; a Dask array of
    shape (n,) when ``n_out`` is None, else (n, n_out)."""
    dask, da = _dask()
    args = [dask.delayed(a, pure=True) if not np.isscalar(a) else a for a in args]
    if _is_dask_frame(X):
        parts = X.to_delayed()
        pieces = [
            da.from_delayed(
                dask.delayed(fn, pure=True)(p, *args),
                shape=(np.nan,) if n_out is None else (np.nan, n_out),
                dtype=dtype,
            )
            for p in parts
        ]
        return da.concatenate(pieces, axis=0)
    if n_out is None:
        return X.map_blocks(fn, *args, drop_axis=1, dtype=dtype, meta=np.empty(0, dtype=dtype))
    return X.map_blocks(fn, *args, chunks=(X.chunks[0], (n_out,)), dtype=dtype, meta=np.empty((0, 0), dtype=dtype))


def _fold_mean_block(X, fold_models, classes):
    from .estimator import _aligned_proba

    return np.stack([np.mean([_aligned_proba(est, X, classes) for est in group], axis=0) for group in fold_models])


def _fold_mean_source(X, lo, fold_models, classes):
    return _fold_mean_block(X, fold_models, classes)


def _pool_scores_block(X, fold_models, classes, temperatures, w_M, wbar_A):
    from .activelab import _unlabeled_part

    U = _fold_mean_block(X, fold_models, classes)
    with config_context(n_threads=1):
        return _unlabeled_part(U, temperatures, w_M, wbar_A, None)


def estimator_pool_scores(est, X_pool):
    """``active_learning_scores(X_pool)`` of a fitted estimator for a Dask pool."""
    from sklearn.utils import check_random_state

    X = _feature_blocks(X_pool, est.n_features_in_)
    rng = check_random_state(est.random_state)
    E = est._P_lab.shape[0]
    P_lab = est._P_lab if est._ensemble else est._P_lab[0]
    with est._kernel_threads():
        s_lab, temperatures, w_M, wbar_A, _ = _labeled_stats(est._ann_lab, P_lab, None, rng, est._ensemble, E)
    if est._ensemble:
        if _is_dask_frame(X):
            blocks, lengths = [(p, 0) for p in X.to_delayed()], [np.nan] * X.npartitions
        else:
            blocks, lengths = [(b, 0) for b in X.to_delayed().ravel()], X.chunks[0]
        s_pool = _ensemble_pool(
            blocks, lengths, _fold_mean_source, [est.cv_estimators_, est.classes_], temperatures, w_M, wbar_A, rng
        )
        return s_lab, s_pool
    s_pool = _rowwise(
        X, _pool_scores_block, [est.cv_estimators_, est.classes_, temperatures, w_M, wbar_A], None, np.float64
    )
    return s_lab, s_pool


def _final_proba_block(X, finals, classes, weights):
    from .estimator import _final_proba

    return _final_proba(finals, X, classes, weights)


def _predict_block(X, final):
    return np.asarray(final.predict(X))


def estimator_predict_proba(est, X):
    """``predict_proba`` of a fitted estimator for a Dask array or DataFrame, lazily."""
    weights = np.asarray(est.model_weight_, dtype=np.float64) if est._ensemble else None
    X = _feature_blocks(X, est.n_features_in_)
    return _rowwise(X, _final_proba_block, [est._finals(), est.classes_, weights], len(est.classes_), np.float64)


def _argmax_classes(P, classes):
    return classes[np.argmax(P, axis=1)]


def classes_of(P, classes):
    """Class of the largest probability of each row of a Dask array ``P``, lazily."""
    return P.map_blocks(_argmax_classes, classes, drop_axis=1, dtype=classes.dtype, meta=np.empty(0, classes.dtype))


def estimator_predict(est, X):
    """``predict`` of a fitted MultiAnnotatorClassifier for a Dask array or DataFrame, lazily."""
    X = _feature_blocks(X, est.n_features_in_)
    return _rowwise(X, _predict_block, [est.estimator_], None, est.classes_.dtype)


# --------------------------------------------------------------------------- running top-k
def lowest(scores, positions, n, tiebreak=None):
    """Indices of the ``n`` lowest ``scores`` ordered by (score, tiebreak, position).

    The order of :func:`select_batch` (``tiebreak`` given: one seeded draw per
    candidate) or of a stable sort by position (``tiebreak`` None). Selects with
    ``np.partition`` first, so a chunk of a million rows costs one pass, not a sort.
    """
    scores = np.asarray(scores, dtype=np.float64)
    m = scores.shape[0]
    sub = np.arange(m)
    if m > n:
        bound = np.partition(scores, n - 1)[n - 1]
        sub = np.flatnonzero(scores <= bound)  # every tie of the n-th lowest stays in
    keys = (positions[sub], scores[sub]) if tiebreak is None else (positions[sub], tiebreak[sub], scores[sub])
    return sub[np.lexsort(keys)[:n]]


class RunningTopK:
    """The ``n`` lowest scores of a stream of chunks, with their positions and payload.

    Feed chunks in any order with :meth:`add`; the result depends only on the
    rows seen, never on how they were chunked or in which order the chunks came:
    rows are ordered by (score, tie-break, position), the tie-break being optional
    (None: ties keep the order of positions).

    Examples
    --------
    >>> import numpy as np
    >>> top = RunningTopK(2)
    >>> top.add(np.array([0.5, 0.1]), np.array([0, 1]), np.array(["a", "b"], dtype=object))
    >>> top.add(np.array([0.1, 0.9]), np.array([2, 3]), np.array(["c", "d"], dtype=object))
    >>> top.payload.tolist(), top.positions.tolist()
    (['b', 'c'], [1, 2])
    """

    def __init__(self, n):
        self.n = int(n)
        self.scores = np.empty(0)
        self.positions = np.empty(0, dtype=np.int64)
        self.tiebreak = None
        self.payload = np.empty(0, dtype=object)

    def add(self, scores, positions, payload, tiebreak=None):
        """Merge a chunk's ``scores`` (their global ``positions``, ``payload`` per row)."""
        scores = np.concatenate([self.scores, np.asarray(scores, dtype=np.float64)])
        positions = np.concatenate([self.positions, np.asarray(positions, dtype=np.int64)])
        payload = np.concatenate([self.payload, np.asarray(payload, dtype=object)])
        if tiebreak is not None:
            tiebreak = np.concatenate([np.empty(0) if self.tiebreak is None else self.tiebreak, tiebreak])
        keep = lowest(scores, positions, self.n, tiebreak)
        self.scores, self.positions, self.payload = scores[keep], positions[keep], payload[keep]
        self.tiebreak = None if tiebreak is None else tiebreak[keep]

    def in_position_order(self):
        """``(positions, scores, payload)`` of the kept rows, by position."""
        order = np.argsort(self.positions, kind="stable")
        return self.positions[order], self.scores[order], self.payload[order]


# --------------------------------------------------------------------------- scheduler
class SchedulerError(ConnectionError):
    """The Dask scheduler cannot be reached, has no workers, or was lost while computing.

    Nothing was computed on it that is kept: retry once it is running.
    """


def connect(address, *, timeout=10.0):
    """A ``distributed.Client`` of the scheduler at ``address``, or :class:`SchedulerError`.

    Waits at most ``timeout`` seconds for the connection and as long again for
    at least one worker. The client is not made the default one: give it to the
    computation explicitly and close it when done.

    Examples
    --------
    >>> from skactivelab._dask import connect
    >>> client = connect("tcp://127.0.0.1:8786", timeout=5)  # doctest: +SKIP
    """
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "a Dask scheduler needs distributed; install it with pip install 'skactivelab[dask]'."
        ) from None
    timeout = float(timeout)
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({reason}); "
            "check the address (like tcp://host:8786) and that the scheduler is running."
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise SchedulerError(
            f"the Dask scheduler at {address} has no worker after {timeout:g} s "
            f"({' '.join(str(exc).split()) or type(exc).__name__}); start workers "
            f"(dask worker {address})."
        ) from None
    return client
