"""constraints.txt pins what `make install` and the Docker image install: every package the
project needs (pyproject.toml's requirements, runtime and dev, and everything they pull in) at
one exact version, and the environment the suite runs in holds those versions, so a fresh clone
tests what the last green run tested."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)$")


def normalized(name: str) -> str:
    """PEP 503's form of a distribution name (``PyYAML`` and ``pyyaml`` are one package)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin: {line!r}"
        name = normalized(match["name"])
        assert name not in found, f"{name} pinned twice"
        found[name] = match["version"]
    return found


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(text) for text in listed]


def needed_distributions() -> set[str]:
    """The distributions installing the project with its ``dev`` extra brings in, followed
    through the installed packages' own requirements (with their markers and extras)."""
    needed: set[str] = set()
    pending = [(r, frozenset(r.extras)) for r in project_requirements()]
    while pending:
        requirement, extras = pending.pop()
        name = normalized(requirement.name)
        if name in needed:
            continue
        needed.add(name)
        for text in metadata.requires(requirement.name) or []:
            child = Requirement(text)
            applies = child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in ("", *extras)
            )
            if applies:
                pending.append((child, frozenset(child.extras)))
    return needed


def test_every_requirement_of_the_project_is_pinned(pins: dict[str, str]) -> None:
    missing = sorted({normalized(r.name) for r in project_requirements()} - pins.keys())
    assert not missing, f"pyproject.toml requires {missing}: run `make lock`"


def test_everything_the_requirements_pull_in_is_pinned(pins: dict[str, str]) -> None:
    floating = sorted(needed_distributions() - pins.keys())
    assert not floating, f"installed without a pin: {floating}; run `make lock`"


def test_the_pins_satisfy_pyproject(pins: dict[str, str]) -> None:
    refused = [
        f"{r} (pinned {pins[normalized(r.name)]})"
        for r in project_requirements()
        if normalized(r.name) in pins
        and not r.specifier.contains(pins[normalized(r.name)], prereleases=True)
    ]
    assert not refused, refused


def test_the_suite_runs_on_the_pinned_versions(pins: dict[str, str]) -> None:
    drifted = {}
    for name in sorted(needed_distributions() & pins.keys()):
        installed = metadata.version(name)
        if installed != pins[name]:
            drifted[name] = f"installed {installed}, pinned {pins[name]}"
    assert not drifted, f"{drifted}: run `make install` (or `make lock` to re-pin)"
