"""Which examples should the annotation team label, or re-label, next?

You run an annotation team. Some examples have one label, a few have two or three
(from different annotators, who disagree now and then), and many have none yet.
You can pay for B more annotations this round. Should they go to new examples, or
to a second opinion on examples whose label looks doubtful?

ActiveLab answers with one score per example, on the same scale for labeled and
unlabeled examples: lower means one more annotation helps more. Take the B lowest
scores across both sets; a labeled example among them is a re-label request.

This script:

1. simulates 5 annotators of accuracy 0.60 to 0.95 on scikit-learn's bundled
   digits data (no download): 60% of the rows get 1 to 3 labels, the rest are
   the unlabeled pool;
2. trains a classifier on the majority-vote labels and gets *out-of-fold*
   predicted probabilities for the labeled rows with ``cross_val_predict``
   (in-sample probabilities would be over-confident) and ordinary predictions
   for the pool;
3. calls ``get_active_learning_scores`` and picks the B lowest scores;
4. reports how many picks are re-labels and how many of those re-labels hit a
   row whose current majority vote is wrong.

Run: ``python examples/01_what_to_label_next.py`` (a few seconds).
"""

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from skactivelab import get_active_learning_scores, get_majority_vote_label
from skactivelab.datasets import load_digits_data
from skactivelab.simulation import heterogeneous_noise_matrices, simulate_annotator_labels

SEED = 0
BATCH = 60  # annotations the team can pay for this round


def simulate_annotations(y_true, accuracies, labeled_fraction, rng):
    """Annotation matrix (rows = examples, columns = annotators), -1 = no label."""
    n, n_annotators = y_true.size, len(accuracies)
    noise = heterogeneous_noise_matrices(accuracies, n_classes=int(y_true.max()) + 1)
    oracle = simulate_annotator_labels(y_true, noise, random_state=rng)  # every annotator's answer
    labels = np.full((n, n_annotators), -1)
    labeled_rows = rng.permutation(n)[: int(labeled_fraction * n)]
    for i in labeled_rows:
        n_labels = rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])
        who = rng.choice(n_annotators, size=n_labels, replace=False)
        labels[i, who] = oracle[i, who]
    return labels


def main():
    rng = np.random.default_rng(SEED)
    digits = load_digits_data()
    X, y_true = digits.data, digits.target
    accuracies = np.array([0.95, 0.90, 0.80, 0.70, 0.60])
    labels = simulate_annotations(y_true, accuracies, labeled_fraction=0.6, rng=rng)

    is_labeled = (labels >= 0).any(axis=1)
    labels_lab = labels[is_labeled]  # annotations of the labeled rows
    X_lab, X_unlab = X[is_labeled], X[~is_labeled]
    n_per_row = (labels_lab >= 0).sum(axis=1)
    print(f"examples: {len(X)}  labeled: {len(X_lab)}  unlabeled pool: {len(X_unlab)}")
    print(f"labels per labeled example: 1 -> {np.sum(n_per_row == 1)}, "
          f"2 -> {np.sum(n_per_row == 2)}, 3 -> {np.sum(n_per_row == 3)}")

    # A first training label per row: the majority vote of its annotations.
    y_vote = get_majority_vote_label(labels_lab, random_state=SEED)
    print(f"majority-vote accuracy on the labeled rows: {np.mean(y_vote == y_true[is_labeled]):.3f}")

    model = ExtraTreesClassifier(n_estimators=100, random_state=SEED)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    pred_probs = cross_val_predict(model, X_lab, y_vote, cv=cv, method="predict_proba")
    pred_probs_unlabeled = model.fit(X_lab, y_vote).predict_proba(X_unlab)

    scores_labeled, scores_unlabeled = get_active_learning_scores(
        labels_lab, pred_probs, pred_probs_unlabeled, random_state=SEED
    )

    # The B lowest scores across both sets, on one scale.
    all_scores = np.concatenate([scores_labeled, scores_unlabeled])
    picked = np.argsort(all_scores, kind="stable")[:BATCH]
    relabel = picked[picked < len(scores_labeled)]  # positions among the labeled rows
    new = picked[picked >= len(scores_labeled)] - len(scores_labeled)  # positions in the pool

    print(f"\nbatch of {BATCH}: {len(relabel)} re-labels, {len(new)} new labels")
    wrong = y_vote[relabel] != y_true[is_labeled][relabel]
    base_rate = np.mean(y_vote != y_true[is_labeled])
    print(f"re-labels whose current majority vote is wrong: {wrong.sum()} of {len(relabel)} "
          f"(vs {base_rate:.1%} wrong among all labeled rows)")
    counts = np.bincount(n_per_row[relabel], minlength=4)[1:]
    print(f"re-labels by number of labels so far: 1 -> {counts[0]}, 2 -> {counts[1]}, 3 -> {counts[2]}")
    print(f"mean score: re-label picks {scores_labeled[relabel].mean():.3f}, "
          f"new-label picks {scores_unlabeled[new].mean():.3f}, "
          f"all labeled {scores_labeled.mean():.3f}, all unlabeled {scores_unlabeled.mean():.3f}")


if __name__ == "__main__":
    main()
