"""The composition's event wiring (app/hooks.py) and the hub's refusal to run unwired."""

from __future__ import annotations

import uuid

import pytest

from app import hooks
from app.kit.events import (
    AssessmentSubmitted,
    EnterpriseChanged,
    EnterpriseDeleted,
    EnterpriseRevised,
    EnterpriseVerified,
    EventHub,
    NotWired,
)


def test_every_event_has_its_subscribers() -> None:
    hub = hooks.install(EventHub())
    assert [s.__name__ for s in hub.subscribers(AssessmentSubmitted)] == [
        "_heatmaps_count_submission",
        "_integrators_announce_submission",
        "_reports_render_ahead",
    ]
    for event_type in (EnterpriseVerified, EnterpriseChanged):
        assert len(hub.subscribers(event_type)) == 1, event_type.name
    assert [s.__name__ for s in hub.subscribers(EnterpriseDeleted)] == [
        "_heatmaps_withdraw",
        "_integrators_announce_deletion",
    ]
    assert [s.__name__ for s in hub.subscribers(EnterpriseRevised)] == [
        "_reports_refresh_the_firms"
    ]


def test_install_is_idempotent() -> None:
    hub = hooks.install(EventHub())
    hooks.install(hub)
    assert len(hub.subscribers(AssessmentSubmitted)) == 3


def test_publishing_before_wiring_is_refused() -> None:
    """A change that silently skipped its upkeep would leave the aggregates wrong."""
    hub = EventHub()
    with pytest.raises(NotWired, match="enterprise.deleted"):
        hub.publish(None, EnterpriseDeleted(uuid.uuid4(), verified=True))  # type: ignore[arg-type]


def test_subscribers_run_in_order_with_the_publishers_session() -> None:
    hub = EventHub()
    seen: list[tuple[str, object]] = []
    hub.subscribe(EnterpriseDeleted, lambda session, e: seen.append(("first", session)))
    hub.subscribe(EnterpriseDeleted, lambda session, e: seen.append(("second", session)))
    hub.wired = True
    marker = object()
    hub.publish(marker, EnterpriseDeleted(uuid.uuid4(), verified=False))  # type: ignore[arg-type]
    assert seen == [("first", marker), ("second", marker)]
