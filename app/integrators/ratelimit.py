"""Rate limits per API key, with the `limits` package, as a dependency of the API router.

Only requests that present an API key count (users are throttled elsewhere: login). The bucket is
named by a hash of the presented key, so each key has its own budget (the two live keys of a
rotation too) and nobody can spend another's budget without holding that key. The check needs
no database lookup and runs before authentication, which keeps it off the routes' declared
security in the OpenAPI document; a request over the limit is refused before anything else.
Storage is ``memory://`` by default (``make run``: one process). With several app replicas it must
be shared, ``RATE_LIMIT_STORAGE_URI=redis://host:6379/0`` (docker-compose.yml does): with
``memory://`` each process counts alone and N replicas allow N times the setting.

Policy when the shared storage fails (Redis down or slow past ``REDIS_TIMEOUT_SECONDS``): the
request is let through, uncounted, and the failure is logged and counted in
``zhizao_rate_limit_storage_errors_total``. A rate limit protects capacity; an outage of its
counter store must not turn every integrator call into an error (the same choice as Envoy's
rate-limit filter by default). Authentication and authorization still apply in full.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.auth.security import sha256_hex, split_api_key
from app.kit.errors import TooManyRequests
from app.kit.i18n import N_
from app.kit.settings import Settings, settings_of
from app.observability.metrics import RATE_LIMIT_STORAGE_ERRORS
from scoring import Phrase

logger = logging.getLogger("zhizao.ratelimit")
#: Namespaces the counters in a Redis shared with other services.
KEY_PREFIX = "zhizao:ratelimit"


class InProcessWindows(Storage, MovingWindowSupport):
    """``memory://``: this process's moving windows, counted in place.

    The same rule as the `limits` package's moving window on its own memory storage (at most N
    hits in any stretch of the limit's length; the window starts at its oldest hit), kept as a
    deque of hit times per bucket, trimmed when the bucket is read. That storage started a timer
    thread to expire entries whenever the previous timer had run (every 10 ms under steady
    traffic) and inserted each hit at the front of a list: together most of the cost of a cheap
    API call on one core (docs/benchmarks.md, "Endpoint speed"). Buckets idle past their window
    are dropped when the table grows, so memory follows the keys in use.
    """

    STORAGE_SCHEME = None  # made by storage_of, not registered for a URI scheme
    #: Buckets held before idle ones are swept (the threshold then follows the table's size).
    SWEEP_AT = 1024

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._clock = clock
        self._buckets: dict[str, tuple[int, deque[float]]] = {}
        self._lock = threading.Lock()
        self._sweep_at = self.SWEEP_AT

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._sweep_at:
                    self._sweep(now)
                bucket = self._buckets[key] = (expiry, deque())
            hits = self._trimmed(bucket, now)
            if len(hits) + amount > limit:
                return False
            hits.extend([now] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(start of the window: its oldest hit, hits in it), as the `limits` storages say."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            hits = self._trimmed(bucket, now) if bucket is not None else None
            return (hits[0], len(hits)) if hits else (now, 0)

    # The rest of a `limits` storage: only the moving window is counted here.
    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("in-process windows count the moving window only")

    def get(self, key: str) -> int:
        raise NotImplementedError("in-process windows count the moving window only")

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError("in-process windows count the moving window only")

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            count = len(self._buckets)
            self._buckets.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    @staticmethod
    def _trimmed(bucket: tuple[int, deque[float]], now: float) -> deque[float]:
        expiry, hits = bucket
        while hits and hits[0] <= now - expiry:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        for key in [k for k, bucket in self._buckets.items() if not self._trimmed(bucket, now)]:
            del self._buckets[key]
        self._sweep_at = max(self.SWEEP_AT, 2 * len(self._buckets))


def storage_of(settings: Settings) -> Storage:
    """The counters' storage; errors are wrapped as ``StorageError`` (one type to catch), and a
    Redis client waits at most ``REDIS_TIMEOUT_SECONDS`` for a connection or an answer."""
    uri = settings.RATE_LIMIT_STORAGE_URI
    if uri == "memory://":
        return InProcessWindows()
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        timeout = settings.REDIS_TIMEOUT_SECONDS
        storage = storage_from_string(
            uri,
            wrap_exceptions=True,
            key_prefix=KEY_PREFIX,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
    else:
        storage = storage_from_string(uri, wrap_exceptions=True)
    if not isinstance(storage, Storage):  # an async:// URI: the limiter here is synchronous
        raise ValueError(f"RATE_LIMIT_STORAGE_URI {uri!r} names an asynchronous storage")
    return storage


#: How a limit is said, by the unit of its window: (a window of one unit, of several). The
#: `limits` package's own text ("600 per 1 minute") is English whatever the request's language.
WINDOWS = {
    "second": (N_("%(amount)s per second"), N_("%(amount)s per %(multiples)s seconds")),
    "minute": (N_("%(amount)s per minute"), N_("%(amount)s per %(multiples)s minutes")),
    "hour": (N_("%(amount)s per hour"), N_("%(amount)s per %(multiples)s hours")),
    "day": (N_("%(amount)s per day"), N_("%(amount)s per %(multiples)s days")),
    "month": (N_("%(amount)s per month"), N_("%(amount)s per %(multiples)s months")),
    "year": (N_("%(amount)s per year"), N_("%(amount)s per %(multiples)s years")),
}


def said(item: RateLimitItem) -> Phrase:
    """``item`` (600/minute) in words a problem says in the request's language."""
    one, several = WINDOWS[item.GRANULARITY.name]
    template = one if item.multiples == 1 else several
    return Phrase(template, amount=item.amount, multiples=item.multiples)


