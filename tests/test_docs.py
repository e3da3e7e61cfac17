"""The documentation: every ``>>>`` example in doc/*.rst runs, and the pages are complete.

Numbers in the documentation come from these doctests, never typed by hand, so
a page that states a wrong number fails here.  Building the HTML (Sphinx, the
gallery) is the docs job's business; these checks need neither Sphinx nor
matplotlib.
"""

import ast
import doctest
import importlib
import importlib.util
import os
import pathlib

import pytest

import skxent

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
EXAMPLES = ROOT / "examples"
GENERATED = {"_build", "auto_examples", "generated"}

PAGES = sorted(
    path
    for path in DOC.rglob("*.rst")
    if not GENERATED & set(path.relative_to(DOC).parts)
    and "_templates" not in path.parts
    and path.name != "sg_execution_times.rst"  # sphinx-gallery's, if written
)

# Pages whose examples need an optional dependency.
REQUIRES = {
    "user_guide/scaling_out.rst": ["dask.array", "distributed"],
    "user_guide/threads.rst": ["threadpoolctl"],
}

# Pages without doctests: tables of contents and references.
NO_DOCTESTS = {"api.rst", "user_guide/index.rst", "benchmarks.rst"}

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _name(path):
    return path.relative_to(DOC).as_posix()


def test_pages_are_found():
    names = {_name(p) for p in PAGES}
    assert {"index.rst", "cross_entropy.rst", "migrating.rst", "api.rst"} <= names


# A doctest block right after this comment line uses CrossEntropyClassifier;
# the comment is invisible in the HTML.
NEEDS_CLASSIFIER = ".. doctest-requires-classifier"


def _have_classifier():
    try:
        from skxent import CrossEntropyClassifier  # noqa: F401
    except ImportError:
        return False
    return True


def _classifier_lines(text):
    """0-based line numbers of the doctest blocks marked NEEDS_CLASSIFIER."""
    lines = text.splitlines()
    marked = set()
    for i, line in enumerate(lines):
        if line.strip() != NEEDS_CLASSIFIER:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        while j < len(lines) and lines[j].strip():  # the block ends at a blank line
            marked.add(j)
            j += 1
    return marked


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_page_examples_run(page):
    for module in REQUIRES.get(_name(page), []):
        pytest.importorskip(module)
    text = page.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, _name(page), str(page), 0)
    skipped = 0
    if not _have_classifier():
        # Until `from skxent import CrossEntropyClassifier` works, its examples
        # cannot run; everything else on the page still must.
        marked = _classifier_lines(text)
        kept = [ex for ex in test.examples if ex.lineno not in marked]
        skipped = len(test.examples) - len(kept)
        test.examples = kept
    cwd = os.getcwd()  # a page may chdir to a scratch directory
    try:
        if skipped:
            result = doctest.DocTestRunner(optionflags=OPTIONFLAGS).run(test)
        else:
            result = doctest.testfile(
                str(page), module_relative=False, optionflags=OPTIONFLAGS, encoding="utf-8"
            )
    finally:
        os.chdir(cwd)
    assert result.failed == 0, f"{result.failed} example(s) of {_name(page)} failed (see stdout)"
    if _name(page) not in NO_DOCTESTS and not skipped:
        assert result.attempted > 0, f"{_name(page)} has no examples that run"
    if skipped:
        pytest.skip(
            f"the other {result.attempted} examples pass; {skipped} need "
            "`from skxent import CrossEntropyClassifier`, which does not work yet"
        )


def test_classifier_markers_are_where_the_classifier_is():
    # Every example that names the classifier is in a marked block, so that
    # no page fails merely because the classifier is not exported yet.
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        marked = _classifier_lines(text)
        for ex in doctest.DocTestParser().get_examples(text):
            if "CrossEntropyClassifier" in ex.source:
                assert ex.lineno in marked, f"{_name(page)}:{ex.lineno + 1} is not marked"


def _public_names():
    names = []
    for module in ("skxent.metrics", "skxent.loss", "skxent.scorers", "skxent.benchmarks"):
        mod = importlib.import_module(module)
        names += [(module, name) for name in mod.__all__]
    names.append(("skxent", "show_config"))
    if hasattr(skxent, "CrossEntropyClassifier"):
        names.append(("skxent", "CrossEntropyClassifier"))
    return names


