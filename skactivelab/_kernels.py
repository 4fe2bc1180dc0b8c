"""Vectorised numeric kernels of the scoring core (docs/algorithms.md; "algorithms N" below names its sections).

Every function here takes validated inputs: an :class:`~skactivelab._annotations.Annotations`
(sparse triples, labels encoded 0..K-1) and float64 probability arrays that the
caller owns (never a user's array). Costs are O(n_annotations + N*K + M*K); there
is no Python loop over examples or annotators.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._config import effective_n_threads

EPS = 1e-6  # lower clip for weights and errors
TINY = 1e-30  # lower clip for probabilities
COARSE_TEMPERATURES = np.array([0.1, 0.2, 0.5, 0.8, 1.0, 2.0, 3.0, 5.0, 8.0])


def _dot(a, b):
    """Inner product without BLAS (OpenBLAS dot/gemv can be many times slower here)."""
    return float(np.multiply(a, b).sum())


def weighted_sum(weights, arrays, out=None):
    """``sum_e weights[e] * arrays[e]`` for arrays of shape (E, ...), without BLAS."""
    out = np.multiply(arrays[0], weights[0], out=out)
    for e in range(1, len(weights)):  # loop over models (a handful)
        out += arrays[e] * weights[e]
    return out


def _safe_divide(num, den):
    """num / den with NaN where den == 0 (no warnings)."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


#: Cells per block of :func:`exp_inplace` (its single-precision buffer: 512 KiB).
EXP_BLOCK = 1 << 17


def exp_inplace(J):
    """``exp(J)`` into ``J`` (float64), computed in single precision.

    For the E-step of a crowd model, whose rows are shifted to a largest entry of 0 before:
    NumPy's single-precision ``exp`` is vectorised where its double-precision one is not
    (three times as fast on AVX2 machines), and its relative error, about ``1e-7 * |J|``, is
    far below what a posterior or a log-likelihood is compared to. Entries below about -87
    (``exp`` under ``1e-38``) come out subnormal, with a relative error that grows to 100% at
    about -104, below which they are 0; entries that differ by less than about ``3e-8`` may
    come out equal. The cells are taken in blocks of :data:`EXP_BLOCK`,
    so the buffer stays small whatever the array.
    """
    if not J.flags.c_contiguous:  # (reshape would copy)
        return np.exp(J, out=J)
    flat = J.reshape(-1)
    buf = np.empty(min(flat.size, EXP_BLOCK), np.float32)
    for start in range(0, flat.size, EXP_BLOCK):  # loop over blocks of cells
        part = flat[start:start + EXP_BLOCK]
        b = buf[:part.size]
        np.copyto(b, part, casting="same_kind")
        np.exp(b, out=b)
        np.copyto(part, b)
    return J


#: Largest group of rows :func:`sum_log_rows` multiplies before one ``log``.
LOG_GROUP = 8


def sum_log_rows(T):
    """``log(T).sum(axis=0)`` of a positive 2-D float64 array, with a fraction of the ``log`` calls
    (any other input: the plain sum).

    Rows are multiplied in groups (of up to :data:`LOG_GROUP`, as many as keep every
    product between 1e-300 and 1e300) before the ``log``, which is the costly part:
    ``log(a) + log(b) = log(a * b)``, exact to rounding (about 1e-15 relative).
    """
    lo, hi = (float(T.min()), float(T.max())) if T.ndim == 2 and T.dtype == np.float64 and T.size else (0.0, 0.0)
    if not (lo > 0.0 and np.isfinite(hi)):  # (zeros, infinities, other shapes and dtypes)
        return np.log(T).sum(axis=0)
    top = max(hi, 1.0 / lo)
    g = 1
    while g < LOG_GROUP and 2 * g * np.log10(top) < 300.0:
        g *= 2
    if g > 1:
        pad = (-T.shape[0]) % g
        if pad:
            T = np.concatenate([T, np.ones((pad, T.shape[1]))])
        while g > 1:  # loop over halvings (at most three)
            T = T[0::2] * T[1::2]
            g //= 2
    return np.log(T).sum(axis=0)


# --------------------------------------------------------------------------- row-wise reductions
# NumPy reduces a (rows, K) array over its short rows one row at a time, so these
# helpers loop over the K columns instead (or sum bytes); results are exact: the
# same as the plain NumPy reduction.

#: Annotations per block where a pass over the annotations would otherwise make several
#: arrays as long as all of them (same results: the blocks are taken in order).
ANNOTATION_BLOCK = 1 << 16

#: Up to this many columns, row-wise reductions loop over the columns.
SHORT_ROWS = 16


def _row_extreme(A, ufunc, out):
    if A.shape[1] > SHORT_ROWS or A.shape[1] == 0 or A.shape[0] == 0:
        return ufunc.reduce(A, axis=1, out=out)
    if out is None:
        out = A[:, 0].copy()
    else:
        np.copyto(out, A[:, 0])
    for k in range(1, A.shape[1]):  # loop over classes
        ufunc(out, A[:, k], out=out)
    return out


def row_max(A, out=None):
    """``A.max(axis=1)`` of a 2-D array."""
    return _row_extreme(A, np.maximum, out)


def row_min(A, out=None):
    """``A.min(axis=1)`` of a 2-D array."""
    return _row_extreme(A, np.minimum, out)


def row_count(mask):
    """``mask.sum(axis=1)`` of a 2-D boolean array (as uint8 when it has fewer than 256 columns)."""
    if mask.shape[1] < 256:  # a uint8 sum cannot overflow
        return np.einsum("ij->i", mask.view(np.uint8))
    return np.count_nonzero(mask, axis=1)


def several(mask):
    """Rows of a 2-D boolean array with more than one True."""
    return row_count(mask) > 1


