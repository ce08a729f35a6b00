"""Who is asking: the one object every access decision reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["anonymous", "user", "api_client", "cli", "system"]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    #: The user's or API client's id; None for anonymous and system callers.
    id: uuid.UUID | None = None
    #: For users: "enterprise", "official" or "admin".
    role: str | None = None
    enterprise_id: uuid.UUID | None = None
    #: For enterprise users: "owner" or "member" of their firm.
    firm_role: str | None = None
    #: An official's district; None for a city-wide official.
    district_code: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    request_id: str | None = None
    #: Set for cookie sessions: unsafe requests must present this CSRF token.
    csrf_token: str | None = None

    @property
    def actor_id(self) -> str | None:
        return str(self.id) if self.id is not None else None

    @property
    def is_admin(self) -> bool:
        return (self.kind == "user" and self.role == "admin") or self.kind in ("cli", "system")

    @property
    def is_enterprise_user(self) -> bool:
        return self.kind == "user" and self.role == "enterprise"

    @property
    def is_firm_owner(self) -> bool:
        return self.is_enterprise_user and self.firm_role == "owner"

    @property
    def own_enterprise_id(self) -> uuid.UUID:
        """An enterprise user's own firm. Only for callers the ``EnterpriseUser`` guard let in
        (it admits only users with a firm); anyone else is a programming error."""
        if self.enterprise_id is None:
            raise AssertionError("own_enterprise_id of a principal without a firm")
        return self.enterprise_id

    @property
    def is_official(self) -> bool:
        return self.kind == "user" and self.role == "official"

    @property
    def is_integrator(self) -> bool:
        return self.kind == "api_client"

    @property
    def caller_key(self) -> str:
        """A stable name of the caller, e.g. for idempotency keys and rate limits."""
        return f"{self.kind}:{self.actor_id}"


ANONYMOUS = Principal(kind="anonymous")
CLI = Principal(kind="cli")
SYSTEM = Principal(kind="system")
