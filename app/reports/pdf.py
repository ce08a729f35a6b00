"""Render the report with WeasyPrint: off the event loop, a bounded number at a time.

* ``render_pdf`` is the pure, blocking render of one view-model (``templates/pdf/report.html``
  through the shared Jinja environment, beside ``report.css`` parsed once per thread and
  language: ``report_stylesheet``).
* ``ReportRenderer`` runs a request's render on its own thread pool of
  ``REPORT_RENDER_CONCURRENCY`` workers (WeasyPrint is CPU-bound and takes ~100 MB per render in
  flight) and merges concurrent requests for the same report. Finished PDFs are stored in the
  database by ``ReportKey`` (assessment, its version, language, template version, enterprise
  revision): ``app.reports.service``; the worker (``app.reports.worker``) renders them after
  submission.
* ``StaticOnlyFetcher`` lets WeasyPrint load only the app's own static files and ``data:`` URIs:
  nothing a user typed can make the server fetch a URL (OWASP API7, SSRF).
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import ctypes.util
import gc
import hashlib
import io
import logging
import re
import threading
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from urllib.request import url2pathname

from babel.messages.mofile import read_mo
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from app.kit.i18n import BABEL_LOCALES, LANGS, LOCALE_DIR
from app.kit.web.templating import TEMPLATES_DIR, environment
from app.observability.metrics import REPORT_RENDERS
from app.reports.context import ReportContext
from app.reports.fonts import ReportFonts, report_fonts
from app.reports.texts import tighten_chinese
from app.results import charts

logger = logging.getLogger("zhizao.reports")

TEMPLATE = "pdf/report.html"
STYLESHEET = "pdf/report.css"
RenderOrigin = Literal["request", "worker", "script"]
#: Bump when the report changes in a way ``REPORT_SOURCES`` do not show: a name it takes from
#: elsewhere (the ladder's rungs, reference tables).
REPORT_FORMAT_VERSION = "1"
_HERE = Path(__file__).resolve().parent
#: Everything whose change alters a rendered PDF's bytes or text, besides the stored data: the
#: pdf templates and stylesheet (every file under ``templates/pdf``), the view-model and its
#: words (context.py, texts.py), the rendering itself (this module: the HTML handed to
#: WeasyPrint, e.g. the spaces stripped between block tags), the cut font (fonts.py: which
#: glyphs the face keeps), the charts drawn into the report (app/results/charts.py) and the
#: words it prints from the translation catalogs: the translations of the compiled catalog
#: (``messages.mo``) of every language a report is rendered in (see ``template_version``).
REPORT_SOURCES: tuple[Path, ...] = (
    TEMPLATES_DIR / "pdf",
    _HERE / "context.py",
    _HERE / "texts.py",
    _HERE / "pdf.py",
    _HERE / "fonts.py",
    Path(charts.__file__).resolve(),
    *(LOCALE_DIR / BABEL_LOCALES[lang] / "LC_MESSAGES" / "messages.mo" for lang in LANGS),
)


@lru_cache
def template_version() -> str:
    """A short hash of ``REPORT_FORMAT_VERSION`` and every file of ``REPORT_SOURCES`` (its
    name and content). A deployment that changes any of them renders every stored PDF afresh,
    in the background (``service.queue_refreshes``).

    The rule for translations: every translation of the compiled catalogs (``.mo``) of every
    language a report is rendered in is hashed, not only the entries a report prints, so a
    release that only corrects the translation of a report's label no longer leaves the stored
    reports printing the old one. The catalog's header (its dates) is left out. The
    consequence: any changed translation (a new string of a page too) re-renders every stored
    report in the background. The ``.mo`` files are committed, compiled from their ``.po`` the same
    byte for byte (``tools.catalogs``; tests/tools/test_catalogs.py fails on a stale one) and
    never built at install or in the image, so every replica of a release hashes the same."""
    digest = hashlib.sha256(REPORT_FORMAT_VERSION.encode())
    for source in REPORT_SOURCES:
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in files:
            digest.update(path.relative_to(source.parent).as_posix().encode())
            content = path.read_bytes()
            digest.update(_catalog_entries(content) if path.suffix == ".mo" else content)
    return digest.hexdigest()[:12]


def _catalog_entries(compiled: bytes) -> bytes:
    """A compiled catalog's translations (context, message, translation), sorted, without its
    header: the header's dates change on every ``make messages`` and print nowhere."""
    catalog = read_mo(io.BytesIO(compiled))
    entries = sorted(
        repr((message.context or "", message.id, message.string))
        for message in catalog
        if message.id
    )
    return "\n".join(entries).encode()


