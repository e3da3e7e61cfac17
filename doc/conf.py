"""Sphinx configuration of skxent's documentation.

Build (from this directory; warnings are errors, every gallery example runs)::

    python -m sphinx -W -b html . _build/html

The build and the built site work without any network:

- MathJax, which renders the formulas, comes from the ``sphinx-mathjax-offline``
  package (``docs`` extra): its extension copies MathJax 3 into
  ``_build/html/_static/mathjax`` and the pages load it from there, fonts
  included.  No page loads anything from another host
  (``tests/test_docs_html.py`` checks the built pages in a headless browser).
- Cross-references to numpy, scipy and scikit-learn resolve through small
  intersphinx inventories written at every build by ``make_inventories.py``
  (next to this file), which lists the names these pages use and the public
  URL of each.  The build is nitpicky: a reference that resolves nowhere fails
  it.
"""

import os
import pathlib
import re
import sys
import warnings

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the in-place build of the clone

import skxent  # noqa: E402

# -- Project -------------------------------------------------------------------

project = "skxent"
author = "the skxent developers"
copyright = "2026, the skxent developers"  # noqa: A001
release = skxent.__version__
version = release

# -- Extensions ----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax 3 shipped with the site, instead of Sphinx's default CDN URL.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb"]
default_role = "literal"
pygments_style = "sphinx"

# autosummary writes one page per public name into generated/.
autosummary_generate = True
autodoc_typehints = "none"

# numpydoc: the class template lists the methods itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The extension above sets this too; said here so that no build falls back to
# the CDN: relative to _static/, where the extension copies MathJax.
mathjax_path = "mathjax/tex-chtml.js"

# -- Cross-references -----------------------------------------------------------

# Every reference must resolve: with -W, one that does not fails the build.
nitpicky = True
# Private names (skxent._validation, ...) that library docstrings mention for
# developers have no page in this documentation.
nitpick_ignore_regex = [(r"py:.*", r"skxent\._.*")]

# Intersphinx without the network: local inventories of the names these pages
# use, each mapped to the public URL of its project's documentation.
sys.path.insert(0, str(HERE))
import make_inventories  # noqa: E402

intersphinx_mapping = make_inventories.write_all(HERE / "_build" / "intersphinx")

# Public names that skxent re-exports at the top level, documented under the
# module that defines them.
ALIASES = {
    "skxent.patch_sklearn": "skxent.scorers.patch_sklearn",
    "skxent.unpatch_sklearn": "skxent.scorers.unpatch_sklearn",
}


def _resolve_alias(app, env, node, contnode):
    target = ALIASES.get(node.get("reftarget"))
    if target is None or node.get("refdomain") != "py":
        return None
    return env.get_domain("py").resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
    )


def setup(app):
    app.connect("missing-reference", _resolve_alias)


# -- Gallery -------------------------------------------------------------------

# Every example runs during the build.  Until ``from skxent import
# CrossEntropyClassifier`` works, the examples that use the classifier are
# rendered without running (their pages, links and code stay).
try:
    from skxent import CrossEntropyClassifier  # noqa: F401
except ImportError:
    _runnable = sorted(
        path.name
        for path in (HERE.parent / "examples").glob("plot_*.py")
        if "CrossEntropyClassifier" not in path.read_text(encoding="utf-8")
    )
    _gallery_pattern = "/(" + "|".join(re.escape(name) for name in _runnable) + ")$"
else:
    _gallery_pattern = "/plot_"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": _gallery_pattern,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skxent",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "min_reported_time": 1,
    # No sg_execution_times.rst beside the sources (outside the ignored dirs);
    # the build log prints the times.
    "write_computation_times": False,
}

# Matplotlib runs headless; examples must not open windows.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)

# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skxent {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# Pages without sub-pages get no left sidebar: it would be an empty
# "Section Navigation" column that narrows the text.
html_sidebars = {
    "index": [],
    "cross_entropy": [],
    "migrating": [],
    "benchmarks": [],
    "cli": [],
    "search": [],
    "genindex": [],
}
html_static_path = ["_static"]
html_css_files = ["skxent.css"]
# "fit()" rather than "CrossEntropyClassifier.fit()" in a page's contents.
toc_object_entries_show_parents = "hide"
html_show_sourcelink = False
