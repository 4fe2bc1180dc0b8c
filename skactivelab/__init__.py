"""skactivelab: ActiveLab and CROWDLAB for scikit-learn.

Decide what to label or re-label next (ActiveLab) and infer consensus labels,
their quality and annotator quality (CROWDLAB) from several noisy annotators.
"""

from ._annotations import long_to_wide, wide_to_long
from ._config import config_context, get_config, set_config
from .activelab import get_active_learning_scores, get_active_learning_scores_ensemble
from .calibration import find_best_temperature, temp_scale_pred_probs
from .estimator import MultiAnnotatorClassifier, MultiAnnotatorEnsembleClassifier
from .crowdlab import (
    LabelQualityResult,
    get_label_quality_multiannotator,
    get_label_quality_multiannotator_ensemble,
)
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

__version__ = "0.1.0"

__all__ = [
    "ActiveLabQuery",
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
