"""Reading PDFs in tests (pypdf): text with whitespace removed, and the fonts used."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader


def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with all whitespace removed (extraction splits CJK runs unpredictably)."""
    text = "".join(page.extract_text() or "" for page in pdf_reader(pdf).pages)
    return re.sub(r"\s+", "", text)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Every font the pages use: base font name → whether its file is embedded."""
    fonts: dict[str, bool] = {}

    def visit(resources: Any) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            targets = [d.get_object() for d in descendants] if descendants else [font]
            for target in targets:
                descriptor = target.get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else {}
                embedded = any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
                )
                fonts[str(target.get("/BaseFont") or font.get("/BaseFont"))] = embedded
        for xobject in (resources.get("/XObject") or {}).values():
            visit(xobject.get_object().get("/Resources"))

    for page in pdf_reader(pdf).pages:
        visit(page.get("/Resources"))
    return fonts
