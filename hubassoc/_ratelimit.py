"""Client-side rate limiting: a rolling window, counted as the server counts it.

HubSpot's ``TEN_SECONDLY_ROLLING`` policy counts every request *admitted* in the last
``interval`` seconds. The client never sees the admission: it happens somewhere between
the send and the answer (hundreds of milliseconds apart on a busy server). So each
request is kept as the interval its admission lies in, ``[sent, answered]``, and counts
in the window until ``interval`` after the latest moment it can have been admitted.

Each answer's ``X-HubSpot-RateLimit-Remaining`` says how many requests the server
counted in the ``interval`` before it admitted that request. Comparing it with the
client's own requests that can have been in that count (sent no later than that one,
not surely gone before its send) finds usage by other processes; since another process
goes on spending, room is kept for the most it was seen to use until answers have shown
less for a while. Comparing it with the requests that *must* have been in it shows when
older requests left the server's window earlier than their answer implied.

:class:`_Window` does that bookkeeping and nothing else (no I/O, no sleeping, the time
passed in); :class:`RateLimit` wraps it for asyncio.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
import weakref
from typing import Any, Protocol, TypeAlias, runtime_checkable

from ._classify import RateLimitInfo
from ._exceptions import InvalidInputError

__all__ = ["Clock", "RateLimit", "RateLimiter"]

#: How many intervals after its send a request without an answer may still be admitted:
#: feedback normally ends it sooner; this bounds a request whose feedback never comes.
_UNANSWERED_INTERVALS = 1.0
#: Intervals of answers over which requests of another process, once seen, are kept room for.
_FOREIGN_MEMORY = 2.0
#: Room kept beyond the requests of other processes seen, as a share of them (rounded up).
_FOREIGN_MARGIN = 0.2


class Clock(Protocol):
    """Where a limiter reads the time: any callable returning seconds, never going back.

    ``time.monotonic`` is the default; tests pass a fake clock they move by hand.
    """

    def __call__(self) -> float:
        """The current time in seconds."""
        ...


@runtime_checkable
class RateLimiter(Protocol):
    """What the client needs from a rate limiter; implement it to share a budget elsewhere.

    The client calls :meth:`acquire` before each HTTP request and :meth:`feedback` once
    when that request is over, in the same task: with the answer's rate-limit headers, or
    with an empty :class:`~hubassoc.RateLimitInfo` when it failed or was cancelled.

    Example::

        class Counting:
            def __init__(self) -> None:
                self.inner, self.sent = hubassoc.RateLimit(100, 10.0), 0

            async def acquire(self) -> None:
                await self.inner.acquire()
                self.sent += 1

            def feedback(self, info: hubassoc.RateLimitInfo, *, retry_after: float | None) -> None:
                self.inner.feedback(info, retry_after=retry_after)
    """

    async def acquire(self) -> None:
        """Wait until one more request may start, and count it."""
        ...

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        """Learn how the request went; ``retry_after`` is set after a 429."""
        ...


class _Entry:
    """One request of this client as the server may have counted it: admitted in ``[lo, hi]``.

    ``hi`` is None while the request is in flight.
    """

    __slots__ = ("hi", "lo")

    def __init__(self, lo: float, hi: float | None = None) -> None:
        self.lo = lo
        self.hi = hi

    def __repr__(self) -> str:
        return f"_Entry(lo={self.lo:.3f}, hi={self.hi})"


class _Window:
    """The rolling-window bookkeeping of one budget: pure, the time always passed in.

    A request of this client counts at time ``t`` while it can still be in the server's
    window at ``t``: until ``interval`` after ``hi``, the latest moment it can have been
    admitted (while in flight, up to an interval after it was sent). Room is also kept
    for the requests of other processes that answers have shown (see :meth:`foreign`).
    """

    def __init__(self, max_requests: int, interval: float) -> None:
        self.max_requests = max_requests
        self.interval = interval
        self.entries: list[_Entry] = []
        #: ``X-HubSpot-RateLimit-Max`` as last reported: the budget shared with others.
        self.server_max: int | None = None
        self.paused_until = -math.inf
        #: ``(answered, n)``: at least ``n`` requests of other processes were in the
        #: server's window when the request answered at ``answered`` was admitted.
        self.sightings: list[tuple[float, int]] = []

    def _expiry(self, entry: _Entry) -> float:
        if entry.hi is None:
            return entry.lo + (_UNANSWERED_INTERVALS + 1) * self.interval
        return entry.hi + self.interval

    def counted(self, now: float) -> list[_Entry]:
        """The requests of this client that can be in the server's window at ``now``."""
        return [e for e in self.entries if self._expiry(e) > now]

    def foreign(self) -> int:
        """Requests of other processes to keep room for: the most seen lately.

        Another process spending the same budget goes on spending it: each of its
        requests leaving the window is replaced by a new one this client cannot see
        until an answer reports it. So what was seen stands until newer answers have
        shown less for :data:`_FOREIGN_MEMORY` intervals, rather than leaving when the
        requests seen would. (Each sighting is a lower bound: when this client's own
        requests left early, an answer shows fewer foreign ones than there are.)
        """
        if not self.sightings:
            return 0
        since = self.sightings[-1][0] - _FOREIGN_MEMORY * self.interval
        return max(n for t, n in self.sightings if t >= since)

    def _prune(self, now: float) -> None:
        # An answer compares its Remaining with the window as it was when its request
        # was sent, so nothing a request still in flight may need is dropped.
        keep_after = min([now, *(e.lo for e in self.entries if e.hi is None)])
        self.entries = [e for e in self.entries if self._expiry(e) > keep_after]
        if self.sightings:
            since = self.sightings[-1][0] - _FOREIGN_MEMORY * self.interval
            self.sightings = [s for s in self.sightings if s[0] >= since]

    def admit(self, now: float) -> _Entry | float:
        """Count a request starting ``now`` and return it, or return the seconds to wait."""
        if self.paused_until > now:
            return self.paused_until - now
        self._prune(now)
        own = self.counted(now)
        budget = self.server_max if self.server_max is not None else self.max_requests
        others = self.foreign()
        if others:
            # Keep a little more room than was seen: the other process's requests reach
            # the server unevenly, and one more than seen in a window is a 429 to someone.
            others += math.ceil(others * _FOREIGN_MARGIN)
        # However much others seem to spend, one request an interval goes: its answer is
        # how this client learns that they spend less.
        limit = max(1, min(self.max_requests, budget - others))
        if len(own) < limit:
            entry = _Entry(now)
            self.entries.append(entry)
            return entry
        # The moment enough requests have left; in-flight ones leave when answered (and
        # feedback wakes the waiter), at the latest at their horizon.
        return sorted(map(self._expiry, own))[len(own) - limit] - now

    def answered(
        self,
        entry: _Entry | None,
        now: float,
        info: RateLimitInfo | None = None,
    ) -> None:
        """Record that ``entry`` (None: a request it did not admit) was answered at ``now``.

        With ``info``, the server's ``Remaining`` is reconciled with the window.
        """
        if entry is not None and entry.hi is None:
            entry.hi = now
        if info is None:
            return
        if info.max is not None and info.max > 0:
            self.server_max = info.max
        if info.remaining is None:
            return
        capacity = info.max if info.max is not None and info.max > 0 else self.max_requests
        # What the server counted when it admitted the request: the requests admitted in
        # the interval before that, this one included.
        used = capacity - info.remaining
        same_window = info.interval is None or abs(info.interval - self.interval) < 1e-3
        self._reconcile(entry, now, used, trust_low=same_window and info.remaining > 0)

    def _reconcile(self, entry: _Entry | None, now: float, used: int, *, trust_low: bool) -> None:
        # The request was admitted at some a in [sent, now]; the server counted what was
        # admitted in (a - interval, a]. A request unknown to this window is taken as
        # admitted now, which makes the most of what the server reported.
        sent = entry.lo if entry is not None else now
        horizon = sent - self.interval
        # Everything sent so far was sent before the answer; what was surely admitted an
        # interval before the send cannot be in the count.
        possible = [e for e in self.entries if e.hi is None or e.hi > horizon]
        # The rest of the count is requests nobody here sent (a request unknown to this
        # window is one of them). Requests sent after this one are taken as admitted
        # after it: a server admits in about the order requests reach it, and were one
        # admitted earlier, the other process would only be thought to spend more.
        before = sum(1 for e in possible if e.lo <= sent)
        self.sightings.append((now, max(0, used - before)))
        if not trust_low:
            # Remaining 0 may be clamped, and a window of another length counts other
            # requests: neither is proof that anything left early.
            return
        # Requests answered before this one was sent, and sent less than an interval
        # before this answer, were surely counted. Of the others answered before the
        # send, at most the rest of `used` were counted; those that were not had been
        # admitted an interval before this request, so they have left the server's
        # window for good, however late their own answers came.
        surely = 1 if entry is not None else 0
        earlier: list[tuple[float, _Entry]] = []
        for e in possible:
            if e is entry or e.hi is None or e.hi > sent:
                continue
            if e.lo > now - self.interval:
                surely += 1
            else:
                earlier.append((e.hi, e))
        room = max(0, used - surely)
        if len(earlier) > room:
            # Which ones left does not matter for the count; keeping those answered last
            # keeps the count right for as long as any of them may remain.
            earlier.sort(key=lambda pair: pair[0])
            for _, e in earlier[: len(earlier) - room]:
                e.hi = now - self.interval

    def pause(self, now: float, wait: float) -> None:
        """A 429: nothing is admitted for ``wait`` seconds."""
        self.paused_until = max(self.paused_until, now + wait)