def counted_per_process(settings: Settings) -> bool:
    """Whether each process keeps counters of its own (``memory://``): then N app processes
    allow N times ``API_RATE_LIMIT`` (a production start warns: ``app.startup``)."""
    return settings.RATE_LIMIT_STORAGE_URI.partition("://")[0].lower() == "memory"


class KeyRateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.items: list[RateLimitItem] = parse_many(settings.API_RATE_LIMIT)
        storage = storage_of(settings)
        self.limiter = MovingWindowRateLimiter(storage)
        #: Counting talks to a server (Redis): in the thread pool, not on the event loop.
        self.blocking = not isinstance(storage, InProcessWindows)

    def hit(self, bucket: str) -> tuple[RateLimitItem, int] | None:
        """Count one request; returns the tightest limit and what remains of it, or raises 429.
        None when the storage failed: the request goes through uncounted (the module's policy)."""
        try:
            return self._hit(bucket)
        except StorageError as error:
            RATE_LIMIT_STORAGE_ERRORS.inc()
            logger.warning(
                "rate-limit storage failed, request not counted: %s", error.storage_error
            )
            return None

    def _hit(self, bucket: str) -> tuple[RateLimitItem, int]:
        for item in self.items:
            if not self.limiter.hit(item, "api_key", bucket):
                reset = self.limiter.get_window_stats(item, "api_key", bucket).reset_time
                retry_after = max(1, math.ceil(reset - time.time()))
                raise TooManyRequests(
                    "Rate limit of %(limit)s for this API key exceeded; retry in %(seconds)s s.",
                    limit=said(item),
                    seconds=retry_after,
                    retry_after=retry_after,
                    headers={
                        "Retry-After": str(retry_after),
                        **{k.decode(): v.decode() for k, v in _headers(item.amount, 0)},
                    },
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


async def rate_limit(request: Request) -> None:
    """Async: with the in-process counters (``memory://``) a request is counted on the event
    loop, saving a trip through the thread pool on every API call; a shared storage's network
    round trip goes through the thread pool."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or split_api_key(presented) is None:
        return  # no API key: not counted here (a malformed one fails authentication)
    limiter = _limiter(request)
    bucket = sha256_hex(presented)[:32]
    counted = (
        await run_in_threadpool(limiter.hit, bucket) if limiter.blocking else limiter.hit(bucket)
    )
    if counted is None:
        return
    item, remaining = counted
    # Sent by the request middleware (``app.main``) on whatever answers the request: a route
    # that returns its own Response, or an error answer, drops headers set on the dependency's.
    request.state.rate_limit_headers = _headers(item.amount, remaining)


def _headers(limit: int, remaining: int) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"x-ratelimit-limit", str(limit).encode()),
        (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
    )
