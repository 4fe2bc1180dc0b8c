"""modAL: which of its parts work with our strategies and estimator, and a tested recipe."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression

import skactivelab as sk

modal_models = pytest.importorskip("modAL.models")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(90, 2))
    truth = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    L = np.full((90, 3), -1)
    L[:40, 0] = truth[:40]
    L[:20, 1] = truth[:20]
    return X, L, truth


def _new_learner(X, L):
    return modal_models.ActiveLearner(
        estimator=sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0),
        query_strategy=sk.ActiveLabQuery(random_state=0),
        X_training=X, y_training=L,
    )


def test_recipe_modal_query_with_our_refit():
    """docs/active_learning.md, "With modAL": modAL's query picks with ActiveLabQuery; new
    annotations go into the annotation matrix and the estimator is refitted on it."""
    X, L, truth = _data()
    L = L.copy()
    learner = _new_learner(X, L)
    seen = []
    for round_ in range(3):
        idx, rows = learner.query(X, n_instances=6)
        np.testing.assert_array_equal(rows, X[idx])
        seen.append(idx)
        L[idx, 2] = truth[idx]          # annotator 2 answers (one label per row and annotator)
        learner.estimator.fit(X, L)     # the refit, instead of learner.teach
        assert (learner.estimator.n_annotations_[idx] > 0).all()
    # the same picks as our own learner fed the same labels
    ours = sk.MultiAnnotatorActiveLearner(
        sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=0),
        query_strategy=sk.ActiveLabQuery(random_state=0), X=X, y=_data()[1])
    for idx in seen:
        got, _ = ours.query(n_instances=6)
        np.testing.assert_array_equal(got, idx)
        ours.teach(idx, truth[idx], annotators=2)


@pytest.mark.skipif(tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 8),
                    reason="modAL's teach works before scikit-learn 1.8")
def test_modal_teach_fails_on_current_scikit_learn():
    """What the docs say: modAL 0.4.2.1's teach passes force_all_finite, which scikit-learn 1.8
    removed. When this test fails, modAL has fixed it: update docs/active_learning.md."""
    X, L, truth = _data()
    learner = _new_learner(X, L)
    with pytest.raises(TypeError, match="force_all_finite"):
        learner.teach(X[:2], L[:2])


def test_the_documented_recipe_runs():
    """The "With modAL" code of docs/active_learning.md runs as written on this scikit-learn."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "active_learning.md").read_text()
    section = text[text.index("## With modAL"):text.index("## `MultiAnnotatorActiveLearner`")]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(compile(code, "docs/active_learning.md", "exec"), namespace)
    est, L = namespace["learner"].estimator, namespace["L_all"]
    assert (L[:, 2] >= 0).sum() > 0
    np.testing.assert_array_equal(est.n_annotations_, (L >= 0).sum(axis=1))  # refitted on every label
