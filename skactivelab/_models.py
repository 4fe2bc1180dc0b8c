"""Models by name, the fold rule and the fold fit, shared by the estimator, the
simulation harness and the command line (one rule each; see docs/estimator.md,
"Folds").
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import KFold, StratifiedKFold

__all__ = ["MODELS", "fit_fold_model", "fold_splits", "make_model", "seeded"]

#: Names of :func:`make_model` ("logistic" is accepted for "logreg").
MODELS = ("extratrees", "randomforest", "logreg", "knn", "mlp", "hgb")
_ALIASES = {"logistic": "logreg"}


def make_model(name, random_state=None):
    """A fresh classifier by name: "extratrees", "randomforest", "logreg", "knn", "mlp" or "hgb".

    "logreg" (also "logistic") and "knn" standardise the features first;
    "mlp" is a standardised one-hidden-layer network, "hgb" scikit-learn's
    histogram gradient boosting.

    Examples
    --------
    >>> type(make_model("extratrees", random_state=0)).__name__
    'ExtraTreesClassifier'
    >>> [name for name, _ in make_model("logreg").steps]
    ['standardscaler', 'logisticregression']
    """
    from sklearn.ensemble import (ExtraTreesClassifier, HistGradientBoostingClassifier,
                                  RandomForestClassifier)
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    name = _ALIASES.get(name, name)
    if name == "extratrees":
        return ExtraTreesClassifier(n_estimators=100, n_jobs=1, random_state=random_state)
    if name == "randomforest":
        return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=random_state)
    if name == "mlp":
        return make_pipeline(
            StandardScaler(), MLPClassifier(hidden_layer_sizes=(100,), max_iter=500, random_state=random_state)
        )
    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    if name == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=10))
    if name == "hgb":
        return HistGradientBoostingClassifier(random_state=random_state)
    raise ValueError(f"unknown model {name!r}; use one of {', '.join(MODELS)}.")


def seeded(model, random_state):
    """A fresh model: by name (:func:`make_model`), or an unfitted clone of ``model``
    whose ``random_state`` parameters (its own and its steps') are ``random_state``."""
    if isinstance(model, str):
        return make_model(model, random_state)
    est = clone(model)
    params = est.get_params()
    seeded_params = {k: random_state for k in params if k == "random_state" or k.endswith("__random_state")}
    return est.set_params(**seeded_params) if seeded_params else est


def fold_splits(X, y, n_splits, random_state, *, shuffle=True):
    """The folds of the labeled rows: ``[(train, test), ...]``.

    The rule scikit-learn applies to a classifier: ``StratifiedKFold`` (shuffled,
    seeded by ``random_state``) on the class codes ``y``, which tolerates classes
    with fewer rows than folds; a ``KFold`` only where stratifying is
    impossible, when every class has fewer rows than folds.
    """
    counts = np.bincount(np.asarray(y))
    if counts.max() < n_splits:
        splitter = KFold(n_splits, shuffle=shuffle, random_state=random_state)
    else:
        splitter = StratifiedKFold(n_splits, shuffle=shuffle, random_state=random_state)
    with warnings.catch_warnings():
        # classes with fewer rows than folds: callers say so in their own words
        warnings.filterwarnings("ignore", message="The least populated class")
        return list(splitter.split(X, y))


def fit_fold_model(model, X, y, fit_params=None):
    """A clone of ``model`` fitted on a training fold; a fold whose rows all have one
    class gets a model that predicts that class (probability 1), as no classifier
    can be trained on a single class."""
    if np.unique(np.asarray(y)).size < 2:
        return DummyClassifier(strategy="prior").fit(X, y)
    return clone(model).fit(X, y, **(fit_params or {}))
