"""A pool too large for one process: ActiveLab scores and a top-B batch on Dask.

The pool (``--rows`` rows, K = ``--classes`` classes) is made lazily on the
workers (uniform draws normalised per row), scored with
``skactivelab.get_active_learning_scores`` with a Dask pool against a small labeled set
(10,000 rows, 3 annotators), and the ``--batch`` lowest scores are selected with
``select_batch``'s chunked reduction. Reported: wall time, the client's peak
resident memory, and the ratio to in-memory NumPy (make + score a
``--slice``-row pool in this process, extrapolated linearly to ``--rows``).

Run:  python benchmarks/bench_dask.py [--rows 100000000] [--workers 1 2] [--chunk 1000000]
"""

import argparse
import resource
import time
import warnings

import numpy as np


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def labeled_part(K, n=10_000, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.random((n, K))
    P /= P.sum(axis=1, keepdims=True)
    truth = P.argmax(axis=1)
    L = np.where(rng.random((n, 3)) < 0.7, truth[:, None], rng.integers(0, K, (n, 3)))
    return L, P


def make_block(block_info=None, K=10):
    """Pool rows of one chunk, seeded by the chunk position (the same wherever it runs)."""
    loc = block_info[None]["chunk-location"][0]
    shape = block_info[None]["chunk-shape"]
    x = np.random.default_rng(1000 + loc).random(shape)
    return x / x.sum(axis=1, keepdims=True)


def dask_run(rows, K, chunk, batch, workers, L, P):
    import dask.array as da
    import distributed

    from skactivelab import get_active_learning_scores
    from skactivelab.query import select_batch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
            memory_limit="2GB",
        )
        client = distributed.Client(cluster)
    try:
        chunks = ((chunk,) * (rows // chunk) + ((rows % chunk,) if rows % chunk else ()), (K,))
        pool = da.map_blocks(make_block, K=K, chunks=chunks, dtype=np.float64)
        t0 = time.perf_counter()
        _, scores = get_active_learning_scores(L, P, pool, random_state=0)
        idx = select_batch(scores, batch, random_state=0)
        wall = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    return wall, idx


def numpy_run(n, K, L, P, chunk):
    from skactivelab import get_active_learning_scores

    t0 = time.perf_counter()
    parts = []
    for loc in range(n // chunk):  # same rows as the first chunks of the Dask pool
        x = np.random.default_rng(1000 + loc).random((chunk, K))
        parts.append(x / x.sum(axis=1, keepdims=True))
    U = np.concatenate(parts)
    _, s = get_active_learning_scores(L, P, U, random_state=0)
    return time.perf_counter() - t0, s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--slice", type=int, default=2_000_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    K = args.classes
    L, P = labeled_part(K)

    rows_out = []
    for w in args.workers:  # first, so that the client's peak memory is the Dask run's
        wall, idx = dask_run(args.rows, K, args.chunk, args.batch, w, L, P)
        assert idx.shape == (args.batch,)
        rows_out.append((w, wall, peak_rss_mb()))

    t_np, s_np = numpy_run(args.slice, K, L, P, args.chunk)
    per_row = t_np / args.slice
    print(f"NumPy in memory, {args.slice:,} rows (make + score): {t_np:.2f} s; "
          f"extrapolated to {args.rows:,} rows: {per_row * args.rows:.1f} s")
    print("| workers | rows | wall s | ratio to NumPy (extrapolated) | client peak RSS MB |")
    print("|---:|---:|---:|---:|---:|")
    for w, wall, rss in rows_out:
        print(f"| {w} | {args.rows:,} | {wall:.1f} | {wall / (per_row * args.rows):.2f} | {rss:.0f} |")

    # correctness on the slice: the same rows scored through Dask give the same batch
    from skactivelab.query import select_batch

    _, idx_small = dask_run(args.slice, K, args.chunk, 100, 1, L, P)
    assert np.array_equal(idx_small, select_batch(s_np, 100, random_state=0)), "Dask != NumPy"
    print("check: the Dask batch on the slice equals the NumPy batch")

if __name__ == "__main__":
    main()
