"""Traditional active learning: one label per example, choose from an unlabeled pool.

Not every team collects several opinions. If each example is labeled once and never
revisited, the only question per round is which unlabeled examples to send to the
annotator. ActiveLab still applies: with no re-labeling its score for an unlabeled
example depends on the model's predicted probabilities only, and ranks the pool like
least-confidence sampling (the least sure predictions first).

The loop here uses the scikit-learn pieces:

* ``MultiAnnotatorClassifier`` wraps a classifier; its target may be a plain 1-D
  label vector (one annotator), and it keeps its cross-validation models so that
  new rows can be scored;
* ``ActiveLabQuery(pool="unlabeled")`` scores a separate pool ``X_pool`` of
  unlabeled rows and returns the batch with the lowest scores
  (``RandomQuery`` is the baseline).

The setting: scikit-learn's digits, one third held out as a test set, one
annotator of accuracy 0.9, 100 labeled examples to start, then 5 rounds of 40 new
labels. Test accuracy is printed per round for ActiveLab and for random picks.
At the end the same batch is computed with the function
``get_active_learning_scores(None, None, pred_probs_unlabeled)``, for teams that
train their model outside scikit-learn and only have its probabilities.

Run: ``python examples/03_traditional_active_learning.py`` (about 10 seconds).
"""

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.model_selection import train_test_split

from skactivelab import ActiveLabQuery, MultiAnnotatorClassifier, RandomQuery, get_active_learning_scores
from skactivelab.datasets import load_digits_data
from skactivelab.simulation import heterogeneous_noise_matrices, simulate_annotator_labels

SEED = 0
N_START, BATCH, ROUNDS = 100, 40, 5


def make_classifier():
    return MultiAnnotatorClassifier(
        ExtraTreesClassifier(n_estimators=50, random_state=SEED), cv=3, random_state=SEED
    )


def run(strategy, X, annotator, X_test, y_test, start):
    """One active-learning run; returns test accuracy after each round and the last model."""
    labeled = list(start)
    accuracy = []
    for _ in range(ROUNDS + 1):
        clf = make_classifier().fit(X[labeled], annotator[labeled])  # 1-D y: one label each
        accuracy.append(clf.score(X_test, y_test))
        if len(accuracy) == ROUNDS + 1:
            break
        pool = np.setdiff1d(np.arange(len(X)), labeled)
        picked, _ = strategy(clf, X[pool], n_instances=BATCH)  # positions in the pool
        labeled.extend(pool[picked])  # the annotator labels them (once, for good)
    return accuracy, clf, labeled


def main():
    digits = load_digits_data()
    X, X_test, y, y_test = train_test_split(
        digits.data, digits.target, test_size=1 / 3, stratify=digits.target, random_state=SEED
    )
    # one annotator, right 90% of the time; their label for every example
    noise = heterogeneous_noise_matrices([0.9], n_classes=10)
    annotator = simulate_annotator_labels(y, noise, random_state=SEED)[:, 0]
    start = np.random.default_rng(SEED).choice(len(X), size=N_START, replace=False)

    results = {}
    for name, strategy in [
        ("activelab", ActiveLabQuery(pool="unlabeled", random_state=SEED)),
        ("random", RandomQuery(random_state=SEED)),
    ]:
        results[name] = run(strategy, X, annotator, X_test, y_test, start)

    print("test accuracy per round (labels so far)")
    print(f"{'round':>5} {'labels':>6} {'activelab':>9} {'random':>7}")
    for r in range(ROUNDS + 1):
        print(f"{r:>5} {N_START + r * BATCH:>6} {results['activelab'][0][r]:>9.3f} {results['random'][0][r]:>7.3f}")
    gain = results["activelab"][0][-1] - results["random"][0][-1]
    print(f"final: activelab {results['activelab'][0][-1]:.3f}, random {results['random'][0][-1]:.3f} "
          f"({gain:+.3f})")

    # The same choice from probabilities alone, for a model trained outside
    # scikit-learn: no annotations, only the pool's predicted probabilities. Here
    # they are the mean prediction of the cross-validation models of the last
    # ActiveLab round, which is what ActiveLabQuery scores the pool with.
    _, clf, labeled = results["activelab"]
    pool = np.setdiff1d(np.arange(len(X)), labeled)
    pred_probs_pool = np.mean([m.predict_proba(X[pool]) for m in clf.cv_estimators_[0]], axis=0)
    _, scores_pool = get_active_learning_scores(None, None, pred_probs_pool)
    batch_fn = pool[np.argsort(scores_pool, kind="stable")[:BATCH]]
    query = ActiveLabQuery(pool="unlabeled", random_state=SEED)
    scores_query, _ = query.scores(clf, X[pool])
    batch_query = pool[query(clf, X[pool], n_instances=BATCH)[0]]
    print(f"get_active_learning_scores vs ActiveLabQuery on the pool: largest score difference "
          f"{np.max(np.abs(scores_pool - scores_query)):.1e}; next batch: "
          f"{np.intersect1d(batch_fn, batch_query).size} of {BATCH} rows in common (the rest are ties)")

if __name__ == "__main__":
    main()
