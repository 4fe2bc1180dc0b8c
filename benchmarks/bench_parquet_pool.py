"""``skactivelab score`` over a pool stored as many Parquet files on disk.

Writes a pool of ``--rows`` rows (K = ``--classes``, integer example IDs, float64
probabilities) as ``--files`` Parquet files under ``--dir``, plus 10,000 labeled
examples (3 annotators, CSV), then runs

1. the command line streaming the files in this machine's process (no Dask), and
2. the same command with ``--scheduler`` on a ``LocalCluster`` of ``--workers``
   worker processes (one thread each) started by this script,

each in a fresh process, and reports the wall time and the peak resident memory
of the command's process (the client), and checks that both batches are equal.
The files are removed at the end (``--keep`` keeps them).

Run:  nice python benchmarks/bench_parquet_pool.py [--rows 20000000] [--files 40]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RUNNER = """
import json, resource, sys, time
from skactivelab import cli
main = getattr(cli, "console_main", cli.main)  # as the skactivelab program runs it
t0 = time.perf_counter()
code = main(sys.argv[1:])
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "wall": wall, "peak_mb": peak}), file=sys.stderr)
"""


def write_inputs(d, rows, K, files, batch_rows=1_000_000, seed=0):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.join(d, "pool"), exist_ok=True)
    rng = np.random.default_rng(seed)
    n = 10_000
    P = rng.random((n, K))
    P /= P.sum(axis=1, keepdims=True)
    truth = P.argmax(axis=1)
    L = np.where(rng.random((n, 3)) < 0.7, truth[:, None], rng.integers(0, K, (n, 3)))
    names = [f"c{k}" for k in range(K)]
    lab = pd.DataFrame(P, columns=names)
    lab.insert(0, "example_id", np.arange(n))
    lab.to_csv(os.path.join(d, "probs.csv"), index=False, float_format="%.17g")
    ann = pd.DataFrame({"example_id": np.repeat(np.arange(n), 3),
                        "annotator_id": np.tile(["a", "b", "c"], n),
                        "label": [names[k] for k in L.ravel()]})
    ann.to_csv(os.path.join(d, "annotations.csv"), index=False)
    t0 = time.perf_counter()
    per_file = -(-rows // files)
    row = n
    for f in range(files):
        m = min(per_file, rows - f * per_file)
        if m <= 0:
            break
        with pq.ParquetWriter(os.path.join(d, "pool", f"part-{f:04d}.parquet"),
                              pa.schema([("example_id", pa.int64())] +
                                        [(c, pa.float64()) for c in names])) as w:
            for a in range(0, m, batch_rows):
                b = min(m, a + batch_rows)
                x = rng.random((b - a, K))
                x /= x.sum(axis=1, keepdims=True)
                cols = [pa.array(np.arange(row + a, row + b))] + [pa.array(x[:, k]) for k in range(K)]
                w.write_table(pa.Table.from_arrays(cols, names=["example_id"] + names))
        row += m
    return time.perf_counter() - t0


def run_cli(d, out, batch, extra):
    argv = ["score", "--annotations", os.path.join(d, "annotations.csv"), "--pred-probs",
            os.path.join(d, "probs.csv"), "--unlabeled-pred-probs", os.path.join(d, "pool"),
            "--batch", str(batch), "--out", out, "--quiet", *extra]
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True,
                          env=env, cwd=ROOT)
    last = [ln for ln in proc.stderr.splitlines() if ln.startswith('{"code"')]
    if not last:
        raise SystemExit(proc.stderr)
    stats = json.loads(last[-1])
    if stats["code"] != 0:
        raise SystemExit(proc.stderr)
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--chunk-rows", type=int, default=500_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[2])
    ap.add_argument("--dir", default="/tmp/skactivelab_bench_parquet_pool")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    d = a.dir
    if os.path.exists(d):
        raise SystemExit(f"{d} exists; remove it or give --dir")
    try:
        t_write = write_inputs(d, a.rows, a.classes, a.files)
        size = sum(os.path.getsize(os.path.join(d, "pool", f)) for f in os.listdir(os.path.join(d, "pool")))
        print(f"wrote {a.rows:,} rows x {a.classes} classes in {a.files} Parquet files "
              f"({size / 1e9:.2f} GB) in {t_write:.1f} s", flush=True)
        results = []
        s = run_cli(d, os.path.join(d, "stream.csv"), a.batch, ["--chunk-rows", str(a.chunk_rows)])
        results.append(("streamed, no Dask", s))
        print(f"streamed: {s['wall']:.1f} s, client peak RSS {s['peak_mb']:.0f} MB", flush=True)
        import distributed

        os.environ["PYTHONPATH"] = ROOT  # the workers import skactivelab from here
        sys.path.insert(0, ROOT)  # (spawned worker processes start with this sys.path)
        for w in a.workers:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cluster = distributed.LocalCluster(n_workers=w, threads_per_worker=1,
                                                   processes=True, dashboard_address=None,
                                                   memory_limit="3GB")
            try:
                out = os.path.join(d, f"dask{w}.csv")
                s = run_cli(d, out, a.batch, ["--scheduler", cluster.scheduler_address,
                                              "--chunk-rows", str(a.chunk_rows)])
            finally:
                cluster.close()
            same = open(out).read() == open(os.path.join(d, "stream.csv")).read()
            results.append((f"Dask, {w} worker(s)", s))
            print(f"Dask {w} worker(s): {s['wall']:.1f} s, client peak RSS {s['peak_mb']:.0f} MB; "
                  f"batch equal to the streamed one: {same}", flush=True)
            if not same:
                raise SystemExit("the Dask batch differs from the streamed batch")
        print("\n| path | rows | wall s | client peak RSS MB |\n|---|---:|---:|---:|")
        for name, s in results:
            print(f"| {name} | {a.rows:,} | {s['wall']:.1f} | {s['peak_mb']:.0f} |")
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
