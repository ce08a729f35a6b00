"""Races made certain: requests run in threads that meet after a read, so that each has read
before any writes (the interleaving that lets a check-then-write lose an update).

``meet_after(monkeypatch, Repository, "method", parties)`` wraps the method so that every call
waits (a short while at most) until ``parties`` calls are waiting. Where the service serialises
the requests (SQLite's write lock, a row lock), the others never arrive: the wait times out, the
barrier breaks and every later call goes straight on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: How long a read waits for the others: long enough for threads that are really concurrent.
MEET_TIMEOUT_SECONDS = 2.0


def meet_after(
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    name: str,
    parties: int,
    barrier: threading.Barrier | None = None,
) -> threading.Barrier:
    """``barrier``: one returned by an earlier call, for requests that read by different
    methods (one request's plain read, another's locked one) to meet all the same."""
    barrier = barrier or threading.Barrier(parties)
    original = getattr(owner, name)

    @wraps(original)
    def met(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        try:
            barrier.wait(MEET_TIMEOUT_SECONDS)
        except threading.BrokenBarrierError:
            pass  # the others are not coming (serialised), or have gone on already
        return result

    monkeypatch.setattr(owner, name, met)
    return barrier


def at_once(calls: Iterable[Callable[[], T]]) -> list[T]:
    """Run ``calls`` in threads of their own, all started together; their results in order."""
    tasks = list(calls)
    with ThreadPoolExecutor(len(tasks)) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]
