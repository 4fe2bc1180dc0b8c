"""Peak memory of ``skactivelab score`` as the number of annotators grows.

The same 60,000 labels (30,000 examples with 2 labels each, 3 classes) are
spread over M = 50 and M = 10,000 annotators. Each run is a fresh Python
process; its peak resident memory (``ru_maxrss``) is reported beside that of a
process that only imports the command line, so the difference is what ``score``
itself needs. Annotations stay sparse end to end, so the two runs should be
close (goal: M = 10,000 within 1.5x of M = 50).

    python benchmarks/bench_cli_memory.py                  # M = 50 and 10,000
    python benchmarks/bench_cli_memory.py --annotators 50,1000,10000 --examples 30000
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

RUNNER = """
import resource, sys, time
sys.path.insert(0, {root!r})
from skactivelab import cli
argv = {argv!r}
t0 = time.perf_counter()
code = getattr(cli, "console_main", cli.main)(argv) if argv else 0  # as the skactivelab program runs it
dt = time.perf_counter() - t0
print("RESULT", code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, dt)
"""


def make_files(directory, n_examples, n_annotators, labels_per_example=2, n_classes=3, seed=0):
    """Long annotations and probabilities with an ID column; the labels do not depend on M."""
    rng = np.random.default_rng(seed)
    ex = np.repeat(np.arange(n_examples), labels_per_example)
    slot = np.tile(np.arange(labels_per_example), n_examples)
    # distinct annotators per example for any M >= labels_per_example
    first = rng.integers(0, n_annotators, n_examples)
    an = (np.repeat(first, labels_per_example) + slot) % n_annotators
    lab = rng.integers(0, n_classes, ex.size)
    classes = [f"class{k}" for k in range(n_classes)]
    ann = directory / f"ann_M{n_annotators}.csv"
    with open(ann, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["example_id", "annotator_id", "label"])
        w.writerows(zip((f"ex{i}" for i in ex), (f"worker{j}" for j in an),
                        (classes[k] for k in lab)))
    probs = directory / "probs.csv"
    if not probs.exists():
        P = rng.dirichlet(np.ones(n_classes), n_examples)
        with open(probs, "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["example_id", *classes])
            w.writerows([f"ex{i}", *map(repr, p)] for i, p in enumerate(P.tolist()))
    return ann, probs


def run(argv):
    code = RUNNER.format(root=str(ROOT), argv=argv)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(out.stderr[-2000:])
    _, status, maxrss_kb, seconds = line.split()
    if int(status) != 0:
        raise RuntimeError(out.stderr[-2000:])
    return int(maxrss_kb) / 1024, float(seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annotators", default="50,10000", help="comma-separated M values")
    ap.add_argument("--examples", type=int, default=30000, help="examples (2 labels each)")
    args = ap.parse_args()
    ms = [int(m) for m in args.annotators.split(",")]
    base, _ = run([])
    print(f"score on {2 * args.examples:,} labels ({args.examples:,} examples, 2 labels each, "
          f"3 classes); import-only process: {base:.0f} MB")
    print(f"{'annotators':>10} {'peak RSS MB':>12} {'above import MB':>16} {'wall s':>8}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for m in ms:
            ann, probs = make_files(tmp, args.examples, m)
            peak, seconds = run(["score", "--annotations", str(ann), "--pred-probs", str(probs),
                                 "--batch", "100", "--out", str(tmp / "next.csv")])
            os.unlink(ann)
            rows.append((m, peak, peak - base, seconds))
            print(f"{m:>10,} {peak:>12.0f} {peak - base:>16.0f} {seconds:>8.2f}", flush=True)
    if len(rows) > 1:
        ratio = rows[-1][1] / rows[0][1]
        print(f"peak RSS at M={rows[-1][0]:,} / M={rows[0][0]:,}: {ratio:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.0f} s)")
