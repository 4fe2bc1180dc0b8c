"""One place for each rule: the shared builders checked by hand, and the package's structure
(layers, no import circle, no private name across modules, short functions)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import skactivelab as sk
from skactivelab import crowdlab


def _one_label_each():
    # example 0: annotator "a" says 0; example 1: "b" says 1; example 2: "a" says 1; "c" idle
    labels = np.array([[0, -1, -1], [-1, 1, -1], [1, -1, -1]])
    P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    return labels, P


def test_one_label_per_example_result_by_hand():
    labels, P = _one_label_each()
    res, codes = crowdlab.label_quality(labels, P, one_label="label")
    assert codes.tolist() == [0, 1, 1]
    assert res.consensus_label.tolist() == [0, 1, 1]
    np.testing.assert_allclose(res.consensus_quality_score, [0.9, 0.7, 0.4])
    # annotator 0: labels of quality 0.9 (class 0) and 0.4 (class 1) -> mean 0.65, worst class 1
    np.testing.assert_allclose(res.annotator_quality[:2], [0.65, 0.7])
    assert np.isnan(res.annotator_quality[2])
    assert res.worst_class.tolist() == [1, 1, -1]
    assert res.model_weight == 1.0 and res.temperature is None
    np.testing.assert_array_equal(res.annotator_weights[:2], [1.0, 1.0])


def test_one_label_per_example_public_function_still_refuses():
    labels, P = _one_label_each()
    with pytest.raises(ValueError, match="exactly one annotation"):
        sk.get_label_quality_multiannotator(labels, P)
    with pytest.raises(ValueError, match="one_label"):
        crowdlab.label_quality(labels, P, one_label="maybe")


def test_one_label_per_example_decoded_once_in_class_values():
    labels, P = _one_label_each()
    names = np.array(["cat", "dog"], dtype=object)
    str_labels = np.where(labels >= 0, names[np.maximum(labels, 0)], None)
    res, codes = crowdlab.label_quality(str_labels, P, one_label="label")
    assert codes.tolist() == [0, 1, 1]
    assert res.consensus_label.tolist() == ["cat", "dog", "dog"]
    assert res.worst_class.tolist() == ["dog", "dog", None]


def test_estimator_single_label_uses_the_scoring_layer_result():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    truth = np.where(X[:, 0] > 0, "yes", "no").astype(object)
    y = np.full((40, 2), None, dtype=object)
    y[:20, 0] = truth[:20]
    y[20:30, 1] = truth[20:30]  # every labeled row has exactly one label
    clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0).fit(X, y)
    lab = clf.labeled_mask_
    oof = clf.oof_pred_probs_[lab]
    codes = np.searchsorted(clf.classes_, clf.consensus_labels_[lab])
    # consensus quality = out-of-fold probability of the given label (by hand)
    np.testing.assert_allclose(clf.consensus_quality_[lab], oof[np.arange(lab.sum()), codes])
    assert set(clf.worst_class_.tolist()) <= {"yes", "no"}
    assert clf.label_quality_.consensus_label.tolist() == clf.consensus_labels_[lab].tolist()
    assert clf.label_quality_.example_ids.tolist() == np.flatnonzero(lab).tolist()


# ------------------------------------------------------------------ the import graph
import ast  # noqa: E402
import pathlib  # noqa: E402

PACKAGE = pathlib.Path(sk.__file__).parent
#: Sub-packages the structural rules do not cover (none: add a package here to exempt it,
#: remove it to hold it to the rules).
NOT_CHECKED = ()
#: Private modules made for sharing: their underscore names may be imported elsewhere.
SHARING_MODULES = ("skactivelab._utils", "skactivelab._compat")
#: The layers, lowest first: a module imports only from its own layer or lower ones
#: (and never in a circle). A sub-package is one entry.
LAYERS = (
    ("_compat", "_config", "_utils", "_validation", "_digest", "_label_scores", "datasets"),
    ("_annotations", "_kernels", "_proba", "_models"),
    ("_confusion", "calibration", "majority_vote", "crowdlab", "_frames"),
    ("_phases",),
    ("_dask",),
    ("activelab", "query", "multiannotator", "model_selection", "crowd_models"),
    ("estimator",),
    ("strategies",),
    ("learner", "simulation"),
    ("cli", "__init__", "__main__"),
)
MAX_FUNCTION_LINES = 60


def _module_name(path):
    parts = list(path.with_suffix("").relative_to(PACKAGE.parent).parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _checked(name):
    return not any(name == pkg or name.startswith(pkg + ".") for pkg in NOT_CHECKED)


def _imports(name, tree=None):
    """``[(imported module, imported name or None), ...]`` of a module, function-level
    imports included; ``from . import mod`` counts as importing ``mod``."""
    tree = tree or ast.parse(MODULES[name].read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = _relative_base(name, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((sub, None) if sub in MODULES else (base, alias.name))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("skactivelab"):
            out.extend((node.module, alias.name) for alias in node.names)
    return out


def _relative_base(name, node):
    """The module that ``from .[.]module import ...`` in module ``name`` names."""
    is_package = MODULES.get(name, PACKAGE).name == "__init__.py"
    package = name.split(".") if is_package else name.split(".")[:-1]
    return ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))


def _graph():
    return {m: {t for t, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}


def _layer(name):
    short = name.split(".")[1] if "." in name else "__init__"
    for i, layer in enumerate(LAYERS):
        if short in layer:
            return i
    raise AssertionError(f"{name} is in no layer of tests/test_structure.py: LAYERS; give it one.")


def _circles(graph):
    """The import circles of ``graph`` (module -> imported modules), each as a path."""
    state, stack, circles = {}, [], []

    def visit(m):  # depth-first search; a grey module met again closes a circle
        state[m] = "grey"
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == "grey":
                circles.append(stack[stack.index(d):] + [d])
            elif d not in state and d in graph:
                visit(d)
        stack.pop()
        state[m] = "black"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return circles


def _up_arrows(graph):
    """``(module, imported module)`` of the imports that run from a lower layer to a higher one."""
    return sorted((m, d) for m, deps in graph.items() for d in deps
                  if _layer(d) > _layer(m) and not (m.startswith(d + ".") or d == "skactivelab"))


def _private_uses(name, tree):
    """Private names of other modules that module ``name`` (parsed: ``tree``) uses."""
    bad = []
    modules = {a.asname or a.name: t for t, a in _module_aliases(name, tree)}
    for target, imported in _imports(name, tree):
        if (imported and imported.startswith("_") and not imported.startswith("__")
                and target not in SHARING_MODULES):
            bad.append(f"{name}: from {target} import {imported}")
    for node in ast.walk(tree):  # mod._name through an imported module
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")
                and not node.attr.startswith("__") and modules[node.value.id] not in SHARING_MODULES):
            bad.append(f"{name}: {modules[node.value.id]}.{node.attr}")
    return bad


def _module_aliases(name, tree):
    """``(module, alias node)`` of the ``from . import module [as alias]`` imports of a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = _relative_base(name, node)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    yield f"{base}.{alias.name}", alias


