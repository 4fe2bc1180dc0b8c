"""Pools beyond one machine: adapters for Dask arrays and Dask DataFrames.

Optional: needs ``dask[array]`` (and ``distributed`` for a cluster). Nothing here
imports Dask until a Dask collection is actually given, so the rest of the
package stays NumPy-only. This module only adapts: the numbers come from the
in-memory code, applied chunk by chunk. ActiveLab's labeled phase is fitted
once, eagerly, in the calling process (:func:`skactivelab._phases.fit_labeled`),
and the pool is scored block by block on the workers
(:func:`skactivelab._phases.score_rows`), so every function gives the NumPy
path's numbers.

* :func:`model_scores`: ``uncertainty_scores`` and friends on a Dask array (lazy).
* :func:`select_batch`: the ``n`` lowest scores by a reduction (top ``n`` per
  chunk, then a merge); ties broken exactly as in NumPy, from the same seeded
  random stream, without materialising the scores in the caller.
* :func:`pool_scores`: a fitted labeled phase applied to a Dask
  ``pred_probs_unlabeled`` (lazy result for the pool).
* :func:`estimator_pool_scores`, :func:`estimator_predict_proba`,
  :func:`estimator_predict`: the estimator on a Dask array or DataFrame pool; the
  fitted models travel to the workers once per computation.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields, replace

import numpy as np

from ._config import config_context
from ._phases import score_rows
from ._proba import final_proba, fold_mean_proba
from ._validation import (check_batch, check_candidate_scores, check_candidates, check_pred_probs,
                          check_prob_shape)

__all__ = [
    "SchedulerError",
    "classes_of",
    "connect",
    "estimator_pool_scores",
    "estimator_predict",
    "estimator_predict_proba",
    "is_dask_collection",
    "model_scores",
    "pool_scores",
    "probability_array",
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


def probability_array(x, name, ndim):
    """A Dask array of probabilities with the class (and model) axes in one chunk."""
    _, da = _dask()
    if _is_dask_frame(x):
        x = x.to_dask_array()
    if not isinstance(x, da.Array):
        raise TypeError(f"{name} must be a Dask array or DataFrame, got {type(x).__name__}.")
    check_prob_shape(x.shape, name=name, ndim=ndim)
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
    P = probability_array(pred_probs, "pred_probs", 2)
    return P.map_blocks(_score_block, fn, drop_axis=1, dtype=np.float64, meta=np.empty(0))


# --------------------------------------------------------------------------- select_batch
def _draw(rng, n):
    return rng.random(n) if isinstance(rng, np.random.Generator) else rng.random_sample(n)


def _get_state(rng):
    return rng.bit_generator.state if isinstance(rng, np.random.Generator) else rng.get_state()


def _rng_kind(rng):
    return "generator" if isinstance(rng, np.random.Generator) else "legacy"


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
    check_candidate_scores(cs)
    order = np.lexsort((positions, tiebreak, cs))[:n]
    return cs[order], tiebreak[order], positions[order], lo + local[order]


def _merge_tops(parts, n):
    cs, tb, pos, idx = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return idx[np.lexsort((pos, tb, cs))[:n]].astype(np.int64)


def _score_chunks(scores):
    """``(blocks, chunk edges)`` of a 1-D Dask array of scores with known chunk sizes."""
    _, da = _dask()
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
    return scores.to_delayed().ravel(), np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _chunk_candidates(candidates, edges):
    """Per chunk: ``dict(mask, local, positions)`` and the number of candidates of each
    chunk (None for explicit indices, whose tie-breaks are drawn in the caller's order)."""
    _, da = _dask()
    n_chunks, N = edges.size - 1, int(edges[-1])
    per_chunk = [dict(mask=None, local=None, positions=None) for _ in range(n_chunks)]
    if candidates is None:
        return per_chunk, np.diff(edges), None
    if isinstance(candidates, da.Array):
        if candidates.dtype != bool or candidates.ndim != 1 or candidates.shape[0] != N:
            raise ValueError(
                f"a Dask candidates must be a boolean mask of shape ({N},) like scores, "
                f"got dtype {candidates.dtype} and shape {candidates.shape}."
            )
        mask = candidates.rechunk((tuple(np.diff(edges).tolist()),))
        counts = mask.map_blocks(
            lambda b: np.array([np.count_nonzero(b)]), chunks=((1,) * n_chunks,), dtype=np.int64
        ).compute()
        for c, m in enumerate(mask.to_delayed().ravel()):
            per_chunk[c]["mask"] = m
        return per_chunk, counts, None
    mask, cand = check_candidates(candidates, N)
    if mask is not None:
        # one slice of the mask per chunk; tie-breaks drawn by the chunks
        for c in range(n_chunks):
            per_chunk[c]["mask"] = mask[edges[c] : edges[c + 1]]
        return per_chunk, np.array([np.count_nonzero(m["mask"]) for m in per_chunk]), None
    return per_chunk, None, cand


def select_batch(scores, n_instances, candidates, random_state):
    """``skactivelab.query.select_batch`` for a Dask array of scores (see there)."""
    dask, _ = _dask()
    from sklearn.utils import check_random_state

    blocks, edges = _score_chunks(scores)
    n_chunks = len(blocks)
    rng = random_state if isinstance(random_state, np.random.Generator) else check_random_state(random_state)
    per_chunk, counts, cand = _chunk_candidates(candidates, edges)
    check_batch(n_instances, cand.size if counts is None else int(counts.sum()))
    states, first = [None] * n_chunks, np.zeros(n_chunks, dtype=np.int64)
    if counts is not None:
        # the NumPy path draws one tie-break per candidate, in row order: chunk c
        # starts where the previous chunks' candidates end in the same stream
        first[1:] = np.cumsum(counts)[:-1]
        for c in range(n_chunks):
            states[c] = _get_state(rng)
            _skip(rng, int(counts[c]))
    else:
        # explicit indices: one tie-break per index in the caller's order
        tiebreak = _draw(rng, cand.size)
        chunk_of = np.searchsorted(edges, cand, side="right") - 1
        order = np.argsort(chunk_of, kind="stable")
        bounds = np.searchsorted(chunk_of[order], np.arange(n_chunks + 1))
        for c in range(n_chunks):
            sel = order[bounds[c] : bounds[c + 1]]
            per_chunk[c].update(local=cand[sel] - edges[c], positions=sel, tiebreak=tiebreak[sel])
    d = dask.delayed
    tops = [
        d(_chunk_top, pure=True)(
            blocks[c], per_chunk[c]["mask"], per_chunk[c]["local"], per_chunk[c]["positions"],
            per_chunk[c].get("tiebreak"), int(edges[c]), int(first[c]), _rng_kind(rng), states[c], n_instances,
        )
        for c in range(n_chunks)
    ]
    (idx,) = dask.compute(d(_merge_tops, pure=True)(tops, n_instances))
    return idx


# --------------------------------------------------------------------------- ActiveLab pools
def _pool_part(fitted):
    """``fitted`` without the labeled data it was fitted on: what scoring the pool
    needs, small enough to travel to every worker."""
    labeled = {"annotations", "pred_probs", "posterior", "annotator_accuracy"}
    return replace(fitted, **{f.name: None for f in fields(fitted) if f.name in labeled},
                   scores_labeled=np.empty(0))


def _rows_block(block, part, n_classes, block_info=None):
    with _in_block(block_info):
        U = check_pred_probs(block, name="pred_probs_unlabeled", n_classes=n_classes)[None]
    with config_context(n_threads=1):
        return score_rows(part, U)


def _checked_models_block(block, lo, n_classes):
    with _in_block({0: {"array-location": [(lo, lo + block.shape[1])]}}):
        return check_pred_probs(block, name="pred_probs_unlabeled", ndim=3, n_classes=n_classes)


def pool_scores(fitted, U, rng):
    """Lazy scores of a Dask pool ``U`` (from :func:`probability_array`) under a fitted
    labeled phase: one per pool row, as ``score_rows`` gives for the whole pool."""
    part = _pool_part(fitted)
    if U.ndim == 2:
        return U.map_blocks(_rows_block, part, U.shape[1], drop_axis=1, dtype=np.float64, meta=np.empty(0))
    if not all(np.isfinite(c) for c in U.chunks[1]):
        raise ValueError("pred_probs_unlabeled has unknown chunk sizes; call compute_chunk_sizes() first.")
    edges = np.concatenate([[0], np.cumsum(U.chunks[1])]).astype(np.int64)
    blocks = [(b, int(lo)) for b, lo in zip(U.to_delayed().ravel(), edges[:-1])]
    return _blocked_pool(part, blocks, U.chunks[1], _checked_models_block, [U.shape[-1]], rng)


# Several models under ActiveLab: the pool's consensus is the models' majority vote,
# whose tie-breaks use statistics of the whole pool (class totals, each model's
# agreement with the unique modes) and one random stream over its tied rows. Two
# eager passes over the pool compute them (the second only when some row is tied);
# the scores themselves stay lazy. A row-wise fitted kind needs neither pass.
def _summary_block(part, U):
    with config_context(n_threads=1):
        return part.pool_summary(U)


def _needs_draws_block(part, U, context):
    with config_context(n_threads=1):
        return part.needs_draws(U, context)


def _final_block(part, U, context, kind, state):
    if state is not None:
        rng = _rng_at(kind, state)
        noise = (lambda shape: rng.random(shape)) if kind == "generator" else rng.random_sample
    else:

        def noise(shape):  # pragma: no cover - pass 2 found no such row
            raise RuntimeError("a row stayed tied that the first passes did not see")

    with config_context(n_threads=1):
        return part.score_rows(U, pool=context, noise=noise)


def _blocked_pool(part, blocks, lengths, source, source_args, rng):
    """Lazy scores of a pool given as ``[(block, first row), ...]``, where
    ``source(block, first_row, *source_args)`` gives the block's (E, n, K) probabilities."""
    dask, da = _dask()
    d = dask.delayed
    args = [d(a, pure=True) for a in source_args]  # e.g. the fold models: one task
    Us = [d(source, pure=True)(b, lo, *args) for b, lo in blocks]
    context, states = None, [None] * len(Us)
    if not part.row_wise:
        context = part.pool_context(dask.compute(*[d(_summary_block, pure=True)(part, u) for u in Us]))
        if context.draws.sum() and any(
            dask.compute(*[d(_needs_draws_block, pure=True)(part, u, context) for u in Us])
        ):
            # the NumPy path draws for every tied row of the whole pool, in row order
            for b in range(len(Us)):
                states[b] = _get_state(rng)
                _skip(rng, int(context.draws[b]))
    kind = _rng_kind(rng)
    pieces = [
        da.from_delayed(d(_final_block, pure=True)(part, u, context, kind, states[b]),
                        shape=(lengths[b],), dtype=np.float64)
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


# A block or partition of a pool may hold no row (a filtered Dask DataFrame, a pool of 0
# rows): its results have no row either, and its models are never asked about it
# (scikit-learn refuses 0 samples).
def _fold_mean_source(X, lo, fold_models, classes):
    if not X.shape[0]:
        return np.empty((len(fold_models), 0, len(classes)))
    return fold_mean_proba(fold_models, X, classes)


def _pool_scores_block(X, fold_models, classes, part):
    if not X.shape[0]:
        return np.empty(0)
    U = fold_mean_proba(fold_models, X, classes)
    with config_context(n_threads=1):
        return score_rows(part, U)


def estimator_pool_scores(est, X_pool):
    """Lazy ``active_learning_scores(X_pool)[1]`` of a fitted estimator for a Dask pool."""
    from sklearn.utils import check_random_state

    X = _feature_blocks(X_pool, est.n_features_in_)
    part = _pool_part(est.active_learning_fit_)
    if len(est.cv_estimators_) > 1:
        if _is_dask_frame(X):
            blocks, lengths = [(p, 0) for p in X.to_delayed()], [np.nan] * X.npartitions
        else:
            blocks, lengths = [(b, 0) for b in X.to_delayed().ravel()], X.chunks[0]
        return _blocked_pool(part, blocks, lengths, _fold_mean_source, [est.cv_estimators_, est.classes_],
                             check_random_state(est.random_state))
    return _rowwise(X, _pool_scores_block, [est.cv_estimators_, est.classes_, part], None, np.float64)


def _final_proba_block(X, finals, classes, weights):
    if not X.shape[0]:
        return np.empty((0, len(classes)))
    return final_proba(finals, X, classes, weights)


def _predict_block(X, final, classes):
    if not X.shape[0]:
        return np.empty(0, dtype=classes.dtype)
    return np.asarray(final.predict(X))


def estimator_predict_proba(est, X, finals, weights):
    """``predict_proba`` of a fitted estimator (its final models ``finals``, their
    ``weights``) for a Dask array or DataFrame, lazily."""
    X = _feature_blocks(X, est.n_features_in_)
    return _rowwise(X, _final_proba_block, [finals, est.classes_, weights], len(est.classes_), np.float64)


def _argmax_classes(P, classes):
    return classes[np.argmax(P, axis=1)]


def classes_of(P, classes):
    """Class of the largest probability of each row of a Dask array ``P``, lazily."""
    return P.map_blocks(_argmax_classes, classes, drop_axis=1, dtype=classes.dtype, meta=np.empty(0, classes.dtype))


def estimator_predict(est, X):
    """``predict`` of a fitted MultiAnnotatorClassifier for a Dask array or DataFrame, lazily."""
    X = _feature_blocks(X, est.n_features_in_)
    return _rowwise(X, _predict_block, [est.estimator_, est.classes_], None, est.classes_.dtype)


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
