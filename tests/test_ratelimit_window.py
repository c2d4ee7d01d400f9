"""The rolling window's bookkeeping, driven by hand with a fake clock (no I/O, no sleeping).

``_Window`` decides everything ``RateLimit`` does; ``RateLimit`` only waits and wakes.
Times are seconds on the fake clock; the server is HubSpot (or the emulator), which
counts a request when it admits it, somewhere between its send and its answer.
"""

from __future__ import annotations

import asyncio

import pytest

import hubassoc
from hubassoc import RateLimit, RateLimitInfo
from hubassoc._ratelimit import _Entry, _Window


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _admitted(window: _Window, now: float) -> _Entry:
    entry = window.admit(now)
    assert isinstance(entry, _Entry), f"expected room at {now}, got a wait of {entry}"
    return entry


def _info(remaining: int, max_requests: int, interval: float | None = None) -> RateLimitInfo:
    return RateLimitInfo(max=max_requests, remaining=remaining, interval=interval)


def test_admits_max_requests_then_waits_for_an_answer() -> None:
    window = _Window(3, 10.0)
    first = _admitted(window, 0.0)
    for _ in range(2):
        _admitted(window, 0.0)
    # All three in flight: none leaves before its answer, or two intervals if none comes.
    assert window.admit(1.0) == pytest.approx(19.0)
    window.answered(first, 2.0)
    # It may have been admitted as late as its answer: it counts until 10 s after that.
    assert window.admit(5.0) == pytest.approx(7.0)
    assert isinstance(window.admit(12.0), _Entry)


def test_a_request_counts_until_an_interval_after_its_answer() -> None:
    window = _Window(1, 2.0)
    entry = _admitted(window, 0.0)
    window.answered(entry, 0.25)
    assert window.admit(2.0) == pytest.approx(0.25)
    assert window.admit(2.249) == pytest.approx(0.001)
    assert isinstance(window.admit(2.25), _Entry)


def test_remaining_from_a_foreign_process_counts_as_used() -> None:
    window = _Window(10, 10.0)
    entry = _admitted(window, 0.0)
    # The server counted 5 requests with this one: 4 were sent by someone else.
    window.answered(entry, 0.1, _info(remaining=5, max_requests=10))
    assert sum(e.foreign for e in window.entries) == 4
    for _ in range(5):
        _admitted(window, 0.2)
    # They may have been admitted as late as the answer that reported them.
    assert window.admit(0.2) == pytest.approx(9.9)
    # Reported again by the next answer, they are not counted twice.
    window.answered(window.entries[-1], 0.3, _info(remaining=4, max_requests=10))
    assert sum(e.foreign for e in window.entries) == 4


def test_own_requests_that_left_since_the_send_are_not_taken_for_foreign_ones() -> None:
    window = _Window(5, 10.0)
    for remaining in (4, 3, 2, 1):
        window.answered(_admitted(window, 0.0), 0.01, _info(remaining, 5))
    slow = _admitted(window, 9.0)
    # Admitted before 10.01, it saw the four older ones; they have left by its answer.
    window.answered(slow, 10.5, _info(remaining=0, max_requests=5))
    assert not any(e.foreign for e in window.entries)
    for _ in range(4):
        _admitted(window, 10.5)
    assert window.admit(10.5) == pytest.approx(10.0)  # when `slow` leaves


def test_a_low_count_shows_that_slow_answers_left_the_window_early() -> None:
    window = _Window(5, 10.0)
    slow = [_admitted(window, 0.0) for _ in range(4)]
    for entry, remaining in zip(slow, (4, 3, 2, 1), strict=True):
        window.answered(entry, 9.5, _info(remaining, 5))  # answered long after admission
    probe = _admitted(window, 9.6)
    assert window.admit(9.6) == pytest.approx(19.5 - 9.6)
    # The server counted only the probe: the four were admitted 10 s before it at least.
    window.answered(probe, 10.2, _info(remaining=4, max_requests=5))
    for _ in range(4):
        _admitted(window, 10.2)
    assert window.admit(10.2) == pytest.approx(10.0)  # when the probe leaves


def test_remaining_zero_or_another_window_length_releases_nothing() -> None:
    for info in (_info(0, 5), _info(3, 5, interval=1.0)):
        window = _Window(5, 10.0)
        for entry in [_admitted(window, 0.0) for _ in range(4)]:
            window.answered(entry, 9.5)
        probe = _admitted(window, 9.6)
        # Remaining 0 may be clamped; a 1 s window counts other requests than a 10 s one.
        window.answered(probe, 10.2, info)
        assert window.admit(10.2) == pytest.approx(19.5 - 10.2), info


def test_a_429_pauses_admission() -> None:
    window = _Window(100, 10.0)
    window.answered(_admitted(window, 1.0), 1.0)
    window.pause(1.0, 2.0)
    assert window.admit(1.5) == pytest.approx(1.5)
    assert isinstance(window.admit(3.0), _Entry)


def test_a_smaller_max_from_the_server_is_the_budget() -> None:
    window = _Window(100, 10.0)
    entry = _admitted(window, 0.0)
    window.answered(entry, 0.1, _info(remaining=2, max_requests=3))
    _admitted(window, 0.2)
    _admitted(window, 0.2)
    assert window.admit(0.2) == pytest.approx(9.9)


def test_an_answer_to_a_request_it_did_not_admit_is_all_foreign() -> None:
    window = _Window(10, 10.0)
    window.answered(None, 5.0, _info(remaining=7, max_requests=10))
    assert [(e.foreign, e.hi) for e in window.entries] == [(True, 5.0)] * 3


def test_nothing_a_request_in_flight_may_need_is_pruned() -> None:
    window = _Window(2, 1.0)
    old = _admitted(window, 0.0)
    window.answered(old, 0.1)
    slow = _admitted(window, 0.5)
    window._prune(1.4)  # what every admission does first
    assert old in window.entries  # left the window at 1.1, but `slow` may have seen it
    window.answered(slow, 1.4, _info(remaining=0, max_requests=2))
    assert not any(e.foreign for e in window.entries)
    window._prune(2.3)
    assert window.entries == [slow]


# ------------------------------------------------------------------- RateLimit itself


async def test_rate_limit_reads_its_clock() -> None:
    clock = FakeClock()
    limit = RateLimit(2, 10.0, clock=clock)
    await limit.acquire()
    limit.feedback(RateLimitInfo(), retry_after=None)
    await limit.acquire()
    limit.feedback(RateLimitInfo(), retry_after=None)
    blocked = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0)
    assert not blocked.done()
    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked
    clock.now += 10.0
    await limit.acquire()  # room again: the clock, not the wall, says when


async def test_an_answer_wakes_a_request_waiting_for_one() -> None:
    clock = FakeClock()
    limit = RateLimit(1, 10.0, clock=clock)
    await limit.acquire()
    waiter = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()  # the only request is in flight: no end in sight
    limit.feedback(RateLimitInfo(), retry_after=None)  # answered: room 10 s from now
    clock.now += 10.0
    limit.feedback(RateLimitInfo(), retry_after=None)  # any answer makes the waiter look again
    await waiter


def test_a_clock_must_be_callable() -> None:
    with pytest.raises(hubassoc.InvalidInputError, match="clock"):
        RateLimit(10, 1.0, clock=1.0)  # type: ignore[arg-type]
