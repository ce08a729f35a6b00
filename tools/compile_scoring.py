"""Compile scoring's hot modules with mypyc, in place, and record what they were built from.

Run by ``make install`` (and again by make whenever one of those sources changes)::

    .venv/bin/python -m tools.compile_scoring          # build
    .venv/bin/python -m tools.compile_scoring --clean  # back to the Python source only

The extensions land beside their sources (``scoring/*.so``, git-ignored) and
``scoring/_native.json`` records each source's SHA-256; ``scoring/_native.py`` states when the
compiled code is used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from scoring import _native

ROOT = Path(__file__).resolve().parent.parent


def built_files() -> list[Path]:
    return sorted((ROOT / "scoring").glob("*.so")) + [_native.MANIFEST]


def clean() -> None:
    for path in built_files():
        path.unlink(missing_ok=True)


def build() -> None:
    from mypyc.build import mypycify  # a dev dependency: only the build needs it
    from setuptools import setup  # type: ignore[import-untyped]

    clean()
    sources = [
        str(_native.source_path(module).relative_to(ROOT)) for module in _native.NATIVE_MODULES
    ]
    digests = {module: _native.source_digest(module) for module in _native.NATIVE_MODULES}
    with tempfile.TemporaryDirectory(prefix="zhizao-mypyc-") as build_dir:
        cwd = Path.cwd()
        os.chdir(ROOT)
        try:
            setup(
                name="zhizao-scoring-native",
                ext_modules=mypycify(
                    sources, opt_level="3", group_name=_native.GROUP, target_dir=build_dir
                ),
                script_args=[
                    "--quiet",
                    "build_ext",
                    "--inplace",
                    "--build-temp",
                    build_dir,
                    "--build-lib",
                    build_dir,
                ],
            )
        finally:
            os.chdir(cwd)
    _native.MANIFEST.write_text(
        json.dumps({"modules": digests}, indent=2) + "\n",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    if parser.parse_args().clean:
        clean()
        return
    build()
    sys.stdout.write(f"scoring: compiled {', '.join(_native.NATIVE_MODULES)} (mypyc)\n")


if __name__ == "__main__":
    main()
