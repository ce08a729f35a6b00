"""The committed catalogs are complete and compiled: `make messages` refreshes them."""

from __future__ import annotations

import ast

from babel.messages.pofile import read_po

from app.kit.i18n import tr
from app.kit.settings import PROJECT_ROOT
from scoring import RUNGS
from tools.catalogs import compiled, extracted_ids, po_path


def test_every_ui_string_is_in_the_catalogs_and_translated_into_chinese() -> None:
    used = extracted_ids()
    with po_path("zh_CN").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    known = {(message.context, message.id) for message in catalog if message.id}
    assert used - known == set(), "run `make messages` and translate the new zh_CN entries"
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []


def _marked_in_code() -> set[tuple[str | None, str]]:
    """Every string the code marks with ``N_("…")`` or ``NC_("context", "…")``."""
    marked: set[tuple[str | None, str]] = set()
    for path in (PROJECT_ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            constants = [a for a in node.args if isinstance(a, ast.Constant)]
            texts = [c.value for c in constants if isinstance(c.value, str)]
            if node.func.id == "N_" and len(texts) == 1:
                marked.add((None, texts[0]))
            elif node.func.id == "NC_" and len(texts) == 2:
                marked.add((texts[0], texts[1]))
    return marked


def test_every_marked_string_is_extracted() -> None:
    """A string marked inside another call's arguments was not extracted, so never translated:
    ``tr(lang, messages.get(code, N_("This answer is not valid.")))`` showed in English on the
    Chinese wizard."""
    assert _marked_in_code() - extracted_ids() == set()
    assert tr("zh", "This answer is not valid.") != "This answer is not valid."


def test_compiled_catalogs_match_their_sources() -> None:
    for locale in ("zh_CN", "en"):
        assert compiled(locale) == po_path(locale).with_suffix(".mo").read_bytes(), (
            f"{locale}: the .mo is stale; run `make messages`"
        )


def test_python_strings_translate_with_placeholders() -> None:
    assert tr("zh", "At least %(n)s characters.", n=10) == "至少 10 个字符。"
    assert tr("en", "At least %(n)s characters.", n=10) == "At least 10 characters."


def test_a_rung_name_is_not_followed_by_another_level_word() -> None:
    """Every rung's Chinese name ends in 级 (起步级 … 引领级): "{rung_name}」级" printed
    "3.25「规范级」级" in the report (found reading the PDF of a fresh clone)."""
    assert all(rung.name.zh.endswith("级") for rung in RUNGS)
    with po_path("zh_CN").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    doubled = [
        message.id
        for message in catalog
        if message.id
        and any(f"{{{name}}}」级" in message.string for name in ("rung_name", "next_name"))
    ]
    assert doubled == []
