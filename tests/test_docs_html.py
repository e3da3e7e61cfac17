"""The built documentation, opened as a reader opens it: offline, in headless Chromium.

Runs once the HTML is built (``cd doc && python -m sphinx -W -b html .
_build/html``) and skips otherwise; the browser checks also need Chromium
(``apt-get install chromium``).  ``.ci/run`` builds the docs, then runs this
file with ``SKXENT_DOCS_HTML_REQUIRED=1``, which turns those skips into
failures.

Every page is checked for references to other hosts in its HTML and
stylesheets.  A sample of pages is then served from 127.0.0.1 and loaded in
Chromium with every other host unresolvable; a small script added to each
served page reports, after the page has run its own scripts, every resource
it loaded (Resource Timing) and the elements that overflow sideways.  The
theory page's formulas must come out as MathJax's rendered elements, not as
raw LaTeX.
"""

import functools
import html.parser
import http.server
import json
import os
import pathlib
import re
import shutil
import subprocess
import threading
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SITE = pathlib.Path(os.environ.get("SKXENT_DOCS_HTML", ROOT / "doc" / "_build" / "html"))
REQUIRED = os.environ.get("SKXENT_DOCS_HTML_REQUIRED") == "1"

# Pages loaded in the browser: the theory page, a user-guide page with long
# doctest output, an API page with a long name, the command line, a gallery
# example, the home page and the search page.
BROWSER_PAGES = [
    "cross_entropy.html",
    "index.html",
    "user_guide/metrics.html",
    "generated/skxent.metrics.focal_cross_entropy.html",
    "generated/skxent.CrossEntropyClassifier.html",
    "cli.html",
    "auto_examples/plot_speed.html",
    "search.html",
]


def _need(condition, reason):
    if not condition:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def site():
    _need((SITE / "index.html").exists(), f"no built documentation in {SITE}")
    return SITE


def _pages(site):
    return sorted(site.rglob("*.html"))


class _Refs(html.parser.HTMLParser):
    """The resources an HTML page asks for: (tag, attribute, value)."""

    LOADING = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "audio": "src",
        "video": "src",
        "embed": "src",
        "object": "data",
    }

    def __init__(self):
        super().__init__()
        self.refs = []
        self.text = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADING and attrs.get(self.LOADING[tag]):
            self.refs.append((tag, self.LOADING[tag], attrs[self.LOADING[tag]]))
        if tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if rel in {"stylesheet", "preload", "modulepreload", "icon", "prefetch", "manifest"}:
                self.refs.append((tag, "href", attrs["href"]))
        if tag in ("script", "style", "code", "pre", "mjx-container"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre", "mjx-container"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _refs(text):
    parser = _Refs()
    parser.feed(text)
    return parser


def _external(url):
    """True for a URL on another host (http:, https:, protocol-relative //host)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") or (parts.scheme == "" and url.startswith("//"))


def test_no_page_asks_for_anything_from_another_host(site):
    offending = []
    for page in _pages(site):
        for tag, attr, value in _refs(page.read_text(encoding="utf-8")).refs:
            if _external(value):
                offending.append(f"{page.relative_to(site)}: <{tag} {attr}={value!r}>")
    assert not offending, "\n".join(offending)


def test_no_stylesheet_loads_from_another_host(site):
    pattern = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*(?:https?:)?//""", re.I)
    offending = [
        str(css.relative_to(site))
        for css in site.rglob("*.css")
        if pattern.search(css.read_text(encoding="utf-8", errors="replace"))
    ]
    assert not offending


def test_mathjax_ships_with_the_site(site):
    page = (site / "cross_entropy.html").read_text(encoding="utf-8")
    scripts = [value for tag, _, value in _refs(page).refs if tag == "script"]
    mathjax = [src for src in scripts if "mathjax" in src.lower()]
    assert mathjax == ["_static/mathjax/tex-chtml.js"]
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    # CommonHTML output needs its fonts next to it.
    assert list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))


def test_no_empty_navigation_sidebar(site):
    # pydata-sphinx-theme's left column: a "Section Navigation" heading over
    # the links of the current section.  A page that shows it needs links in it.
    empty = []
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        match = re.search(r"Section Navigation.*?</nav>", text, re.S)
        if match and "<a " not in match.group(0):
            empty.append(str(page.relative_to(site)))
    assert not empty, f"empty navigation sidebar on {empty}"


