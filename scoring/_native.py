"""Which code runs: scoring's modules compiled by mypyc, or their Python source.

``make install`` compiles the hot modules of the engine (``NATIVE_MODULES``) with mypyc
(``tools/compile_scoring.py``): the same typed source as C extensions beside it, ~1.8× faster
scoring with the roadmap. The build writes ``_native.json``, the SHA-256 of each source it
compiled.

The rule: the compiled modules are used only when every one of them was built from exactly the
source now on disk, for this interpreter. They are built as one group that calls across modules
in C, so a single edited (or missing) module makes the whole group stale; then all of them are
imported from their ``.py`` files (correct, only slower) until the next build.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

NATIVE_MODULES: tuple[str, ...] = (
    "scoring._raw",
    "scoring.engine",
    "scoring.ladder",
    "scoring.models",
    "scoring.roadmap",
)
"""What ``tools/compile_scoring.py`` compiles: the engine's walk, the ladder and the roadmap."""

GROUP = "scoring._native_group"
"""The build's shared library (``<GROUP>__mypyc``), inside the package rather than at the top
level, where an installed copy of the project would not find it."""

MANIFEST = Path(__file__).with_name("_native.json")


def source_path(module: str) -> Path:
    return Path(__file__).parent / f"{module.rpartition('.')[2]}.py"


def source_digest(module: str) -> str:
    return hashlib.sha256(source_path(module).read_bytes()).hexdigest()


def extension_path(module: str) -> Path:
    """Where this interpreter would find ``module`` compiled (``roadmap.cpython-311-….so``)."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return Path(__file__).parent / f"{module.rpartition('.')[2]}{suffix}"


def built_from_current_source() -> bool:
    """Whether ``_native.json`` names every native module with the digest of its source now,
    and every one of them (and the group's library) is built for this interpreter."""
    try:
        built = json.loads(MANIFEST.read_text(encoding="utf-8"))["modules"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        isinstance(built, dict)
        and all(built.get(module) == source_digest(module) for module in NATIVE_MODULES)
        and all(extension_path(module).exists() for module in (*NATIVE_MODULES, f"{GROUP}__mypyc"))
    )


class _SourceOnly(importlib.abc.MetaPathFinder):
    """Finds the native modules as their ``.py`` source, ahead of any stale extension."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in NATIVE_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def choose() -> None:
    """Keep a stale build out of the process; runs on import, before any native module is."""
    if not built_from_current_source() and not any(
        isinstance(finder, _SourceOnly) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _SourceOnly())


def compiled() -> bool:
    """Whether every native module in this process is the compiled extension."""
    return all(
        isinstance(
            getattr(sys.modules.get(module), "__loader__", None),
            importlib.machinery.ExtensionFileLoader,
        )
        for module in NATIVE_MODULES
    )


choose()
