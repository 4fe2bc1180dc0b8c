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
    "active_learning_scores",
    "classes_of",
    "estimator_pool_scores",
    "estimator_predict",
    "estimator_predict_proba",
    "is_dask_collection",
    "model_scores",
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
                cand = np.flatnonzero(cand)
            elif cand.ndim != 1 or (cand.size and cand.dtype.kind not in "iu"):
                raise ValueError("candidates must be a 1-D array of integer indices or a boolean mask.")
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
def _unlabeled_block(block, temperatures, w_M, wbar_A, n_classes, block_info=None):
    from ._validation import check_pred_probs
    from .activelab import _unlabeled_part

    with _in_block(block_info):
        U = check_pred_probs(block, name="pred_probs_unlabeled", n_classes=n_classes)[None]
    with config_context(n_threads=1):
        return _unlabeled_part(U, temperatures, w_M, wbar_A, None)


def _labeled_stats(labels_multiannotator, pred_probs, classes, rng):
    """The labeled part, eagerly: (scores, temperatures, model weights, mean annotator
    weight, n_classes), exactly as ``get_active_learning_scores`` computes it."""
    from ._annotations import check_annotations
    from ._validation import check_pred_probs
    from .activelab import _labeled_part

    if pred_probs is None:
        return np.empty(0), np.ones(1), np.ones(1), 1.0, None
    if is_dask_collection(pred_probs) or is_dask_collection(labels_multiannotator):
        raise TypeError(
            "labels_multiannotator and pred_probs (the labeled examples) must be in memory "
            "(NumPy, pandas); only pred_probs_unlabeled (the pool) may be a Dask collection."
        )
    P = check_pred_probs(pred_probs)[None]
    K = P.shape[2]
    ann = check_annotations(labels_multiannotator, n_examples=P.shape[1], n_classes=K, classes=classes)
    scores, temperatures, w_M, wbar_A = _labeled_part(ann, P, rng)
    return scores, temperatures, w_M, wbar_A, K


def active_learning_scores(
    labels_multiannotator, pred_probs, pred_probs_unlabeled, *, ensemble, classes, random_state
):
    """``get_active_learning_scores`` with a Dask ``pred_probs_unlabeled``.

    Returns ``(scores_labeled, scores_unlabeled)``: the first a NumPy array
    (computed now), the second a lazy Dask array with one score per pool row.
    """
    from sklearn.utils import check_random_state

    if ensemble:
        raise TypeError(
            "A Dask pred_probs_unlabeled is supported for one model "
            "(get_active_learning_scores); with several models the pool's consensus needs "
            "statistics of the whole pool. Score each model's pool in memory, or average."
        )
    if (labels_multiannotator is None) != (pred_probs is None):
        missing = "pred_probs" if pred_probs is None else "labels_multiannotator"
        raise ValueError(
            f"{missing} is None but its partner was given; labeled examples need both "
            "labels_multiannotator and pred_probs (or pass neither to score only "
            "unlabeled examples)."
        )
    rng = check_random_state(random_state)
    U = _as_probability_array(pred_probs_unlabeled, "pred_probs_unlabeled", 2)
    scores_labeled, temperatures, w_M, wbar_A, K = _labeled_stats(
        labels_multiannotator, pred_probs, classes, rng
    )
    if K is not None and U.shape[1] != K:
        raise ValueError(
            f"pred_probs_unlabeled has {U.shape[1]} classes (columns) but the labeled pred_probs "
            f"has {K}; both must use the same classes in the same column order."
        )
    scores_unlabeled = U.map_blocks(
        _unlabeled_block, temperatures, w_M, wbar_A, U.shape[1],
        drop_axis=1, dtype=np.float64, meta=np.empty(0),
    )
    return scores_labeled, scores_unlabeled


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


def _pool_scores_block(X, fold_models, classes, temperatures, w_M, wbar_A):
    from .activelab import _unlabeled_part

    U = _fold_mean_block(X, fold_models, classes)
    with config_context(n_threads=1):
        return _unlabeled_part(U, temperatures, w_M, wbar_A, None)


def estimator_pool_scores(est, X_pool):
    """``active_learning_scores(X_pool)`` of a fitted estimator for a Dask pool."""
    from sklearn.utils import check_random_state

    if est._ensemble:
        raise TypeError(
            "active_learning_scores on a Dask pool is supported for MultiAnnotatorClassifier; "
            "the ensemble's pool consensus needs statistics of the whole pool."
        )
    X = _feature_blocks(X_pool, est.n_features_in_)
    rng = check_random_state(est.random_state)
    with est._kernel_threads():
        s_lab, temperatures, w_M, wbar_A, _ = _labeled_stats(est._ann_lab, est._P_lab[0], None, rng)
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
