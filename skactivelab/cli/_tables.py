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

__all__ = ["AnnotationTable", "FeatureTable", "InputFileError", "ProbTable", "Table", "shown"]

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


def shown(values, n=_SHOWN):
    """The first ``n`` values as text, with how many there are in all when there are more."""
    vals = list(values)
    text = ", ".join(repr(v) for v in vals[:n])
    return text + (f" ... ({len(vals)} in all)" if len(vals) > n else "")


# --------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Table:
    """The cells of a table file as read: header, rows of text cells, line of each row."""

    path: str
    header: list
    rows: list  # list of lists of stripped cells, same length as header
    lines: np.ndarray  # line number of each row



@dataclass(frozen=True)
class AnnotationTable:
    """Annotations read from a file; all IDs and labels are the file's strings.

    ``example_ids`` and ``annotator_ids`` are in order of first appearance;
    ``example``, ``annotator``, ``label`` and ``line`` are aligned, one entry
    per given label (empty cells are not labels); ``example_line`` is the line
    where each example first appears.
    """

    path: str
    format: str
    example_ids: list
    annotator_ids: list
    example: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
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

    @property
    def n_examples(self):
        return len(self.example_ids)

    @property
    def n_annotators(self):
        return len(self.annotator_ids)

    def num_annotations(self):
        """Number of labels of each example, shape (n_examples,)."""
        return np.bincount(self.example, minlength=self.n_examples)


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
    ids: list | None
    lines: np.ndarray
    row_label: str = "row"
    header_line: int | None = None

    def error(self, i, problem, fix):
        return InputFileError(self.path, int(self.lines[i]), problem, fix, row_label=self.row_label)


@dataclass(frozen=True)
class FeatureTable:
    """Numeric features read from CSV: ``ids`` (strings), ``X`` (float64, NaN = empty cell)."""

    path: str
    ids: list
    X: np.ndarray
    feature_names: list
    lines: np.ndarray
    header_line: int = 1
