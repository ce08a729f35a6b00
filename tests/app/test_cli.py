"""The `zhizao` command, run in-process with Typer's CliRunner against each engine."""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from app import cli as cli_module
from app.cli import Check, cli
from app.demo import service as demo
from app.kit.settings import Settings
from app.models import ApiClient, AuditEvent, Enterprise, User
from app.reports import system as report_system
from app.startup import warn_of_production_settings
from tests.answers import QUICK, questionnaire, submit_assessment
from tests.databases import require_redis
from tests.factories import create_enterprise, enterprise_payload
from tests.live import free_port

runner = CliRunner()
PASSWORD = "a long enough password"


def invoke(*args: str, input: str | None = None) -> Result:
    return runner.invoke(cli, list(args), input=input)


@pytest.fixture
def cli_env(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI at the test database (migrated), as the test app's settings do."""
    monkeypatch.setenv("ZHIZAO_DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("ZHIZAO_ENV", settings.ENV.value)
    monkeypatch.setenv("ZHIZAO_SECRET_KEY", settings.SECRET_KEY.get_secret_value())
    return settings


def _count(db: Session, model: Any) -> int:
    db.rollback()  # end the read transaction: SQLite's WAL snapshot would hide the CLI's writes
    return db.scalar(select(func.count()).select_from(model)) or 0


class TestDatabaseCommands:
    def test_upgrade_current_and_downgrade_on_a_new_sqlite_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ZHIZAO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

        before = invoke("db", "current")
        assert before.exit_code == 1
        assert "(empty)" in before.output and "NOT at head" in before.output

        upgraded = invoke("db", "upgrade")
        assert upgraded.exit_code == 0, upgraded.output
        assert "upgraded (empty) ->" in upgraded.output

        again = invoke("db", "upgrade")
        assert again.exit_code == 0 and "already at" in again.output

        current = invoke("db", "current")
        assert current.exit_code == 0, current.output
        assert "(at head)" in current.output

        refused = invoke("db", "downgrade", "base", input="n\n")
        assert refused.exit_code == 1
        assert invoke("db", "current").exit_code == 0

        down = invoke("db", "downgrade", "base", "--yes")
        assert down.exit_code == 0, down.output
        assert "now at (empty)" in down.output

    def test_bad_configuration_is_reported_not_raised(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ZHIZAO_ENV", "production")
        monkeypatch.delenv("ZHIZAO_SECRET_KEY", raising=False)
        result = invoke("db", "current")
        assert result.exit_code == 2
        assert "ZHIZAO_SECRET_KEY" in result.output


class TestCreateUser:
    def test_admin_can_sign_in_with_the_prompted_password(
        self, cli_env: Settings, client: TestClient, db: Session
    ) -> None:
        result = invoke(
            "create-user",
            "--email",
            "Boss@Example.com",
            "--role",
            "admin",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert result.exit_code == 0, result.output
        assert PASSWORD not in result.output  # hidden input is not echoed
        user = db.scalar(select(User).where(User.email == "boss@example.com"))
        assert user is not None and user.role == "admin"
        audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
        assert audit is not None and audit.actor_type == "cli"
        signed_in = client.post(
            "/api/v1/session", json={"email": "boss@example.com", "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text

    def test_enterprise_user_by_credit_code_or_id(self, cli_env: Settings, db: Session) -> None:
        enterprise = create_enterprise(db)
        by_code = invoke(
            "create-user",
            "--email",
            "a@example.com",
            "--role",
            "enterprise",
            "--enterprise-id",
            enterprise.credit_code.lower(),
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert by_code.exit_code == 0, by_code.output
        by_id = invoke(
            "create-user",
            "--email",
            "b@example.com",
            "--role",
            "enterprise",
            "--enterprise-id",
            str(enterprise.id),
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert by_id.exit_code == 0, by_id.output
        db.rollback()
        users = db.scalars(select(User).where(User.enterprise_id == enterprise.id)).all()
        assert {u.email for u in users} == {"a@example.com", "b@example.com"}

    def test_official_with_district(self, cli_env: Settings, db: Session) -> None:
        result = invoke(
            "create-user",
            "--email",
            "o@example.com",
            "--role",
            "official",
            "--district-code",
            "310115",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert result.exit_code == 0, result.output
        user = db.scalar(select(User).where(User.email == "o@example.com"))
        assert user is not None and user.district_code == "310115"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--role", "enterprise"], "--enterprise-id is required"),
            (["--role", "enterprise", "--enterprise-id", str(uuid.uuid4())], "No enterprise"),
            (["--role", "admin", "--district-code", "310115"], "role official only"),
            (["--role", "official", "--district-code", "310199"], "not one of Shanghai"),
        ],
    )
    def test_inconsistent_scope_is_refused(
        self, cli_env: Settings, db: Session, args: list[str], message: str
    ) -> None:
        result = invoke(
            "create-user", "--email", "x@example.com", *args, input=f"{PASSWORD}\n{PASSWORD}\n"
        )
        assert result.exit_code == 2
        assert message in result.output
        assert _count(db, User) == 0

    def test_short_password_bad_email_and_duplicates_are_refused(
        self, cli_env: Settings, db: Session
    ) -> None:
        short = invoke(
            "create-user", "--email", "x@example.com", "--role", "admin", input="short\nshort\n"
        )
        assert short.exit_code == 2 and "password" in short.output
        bad_email = invoke(
            "create-user",
            "--email",
            "not-an-address",
            "--role",
            "admin",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert bad_email.exit_code == 2 and "email" in bad_email.output
        mismatch = invoke(
            "create-user",
            "--email",
            "x@example.com",
            "--role",
            "admin",
            input=f"{PASSWORD}\nsomething else entirely\n",
        )
        assert mismatch.exit_code != 0
        assert _count(db, User) == 0

        first = invoke(
            "create-user",
            "--email",
            "x@example.com",
            "--role",
            "admin",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert first.exit_code == 0, first.output
        duplicate = invoke(
            "create-user",
            "--email",
            "X@example.com",
            "--role",
            "admin",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert duplicate.exit_code == 1
        assert "already has an account" in duplicate.output
        assert _count(db, User) == 1


class TestCreateApiClient:
    def test_printed_key_authenticates_against_the_api(
        self, cli_env: Settings, client: TestClient, db: Session
    ) -> None:
        result = invoke(
            "create-api-client",
            "--name",
            "Integrator Ltd",
            "--scope",
            "enterprises:write",
            "--scope",
            "assessments:read",
        )
        assert result.exit_code == 0, result.output
        assert "cannot be shown again" in result.output
        key = result.stdout.strip()
        assert "\n" not in key and key.startswith(cli_env.api_key_prefix + "_")

        headers = {"Authorization": f"Bearer {key}"}
        body = enterprise_payload() | {
            "consent": {
                "given_by": "张经理",
                "given_at": "2026-11-20T09:00:00+08:00",
                "method": "signed_form",
            }
        }
        created = client.post("/api/v1/enterprises", json=body, headers=headers)
        assert created.status_code == 201, created.text
        fetched = client.get(f"/api/v1/enterprises/{created.json()['id']}", headers=headers)
        assert fetched.status_code == 200

        wrong = client.get(
            f"/api/v1/enterprises/{created.json()['id']}",
            headers={"Authorization": f"Bearer {key[:-4]}abcd"},
        )
        assert wrong.status_code == 401

    def test_unknown_scope_is_refused(self, cli_env: Settings, db: Session) -> None:
        result = invoke("create-api-client", "--name", "X", "--scope", "everything")
        assert result.exit_code == 2
        assert "unknown scopes: everything" in result.output
        assert _count(db, ApiClient) == 0

    def test_needs_a_migrated_database(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ZHIZAO_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
        result = invoke("create-api-client", "--name", "X", "--scope", "reports:read")
        assert result.exit_code == 1
        assert "zhizao db upgrade" in result.output


class TestSeedDemo:
    def test_idempotent_and_the_printed_logins_work(
        self, cli_env: Settings, monkeypatch: pytest.MonkeyPatch, client: TestClient, db: Session
    ) -> None:
        monkeypatch.setenv("ZHIZAO_ENV", "development")
        first = invoke("seed-demo")
        assert first.exit_code == 0, first.output
        assert "Demo data created" in first.output
        for email, password in [
            (demo.ADMIN_EMAIL, demo.ADMIN_PASSWORD),
            (demo.ENTERPRISE_EMAIL, demo.ENTERPRISE_PASSWORD),
            (demo.OFFICIAL_EMAIL, demo.OFFICIAL_PASSWORD),
        ]:
            assert email in first.output and password in first.output

        second = invoke("seed-demo")
        assert second.exit_code == 0, second.output
        assert "nothing changed" in second.output
        assert _count(db, User) == 3
        assert _count(db, Enterprise) == 1

        enterprise = db.scalar(select(Enterprise))
        assert enterprise is not None
        assert enterprise.credit_code == demo.DEMO_CREDIT_CODE and enterprise.synthetic

        signed_in = client.post(
            "/api/v1/session",
            json={"email": demo.ENTERPRISE_EMAIL, "password": demo.ENTERPRISE_PASSWORD},
        )
        assert signed_in.status_code == 200, signed_in.text
        client.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
        own = client.get(f"/api/v1/enterprises/{enterprise.id}")
        assert own.status_code == 200, own.text

    def test_bulk_synthetic_firms_get_the_options(
        self, cli_env: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from app.demo import synthetic_cli

        monkeypatch.setenv("ZHIZAO_ENV", "development")
        calls: list[dict[str, Any]] = []
        monkeypatch.setattr(
            synthetic_cli, "seed_synthetic_firms", lambda settings, **kw: calls.append(kw)
        )
        result = invoke("seed-demo", "--enterprises", "3", "--seed", "7")
        assert result.exit_code == 0, result.output
        assert calls == [{"enterprises": 3, "seed": 7}]
        assert invoke("seed-demo").exit_code == 0
        assert len(calls) == 1, "no bulk load unless asked for"

    @pytest.mark.parametrize("env", ["testing", "production"])
    def test_refused_outside_development(
        self, cli_env: Settings, monkeypatch: pytest.MonkeyPatch, db: Session, env: str
    ) -> None:
        monkeypatch.setenv("ZHIZAO_ENV", env)
        monkeypatch.setenv("ZHIZAO_SECRET_KEY", secrets.token_urlsafe(32))
        result = invoke("seed-demo")
        assert result.exit_code == 1
        assert "development only" in result.output
        assert _count(db, User) == 0


class TestDoctor:
    def test_all_present(self, cli_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(cli_module, "check_harfbuzz_subset", lambda: Check("hb", True, "x"))
        monkeypatch.setattr(cli_module, "check_cjk_font", lambda: Check("font", True, "Noto"))
        result = invoke("doctor")
        assert result.exit_code == 0, result.output
        assert "at head" in result.output

    def test_missing_font_and_unmigrated_database_fail_with_the_fix(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ZHIZAO_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
        monkeypatch.setattr(cli_module, "check_harfbuzz_subset", lambda: Check("hb", True, "x"))
        monkeypatch.setattr(
            cli_module,
            "check_cjk_font",
            lambda: Check("CJK font", False, "none", "apt-get install fonts-noto-cjk"),
        )
        result = invoke("doctor")
        assert result.exit_code == 1
        assert "apt-get install fonts-noto-cjk" in result.output
        assert "zhizao db upgrade" in result.output

    def test_real_checks_report_something(self) -> None:
        for check in (cli_module.check_harfbuzz_subset(), cli_module.check_cjk_font()):
            assert check.detail
            assert check.ok or check.fix

    def test_a_cjk_font_other_than_noto_is_a_warning_with_its_fix(
        self, cli_env: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """It was an ok line saying reports may show Japanese glyph forms, its fix never shown."""
        monkeypatch.setattr(cli_module, "check_harfbuzz_subset", lambda: Check("hb", True, "x"))
        monkeypatch.setattr(report_system, "cjk_fonts", lambda: ("WenQuanYi Micro Hei",))
        result = invoke("doctor")
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        [warning] = [line for line in lines if line.startswith("WARN CJK font:")]
        assert "WenQuanYi Micro Hei" in warning
        assert lines[lines.index(warning) + 1] == "     fix: apt-get install fonts-noto-cjk"

    # --- the settings: rate-limit storage and what a production start warns of ----------------

    @pytest.fixture
    def machine_ready(self, cli_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        """This machine's PDF dependencies said present, so that the exit follows the settings."""
        monkeypatch.setattr(cli_module, "check_harfbuzz_subset", lambda: Check("hb", True, "x"))
        monkeypatch.setattr(cli_module, "check_cjk_font", lambda: Check("font", True, "Noto"))

    @staticmethod
    def _lines(output: str, start: str) -> list[str]:
        return [line for line in output.splitlines() if line.startswith(start)]

    def test_a_redis_that_answers_is_ok(
        self, machine_ready: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url = require_redis()
        monkeypatch.setenv("ZHIZAO_RATE_LIMIT_STORAGE_URI", url)
        result = invoke("doctor")
        assert result.exit_code == 0, result.output
        assert self._lines(result.output, "ok   rate-limit storage:") == [
            f"ok   rate-limit storage: {url} answered"
        ]

    def test_a_redis_that_does_not_answer_fails_naming_the_setting(
        self, machine_ready: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """doctor said nothing of the rate-limit storage: a Redis down left every API-key request
        uncounted and the deployment's health check green."""
        nobody = f"redis://:secret@127.0.0.1:{free_port()}/0"  # connection refused at once
        monkeypatch.setenv("ZHIZAO_RATE_LIMIT_STORAGE_URI", nobody)
        result = invoke("doctor")
        assert result.exit_code == 1, result.output
        [failed] = self._lines(result.output, "FAIL rate-limit storage:")
        assert "ZHIZAO_RATE_LIMIT_STORAGE_URI redis://:***@127.0.0.1:" in failed
        assert "ZHIZAO_REDIS_TIMEOUT_SECONDS (0.5 s)" in failed
        assert "secret" not in result.output

    def test_a_worker_is_not_unhealthy_for_the_apps_rate_limit_storage(
        self, machine_ready: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A worker's health check (docker-compose.yml) failed while Redis was down, although
        no worker counts rate limits; the app's check still fails."""
        monkeypatch.setenv("ZHIZAO_RATE_LIMIT_STORAGE_URI", f"redis://127.0.0.1:{free_port()}/0")
        result = invoke("doctor", "--worker")
        assert result.exit_code == 0, result.output
        assert not self._lines(result.output, "FAIL")
        assert "rate-limit storage" not in result.output
        assert self._lines(result.output, "ok   database:")
        assert invoke("doctor").exit_code == 1

    def test_in_process_counters_are_a_warning(
        self, machine_ready: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ZHIZAO_RATE_LIMIT_STORAGE_URI", "memory://")
        monkeypatch.setenv("ZHIZAO_API_RATE_LIMIT", "100/minute")
        monkeypatch.setenv("ZHIZAO_API_KEY_FAILURE_LIMIT", "30/minute")
        result = invoke("doctor")
        assert result.exit_code == 0, result.output
        [warning] = self._lines(result.output, "WARN rate-limit storage:")
        assert "N app processes allow N times ZHIZAO_API_RATE_LIMIT (100/minute) per key" in warning
        assert "N times ZHIZAO_API_KEY_FAILURE_LIMIT (30/minute) per client address" in warning

    def test_what_a_production_start_warns_of_is_reported(
        self,
        machine_ready: None,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A production start warned of settings that fit one process only (here: no SMTP
        server); doctor, which checks a deployment, said nothing of them."""
        monkeypatch.setenv("ZHIZAO_ENV", "production")
        monkeypatch.setenv("ZHIZAO_RATE_LIMIT_STORAGE_URI", require_redis())
        monkeypatch.delenv("ZHIZAO_SMTP_HOST", raising=False)
        result = invoke("doctor")
        assert result.exit_code == 0, result.output  # warned of, not failed
        reported = self._lines(result.output, "WARN production setting: ")
        assert len(reported) == 1
        assert "ZHIZAO_SMTP_HOST is empty in production" in reported[0]

        logger = logging.getLogger("zhizao.test-doctor")
        with caplog.at_level(logging.WARNING, logger=logger.name):
            warn_of_production_settings(Settings(), logger)
        logged = [r.getMessage() for r in caplog.records if r.name == logger.name]
        assert reported == [f"WARN production setting: {message}" for message in logged]

        monkeypatch.setenv("ZHIZAO_SMTP_HOST", "smtp.example.com")
        relayed = invoke("doctor")
        assert relayed.exit_code == 0, relayed.output
        assert self._lines(relayed.output, "WARN production setting: ") == []


class TestServe:
    def test_runs_uvicorn_on_the_app(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("ZHIZAO_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
        calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        import uvicorn

        monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
        result = invoke("serve", "--host", "0.0.0.0", "--port", "8123")
        assert result.exit_code == 0, result.output
        assert calls == [
            (
                ("app.main:app",),
                {
                    "host": "0.0.0.0",
                    "port": 8123,
                    "reload": False,
                    "log_level": "info",
                    "access_log": False,
                },
            )
        ]

    def test_app_main_builds_the_app_lazily(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        import app.main as main_module
        from app.kit.settings import get_settings

        monkeypatch.setenv("ZHIZAO_DATABASE_URL", f"sqlite:///{tmp_path / 'lazy.db'}")
        monkeypatch.delitem(main_module.__dict__, "app", raising=False)
        get_settings.cache_clear()
        try:
            built = main_module.app
            assert isinstance(built, FastAPI)
            assert main_module.app is built
        finally:
            main_module.__dict__.pop("app", None)
            get_settings.cache_clear()


@pytest.mark.parametrize(
    "command",
    [
        ["questionnaire", "validate"],
        ["score"],
        ["subsidies", "validate"],
        ["api-keys", "create"],
        ["worker"],
        ["aggregates", "verify"],
        ["verify-enterprise"],
    ],
)
def test_domain_commands_are_wired_in(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output


class TestWorker:
    def test_the_worker_logs_as_configured_with_one_line_per_report_render(
        self,
        cli_env: Settings,
        signed_in: TestClient,
        enterprise: Enterprise,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """``zhizao worker`` is its own process: it logs as ZHIZAO_LOG_LEVEL and ZHIZAO_LOG_JSON
        say (it used to leave logging unconfigured: nothing below WARNING, never JSON), and each
        PDF it renders is one line an operator (and tests/multi) can count."""
        result = submit_assessment(signed_in, enterprise, questionnaire(QUICK))
        monkeypatch.setenv("ZHIZAO_LOG_LEVEL", "INFO")
        monkeypatch.setenv("ZHIZAO_LOG_JSON", "true")
        root = logging.getLogger()
        saved, level = root.handlers[:], root.level
        try:
            ran = invoke("worker", "--once")
        finally:
            root.handlers[:] = saved
            root.setLevel(level)
        assert ran.exit_code == 0, ran.output
        records = [json.loads(line) for line in ran.output.splitlines() if line.startswith("{")]
        renders = sorted(
            record["event"]
            for record in records
            if record["logger"] == "zhizao.reports" and record["level"] == "info"
        )
        assessment = result["assessment_id"]
        assert renders == [
            f"report rendered: {assessment} en, stored",
            f"report rendered: {assessment} zh, stored",
        ]
