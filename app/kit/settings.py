"""Service settings, read from the environment (prefix ``ZHIZAO_``) and an optional ``.env``."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: The placeholder secret a development checkout runs with; refused in every other environment.
DEVELOPMENT_SECRET = "zhizao-development-secret-change-me"


class Environment(StrEnum):
    development = "development"
    testing = "testing"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZHIZAO_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        secrets_dir=None,
    )

    ENV: Environment = Environment.development
    DATABASE_URL: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'zhizao.db'}"
    SECRET_KEY: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    #: Bounded waits on the database (app.kit.db): opening a connection, waiting for a pooled
    #: one, and one statement (PostgreSQL's statement_timeout). Requests
    #: and the worker use DB_STATEMENT_TIMEOUT_SECONDS; CLI commands (imports, purges,
    #: re-encryption) the longer DB_CLI_STATEMENT_TIMEOUT_SECONDS (0: no limit).
    DB_CONNECT_TIMEOUT_SECONDS: int = Field(default=5, ge=2)
    DB_POOL_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)
    DB_STATEMENT_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0)
    DB_CLI_STATEMENT_TIMEOUT_SECONDS: float = Field(default=3600.0, ge=0)
    #: SQLite only: how long a writer waits for the one write lock (its busy timeout). Writers
    #: queue behind each other, so this bounds a queue, not one statement.
    DB_SQLITE_LOCK_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0)
    #: Earlier SECRET_KEYs (a JSON list) whose sealed webhook secrets are still opened, until
    #: ``zhizao secrets rotate`` has re-sealed them under SECRET_KEY.
    OLD_SECRET_KEYS: list[SecretStr] = Field(default_factory=list)
    QUESTIONNAIRES_DIR: Path = PROJECT_ROOT / "questionnaires"
    SUBSIDIES_DIR: Path = PROJECT_ROOT / "subsidies"
    TEMPLATES_DIR: Path = PROJECT_ROOT / "templates"
    STATIC_DIR: Path = PROJECT_ROOT / "app" / "static"
    #: Session cookie lifetime without activity, and regardless of activity.
    SESSION_IDLE_MINUTES: int = Field(default=60, ge=1)
    SESSION_ABSOLUTE_HOURS: int = Field(default=12, ge=1)
    #: Throttling of sign-in, /claim and /password/forgot (app/accounts/throttle.py): attempts
    #: free within LOGIN_THROTTLE_WINDOW_SECONDS per account from one address, per address, and
    #: over everyone; past them each further attempt waits BASE × 2^k seconds (at most MAX).
    LOGIN_MAX_FAILURES: int = Field(default=5, ge=1)
    LOGIN_ADDRESS_MAX_FAILURES: int = Field(default=20, ge=1)
    LOGIN_GLOBAL_MAX_FAILURES: int = Field(default=1000, ge=1)
    LOGIN_THROTTLE_WINDOW_SECONDS: int = Field(default=900, ge=1)
    LOGIN_BACKOFF_BASE_SECONDS: float = Field(default=1.0, gt=0)
    LOGIN_BACKOFF_MAX_SECONDS: float = Field(default=900.0, gt=0)
    #: Smallest number of verified enterprises a published heatmap cell may be built from.
    HEATMAP_MIN_CELL: int = Field(default=5, ge=2)
    #: The daily time (HH:MM, China Standard Time) the worker publishes the heatmaps; officials
    #: see only the latest publication (docs/heatmaps.md).
    HEATMAP_PUBLISH_AT: str = Field(default="02:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    #: Prefix of API keys issued here, e.g. ``zk_live`` in production and ``zk_test`` elsewhere.
    API_KEY_PREFIX: str | None = None
    #: Largest accepted request body in bytes.
    MAX_BODY_BYTES: int = Field(default=1_048_576, ge=1024)
    #: Days an enterprise's contact persons are kept (PIPL); ``zhizao privacy purge`` deletes
    #: contacts past it.
    CONTACT_RETENTION_DAYS: int = Field(default=730, ge=1)
    #: The daily time (HH:MM, China Standard Time) the worker runs that purge.
    PRIVACY_PURGE_AT: str = Field(default="03:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # --- integrator API (app/integrators) ---
    #: Requests allowed per API key, in `limits` notation ("600/minute", "20/second;600/minute").
    API_RATE_LIMIT: str = "600/minute"
    #: Failed API-key authentications allowed per client address, in `limits` notation (a moving
    #: window: "20/minute" is 20 in any minute). Past them, a request from that address whose key
    #: did not authenticate within the last day is refused (429) before the key is looked up;
    #: keys in use still work (app/integrators/ratelimit.py).
    API_KEY_FAILURE_LIMIT: str = "20/minute"
    #: Where rate-limit counters live: ``memory://`` (per process: ``make run``) or, with more
    #: than one app process, a shared Redis, e.g. ``redis://redis:6379/0`` (docs/deployment.md);
    #: a production start with ``memory://`` warns (app/startup.py).
    RATE_LIMIT_STORAGE_URI: str = "memory://"
    #: Longest wait for Redis (connecting, or one command); past it the request is not counted.
    REDIS_TIMEOUT_SECONDS: float = Field(default=0.5, gt=0)
    #: The background worker (webhook deliveries and the mail outbox): ``embedded`` (a thread in
    #: the web process), ``off`` (run ``zhizao worker`` instead) or ``auto`` (embedded on SQLite,
    #: off on PostgreSQL).
    WEBHOOK_WORKER: Literal["auto", "embedded", "off"] = "auto"
    WEBHOOK_POLL_SECONDS: float = Field(default=2.0, gt=0)
    #: How long a worker may run one period of a periodic job (heatmap publication, retention
    #: purge) before another worker takes it over (app/kit/schedule.py): longer than the
    #: longest run, since a run past it is rolled back.
    PERIODIC_LEASE_SECONDS: float = Field(default=1800.0, gt=0)
    WEBHOOK_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0)
    #: A claimed delivery stays leased to its worker for one send (2 × WEBHOOK_TIMEOUT_SECONDS)
    #: plus this margin (database writes, clocks of several machines); a killed worker's rows
    #: are sent by another worker once the lease runs out (app/integrators/worker.py).
    WEBHOOK_LEASE_MARGIN_SECONDS: float = Field(default=30.0, gt=0)
    #: Retries back off exponentially from BASE to MAX seconds (with jitter), at most MAX_ATTEMPTS.
    WEBHOOK_BACKOFF_BASE_SECONDS: float = Field(default=30.0, gt=0)
    WEBHOOK_BACKOFF_MAX_SECONDS: float = Field(default=6 * 3600.0, gt=0)
    WEBHOOK_MAX_ATTEMPTS: int = Field(default=20, ge=1)
    #: An endpoint failing without a single success for this long is disabled.
    WEBHOOK_DISABLE_AFTER_HOURS: float = Field(default=24.0, gt=0)
    #: Plain http:// endpoints (never in production) and loopback receivers (tests only).
    WEBHOOK_ALLOW_HTTP: bool = False
    WEBHOOK_ALLOW_LOOPBACK: bool = False
    # --- e-mail (app/mail) ---
    #: The service's address as users reach it: links in e-mails (invitations, password resets)
    #: start with it. Never taken from a request's Host header (reset-link poisoning).
    PUBLIC_URL: str = "http://127.0.0.1:8000"
    #: SMTP server the worker delivers the mail outbox to; empty: messages are written to the
    #: log instead (development), and a production start warns (app/startup.py).
    SMTP_HOST: str = ""
    SMTP_PORT: int = Field(default=587, ge=1, le=65535)
    #: ``starttls`` (upgrade on the submission port), ``tls`` (implicit TLS, port 465) or
    #: ``none`` (plain; a local relay or a test server only).
    SMTP_TLS: Literal["starttls", "tls", "none"] = "starttls"
    SMTP_USER: str = ""
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0)
    #: The From header of every message.
    MAIL_SENDER: str = "zhizao 智造 <no-reply@zhizao.local>"
    #: Attempts per message before it is marked failed (backoff doubles from one minute).
    MAIL_MAX_ATTEMPTS: int = Field(default=8, ge=1)
    # --- accounts (app/accounts) ---
    #: Hours an invitation link (a colleague's, or the owner's from an integrator) stays valid.
    INVITATION_TTL_HOURS: int = Field(default=168, ge=1)
    #: Minutes a password-reset link stays valid.
    PASSWORD_RESET_TTL_MINUTES: int = Field(default=60, ge=5)
    # --- PDF reports (app/reports) ---
    #: PDF renders running at once (each is CPU-bound and holds ~100 MB while it runs).
    REPORT_RENDER_CONCURRENCY: int = Field(default=2, ge=1, le=32)
    #: Background renders of a submitted report (the worker's job) tried before it gives up;
    #: a report whose job failed is still rendered when it is first asked for.
    REPORT_JOB_MAX_ATTEMPTS: int = Field(default=3, ge=1)
    LOG_LEVEL: str = "INFO"
    #: JSON log lines (production); plain text lines are easier to read in a terminal.
    LOG_JSON: bool = True
    #: Lets a Prometheus scraper read /metrics with ``Authorization: Bearer <token>``.
    METRICS_TOKEN: SecretStr | None = None

    @field_validator("API_RATE_LIMIT", "API_KEY_FAILURE_LIMIT")
    @classmethod
    def _rate_limits_parse(cls, value: str) -> str:
        """Refused at start: a limit the rate limiter cannot parse failed every request that
        carries an API key (a 500)."""
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate limit in `limits` notation, e.g. 600/minute or "
                "20/second;600/minute"
            ) from None
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> Settings:
        if (
            self.ENV != Environment.development
            and self.SECRET_KEY.get_secret_value() == DEVELOPMENT_SECRET
        ):
            raise ValueError(
                "ZHIZAO_SECRET_KEY must be set to a random value outside development "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.ENV == Environment.development

    @property
    def api_key_prefix(self) -> str:
        if self.API_KEY_PREFIX:
            return self.API_KEY_PREFIX
        return "zk_live" if self.ENV == Environment.production else "zk_test"


@lru_cache
def get_settings() -> Settings:
    """The process's settings (the served app, ``uvicorn app.main:app``)."""
    return Settings()


def settings_of(request: Request) -> Settings:
    """The settings of the app serving ``request`` (tests run apps with other settings)."""
    settings: Settings = request.app.state.settings
    return settings


#: The one way a route gets the settings.
SettingsDep = Annotated[Settings, Depends(settings_of)]
