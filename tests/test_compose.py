"""docker-compose.yml and the Dockerfile are wired as the service needs (no Docker engine here:
the files are read, not run), and the Compose tools accept the file: ``docker compose config``
(v2, the Compose spec) and ``docker-compose config`` (1.29, Debian's package, which .ci/run
installs) where they are present."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from app.kit.settings import Environment, Settings
from tests.databases import IN_CI

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


#: The variables compose refuses to start without (the file's header says how to make them).
SECRETS = {"ZHIZAO_SECRET_KEY": "s" * 48, "ZHIZAO_DB_PASSWORD": "p" * 24}
SERVICES = {"db", "redis", "migrate", "app", "worker", "proxy"}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service["environment"]
    assert isinstance(environment, dict), "use the mapping form of environment"
    return {str(k): str(v) for k, v in environment.items()}


def test_services_image_and_build(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["proxy"]["image"] == "caddy:2"
    for name in ("migrate", "app", "worker"):  # one image, built once
        assert services[name]["build"] in (".", {"context": "."}), name
        assert services[name]["image"] == "zhizao:latest", name
    assert (ROOT / "Dockerfile").is_file()


def test_schema_is_migrated_once_before_any_app_or_worker_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["zhizao", "db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("app", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "upgrade" not in " ".join(services[name]["command"]), name
    assert services["app"]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_app_and_worker_scale_out(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["app"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["worker"]["command"] == ["zhizao", "worker"]
    # No fixed name and no single fixed host port: either would stop a second replica.
    for name in ("app", "worker"):
        assert "container_name" not in services[name], name
    assert "ports" not in services["worker"]


def test_the_proxy_is_optional_and_reads_its_caddyfile(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["profiles"] == ["tls"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "{$ZHIZAO_DOMAIN}" in caddyfile
    assert re.search(r"dynamic a app 8000", caddyfile)  # every replica, as DNS lists them
    assert "ZHIZAO_DOMAIN" in proxy["environment"]


def test_database_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["db"]["volumes"]
    named = [v.split(":")[0] for v in volumes if v.endswith(":/var/lib/postgresql/data")]
    assert named and named[0] in (compose.get("volumes") or {})


def test_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    db_check = services["db"]["healthcheck"]
    assert "pg_isready" in " ".join(db_check["test"])
    redis_check = services["redis"]["healthcheck"]
    assert redis_check["test"] == ["CMD", "redis-cli", "ping"]
    app_check = services["app"]["healthcheck"]
    assert "http://127.0.0.1:8000/healthz" in " ".join(app_check["test"])
    # The image's HTTP probe would fail on a worker (it serves nothing): it checks its database,
    # not the rate-limit storage (a Redis down made every worker unhealthy).
    worker_check = services["worker"]["healthcheck"]
    assert worker_check["test"] == ["CMD", "zhizao", "doctor", "--worker"]
    assert services["migrate"]["healthcheck"] == {"disable": True}
    for check in (db_check, redis_check, app_check, worker_check):
        assert check["interval"] and check["retries"] >= 1


def test_app_serves_on_a_range_of_loopback_ports(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    assert app["command"] == ["zhizao", "serve", "--host", "0.0.0.0", "--port", "8000"]
    published = [interpolate(p, {}) for p in app["ports"]]
    assert published == ["127.0.0.1:8000-8009:8000"]  # one host port per replica


@pytest.mark.parametrize("name", ["migrate", "app", "worker"])
def test_every_process_shares_the_database_and_redis(compose: dict[str, Any], name: str) -> None:
    env = dict(SECRETS)
    service_env = {
        k: interpolate(v, env) for k, v in _environment(compose["services"][name]).items()
    }
    assert service_env["ZHIZAO_RATE_LIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert service_env["ZHIZAO_WEBHOOK_WORKER"] == "off"  # the worker service delivers
    assert make_url(service_env["ZHIZAO_DATABASE_URL"]).host == "db"


@pytest.mark.parametrize("name", ["migrate", "app", "worker"])
def test_environment_makes_valid_production_settings(compose: dict[str, Any], name: str) -> None:
    env = dict(SECRETS)
    app_env = {k: interpolate(v, env) for k, v in _environment(compose["services"][name]).items()}
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


@pytest.mark.parametrize("name", ["app", "worker"])
def test_mail_settings_come_from_the_environment(compose: dict[str, Any], name: str) -> None:
    """Compose passed no SMTP setting, so a deployment by it could never send mail (every
    production start warned: ZHIZAO_SMTP_HOST is empty)."""

    def settings_with(env: dict[str, str]) -> Settings:
        service_env = _environment(compose["services"][name])
        values = {k: interpolate(v, {**SECRETS, **env}) for k, v in service_env.items()}
        return Settings(**{k.removeprefix("ZHIZAO_"): v for k, v in values.items()})

    relay = settings_with(
        {
            "ZHIZAO_SMTP_HOST": "smtp.example.cn",
            "ZHIZAO_SMTP_PORT": "465",
            "ZHIZAO_SMTP_TLS": "tls",
            "ZHIZAO_SMTP_USER": "zhizao",
            "ZHIZAO_SMTP_PASSWORD": "relay-secret",
            "ZHIZAO_MAIL_SENDER": "区经信委 <noreply@example.cn>",
        }
    )
    assert (relay.SMTP_HOST, relay.SMTP_PORT, relay.SMTP_TLS) == ("smtp.example.cn", 465, "tls")
    assert relay.SMTP_USER == "zhizao" and relay.SMTP_PASSWORD is not None
    assert relay.SMTP_PASSWORD.get_secret_value() == "relay-secret"
    assert relay.MAIL_SENDER == "区经信委 <noreply@example.cn>"

    unset, defaults = settings_with({}), Settings()
    assert unset.SMTP_HOST == "" and unset.SMTP_PORT == defaults.SMTP_PORT
    assert (unset.SMTP_TLS, unset.MAIL_SENDER) == (defaults.SMTP_TLS, defaults.MAIL_SENDER)


@pytest.mark.parametrize("missing", ["ZHIZAO_SECRET_KEY", "ZHIZAO_DB_PASSWORD"])
def test_compose_refuses_without_the_secrets(compose: dict[str, Any], missing: str) -> None:
    env = dict(SECRETS)
    del env[missing]
    with pytest.raises(LookupError, match=missing):
        for service in compose["services"].values():
            for value in _environment(service).values() if "environment" in service else ():
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


def test_the_image_runs_scoring_compiled_in_a_stage_of_its_own(dockerfile: str) -> None:
    """The image compiles scoring as `make install` does, with the compiler in a build stage
    only, on the service's own base image (the extensions match the interpreter that loads
    them), and copies the build over the sources; a host's build never enters the image."""
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    assert len(stages) == 2
    build, service = stages
    assert build.startswith("python:3.11-slim-bookworm AS scoring-build\n")
    assert service.startswith("python:3.11-slim-bookworm\n")
    assert re.search(r"\bgcc\b", build) and not re.search(r"\bgcc\b", service)
    assert re.search(r"^RUN pip install -c constraints\.txt mypy\b", build, re.MULTILINE)
    assert re.search(r"^RUN python -m tools\.compile_scoring$", build, re.MULTILINE)
    copied = re.search(
        r"^COPY --from=scoring-build /build/scoring/\*\.so /build/scoring/_native\.json scoring/$",
        service,
        re.MULTILINE,
    )
    assert copied and service.index("COPY . .") < copied.start()
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {"scoring/*.so", "scoring/_native.json"} <= set(ignored)


