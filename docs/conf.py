"""Sphinx configuration of the skecd documentation.

Build with ``make -C docs html`` (warnings are errors). The API reference is
generated at build time from the ``__all__`` of every public subpackage (see
:func:`write_api_pages`), so a new public name appears without editing the docs.

Intersphinx needs network access, which the CI machine does not have: links to
scikit-learn, skorch, pymatgen, numpy, scipy and torch are only made when the
environment variable ``SKECD_DOCS_INTERSPHINX=1`` is set.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # the gallery draws without a display

import skecd  # noqa: E402

DOCS_DIR = Path(__file__).resolve().parent
REPO_DIR = DOCS_DIR.parent
sys.path.insert(0, str(DOCS_DIR))


def copy_benchmark_results():
    """Copy the published benchmark tables and plots into ``_static/benchmark`` (not committed).

    ``benchmarks/results`` holds the one published result set of each benchmark; the
    results page includes its tables, so the docs keep no copy of their own.
    """
    import shutil

    results = REPO_DIR / "benchmarks" / "results"
    static = DOCS_DIR / "_static" / "benchmark"
    static.mkdir(parents=True, exist_ok=True)
    for name in ("cv", "loeo", "time"):
        shutil.copyfile(
            results / "skecd_benchmark" / "tables" / f"{name}.rst", static / f"{name}.rst.txt"
        )
    for target in ("K_VRH", "G_VRH"):  # the parity overviews: the paper's models, the others
        for name in ("paper", "more_1", "more_2"):
            png = f"parity_cv_{target}_{name}.png"
            shutil.copyfile(results / "skecd_benchmark" / "plots" / png, static / png)
    for name in ("cv", "transfer", "locso"):  # every material with a density built
        shutil.copyfile(
            results / "skecd_benchmark_extended" / "tables" / f"{name}.rst",
            static / f"extended_{name}.rst.txt",
        )
    for protocol in ("cv", "transfer", "locso"):  # its parity overviews, per protocol
        for target in ("K_VRH", "G_VRH"):
            for name in ("paper", "more"):
                png = f"parity_{protocol}_{target}_{name}.png"
                shutil.copyfile(
                    results / "skecd_benchmark_extended" / "plots" / png,
                    static / f"extended_{png}",
                )
    for name in ("cv", "loeo"):  # the paper's networks trained with early stopping
        shutil.copyfile(
            results / "skecd_benchmark_converged" / "tables" / f"{name}.rst",
            static / f"converged_{name}.rst.txt",
        )
    shutil.copyfile(results / "ablations" / "summary.rst.txt", static / "ablations.rst.txt")
    shutil.copyfile(results / "invariant.rst", static / "invariant.rst.txt")
    shutil.copyfile(results / "recommended" / "results.rst", static / "recommended.rst.txt")
    shutil.copyfile(results / "shear" / "results.rst", static / "shear.rst.txt")


copy_benchmark_results()

# -- Project -----------------------------------------------------------------
project = "skecd"
author = "skecd developers"
copyright = "skecd developers"  # noqa: A001 (Sphinx setting name)
release = skecd.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "_ext.mathml",  # math as MathML at build time: no MathJax, nothing loaded from a CDN
]
html_math_renderer = "mathml"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc docstrings carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_heading_anchors = 3

# -- API reference pages, one per subpackage, from __all__ --------------------
API_SUBPACKAGES = [
    ("skecd.io", "Reading and writing charge densities"),
    ("skecd.preprocessing", "Transformers"),
    ("skecd.models", "Regressors"),
    ("skecd.model_selection", "Model selection"),
    ("skecd.datasets", "Datasets"),
    ("skecd.density", "Computing densities with GPAW"),
    ("skecd.persistence", "Saving and loading models"),
    ("skecd.inference", "Training and predicting your own materials"),
    ("skecd.pretrained", "Shipped pretrained models"),
    ("skecd.utils", "Utilities"),
]


def _kind(obj):
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def write_api_pages(out_dir: Path = DOCS_DIR / "api") -> list[str]:
    """Write ``api/<subpackage>.rst`` for every public subpackage from its ``__all__``.

    Files are only rewritten when their content changes, so incremental builds stay
    incremental. Returns the page names written (for the API index toctree).
    """
    out_dir.mkdir(exist_ok=True)
    pages = []
    for modname, title in API_SUBPACKAGES:
        module = importlib.import_module(modname)
        names = [n for n in getattr(module, "__all__", []) if not n.startswith("_")]
        absent = [n for n in names if not hasattr(module, n)]
        if absent:
            raise RuntimeError(f"{modname}.__all__ lists names the module lacks: {absent}")
        heading = f":mod:`{modname}`: {title}"
        lines = [
            f".. _api_{modname.replace('.', '_')}:",
            "",
            heading,
            "=" * len(heading),
            "",
            f".. automodule:: {modname}",
            "   :no-members:",
            "   :no-index:",
            "",
            f".. currentmodule:: {modname}",
            "",
        ]
        groups = {"class": [], "function": [], "data": []}
        for name in names:
            groups[_kind(getattr(module, name))].append(name)
        section_titles = {"class": "Classes", "function": "Functions", "data": "Data"}
        if not names:
            lines += ["No public names yet.", ""]
        for kind, members in groups.items():
            if not members:
                continue
            lines += [
                section_titles[kind],
                "-" * len(section_titles[kind]),
                "",
                ".. autosummary::",
                "   :toctree: generated/",
                f"   :template: {kind}.rst",
                "",
                *(f"   {name}" for name in members),
                "",
            ]
        text = "\n".join(lines)
        path = out_dir / f"{modname}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        pages.append(f"api/{modname}")
    return pages


write_api_pages()

# -- Intersphinx (network only when allowed) ----------------------------------
_INTERSPHINX_TARGETS = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", None),
    "pymatgen": ("https://pymatgen.org/", None),
    "torch": ("https://docs.pytorch.org/docs/stable/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
}
if os.environ.get("SKECD_DOCS_INTERSPHINX", "0") == "1":
    intersphinx_mapping = _INTERSPHINX_TARGETS
    intersphinx_timeout = 10
else:
    intersphinx_mapping = {}

# -- Gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(REPO_DIR / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skecd",),
    "reference_url": {"skecd": None},
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "download_all_examples": False,
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skecd {release}"
html_static_path = ["_static"]
html_css_files = ["skecd.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
html_last_updated_fmt = None


# -- Hooks -------------------------------------------------------------------
def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_{fit,predict,...}_request`` methods.

    scikit-learn attaches them to every estimator class; their docstrings point at
    scikit-learn's own glossary and user guide, which do not exist in these docs.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
