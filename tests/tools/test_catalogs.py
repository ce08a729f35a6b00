"""The committed catalogs are complete and compiled: `make messages` refreshes them."""

from __future__ import annotations

import ast
import io

from babel.messages.extract import extract, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

import app.main  # noqa: F401  (every module loaded: every AppError subclass defined)
from app.kit.errors import PYDANTIC_MESSAGES, STATUS_TITLES, AppError
from app.kit.i18n import tr
from app.kit.settings import PROJECT_ROOT
from scoring import RUNGS
from tools.catalogs import (
    BABEL_CFG,
    PROBLEM_KEYWORDS,
    compiled,
    extract_python,
    extracted_ids,
    po_path,
)


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


# --- the JSON API's problem texts (app.kit.errors) ---------------------------------------------


def _problem_texts() -> set[str]:
    """Every problem text: the exceptions' details, field messages, validators' and scoring's
    messages (extracted by their names), pydantic's messages by code and the statuses' titles."""
    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    keywords = parse_keywords(PROBLEM_KEYWORDS)
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            PROJECT_ROOT, method_map, options_map, keywords=keywords
        )
    }
    return extracted | set(PYDANTIC_MESSAGES.values()) | set(STATUS_TITLES.values())


def test_every_problem_text_is_translated_into_chinese() -> None:
    """A problem is said in the request's language, Chinese by default: each of its texts is a
    catalog entry with a Chinese translation (they were English only)."""
    with po_path("zh_CN").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    chinese = {message.id: message.string for message in catalog if message.id}
    texts = _problem_texts()
    assert len(texts) > 150  # the exceptions' details are extracted, not only the tables
    missing = sorted(t for t in texts if not chinese.get(t))
    assert missing == [], "run `make messages` and translate the new zh_CN entries"


def test_every_app_error_is_an_extraction_keyword() -> None:
    """A new subclass's details would not be extracted, so never translated."""
    names = {keyword.partition(":")[0] for keyword in PROBLEM_KEYWORDS}
    subclasses: list[type[AppError]] = [AppError]
    for cls in subclasses:
        subclasses.extend(cls.__subclasses__())
    assert {cls.__name__ for cls in subclasses} - names == set()


def test_no_problem_text_is_built_where_it_is_raised() -> None:
    """A text built at the raise site (an f-string, "…" + x, .format, .join) is no catalog
    entry: it is a constant template and named values (``NotFound("… %(x)s", x=...)``), or a
    constant marked where it is defined."""
    names = {k.partition(":")[0]: int(k.partition(":")[2] or 1) for k in PROBLEM_KEYWORDS}
    built = []
    for root in ("app", "scoring"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name not in names or len(node.args) < names[name]:
                    continue
                text = node.args[names[name] - 1]
                if not isinstance(text, ast.Constant | ast.Name | ast.Attribute | ast.Subscript):
                    built.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert built == []


def test_a_keyword_call_inside_another_calls_arguments_is_extracted() -> None:
    """Babel's own extractor lost both texts of ``InvalidInput("…", errors=[FieldError(…)])``
    (the inner call's name took the outer call's strings)."""
    source = b'raise InvalidInput("Outer.", errors=[FieldError("body.x", "Inner.", "c")])\n'
    keywords = parse_keywords(PROBLEM_KEYWORDS)
    found = {m for _, m, _, _ in extract(extract_python, io.BytesIO(source), keywords)}
    assert found == {"Outer.", "Inner."}
