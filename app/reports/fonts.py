"""The report's font: Noto Sans CJK SC cut down, once per process, to the characters a report
can hold.

WeasyPrint subsets every font a PDF uses, on every render; for the system's Noto Sans CJK SC
(one face of a 20 MB collection, 65,535 glyphs) that cost ~0.1 s of CPU per report and made
the PDF twice the size (docs/benchmarks.md). The same face cut to Latin, Greek, Cyrillic,
symbols, CJK punctuation and GB 2312's Chinese characters (HarfBuzz, once) subsets much
faster. It is named ``REPORT_FAMILY`` and listed before the system family in the report's
CSS, so a character outside it (a rare name character from an extension block) is still drawn
by the system face. Without HarfBuzz's subsetter or the system font, the report names the
system family alone and renders as before, only slower.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

logger = logging.getLogger("zhizao.reports")

SYSTEM_FAMILY = "Noto Sans CJK SC"
REPORT_FAMILY = "Noto Sans CJK SC Report"
#: Code point ranges kept (inclusive). Change RANGES_VERSION with them (or with what is kept).
RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x052F),  # Latin-1 … Latin Extended-B, IPA, Greek, Cyrillic
    (0x2000, 0x2BFF),  # punctuation, super/subscripts, currency, letterlike, arrows, maths,
    #                    technical, enclosed, box drawing, shapes, symbols, dingbats
    (0x3000, 0x33FF),  # CJK symbols and punctuation, kana, bopomofo, compatibility
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFE30, 0xFE4F),  # CJK Compatibility Forms
    (0xFF00, 0xFFEF),  # half- and full-width forms
)
#: ... and the 6,763 ideographs of GB 2312 (``gb2312_ideographs``), not the whole CJK Unified
#: Ideographs block (20,992): WeasyPrint embeds every glyph up to the last one used (it keeps
#: glyph ids), so a shorter face makes a ~25 % smaller PDF. Every Chinese character of the
#: app's own texts is in GB 2312 (tests/app/reports/test_pdf.py); a rarer one in a firm's name
#: is drawn by the system face. The cut is also desubroutinised: WeasyPrint desubroutinises
#: the glyphs it embeds on every render, most of its subsetting time (~125 → ~40 ms a report,
#: docs/benchmarks.md).
RANGES_VERSION = "5"
#: CSS weight → fontconfig weight of the system face to cut (regular, bold).
WEIGHTS = {"normal": 80, "bold": 200}


@dataclass(frozen=True, slots=True)
class ReportFonts:
    """The family the report names first, and the cut faces (CSS weight → file) behind it."""

    family: str
    faces: tuple[tuple[str, Path], ...] = ()

    @property
    def directory(self) -> Path | None:
        return self.faces[0][1].parent if self.faces else None

    def font_face_css(self) -> str:
        return "".join(
            f'@font-face {{ font-family: "{self.family}"; src: url("{path.as_uri()}"); '
            f"font-weight: {weight}; }}\n"
            for weight, path in self.faces
        )


@lru_cache(maxsize=1)
def report_fonts() -> ReportFonts:
    """The report's fonts, cut on the first call of the process (files shared across processes
    in the temporary directory); the system family alone when they cannot be made."""
    try:
        faces = tuple(
            (weight, _cut(*_system_face(fc_weight))) for weight, fc_weight in WEIGHTS.items()
        )
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        logger.warning("report: no cut font (%s); rendering with %s", error, SYSTEM_FAMILY)
        return ReportFonts(family=SYSTEM_FAMILY)
    return ReportFonts(family=REPORT_FAMILY, faces=faces)


@lru_cache
def gb2312_ideographs() -> frozenset[int]:
    """The code points of GB 2312's 6,763 Chinese characters (rows 16–87 of the standard)."""
    found: set[int] = set()
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:  # the unassigned cells at the end of row 55
                continue
    return frozenset(found)


def _system_face(fc_weight: int) -> tuple[Path, int]:
    """The file and face index fontconfig gives for the system family at ``fc_weight``."""
    pattern = f"{SYSTEM_FAMILY}:weight={fc_weight}"
    found = subprocess.run(
        ["fc-match", "--format=%{family}\n%{file}\n%{index}", pattern],
        capture_output=True, text=True, timeout=10, check=True,
    ).stdout.split("\n")  # fmt: skip
    if len(found) != 3 or SYSTEM_FAMILY not in found[0].split(","):
        raise RuntimeError(f"{SYSTEM_FAMILY} is not installed")
    return Path(found[1]), int(found[2])


