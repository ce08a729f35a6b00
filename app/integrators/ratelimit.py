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

Failed keys (key guessing). The budget above is per presented key, so a caller sending a new
wrong key each time would never be counted, and each such request costs a database lookup. So
failed authentications of well-formed API keys are also counted per client address (the address
the sign-in throttle uses: ``app.kit.guards.client_address``, the real client's behind a proxy
trusted with uvicorn's ``--forwarded-allow-ips``; stored as a keyed hash), in the same
storage, where authentication looks the key up (``app.auth.service``, through ``FailedKeys``:
pages read a key too). ``API_KEY_FAILURE_LIMIT`` failures are free in any window of its length
(a moving window; "20/minute" by default). Past them, a request from that address is answered 429
with Retry-After *before* its key is looked up, unless its key is known good: it authenticated,
from any address, within the last day (``KNOWN_GOOD``). The rule (fail fast on whoever keeps
failing, never lock out a credential that works):

- an address under attack does not lock out a working key behind it (a NAT, a shared proxy):
  a key in use keeps authenticating, since only keys that are not known good are gated;
- a key's first use from such an address (a newly issued key, a key idle for a day) waits
  until the address is back within its budget: at most one window after the failures stop;
- only failures count, and a refused request is not one (as in the sign-in throttle), so an
  address gets at most the budget's lookups of unknown keys per window; a success does not
  forgive the address's failures (else one valid key would reset a guesser's budget);
- malformed keys are refused (401) without a lookup and are not counted.

A key is marked known good in the storage (shared by replicas with Redis), and each process
remembers the keys it saw succeed, so a key in use costs no storage call beyond its own limit's:
the success path adds a dictionary lookup, no database query and, with ``memory://``, no trip
through the thread pool (authentication already runs in it). A key that fails (revoked since)
loses its mark. The storage failure policy is the same: the request is let through (and looked
up), counted and logged once per request; ``rate_limit`` remembers that the storage failed, so
authentication does not wait for it again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from limits import RateLimitItem, RateLimitItemPerDay, parse_many
from limits.errors import StorageError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.auth.security import derive_key, keyed_hash, sha256_hex, split_api_key
from app.kit.errors import TooManyRequests
from app.kit.guards import client_address
from app.kit.i18n import N_
from app.kit.settings import Settings, settings_of
from app.observability.metrics import RATE_LIMIT_STORAGE_ERRORS
from scoring import Phrase

