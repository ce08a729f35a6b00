"""A programme file (format 2) to vary in the subsidy tests."""

from __future__ import annotations

from scoring.subsidies import Programme
from scoring.subsidy_loader import parse_programme

DATED = "valid_from: 2026-01-01\nvalid_until: 2026-12-31\nlast_confirmed: 2026-01-02\n"
ONGOING = "status: ongoing\nlast_confirmed: 2026-05-01\n"
SOURCE = "{issued_by: 演示, number: 演示〔2026〕1号, year: 2026}"


def programme_text(
    extra: str = "",
    *,
    pid: str = "demo",
    level: str = "municipal",
    region: str = "310000",
    kind: str = "grant",
    benefit: str = "{}",
    source: str = SOURCE,
    validity: str = DATED,
    confidence: str = "secondary",
) -> str:
    """The YAML of a valid programme; ``extra`` adds top-level keys."""
    return f"""\
format: 2
id: {pid}
name: {{zh: 演示, en: Demo}}
issuer: {{zh: 演示, en: Demo}}
level: {level}
region: "{region}"
kind: {kind}
summary: {{zh: 演示, en: Demo}}
confidence: {confidence}
benefit: {benefit}
source: {source}
{validity}{extra}"""


def programme(extra: str = "", **parts: str) -> Programme:
    """The parsed ``programme_text``."""
    return parse_programme(programme_text(extra, **parts), "demo.yaml")
