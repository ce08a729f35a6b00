"""What the service does once at start-up: load the catalogues and pin published versions."""

from __future__ import annotations

import gc
import logging
import time

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError

from app.integrators.ratelimit import counted_per_process
from app.kit.db import Database
from app.kit.settings import Environment, Settings
from app.questionnaires.catalog import QuestionnaireCatalog
from app.subsidies.catalog import SubsidyCatalog


def on_startup(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    database: Database = app.state.database
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    _record_published(database, catalog)
    app.state.questionnaires = catalog
    app.state.subsidies = SubsidyCatalog.from_directory(settings.SUBSIDIES_DIR, catalog)
    from app.worker import start_embedded

    start_embedded(app)  # webhooks and mail (SQLite default; `zhizao worker` otherwise)
    from app.reports.system import warn_if_missing

    warn_if_missing(logging.getLogger("zhizao"))  # PDF reports: libharfbuzz-subset0, CJK font
    warn_of_production_settings(settings, logging.getLogger("zhizao"))
    if settings.ENV != Environment.testing:
        set_aside_start_up_objects()


def warn_of_production_settings(settings: Settings, logger: logging.Logger) -> None:
    """Log each of ``production_warnings`` (``zhizao doctor`` reports the same ones)."""
    for warning in production_warnings(settings):
        logger.warning("%s", warning)


def production_warnings(settings: Settings) -> list[str]:
    """In production, one warning for each setting that works on one process but not as a
    service (none in another environment):

    - rate-limit counters in process memory (``memory://``): every app process counts alone, so
      N replicas allow N times ``API_RATE_LIMIT`` per key and N times ``API_KEY_FAILURE_LIMIT``
      (failed API-key authentications) per client address (``ratelimit.counted_per_process``);
    - no SMTP server: invitations and password resets are logged, never sent.

    Warned, not refused (as ``Settings`` refuses the development secret, wrong everywhere):
    in-process counters are right for a production service of one process, which the app cannot
    tell from a replica of several, and a service may run without mail before it has a relay.
    Each warning says how to fix it; docs/deployment.md lists them."""
    if settings.ENV != Environment.production:
        return []
    warnings = []
    if counted_per_process(settings):
        warnings.append(
            f"ZHIZAO_RATE_LIMIT_STORAGE_URI is {settings.RATE_LIMIT_STORAGE_URI} in production: "
            "each app process counts API-key rate limits and failed API-key authentications "
            "alone, so N processes allow N times "
            f"ZHIZAO_API_RATE_LIMIT ({settings.API_RATE_LIMIT}) per key and N times "
            f"ZHIZAO_API_KEY_FAILURE_LIMIT ({settings.API_KEY_FAILURE_LIMIT}) per client "
            "address. With more than one process set a shared Redis, e.g. redis://redis:6379/0 "
            "(docs/deployment.md)."
        )
    if not settings.SMTP_HOST:
        warnings.append(
            "ZHIZAO_SMTP_HOST is empty in production: e-mails (invitations, password resets) "
            "are written to the log without their body, and never sent. Set ZHIZAO_SMTP_HOST "
            "to a relay (docs/deployment.md)."
        )
    return warnings


def set_aside_start_up_objects() -> None:
    """Keep what start-up made out of the cyclic garbage collector's passes (``gc.freeze``).

    The rule: once at start-up, after a collection (start-up's own garbage is freed, not kept),
    every object then alive is moved to the permanent generation, which no collection walks.
    They are the modules, the catalogues, the compiled templates and the OpenAPI document
    (~280,000 objects) and live as long as the process anyway. A full collection walked all of
    them, ~0.15 s on one core during which no request moved: the slowest 1 % of requests under
    load (docs/benchmarks.md). Not in tests (``ENV=testing``): a test process starts an app per
    test, and would keep every earlier app's cycles for good."""
    gc.collect()
    gc.freeze()


def _record_published(database: Database, catalog: QuestionnaireCatalog, attempts: int = 5) -> None:
    """Pin the served questionnaire versions. Server workers start together: another one may
    insert the same rows (IntegrityError) or hold the SQLite write lock (OperationalError) at
    that moment, so try again, checking against what it recorded."""
    for attempt in range(attempts):
        try:
            with database.sessions() as session, session.begin():
                catalog.record_published(session)
            return
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def on_shutdown(app: FastAPI) -> None:
    from app.worker import stop_embedded

    stop_embedded(app)
    renderer = getattr(app.state, "report_renderer", None)
    if renderer is not None:
        renderer.close()
        # A closed pool refuses work: an app started again (a second lifespan, as test clients
        # do) makes a new renderer on its first report instead of reusing this one.
        app.state.report_renderer = None
