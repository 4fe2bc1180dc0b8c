"""Datasets for simulations and benchmarks.

* :func:`load_wall_robot`: UCI Wall-Following Robot Navigation (5456 rows, 24
  ultrasound readings, 4 classes) from a CSV file, or from OpenML when no file
  is given and none is found (needs the internet).
* :func:`load_digits_data`: scikit-learn's bundled handwritten digits; needs no
  file and no network (the default of ``skactivelab demo``).
* :func:`paper_subset`: the class-stratified 1100/900/300/700 subset of Wall
  Robot used by the ActiveLab paper (docs/algorithms.md, section 6).
* :func:`load_real_crowd`: a real crowd from four CSV files (long annotations,
  ground truth, features, a labeled test set), for replaying collected labels in
  the benchmark (:func:`skactivelab.simulation.make_replay_task`);
  :func:`load_music_genre` reads the Mechanical Turk music genre crowd laid out
  that way, from a directory you give (the data is not shipped).
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "default_wall_robot_path",
    "load_dataset",
    "load_digits_data",
    "load_music_genre",
    "load_real_crowd",
    "load_wall_robot",
    "paper_subset",
    "wall_robot_4_features",
]

WALL_ROBOT_OPENML_ID = 1526
#: Per-class sizes of the paper's Wall Robot subset (classes in alphabetical order).
PAPER_CLASS_SIZES = (1100, 900, 300, 700)


#: Environment variable naming a local copy of the Wall Robot CSV.
WALL_ROBOT_ENV = "SKACTIVELAB_WALL_ROBOT"


def default_wall_robot_path():
    """The Wall Robot CSV named by ``$SKACTIVELAB_WALL_ROBOT``, or None.

    The package never looks for data files outside itself: a local copy is used
    only when the user names it (here or with ``path=``/``--data``).

    Examples
    --------
    >>> from skactivelab.datasets import default_wall_robot_path
    >>> path = default_wall_robot_path()  # None unless $SKACTIVELAB_WALL_ROBOT is set
    >>> path is None or path.suffix == ".csv"
    True
    """
    value = os.environ.get(WALL_ROBOT_ENV)
    return Path(value) if value else None


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
        :func:`default_wall_robot_path` (``$SKACTIVELAB_WALL_ROBOT``) if set.
    online : bool, default=True
        If no file is available, fetch OpenML dataset 1526 with
        :func:`sklearn.datasets.fetch_openml` (needs the internet).

    Returns
    -------
    Bunch
        ``data`` (n, n_features) float64, ``target`` int64 with classes numbered
        in alphabetical order of their names, ``target_names``, ``feature_names``,
        ``source`` (the file path or "openml:1526").

    Examples
    --------
    A path that does not exist is an error saying what to pass instead:

    >>> load_wall_robot("no/such/wall_robot.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: Wall Robot CSV not found at ...wall_robot.csv; pass --data PATH, ...
    """
    if path is None:
        path = default_wall_robot_path()
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
    """scikit-learn's bundled digits (1797 x 64, 10 classes) as a Bunch; no file, no network.

    Examples
    --------
    >>> ds = load_digits_data()
    >>> ds.data.shape, ds.target.dtype.name, len(ds.target_names)
    ((1797, 64), 'int64', 10)
    """
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
    """Class-stratified subset with ``class_sizes[k]`` rows of class k (algorithms 6).

    Returns ``(X_subset, y_subset)``, rows grouped by class then shuffled.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 5 + [1] * 5)
    >>> Xs, ys = paper_subset(X, y, class_sizes=(2, 3), random_state=0)
    >>> Xs.shape, np.bincount(ys).tolist()
    ((5, 2), [2, 3])
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
    """The 4 simplified distances (minimum over sensor arcs) from the 24 readings.

    Examples
    --------
    >>> import numpy as np
    >>> wall_robot_4_features(np.arange(1.0, 25.0).reshape(1, 24)).tolist()  # us11, us18, us5, us22
    [[11.0, 18.0, 5.0, 22.0]]
    """
    X24 = np.asarray(X24, dtype=np.float64)
    if X24.ndim != 2 or X24.shape[1] != 24:
        raise ValueError(f"expected the 24 ultrasound readings us1..us24, got shape {X24.shape}.")
    return np.stack([X24[:, a - 1 : b].min(axis=1) for a, b in WALL_ROBOT_4_SENSORS], axis=1)


def _read_table(path, columns, text_columns):
    """(header, body, line numbers) of a CSV file with a header row.

    ``columns`` names the leading columns (for messages; the header must have at
    least as many); every row has one field per header column; blank lines are
    skipped; cells of the ``text_columns`` first columns (IDs, labels) must not
    be padded with spaces. Errors name the file and line and say how to fix it.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            rows, lines = [], []
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") from None
    if len(rows) < 2:
        raise ValueError(f"{path}: needs a header row and at least one data row.")
    header = rows[0]
    if len(header) < len(columns):
        raise ValueError(f"{path}: expected the columns ({', '.join(columns)}), in that order, with a "
                         f"header row; the header has {len(header)} column(s).")
    for row, line in zip(rows[1:], lines[1:]):
        if len(row) != len(header):
            raise ValueError(f"{path} line {line}: {len(row)} fields but the header has {len(header)}; "
                             "give every row one value per column.")
        for cell in row[:text_columns]:
            if cell != cell.strip() or not cell:
                raise ValueError(f"{path} line {line}: the cell {cell!r} is empty or padded with spaces; "
                                 "IDs and labels are matched exactly, so remove the spaces (or fill it).")
    return header, np.array(rows[1:], dtype=object).reshape(len(rows) - 1, len(header)), np.array(lines[1:])


