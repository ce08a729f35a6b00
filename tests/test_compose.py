"""docker-compose.yml and the Dockerfile are wired as the service needs (no Docker engine here:
the files are read, not run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from app.kit.settings import Environment, Settings

ROOT = Path(__file__).resolve().parent.parent
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:\?|:-)(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (the latter refuses when unset)."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op == ":-":
            return arg
        if op == ":?":
            raise LookupError(f"{name}: {arg}")
        return ""

    return _VARIABLE.sub(substitute, value)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service["environment"]
    assert isinstance(environment, dict), "use the mapping form of environment"
    return {str(k): str(v) for k, v in environment.items()}


def test_services_image_and_build(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"app", "db"}
    assert services["db"]["image"] == "postgres:16"
    assert services["app"]["build"] in (".", {"context": "."})
    assert (ROOT / "Dockerfile").is_file()


def test_app_waits_for_a_healthy_database(compose: dict[str, Any]) -> None:
    assert compose["services"]["app"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_database_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["db"]["volumes"]
    named = [v.split(":")[0] for v in volumes if v.endswith(":/var/lib/postgresql/data")]
    assert named and named[0] in (compose.get("volumes") or {})


def test_healthchecks(compose: dict[str, Any]) -> None:
    db_check = compose["services"]["db"]["healthcheck"]
    assert "pg_isready" in " ".join(db_check["test"])
    app_check = compose["services"]["app"]["healthcheck"]
    assert "http://127.0.0.1:8000/healthz" in " ".join(app_check["test"])
    for check in (db_check, app_check):
        assert check["interval"] and check["retries"] >= 1


def test_app_migrates_then_serves_on_the_published_port(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    command = " ".join(app["command"])
    assert re.search(
        r"zhizao db upgrade && exec zhizao serve --host 0\.0\.0\.0 --port 8000", command
    )
    published = [interpolate(p, {}) for p in app["ports"]]
    assert published == ["127.0.0.1:8000:8000"]


def test_environment_makes_valid_production_settings(compose: dict[str, Any]) -> None:
    env = {"ZHIZAO_SECRET_KEY": "s" * 48, "ZHIZAO_DB_PASSWORD": "p" * 24}
    app_env = {k: interpolate(v, env) for k, v in _environment(compose["services"]["app"]).items()}
    zhizao_vars = {k.removeprefix("ZHIZAO_") for k in app_env if k.startswith("ZHIZAO_")}
    assert zhizao_vars <= set(Settings.model_fields), "compose sets a setting that does not exist"

    settings = Settings(
        **{k.removeprefix("ZHIZAO_"): v for k, v in app_env.items() if k.startswith("ZHIZAO_")}
    )
    assert settings.ENV == Environment.production
    assert settings.SECRET_KEY.get_secret_value() == env["ZHIZAO_SECRET_KEY"]

    url = make_url(settings.DATABASE_URL)
    db_env = {k: interpolate(v, env) for k, v in _environment(compose["services"]["db"]).items()}
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "db" and (url.port or 5432) == 5432
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    assert url.database == db_env["POSTGRES_DB"]


@pytest.mark.parametrize("missing", ["ZHIZAO_SECRET_KEY", "ZHIZAO_DB_PASSWORD"])
def test_compose_refuses_without_the_secrets(compose: dict[str, Any], missing: str) -> None:
    env = {"ZHIZAO_SECRET_KEY": "s" * 48, "ZHIZAO_DB_PASSWORD": "p" * 24}
    del env[missing]
    with pytest.raises(LookupError, match=missing):
        for service in compose["services"].values():
            for value in _environment(service).values():
                interpolate(value, env)


def test_dockerfile(dockerfile: str) -> None:
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", dockerfile, re.MULTILINE)
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fontconfig",
        "fonts-noto-cjk",
    ):
        assert re.search(rf"\b{re.escape(package)}\b", dockerfile), package
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.MULTILINE)
    assert "zhizao db upgrade" in dockerfile
