"""Label cleaning: everything is labeled already; which labels should be re-checked?

A common situation for an annotation team: the whole dataset was labeled once
(a few examples twice), the labels are noisy, and there is budget for some more
annotations to clean it up. There is no unlabeled pool; every extra annotation is
a second (or third) opinion. ActiveLab scores every labeled example by how likely
one more label is to help, so each round the re-checks go where the consensus is
most doubtful rather than to random examples.

``MultiAnnotatorActiveLearner`` runs the loop: ``query`` picks the rows,
``teach`` records who gave which label and refits a ``MultiAnnotatorClassifier``
(cross-validated classifier + CROWDLAB consensus), and ``history_`` logs each
round. Each picked row goes to an annotator of the team who has not labeled it
yet, chosen at random (as in the ActiveLab paper's simulations).

The setting: scikit-learn's digits (the two thirds that ``make_task`` keeps for
training), 10 simulated annotators from ``mixed_annotator_accuracies`` (from
near-perfect to spammers), every example labeled at the start (mostly once;
``setting="label_cleaning"``), then 4 rounds of 100 re-labels. Consensus accuracy
against the hidden truth is printed per round for ActiveLab and for random
re-checks.

Run: ``python examples/04_label_cleaning.py`` (about 10 seconds).
"""

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier

from skactivelab import ActiveLabQuery, MultiAnnotatorActiveLearner, MultiAnnotatorClassifier, RandomQuery
from skactivelab.datasets import load_digits_data
from skactivelab.simulation import heterogeneous_noise_matrices, make_task, mixed_annotator_accuracies

SEED = 0
N_ANNOTATORS, BATCH, ROUNDS = 10, 100, 4


def run(task, strategy, rng):
    """Consensus accuracy per round and the learner, for one query strategy."""
    initial = (task.init_example, task.init_annotator, task.init_label)  # long format: row, annotator, label
    learner = MultiAnnotatorActiveLearner(
        MultiAnnotatorClassifier(ExtraTreesClassifier(n_estimators=50, random_state=SEED), cv=3, random_state=SEED),
        query_strategy=strategy,
        X=task.X_train,
        y=initial,
    )
    accuracy = [np.mean(learner.estimator.consensus_labels_ == task.y_train)]
    for _ in range(ROUNDS):
        rows, _ = learner.query(n_instances=BATCH)
        # who already labeled what: the learner's annotations in long format
        done_rows, done_who, _ = learner.annotations
        done = set(zip(done_rows.tolist(), [int(a) for a in done_who]))
        who = np.array([rng.choice([a for a in range(task.n_annotators) if (r, a) not in done]) for r in rows])
        learner.teach(rows, task.oracle[rows, who], annotators=who)  # the team's answers
        accuracy.append(np.mean(learner.estimator.consensus_labels_ == task.y_train))
    return accuracy, learner


def main():
    digits = load_digits_data()
    accuracies = mixed_annotator_accuracies(N_ANNOTATORS, n_classes=10, random_state=SEED)
    task = make_task(
        digits.data,
        digits.target,
        setting="label_cleaning",
        noise_matrices=heterogeneous_noise_matrices(accuracies, n_classes=10),
        random_state=SEED,
    )
    n_labels = np.bincount(task.init_example, minlength=len(task.y_train))
    print(f"{len(task.y_train)} examples, all labeled: {np.sum(n_labels == 1)} once, {np.sum(n_labels > 1)} more often; "
          f"{N_ANNOTATORS} annotators, true accuracies {np.round(np.sort(accuracies), 2).tolist()}")

    strategies = {
        # exclude_fully_annotated: never pick a row that all 10 annotators have labeled
        "activelab": ActiveLabQuery(exclude_fully_annotated=True, random_state=SEED),
        "random": RandomQuery(exclude_fully_annotated=True, random_state=SEED),
    }
    results = {name: run(task, s, np.random.default_rng(SEED)) for name, s in strategies.items()}

    print("\nconsensus accuracy per round")
    print(f"{'round':>5} {'extra labels':>12} {'activelab':>9} {'random':>7}")
    for r in range(ROUNDS + 1):
        print(f"{r:>5} {r * BATCH:>12} {results['activelab'][0][r]:>9.3f} {results['random'][0][r]:>7.3f}")

    print("\nActiveLab rounds (learner.history_):")
    for h in results["activelab"][1].history_:
        print(f"  round {h['round']}: {h['n_relabels']} re-labels, {h['n_new']} new, "
              f"consensus changed on {h['consensus_changed']} rows, {h['n_annotations']} annotations in total")
    a, r = results["activelab"][0][-1], results["random"][0][-1]
    print(f"final consensus accuracy: activelab {a:.3f}, random {r:.3f} ({a - r:+.3f})")


if __name__ == "__main__":
    main()
