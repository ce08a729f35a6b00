"""The UI string catalogs: ``python -m tools.catalogs`` (``make messages``) re-extracts the
strings from the pages' templates and code into ``messages.pot``, merges them into the zh_CN and
en catalogs and compiles the ``.mo`` files, which are committed so that ``make run`` and CI need
no build step. ``tests/tools/test_catalogs.py`` fails when a catalog is stale.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_keywords
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.kit.i18n import BABEL_LOCALES, LOCALE_DIR
from app.kit.settings import PROJECT_ROOT

BABEL_CFG = PROJECT_ROOT / "babel.cfg"
#: The JSON API's problem texts (``app.kit.errors``): each exception's detail (its first
#: argument) is a catalog entry, as is a ``FieldError``'s message, a validator's
#: ``InvalidValue`` and scoring's ``Phrase``; they are translated when the problem is rendered.
#: Every ``AppError`` subclass is listed (tests/tools/test_catalogs.py checks).
PROBLEM_KEYWORDS = (
    "AppError",
    "BadRequest",
    "Unauthorized",
    "InvalidCredentials",
    "Forbidden",
    "CsrfFailed",
    "InsufficientScope",
    "NotFound",
    "Conflict",
    "PreconditionFailed",
    "InvalidInput",
    "PreconditionRequired",
    "TooManyRequests",
    "LoginRequired",
    "FieldError:2",
    "InvalidValue",
    "Phrase",
)
#: What marks a string for extraction besides gettext's own names: ``pybabel extract -k``'s.
KEYWORDS = ("tr:2", "N_", "trc:2c,3", "NC_:1c,2", *PROBLEM_KEYWORDS)


def extract_python(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, tuple[str | None, ...], list[str]]]:
    """Babel's extraction method for the Python code (``babel.cfg``): every call of a keyword,
    however deeply nested in another call's arguments, with its literal string arguments
    (``None`` for any other). Babel's own tokenizing extractor loses a keyword call inside a
    list in another's arguments, and that call's name then takes the outer call's strings:
    ``InvalidInput("…", errors=[FieldError("…", "…")])`` lost both."""
    tree = ast.parse(fileobj.read(), type_comments=False)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if not isinstance(name, str) or name not in keywords:
            continue
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        texts = tuple(
            argument.value
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
            else None
            for argument in arguments
        )
        yield node.lineno, name, texts, []


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def extracted_ids() -> set[tuple[str | None, str]]:
    """The (context, msgid) pairs the templates and code use now."""
    from babel.messages.frontend import parse_mapping_cfg

    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    keywords = DEFAULT_KEYWORDS | parse_keywords(KEYWORDS)
    return {
        (context, message if isinstance(message, str) else message[0])
        for _, _, message, _, context in extract_from_dir(
            PROJECT_ROOT, method_map, options_map, keywords=keywords
        )
    }


def compiled(locale: str) -> bytes:
    """The ``.mo`` bytes the ``.po`` of ``locale`` compiles to."""
    with po_path(locale).open("rb") as handle:
        catalog: Catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def main() -> None:
    pot = str(LOCALE_DIR / "messages.pot")
    cli = CommandLineInterface()
    root = str(PROJECT_ROOT)
    cli.run(  # type: ignore[no-untyped-call]
        [
            "pybabel",
            "extract",
            "-F",
            str(BABEL_CFG),
            *(arg for keyword in KEYWORDS for arg in ("-k", keyword)),
            "--no-location",
            "--sort-output",
            "--project",
            "zhizao",
            "-o",
            pot,
            root,
        ]
    )
    cli.run(  # type: ignore[no-untyped-call]
        [
            "pybabel",
            "update",
            "-i",
            pot,
            "-d",
            str(LOCALE_DIR),
            "-D",
            "messages",
            "--no-fuzzy-matching",
            "--ignore-obsolete",
            "-w",
            "100",
        ]
    )
    for locale in BABEL_LOCALES.values():
        (po_path(locale).with_suffix(".mo")).write_bytes(compiled(locale))


if __name__ == "__main__":
    main()