@dataclass(frozen=True, slots=True)
class ReportKey:
    """What a cached PDF depends on. A submitted assessment never changes; the enterprise's
    revision covers a renamed firm."""

    assessment_id: uuid.UUID
    assessment_version: int
    lang: str
    template_version: str
    enterprise_revision: int

    @property
    def content_version(self) -> str:
        """What a stored PDF is checked against: a hash of every field."""
        raw = (
            f"{self.assessment_id}:{self.assessment_version}:{self.lang}:"
            f"{self.template_version}:{self.enterprise_revision}"
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    @property
    def etag(self) -> str:
        return f'"{self.content_version}"'


# --- fetching -------------------------------------------------------------------------------------


class RefusedURL(ValueError):
    """WeasyPrint asked for a URL outside the static folder (it logs this and carries on)."""


class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """Serves ``data:`` URIs and files under ``static_dir``; refuses everything else."""

    def __init__(self, static_dir: Path, fonts_dir: Path | None = None) -> None:
        super().__init__(timeout=5, allowed_protocols={"file", "data"}, allow_redirects=False)
        self.root = static_dir.resolve()
        #: The report's cut fonts (``app.reports.fonts``), made by the app, not by a user.
        self.fonts_dir = fonts_dir.resolve() if fonts_dir is not None else None

    def allows(self, url: str) -> bool:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return True
        if scheme != "file":
            return False
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return False
        path = Path(url2pathname(parts.path)).resolve()
        allowed = path.is_relative_to(self.root) or (
            self.fonts_dir is not None and path.is_relative_to(self.fonts_dir)
        )
        return allowed and path.is_file()

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not self.allows(url):
            logger.warning("report: refused to fetch %.120s", url)
            raise RefusedURL(f"refused: {url[:120]}")
        return super().fetch(url, headers)


# --- rendering ------------------------------------------------------------------------------------


#: Elements laid out as blocks or table parts (and the head's): a run of spaces beside one of
#: their tags is never drawn (it begins or ends a line, or stands between blocks).
_BLOCK_TAGS = frozenset(
    "p div section h1 h2 h3 h4 ul ol li table colgroup col thead tbody tr td th "
    "html head body meta title".split()
)
_SPACES_BETWEEN_TAGS = re.compile(r">\s+<(/?)([a-z0-9]+)")
_TAG_NAME = re.compile(r"</?([a-z0-9!]+)")


def _without_indentation(page: str) -> str:
    """``page`` without the template's indentation beside a block's tag: each run was a text
    node for WeasyPrint's HTML parser and box builder to make and drop, ~200 in a report. The
    spaces between two inline tags stay ("below</span> <span class=tag>")."""

    def kept(match: re.Match[str]) -> str:
        tag = f"><{match.group(1)}{match.group(2)}"
        if match.group(2) in _BLOCK_TAGS:
            return tag
        before = _TAG_NAME.match(page, page.rfind("<", 0, match.start()))
        return tag if before is not None and before.group(1) in _BLOCK_TAGS else match.group(0)

    return _SPACES_BETWEEN_TAGS.sub(kept, page)


def render_html(context: ReportContext, fonts: ReportFonts | None = None) -> str:
    """The report's page, without its stylesheet (``render_stylesheet``) and without the
    template's indentation (``_without_indentation``). The Chinese page is spaced by
    ``tighten_chinese`` as a whole: its labels, the questionnaire's and the catalogue's texts
    and the template's own spaces alike."""
    fonts = fonts or report_fonts()
    page = environment().get_template(TEMPLATE).render(**context.template_vars(), fonts=fonts)
    page = _without_indentation(page)
    return tighten_chinese(page) if context.lang == "zh" else page


def render_stylesheet(context: ReportContext, fonts: ReportFonts | None = None) -> str:
    """``report.css`` for the report's language: it sees the labels and the fonts only, so two
    reports in one language share it."""
    fonts = fonts or report_fonts()
    return environment().get_template(STYLESHEET).render(t=context.t, fonts=fonts)


def render_pdf(context: ReportContext, *, static_dir: Path, origin: RenderOrigin) -> bytes:
    """The PDF of one report (blocking: call it from a worker thread). ``origin`` says who paid
    for it (``zhizao_report_renders_total``): a request, or the worker ahead of the request."""
    REPORT_RENDERS.labels(origin).inc()
    fonts = report_fonts()
    fetcher = StaticOnlyFetcher(static_dir, fonts.directory)
    with _collector_paused():
        font_config = _font_config()
        stylesheet = report_stylesheet(render_stylesheet(context, fonts), fetcher)
        document = HTML(
            string=render_html(context, fonts),
            base_url=static_dir.resolve().as_uri() + "/",
            url_fetcher=fetcher,
        )
        pdf: bytes = document.write_pdf(
            font_config=font_config, stylesheets=[stylesheet], finisher=_compress_fonts
        )
        del document
    _release_memory()
    return pdf


#: zlib level of the embedded font files. pydyf deflates every stream at level 9; the report's
#: two font subsets (~0.55 MB before compression) took ~45 ms of a render at 9 and ~20 ms at
#: 6, for 0.5 % more bytes (docs/benchmarks.md, fourth pass).
FONT_COMPRESSION = 6


def _compress_fonts(_document: Any, pdf: Any) -> None:
    """WeasyPrint's ``finisher``, run before pydyf writes the objects: deflate each stream of one
    binary block (the font files; the page streams are lists of operators) at
    ``FONT_COMPRESSION`` here, so that pydyf writes it as it is. (A ``pydyf.Stream`` is the
    object with ``compress`` and ``stream``; pydyf comes with WeasyPrint.)"""
    for obj in pdf.objects:
        content = getattr(obj, "stream", None)
        if (
            getattr(obj, "compress", False)
            and isinstance(content, list)
            and len(content) == 1
            and isinstance(content[0], bytes)
        ):
            obj.stream = [zlib.compress(content[0], FONT_COMPRESSION)]
            obj.compress = False
            obj.extra["Filter"] = "/FlateDecode"


_paused = 0
_paused_lock = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a render runs (counted, for overlapping renders).

    A render makes hundreds of thousands of objects, and the collector's passes over them took
    ~12 % of its CPU (docs/benchmarks.md). Reference counting still frees almost all of it at
    once; the few cycles wait for the next pass after the render, so memory stays flat.
    """
    global _paused
    with _paused_lock:
        _paused += 1
        gc.disable()
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0:
                gc.enable()


_local = threading.local()


def _font_config() -> FontConfiguration:
    """One font configuration per thread, reused by every render on it. A fresh one per
    render (WeasyPrint's default) leaks ~0.2 MB of fontconfig state each time (measured)."""
    config: FontConfiguration | None = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


#: Parsed stylesheets a thread keeps: one per language, with room for a changed font setup.
STYLESHEETS_PER_THREAD = 4


def report_stylesheet(text: str, fetcher: StaticOnlyFetcher) -> CSS:
    """``text`` (``render_stylesheet``) parsed once per thread and reused by every render on it.

    Parsing it and registering its ``@font-face`` rules took ~16 ms CPU of each render on a
    host at half the reference speed (docs/benchmarks.md). The faces are registered in the
    thread's font configuration (``_font_config``), which is why the parsed sheet is kept per
    thread beside it, never shared between threads. It is passed to WeasyPrint as a user
    stylesheet: with no author stylesheet in the page, the cascade is the same (style
    attributes still win, the UA sheet still loses). Keyed by the text itself and the folder
    its URLs resolve in, so a different language, font setup or static folder parses its own."""
    sheets: dict[tuple[str, Path], CSS] | None = getattr(_local, "stylesheets", None)
    if sheets is None:
        sheets = _local.stylesheets = {}
    sheet = sheets.get((text, fetcher.root))
    if sheet is None:
        if len(sheets) >= STYLESHEETS_PER_THREAD:
            sheets.clear()
        sheet = sheets[text, fetcher.root] = CSS(
            string=text,
            base_url=fetcher.root.as_uri() + "/",
            url_fetcher=fetcher,
            font_config=_font_config(),
        )
    return sheet


@atexit.register
def _drop_main_thread_font_config() -> None:
    """Free the main thread's font configuration and stylesheets while the process can still
    free them.

    A thread's configuration goes with the thread, but the main thread's thread-locals are
    cleared only in the interpreter's last step, after the Pango and GObject libraries it holds
    objects of may have been unloaded: unreferencing them then crashed the process on exit
    (SIGSEGV; a script that rendered on its main thread and also built the app). Exit handlers
    run before any of that. The parsed stylesheets hold faces of the configuration: they go
    first."""
    _local.__dict__.pop("stylesheets", None)
    _local.__dict__.pop("font_config", None)


@lru_cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def _release_memory() -> None:
    """Hand the render's freed heap back to the OS. A render allocates ~100 MB in many small
    pieces; without this glibc keeps the fragments and the process's RSS creeps up
    (docs/benchmarks.md)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class ReportRenderer:
    """Renders on a bounded thread pool, one render per report at a time. Rendered PDFs are
    kept in the database (``app.reports.service.store``), not here: every instance reads them."""

    def __init__(self, *, static_dir: Path, concurrency: int) -> None:
        self.static_dir = static_dir
        self.concurrency = concurrency
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="zhizao-report"
        )
        self._lock = threading.Lock()
        self._inflight: dict[ReportKey, Future[bytes]] = {}

    def submit(self, key: ReportKey, context: ReportContext) -> Future[bytes]:
        """A future of the PDF: already being rendered, or queued for a worker."""
        with self._lock:
            running = self._inflight.get(key)
            if running is not None:
                return running
            future = self._executor.submit(
                render_pdf, context, static_dir=self.static_dir, origin="request"
            )
            self._inflight[key] = future
        future.add_done_callback(lambda finished: self._finished(key, finished))
        return future

    def _finished(self, key: ReportKey, future: Future[bytes]) -> None:
        with self._lock:
            self._inflight.pop(key, None)
        if not future.cancelled() and future.exception() is not None:
            logger.error("report: rendering %s failed", key, exc_info=future.exception())

    def render(self, key: ReportKey, context: ReportContext) -> bytes:
        """Blocking: the PDF (for scripts and the CLI)."""
        return self.submit(key, context).result()

    async def render_async(self, key: ReportKey, context: ReportContext) -> bytes:
        """The PDF, awaited without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(key, context))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