def _compose_tool(tool: str) -> list[str]:
    """The command line of ``tool``; skips when it is not installed (fails under CI=true for
    docker-compose 1.29, which .ci/run installs; Compose v2 comes with a Docker engine)."""
    if tool == "docker-compose":
        if shutil.which("docker-compose") is None:
            if IN_CI:
                pytest.fail("docker-compose is required under CI=true (.ci/run installs it)")
            pytest.skip("docker-compose (1.29) not installed")
        return ["docker-compose"]
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip("docker compose (v2) not installed")
    return [docker, "compose"]


def _run_compose(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The project name is fixed so that nothing depends on the checkout's directory name.
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ZHIZAO_", "COMPOSE_"))}
    return subprocess.run(
        [*command, "--profile", "tls", "config"],
        cwd=ROOT,
        env=keep | {"COMPOSE_PROJECT_NAME": "zhizao"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("tool", ["docker compose", "docker-compose"])
def test_the_compose_tools_accept_the_file(tool: str) -> None:
    command = _compose_tool(tool)
    checked = _run_compose(command, SECRETS)
    assert checked.returncode == 0, checked.stderr
    resolved = yaml.safe_load(checked.stdout)
    assert set(resolved["services"]) == SERVICES
    assert resolved["services"]["worker"]["command"] == ["zhizao", "worker"]
    # Without a secret the tool refuses, naming it.
    refused = _run_compose(command, {"ZHIZAO_SECRET_KEY": SECRETS["ZHIZAO_SECRET_KEY"]})
    assert refused.returncode != 0
    assert "ZHIZAO_DB_PASSWORD" in refused.stderr