@pytest.mark.parametrize("module, name", _public_names(), ids=lambda x: x)
def test_api_reference_lists_every_public_name(module, name):
    api = (DOC / "api.rst").read_text()
    # The text after each ".. currentmodule:: <module>", up to the next one.
    sections = [
        part.split("\n", 1)[1]
        for part in api.split(".. currentmodule:: ")[1:]
        if part.split("\n", 1)[0].strip() == module
    ]
    assert sections, f"api.rst has no section for {module}"
    listed = "".join(sections)
    assert f"\n   {name}\n" in listed, f"{module}.{name} is missing from api.rst"


EXAMPLE_FILES = sorted(EXAMPLES.glob("plot_*.py"))


def test_examples_exist():
    names = {p.name for p in EXAMPLE_FILES}
    assert {
        "plot_speed.py",
        "plot_bits_code_length.py",
        "plot_model_selection.py",
        "plot_label_smoothing_calibration.py",
        "plot_distillation.py",
    } <= names
    assert (EXAMPLES / "GALLERY_HEADER.rst").exists()


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_has_a_title_and_cells(example):
    source = example.read_text()
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree)
    assert docstring, f"{example.name} needs a reST title in its module docstring"
    lines = docstring.splitlines()
    if set(lines[0]) == {"="}:  # an overline
        assert len(lines[0]) >= len(lines[1]), f"{example.name}: overline too short"
        lines = lines[1:]
    title, underline = lines[:2]
    assert title.strip() and set(underline) == {"="} and len(underline) >= len(title)
    assert "\n# %%" in source, f"{example.name} has no '# %%' cells"


def test_docs_extra_lists_the_build_requirements():
    spec = importlib.util.find_spec("tomllib")
    if spec is None:  # Python 3.10
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    docs = " ".join(extras["docs"])
    for package in (
        "sphinx",
        "numpydoc",
        "sphinx-gallery",
        "pydata-sphinx-theme",
        "matplotlib",
        "sphinx-mathjax-offline",
    ):
        assert package in docs


def _inventories():
    spec = importlib.util.spec_from_file_location("make_inventories", DOC / "make_inventories.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


INVENTORY = _inventories()


@pytest.mark.parametrize(
    "name, role",
    [
        (name, role)
        for project in INVENTORY.PROJECTS
        for name, role, _ in INVENTORY.entries(project)
    ],
)
def test_inventory_names_exist(name, role):
    """Every name of the local intersphinx inventories is a real object of the
    installed numpy, scipy or scikit-learn: no link to a page that cannot exist."""
    module_name, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module(module_name), attr)
    assert callable(obj)
    assert (role == "py:class") == isinstance(obj, type), (name, role)


def test_inventories_read_back_as_sphinx_reads_them(tmp_path):
    """The files are valid inventories: Sphinx's own reader gives back each name's URL."""
    sphinx_inventory = pytest.importorskip("sphinx.util.inventory")
    mapping = INVENTORY.write_all(tmp_path)
    assert set(mapping) == {"numpy", "scipy", "sklearn"}
    base, path = mapping["sklearn"]
    assert base == "https://scikit-learn.org/stable/"
    with open(path, "rb") as f:
        data = f.read()
    inv = sphinx_inventory.InventoryFile.loads(data, uri=base)
    items = inv.data if hasattr(inv, "data") else inv  # Sphinx >= 8.2 returns an object
    name = "sklearn.metrics.log_loss"
    entry = items["py:function"][name]
    location = entry.uri if hasattr(entry, "uri") else entry[2]
    assert location == (
        "https://scikit-learn.org/stable/modules/generated/"
        "sklearn.metrics.log_loss.html#sklearn.metrics.log_loss"
    )
    n_names = sum(len(INVENTORY.PROJECTS[p][2]) for p in mapping)
    n_read = 0
    for base, path in mapping.values():
        with open(path, "rb") as f:
            inv = sphinx_inventory.InventoryFile.loads(f.read(), uri=base)
        items = inv.data if hasattr(inv, "data") else inv
        n_read += sum(len(names) for names in items.values())
    assert n_read == n_names
