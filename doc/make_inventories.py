"""Write the intersphinx inventories of numpy, scipy and scikit-learn that the docs need.

The documentation links names such as :func:`sklearn.metrics.log_loss` or
:func:`numpy.savetxt` to those projects' own pages.  Intersphinx normally
downloads each project's ``objects.inv`` at build time; the build of these
docs must work without any network, so the few names they use are listed
here, with the public URL of each name's page, and written as small
inventories in Sphinx's documented format (version 2: four header lines, then
zlib-compressed lines ``name domain:role priority uri dispname``).
``doc/conf.py`` runs this at every build (``write_all``); run it by hand with::

    python doc/make_inventories.py OUTDIR

A name the docs reference that is missing here makes the build fail: the
build is nitpicky (``nitpicky = True`` in ``doc/conf.py``) and warnings are
errors.  ``tests/test_docs.py`` checks that every name listed here exists in
the installed package, so that no link points to a page that cannot exist.
"""

import pathlib
import sys
import zlib

# project -> (display name, base URL, {name: (role, path relative to base)})
# "$" at the end of a path stands for the name itself, as in Sphinx's own
# inventories (``...html#$`` is ``...html#<name>``).
_SK_GEN = "modules/generated/{}.html#$"
_NP_GEN = "reference/generated/{}.html#$"
_SP_GEN = "reference/generated/{}.html#$"

PROJECTS = {
    "sklearn": (
        "scikit-learn",
        "https://scikit-learn.org/stable/",
        {
            "sklearn.calibration.calibration_curve": "function",
            "sklearn.exceptions.ConvergenceWarning": "class",
            "sklearn.linear_model.LogisticRegression": "class",
            "sklearn.linear_model.LogisticRegressionCV": "class",
            "sklearn.metrics.get_scorer": "function",
            "sklearn.metrics.log_loss": "function",
            "sklearn.metrics.make_scorer": "function",
            "sklearn.model_selection.GridSearchCV": "class",
            "sklearn.model_selection.cross_validate": "function",
            "sklearn.pipeline.Pipeline": "class",
            "sklearn.utils.class_weight.compute_class_weight": "function",
            "sklearn.utils.estimator_checks.check_estimator": "function",
        },
        _SK_GEN,
    ),
    "numpy": (
        "NumPy",
        "https://numpy.org/doc/stable/",
        {
            "numpy.load": "function",
            "numpy.ndarray": "class",
            "numpy.save": "function",
            "numpy.savetxt": "function",
        },
        _NP_GEN,
    ),
    "scipy": (
        "SciPy",
        "https://docs.scipy.org/doc/scipy/",
        {
            "scipy.optimize.minimize": "function",
            "scipy.sparse.csc_matrix": "class",
            "scipy.sparse.csr_matrix": "class",
            "scipy.special.log_softmax": "function",
            "scipy.special.softmax": "function",
        },
        _SP_GEN,
    ),
}


def entries(project):
    """``(name, "py:role", uri)`` of each name of ``project``, uri relative to its base."""
    _, _, names, pattern = PROJECTS[project]
    return [(name, f"py:{role}", pattern.format(name)) for name, role in sorted(names.items())]


def inventory_bytes(project, version="stable"):
    """The ``objects.inv`` of ``project`` as bytes (Sphinx inventory version 2)."""
    title = PROJECTS[project][0]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {title}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in entries(project))
    return header.encode() + zlib.compress(body.encode(), 9)


def write_all(outdir):
    """Write ``<outdir>/<project>.inv`` for every project; returns intersphinx_mapping."""
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for project, (_, base, _, _) in PROJECTS.items():
        path = outdir / f"{project}.inv"
        data = inventory_bytes(project)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        mapping[project] = (base, str(path))
    return mapping


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {sys.argv[0]} OUTDIR")
    for project, (base, path) in write_all(sys.argv[1]).items():
        print(f"{path}: {len(PROJECTS[project][2])} names under {base}")
