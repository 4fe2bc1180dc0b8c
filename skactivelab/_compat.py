"""Every scikit-learn name that is private or version-dependent, imported in one place.

scikit-learn does not promise to keep its private helpers. Each one the package
uses is imported here, with a fallback where a small one is possible, else an
``ImportError`` that names the missing helper, the scikit-learn version found
and the supported range (see ``install_requires`` in ``setup.cfg``). The rest of
the package imports these names from here, never from ``sklearn`` directly.
"""

from __future__ import annotations

import importlib

import sklearn

__all__ = [
    "ClassifierTags",
    "HasMethods",
    "Interval",
    "MetadataRouter",
    "MethodMapping",
    "SKLEARN_MIN",
    "StrOptions",
    "_BaseComposition",
    "available_if",
    "check_method_params",
    "estimator_has",
    "fit_context",
    "get_tags",
    "num_samples",
    "process_routing",
    "raise_for_params",
    "routing_enabled",
    "safe_indexing",
    "validate_data",
    "validate_parameters",
]

# The oldest scikit-learn the package is tested with (keep in step with setup.cfg).
SKLEARN_MIN = "1.6"


def _import(module, name, since=SKLEARN_MIN):
    """``module.name``, or an ImportError naming what is missing and what to install."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ImportError(
            f"skactivelab needs {module}.{name} (scikit-learn >= {since}), which scikit-learn "
            f"{sklearn.__version__} does not have; install a supported version: "
            f"pip install 'scikit-learn>={SKLEARN_MIN}'."
        ) from None


def _optional(module, name):
    """``module.name``, or None when this scikit-learn does not have it."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


# --- parameter validation (scikit-learn >= 1.3 for fit_context)
HasMethods = _import("sklearn.utils._param_validation", "HasMethods")
Interval = _import("sklearn.utils._param_validation", "Interval")
StrOptions = _import("sklearn.utils._param_validation", "StrOptions")
_validate_parameter_constraints = _import(
    "sklearn.utils._param_validation", "validate_parameter_constraints"
)
fit_context = _import("sklearn.base", "_fit_context")


def validate_parameters(estimator):
    """Check ``estimator.get_params(deep=False)`` against its ``_parameter_constraints``;
    an invalid value raises scikit-learn's ``InvalidParameterError`` (a ``ValueError``)."""
    _validate_parameter_constraints(
        estimator._parameter_constraints,
        estimator.get_params(deep=False),
        caller_name=type(estimator).__name__,
    )


# --- estimator tags and input validation (scikit-learn >= 1.6)
ClassifierTags = _import("sklearn.utils._tags", "ClassifierTags")
get_tags = _import("sklearn.utils", "get_tags")
validate_data = _import("sklearn.utils.validation", "validate_data")

# --- metadata routing (scikit-learn >= 1.4)
MetadataRouter = _import("sklearn.utils.metadata_routing", "MetadataRouter", "1.4")
MethodMapping = _import("sklearn.utils.metadata_routing", "MethodMapping", "1.4")
process_routing = _import("sklearn.utils.metadata_routing", "process_routing", "1.4")
raise_for_params = _import("sklearn.utils.metadata_routing", "_raise_for_params", "1.4")
routing_enabled = _import("sklearn.utils.metadata_routing", "_routing_enabled", "1.4")
check_method_params = _import("sklearn.utils.validation", "_check_method_params", "1.4")

# --- meta-estimator helpers
_BaseComposition = _import("sklearn.utils.metaestimators", "_BaseComposition")
available_if = _import("sklearn.utils.metaestimators", "available_if")
safe_indexing = _import("sklearn.utils", "_safe_indexing")

estimator_has = _optional("sklearn.utils.validation", "_estimator_has")
if estimator_has is None:  # pragma: no cover - scikit-learn without the helper

    def estimator_has(attr, delegates=("estimator_", "estimator")):
        """A check for ``available_if``: the first delegate present has ``attr``."""

        def check(self):
            for delegate in delegates:
                if hasattr(self, delegate):
                    return hasattr(getattr(self, delegate), attr)
            return False

        return check


num_samples = _optional("sklearn.utils.validation", "_num_samples")
if num_samples is None:  # pragma: no cover - scikit-learn without the helper

    def num_samples(x):
        """Number of rows of an array-like (``len`` or ``shape[0]``)."""
        shape = getattr(x, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
        if hasattr(x, "__len__"):
            return len(x)
        raise TypeError(f"Expected an array-like with rows, got {type(x).__name__}.")
