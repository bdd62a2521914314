"""The built documentation renders in a real browser, with its gallery figures.

These tests open the HTML that ``make -C docs html`` wrote in headless Chromium
(Debian's ``chromium`` package) and check that the gallery index and an example
page render with their figures. They are skipped, with the reason, when the docs
are not built or Chromium is absent; ``.ci/run`` builds the docs after the main
test run and then runs this file again with ``SKECD_REQUIRE_DOCS=1``, which
turns both skips into failures (as does ``CI=true`` for a missing Chromium when
the docs are built), so CI cannot pass without really looking at the pages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
HTML_DIR = REPO_DIR / "docs" / "_build" / "html"
GALLERY_DIR = HTML_DIR / "auto_examples"
# The example page checked: the first one whose source makes a figure.
EXAMPLE_PAGE = "plot_own_chgcar.html"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _truthy(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def _find_chromium():
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _skip_or_fail(reason, *, fail):
    if fail:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    """Path to Chromium, once the docs are known to be built."""
    required = _truthy("SKECD_REQUIRE_DOCS")
    if not (GALLERY_DIR / "index.html").is_file():
        _skip_or_fail(
            f"docs not built ({GALLERY_DIR / 'index.html'} missing): run `make -C docs html`",
            fail=required,
        )
    path = _find_chromium()
    if path is None:
        _skip_or_fail(
            "chromium not installed (Debian: `apt-get install -y chromium`)",
            fail=required or _truthy("CI"),
        )
    return path


class _ImageCollector(HTMLParser):
    """Collect the ``<img>`` tags of a page as attribute dicts."""

    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def _render(chromium, page, tmp_path, *, screenshot=None):
    """Load ``page`` in headless Chromium and return the DOM after scripts ran."""
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,2000",
        "--virtual-time-budget=5000",
    ]
    args.append(f"--screenshot={screenshot}" if screenshot else "--dump-dom")
    result = subprocess.run(
        [*args, page.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"chromium failed on {page}:\n{result.stderr[-2000:]}"
    return result.stdout


def _images(dom):
    parser = _ImageCollector()
    parser.feed(dom)
    return parser.images


def _sphx_glr_images(dom):
    return [img for img in _images(dom) if "sphx-glr" in img.get("class", "")]


def _local_file(page, src):
    """The file an ``<img src>`` of ``page`` points to (after the browser resolved it)."""
    parsed = urlparse(src)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    assert not parsed.scheme, f"image {src!r} of {page.name} is not a local file"
    return (page.parent / unquote(parsed.path)).resolve()


def _assert_png(path, what):
    assert path.is_file(), f"{what}: {path} does not exist"
    data = path.read_bytes()
    assert len(data) > len(PNG_MAGIC), f"{what}: {path} is empty"
    assert data.startswith(PNG_MAGIC), f"{what}: {path} is not a PNG"


def test_gallery_index_renders_thumbnails(chromium, tmp_path):
    page = GALLERY_DIR / "index.html"
    dom = _render(chromium, page, tmp_path)
    assert re.search(r"<h1[^>]*>\s*Gallery of examples", dom), "gallery title not rendered"
    thumbs = [img for img in _images(dom) if "_thumb." in img.get("src", "")]
    assert thumbs, "no example thumbnails on the gallery index"
    for img in thumbs:
        _assert_png(_local_file(page, img["src"]), "gallery thumbnail")
    # every example of examples/ has its card on the index
    examples = sorted(p.stem for p in (REPO_DIR / "examples").glob("plot_*.py"))
    for name in examples:
        assert f"{name}.html" in dom, f"example {name} missing from the gallery index"


def test_example_page_renders_its_figure(chromium, tmp_path):
    page = GALLERY_DIR / EXAMPLE_PAGE
    assert page.is_file(), f"{page} missing although the gallery index exists"
    dom = _render(chromium, page, tmp_path)
    figures = _sphx_glr_images(dom)
    assert figures, f"no sphx-glr figure <img> on {page.name}"
    for img in figures:
        _assert_png(_local_file(page, img["src"]), f"figure of {page.name}")
    # the rendered page itself is not blank: a screenshot shows more than one colour
    shot = tmp_path / "page.png"
    _render(chromium, page, tmp_path, screenshot=shot)
    _assert_png(shot, "screenshot")
    import matplotlib.image as mpimg
    import numpy as np

    pixels = mpimg.imread(shot)
    assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 10, (
        "the screenshot of the example page is (nearly) blank"
    )


@pytest.fixture(scope="module")
def html_pages():
    """The text of every built HTML page (no browser needed), by path relative to the build."""
    if not (HTML_DIR / "index.html").is_file():
        _skip_or_fail(
            f"docs not built ({HTML_DIR / 'index.html'} missing): run `make -C docs html`",
            fail=_truthy("SKECD_REQUIRE_DOCS"),
        )
    return {
        p.relative_to(HTML_DIR).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(HTML_DIR.rglob("*.html"))
        if "_sources" not in p.parts
    }


_CODE = re.compile(r"<(pre|script|style)\b.*?</\1>", re.S | re.I)
# An absolute path of the machine that built the docs: the clone, a home or site-packages.
_MACHINE_PATH = re.compile(r"(/(?:root|home|Users)/\w|/site-packages/|[A-Z]:\\\\Users\\\\)")


def test_built_html_has_no_machine_paths(html_pages):
    pages = {name: _CODE.sub("", html) for name, html in html_pages.items()}
    clone = str(REPO_DIR)
    offenders = [
        f"{name}: ...{html[max(0, m.start() - 60) : m.end() + 60]}..."
        for name, html in pages.items()
        for m in [re.search(re.escape(clone), html) or _MACHINE_PATH.search(html)]
        if m
    ]
    assert offenders == [], "\n".join(offenders[:10])


def test_built_html_has_no_raw_markup(html_pages):
    """reST that did not render (``:sup:`` inside bold, nested literals) shows as raw text."""
    offenders = []
    for name, html in html_pages.items():
        text = _CODE.sub("", html)
        text = re.sub(r"<code\b.*?</code>", "", text, flags=re.S)  # literals may hold anything
        # scikit-learn's estimator display quotes its own docstrings in hover tooltips
        text = re.sub(r'<span class="param-doc-description".*?</span>', "", text, flags=re.S)
        text = re.sub(r"<[^>]*>", "", text)  # the visible text only, not attributes
        for pattern in (r":sup:`", r":sub:`", r":math:`", r"``"):
            m = re.search(pattern, text)
            if m:
                offenders.append(f"{name}: ...{text[max(0, m.start() - 60) : m.end() + 60]}...")
    assert offenders == [], "\n".join(offenders[:10])


def test_math_is_mathml_without_a_cdn(html_pages):
    """The math renders offline: MathML in the page, no MathJax script from anywhere."""
    assert "<math" in html_pages["index.html"]
    assert "\\(K_" not in html_pages["index.html"]
    loaders = [
        name for name, html in html_pages.items() if re.search(r"<script[^>]*mathjax", html, re.I)
    ]
    assert loaders == []


def test_built_html_cites_no_issue_of_the_tracker(html_pages):
    """A reader of the docs cannot reach this project's issue tracker: no "issue 5"."""
    offenders = []
    for name, html in html_pages.items():
        text = re.sub(r"<[^>]*>", "", _CODE.sub("", html))
        m = re.search(r"\b[Ii]ssues? #?\d+", text)
        if m:
            offenders.append(f"{name}: ...{text[max(0, m.start() - 60) : m.end() + 20]}...")
    assert offenders == [], "\n".join(offenders[:10])
