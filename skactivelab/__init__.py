"""skactivelab: ActiveLab and CROWDLAB for scikit-learn.

Decide what to label or re-label next (ActiveLab) and infer consensus labels,
their quality and annotator quality (CROWDLAB) from several noisy annotators.

The public names are imported on first use: ``import skactivelab`` alone
imports none of its dependencies (so the command line starts quickly), and
``from skactivelab import X`` and ``skactivelab.X`` work as usual.
"""

from __future__ import annotations

import importlib
import importlib.util

# False at run time, true for static type checkers (mypy, pyright): importing
# typing.TYPE_CHECKING would cost the import of typing.
TYPE_CHECKING = False

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_EXPORTS = {
    "long_to_wide": "_annotations",
    "wide_to_long": "_annotations",
    "config_context": "_config",
    "get_config": "_config",
    "set_config": "_config",
    "get_active_learning_scores": "activelab",
    "get_active_learning_scores_ensemble": "activelab",
    "AnnotatorConfusion": "crowd_models",
    "CrowdLab": "crowd_models",
    "MajorityVote": "crowd_models",
    "find_best_temperature": "calibration",
    "temp_scale_pred_probs": "calibration",
    "MultiAnnotatorClassifier": "estimator",
    "MultiAnnotatorEnsembleClassifier": "estimator",
    "LabelQualityResult": "crowdlab",
    "get_label_quality_multiannotator": "crowdlab",
    "get_label_quality_multiannotator_ensemble": "crowdlab",
    "MultiAnnotatorActiveLearner": "learner",
    "get_majority_vote_label": "majority_vote",
    "ConsensusStratifiedKFold": "model_selection",
    "entropy_scores": "query",
    "margin_scores": "query",
    "select_batch": "query",
    "uncertainty_scores": "query",
    "ActiveLabQuery": "strategies",
    "EntropyQuery": "strategies",
    "GoodRandomQuery": "strategies",
    "MarginQuery": "strategies",
    "RandomQuery": "strategies",
    "UncertaintyQuery": "strategies",
}

__all__ = [
    "ActiveLabQuery",
    "AnnotatorConfusion",
    "CrowdLab",
    "MajorityVote",
    "ConsensusStratifiedKFold",
    "EntropyQuery",
    "GoodRandomQuery",
    "MarginQuery",
    "MultiAnnotatorActiveLearner",
    "RandomQuery",
    "UncertaintyQuery",
    "LabelQualityResult",
    "config_context",
    "get_config",
    "set_config",
    "MultiAnnotatorClassifier",
    "MultiAnnotatorEnsembleClassifier",
    "find_best_temperature",
    "get_active_learning_scores",
    "get_active_learning_scores_ensemble",
    "get_label_quality_multiannotator",
    "get_label_quality_multiannotator_ensemble",
    "get_majority_vote_label",
    "entropy_scores",
    "margin_scores",
    "select_batch",
    "uncertainty_scores",
    "long_to_wide",
    "temp_scale_pred_probs",
    "wide_to_long",
]


def __getattr__(name):
    """A public name (or a submodule) of skactivelab, imported on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")  # e.g. skactivelab.strategies
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what static type checkers and IDEs read
    from ._annotations import long_to_wide, wide_to_long
    from ._config import config_context, get_config, set_config
    from .activelab import get_active_learning_scores, get_active_learning_scores_ensemble
    from .calibration import find_best_temperature, temp_scale_pred_probs
    from .crowd_models import AnnotatorConfusion, CrowdLab, MajorityVote
    from .crowdlab import (
        LabelQualityResult,
        get_label_quality_multiannotator,
        get_label_quality_multiannotator_ensemble,
    )
    from .estimator import MultiAnnotatorClassifier, MultiAnnotatorEnsembleClassifier
    from .learner import MultiAnnotatorActiveLearner
    from .majority_vote import get_majority_vote_label
    from .model_selection import ConsensusStratifiedKFold
    from .query import entropy_scores, margin_scores, select_batch, uncertainty_scores
    from .strategies import (
        ActiveLabQuery,
        EntropyQuery,
        GoodRandomQuery,
        MarginQuery,
        RandomQuery,
        UncertaintyQuery,
    )