def _features(body, lines, names, path):
    """Float features (n, n_features); a cell that is not a finite number names its line and column."""
    try:
        X = body.astype(np.float64)
    except ValueError:
        X = None
    if X is None or not np.isfinite(X).all():
        for i in range(body.shape[0]):  # error path only: find the first bad cell
            for j in range(body.shape[1]):
                try:
                    ok = np.isfinite(float(body[i, j]))
                except ValueError:
                    ok = False
                if not ok:
                    raise ValueError(f"{path} line {lines[i]}: feature {names[j]!r} is {body[i, j]!r}, not a "
                                     "finite number; features must be numbers (impute or drop the row).")
    return X


def _first_duplicate(ids, lines):
    """(the first repeated value, the lines of its first two rows), or None."""
    uniq, counts = np.unique(ids, return_counts=True)
    if counts.max(initial=0) < 2:
        return None
    dup = uniq[counts > 1][0]
    at = lines[ids == dup][:2].tolist()
    return dup.item(), at


def _codes(values, lines, what, path, known, fix):
    """Integer codes of ``values`` in ``known``; a value not there names its line."""
    pos = {v: i for i, v in enumerate(np.asarray(known).tolist())}
    codes = np.array([pos.get(v, -1) for v in values.tolist()], dtype=np.int64)
    if np.any(codes < 0):
        i = int(np.flatnonzero(codes < 0)[0])
        n_bad = int(np.sum(codes < 0))
        raise ValueError(f"{path} line {lines[i]}: {what} {str(values[i])!r} {fix}"
                         + (f" ({n_bad} rows like this)." if n_bad > 1 else "."))
    return codes


def _check_header(path, header, ids):
    """A header whose first cell is an example ID is a data row: the file lacks its header."""
    if header[0] in ids:
        raise ValueError(f"{path}: the first line is read as the header, but its first cell {header[0]!r} "
                         "is an example ID; add a header row.")


