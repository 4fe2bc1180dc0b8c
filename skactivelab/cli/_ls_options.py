"""The options of ``skactivelab labelstudio round``; the round runs in ``_ls_server.py``,
imported when it runs (the parser stays light).

How a round works with the server: ``docs/label_studio_live.md``.
"""

from __future__ import annotations

import argparse

from ._common import add_crowd_model_option, positive_int, seed

__all__ = ["add_labelstudio_commands"]


def _round(args):
    """``skactivelab labelstudio round``."""
    from ._ls_server import run_round

    return run_round(args)


ROUND_EXAMPLE = """\
environment:
  LABEL_STUDIO_URL      the server, like http://localhost:8080 (or --url)
  LABEL_STUDIO_API_KEY  your access token (Account & Settings: a personal access token
                        or a legacy token); never given on the command line

example:
  export LABEL_STUDIO_URL=http://localhost:8080 LABEL_STUDIO_API_KEY=...
  skactivelab labelstudio round --project 3 --round 1 --pred-probs probs.csv \\
      --batch 50 --suggest-annotators --dry-run
  skactivelab labelstudio round --project 3 --round 1 --pred-probs probs.csv \\
      --batch 50 --suggest-annotators --out-dir round1/

--pred-probs: one row per example (task id in column 'id'), one column per class;
out-of-fold for labeled examples. Details: docs/label_studio_live.md.
"""


def add_labelstudio_commands(subparsers):
    """Register ``labelstudio`` (with its ``round`` command) on the one parser."""
    fmt = argparse.RawDescriptionHelpFormatter
    ls = subparsers.add_parser(
        "labelstudio", help="active-learning rounds on a Label Studio server (its API)",
        description="Work with a Label Studio server through its API (needs "
        "pip install 'skactivelab[labelstudio]').", formatter_class=fmt)
    sub = ls.add_subparsers(dest="ls_command", required=True)
    r = sub.add_parser(
        "round", help="pull a project, score it, push the round back",
        description="One round: pull the project's tasks and annotations, score every example "
        "with ActiveLab (as 'skactivelab score'), and push the round back: each task's "
        "prediction score, the picks to (re)label (new tasks for re-labels), the project's "
        "model version and task sampling. Idempotent; nothing is deleted.",
        epilog=ROUND_EXAMPLE, formatter_class=fmt)
    r.add_argument("--url", metavar="URL",
                   help="the Label Studio server (default: $LABEL_STUDIO_URL)")
    r.add_argument("--project", required=True, type=positive_int, metavar="ID",
                   help="the project's ID (the number in its address)")
    r.add_argument("--round", required=True, type=positive_int, metavar="N",
                   help="the round's number: its predictions have model version "
                   "skactivelab-round-N; the same N again re-runs (and completes) that round")
    r.add_argument("--pred-probs", required=True, metavar="FILE",
                   help="predicted probabilities of every example, keyed by task ID (column "
                   "'id'): CSV or Parquet, or .npy with --pred-probs-ids; out-of-fold for "
                   "labeled examples")
    r.add_argument("--pred-probs-ids", metavar="FILE",
                   help="the example ID of each row of a .npy --pred-probs, one per line")
    r.add_argument("--example-column", metavar="NAME",
                   help="the ID column of --pred-probs when it is not 'id'")
    r.add_argument("--label-column", metavar="NAME",
                   help="the name= of the <Choices> tag holding the class, when the labeling "
                   "config has several")
    r.add_argument("--batch", required=True, type=positive_int, metavar="B",
                   help="how many examples to hand out this round")
    r.add_argument("--suggest-annotators", action="store_true",
                   help="suggest for each pick the best annotator (CROWDLAB quality, or the "
                   "accuracy under --crowd-model) who has "
                   "not labeled it (in the task's meta and next_batch.csv), each at most "
                   "ceil(1.5 x B / annotators) picks unless --max-per-annotator")
    r.add_argument("--max-per-annotator", type=positive_int, metavar="N",
                   help="with --suggest-annotators, at most N picks per annotator")
    r.add_argument("--keep-sampling", action="store_true",
                   help="leave the project's task sampling as it is (default: uncertainty "
                   "sampling, so the labeling stream hands out the lowest scores first)")
    r.add_argument("--dry-run", action="store_true",
                   help="show what the round would change, and change nothing")
    r.add_argument("--out-dir", metavar="DIR",
                   help="also write next_batch.csv, consensus.csv, annotators.csv and the "
                   "pulled export.json here")
    r.add_argument("--report", metavar="FILE.html",
                   help="also write a one-page HTML report of the round (annotators, "
                   "consensus confidence, the batch)")
    add_crowd_model_option(r, "the scores and the consensus")
    r.add_argument("--seed", type=seed, default=0,
                   help="seed for majority-vote tie-breaks (default: 0)")
    r.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    # what the scoring shared with 'skactivelab score' reads of the options
    r.set_defaults(func=_round, unlabeled_pred_probs=None, tasks_out=None,
                   previous_batch=None, include_pending=False, out=None)
    return subparsers
