"""Make input files for ``skactivelab fit`` from Wall Robot with simulated noisy annotators.

Reads ``wall_robot.csv`` (24 numeric columns us1..us24 and a ``label`` column)
and writes, into ``--out`` (default ``wall_robot_files/``):

* ``features.csv``: ``example_id`` (strings ``wr-00001`` ...) and us1..us24,
  the ``label`` column dropped;
* ``annotations.csv``: long format ``example_id,annotator_id,label``: each of
  ``--annotators`` simulated annotators has its own accuracy (0.55 to 0.95) and
  its own confusions; a fraction ``--labeled`` of the rows gets 1 to 3 labels
  from distinct annotators, the other rows stay unlabeled (the pool);
* ``truth.csv``: ``example_id,true_label`` to check the consensus afterwards.

Only numpy and the csv module; run it, then for example::

    python examples/make_wall_robot_annotation_files.py --out /tmp/wr
    skactivelab fit --features /tmp/wr/features.csv --annotations /tmp/wr/annotations.csv \\
        --model extratrees --batch 100 --out-dir /tmp/wr/round1
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

DEFAULT_DATA = "wall_robot.csv"


def read_wall_robot(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r]
    header, body = rows[0], rows[1:]
    li = header.index("label")
    feat_cols = [j for j in range(len(header)) if j != li]
    features = [[r[j] for j in feat_cols] for r in body]  # keep the file's text as is
    labels = np.array([r[li] for r in body])
    return [header[j] for j in feat_cols], features, labels


def simulate(labels, n_annotators, labeled_fraction, rng):
    """Long-format annotations: (row, annotator, label) triples, one row per label."""
    classes = np.unique(labels)
    K = len(classes)
    y = np.searchsorted(classes, labels)
    accuracy = np.linspace(0.55, 0.95, n_annotators)
    rng.shuffle(accuracy)
    # each annotator: accuracy on the diagonal, its own mistake profile elsewhere
    noise = np.empty((n_annotators, K, K))
    for a in range(n_annotators):
        off = rng.dirichlet(np.full(K - 1, 0.7), size=K)
        for k in range(K):
            noise[a, k, np.arange(K) != k] = (1 - accuracy[a]) * off[k]
            noise[a, k, k] = accuracy[a]
    n = len(labels)
    labeled = rng.permutation(n)[: int(round(labeled_fraction * n))]
    n_labels = rng.choice([1, 2, 3], size=labeled.size, p=[0.5, 0.3, 0.2])
    triples = []
    for i, m in zip(labeled, n_labels):
        for a in rng.choice(n_annotators, size=m, replace=False):
            k = rng.choice(K, p=noise[a, y[i]])
            triples.append((int(i), int(a), classes[k]))
    rng.shuffle(triples)  # exports from labeling tools are rarely sorted
    return triples, accuracy


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DEFAULT_DATA,
                   help="the UCI Wall-Following Robot Navigation CSV (feature columns and a "
                   f"'label' column; default: ./{DEFAULT_DATA})")
    p.add_argument("--out", default="wall_robot_files", help="output directory")
    p.add_argument("--annotators", type=int, default=12)
    p.add_argument("--labeled", type=float, default=0.6, help="fraction of rows with labels")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not Path(args.data).is_file():
        raise SystemExit(
            f"{args.data} not found: this example needs the Wall Robot CSV (UCI 'Wall-Following "
            "Robot Navigation', or OpenML 1526 saved with a 'label' column); pass --data PATH."
        )

    rng = np.random.default_rng(args.seed)
    names, features, labels = read_wall_robot(args.data)
    ids = [f"wr-{i + 1:05d}" for i in range(len(labels))]
    annotator_ids = [f"annotator-{a + 1:02d}" for a in range(args.annotators)]
    triples, accuracy = simulate(labels, args.annotators, args.labeled, rng)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "features.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["example_id", *names])
        w.writerows([x, *row] for x, row in zip(ids, features))
    with open(out / "annotations.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["example_id", "annotator_id", "label"])
        w.writerows([ids[i], annotator_ids[a], lab] for i, a, lab in triples)
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["example_id", "true_label"])
        w.writerows(zip(ids, labels))

    n_lab = len({i for i, _, _ in triples})
    print(f"{len(ids)} rows, {n_lab} labeled with {len(triples)} labels from {args.annotators} "
          f"annotators, {len(ids) - n_lab} unlabeled; files in {out}/")
    print("simulated accuracy: " + ", ".join(
        f"{a} {acc:.2f}" for a, acc in sorted(zip(annotator_ids, accuracy), key=lambda t: t[1])))


if __name__ == "__main__":
    main()