def load_real_crowd(annotations, truth, features, test):
    """A real crowd from four CSV files, for replaying its labels in the benchmark.

    Parameters
    ----------
    annotations : str or Path
        Long format, one row per collected label: columns (example ID, annotator
        ID, label), in that order, with a header.
    truth : str or Path
        Columns (example ID, label): the true class of every annotated example.
        Its labels define the classes; every other label must be one of them.
    features : str or Path
        Columns (example ID, feature, ...): one row per example of ``truth``.
    test : str or Path
        Columns (example ID, label, feature, ...): a held-out labeled test set
        with the same features in the same order.

    Every file is UTF-8 CSV (a byte-order mark is fine) with a header row;
    columns are taken by position; IDs and labels are matched exactly (cells
    padded with spaces are an error); blank lines are skipped. Examples of
    ``truth`` that nobody annotated are kept (they can never be picked).
    Errors name the file and line.

    Returns
    -------
    Bunch
        ``annotations``: tuple ``(example, annotator, label)`` of int64 arrays
        (example = row of ``data``, annotator = position in ``annotator_ids``,
        label = class code); ``data`` (n, n_features) float64 and ``target``
        (n,) int64 in the order of ``truth``; ``data_test``, ``target_test``;
        ``target_names`` (classes, sorted; codes are positions), ``example_ids``,
        ``annotator_ids`` (order of first appearance), ``feature_names``,
        ``source``. Rows are matched by example ID, never by file order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("id,annotator,label\\na,w1,x\\na,w2,y\\nb,w1,y\\n")
    >>> _ = (d / "t.csv").write_text("id,label\\na,x\\nb,y\\n")
    >>> _ = (d / "f.csv").write_text("id,f1\\nb,2.0\\na,1.0\\n")
    >>> _ = (d / "s.csv").write_text("id,label,f1\\nc,x,0.5\\n")
    >>> crowd = load_real_crowd(d / "a.csv", d / "t.csv", d / "f.csv", d / "s.csv")
    >>> crowd.data[:, 0].tolist(), crowd.target.tolist()
    ([1.0, 2.0], [0, 1])
    >>> [a.tolist() for a in crowd.annotations]
    [[0, 0, 1], [0, 1, 0], [0, 1, 1]]
    """
    ids, names, h_t, t_body = _read_truth(truth)
    a_ex, a_ann, a_lab, annotator_ids = _read_crowd_labels(annotations, truth, ids, names, h_t)
    X, h_f = _read_features(features, truth, ids)
    X_test, target_test = _read_test(test, truth, features, ids, names, h_f)
    return Bunch(
        annotations=(a_ex, a_ann, a_lab),
        data=X,
        target=np.searchsorted(names, t_body[:, 1].astype(str)).astype(np.int64),
        data_test=X_test,
        target_test=target_test,
        target_names=names,
        example_ids=ids,
        annotator_ids=annotator_ids,
        feature_names=list(h_f[1:]),
        source=str(Path(annotations).parent),
    )


_ORDER = "(the files go in the order annotations, truth, features, test)"


def _read_truth(truth):
    """The examples and the classes: (example IDs, sorted class names, header, body)."""
    h_t, t_body, t_lines = _read_table(truth, ("example ID", "label"), 2)
    ids = t_body[:, 0].astype(str)
    dup = _first_duplicate(ids, t_lines)
    if dup:
        raise ValueError(f"{truth}: example ID {dup[0]!r} appears more than once (lines {dup[1]}); give each "
                         f"example one true label {_ORDER}.")
    names = np.unique(t_body[:, 1].astype(str))
    if names.size < 2:
        raise ValueError(f"{truth}: every example has the class {str(names[0])!r}; a crowd to learn from needs "
                         "at least two classes.")
    return ids, names, h_t, t_body


def _read_crowd_labels(annotations, truth, ids, names, h_t):
    """The collected labels, matched to ``truth`` by example ID: codes and annotator IDs."""
    h_a, a_body, a_lines = _read_table(annotations, ("example ID", "annotator ID", "label"), 3)
    _check_header(annotations, h_a, set(ids.tolist()))
    _check_header(truth, h_t, set(a_body[:, 0].tolist()))
    a_ex = _codes(a_body[:, 0].astype(str), a_lines, "example ID", annotations, ids,
                  f"has no row in {truth}; give every annotated example its true label")
    a_raw = a_body[:, 1].astype(str)
    annotator_ids = np.array(list(dict.fromkeys(a_raw.tolist())))
    a_ann = _codes(a_raw, a_lines, "annotator", annotations, annotator_ids, "is unknown")
    a_lab = _codes(a_body[:, 2].astype(str), a_lines, "label", annotations, names,
                   f"is not a class of {truth} (classes: {names[:10].tolist()}); use the same spelling")
    pairs = a_ex * annotator_ids.size + a_ann
    dup = _first_duplicate(pairs, a_lines)
    if dup:
        i = int(np.flatnonzero(pairs == dup[0])[0])
        raise ValueError(f"{annotations} lines {dup[1]}: annotator {str(a_raw[i])!r} labels example "
                         f"{str(ids[a_ex[i]])!r} twice; an annotator labels an example at most once, so keep one of them.")
    return a_ex, a_ann, a_lab, annotator_ids