def _lengths(tree, where):
    """``(body lines without the docstring, where:line name)`` of every function of ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                body = body[1:] or body
            yield node.end_lineno - body[0].lineno + 1, f"{where}:{node.lineno} {node.name}"


def _function_lengths(module_names):
    """``(body lines without the docstring, where)`` of every function of these modules."""
    for m in module_names:
        yield from _lengths(ast.parse(MODULES[m].read_text()), MODULES[m].relative_to(PACKAGE.parent))


def test_no_import_circle():
    circles = _circles({m: deps for m, deps in _graph().items() if _checked(m)})
    assert not circles, f"import circles: {circles}"


def test_no_import_runs_back_up_a_layer():
    bad = _up_arrows({m: deps for m, deps in _graph().items() if _checked(m)})
    assert not bad, f"imports from a higher layer (see LAYERS): {bad}"


def test_no_private_name_imported_across_modules():
    bad = [use for m in MODULES if _checked(m)
           for use in _private_uses(m, ast.parse(MODULES[m].read_text()))]
    assert not bad, "private names used across modules (make them public names of their module, " \
                    f"or move them to a module made for sharing): {sorted(set(bad))}"


@pytest.mark.parametrize("package", ["skactivelab"])
def test_no_function_longer_than_the_limit(package):
    names = [m for m in MODULES if (m == package or m.startswith(package + ".")) and _checked(m)]
    long = sorted((n, where) for n, where in _function_lengths(names) if n > MAX_FUNCTION_LINES)
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (body, docstring excluded): {long}"


def test_the_structure_checks_can_fail():
    """The checks read real imports (the command line's included, which they cover), and
    each one flags a made-up case of what it forbids."""
    graph = _graph()
    assert _checked("skactivelab.cli") and _checked("skactivelab.cli._pool")
    assert "skactivelab._phases" in graph["skactivelab.activelab"]
    assert "skactivelab.cli._tables" in graph["skactivelab.cli._labelstudio"]
    assert "skactivelab.cli._labelstudio" in graph["skactivelab.cli._files"]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _up_arrows({"skactivelab._validation": {"skactivelab.cli._files", "skactivelab._utils"},
                       "skactivelab.cli": {"skactivelab.cli._files"}}) == [
        ("skactivelab._validation", "skactivelab.cli._files")]
    made_up = ("from ._common import _seconds, seed\nfrom .._utils import _shared\n"
               "from . import _files\n_files._private(_files.public)\n")
    assert _private_uses("skactivelab.cli._team", ast.parse(made_up)) == [
        "skactivelab.cli._team: from skactivelab.cli._common import _seconds",
        "skactivelab.cli._team: skactivelab.cli._files._private"]
    long = 'def f():\n    """Doc."""\n' + "    x = 1\n" * (MAX_FUNCTION_LINES + 1)
    assert [n for n, _ in _lengths(ast.parse(long), "made-up")] == [MAX_FUNCTION_LINES + 1]
