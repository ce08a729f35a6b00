"""API-key scopes. They narrow what an integrator's key may do; users are not scoped."""

from __future__ import annotations

from collections.abc import Callable

from app.kit.errors import Forbidden
from app.kit.guards import SignedIn
from app.kit.principal import Principal


def require_scope(scope: str) -> Callable[[Principal], Principal]:
    def check(principal: SignedIn) -> Principal:
        if principal.is_integrator and scope not in principal.scopes:
            raise Forbidden(
                f"This API key lacks the scope {scope!r} this operation needs.",
                title="Insufficient scope",
            )
        return principal

    return check
