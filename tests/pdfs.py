"""Reading PDFs in tests (pypdf): text with whitespace removed, and the fonts used."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
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


def _font_descriptors(pdf: bytes) -> Iterator[tuple[str, Any]]:
    """Every font the pages use: (base font name, its font descriptor or ``{}``)."""

    def visit(resources: Any) -> Iterator[tuple[str, Any]]:
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
                yield str(target.get("/BaseFont") or font.get("/BaseFont")), descriptor
        for xobject in (resources.get("/XObject") or {}).values():
            yield from visit(xobject.get_object().get("/Resources"))

    for page in pdf_reader(pdf).pages:
        yield from visit(page.get("/Resources"))


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Every font the pages use: base font name → whether its file is embedded."""
    return {
        name: any(key in descriptor for key in FONT_FILES)
        for name, descriptor in _font_descriptors(pdf)
    }


def font_files(pdf: bytes) -> dict[str, bytes]:
    """Every embedded font file, decompressed: base font name → the file's bytes."""
    return {
        name: descriptor[key].get_object().get_data()
        for name, descriptor in _font_descriptors(pdf)
        for key in FONT_FILES
        if key in descriptor
    }


FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