logger = logging.getLogger("zhizao.ratelimit")
#: Namespaces the counters in a Redis shared with other services.
KEY_PREFIX = "zhizao:ratelimit"
#: A key that authenticated stays known good for a day after its latest mark: a moving window of
#: marks (each process marks a key it sees succeed at most twice a day, so 1024 marks fill it
#: only with 512 processes, and a full window still says "known good").
KNOWN_GOOD = RateLimitItemPerDay(1024)


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
    allow N times ``API_RATE_LIMIT`` per key and N times ``API_KEY_FAILURE_LIMIT`` per client
    address (a production start warns: ``app.startup``)."""
    return settings.RATE_LIMIT_STORAGE_URI.partition("://")[0].lower() == "memory"


def key_bucket(presented: str) -> str:
    """Where a presented API key is counted: a hash of the whole key (a guess of another's
    secret is counted apart from that key), never the key itself."""
    return sha256_hex(presented)[:32]


class KeyRateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.items: list[RateLimitItem] = parse_many(settings.API_RATE_LIMIT)
        self.failure_items: list[RateLimitItem] = parse_many(settings.API_KEY_FAILURE_LIMIT)
        storage = storage_of(settings)
        self.limiter = MovingWindowRateLimiter(storage)
        #: Counting talks to a server (Redis): in the thread pool, not on the event loop.
        self.blocking = not isinstance(storage, InProcessWindows)
        self._address_key = derive_key(settings.SECRET_KEY.get_secret_value(), "ratelimit")
        #: Keys this process saw marked good: bucket -> a time at or before the key's latest
        #: mark in the storage (so the mark lasts at least ``KNOWN_GOOD``'s window past it).
        self._known_good: dict[str, float] = {}
        self._known_good_lock = threading.Lock()

    def hit(self, bucket: str) -> tuple[RateLimitItem, int] | None:
        """Count one request; returns the tightest limit and what remains of it, or raises 429.
        None when the storage failed: the request goes through uncounted (the module's policy)."""
        try:
            return self._hit(bucket)
        except StorageError as error:
            _storage_failed(error)
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

    # --- failed keys per client address (the module's second rule) ---

    def admit(self, request: Request, bucket: str) -> None:
        """Before the key is looked up: 429 when the request's address is past its failure
        budget and the key is not known good."""
        if self._known_locally(bucket, KNOWN_GOOD.get_expiry()) or _storage_down(request):
            return
        address = self._address(request)
        try:
            windows = [
                (item, self.limiter.get_window_stats(item, "api_key_failures", address))
                for item in self.failure_items
            ]
            spent = [(item, stats) for item, stats in windows if stats.remaining <= 0]
            if not spent:
                return
            marks = self.limiter.get_window_stats(KNOWN_GOOD, "api_key_good", bucket)
        except StorageError as error:
            _storage_failed(error, request)
            return
        if marks.remaining < KNOWN_GOOD.amount:  # marked by another process
            self._remember(bucket, marks.reset_time - KNOWN_GOOD.get_expiry())
            return
        item, stats = max(spent, key=lambda pair: pair[1].reset_time)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        # The presented key's own budget (``rate_limit``) is not what refuses: not sent.
        request.state.rate_limit_headers = ()
        raise TooManyRequests(
            "Too many failed API-key authentications from this address (at most %(limit)s); "
            "retry in %(seconds)s s.",
            limit=said(item),
            seconds=retry_after,
            retry_after=retry_after,
        )

    def failed(self, request: Request, bucket: str) -> None:
        """The key did not authenticate: one failure of the address; the key is no longer
        known good (revoked since it was marked)."""
        with self._known_good_lock:
            self._known_good.pop(bucket, None)
        if _storage_down(request):
            return
        address = self._address(request)
        try:
            for item in self.failure_items:
                self.limiter.hit(item, "api_key_failures", address)
            self.limiter.clear(KNOWN_GOOD, "api_key_good", bucket)
        except StorageError as error:
            _storage_failed(error, request)

    def succeeded(self, request: Request, bucket: str) -> None:
        """The key authenticated: marked known good, again once half its mark's day is past."""
        if self._known_locally(bucket, KNOWN_GOOD.get_expiry() / 2) or _storage_down(request):
            return
        now = time.time()
        try:
            self.limiter.hit(KNOWN_GOOD, "api_key_good", bucket)
        except StorageError as error:
            _storage_failed(error, request)
            return  # not remembered either: the next success marks it
        self._remember(bucket, now)

    def _known_locally(self, bucket: str, within: float) -> bool:
        marked = self._known_good.get(bucket)
        return marked is not None and time.time() - marked < within

    def _remember(self, bucket: str, marked: float) -> None:
        with self._known_good_lock:
            if len(self._known_good) >= InProcessWindows.SWEEP_AT:
                stale = time.time() - KNOWN_GOOD.get_expiry()
                self._known_good = {b: t for b, t in self._known_good.items() if t > stale}
            self._known_good[bucket] = max(marked, self._known_good.get(bucket, marked))

    def _address(self, request: Request) -> str:
        return keyed_hash(self._address_key, "ip:" + client_address(request))[:32]


def _storage_down(request: Request) -> bool:
    """The storage already failed on this request (``rate_limit``): not asked again."""
    return getattr(request.state, "rate_limit_storage_failed", False) is True


def _storage_failed(error: StorageError, request: Request | None = None) -> None:
    RATE_LIMIT_STORAGE_ERRORS.inc()
    logger.warning("rate-limit storage failed, request not counted: %s", error.storage_error)
    if request is not None:
        request.state.rate_limit_storage_failed = True


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
    bucket = key_bucket(presented)
    counted = (
        await run_in_threadpool(limiter.hit, bucket) if limiter.blocking else limiter.hit(bucket)
    )
    if counted is None:
        request.state.rate_limit_storage_failed = True  # authentication does not wait for it
        return
    item, remaining = counted
    # Sent by the request middleware (``app.main``) on whatever answers the request: a route
    # that returns its own Response, or an error answer, drops headers set on the dependency's.
    request.state.rate_limit_headers = _headers(item.amount, remaining)


class FailedKeys:
    """The failure budget as ``app.auth.service.Authenticator`` asks it around a key's lookup
    (wired by the app factory; auth cannot import this domain), counted by the app's limiter."""

    def admit(self, request: Request, presented: str) -> KeyAttempt:
        limiter, bucket = _limiter(request), key_bucket(presented)
        limiter.admit(request, bucket)
        return KeyAttempt(limiter, request, bucket)


@dataclass(frozen=True, slots=True)
class KeyAttempt:
    """An admitted lookup of one key, reported to the limiter that admitted it."""

    limiter: KeyRateLimiter
    request: Request
    bucket: str

    def failed(self) -> None:
        self.limiter.failed(self.request, self.bucket)

    def succeeded(self) -> None:
        self.limiter.succeeded(self.request, self.bucket)


def _headers(limit: int, remaining: int) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"x-ratelimit-limit", str(limit).encode()),
        (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
    )
