"""Time and peak memory of ``skactivelab score`` on a million annotations.

Data: 500,000 labeled examples with 2 labels each (1,000,000 annotations, 50
annotators, 3 classes) in a long table, and 1,000,000 probability rows with an
ID column (the labeled examples plus 500,000 unlabeled ones). Each format is
scored in a fresh process; wall time and peak resident memory (``ru_maxrss``)
are reported, beside a process that only imports the command line.

    python benchmarks/bench_cli_io.py                      # CSV and Parquet, 1M annotations
    python benchmarks/bench_cli_io.py --formats csv --root /path/to/other/checkout
    python benchmarks/bench_cli_io.py --labeled 50000      # a quick run

``--root`` runs the ``skactivelab`` of another checkout (for a before/after table);
formats it cannot read are reported as failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
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
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT", code, ru.ru_maxrss, time.perf_counter() - t0, ru.ru_utime + ru.ru_stime)
"""


def make_files(directory, n_labeled, n_unlabeled, n_annotators=50, n_classes=3, seed=0,
               labels_per_example=2):
    import pandas as pd

    rng = np.random.default_rng(seed)
    per = labels_per_example
    ex = np.repeat(np.arange(n_labeled), per)
    first = rng.integers(0, n_annotators, n_labeled)
    # distinct annotators per example (consecutive ones, modulo M)
    an = (np.repeat(first, per) + np.tile(np.arange(per), n_labeled)) % n_annotators
    lab = rng.integers(0, n_classes, ex.size)
    classes = np.array([f"class{k}" for k in range(n_classes)], dtype=object)
    ann = pd.DataFrame({"example_id": np.char.add("ex", ex.astype(str)),
                        "annotator_id": np.char.add("worker", an.astype(str)),
                        "label": classes[lab]})
    n = n_labeled + n_unlabeled
    P = rng.dirichlet(np.ones(n_classes), n)
    probs = pd.DataFrame(P, columns=list(classes))
    probs.insert(0, "example_id", np.char.add("ex", np.arange(n).astype(str)))
    paths = {}
    ann.to_csv(directory / "ann.csv", index=False)
    probs.to_csv(directory / "probs.csv", index=False, float_format="%.17g")
    paths["csv"] = (directory / "ann.csv", directory / "probs.csv")
    try:
        ann.to_parquet(directory / "ann.parquet")
        probs.to_parquet(directory / "probs.parquet")
        paths["parquet"] = (directory / "ann.parquet", directory / "probs.parquet")
    except ImportError:
        pass
    return paths, int(ex.size), n


def run(root, argv):
    out = subprocess.run([sys.executable, "-c", RUNNER.format(root=str(root), argv=argv)],
                         capture_output=True, text=True, check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        return None, out.stderr.strip().splitlines()[-1:] or ["no output"]
    _, code, rss, seconds, cpu = line.split()
    if int(code) != 0:
        return None, out.stderr.strip().splitlines()[-1:]
    return (int(rss) / 1024, float(seconds), float(cpu)), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labeled", type=int, default=500_000, help="labeled examples (2 labels each)")
    ap.add_argument("--unlabeled", type=int, default=None, help="default: as many as labeled")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--root", default=str(ROOT), help="checkout whose skactivelab to run")
    ap.add_argument("--make", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    unl = args.labeled if args.unlabeled is None else args.unlabeled
    if args.make:  # child process: write the files and exit
        make_files(Path(args.make), args.labeled, unl)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # the files are made in a child process: a forked child's peak RSS (ru_maxrss)
        # would otherwise start from this process's size
        subprocess.run([sys.executable, __file__, "--make", str(tmp), "--labeled",
                        str(args.labeled), "--unlabeled", str(unl)], check=True)
        paths = {"csv": (tmp / "ann.csv", tmp / "probs.csv")}
        if (tmp / "ann.parquet").exists():
            paths["parquet"] = (tmp / "ann.parquet", tmp / "probs.parquet")
        n_ann, n_rows = 2 * args.labeled, args.labeled + unl
        base, _ = run(args.root, [])
        print(f"score: {n_ann:,} annotations, {n_rows:,} probability rows; code from {args.root}; "
              f"import-only process {base[0]:.0f} MB")
        print(f"{'format':>8} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12} {'above import MB':>16}")
        for fmt in args.formats.split(","):
            if fmt not in paths:
                print(f"{fmt:>8} skipped (pandas/pyarrow missing)")
                continue
            ann, probs = paths[fmt]
            res, err = run(args.root, ["score", "--annotations", str(ann), "--pred-probs",
                                       str(probs), "--batch", "1000", "--out",
                                       str(tmp / "next.csv")])
            if res is None:
                print(f"{fmt:>8} failed: {' '.join(err)[:100]}")
                continue
            rss, seconds, cpu = res
            print(f"{fmt:>8} {seconds:>8.1f} {cpu:>8.1f} {rss:>12.0f} {rss - base[0]:>16.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
