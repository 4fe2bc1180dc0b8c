"""MultiAnnotatorActiveLearner: teach/query, policies, history, suggestions, loop."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skactivelab import (
    ActiveLabQuery,
    MultiAnnotatorActiveLearner,
    MultiAnnotatorClassifier,
    RandomQuery,
)


def _clf():
    return MultiAnnotatorClassifier(LogisticRegression(max_iter=500), cv=3, random_state=0)


def _small():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    truth = (X[:, 0] > 0).astype(int)
    y = np.full((60, 2), -1)
    y[:30, 0] = truth[:30]
    y[:10, 1] = truth[:10]
    return X, y, truth


def test_teach_records_annotations_and_history():
    X, y, truth = _small()
    learner = MultiAnnotatorActiveLearner(_clf(), X=X, y=y)
    idx = np.array([0, 1, 40, 41])  # two re-labels, two first labels
    learner.teach(idx, truth[idx], annotators=["ann_x", "ann_x", "ann_y", 0])
    h = learner.history_[-1]
    assert (h["n_relabels"], h["n_new"], h["n_replaced"]) == (2, 2, 0)
    assert h["n_annotations"] == 30 + 10 + 4
    assert list(learner.annotator_ids_) == [0, 1, "ann_x", "ann_y"]
    rows, anns, labels = learner.annotations
    assert ((rows == 41) & (anns == 0)).sum() == 1
    clf = learner.estimator
    assert clf.n_annotations_[[0, 1, 40, 41]].tolist() == [3, 3, 1, 1]
    # default annotator: one new column per round
    learner.teach([50], [truth[50]])
    assert learner.annotator_ids_[-1] == "round_2"


@pytest.mark.parametrize("policy, expected", [("replace", 1), ("keep", 0)])
def test_duplicate_policy(policy, expected):
    X, y, truth = _small()
    learner = MultiAnnotatorActiveLearner(_clf(), X=X, y=y, duplicate_policy=policy)
    learner.teach([5], [expected], annotators=[0])  # annotator 0 labeled row 5 already (truth)
    rows, anns, labels = learner.annotations
    got = labels[(rows == 5) & (anns == 0)]
    assert got.size == 1
    assert int(got[0]) == (expected if policy == "replace" else truth[5])


def test_duplicate_policy_error():
    X, y, truth = _small()
    learner = MultiAnnotatorActiveLearner(_clf(), X=X, y=y, duplicate_policy="error")
    with pytest.raises(ValueError, match="annotator 0 already labeled row 5"):
        learner.teach([5], [1], annotators=[0])


def test_teach_bad_input():
    X, y, truth = _small()
    learner = MultiAnnotatorActiveLearner(_clf(), X=X, y=y)
    with pytest.raises(ValueError, match="2 indices but 1 labels"):
        learner.teach([1, 2], [0])
    with pytest.raises(ValueError, match=r"indices \[60\] are not rows of X"):
        learner.teach([60], [0])
    with pytest.raises(ValueError, match="2 indices but 3 annotators"):
        learner.teach([1, 2], [0, 1], annotators=["a", "b", "c"])
    with pytest.raises(ValueError, match="same \\(index, annotator\\) pair twice"):
        learner.teach([3, 3], [0, 1], annotators="z")
    with pytest.raises(ValueError, match="n_instances must be >= 1"):
        learner.query(0)
    empty = MultiAnnotatorActiveLearner(_clf(), X=X)
    with pytest.raises(ValueError, match="no annotations yet"):
        empty.query(1)


def test_suggest_annotators_best_quality_not_yet_labeled_with_cap():
    X, y, truth = _small()
    y = y.copy()
    y[:30, 1] = np.where(np.arange(30) % 3 == 0, 1 - truth[:30], truth[:30])  # annotator 1 worse
    y[:30, 0] = truth[:30]
    extra = np.full((60, 1), -1)
    extra[:30:2, 0] = truth[:30:2]  # annotator 2 good, shares rows
    learner = MultiAnnotatorActiveLearner(_clf(), X=X, y=np.hstack([y, extra]))
    q = learner.estimator.annotator_quality_
    assert q[0] > q[1]
    picks = np.array([40, 41, 42, 43, 0])
    sugg = learner.suggest_annotators(picks)
    best = learner.annotator_ids_[np.argmax(q)]
    assert list(sugg[:4]) == [best] * 4
    assert sugg[4] != 0 and sugg[4] != 1 or sugg[4] is None  # row 0 was labeled by 0 and 1
    capped = learner.suggest_annotators(picks[:4], max_per_annotator=2)
    assert list(capped[:2]) == [best] * 2 and best not in list(capped[2:])
    # the second-best takes the rest
    second = learner.annotator_ids_[np.argsort(-q)[1]]
    assert list(capped[2:]) == [second] * 2


def _simulate(strategy, seed, rounds=5, batch=30):
    X, truth = make_classification(
        n_samples=500, n_features=8, n_informative=5, n_classes=3, n_clusters_per_class=1,
        class_sep=1.5, random_state=seed,
    )
    rng = np.random.default_rng(seed)
    # Annotator accuracies in the paper's regime (mean about 0.8). With near-chance
    # annotators (mean 0.6 on 3 classes) the 5-round advantage shrinks and can
    # reverse on a seed; see docs/active_learning.md.
    acc = np.array([0.6, 0.7, 0.8, 0.85, 0.9])
    M, K = acc.size, 3
    wrong = (truth[:, None] + rng.integers(1, K, (len(truth), M))) % K
    oracle = np.where(rng.random((len(truth), M)) < acc, truth[:, None], wrong)
    y = np.full((len(truth), M), -1)
    first = rng.integers(0, M, 300)
    y[np.arange(300), first] = oracle[np.arange(300), first]  # 300 labeled once, 200 unlabeled
    learner = MultiAnnotatorActiveLearner(
        MultiAnnotatorClassifier(LogisticRegression(max_iter=500), cv=3, random_state=seed),
        strategy, X=X, y=y,
    )
    weak_or_wrong = []
    for _ in range(rounds):
        clf = learner.estimator
        idx, _ = learner.query(batch)
        relabel = idx[clf.labeled_mask_[idx]]
        if relabel.size:
            cons = clf.consensus_labels_[relabel].astype(int)
            weak = clf.consensus_quality_[relabel] < np.median(clf.consensus_quality_[clf.labeled_mask_])
            weak_or_wrong.append(((cons != truth[relabel]) | weak).mean())
        # each pick is labeled by a random annotator who has not labeled it yet
        rows, anns, _ = learner.annotations
        done = np.zeros((len(truth), M), dtype=bool)
        done[rows, np.asarray(anns, dtype=int)] = True
        noise = rng.random((idx.size, M)) + done[idx] * 2
        who = np.argmin(noise, axis=1)
        learner.teach(idx, oracle[idx, who], annotators=who)
    clf = learner.estimator
    lab = clf.labeled_mask_
    consensus_acc = np.mean(clf.consensus_labels_[lab].astype(int) == truth[lab])
    return consensus_acc, weak_or_wrong, learner


def test_end_to_end_activelab_beats_random_on_consensus():
    acc_al, weak_or_wrong, learner = _simulate(ActiveLabQuery(random_state=0), seed=0)
    acc_rand, _, _ = _simulate(RandomQuery(random_state=0), seed=0)
    assert acc_al > acc_rand
    # re-label picks go mostly to examples whose consensus is wrong or weakly supported
    assert weak_or_wrong and np.mean(weak_or_wrong) > 0.5
    assert sum(h["n_relabels"] for h in learner.history_) > 0
    assert len(learner.history_) == 5


def test_assign_annotators_hand_case():
    from skactivelab.query import assign_annotators

    quality = [0.5, np.nan, 0.9, 0.7]
    eligible = np.array(
        [[1, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 0, 0]], dtype=bool
    )
    # best first: 2 (0.9), 3 (0.7), 0 (0.5), 1 (NaN)
    assert assign_annotators(quality, eligible).tolist() == [2, 3, 2, 2, 1]
    assert assign_annotators(quality, eligible, max_per_annotator=1).tolist() == [2, 3, 0, 1, -1]
    with pytest.raises(ValueError, match="max_per_annotator"):
        assign_annotators(quality, eligible, max_per_annotator=0)