#: The window, entry and task of the request the current task acquired last: feedback
#: runs in the same task, so it knows which request an answer belongs to. (The task is
#: kept because tasks created by this one inherit the variable; weakly, because every
#: copy of the context, such as the one each timer handle of the request's HTTP call
#: holds until its deadline, would otherwise keep the finished task and so its result,
#: a whole parsed answer, alive for as long.)
_Admitted: TypeAlias = tuple[_Window, _Entry, "weakref.ref[asyncio.Task[Any]] | None"]
_ADMITTED: contextvars.ContextVar[_Admitted | None] = contextvars.ContextVar(
    "hubassoc_ratelimit_admitted", default=None
)


def _current_task() -> weakref.ref[asyncio.Task[Any]] | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    return weakref.ref(task) if task is not None else None


def _mine(admitted: _Admitted | None, window: _Window) -> _Entry | None:
    if admitted is None or admitted[0] is not window:
        return None
    task = _current_task()
    owner = admitted[2]
    if task is None or owner is None:
        return admitted[1] if task is owner else None
    return admitted[1] if owner() is task() else None


class RateLimit:
    """At most ``max_requests`` requests in any window of ``interval`` seconds, as HubSpot counts.

    The default client limit is HubSpot's Free/Starter burst, 100 per 10 s. HubSpot
    counts a request when it admits it, somewhere between its send and its answer, so
    a request counts here from its send until ``interval`` after the latest moment it
    can have been admitted. The limiter also listens to HubSpot: each answer's
    ``X-HubSpot-RateLimit-Remaining`` shows requests other processes sent with the
    same app (room is kept for as many, with a margin, while they go on) and when the
    client's own requests left HubSpot's window; after a 429 every request of the client waits out ``Retry-After``
    (or the window).

    One instance may be shared by several clients in one process to share one budget.
    ``clock`` (default ``time.monotonic``) is where the window reads the time.

    Example::

        client = hubassoc.Client(rate_limit=hubassoc.RateLimit(max_requests=190, interval=10.0))
    """

    def __init__(
        self, max_requests: int = 100, interval: float = 10.0, *, clock: Clock | None = None
    ) -> None:
        if isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 1:
            raise InvalidInputError(f"max_requests must be an int >= 1, got {max_requests!r}")
        if not isinstance(interval, int | float) or isinstance(interval, bool) or interval <= 0:
            raise InvalidInputError(f"interval must be a number > 0, got {interval!r}")
        if clock is not None and not callable(clock):
            raise InvalidInputError(f"clock must be a callable returning seconds, got {clock!r}")
        self.max_requests = max_requests
        self.interval = float(interval)
        self._clock: Clock = clock if clock is not None else time.monotonic
        self._window = _Window(max_requests, self.interval)
        self._lock: asyncio.Lock | None = None
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"RateLimit(max_requests={self.max_requests}, interval={self.interval})"

    def _bind(self) -> tuple[asyncio.Lock, asyncio.Event]:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._changed is None or self._loop is not loop:
            # Loop-bound primitives are made on first use, in the loop that uses them;
            # the window itself reads its own clock, so it survives a new loop.
            self._lock = asyncio.Lock()
            self._changed = asyncio.Event()
            self._loop = loop
        return self._lock, self._changed

    async def acquire(self) -> None:
        """Wait for room in the rolling window, then take it."""
        lock, changed = self._bind()
        window = self._window
        previous = _mine(_ADMITTED.get(), window)
        if previous is not None:
            # This task acquires again without feedback: its last request is over.
            window.answered(previous, self._clock())
            _ADMITTED.set(None)
        # Waiting inside the lock keeps waiters in FIFO order: nobody starves.
        async with lock:
            while True:
                granted = window.admit(self._clock())
                if isinstance(granted, _Entry):
                    _ADMITTED.set((window, granted, _current_task()))
                    return
                changed.clear()
                # An answer can free room before the computed time: feedback wakes us.
                try:
                    async with asyncio.timeout(granted):
                        await changed.wait()
                except TimeoutError:
                    pass

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        """Record the answer of the request this task acquired last."""
        window = self._window
        entry = _mine(_ADMITTED.get(), window)
        if entry is not None:
            _ADMITTED.set(None)
        now = self._clock()
        if retry_after is not None:
            # A 429: its wait is what counts; its Remaining: 0 is no count of requests.
            window.answered(entry, now)
            window.pause(now, retry_after)
        else:
            window.answered(entry, now, info)
        if self._changed is not None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                return
            if running is self._loop:
                self._changed.set()


class _Unlimited:
    """The limiter used with ``rate_limit=None``."""

    async def acquire(self) -> None:
        return None

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        return None
