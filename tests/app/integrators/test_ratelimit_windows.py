"""The in-process moving window (``RATE_LIMIT_STORAGE_URI=memory://``): the rule of the `limits`
package's moving window, counted without a timer thread (issue 19, endpoint speed)."""

from __future__ import annotations

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from app.integrators.ratelimit import InProcessWindows, KeyRateLimiter, storage_of
from app.kit.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_at_most_n_hits_in_any_window_of_the_limits_length() -> None:
    clock = Clock()
    windows = InProcessWindows(clock)
    assert [windows.acquire_entry("k", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert windows.get_moving_window("k", 3, 60) == (clock.now, 3)
    clock.now += 30
    assert windows.acquire_entry("k", 3, 60) is False  # the first three are 30 s old
    clock.now += 30  # now the first three are exactly 60 s old: out of the window
    assert windows.acquire_entry("k", 3, 60) is True
    assert windows.get_moving_window("k", 3, 60) == (clock.now, 1)
    assert windows.acquire_entry("other", 3, 60) is True  # each bucket has its own budget
    assert windows.acquire_entry("k", 3, 60, amount=3) is False  # 1 + 3 > 3: nothing taken
    assert windows.get_moving_window("k", 3, 60)[1] == 1


def test_the_limiter_reads_the_same_stats_as_with_the_limits_storage() -> None:
    clock = Clock()
    limiter = MovingWindowRateLimiter(InProcessWindows(clock))
    item = parse("2/minute")
    assert limiter.hit(item, "api_key", "b") and limiter.hit(item, "api_key", "b")
    assert not limiter.hit(item, "api_key", "b")
    stats = limiter.get_window_stats(item, "api_key", "b")
    assert stats.remaining == 0 and stats.reset_time == clock.now + 60


def test_idle_buckets_are_swept_as_the_table_grows() -> None:
    clock = Clock()
    windows = InProcessWindows(clock)
    for n in range(InProcessWindows.SWEEP_AT):
        windows.acquire_entry(f"idle-{n}", 5, 60)
    clock.now += 61
    windows.acquire_entry("busy", 5, 60)  # the table is full: the idle buckets go
    assert windows.get_moving_window("idle-0", 5, 60) == (clock.now, 0)
    assert len(windows._buckets) == 1


def test_memory_storage_counts_in_process_and_on_the_event_loop(settings: Settings) -> None:
    memory = settings.model_copy(update={"RATE_LIMIT_STORAGE_URI": "memory://"})
    assert isinstance(storage_of(memory), InProcessWindows)
    assert KeyRateLimiter(memory).blocking is False
