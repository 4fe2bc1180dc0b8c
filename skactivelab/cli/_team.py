"""The options of ``skactivelab score`` and ``skactivelab fit`` (a team's annotation files
in, the next batch out); the commands run in ``_score.py`` and ``_fit.py``, imported when
they run (the parser stays light).

File formats and rules: ``docs/command_line.md``.
"""

from __future__ import annotations

import argparse

from ._common import (
    N_JOBS_DEFAULT,
    TEXT_MODEL,
    add_crowd_model_option,
    at_least_two,
    n_jobs,
    positive_int,
    resolve_n_jobs,
    seconds,
    seed,
)

__all__ = ["add_team_commands"]


def _score(args):
    """``skactivelab score``, its tables read with pyarrow's system allocator."""
    from ._columns import system_allocator
    from ._score import run_score

    with system_allocator():
        return run_score(args)


def _fit(args):
    """``skactivelab fit``, its tables read with pyarrow's system allocator."""
    from ._columns import system_allocator
    from ._fit import run_fit

    resolve_n_jobs(args)
    with system_allocator():
        return run_fit(args)


def model_name(text):
    """A model of :func:`skactivelab._models.make_model` by name (checked when given)."""
    from .._models import MODELS

    names = MODELS + ("logistic", TEXT_MODEL)
    if text not in names:
        raise argparse.ArgumentTypeError(f"unknown model {text!r}; choose from "
                                         f"{', '.join(names)}")
    return text


SCORE_EXAMPLE = """\
files:
  --annotations  a Label Studio export (JSON, JSON-MIN, CSV), or a long table (one row per
                 label: example_id,annotator_id,label) or a wide one (first column the example
                 ID, one column per annotator), as CSV, TSV, Parquet or JSON Lines
  --pred-probs   CSV/Parquet with an ID column and one column per class named by class, or .npy
                 (+ --pred-probs-ids); see docs/command_line.md for rows without IDs
  --unlabeled-pred-probs  more pool rows: one CSV/.npy file, or Parquet files, directories or
                 quoted globs of them, streamed in chunks (--scheduler: on a Dask cluster)
  --out          CSV: rank,example_id,score,relabel,num_annotations,labeled_by,consensus_label,
                 consensus_quality[,suggested_annotator] (lowest scores first)
  --out-dir      next_batch.csv, consensus.csv (consensus_confidence: the probability that the
                 consensus label is right), annotators.csv (estimated_accuracy and interval)
  --report       a one-page HTML report of the round for a team lead

example:
  skactivelab score --annotations annotations.csv --pred-probs oof_probs.csv \\
      --unlabeled-pred-probs pool_probs.csv --batch 100 --out next_batch.csv
  skactivelab score --annotations export.json --pred-probs probs.csv --batch 50 \\
      --suggest-annotators --out-dir round2/ --tasks-out round2/import.json
  skactivelab score --annotations annotations.csv --pred-probs oof_probs.csv \\
      --unlabeled-pred-probs 'pool/*.parquet' --batch 10000 --out next_batch.csv

Details: docs/command_line.md. Exit status 2 on a malformed file; nothing is written then.
"""

FIT_EXAMPLE = """\
files:
  --features     CSV: example_id column (else the first column) + numeric feature columns,
                 or a text column (--text-column); rows without annotations are the pool
  --text-field   instead of --features: the texts are a data field of the export's tasks
  --annotations  a Label Studio export or a long or wide table naming the IDs of --features
  --out-dir      gets next_batch.csv, consensus.csv, annotators.csv

example:
  skactivelab fit --features features.csv --annotations annotations.csv \\
      --model extratrees --batch 100 --out-dir round1/
  skactivelab fit --annotations export.json --text-field text --batch 50 --out-dir round1/

Details: docs/command_line.md. Exit status 2 on a malformed file; nothing is written then.
"""


def _annotation_options(p):
    p.add_argument("--annotations", required=True, metavar="FILE",
                   help="a Label Studio export (JSON, JSON-MIN or CSV), or a long or wide table "
                   "(CSV, TSV, Parquet, JSON Lines), recognised by its content")
    p.add_argument("--format", choices=("auto", "labelstudio", "long", "wide"), default="auto",
                   help="annotations format (default: auto, from the content)")
    p.add_argument("--example-column", metavar="NAME",
                   help="the example-ID column of the annotations (long format) and of the "
                   "probability or features files, when it has another name (or a usual name "
                   "is also a class)")
    p.add_argument("--annotator-column", metavar="NAME",
                   help="the annotator-ID column of long-format annotations")
    p.add_argument("--label-column", metavar="NAME",
                   help="the label column of long-format annotations; for a Label Studio "
                   "export, the name= of the <Choices> tag")


def _batch_options(p):
    p.add_argument("--batch", required=True, type=positive_int, metavar="B",
                   help="how many examples to (re)label next")
    p.add_argument("--suggest-annotators", action="store_true",
                   help="add a suggested_annotator column: the best annotator (CROWDLAB "
                   "quality, or the accuracy under --crowd-model) who has not labeled the "
                   "example yet, each at most "
                   "ceil(1.5 x B / annotators) picks unless --max-per-annotator")
    p.add_argument("--max-per-annotator", type=positive_int, metavar="N",
                   help="with --suggest-annotators, at most N picks per annotator")
    p.add_argument("--previous-batch", metavar="FILE", nargs="+",
                   help="next_batch.csv of earlier rounds: its examples that got no label "
                   "since are pending and not asked again")
    p.add_argument("--include-pending", action="store_true",
                   help="ask pending examples again (tasks imported by --tasks-out and not "
                   "answered yet, --previous-batch); by default they are left out")
    p.add_argument("--tasks-out", metavar="FILE",
                   help="also write a Label Studio import file (JSON) of the batch: each task "
                   "with its data from the export and why it was picked in meta (- for "
                   "standard output)")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def add_team_commands(subparsers):
    """Register ``score`` and ``fit`` on the subparsers of the one parser.

    Each sub-parser sets ``func(args) -> int`` (exit status).
    """
    _add_score(subparsers)
    _add_fit(subparsers)
    return subparsers


