"""The rolling window's bookkeeping, driven by hand with a fake clock (no I/O, no sleeping).

``_Window`` decides everything ``RateLimit`` does; ``RateLimit`` only waits and wakes.
Times are seconds on the fake clock; the server is HubSpot (or the emulator), which
counts a request when it admits it, somewhere between its send and its answer.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import weakref

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
    assert window.foreign() == 4
    # Room is kept for them and one more (the margin): 10 - 5 = 5 of this client's own.
    for _ in range(4):
        _admitted(window, 0.2)
    assert window.admit(0.2) == pytest.approx(9.9)  # when `entry` leaves
    # Reported again by the next answer, they are not counted twice.
    window.answered(window.entries[-1], 0.3, _info(remaining=1, max_requests=10))
    assert window.foreign() == 4


def test_room_stays_kept_for_another_process_after_its_requests_seen_leave() -> None:
    window = _Window(20, 2.0)
    # Another process spends half the budget: the first answer shows its 10.
    window.answered(_admitted(window, 0.0), 0.05, _info(remaining=9, max_requests=20))
    # Those 10 have left by 2.05, but that process goes on sending: new requests of its
    # own take their place, unseen until an answer reports them. So room stays kept for
    # 10 and the margin (2), not handed to this client: 8 of its own, no more.
    for _ in range(8):
        _admitted(window, 2.1)
    assert not isinstance(window.admit(2.1), _Entry)


def test_requests_sent_after_an_answered_one_are_not_taken_for_its_count() -> None:
    window = _Window(20, 2.0)
    # A burst of 8 into a window where another process holds 10.
    burst = [_admitted(window, i / 1000) for i in range(8)]
    # The first answer counts 11: itself and the other 10. The 7 sent after it were in
    # flight, but had they reached the server first, the count would only be higher.
    window.answered(burst[0], 0.05, _info(remaining=9, max_requests=20))
    assert window.foreign() == 10
    assert not isinstance(window.admit(0.06), _Entry)  # 8 + 10 + margin 2 = 20


def test_room_for_another_process_ends_once_answers_show_it_stopped() -> None:
    window = _Window(20, 2.0)
    window.answered(_admitted(window, 0.0), 0.05, _info(remaining=9, max_requests=20))
    t = 0.05
    for _ in range(3):  # one answer a second, each counting only itself
        t += 1.0
        window.answered(_admitted(window, t), t + 0.01, _info(remaining=19, max_requests=20))
    assert window.foreign() == 10  # seen less for less than two intervals: still kept
    t += 1.0
    window.answered(_admitted(window, t), t + 0.01, _info(remaining=19, max_requests=20))
    assert window.foreign() == 0


def test_one_request_an_interval_goes_while_others_seem_to_hold_the_whole_budget() -> None:
    window = _Window(10, 1.0)
    window.answered(_admitted(window, 0.0), 0.05, _info(remaining=0, max_requests=10))
    assert window.foreign() == 9
    assert window.admit(0.5) == pytest.approx(0.55)  # the only own request leaves first
    # Then one goes: its answer is how the client learns the others spend less.
    _admitted(window, 1.05)
    assert window.admit(1.05) == pytest.approx(2.0)


def test_own_requests_that_left_since_the_send_are_not_taken_for_foreign_ones() -> None:
    window = _Window(5, 10.0)
    for remaining in (4, 3, 2, 1):
        window.answered(_admitted(window, 0.0), 0.01, _info(remaining, 5))
    slow = _admitted(window, 9.0)
    # Admitted before 10.01, it saw the four older ones; they have left by its answer.
    window.answered(slow, 10.5, _info(remaining=0, max_requests=5))
    assert window.foreign() == 0
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
    assert window.foreign() == 3
    assert window.entries == []


def test_nothing_a_request_in_flight_may_need_is_pruned() -> None:
    window = _Window(2, 1.0)
    old = _admitted(window, 0.0)
    window.answered(old, 0.1)
    slow = _admitted(window, 0.5)
    window._prune(1.4)  # what every admission does first
    assert old in window.entries  # left the window at 1.1, but `slow` may have seen it
    window.answered(slow, 1.4, _info(remaining=0, max_requests=2))
    assert window.foreign() == 0
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


async def test_a_copy_of_the_context_does_not_keep_a_finished_request_alive() -> None:
    # Everything the HTTP call schedules (its timeout's timer handle, say) copies the
    # context as it is between acquire() and feedback(); such a handle outlives the
    # request until its deadline. Were the task kept in it, so would be the task's
    # result: a whole parsed answer for every request of the last minute.
    limit = RateLimit(10, 1.0)
    copies: list[contextvars.Context] = []

    class Answer:
        pass

    async def request() -> Answer:
        await limit.acquire()
        copies.append(contextvars.copy_context())
        limit.feedback(RateLimitInfo(), retry_after=None)
        return Answer()

    task = asyncio.ensure_future(request())
    answer = weakref.ref(await task)
    del task
    await asyncio.sleep(0)  # the loop's handle that woke this test holds the task too
    gc.collect()
    assert copies  # the copy is still held ...
    assert answer() is None  # ... but not the task, nor its result
