"""What the audit trail can be narrowed to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.kit.schemas import in_utc


@dataclass(frozen=True)
class AuditFilter:
    """What the trail is narrowed to; ``None`` leaves a field unfiltered.

    ``action`` is an action, or a prefix ending in "." ("assessment." matches every assessment
    action). A moment without a time zone is taken as UTC.
    """

    action: str | None = None
    actor_type: str | None = None
    actor_id: str | None = None
    enterprise_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment: datetime | None = getattr(self, name)
            if moment is not None:
                object.__setattr__(self, name, in_utc(moment))
