"""In-transaction events: a domain says what changed; the subscribers run at once, in the same
session and transaction, so they commit or roll back with the change itself.

This is how a domain lets others keep derived data exact without importing them: the heatmap
sums and the integrators' gap-free feed and webhook outbox must move in the very transaction of
a submission, or a crash between two commits would leave them wrong. The publisher knows nothing
of its subscribers; the composition layer (``app/hooks.py``) wires them, and it is the only place
that knows who reacts to what.

The events (``name`` is what the architecture notes and logs call them):

==========================  ===============================================  ==================
event                       published by, when                               subscribers
==========================  ===============================================  ==================
``assessment.submitted``    assessments, after the result row is stored       heatmap upkeep;
                                                                             integrator feed
                                                                             and webhooks;
                                                                             report render jobs
``enterprise.verified``     verification, after ``verified`` changed          heatmap upkeep
                            (either way)
``enterprise.changed``      enterprises, after district, industry or size     heatmap upkeep
                            class changed
``enterprise.deleted``      enterprises, before the firm's rows are deleted   heatmap upkeep;
                                                                             integrators'
                                                                             grant.revoked
``enterprise.revised``      enterprises, after its profile changed            report render jobs
                            (``revision`` went up)
==========================  ===============================================  ==================

Subscribers must not commit, and should be quick: they run inside the publisher's transaction.
Publishing before the hub is wired is a programming error (a change that silently skipped its
upkeep would leave the aggregates wrong), so :meth:`EventHub.publish` refuses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from sqlalchemy.orm import Session

from app.models import Assessment, Enterprise, Result


@dataclass(frozen=True, slots=True)
class AssessmentSubmitted:
    name: ClassVar[str] = "assessment.submitted"
    enterprise: Enterprise
    assessment: Assessment
    result: Result


@dataclass(frozen=True, slots=True)
class EnterpriseVerified:
    """The firm's ``verified`` flag changed; ``was_verified`` is what it was before."""

    name: ClassVar[str] = "enterprise.verified"
    enterprise: Enterprise
    was_verified: bool


@dataclass(frozen=True, slots=True)
class EnterpriseChanged:
    """The firm's district, industry or size class changed (the heatmap cells it counts in)."""

    name: ClassVar[str] = "enterprise.changed"
    enterprise: Enterprise


@dataclass(frozen=True, slots=True)
class EnterpriseRevised:
    """What the firm's reports print of its profile changed (``Enterprise.in_reports``): its
    ``revision`` went up, and every PDF stored of it is stale."""

    name: ClassVar[str] = "enterprise.revised"
    enterprise: Enterprise


@dataclass(frozen=True, slots=True)
class EnterpriseDeleted:
    """The firm is about to be deleted; ``verified`` is whether it counted in the aggregates."""

    name: ClassVar[str] = "enterprise.deleted"
    enterprise_id: uuid.UUID
    verified: bool


Event = (
    AssessmentSubmitted
    | EnterpriseVerified
    | EnterpriseChanged
    | EnterpriseDeleted
    | EnterpriseRevised
)
E = TypeVar(
    "E",
    AssessmentSubmitted,
    EnterpriseVerified,
    EnterpriseChanged,
    EnterpriseDeleted,
    EnterpriseRevised,
)
Subscriber = Callable[[Session, E], None]


class NotWired(RuntimeError):
    """An event was published before ``app.hooks.install()`` wired the subscribers."""


class EventHub:
    """Subscribers per event type, called synchronously in subscription order."""

    def __init__(self) -> None:
        self._subscribers: dict[type[Any], list[Callable[[Session, Any], None]]] = {}
        self.wired = False

    def subscribe(self, event_type: type[E], subscriber: Subscriber[E]) -> None:
        self._subscribers.setdefault(event_type, []).append(subscriber)

    def subscribers(self, event_type: type[Any]) -> list[Callable[[Session, Any], None]]:
        return list(self._subscribers.get(event_type, []))

    def publish(self, session: Session, event: Event) -> None:
        if not self.wired:
            raise NotWired(
                f"{event.name} published before the subscribers were wired: "
                "call app.hooks.install() first (the app factory and the CLI do)"
            )
        for subscriber in self._subscribers.get(type(event), []):
            subscriber(session, event)


#: The process's hub; ``app.hooks.install()`` wires it once.
hub = EventHub()


def publish(session: Session, event: Event) -> None:
    """Run every subscriber of ``event`` now, in ``session``'s transaction."""
    hub.publish(session, event)
