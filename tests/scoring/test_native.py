"""scoring/_native.py: compiled modules run only when built from exactly the source on disk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import scoring
from scoring import _native
from tests.databases import IN_CI

PACKAGE = Path(scoring.__file__).parent

WHICH_CODE = (
    "import sys\n"
    # the checkout's editable install would otherwise supply what the copy lacks (its library)
    "sys.meta_path[:] = [f for f in sys.meta_path\n"
    "                    if not getattr(f, '__module__', '').startswith('__editable__')]\n"
    "import scoring\n"
    "from scoring import _native\n"
    "files = (sys.modules[module].__file__ for module in _native.NATIVE_MODULES)\n"
    "print(_native.compiled(), scoring.__file__, *files)\n"
)


def _copy_of_the_package(destination: Path) -> Path:
    shutil.copytree(PACKAGE, destination / "scoring", ignore=shutil.ignore_patterns("__pycache__"))
    return destination / "scoring"


def _which_code(root: Path) -> tuple[bool, list[str]]:
    """Import the copy under ``root`` in a fresh interpreter: compiled or not, and every file."""
    out = subprocess.run(
        [sys.executable, "-c", WHICH_CODE],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    files = out[1:]
    assert all(file.startswith(str(root)) for file in files), files  # the copy, not the checkout
    return out[0] == "True", files


needs_a_build = pytest.mark.skipif(
    not _native.built_from_current_source() and not IN_CI,
    reason="scoring is not compiled here (make install compiles it when a C compiler is present)",
)


@needs_a_build
def test_the_build_is_what_runs() -> None:
    """``make install`` compiled scoring, and this process runs the compiled modules."""
    assert _native.built_from_current_source()
    assert _native.compiled()


@needs_a_build
def test_an_unchanged_copy_runs_compiled(tmp_path: Path) -> None:
    _copy_of_the_package(tmp_path)
    compiled, files = _which_code(tmp_path)
    assert compiled
    assert all(file.endswith(".so") for file in files[1:])


@needs_a_build
def test_one_edited_module_puts_the_whole_group_back_on_its_source(tmp_path: Path) -> None:
    """The group calls across modules in C: an edit to one makes every compiled one stale."""
    copy = _copy_of_the_package(tmp_path)
    with (copy / "ladder.py").open("a", encoding="utf-8") as ladder:
        ladder.write("\n# edited after the build\n")
    compiled, files = _which_code(tmp_path)
    assert not compiled
    assert [Path(file).name for file in files[1:]] == [
        f"{module.rpartition('.')[2]}.py" for module in _native.NATIVE_MODULES
    ]


def test_without_a_record_of_the_build_the_source_runs(tmp_path: Path) -> None:
    copy = _copy_of_the_package(tmp_path)
    (copy / _native.MANIFEST.name).unlink(missing_ok=True)
    compiled, files = _which_code(tmp_path)
    assert not compiled
    assert all(file.endswith(".py") for file in files)


@needs_a_build
def test_without_the_group_library_the_source_runs(tmp_path: Path) -> None:
    """Each module's extension only loads its code from the group's library (before this rule,
    importing scoring failed)."""
    copy = _copy_of_the_package(tmp_path)
    (copy / _native.extension_path(f"{_native.GROUP}__mypyc").name).unlink()
    compiled, files = _which_code(tmp_path)
    assert not compiled
    assert all(file.endswith(".py") for file in files)
