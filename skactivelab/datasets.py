"""Datasets for simulations and benchmarks.

* :func:`load_wall_robot`: UCI Wall-Following Robot Navigation (5456 rows, 24
  ultrasound readings, 4 classes) from a CSV file, or from OpenML when no file
  is given and none is found (needs the internet).
* :func:`load_digits_data`: scikit-learn's bundled handwritten digits; needs no
  file and no network (the default of ``skactivelab demo``).
* :func:`paper_subset`: the class-stratified 1100/900/300/700 subset of Wall
  Robot used by the ActiveLab paper (spec section 7).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "default_wall_robot_path",
    "load_dataset",
    "load_digits_data",
    "load_wall_robot",
    "paper_subset",
    "wall_robot_4_features",
]

WALL_ROBOT_OPENML_ID = 1526
#: Per-class sizes of the paper's Wall Robot subset (classes in alphabetical order).
PAPER_CLASS_SIZES = (1100, 900, 300, 700)


def default_wall_robot_path():
    """``shared/data/wall_robot.csv`` beside the project checkout (may not exist)."""
    project_root = Path(__file__).resolve().parent.parent
    return project_root.parent / "shared" / "data" / "wall_robot.csv"


def _read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for r in rows[1:] if r]
    if "label" not in header:
        raise ValueError(f"{path}: no 'label' column in the header {header[:5]}...")
    li = header.index("label")
    feat = [i for i in range(len(header)) if i != li]
    arr = np.array(body, dtype=object)
    X = arr[:, feat].astype(np.float64)
    y_raw = arr[:, li].astype(str)
    return X, y_raw, [header[i] for i in feat]


def load_wall_robot(path=None, *, online=True):
    """Load Wall Robot as a Bunch with ``data``, ``target`` (0..3), ``target_names``.

    Parameters
    ----------
    path : str or Path, optional
        CSV with feature columns and a ``label`` column. Default:
        :func:`default_wall_robot_path` if it exists.
    online : bool, default=True
        If no file is available, fetch OpenML dataset 1526 with
        :func:`sklearn.datasets.fetch_openml` (needs the internet).

    Returns
    -------
    Bunch
        ``data`` (n, n_features) float64, ``target`` int64 with classes numbered
        in alphabetical order of their names, ``target_names``, ``feature_names``,
        ``source`` (the file path or "openml:1526").
    """
    if path is None:
        candidate = default_wall_robot_path()
        if candidate.exists():
            path = candidate
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(
                f"Wall Robot CSV not found at {path}; pass --data PATH, or omit it to "
                f"fetch OpenML dataset {WALL_ROBOT_OPENML_ID} (needs the internet)."
            )
        X, y_raw, feature_names = _read_csv(path)
        source = str(path)
    else:
        if not online:
            raise FileNotFoundError(
                "No Wall Robot CSV found and online=False; pass a path to wall_robot.csv."
            )
        from sklearn.datasets import fetch_openml

        ds = fetch_openml(data_id=WALL_ROBOT_OPENML_ID, as_frame=False, parser="auto")
        X = np.asarray(ds.data, dtype=np.float64)
        y_raw = np.asarray(ds.target).astype(str)
        feature_names = list(ds.feature_names)
        source = f"openml:{WALL_ROBOT_OPENML_ID}"
    names, y = np.unique(y_raw, return_inverse=True)
    return Bunch(
        data=X,
        target=y.astype(np.int64),
        target_names=names,
        feature_names=feature_names,
        source=source,
    )


def load_digits_data():
    """scikit-learn's bundled digits (1797 x 64, 10 classes) as a Bunch; no file, no network."""
    from sklearn.datasets import load_digits

    ds = load_digits()
    return Bunch(
        data=np.asarray(ds.data, dtype=np.float64),
        target=np.asarray(ds.target, dtype=np.int64),
        target_names=np.asarray(ds.target_names),
        feature_names=list(ds.feature_names),
        source="sklearn.datasets.load_digits",
    )


def paper_subset(X, y, class_sizes=PAPER_CLASS_SIZES, *, random_state=None):
    """Class-stratified subset with ``class_sizes[k]`` rows of class k (spec section 7).

    Returns ``(X_subset, y_subset)``, rows grouped by class then shuffled.
    """
    rng = check_random_state(random_state)
    y = np.asarray(y)
    counts = np.bincount(y, minlength=len(class_sizes))
    if len(counts) != len(class_sizes) or np.any(counts < np.asarray(class_sizes)):
        raise ValueError(
            f"class counts {counts.tolist()} cannot provide the subset sizes {list(class_sizes)}."
        )
    keep = np.concatenate(
        [rng.choice(np.flatnonzero(y == k), size=n, replace=False) for k, n in enumerate(class_sizes)]
    )
    keep = rng.permutation(keep)
    return X[keep], y[keep]


#: 1-based sensor ranges whose minimum gives the 4 simplified distances of OpenML
#: 1526 (UCI "sensor_readings_4"); they reproduce the 10 rows of OpenML 1526
#: printed in the paper's data notebook. An approximation: the exact arcs of the
#: UCI file are not documented per sensor.
WALL_ROBOT_4_SENSORS = ((11, 15), (18, 20), (5, 9), (22, 24))


def wall_robot_4_features(X24):
    """The 4 simplified distances (minimum over sensor arcs) from the 24 readings."""
    X24 = np.asarray(X24, dtype=np.float64)
    if X24.ndim != 2 or X24.shape[1] != 24:
        raise ValueError(f"expected the 24 ultrasound readings us1..us24, got shape {X24.shape}.")
    return np.stack([X24[:, a - 1 : b].min(axis=1) for a, b in WALL_ROBOT_4_SENSORS], axis=1)


def load_dataset(name, path=None, *, random_state=None):
    """``(X, y, description)`` for a benchmark dataset name.

    ``"wall_robot"`` returns the paper's 3000-row stratified subset (seeded by
    ``random_state``); ``"wall_robot_4"`` the same subset with the 4 simplified
    distances of OpenML 1526 that the paper used (:func:`wall_robot_4_features`);
    ``"wall_robot_full"`` all 5456 rows; ``"digits"`` the bundled digits.
    """
    if name == "digits":
        ds = load_digits_data()
        return ds.data, ds.target, ds.source
    if name in ("wall_robot", "wall_robot_4", "wall_robot_full"):
        ds = load_wall_robot(path)
        if name == "wall_robot_4":
            if ds.data.shape[1] == 24:
                ds.data = wall_robot_4_features(ds.data)
            X, y = paper_subset(ds.data, ds.target, random_state=random_state)
            return X, y, f"{ds.source} (4 arc-minimum distances, paper subset 1100/900/300/700)"
        if name == "wall_robot":
            X, y = paper_subset(ds.data, ds.target, random_state=random_state)
            return X, y, f"{ds.source} (paper subset 1100/900/300/700)"
        return ds.data, ds.target, ds.source
    raise ValueError(
        f"unknown dataset {name!r}; use 'wall_robot', 'wall_robot_4', 'wall_robot_full' or 'digits'."
    )
