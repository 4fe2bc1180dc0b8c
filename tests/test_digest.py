"""Content hash of the training X (pool="auto" recognises the training set by it)."""

import numpy as np
import pytest
import scipy.sparse as sp

from skactivelab._digest import data_digest

pd = pytest.importorskip("pandas")


def _frame(seed=0, n=30):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"num": rng.normal(size=n), "cat": rng.choice(["red", "green", "blue"], n)})


def test_frame_with_strings_has_a_digest_that_follows_its_content():
    df = _frame()
    d = data_digest(df)
    assert d is not None
    assert data_digest(df.copy()) == d
    assert data_digest(df.reset_index(drop=True).set_axis(range(100, 130))) == d  # index is not content
    other = df.copy()
    other.loc[3, "cat"] = "purple"  # one string changed
    assert data_digest(other) != d
    assert data_digest(df.iloc[::-1].reset_index(drop=True)) != d  # same rows, other order
    assert data_digest(df.rename(columns={"cat": "colour"})) != d  # column names count
    assert data_digest(df[["cat", "num"]]) != d  # column order counts
    assert data_digest(df.astype({"num": "float32"})) != d  # dtypes count
    assert data_digest(df.astype({"cat": "category"})) != d


def test_object_arrays_hash_values_and_their_types():
    a = np.array([[1, "x"], [2, "y"]], dtype=object)
    d = data_digest(a)
    assert d is not None and data_digest(a.copy()) == d
    b = a.copy()
    b[0, 0] = "1"  # the text of the value is the same, its type is not
    assert data_digest(b) != d
    c = a.copy()
    c[1, 1] = None
    assert data_digest(c) != d
    assert data_digest(np.array([["nan"]], dtype=object)) != data_digest(np.array([[np.nan]], dtype=object))


def test_object_arrays_without_pandas(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    a = np.array([[1, "x"], [2, "y"]], dtype=object)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    d = data_digest(a)
    b = a.copy()
    b[0, 0] = "1"
    assert d is not None and data_digest(a.copy()) == d and data_digest(b) != d


def test_dense_and_sparse():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 4))
    assert data_digest(X) == data_digest(X.copy()) == data_digest(np.asfortranarray(X))
    assert data_digest(X) != data_digest(X[::-1])
    assert data_digest(X) != data_digest(X.astype(np.float32))
    S = sp.random(20, 5, density=0.3, random_state=0, format="csr")
    assert data_digest(S) == data_digest(S.tocoo()) == data_digest(sp.csc_matrix(S))
    T = S.copy()
    T.data[0] += 1
    assert data_digest(T) != data_digest(S)


def test_unhashable_content_gives_none_never_a_guess():
    class Boom:
        def __str__(self):
            raise RuntimeError("no text")

        __repr__ = __str__

    a = np.empty((2, 1), dtype=object)
    a[0, 0], a[1, 0] = Boom(), Boom()
    assert data_digest(a) is None
