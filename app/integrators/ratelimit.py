"""Rate limits per API key, with the `limits` package, as a dependency of the API router.

Only requests that present an API key count (users are throttled elsewhere: login). The bucket is
named by a hash of the presented key, so each key has its own budget (the two live keys of a
rotation too) and nobody can spend another's budget without holding that key. The check needs
no database lookup and runs before authentication, which keeps it off the routes' declared
security in the OpenAPI document; a request over the limit is refused before anything else.
Storage is ``memory://`` by default: each process counts alone, so with N server processes the
effective limit is N times the setting; point RATE_LIMIT_STORAGE_URI at Redis to share it.
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import Request, Response
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.auth.security import sha256_hex, split_api_key
from app.kit.errors import TooManyRequests
from app.kit.settings import Settings, settings_of


class KeyRateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.items: list[RateLimitItem] = parse_many(settings.API_RATE_LIMIT)
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.RATE_LIMIT_STORAGE_URI))

    def hit(self, bucket: str) -> tuple[RateLimitItem, int]:
        """Count one request; returns the tightest limit and what remains of it, or raises 429."""
        for item in self.items:
            if not self.limiter.hit(item, "api_key", bucket):
                reset = self.limiter.get_window_stats(item, "api_key", bucket).reset_time
                retry_after = max(1, math.ceil(reset - time.time()))
                raise TooManyRequests(
                    f"Rate limit of {item} for this API key exceeded; retry in {retry_after} s.",
                    retry_after=retry_after,
                )
        tightest = min(
            (
                (item, self.limiter.get_window_stats(item, "api_key", bucket).remaining)
                for item in self.items
            ),
            key=lambda pair: pair[1],
        )
        return tightest


_CREATE_LOCK = threading.Lock()


def _limiter(request: Request) -> KeyRateLimiter:
    """The app's limiter (one per app, so that tests' apps do not share counters)."""
    limiter: KeyRateLimiter | None = getattr(request.app.state, "key_rate_limiter", None)
    if limiter is None:
        with _CREATE_LOCK:
            limiter = getattr(request.app.state, "key_rate_limiter", None)
            if limiter is None:
                limiter = KeyRateLimiter(settings_of(request))
                request.app.state.key_rate_limiter = limiter
    return limiter


def rate_limit(request: Request, response: Response) -> None:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or split_api_key(presented) is None:
        return  # no API key: not counted here (a malformed one fails authentication)
    item, remaining = _limiter(request).hit(sha256_hex(presented)[:32])
    response.headers["X-RateLimit-Limit"] = str(item.amount)
    response.headers["X-RateLimit-Remaining"] = str(max(0, remaining))
