"""WeasyPrint plumbing: the URL fetcher and the bounded renderer (no database)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fontTools.ttLib import TTFont
from weasyprint import HTML

from app.kit.settings import PROJECT_ROOT
from app.reports import pdf as pdf_module
from app.reports.fonts import REPORT_FAMILY, SYSTEM_FAMILY, gb2312_ideographs, report_fonts
from app.reports.pdf import ReportKey, ReportRenderer, StaticOnlyFetcher, template_version
from tools.catalogs import po_path

PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4"
    "z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "img").mkdir(parents=True)
    (static / "img" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', encoding="utf-8"
    )
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    return static


class TestFetcher:
    def test_allows_static_files_and_data_uris_only(self, static_dir: Path) -> None:
        fetcher = StaticOnlyFetcher(static_dir)
        assert fetcher.allows((static_dir / "img" / "logo.svg").as_uri())
        assert fetcher.allows(PIXEL)
        for url in (
            "http://127.0.0.1:8000/api/v1/enterprises",
            "https://example.com/x.png",
            "ftp://example.com/x",
            "file:///etc/passwd",
            (static_dir.parent / "secret.txt").as_uri(),
            static_dir.as_uri() + "/../secret.txt",
            static_dir.as_uri() + "/img/missing.png",
            "file://evil.example" + str(static_dir / "img" / "logo.svg"),
        ):
            assert not fetcher.allows(url), url

    def test_allows_the_report_fonts_folder_too(self, static_dir: Path, tmp_path: Path) -> None:
        fonts = tmp_path / "fonts"
        fonts.mkdir()
        (fonts / "cut.otf").write_bytes(b"OTTO")
        fetcher = StaticOnlyFetcher(static_dir, fonts)
        assert fetcher.allows((fonts / "cut.otf").as_uri())
        assert fetcher.allows((static_dir / "img" / "logo.svg").as_uri())
        assert not fetcher.allows((tmp_path / "secret.txt").as_uri())
        assert not StaticOnlyFetcher(static_dir).allows((fonts / "cut.otf").as_uri())

    def test_refuses_during_a_render(self, static_dir: Path) -> None:
        fetched: list[str] = []

        class Recording(StaticOnlyFetcher):
            def fetch(self, url: str, headers: Any = None) -> Any:
                fetched.append(url)
                return super().fetch(url, headers)

        fetcher = Recording(static_dir)
        allowed: list[str] = []
        original = fetcher.allows

        def allows(url: str) -> bool:
            ok = original(url)
            if ok:
                allowed.append(url)
            return ok

        fetcher.allows = allows  # type: ignore[method-assign]
        html = f"""<html><head>
            <link rel="stylesheet" href="http://127.0.0.1:9/evil.css">
            <link rel="stylesheet" href="file:///etc/passwd"></head><body>
            <img src="http://169.254.169.254/latest/meta-data/">
            <img src="img/logo.svg"><img src="{PIXEL}"></body></html>"""
        pdf = HTML(string=html, base_url=static_dir.as_uri() + "/", url_fetcher=fetcher).write_pdf()
        assert pdf.startswith(b"%PDF")
        assert len(fetched) == 5
        assert sorted(allowed) == sorted([(static_dir / "img" / "logo.svg").as_uri(), PIXEL])


# Renders on its main thread with the shared font configuration and a stylesheet parsed into it
# (as render_pdf does), then builds the app (which changes the order in which the interpreter
# tears its modules down at exit).
_RENDER_ON_THE_MAIN_THREAD_AND_EXIT = """
from pathlib import Path
from weasyprint import HTML
from app.reports import pdf
from app.reports.fonts import report_fonts
fonts = report_fonts()
config = pdf._font_config()
fetcher = pdf.StaticOnlyFetcher(Path("static"), fonts.directory)
css = fonts.font_face_css() + 'p { font-family: "%s" }' % fonts.family
sheet = pdf.report_stylesheet(css, fetcher)
HTML(string="<p>你好 hello</p>").write_pdf(font_config=config, stylesheets=[sheet])
from app.main import create_app
create_app()
"""


def test_a_process_that_rendered_on_its_main_thread_exits_cleanly(tmp_path: Path) -> None:
    """The main thread's font configuration was freed after Pango was unloaded: SIGSEGV on
    exit (``benchmarks/report.py`` crashed so after printing its figures)."""
    env = os.environ | {"ZHIZAO_DATABASE_URL": f"sqlite:///{tmp_path / 'exit.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", _RENDER_ON_THE_MAIN_THREAD_AND_EXIT],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


class TestReportStylesheet:
    def test_parsed_once_per_thread_and_text(self, static_dir: Path) -> None:
        """The stylesheet is parsed once for each language on a thread, never shared with
        another thread (its faces live in the thread's font configuration)."""
        fetcher = StaticOnlyFetcher(static_dir)
        chinese = pdf_module.report_stylesheet("p { color: red }", fetcher)
        assert pdf_module.report_stylesheet("p { color: red }", fetcher) is chinese
        english = pdf_module.report_stylesheet("p { color: blue }", fetcher)
        assert english is not chinese

        elsewhere: list[Any] = []

        def other_thread() -> None:
            elsewhere.append(pdf_module.report_stylesheet("p { color: red }", fetcher))

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert elsewhere and elsewhere[0] is not chinese

    def test_a_thread_keeps_a_bounded_number(self, static_dir: Path) -> None:
        fetcher = StaticOnlyFetcher(static_dir)
        first = pdf_module.report_stylesheet("p { margin: 0 }", fetcher)
        for n in range(pdf_module.STYLESHEETS_PER_THREAD):
            pdf_module.report_stylesheet(f"p {{ margin: {n + 1}px }}", fetcher)
        assert len(pdf_module._local.stylesheets) <= pdf_module.STYLESHEETS_PER_THREAD
        assert pdf_module.report_stylesheet("p { margin: 0 }", fetcher) is not first


def key(n: int = 1, lang: str = "zh") -> ReportKey:
    return ReportKey(uuid.UUID(int=n), 2, lang, "t", 1)


class TestRenderer:
    def test_bounded_concurrency_and_single_flight(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        running = 0
        peak = 0
        calls: list[Any] = []
        lock = threading.Lock()

        def fake_render(context: Any, *, static_dir: Path, origin: str) -> bytes:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
                calls.append(context)
            time.sleep(0.05)
            with lock:
                running -= 1
            return f"%PDF {context}".encode()

        monkeypatch.setattr(pdf_module, "render_pdf", fake_render)
        renderer = ReportRenderer(static_dir=tmp_path, concurrency=2)
        try:
            same = [renderer.submit(key(1), "one") for _ in range(3)]  # type: ignore[arg-type]
            others = [renderer.submit(key(n), f"r{n}") for n in range(2, 8)]  # type: ignore[arg-type]
            assert {f.result() for f in same} == {b"%PDF one"}
            assert [f.result() for f in others] == [f"%PDF r{n}".encode() for n in range(2, 8)]
            assert peak <= 2
            assert calls.count("one") == 1  # three requests at once, one render
            # Finished renders are not kept here (the database keeps them): a later one renders.
            assert renderer.render(key(1), "again") == b"%PDF again"  # type: ignore[arg-type]
        finally:
            renderer.close()

    def test_a_failed_render_raises_and_the_next_one_runs(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        outcomes = [RuntimeError("boom"), b"%PDF ok"]

        def flaky(context: Any, *, static_dir: Path, origin: str) -> bytes:
            outcome = outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        monkeypatch.setattr(pdf_module, "render_pdf", flaky)
        renderer = ReportRenderer(static_dir=tmp_path, concurrency=1)
        try:
            with pytest.raises(RuntimeError):
                renderer.render(key(), None)  # type: ignore[arg-type]
            assert renderer.render(key(), None) == b"%PDF ok"  # type: ignore[arg-type]
        finally:
            renderer.close()


def test_keys_and_template_version() -> None:
    assert len(template_version()) == 12 and template_version() == template_version()
    assert key(1).etag == key(1).etag != key(1, "en").etag
    assert key(1).etag.startswith('"') and key(1).etag.endswith('"')


@pytest.mark.parametrize(
    ("edited", "shapes_the_pdf"),
    [
        ("templates/pdf/report.html", True),
        ("templates/pdf/report.css", True),
        ("app/reports/context.py", True),
        ("app/reports/texts.py", True),
        ("app/reports/pdf.py", True),  # the HTML it hands WeasyPrint
        ("app/reports/fonts.py", True),  # the glyphs the cut face keeps
        ("app/results/charts.py", True),
        ("app/reports/api.py", False),  # serves the PDF, does not shape it
    ],
)
def test_template_version_follows_every_file_that_shapes_the_pdf(
    monkeypatch: pytest.MonkeyPatch, edited: str, shapes_the_pdf: bool
) -> None:
    """A stored PDF is stale when a deployment changes what shapes it; pdf.py and fonts.py did
    not count, so a report rendered before pdf.py stripped the spaces between block tags was
    served on as current. The files are read as a deployment that edited ``edited`` has them."""
    before, after = _versions_before_and_after(
        monkeypatch, PROJECT_ROOT / edited, lambda content: content + b"\n/* edited */\n"
    )
    assert (after != before) is shapes_the_pdf


@pytest.mark.parametrize(
    ("locale", "corrected"), [("zh_CN", "（已结束）"), ("en", " (closed)")], ids=["zh_CN", "en"]
)
def test_template_version_follows_a_corrected_translation_of_a_report_label(
    monkeypatch: pytest.MonkeyPatch, locale: str, corrected: str
) -> None:
    """A release that only corrects how a label of the report is translated (its ``.po``,
    compiled by ``make messages``) makes every stored PDF stale. The catalogs did not count:
    every report stored before the release went on printing the old label."""
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    label = catalog.get(" (ended)", context="report")  # what the report marks an ended programme
    assert label is not None and label.string != corrected
    label.string = corrected
    released = io.BytesIO()
    write_mo(released, catalog, use_fuzzy=False)

    before, after = _versions_before_and_after(
        monkeypatch, po_path(locale).with_suffix(".mo"), lambda _: released.getvalue()
    )
    assert after != before


def test_template_version_ignores_the_catalog_header_make_messages_rewrites() -> None:
    """Each ``make messages`` writes new dates into a catalog's header; that prints nowhere, so
    it must not make every stored report stale."""
    with po_path("zh_CN").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    catalog.revision_date = catalog.revision_date.replace(year=catalog.revision_date.year + 1)
    redated = io.BytesIO()
    write_mo(redated, catalog, use_fuzzy=False)
    assert redated.getvalue() != compiled.getvalue()

    assert pdf_module._catalog_entries(redated.getvalue()) == pdf_module._catalog_entries(
        compiled.getvalue()
    )


def _versions_before_and_after(
    monkeypatch: pytest.MonkeyPatch, edited: Path, edit: Callable[[bytes], bytes]
) -> tuple[str, str]:
    """``template_version`` of the files as they are, and as a deployment that changed the
    content of ``edited`` by ``edit`` has them."""
    target = edited.resolve()
    read = Path.read_bytes

    def deployed(path: Path) -> bytes:
        content = read(path)
        return edit(content) if path.resolve() == target else content

    template_version.cache_clear()
    before = template_version()
    try:
        with monkeypatch.context() as patched:
            patched.setattr(Path, "read_bytes", deployed)
            template_version.cache_clear()
            after = template_version()
    finally:
        template_version.cache_clear()  # the next caller computes it from the real files
    assert template_version() == before
    return before, after


class TestReportFonts:
    def test_the_cut_face_draws_what_a_report_holds(self) -> None:
        fonts = report_fonts()
        if fonts.family == SYSTEM_FAMILY:
            pytest.skip("no Noto Sans CJK SC or HarfBuzz subsetter on this machine")
        assert fonts.family == REPORT_FAMILY
        assert [weight for weight, _ in fonts.faces] == ["normal", "bold"]
        for _, path in fonts.faces:
            cmap = TTFont(path).getBestCmap()
            # Latin, Chinese, full-width punctuation, the methodology's Σ, ≥ and the step star.
            for char in "Az09上海智造，（）；Σ≥★→·—":
                assert ord(char) in cmap, (path, char)
            assert "㐀" not in "".join(map(chr, cmap))  # extension A: drawn by the system face
            # English text asks for proportional quotes and dashes (report.css): kept.
            features = {f.FeatureTag for f in TTFont(path)["GSUB"].table.FeatureList.FeatureRecord}
            assert {"pwid", "locl", "vert"} <= features, features
        assert "Noto Sans CJK SC Report" in fonts.font_face_css()
        assert report_fonts() is fonts  # cut once per process

    def test_every_chinese_character_of_the_apps_texts_is_in_the_cut(self) -> None:
        """The cut keeps GB 2312's ideographs only (app.reports.fonts): a character of the
        app's own texts outside it would pull the whole system face into every report."""
        root = Path(__file__).resolve().parents[3]
        folders = ("questionnaires", "subsidies", "templates", "app", "scoring")
        text = "".join(
            path.read_text(encoding="utf-8", errors="ignore")
            for folder in folders
            for path in (root / folder).rglob("*")
            if path.is_file() and path.suffix in {".yaml", ".yml", ".html", ".py", ".po", ".json"}
        )
        used = {ord(char) for char in text if "\u4e00" <= char <= "\u9fff"}
        assert len(used) > 500  # the folders were read
        assert used <= gb2312_ideographs(), "".join(sorted(map(chr, used - gb2312_ideographs())))
