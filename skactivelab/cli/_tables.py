"""The command line's table types: what the readers return, and the one input error.

:class:`InputFileError` names the file, the row and the fix of every problem with
an input file; ``Table`` is a file's cells as read (header, rows, line numbers);
:class:`AnnotationTable`, :class:`ProbTable` and :class:`FeatureTable` are the
checked contents of an annotation, probability and features file. Nothing here
reads a file or prints; every reader (``_files.py``, ``_labelstudio.py``,
``_pool.py``) builds on these types and none of them on another reader.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AnnotationTable", "FeatureTable", "InputFileError", "ProbTable", "RowLines", "Table",
           "shown"]

_SHOWN = 5


class InputFileError(ValueError):
    """A problem with an input file, with where it is and how to fix it.

    Parameters
    ----------
    file : str
        The file as the user named it.
    row : int or None
        1-based line number in the file, header included (for ``.npy`` files
        the 0-based array row, see ``row_label``); None for the file as a whole.
    problem : str
        What is wrong, without a final period.
    fix : str
        What to do about it.
    row_label : str, default="row"
        How to call ``row`` in the message.

    Examples
    --------
    >>> str(InputFileError("a.csv", 3, "label 'dgo' is not a class", "Use one of ['cat', 'dog']."))
    "a.csv, row 3: label 'dgo' is not a class. Use one of ['cat', 'dog']."
    """

    def __init__(self, file, row, problem, fix, *, row_label="row"):
        self.file = str(file)
        self.row = row
        self.problem = problem
        self.fix = fix
        self.row_label = row_label
        super().__init__(self.message)

    @property
    def message(self):
        where = self.file if self.row is None else f"{self.file}, {self.row_label} {self.row}"
        return f"{where}: {self.problem}. {self.fix}"

    def __reduce__(self):  # pickled whole, e.g. from a Dask worker to the caller
        return (_input_file_error,
                (type(self), self.file, self.row, self.problem, self.fix, self.row_label))


def _input_file_error(cls, file, row, problem, fix, row_label):
    return cls(file, row, problem, fix, row_label=row_label)


def shown(values, n=_SHOWN, total=None):
    """The first ``n`` values as text, with how many there are in all (``total``, else
    ``len(values)``) when there are more."""
    vals = list(values)
    total = len(vals) if total is None else total
    text = ", ".join(repr(v) for v in vals[:n])
    return text + (f" ... ({total} in all)" if total > n else "")


# --------------------------------------------------------------------------- tables
class RowLines:
    """The lines ``first, first + 1, ..., first + n - 1`` of ``n`` rows (a file with one
    line per row) without holding them: indexed like the int64 array they stand for
    (an entry, a slice, positions or a mask); only messages read them.

    Examples
    --------
    >>> lines = RowLines(2, 5)
    >>> int(lines[0]), int(lines[-1]), lines[[1, 3]].tolist(), lines[1:3].tolist()
    (2, 6, [3, 5], [3, 4])
    """

    __slots__ = ("first", "n")
    dtype = np.dtype(np.int64)
    ndim = 1

    def __init__(self, first, n):
        self.first, self.n = int(first), int(n)

    def __len__(self):
        return self.n

    @property
    def shape(self):
        return (self.n,)

    @property
    def size(self):
        return self.n

    def __array__(self, dtype=None, copy=None):
        return np.arange(self.first, self.first + self.n, dtype=dtype or np.int64)

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self):
        return list(range(self.first, self.first + self.n))

    def __repr__(self):
        return f"RowLines({self.first}, {self.n})"

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)):
            i = int(idx) + (self.n if idx < 0 else 0)
            if not 0 <= i < self.n:
                raise IndexError(f"index {int(idx)} is out of bounds for {self.n} rows")
            return np.int64(self.first + i)
        if isinstance(idx, slice):
            rows = range(self.n)[idx]
            if rows.step == 1:
                return RowLines(self.first + rows.start, len(rows))
            return np.arange(self.first + rows.start, self.first + rows.stop, rows.step,
                             dtype=np.int64)
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (self.n,):
                raise IndexError(f"a mask of {idx.shape} for {self.n} rows")
            return self.first + np.flatnonzero(idx)
        pos = idx.astype(np.int64)
        pos[pos < 0] += self.n
        if pos.size and (pos.min() < 0 or pos.max() >= self.n):
            raise IndexError(f"positions out of bounds for {self.n} rows")
        pos += self.first
        return pos


@dataclass(frozen=True)
class Table:
    """The cells of a table file as read (``_tabular.py``): the header, one column of
    cells per header name (``_columns.py``), and the line of each row in the file
    (1-based, header included; for Parquet the row number)."""

    path: str
    header: list
    columns: list
    lines: np.ndarray
    header_line: int | None = None
    #: the same file read with every column as text (for a message that quotes a cell read
    #: as a number); None when every column already is text
    as_text: object = None

    @property
    def n_rows(self):
        return len(self.lines)

    def rows(self):
        """Every row as a list of text cells (for exports read record by record)."""
        return [list(r) for r in zip(*(c.to_list() for c in self.columns))]

    def cell(self, i, j):
        """The text of the cell in row position ``i`` (not line) of column ``j``."""
        table = self.as_text() if self.as_text is not None else self
        return table.columns[j][i]

    def error(self, i, problem, fix):
        """An :class:`InputFileError` at row position ``i`` (None: the whole file)."""
        return InputFileError(self.path, None if i is None else int(self.lines[i]), problem, fix)


@dataclass(frozen=True)
class AnnotationTable:
    """Annotations read from a file; all IDs and labels are the file's strings.

    ``example_ids`` (a column of ``_columns.py``) and ``annotator_ids`` (a list)
    are in order of first appearance, and so are ``label_names``, the distinct
    labels; ``example``, ``annotator``, ``label_code`` and ``line`` are aligned,
    one entry per given label (empty cells are not labels), holding positions in
    those; ``example_line`` is the line where each example first appears.
    """

    path: str
    format: str
    example_ids: object
    annotator_ids: list
    example: np.ndarray
    annotator: np.ndarray
    label_code: np.ndarray
    label_names: list
    line: np.ndarray
    example_line: np.ndarray
    row_label: str = "row"
    #: original task data of each example ID (Label Studio exports), for import files
    task_data: dict | None = None
    #: things said about the reading (e.g. duplicates resolved), printed as warnings
    notes: tuple = ()
    #: task ID -> example ID of Label Studio tasks that carry the example ID of another task
    #: (imported from ``--tasks-out``); their labels count for that example
    aliases: dict | None = None
    #: a Label Studio export that lists tasks nobody annotated (exported with all tasks):
    #: a probability row of another ID is then stale; Label Studio's default export lists
    #: only annotated tasks, and such rows are the unlabeled pool
    lists_every_task: bool = False
    #: ``(task ID, example ID)`` of tasks imported by us (they carry ``skactivelab_example_id``)
    #: that nobody answered yet: their examples are handed out and pending
    pending: tuple = ()

    @property
    def label(self):
        """The label of each annotation, as text (an object array)."""
        return np.asarray(self.label_names, dtype=object)[self.label_code] if self.label_names \
            else np.empty(0, dtype=object)

    @property
    def n_labels(self):
        return int(self.label_code.size)

    @property
    def n_examples(self):
        return len(self.example_ids)

    @property
    def n_annotators(self):
        return len(self.annotator_ids)

    def num_annotations(self):
        """Number of labels of each example, shape (n_examples,)."""
        return np.bincount(self.example, minlength=self.n_examples)

    def error(self, k, problem, fix):
        """An :class:`InputFileError` at the row of annotation ``k``."""
        return InputFileError(self.path, int(self.line[k]), problem, fix, row_label=self.row_label)


@dataclass(frozen=True)
class ProbTable:
    """Predicted probabilities read from a CSV or ``.npy`` file.

    ``classes`` are the CSV column names (None for ``.npy``); ``ids`` the
    ``example_id`` column (None when absent); ``lines`` the row of each entry
    (CSV line number, or 0-based array row for ``.npy``).
    """

    path: str
    probs: np.ndarray
    classes: list | None
    ids: object  # a column of ``_columns.py``, or None
    lines: np.ndarray
    row_label: str = "row"
    header_line: int | None = None

    def error(self, i, problem, fix):
        return InputFileError(self.path, int(self.lines[i]), problem, fix, row_label=self.row_label)


@dataclass(frozen=True)
class FeatureTable:
    """Numeric features read from CSV: ``ids`` (a column of text), ``X`` (float64, NaN =
    empty cell)."""

    path: str
    ids: object
    X: np.ndarray
    feature_names: list
    lines: np.ndarray
    header_line: int = 1