def _read_features(features, truth, ids):
    """Features of every example of ``truth``, by ID, in its order; and the header."""
    h_f, f_body, f_lines = _read_table(features, ("example ID", "feature"), 1)
    _check_header(features, h_f, set(ids.tolist()))
    f_ids = f_body[:, 0].astype(str)
    dup = _first_duplicate(f_ids, f_lines)
    if dup:
        raise ValueError(f"{features}: example ID {dup[0]!r} has more than one row (lines {dup[1]}).")
    f_pos = {v: i for i, v in enumerate(f_ids.tolist())}
    missing = [v for v in ids.tolist() if v not in f_pos]
    if missing:
        raise ValueError(f"{features}: no row for the example(s) {missing[:5]} of {truth} ({len(missing)} "
                         "missing); give every example its features.")
    X_all = _features(f_body[:, 1:], f_lines, h_f[1:], features)
    return X_all[[f_pos[v] for v in ids.tolist()]], h_f


def _read_test(test, truth, features, ids, names, h_f):
    """The held-out test set: features (same columns as ``features``) and class codes."""
    h_s, s_body, s_lines = _read_table(test, ("example ID", "label", "feature"), 2)
    if h_s[2:] != h_f[1:]:
        raise ValueError(f"{test}: feature columns {h_s[2:][:5]}... must match {features} "
                         f"({h_f[1:][:5]}...: same names, same order).")
    target_test = _codes(s_body[:, 1].astype(str), s_lines, "label", test, names,
                         f"is not a class of {truth} (classes: {names[:10].tolist()}); use the same spelling")
    X_test = _features(s_body[:, 2:], s_lines, h_s[2:], test)
    shared = np.intersect1d(s_body[:, 0].astype(str), ids)
    if shared.size:
        warnings.warn(f"{test} shares {shared.size} example ID(s) with {truth} (e.g. {shared[:3].tolist()}); "
                      "the test set should be held out from the crowd's examples.", UserWarning, stacklevel=4)
    return X_test, target_test


#: Environment variable naming the directory of the music genre crowd.
MUSIC_GENRE_ENV = "SKACTIVELAB_MUSIC_GENRE"


def load_music_genre(path=None):
    """The Mechanical Turk music genre crowd (700 songs, 44 workers, 10 genres).

    Rodrigues, Pereira & Ribeiro (ICML 2014): 2,945 real labels with ground
    truth, 124 audio features and a 300-song test set. The data is not shipped
    with skactivelab.

    Parameters
    ----------
    path : str or Path, optional
        Directory with ``annotations.csv``, ``truth.csv``, ``features.csv`` and
        ``test.csv``. Default: the directory in the environment variable
        ``SKACTIVELAB_MUSIC_GENRE``.

    Returns
    -------
    Bunch
        As :func:`load_real_crowd`.

    Examples
    --------
    A directory without the four files is an error naming what is missing:

    >>> import tempfile
    >>> load_music_genre(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: music_genre: annotations.csv, truth.csv, features.csv, test.csv not found in ...
    """
    if path is None:
        path = os.environ.get(MUSIC_GENRE_ENV)
        if not path:
            raise FileNotFoundError(
                f"music_genre: pass the directory with annotations.csv, truth.csv, features.csv and "
                f"test.csv (--data DIR), or set {MUSIC_GENRE_ENV}."
            )
    d = Path(path)
    files = [d / f for f in ("annotations.csv", "truth.csv", "features.csv", "test.csv")]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise FileNotFoundError(f"music_genre: {', '.join(missing)} not found in {d}.")
    return load_real_crowd(*files)


def load_dataset(name, path=None, *, random_state=None):
    """``(X, y, description)`` for a benchmark dataset name.

    ``"wall_robot"`` returns the paper's 3000-row stratified subset (seeded by
    ``random_state``); ``"wall_robot_4"`` the same subset with the 4 simplified
    distances of OpenML 1526 that the paper used (:func:`wall_robot_4_features`);
    ``"wall_robot_full"`` all 5456 rows; ``"digits"`` the bundled digits.

    Examples
    --------
    >>> X, y, description = load_dataset("digits")
    >>> X.shape, description
    ((1797, 64), 'sklearn.datasets.load_digits')
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