def single_annotation_consensus(ann, P):
    """algorithms 4 and 2.9, one label per example: the consensus is that label, its quality
    the mean over models of ``P[e, i, label]``, and the model(s) and every annotator
    weigh 1. ``P`` has shape (E, N, K).

    Returns ``(consensus, quality, stats)`` with ``stats`` shaped like the one of
    :func:`crowdlab_consensus`: ``post`` (the mean of the models),
    ``annotator_weights`` (M,) and ``model_weight`` (E,).
    """
    E, N = P.shape[0], P.shape[1]
    consensus = np.empty(N, dtype=np.int64)
    consensus[ann.example] = ann.label
    stats = {
        "post": P.mean(axis=0),
        "annotator_weights": np.ones(ann.n_annotators),
        "model_weight": np.ones(E),
    }
    return consensus, P[:, np.arange(N), consensus].mean(axis=0), stats


def keep_best(cand, values, largest):
    """Row-wise tie-break step: keep the candidate cells whose value is best in their row.

    ``cand`` is a boolean (rows, K) mask of candidates, ``values`` (rows, K); returns
    the new mask (rows without candidates stay empty).
    """
    v = np.where(cand, values, -np.inf if largest else np.inf)
    best = row_max(v) if largest else row_min(v)
    return cand & (v == best[:, None])


def label_counts(ann, dtype=np.int64):
    """algorithms 1: ``count[i, k]`` = number of annotators of example i who chose k.

    Another ``dtype`` (``np.float64``, or an unsigned type that holds every count:
    :func:`count_dtype`): the counts counted block by block into the one array of that
    type (whole numbers: exact in any order), without an int64 copy.
    """
    N, K = ann.n_examples, ann.n_classes
    if np.dtype(dtype) == np.int64:
        return np.bincount(ann.example * K + ann.label, minlength=N * K).reshape(N, K)
    count = np.zeros((N, K), dtype=dtype)
    flat = count.reshape(-1)
    one = count.dtype.type(1)  # of the array's type: np.add.at casts any other one by a slow path (30x)
    for lo in range(0, ann.n_annotations, ANNOTATION_BLOCK):  # a loop over blocks of annotations
        cells = ann.example[lo:lo + ANNOTATION_BLOCK] * K
        cells += ann.label[lo:lo + ANNOTATION_BLOCK]
        np.add.at(flat, cells, one)
    return count


def count_dtype(n_per):
    """The smallest unsigned integer type that holds every count of :func:`label_counts`
    (none exceeds the largest number of labels of one example, ``n_per.max()``)."""
    return np.min_scalar_type(int(n_per.max()) if n_per.size else 0)


def modes(count):
    """algorithms 1: (first modal class, number of modal classes, modal mask) of each row
    (the numbers as :func:`row_count` gives them: uint8 below 256 classes)."""
    is_mode = count == row_max(count)[:, None]
    return np.argmax(is_mode, axis=1), row_count(is_mode), is_mode


def agreement_sums(ann, label, unique_mode):
    """algorithms 1 step 3: per annotator, (labels equal to a unique mode, labels on unique-mode rows)."""
    M = ann.n_annotators
    on_unique = unique_mode[ann.example]
    hits = (ann.label == label[ann.example]) & on_unique
    return (
        np.bincount(ann.annotator, weights=hits, minlength=M),
        np.bincount(ann.annotator, weights=on_unique, minlength=M),
    )


def agreement_from_sums(hits, on_unique):
    """Annotator trust from :func:`agreement_sums` (undefined ones get the mean, or 0)."""
    agree = _safe_divide(hits, on_unique)
    defined = ~np.isnan(agree)
    if defined.any():
        agree[~defined] = agree[defined].mean()
    else:
        agree[:] = 0.0
    return agree


