"""Consensus labels, how much to trust each one, and which annotators do well.

With several annotators per example, a majority vote is the obvious consensus, but
it ignores two things you know: some annotators are much better than others, and a
classifier trained on the data has an opinion too. CROWDLAB
(``get_label_quality_multiannotator``) combines the annotations with a classifier's
out-of-fold predicted probabilities and returns, per example, a consensus label and
a consensus quality score in [0, 1] (low = check this one), and, per annotator, a
quality score that you can use to rank your team, find spammers, or route work.

This script simulates a mixed crowd of 10 annotators on scikit-learn's digits
data (``mixed_annotator_accuracies``: 20% near-perfect, 50% typical, 20% poor and
10% spammers answering at random); every example gets 1 to 4 labels from random
annotators. It then

1. gets out-of-fold probabilities with ``cross_val_predict`` trained on the
   majority vote;
2. runs CROWDLAB and compares its consensus with the majority vote against the
   hidden truth, and checks that a low consensus quality score flags wrong
   consensus labels;
3. prints the annotator table (``annotator_stats_frame``, worst first) next to
   each annotator's simulated true accuracy, with their Spearman rank correlation.

The annotations are a pandas DataFrame with NaN for "no label" and one column per
annotator (the column names are the annotator IDs in every output).

Run: ``python examples/02_annotator_quality.py`` (a few seconds).
"""

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from skactivelab import get_label_quality_multiannotator, get_majority_vote_label
from skactivelab.datasets import load_digits_data
from skactivelab.simulation import (
    heterogeneous_noise_matrices,
    mixed_annotator_accuracies,
    simulate_annotator_labels,
)

SEED = 0
N_ANNOTATORS = 10


def main():
    rng = np.random.default_rng(SEED)
    digits = load_digits_data()
    X, y_true = digits.data, digits.target
    n, n_classes = len(y_true), len(digits.target_names)

    # the hidden truth about the team, and every annotator's answer to every example
    accuracies = mixed_annotator_accuracies(N_ANNOTATORS, n_classes, random_state=SEED)
    noise = heterogeneous_noise_matrices(accuracies, n_classes)
    oracle = simulate_annotator_labels(y_true, noise, random_state=SEED)

    # what the team actually labeled: 1 to 4 random annotators per example
    labels = np.full((n, N_ANNOTATORS), np.nan)
    for i in range(n):
        who = rng.choice(N_ANNOTATORS, size=rng.choice([1, 2, 3, 4], p=[0.2, 0.3, 0.3, 0.2]), replace=False)
        labels[i, who] = oracle[i, who]
    names = [f"annotator_{j:02d}" for j in range(N_ANNOTATORS)]
    annotations = pd.DataFrame(labels, columns=names)
    print(f"{n} examples, {N_ANNOTATORS} annotators, {int(annotations.notna().sum().sum())} labels")

    # out-of-fold probabilities of a classifier trained on the majority vote
    y_vote = get_majority_vote_label(annotations, random_state=SEED)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    model = ExtraTreesClassifier(n_estimators=100, random_state=SEED)
    pred_probs = cross_val_predict(model, X, y_vote, cv=cv, method="predict_proba")

    res = get_label_quality_multiannotator(annotations, pred_probs, random_state=SEED)
    consensus = res.consensus_label.astype(int)
    print(f"majority vote accuracy:      {np.mean(y_vote == y_true):.3f}")
    print(f"CROWDLAB consensus accuracy: {np.mean(consensus == y_true):.3f}")

    # the consensus quality score ranks the consensus labels to check first
    quality = res.consensus_quality_score
    worst = np.argsort(quality)[: n // 10]
    print(f"consensus wrong among the 10% lowest quality scores: {np.mean(consensus[worst] != y_true[worst]):.1%} "
          f"(overall: {np.mean(consensus != y_true):.1%})")

    # per-annotator table, worst first, next to the simulated truth
    table = res.annotator_stats_frame()
    table["true_accuracy"] = pd.Series(accuracies, index=names)
    print("\nannotators, worst first:")
    print(table.to_string(float_format="{:.3f}".format))
    rho = spearmanr(res.annotator_quality, accuracies).statistic
    print(f"\nSpearman rank correlation, annotator quality vs true accuracy: {rho:.3f}")
    spammers = np.flatnonzero(np.isclose(accuracies, 1 / n_classes))
    print(f"simulated spammers: {[names[j] for j in spammers]}; "
          f"the {len(spammers)} lowest rated: {list(table.index[: len(spammers)])}")


if __name__ == "__main__":
    main()