def _cut(source: Path, index: int) -> Path:
    """The cut face of ``source`` (made unless a previous process made it)."""
    stat = source.stat()
    key = f"{source}:{index}:{stat.st_size}:{stat.st_mtime_ns}:{RANGES_VERSION}"
    directory = Path(tempfile.gettempdir()) / "zhizao-report-fonts"
    directory.mkdir(mode=0o700, exist_ok=True)
    if directory.stat().st_uid != os.getuid():  # made by another user: not ours to trust
        raise OSError(f"{directory} belongs to another user")
    target = directory / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.otf"
    if not target.is_file():
        data = _harfbuzz_subset(source, index)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)  # atomic: a concurrent process reads a whole file
    return target


def _harfbuzz_subset(source: Path, index: int) -> bytes:
    """Face ``index`` of ``source`` cut to ``RANGES`` (glyphs renumbered, layout kept)."""
    hb, hb_subset = _library("harfbuzz"), _library("harfbuzz-subset")
    blob = hb.hb_blob_create_from_file(str(source).encode())
    face = hb.hb_face_create(blob, index)
    plan = hb_subset.hb_subset_input_create_or_fail()
    result = None
    try:
        if not hb.hb_face_get_glyph_count(face) or not plan:
            raise RuntimeError(f"cannot read {source}")
        unicodes = hb_subset.hb_subset_input_unicode_set(plan)
        for first, last in RANGES:
            hb.hb_set_add_range(unicodes, first, last)
        for code_point in gb2312_ideographs():
            hb.hb_set_add(unicodes, code_point)
        # Every OpenType feature, not HarfBuzz's default few: English text asks for 'pwid'
        # (proportional quotes and dashes), which the default drops. 'aalt' (every alternate
        # of every glyph, for font pickers) only slows the cut.
        features = hb_subset.hb_subset_input_set(plan, _SETS_LAYOUT_FEATURE_TAG)
        hb.hb_set_clear(features)
        hb.hb_set_invert(features)
        hb.hb_set_del(features, int.from_bytes(b"aalt", "big"))
        hb_subset.hb_subset_input_set_flags(plan, _FLAGS_DESUBROUTINIZE)
        result = hb_subset.hb_subset_or_fail(face, plan)
        if not result:
            raise RuntimeError(f"HarfBuzz could not subset {source}")
        data_blob = hb.hb_face_reference_blob(result)
        length = ctypes.c_uint()
        data = hb.hb_blob_get_data(data_blob, ctypes.byref(length))
        content = ctypes.string_at(data, length.value)
        hb.hb_blob_destroy(data_blob)
        return content
    finally:
        if result:
            hb.hb_face_destroy(result)
        if plan:
            hb_subset.hb_subset_input_destroy(plan)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


#: ``HB_SUBSET_SETS_LAYOUT_FEATURE_TAG`` (hb-subset.h).
_SETS_LAYOUT_FEATURE_TAG = 6
#: ``HB_SUBSET_FLAGS_DESUBROUTINIZE``.
_FLAGS_DESUBROUTINIZE = 0x4
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "hb_blob_create_from_file": (ctypes.c_void_p, [ctypes.c_char_p]),
    "hb_blob_get_data": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint)]),
    "hb_blob_destroy": (None, [ctypes.c_void_p]),
    "hb_face_create": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_uint]),
    "hb_face_get_glyph_count": (ctypes.c_uint, [ctypes.c_void_p]),
    "hb_face_reference_blob": (ctypes.c_void_p, [ctypes.c_void_p]),
    "hb_face_destroy": (None, [ctypes.c_void_p]),
    "hb_set_add": (None, [ctypes.c_void_p, ctypes.c_uint32]),
    "hb_set_add_range": (None, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]),
    "hb_set_clear": (None, [ctypes.c_void_p]),
    "hb_set_del": (None, [ctypes.c_void_p, ctypes.c_uint32]),
    "hb_set_invert": (None, [ctypes.c_void_p]),
    "hb_subset_input_set_flags": (None, [ctypes.c_void_p, ctypes.c_uint]),
    "hb_subset_input_set": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int]),
    "hb_subset_input_create_or_fail": (ctypes.c_void_p, []),
    "hb_subset_input_unicode_set": (ctypes.c_void_p, [ctypes.c_void_p]),
    "hb_subset_input_destroy": (None, [ctypes.c_void_p]),
    "hb_subset_or_fail": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p]),
}


@lru_cache
def _library(name: str) -> Any:
    """``libharfbuzz`` or ``libharfbuzz-subset`` with the signatures used here declared."""
    found = ctypes.util.find_library(name)
    if found is None:
        raise OSError(f"lib{name} not found")
    library = ctypes.CDLL(found)
    for function, (restype, argtypes) in _SIGNATURES.items():
        if hasattr(library, function):
            getattr(library, function).restype = restype
            getattr(library, function).argtypes = argtypes
    return library