def majority_vote(ann, count, P=None, rng=None, *, totals=None, agree=None, noise=None):
    """algorithms 1: majority vote with the four-step tie-break. Returns int64 (N,).

    ``P`` (N, K) breaks ties first (for an ensemble pass the mean of the models).
    When the rows are one block of a larger set, ``totals`` (class counts, step 2)
    and ``agree`` (annotator trust, step 3) are those of the whole set, and
    ``noise(shape)`` gives the block's share of the random stream (step 4).
    """
    N, K = count.shape
    label, n_modes, is_mode = modes(count)
    tied = np.flatnonzero(n_modes > 1)
    if tied.size == 0:
        return label
    cand = is_mode[tied]
    # step 1: highest predicted probability among the tied classes (rows in blocks: their
    # probabilities are gathered a block at a time)
    if P is not None:
        step = max(1, ANNOTATION_BLOCK // max(K, 1))  # (blocks of 65,536 probabilities)
        for lo in range(0, tied.size, step):  # a loop over blocks of tied rows
            cand[lo:lo + step] = keep_best(cand[lo:lo + step], P[tied[lo:lo + step]], largest=True)
    # step 2: lowest total count over the dataset (rows with one candidate left keep it)
    if several(cand).any():
        if totals is None:
            # count.sum(axis=0), exact for integers (summed as int64 whatever the counts' type)
            totals = np.einsum("ij->j", count) if count.dtype == np.int64 \
                else count.sum(axis=0, dtype=np.int64)
        cand = keep_best(cand, np.broadcast_to(totals, cand.shape), largest=False)
    # step 3: mean trust of the annotators who chose each tied class
    if several(cand).any():
        if agree is None:
            agree = agreement_from_sums(*agreement_sums(ann, label, n_modes == 1))
        # position of each tied row, -1 elsewhere
        pos = np.full(N, -1, dtype=np.int64)
        pos[tied] = np.arange(tied.size)
        sel = pos[ann.example] >= 0
        key = pos[ann.example[sel]] * K + ann.label[sel]
        tot = np.bincount(key, weights=agree[ann.annotator[sel]], minlength=tied.size * K)
        cnt = np.bincount(key, minlength=tied.size * K)
        trust = _safe_divide(tot, cnt).reshape(tied.size, K)
        cand = keep_best(cand, np.nan_to_num(trust, nan=-np.inf), largest=True)
    # step 4: seeded random choice
    if several(cand).any():
        if noise is None:
            if rng is None:
                rng = np.random.default_rng()
            noise = rng.random
        r = np.where(cand, noise(cand.shape), -1.0)
        cand = r == row_max(r)[:, None]
    label[tied] = np.argmax(cand, axis=1)
    return label


# --------------------------------------------------------------------------- calibration
#: Floats per (K, rows) buffer of the fused passes: a few such buffers stay in the
#: CPU's cache between the passes over a block (512 KiB each).
BLOCK_FLOATS = 65_536


def cache_blocks(lo, hi, n_classes):
    """Consecutive ``(start, stop)`` row ranges covering ``lo..hi``, each small enough
    that a few (n_classes, rows) buffers stay in cache (a loop over blocks)."""
    step = max(64, BLOCK_FLOATS // max(n_classes, 1))
    return [(s, min(s + step, hi)) for s in range(lo, hi, step)]


def _sum_log(x, rows, out, s):
    """``log sum_k x[k]`` (a sum over the K contiguous rows of ``x``) into ``out[t]`` for t in ``rows``.

    The classes are added in order, k = 0, 1, ..., whatever the block's width: NumPy adds
    the rows of a wider block one after the other, but sums a block one column wide (a
    thread's share of one row, or the last cache block) pairwise, which rounds differently
    and would make the result depend on the number of threads and the block size.
    """
    if x.shape[1] == 1:
        s[0] = np.add.accumulate(x[:, 0])[-1]
    else:
        np.add.reduce(x, axis=0, out=s)
    for t in rows:
        np.log(s, out=out[t])


def _block_log_norms(d, temperatures, out, e, a, b, s):
    """``out[t] = log sum_k exp(d[k] / T_t)`` for one class-major block ``d`` (K, n), d <= 0.

    One exp pass serves every coarse-grid T: with ``u = exp(d / 15)`` their
    ``exp(d / T)`` are products and square roots of shared steps (u^3 for T = 5,
    u^5 for T = 3, e = u^15 for T = 1, then e^2, e^5, e^10 and e^(1/2), e^(5/4),
    e^(1/8)), each within ~200 units in the last place of a direct ``exp``.
    Values that underflow there are below 1e-40 and cannot change a sum >= 1.
    Other T take a full exp pass. ``e``, ``a``, ``b`` are (K, n) and ``s`` (n,)
    scratch buffers.
    """
    rows = {}
    for t, T in enumerate(temperatures):
        rows.setdefault(float(T), []).append(t)
    need = rows.keys()
    if need & _EXP_DERIVED:
        np.multiply(d, 1.0 / 15.0, out=a)
        np.exp(a, out=a)  # u = e^(1/15), the one exp of the coarse grid
        np.multiply(a, a, out=b)  # u^2
        np.multiply(b, a, out=e)  # u^3 = e^(1/5)
        if 5.0 in need:
            _sum_log(e, rows[5.0], out, s)
        np.multiply(e, b, out=b)  # u^5 = e^(1/3)
        if 3.0 in need:
            _sum_log(b, rows[3.0], out, s)
        np.multiply(b, b, out=e)  # u^10
        e *= b  # u^15 = e
        if 1.0 in need:
            _sum_log(e, rows[1.0], out, s)
        if need & {0.5, 0.2, 0.1}:
            np.multiply(e, e, out=a)  # e^2
            if 0.5 in need:
                _sum_log(a, rows[0.5], out, s)
            if need & {0.2, 0.1}:
                np.multiply(a, a, out=a)  # e^4
                a *= e  # e^5
                if 0.2 in need:
                    _sum_log(a, rows[0.2], out, s)
                if 0.1 in need:
                    np.multiply(a, a, out=a)  # e^10
                    _sum_log(a, rows[0.1], out, s)
        if need & {2.0, 0.8, 8.0}:
            np.sqrt(e, out=a)  # e^(1/2)
            if 2.0 in need:
                _sum_log(a, rows[2.0], out, s)
            if need & {0.8, 8.0}:
                np.sqrt(a, out=a)  # e^(1/4)
                if 0.8 in need:
                    np.multiply(a, e, out=b)  # e^(5/4)
                    _sum_log(b, rows[0.8], out, s)
                if 8.0 in need:
                    np.sqrt(a, out=a)  # e^(1/8)
                    _sum_log(a, rows[8.0], out, s)
    for T in need - _EXP_DERIVED:  # loop over temperatures, not examples
        np.multiply(d, 1.0 / max(T, EPS), out=a)
        np.exp(a, out=a)
        _sum_log(a, rows[T], out, s)


_EXP_DERIVED = {0.1, 0.2, 0.5, 0.8, 1.0, 2.0, 3.0, 5.0, 8.0}


def block_pass(n_rows, n_classes, visit):
    """Call ``visit(i, start, stop, scratch)`` for each cache-sized block of rows
    (:func:`cache_blocks`), block ``i`` covering rows ``start..stop``; ``scratch`` is a
    dict of buffers the thread reuses from block to block. The blocks depend on the
    numbers of rows and classes alone; large inputs are split between threads by whole
    blocks (NumPy releases the GIL in ufuncs). Returns the blocks."""
    blocks = cache_blocks(0, n_rows, n_classes)

    def run(first, last):
        scratch = {}
        for i in range(first, last):  # a loop over cache-sized blocks of rows
            visit(i, *blocks[i], scratch)

    in_row_blocks(run, len(blocks), n_classes * n_rows)
    return blocks


def normaliser_pass(shifted, temperatures, visit):
    """One pass over class-major shifted log-probabilities ``shifted`` (K, N), <= 0:
    ``visit(i, start, stop, g)`` gets block ``i``'s log-normalisers
    ``g[t] = log sum_k exp(shifted[k, start:stop] / T_t)`` (n_T, stop - start), a
    buffer it may overwrite (:func:`_block_log_norms`: every T of a block before the
    next block). Returns the blocks (:func:`block_pass`)."""
    K, N = shifted.shape
    n_T = len(temperatures)

    def block(i, start, stop, scratch):
        w = stop - start
        if not scratch:  # a thread's first block is its widest (only the last one is narrower)
            scratch.update(e=np.empty((K, w)), a=np.empty((K, w)), b=np.empty((K, w)), g=np.empty((n_T, w)),
                           s=np.empty(w))
        g = scratch["g"][:, :w]
        _block_log_norms(shifted[:, start:stop], temperatures, g, scratch["e"][:, :w], scratch["a"][:, :w],
                         scratch["b"][:, :w], scratch["s"][:w])
        visit(i, start, stop, g)

    return block_pass(N, K, block)


def _n_threads(size):
    """Threads for an elementwise kernel over ``size`` floats (1 for small inputs).

    Large inputs get :func:`skactivelab._config.effective_n_threads`: the user's
    limit (``skactivelab.config_context(n_threads=...)``), never more than the
    CPUs this process may use nor than an enclosing limit (``OMP_NUM_THREADS``,
    threadpoolctl, a joblib worker thread).
    """
    if size < 2_000_000:
        return 1
    return effective_n_threads()


def in_row_blocks(block, n_rows, size):
    """Call ``block(lo, hi)`` over row ranges covering ``0..n_rows``, in threads when
    ``size`` (floats touched) is large; NumPy releases the GIL inside ufuncs."""
    n_blocks = _n_threads(size)
    if n_blocks == 1:
        block(0, n_rows)
        return
    edges = np.linspace(0, n_rows, n_blocks + 1).astype(int)
    with ThreadPoolExecutor(n_blocks) as pool:
        list(pool.map(block, edges[:-1], edges[1:]))


#: Bytes of log-normalisers kept in one pass over the shifted log-probabilities (one float
#: per temperature at each row whose clip can bind, :class:`_EntropyLoss`): every
#: temperature asked for in one pass unless more than ~110,000 such rows (each pass
#: recomputes ``exp(d)``, the costliest step), a few at a time above.
LOG_NORM_BYTES = 8 << 20
#: The fewest temperatures per pass, whatever the number of rows.
T_PER_PASS = 3


def temperatures_per_pass(n_rows):
    """How many temperatures share one pass when each keeps ``n_rows`` log-normalisers: as
    many as fit in :data:`LOG_NORM_BYTES`, at least :data:`T_PER_PASS`."""
    return max(T_PER_PASS, LOG_NORM_BYTES // (8 * max(int(n_rows), 1)))


class _EntropyLoss:
    """algorithms 3: H(T), prepared once per (P, annotations) and evaluated for many T.

    With ``d = log P - rowmax`` (so ``d <= 0``), ``log S_T[i, k] = d[i, k] / T - g_T[i]``
    where ``g_T[i] = log sum_k exp(d[i, k] / T)`` is in ``[0, log K]``. The loss is a
    weighted sum of ``max(log S_T, log TINY)`` over the annotations; wherever the
    clip cannot bind (for any T >= ``t_min``) it is linear in ``1 / T``, so those
    annotations collapse into one scalar and one per-example weight, leaving O(N)
    work per T besides the exp pass. One pass over ``d`` serves every T asked for: the
    log-normalisers ``g_T`` of a cache-sized block of rows are reduced to the block's
    share of the weighted sum at once (never held for every row), and kept only at the
    rows of annotations whose clip can bind (a few T at a time when those rows are many:
    :func:`temperatures_per_pass`). The blocks are fixed by the number of rows and
    classes alone and their shares added in order, whatever the number of threads.
    """

    def __init__(self, P, ann, n_per, t_min):
        N, K = P.shape
        shifted = np.empty((K, N))

        def block(i, start, stop, scratch):
            # the block's log P, class-major, minus its row max (finite: rows sum to 1)
            if not scratch:  # a thread's first block is its widest
                scratch["T"] = np.empty((K, stop - start))
            t = scratch["T"][:, :stop - start]
            np.copyto(t, P[start:stop].T)
            d = shifted[:, start:stop]
            with np.errstate(divide="ignore"):
                np.log(t, out=d)  # -inf where P == 0
            d -= d.max(axis=0)

        block_pass(N, K, block)  # one pass over P builds ``shifted``
        self.floor = np.log(TINY)
        self._annotation_terms(ann, n_per, shifted, max(t_min, EPS) * (self.floor + np.log(K)))
        self.shifted = shifted
        self.scale = -1.0 / ann.n_examples / np.log(K)

    def _annotation_terms(self, ann, n_per, shifted, bound):
        """Each annotation's weight ``1 / n_i`` and shifted log-probability ``d`` at its
        label, block by block. Where the clip cannot bind (``d >= bound``) they collapse
        into ``lin_sum`` (each block's sum, the blocks added in order) and ``lin_rows``;
        the others are kept (``c_ex``, ``c_w``, ``c_d``; their rows ``c_rows``, sorted
        and distinct, and each one's position there, ``c_pos``)."""
        ex, lab = ann.example, ann.label
        self.lin_rows = np.zeros(ann.n_examples)
        shares, clipped = [], []
        for lo in range(0, ex.size, ANNOTATION_BLOCK):  # a loop over blocks of annotations
            rows = ex[lo:lo + ANNOTATION_BLOCK]
            weight = 1.0 / n_per[rows]
            at_label = shifted[lab[lo:lo + ANNOTATION_BLOCK], rows]
            # The clip can bind only if d / T - g < floor with g <= log K.
            clip = at_label < bound
            lin = ~clip
            shares.append(np.multiply(weight[lin], at_label[lin]).sum())
            np.add.at(self.lin_rows, rows[lin], weight[lin])  # as bincount adds: in order
            if not lin.all():
                clipped.append((rows[clip], weight[clip], at_label[clip]))
        self.lin_sum = float(np.sum(shares)) if shares else 0.0
        if clipped:
            self.c_ex, self.c_w, self.c_d = (np.concatenate(c) for c in zip(*clipped))
        else:
            self.c_ex, self.c_w, self.c_d = ex[:0], np.empty(0), np.empty(0)
        self.c_rows, self.c_pos = np.unique(self.c_ex, return_inverse=True)

    def convex_above(self, t_low):
        """Whether the loss is convex in ``1 / T`` for every ``T >= t_low``: true when no
        annotation's clip can bind there (the clip of a label with probability 0 always
        binds: a constant)."""
        bound = max(t_low, EPS) * (self.floor + np.log(self.shifted.shape[0]))
        return bool(np.all((self.c_d >= bound) | (self.c_d == -np.inf)))

    def __call__(self, temperatures):
        temperatures = [float(T) for T in temperatures]
        out = np.empty(len(temperatures))
        step = temperatures_per_pass(self.c_rows.size)  # (all of them unless many clip)
        for g in range(0, len(temperatures), step):  # a loop over groups of temperatures
            group = temperatures[g:g + step]
            lin, at_clipped = self._normaliser_terms(group)
            for t, T in enumerate(group):
                inv_T = 1.0 / max(T, EPS)
                total = self.lin_sum * inv_T - lin[t]
                total += _dot(self.c_w, np.maximum(self.c_d * inv_T - at_clipped[t, self.c_pos], self.floor))
                out[g + t] = total * self.scale
        return out

    def _normaliser_terms(self, temperatures):
        """For each T: ``sum_i lin_rows[i] g_T[i]`` (each cache block's share, the blocks
        added in order) and ``g_T`` at ``c_rows``, from one :func:`normaliser_pass`."""
        K, N = self.shifted.shape
        lin_rows, c_rows = self.lin_rows, self.c_rows
        n_T = len(temperatures)
        blocks = cache_blocks(0, N, K)
        shares = np.zeros((n_T, len(blocks)))
        at_clipped = np.empty((n_T, c_rows.size))
        c_edges = np.searchsorted(c_rows, [lo for lo, _ in blocks] + [N])

        def visit(i, start, stop, g):
            lo, hi = c_edges[i], c_edges[i + 1]
            if hi > lo:
                at_clipped[:, lo:hi] = g[:, c_rows[lo:hi] - start]
            np.multiply(g, lin_rows[start:stop], out=g)
            for t in range(n_T):  # each T's share a 1-D sum: the same whatever n_T
                shares[t, i] = g[t].sum()

        normaliser_pass(self.shifted, temperatures, visit)
        return np.array([row.sum() for row in shares]), at_clipped


def best_temperature(P, ann, n_per):
    """algorithms 3: coarse grid, then a fine grid around the coarse argmin.

    Where the loss is convex in ``1 / T`` over the fine grid (no annotation whose
    clip can bind there, :meth:`_EntropyLoss.convex_above`), its losses are
    unimodal along the grid: the first argmin is found by walking downhill from
    the coarse minimum, which skips fine temperatures that cannot be it (each
    costs a full exp pass). Otherwise every fine temperature is evaluated.
    """
    grid = COARSE_TEMPERATURES
    loss = _EntropyLoss(P, ann, n_per, grid.min())  # fine-grid T are >= grid.min()
    coarse = loss(grid)
    g = int(np.argmin(coarse))
    parts = []
    if g > 0:
        parts.append(np.linspace(grid[g - 1], grid[g], 4, endpoint=False))
    if g < grid.size - 1:
        parts.append(np.linspace(grid[g], grid[g + 1], 5, endpoint=True))
    fine = np.concatenate(parts)
    # Reuse the losses already known at coarse grid points (same floats, same result).
    known = {float(T): h for T, h in zip(grid, coarse)}
    if loss.convex_above(fine.min()):
        return float(fine[_first_argmin_unimodal(fine, known, loss)])
    missing = np.array([T for T in fine if float(T) not in known])
    if missing.size:
        known.update(zip(map(float, missing), loss(missing)))
    losses = np.array([known[float(T)] for T in fine])
    return float(fine[int(np.argmin(losses))])


def _first_argmin_unimodal(points, known, loss):
    """Index of the first minimum of ``loss`` over ``points`` when the losses are
    unimodal along them (non-increasing, then non-decreasing): walk downhill from
    the best point already in ``known`` (a dict T -> loss, completed in place),
    evaluating one point at a time (a loop over at most len(points) temperatures).
    """

    def at(i):
        T = float(points[i])
        if T not in known:
            known[T] = float(loss(points[i:i + 1])[0])
        return known[T]

    have = [i for i, T in enumerate(points) if float(T) in known]
    i = min(have, key=lambda j: (known[float(points[j])], j)) if have else 0
    if i > 0 and at(i - 1) <= at(i):  # the first minimum lies to the left
        i -= 1
        while i > 0 and at(i - 1) <= at(i):
            i -= 1
        return i
    while i + 1 < len(points) and at(i + 1) < at(i):
        i += 1
    return i


def row_sum(A):
    """Sum over the last axis of a 2-D array (einsum is ~3x faster than sum(axis=1) for small K)."""
    return np.einsum("ij->i", A)


def _powered(P, temperature, out):
    """``max(P, TINY) ** (1 / T)`` into ``out``, as ``exp(log(.) / T)``: a third faster
    than ``np.power`` and within about 1e-13 (relative) of it."""
    Q = np.maximum(P, TINY, out=out)
    if temperature != 1.0:
        np.log(Q, out=Q)
        Q *= 1.0 / temperature
        np.exp(Q, out=Q)
    return Q


def _power_is_safe(K, temperature):
    # (1/K) ** (1/T) must stay far from underflow for the power form below.
    return np.log(K) / temperature < 600.0


def max_temp_scaled(P, temperature, *, overwrite=False):
    """Row maximum of ``temp_scale(P, temperature)`` without building the scaled array.

    With ``R = max(P, TINY) ** (1 / T)`` the scaled row is ``R / sum(R)`` (the first
    renormalisation cancels), so its maximum is ``max(R) / sum(R)``. ``P`` is
    taken in cache-sized row blocks (in threads when large); ``overwrite=True``
    reuses ``P``'s memory (our own copy).
    """
    n, K = P.shape
    if not _power_is_safe(K, temperature):
        return row_max(temp_scale(P, temperature))
    R = P if overwrite else np.empty_like(P)
    top, total = np.empty(n), np.empty(n)

    def run(lo, hi):
        for start, stop in cache_blocks(lo, hi, K):  # a loop over cache-sized blocks
            Q = _powered(P[start:stop], temperature, R[start:stop])
            row_max(Q, out=top[start:stop])
            total[start:stop] = row_sum(Q)

    in_row_blocks(run, n, P.size)
    top /= total
    return top


def temp_scale(P, temperature):
    """algorithms 3: clip at TINY, renormalise, softmax(log P / T), renormalise.

    Computed as ``R / sum(R)`` with ``R = max(P, TINY) ** (1 / T)``: the first
    renormalisation and the softmax's shift cancel. For extreme T (where R could
    underflow) the log-space form is used.
    """
    if P.ndim == 2 and _power_is_safe(P.shape[-1], temperature):
        n, K = P.shape
        R = np.empty_like(P)

        def run(lo, hi):
            for start, stop in cache_blocks(lo, hi, K):  # a loop over cache-sized blocks
                Q = _powered(P[start:stop], temperature, R[start:stop])
                Q /= row_sum(Q)[:, None]

        in_row_blocks(run, n, P.size)
        return R
    Q = np.maximum(P, TINY)
    Q /= Q.sum(axis=-1, keepdims=True)
    z = np.log(Q) / temperature
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


# --------------------------------------------------------------------------- CROWDLAB
def annotator_agreement(ann, count, n_per):
    """algorithms 2 step 4: ``s_j``, agreement of annotator j with the other annotators.

    ``s_j = sum_{i in I_j} (m_ij - 1) / sum_{i in I_j} (n_i - 1)``; annotators who
    never share an example get the mean of the defined values; annotators with no
    label get NaN.
    """
    M = ann.n_annotators
    ex, an, lab = ann.example, ann.annotator, ann.label
    has_labels = np.bincount(an, minlength=M) > 0
    num, den = np.zeros(M), np.zeros(M)
    for lo in range(0, ex.size, ANNOTATION_BLOCK):  # blocks of annotations, in order (as bincount adds)
        rows, who = ex[lo:lo + ANNOTATION_BLOCK], an[lo:lo + ANNOTATION_BLOCK]
        np.add.at(num, who, count[rows, lab[lo:lo + ANNOTATION_BLOCK]] - 1.0)
        np.add.at(den, who, n_per[rows] - 1.0)
    s = _safe_divide(num, den)
    defined = ~np.isnan(s)
    if defined.any():
        s[~defined & has_labels] = s[defined].mean()
    return s


def crowdlab_pass(ann, n_per, P, consensus, *, s, model_labels=None, out=None, best_of=None):
    """algorithms 2 steps 1-7 for a given consensus. ``P`` has shape (E, N, K).

    ``s`` is the annotator agreement of :func:`annotator_agreement`,
    ``model_labels`` (E, N) ``argmax P`` (computed here if not given); ``out`` is an
    (N, K) buffer for the posterior. Returns a dict with p_agree,
    annotator_weights (NaN for annotators with no label), model_weight (E,),
    post (N, K), agree (N,), hit (per annotation).

    With ``best_of`` (fallback labels (N,)), only the posterior's
    :func:`best_quality_consensus` is wanted: it is returned as ``consensus``, made
    from the posterior row block by row block (the same numbers), and ``post`` is None.
    """
    N, K = P.shape[1:]
    # algorithms 2 step 1: annotator agreement per example
    hit, hits = _hits(ann, consensus, N)
    agree = hits / n_per
    del hits
    # algorithms 2 step 2: p_agree over I+ (examples with more than one annotation)
    plus = n_per != 1
    p_agree = agree[plus].mean() if plus.any() else np.nan
    p_other = (1.0 - p_agree) / (K - 1)
    # algorithms 2 step 3: most-likely-class error over I+
    c_plus = consensus[plus]
    if c_plus.size:
        mlc = np.argmax(np.bincount(c_plus, minlength=K))
        mlc_error = max(np.mean(c_plus != mlc), EPS)
    else:
        mlc_error = np.nan
    # algorithms 2 step 4: s_j (independent of the consensus: computed once by the caller)
    has_labels = ~np.isnan(s)
    # algorithms 2 step 5: annotator weights
    w = np.maximum(1.0 - (1.0 - s) / mlc_error, EPS)
    w[~has_labels] = np.nan
    # algorithms 2 step 6: model weight(s)
    if c_plus.size:
        if model_labels is None:
            model_labels = np.argmax(P, axis=2)
        model_error = (model_labels[:, plus] != c_plus).mean(axis=1)
    else:
        model_error = np.full(P.shape[0], np.nan)
    del c_plus  # (not held while the posterior is made)
    w_M = np.maximum(1.0 - model_error / mlc_error, EPS) * np.sqrt(n_per.mean())
    # algorithms 2 step 7: posterior
    if best_of is None:
        post = _posterior(ann, P, w, w_M, p_agree, p_other, out)
    else:
        post = None
        best_of = _best_of_posterior(ann, P, w, w_M, p_agree, p_other, best_of)
    stats = {
        "p_agree": p_agree,
        "annotator_weights": w,
        "model_weight": w_M,
        "post": post,
        "agree": agree,
        "hit": hit,
        "plus": plus,
    }
    if best_of is not None:
        stats["consensus"] = best_of
    return stats


def _hits(ann, consensus, N):
    """``(hit, hits)``: whether each label is its example's consensus, and the number of such
    labels per example (counted block by block: whole numbers, the same in any order)."""
    ex, lab = ann.example, ann.label
    hit = np.empty(ex.size, dtype=bool)
    hits = np.zeros(N, dtype=np.int64)
    for lo in range(0, ex.size, ANNOTATION_BLOCK):  # a loop over blocks of annotations
        rows = ex[lo:lo + ANNOTATION_BLOCK]
        block = np.equal(lab[lo:lo + ANNOTATION_BLOCK], consensus[rows], out=hit[lo:lo + rows.size])
        np.add.at(hits, rows[block], 1)  # (a bincount as long as N per block grows with blocks x N)
    return hit, hits


def weight_sums(ann, w, N):
    """``np.bincount(ann.example, weights=w[ann.annotator], minlength=N)``: the weights of
    each example's annotators, added block by block in order (as bincount adds them: the
    same sums), without an array of the weights of every annotation."""
    ex, an = ann.example, ann.annotator
    w_sum = np.zeros(N)
    for lo in range(0, ex.size, ANNOTATION_BLOCK):  # in order, as bincount adds
        np.add.at(w_sum, ex[lo:lo + ANNOTATION_BLOCK], w[an[lo:lo + ANNOTATION_BLOCK]])
    return w_sum


def _posterior_rows(ann, P, lo, hi, take, w, w_sum, w_M, p_agree, p_other, out):
    """algorithms 2 step 7 for rows ``lo..hi``: their posterior, into ``out`` (hi - lo, K).
    ``take`` (a slice or positions) selects the annotations of those rows, in their order;
    they are added block by block, in order: the sums are those of one pass over them."""
    K = P.shape[2]
    ex, an, lab = ann.example, ann.annotator, ann.label
    post = weighted_sum(w_M, P[:, lo:hi], out=out)
    post += (p_other * w_sum[lo:hi])[:, None]
    # each annotation adds (p_agree - p_other) * w_j at its (example, label) cell, in order
    flat = post.reshape(-1)
    whole = isinstance(take, slice)
    n_take = take.stop - take.start if whole else take.size
    for i in range(0, n_take, ANNOTATION_BLOCK):  # a loop over blocks of annotations
        t = (slice(take.start + i, min(take.start + i + ANNOTATION_BLOCK, take.stop)) if whole
             else take[i:i + ANNOTATION_BLOCK])
        cells = ex[t] - lo
        cells *= K
        cells += lab[t]
        np.add.at(flat, cells, (p_agree - p_other) * w[an[t]])
    post /= (w_M.sum() + w_sum[lo:hi])[:, None]
    # a weighted mean of probabilities: rounding may leave it a hair outside [0, 1]
    np.clip(post, 0.0, 1.0, out=post)
    return post


def _posterior(ann, P, w, w_M, p_agree, p_other, out):
    """algorithms 2 step 7: the posterior (N, K), into ``out`` when given."""
    N = P.shape[1]
    return _posterior_rows(ann, P, 0, N, slice(0, ann.example.size), w, weight_sums(ann, w, N), w_M,
                           p_agree, p_other, out)


def _best_of_posterior(ann, P, w, w_M, p_agree, p_other, fallback):
    """:func:`best_quality_consensus` of :func:`_posterior`'s posterior, which is made a
    block of rows at a time (:data:`ANNOTATION_BLOCK` rows, or an eighth of them when that
    is more: at most 8 passes over the annotations to find each block's). Each block takes the
    annotations of its rows in their order, so every cell adds the same terms in the same
    order, and every other step is per cell or per row: the same numbers."""
    E, N, K = P.shape
    ex = ann.example
    w_sum = weight_sums(ann, w, N)
    step = max(ANNOTATION_BLOCK, -(-N // 8))
    grouped = bool(np.all(ex[1:] >= ex[:-1])) if ex.size > 1 else True
    consensus = np.empty(N, dtype=np.int64)
    buf = np.empty((min(step, N), K))
    for lo in range(0, N, step):  # a loop over (at most 8) blocks of rows
        hi = min(lo + step, N)
        if grouped:  # the annotations of the rows are one run
            take = slice(*(int(x) for x in np.searchsorted(ex, [lo, hi])))
        else:  # those of the rows, in order
            take = np.flatnonzero((ex >= lo) & (ex < hi))
        post = _posterior_rows(ann, P, lo, hi, take, w, w_sum, w_M, p_agree, p_other, buf[:hi - lo])
        consensus[lo:hi] = best_quality_consensus(post, fallback[lo:hi])
    return consensus


def best_quality_consensus(post, fallback):
    """algorithms 2.6: argmax of the posterior where unique, else the fallback label."""
    top = np.argmax(post, axis=1)
    n_best = row_count(post == post[np.arange(post.shape[0]), top][:, None])
    return np.where(n_best > 1, fallback, top)


def annotator_statistics(ann, n_per, consensus, annotation_quality, hit, plus, w, w_M_mean, quality):
    """algorithms 2.8: per-annotator statistics (NaN for annotators with no label).

    ``annotation_quality`` is the label-quality score of each annotation (by
    default ``post[example, label]``); ``quality`` is the per-example consensus
    quality (for worst_class ties).
    Returns dict with annotator_quality, agreement_with_consensus, worst_class
    (encoded, -1 if none), num_examples_labeled.
    """
    M, K = ann.n_annotators, ann.n_classes
    ex, an, lab = ann.example, ann.annotator, ann.label
    n_lab = np.bincount(an, minlength=M).astype(np.float64)
    has = n_lab > 0
    # per annotator and per (annotator, chosen class): sums over the annotations, block by
    # block (no array as long as all of them); the float sums are added in order, as
    # bincount adds them, the others are whole numbers (exact in any order)
    q_sum, hits, on_plus, hits_plus = np.zeros(M), np.zeros(M), np.zeros(M), np.zeros(M)
    used, hits_k, q_k = np.zeros(M * K, dtype=np.int64), np.zeros(M * K), np.zeros(M * K)
    for lo in range(0, ex.size, ANNOTATION_BLOCK):  # a loop over blocks of annotations
        who, rows = an[lo:lo + ANNOTATION_BLOCK], ex[lo:lo + ANNOTATION_BLOCK]
        h = hit[lo:lo + ANNOTATION_BLOCK]
        p = plus[rows]
        np.add.at(q_sum, who, annotation_quality[lo:lo + ANNOTATION_BLOCK])
        hits += np.bincount(who, weights=h, minlength=M)
        on_plus += np.bincount(who, weights=p, minlength=M)
        hits_plus += np.bincount(who, weights=h & p, minlength=M)
        key = who * K
        key += lab[lo:lo + ANNOTATION_BLOCK]
        used += np.bincount(key, minlength=M * K)
        hits_k += np.bincount(key, weights=h, minlength=M * K)
        np.add.at(q_k, key, quality[rows])
    # mean label quality of each annotator's annotations
    lq = _safe_divide(q_sum, n_lab)
    A = _safe_divide(hits_plus, on_plus)
    # NaN where A_j is undefined (j never labeled an example with 2+ labels).
    if w is None:  # "agreement" quality method: agreement with consensus on I+
        annotator_quality = A
    else:
        M_eff = has.sum()
        wbar = w_M_mean / (w_M_mean + np.nansum(w) * n_per.mean() / M_eff)
        annotator_quality = wbar * lq + (1.0 - wbar) * A
    agreement = _safe_divide(hits, n_lab)

    # worst class: per (annotator, chosen class) agreement fraction, ties by
    # usage (more first), then mean consensus quality (higher first), then class.
    used = used.reshape(M, K).astype(np.float64)
    frac = _safe_divide(hits_k.reshape(M, K), used)
    mean_q = _safe_divide(q_k.reshape(M, K), used)
    cand = used > 0
    for values, largest in ((frac, False), (used, True), (mean_q, True)):
        cand = keep_best(cand, values, largest)
    worst = np.where(has, np.argmax(cand, axis=1), -1)  # first remaining = smallest class
    return {
        "annotator_quality": np.where(has, annotator_quality, np.nan),
        "agreement_with_consensus": agreement,
        "worst_class": worst,
        "num_examples_labeled": n_lab.astype(np.int64),
    }


def crowdlab_consensus(ann, P, n_per, count, *, method, calibrate, rng, quality_method="crowdlab"):
    """algorithms 2.6 (and 3, 5): optional per-model calibration, majority vote, CROWDLAB passes.

    ``P`` has shape (E, N, K) and is not modified; ``count`` is :func:`label_counts`
    (None: made here after the calibration, and freed after the majority vote).
    Returns ``(consensus, stats of the last pass, temperatures (E,) or None)``.
    """
    temperatures = None
    if calibrate:
        temperatures = np.array([best_temperature(Pe, ann, n_per) for Pe in P])
        scaled = [temp_scale(Pe, T) for Pe, T in zip(P, temperatures)]
        P = scaled[0][None] if len(scaled) == 1 else np.stack(scaled)
    if count is None:  # in the smallest integer type that holds them (the same counts)
        count = label_counts(ann, dtype=count_dtype(n_per))
    # algorithms 5: ties use the mean of the models' probabilities
    mv = majority_vote(ann, count, P[0] if P.shape[0] == 1 else P.mean(axis=0), rng)
    # (held through both passes: in the smallest type that holds a class)
    model_labels = np.argmax(P, axis=2).astype(np.min_scalar_type(P.shape[2] - 1))
    s = annotator_agreement(ann, count, n_per)
    del count  # not needed by the passes (the caller's may be freed)
    # With quality_method="agreement" the posterior is the empirical label
    # distribution, whose unique argmax is the majority vote: consensus = mv.
    if method == "best_quality" and quality_method == "crowdlab":
        # of the first pass only its best-quality consensus is used: its posterior is made
        # block by block, never whole
        consensus = crowdlab_pass(ann, n_per, P, mv, model_labels=model_labels, s=s,
                                  best_of=mv)["consensus"]
        # the second posterior into a new array; or, when P is our own rescaled copy of one
        # model (read by nothing after this pass), over P itself
        out = P[0] if calibrate and P.shape[0] == 1 else None
        stats = crowdlab_pass(ann, n_per, P, consensus, model_labels=model_labels, out=out, s=s)
    else:
        stats = crowdlab_pass(ann, n_per, P, mv, model_labels=model_labels, s=s)
        consensus = mv
    return consensus, stats, temperatures
