"""Sphinx configuration for the skactivelab documentation (build: sphinx-build -W -b html docs docs/_build/html)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import skactivelab  # noqa: E402

project = "skactivelab"
author = "the skactivelab developers"
copyright = "2026, the skactivelab developers"
release = skactivelab.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
autodoc_default_options = {"members": False}
myst_heading_anchors = 3
html_theme = "alabaster"
html_static_path = []
nitpicky = False
