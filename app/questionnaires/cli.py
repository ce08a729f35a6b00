"""Author tools for questionnaires; no server, database or settings needed.

``zhizao questionnaire validate PATH...`` checks files (or directories of them) and lists every
problem as ``file: path.inside: message``; ``zhizao score`` scores an answers file and prints the
result JSON of design §8.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scoring import (
    InvalidAnswers,
    LoadIssue,
    Questionnaire,
    QuestionnaireLoadError,
    load_questionnaire,
    load_questionnaire_dir,
    score,
)

__all__ = ["cli"]

LANGS = ("zh", "en")

questionnaire_app = typer.Typer(
    name="questionnaire",
    help="Check questionnaire YAML files.",
    no_args_is_help=True,
    add_completion=False,
)
cli = typer.Typer()
cli.add_typer(questionnaire_app, name="questionnaire")


@questionnaire_app.callback()
def _questionnaire_group() -> None:
    """Questionnaire author tools (no server or database needed)."""


def _load_all(paths: list[Path]) -> tuple[list[Questionnaire], list[LoadIssue]]:
    loaded: list[Questionnaire] = []
    issues: list[LoadIssue] = []
    seen: dict[tuple[str, int], str] = {}
    for path in paths:
        try:
            found = load_questionnaire_dir(path) if path.is_dir() else [load_questionnaire(path)]
        except QuestionnaireLoadError as exc:
            issues.extend(exc.issues)
            continue
        for questionnaire in found:
            key = (questionnaire.id, questionnaire.version)
            if key in seen and seen[key] != str(path):
                message = f"{key[0]} v{key[1]} is also defined in {seen[key]}"
                issues.append(LoadIssue(str(path), "id", message))
                continue
            seen[key] = str(path)
            loaded.append(questionnaire)
    return loaded, issues


@questionnaire_app.command("validate")
def validate_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Questionnaire YAML files or directories of them.")
    ],
) -> None:
    """Validate questionnaire files; print every problem and exit 1 if there is any."""
    loaded, issues = _load_all(paths)
    for questionnaire in loaded:
        typer.echo(
            f"ok  {questionnaire.id} v{questionnaire.version}: "
            f"{len(questionnaire.stages)} stages, {len(questionnaire.questions)} questions, "
            f"{len(questionnaire.kpis)} KPIs, sha256 {questionnaire.content_hash[:12]}"
        )
    for issue in issues:
        typer.echo(str(issue), err=True)
    if issues:
        count = len(issues)
        typer.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)
        raise typer.Exit(1)


def _read_json_object(path: Path, what: str) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        typer.echo(f"{path}: cannot read {what}: {exc}", err=True)
        raise typer.Exit(1) from exc
    if not isinstance(data, dict):
        typer.echo(f"{path}: {what} must be a JSON object", err=True)
        raise typer.Exit(1)
    return data


@cli.command("score")
def score_command(
    questionnaire: Annotated[
        Path, typer.Option("--questionnaire", "-q", help="Questionnaire YAML file.")
    ],
    answers: Annotated[
        Path, typer.Option("--answers", "-a", help="JSON object {question_id: value}.")
    ],
    profile: Annotated[
        Path | None,
        typer.Option("--profile", "-p", help="JSON object of profile fields (size_class, ...)."),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of texts: zh or en.")] = "zh",
) -> None:
    """Score an answers file against a questionnaire and print the result as JSON."""
    if lang not in LANGS:
        raise typer.BadParameter(f"must be one of {', '.join(LANGS)}", param_hint="--lang")
    try:
        loaded = load_questionnaire(questionnaire)
    except QuestionnaireLoadError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(1) from exc
    answer_data = _read_json_object(answers, "answers")
    profile_data = None if profile is None else _read_json_object(profile, "profile")
    try:
        result = score(loaded, answer_data, profile_data)  # type: ignore[arg-type]
    except InvalidAnswers as exc:
        for answer_issue in exc.issues:
            typer.echo(f"{answers}: {answer_issue}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(result.to_dict(lang), ensure_ascii=False, indent=2))
