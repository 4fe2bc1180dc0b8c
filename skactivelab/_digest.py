"""Content hash of a feature matrix, to recognise the ``X`` an estimator was fit on.

The hash covers the values, the shape and the types of the data: dense arrays by
their bytes and dtype; sparse matrices by their canonical CSR form; pandas
DataFrames column by column (name, dtype and values, through
:func:`pandas.util.hash_pandas_object`); arrays of Python objects (strings,
mixed values) column by column through pandas when it is installed, else through
their text and the type of each value. Two inputs with the same digest hold the
same values in the same rows and columns; nothing else is ever assumed.
"""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp

__all__ = ["data_digest"]


def _update_array(h, a):
    a = np.ascontiguousarray(a)
    h.update(str(a.dtype).encode())
    h.update(repr(a.shape).encode())
    h.update(a.view(np.uint8).ravel())


def _label(value):
    """Type and repr of a column name or a scalar, as bytes (``1`` and ``"1"`` differ)."""
    return f"{type(value).__name__}:{value!r}".encode()


def _update_frame(h, df, pd):
    """Hash a pandas DataFrame column by column: name, dtype, kind of values, values."""
    h.update(b"frame")
    h.update(repr(df.shape).encode())
    for j in range(df.shape[1]):
        col = df.iloc[:, j]
        h.update(_label(df.columns[j]))
        h.update(str(col.dtype).encode())
        if col.dtype == object:
            # hash_pandas_object hashes mixed objects by their text, so ``1`` and
            # ``"1"`` would agree; the inferred kind of the column tells them apart.
            h.update(pd.api.types.infer_dtype(col, skipna=False).encode())
        values = pd.util.hash_pandas_object(col, index=False, categorize=True).to_numpy()
        h.update(np.ascontiguousarray(values, dtype=np.uint64).view(np.uint8))


def _update_object_array(h, X):
    """Hash a numpy object array by the text and the type of every value."""
    h.update(b"object")
    h.update(repr(X.shape).encode())
    text = X.astype(str)
    kinds = np.frompyfunc(lambda v: type(v).__name__, 1, 1)(X).astype(str)
    _update_array(h, text)
    _update_array(h, kinds)


def data_digest(X):
    """Content hash of ``X`` (dense, sparse, DataFrame or array of objects).

    Returns a hex string, or None when the content cannot be hashed reliably
    (then callers must not guess whether two inputs are the same data).
    """
    if hasattr(X, "__dask_graph__"):
        return None  # a lazy collection: hashing it would compute (and pull in) all of it
    h = hashlib.blake2b(digest_size=16)
    try:
        if sp.issparse(X):
            A = sp.csr_array(X, copy=True)
            A.sum_duplicates()  # canonical: sorted indices, no duplicate entries
            A.eliminate_zeros()
            h.update(b"sparse")
            h.update(repr(A.shape).encode())
            for part in (A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)):
                _update_array(h, part)
            return h.hexdigest()
        if type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns"):
            import pandas as pd

            _update_frame(h, X, pd)
            return h.hexdigest()
        if hasattr(X, "to_numpy"):  # other dataframe libraries
            X = X.to_numpy()
        X = np.asarray(X)
        if X.dtype.kind == "O":
            try:
                import pandas as pd
            except ImportError:
                _update_object_array(h, X)
            else:
                _update_frame(h, pd.DataFrame(X.reshape(X.shape[0], -1) if X.ndim else X[None, None]), pd)
                h.update(repr(X.shape).encode())
            return h.hexdigest()
        h.update(b"dense")
        _update_array(h, X)
        return h.hexdigest()
    except Exception:  # noqa: BLE001 - any failure means "cannot tell", never a guess
        return None
