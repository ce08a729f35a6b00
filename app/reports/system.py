"""What the PDF reports need from the machine: HarfBuzz's subsetter and a CJK font.

Checked once per process; ``zhizao doctor`` reports the same two things.
"""

from __future__ import annotations

import ctypes.util
import logging
import shutil
import subprocess
from functools import cache

#: The font family the report's stylesheet and charts name first.
REPORT_FONT = "Noto Sans CJK SC"


def harfbuzz_subset_library() -> str | None:
    """Where libharfbuzz-subset0 is, or None. WeasyPrint subsets fonts with it; without it, a
    Chinese report takes seconds instead of a fraction of one (fontTools fallback)."""
    return ctypes.util.find_library("harfbuzz-subset")


@cache
def harfbuzz_subset_available() -> bool:
    return harfbuzz_subset_library() is not None


@cache
def cjk_fonts() -> tuple[str, ...]:
    """Families fontconfig knows that cover Chinese (empty without fontconfig)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    try:
        listed = subprocess.run(
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(sorted({line.split(",")[0].strip() for line in listed.splitlines() if line}))


def missing_for_reports() -> list[str]:
    """One line per missing dependency of the PDF reports, with its fix."""
    problems: list[str] = []
    if not harfbuzz_subset_available():
        problems.append(
            "libharfbuzz-subset0 is missing: PDF reports render several times slower "
            "(apt-get install libharfbuzz-subset0)"
        )
    fonts = cjk_fonts()
    if not fonts:
        problems.append(
            "no CJK font is installed: Chinese text in PDF reports shows as empty boxes "
            "(apt-get install fonts-noto-cjk)"
        )
    elif REPORT_FONT not in fonts:
        problems.append(
            f"{REPORT_FONT} is not installed ({', '.join(fonts[:3])} used instead): "
            "PDF reports may show Japanese glyph forms (apt-get install fonts-noto-cjk)"
        )
    return problems


def warn_if_missing(logger: logging.Logger) -> None:
    for problem in missing_for_reports():
        logger.warning("PDF reports: %s; `zhizao doctor` checks this machine.", problem)
