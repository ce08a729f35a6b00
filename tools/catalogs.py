"""The UI string catalogs: ``python -m tools.catalogs`` (``make messages``) re-extracts the
strings from the pages' templates and code into ``messages.pot``, merges them into the zh_CN and
en catalogs and compiles the ``.mo`` files, which are committed so that ``make run`` and CI need
no build step. ``tests/tools/test_catalogs.py`` fails when a catalog is stale.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.kit.i18n import BABEL_LOCALES, LOCALE_DIR
from app.kit.settings import PROJECT_ROOT

BABEL_CFG = PROJECT_ROOT / "babel.cfg"
KEYWORDS = ["-k", "tr:2", "-k", "N_", "-k", "trc:2c,3", "-k", "NC_:1c,2"]


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def extracted_ids() -> set[tuple[str | None, str]]:
    """The (context, msgid) pairs the templates and code use now."""
    from babel.messages.frontend import parse_mapping_cfg

    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "tr": (2,),
        "N_": None,
        "trc": ((2, "c"), 3),
        "NC_": ((1, "c"), 2),
    }
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
            *KEYWORDS,
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