def _add_score(subparsers):
    fmt = argparse.RawDescriptionHelpFormatter
    s = subparsers.add_parser(
        "score",
        help="which examples to label or re-label next, from your own predicted probabilities",
        description="Score every example with ActiveLab from annotations and a classifier's "
        "predicted probabilities, and write the B examples to label (or re-label) next, "
        "with consensus labels (CROWDLAB's, or --crowd-model's), their confidence and each "
        "annotator's estimated accuracy.",
        epilog=SCORE_EXAMPLE,
        formatter_class=fmt,
    )
    _annotation_options(s)
    s.add_argument("--pred-probs", required=True, metavar="FILE",
                   help="out-of-fold predicted probabilities of the annotated examples: CSV or "
                   "Parquet (an ID column and one column per class), or .npy")
    s.add_argument("--pred-probs-ids", metavar="FILE",
                   help="the example ID of each row of a .npy --pred-probs, one per line")
    s.add_argument("--unlabeled-pred-probs", metavar="FILE", nargs="+",
                   help="predicted probabilities of unlabeled examples: one CSV or .npy file "
                   "(rows without an ID column are named unlabeled:0, unlabeled:1, ...), or "
                   "Parquet files, directories or quoted globs of them ('pool/*.parquet'), "
                   "streamed in chunks with bounded memory")
    s.add_argument("--chunk-rows", type=positive_int, default=500_000, metavar="N",
                   help="rows of a Parquet pool read at a time (default: 500000); with "
                   "--scheduler, also about the rows of one task")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="score the Parquet pool on this Dask scheduler (like tcp://host:8786); "
                   "its workers must be able to read the files at the same paths")
    s.add_argument("--scheduler-timeout", type=seconds, default=10.0, metavar="SECONDS",
                   help="how long to wait for the scheduler and a worker (default: 10)")
    _batch_options(s)
    where = s.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="FILE",
                       help="the next batch as CSV (replaced if it exists; - for standard output)")
    where.add_argument("--out-dir", metavar="DIR",
                       help="directory for next_batch.csv, consensus.csv and annotators.csv")
    s.add_argument("--report", metavar="FILE.html",
                   help="also write a one-page HTML report of the round (annotators, "
                   "consensus confidence, the batch); self-contained, opens in any browser")
    add_crowd_model_option(s, "the scores and consensus.csv")
    s.add_argument("--seed", type=seed, default=0, help="seed for majority-vote tie-breaks (default: 0)")
    s.set_defaults(func=_score)


def _add_fit(subparsers):
    fmt = argparse.RawDescriptionHelpFormatter
    f = subparsers.add_parser(
        "fit",
        help="train a classifier on the annotations; consensus, annotator accuracy, next batch",
        description="Train a classifier with cross-validation on consensus labels (CROWDLAB's, "
        "or --crowd-model's; MultiAnnotatorClassifier), then write the next batch to (re)label, the consensus "
        "label and its confidence for each example, and each annotator's estimated accuracy.",
        epilog=FIT_EXAMPLE,
        formatter_class=fmt,
    )
    f.add_argument("--features", metavar="FILE",
                   help="features: CSV (also TSV, Parquet, JSON Lines): an ID column and "
                   "numeric columns, or a text column (--text-column)")
    f.add_argument("--text-column", metavar="NAME",
                   help="the features are the texts of this column of --features: TF-IDF "
                   "and logistic regression (tfidf-logistic)")
    f.add_argument("--text-field", metavar="NAME",
                   help="no --features: the texts are this data field of the tasks of the "
                   "Label Studio export (like text for $text); TF-IDF and logistic regression")
    _annotation_options(f)
    f.add_argument("--model", type=model_name, default=None,
                   metavar="MODEL",
                   help="on numeric features: extratrees (100 trees, default), randomforest "
                   "(100 trees), logreg or logistic (standardised logistic regression), knn "
                   "(10 neighbours, standardised), mlp (one hidden layer of 100), hgb "
                   "(HistGradientBoosting), the same models as the benchmark; on text: "
                   f"{TEXT_MODEL} (the only one, the default)")
    f.add_argument("--unlabeled-features", metavar="FILE",
                   help="more rows for the unlabeled pool, same feature columns")
    _batch_options(f)
    f.add_argument("--out-dir", required=True, metavar="DIR",
                   help="output directory (created if missing; its three files are replaced)")
    f.add_argument("--cv", type=at_least_two, default=5,
                   help="cross-validation folds, at least 2 (default: 5)")
    add_crowd_model_option(f, "the training labels, the scores and consensus.csv")
    f.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    f.add_argument("--n-jobs", type=n_jobs, default=None,
                   help=f"folds fitted in parallel; -1 for all CPUs (default: {N_JOBS_DEFAULT})")
    f.set_defaults(func=_fit)
