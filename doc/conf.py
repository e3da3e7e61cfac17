"""Sphinx configuration of skxent's documentation.

Build (from this directory; warnings are errors, every gallery example runs)::

    python -m sphinx -W -b html . _build/html

Cross-references to numpy, scipy and scikit-learn need their inventories from
the network; they are fetched only with ``SKXENT_DOCS_INTERSPHINX=1``, so the
default build works offline.
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

# -- Intersphinx: opt-in, because it needs the network ------------------------

intersphinx_mapping = {}
if os.environ.get("SKXENT_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
    }
intersphinx_timeout = 10

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
html_sidebars = {"index": [], "cross_entropy": [], "migrating": [], "benchmarks": []}
html_static_path = []
html_show_sourcelink = False