@pytest.mark.parametrize(
    "page, name, url",
    [
        (
            "user_guide/metrics.html",
            "sklearn.metrics.log_loss",
            "https://scikit-learn.org/stable/modules/generated/sklearn.metrics.log_loss.html"
            "#sklearn.metrics.log_loss",
        ),
        (
            "cli.html",
            "numpy.savetxt",
            "https://numpy.org/doc/stable/reference/generated/numpy.savetxt.html#numpy.savetxt",
        ),
        (
            "user_guide/classifier.html",
            "scipy.sparse.csr_matrix",
            "https://docs.scipy.org/doc/scipy/reference/generated/scipy.sparse.csr_matrix.html"
            "#scipy.sparse.csr_matrix",
        ),
    ],
)
def test_intersphinx_links_resolved_offline(site, page, name, url):
    text = (site / page).read_text(encoding="utf-8")
    links = re.findall(r'<a class="reference external" href="([^"]+)"[^>]*>', text)
    assert url in links, f"{name} is not linked on {page}"


# ---------------------------------------------------------------------------
# In the browser
# ---------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var wide = [];
    document.querySelectorAll("h1, h2, pre, .bd-sidebar-secondary, .bd-toc-nav, "
                              + ".bd-toc-nav li, .bd-toc-nav a, .bd-sidebar-primary a")
      .forEach(function (e) {
        if (e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1) {
          wide.push(e.tagName + ": " + e.textContent.trim().slice(0, 80));
        }
      });
    var out = document.createElement("script");
    out.type = "application/json";
    out.id = "skxent-probe";
    out.textContent = JSON.stringify({
      resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
      overflowing: wide
    });
    document.body.appendChild(out);
  }, 4000);
});
</script>"""


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    path = _chromium()
    _need(path is not None, "no chromium (apt-get install chromium)")
    return path


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site, adding PROBE to the end of each HTML page."""

    def send_head(self):
        path = pathlib.Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1)
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return None

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_Handler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _load(browser, url, tmp_path):
    """The page's DOM after its scripts ran, with every host but 127.0.0.1 unreachable."""
    args = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,1000",
        "--virtual-time-budget=30000",
        "--dump-dom",
        url,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses its sandbox to root
    result = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    match = re.search(r'<script type="application/json" id="skxent-probe">(.*?)</script>', dom)
    assert match, f"the page's probe did not report: {url}"
    return dom, json.loads(match.group(1))


@pytest.fixture(scope="module")
def loaded(browser, server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chromium")
    return {page: _load(browser, server + page, tmp) for page in BROWSER_PAGES}


@pytest.mark.parametrize("page", BROWSER_PAGES)
def test_page_loads_nothing_from_another_host(loaded, server, page):
    dom, probe = loaded[page]
    assert probe["resources"], "Resource Timing saw nothing: the probe is broken"
    foreign = [url for url in probe["resources"] if not url.startswith(server)]
    assert not foreign, foreign
    # Scripts the page inserted while running (MathJax's components, say).
    inserted = [value for _, _, value in _refs(dom).refs if _external(value)]
    assert not inserted, inserted


@pytest.mark.parametrize("page", BROWSER_PAGES)
def test_nothing_runs_off_the_page_sideways(loaded, page):
    _, probe = loaded[page]
    assert not probe["overflowing"], probe["overflowing"]


def test_theory_page_formulas_are_rendered(site, loaded, server):
    static = (site / "cross_entropy.html").read_text(encoding="utf-8")
    n_math = len(re.findall(r'class="math notranslate nohighlight"', static))
    assert n_math >= 50  # the theory page is mostly formulas
    dom, probe = loaded["cross_entropy.html"]
    n_rendered = len(re.findall(r"<mjx-container\b", dom))
    assert n_rendered >= n_math, f"{n_rendered} rendered formulas of {n_math}"
    # No raw LaTeX is left in the text a reader sees.
    text = " ".join(_refs(dom).text)
    for delimiter in ("\\(", "\\)", "\\[", "\\]", "\\frac", "\\sum"):
        assert delimiter not in text, f"raw LaTeX {delimiter!r} on the theory page"
    # MathJax and its fonts came from the site itself.
    local = [url for url in probe["resources"] if "/_static/mathjax/" in url]
    assert any(url.endswith("tex-chtml.js") for url in local)
    assert any(url.endswith(".woff") for url in local), local
