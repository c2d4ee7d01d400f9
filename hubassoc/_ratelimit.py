"""Client-side rate limiting: a rolling window, as HubSpot counts.

A token bucket or leaky bucket lets up to twice the limit through a rolling window
after a burst; HubSpot's ``TEN_SECONDLY_ROLLING`` policy counts every request in the
last ``interval`` seconds, so the limiter keeps the start time of each request in that
window and makes the next one wait until the oldest leaves it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from typing import Protocol, runtime_checkable

from ._classify import RateLimitInfo
from ._exceptions import InvalidInputError

__all__ = ["RateLimit", "RateLimiter"]

#: When the current task's last request started (feedback runs in the same task).
_STARTED: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hubassoc_ratelimit_started", default=None
)


@runtime_checkable
class RateLimiter(Protocol):
    """What the client needs from a rate limiter; implement it to share a budget elsewhere."""

    async def acquire(self) -> None:
        """Wait until one more request may start, and count it."""
        ...

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        """Learn from an answer's rate-limit headers; ``retry_after`` is set after a 429."""
        ...


class RateLimit:
    """At most ``max_requests`` requests start in any window of ``interval`` seconds.

    The default client limit is HubSpot's Free/Starter burst, 100 per 10 s. The limiter
    also listens to HubSpot: when ``X-HubSpot-RateLimit-Remaining`` reports less room
    than it believed (other processes share the app's budget), it counts the difference
    as used; after a 429 every request of the client waits out the window.

    One instance may be shared by several clients in one process to share one budget.

    Example::

        client = hubassoc.Client(rate_limit=hubassoc.RateLimit(max_requests=190, interval=10.0))
    """

    def __init__(self, max_requests: int = 100, interval: float = 10.0) -> None:
        if isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 1:
            raise InvalidInputError(f"max_requests must be an int >= 1, got {max_requests!r}")
        if not isinstance(interval, int | float) or isinstance(interval, bool) or interval <= 0:
            raise InvalidInputError(f"interval must be a number > 0, got {interval!r}")
        self.max_requests = max_requests
        self.interval = float(interval)
        # HubSpot counts a request when it arrives, the limiter when it is sent, so the
        # server's window opens a little later than ours. Keeping each start a bit
        # longer than `interval` (1%, 50-250 ms) absorbs that transit time; without it a
        # run at the limit saw a 429 at a window edge in about a quarter of runs.
        self._hold = self.interval + min(0.25, max(0.05, 0.01 * self.interval))
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"RateLimit(max_requests={self.max_requests}, interval={self.interval})"

    def _get_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            # Loop-bound primitives are made on first use, in the loop that uses them.
            # loop.time() is time.monotonic() for every loop, so the window stays valid.
            self._lock = asyncio.Lock()
            self._loop = loop
        return self._lock

    async def acquire(self) -> None:
        """Wait for a free slot in the rolling window, then take it."""
        lock = self._get_lock()
        loop = asyncio.get_running_loop()
        # Waiting inside the lock keeps waiters in FIFO order: nobody starves.
        async with lock:
            while True:
                now = loop.time()
                if self._paused_until > now:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                horizon = now - self._hold
                starts = self._starts
                while starts and starts[0] <= horizon:
                    starts.popleft()
                if len(starts) < self.max_requests:
                    starts.append(now)
                    _STARTED.set(now)
                    return
                await asyncio.sleep(starts[0] - horizon)

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        """Slow down when HubSpot reports less room than the window shows."""
        if self._loop is None:
            return
        now = self._loop.time()
        if retry_after is not None:
            # A 429: its wait is what counts; its Remaining: 0 must not fill the window.
            self._paused_until = max(self._paused_until, now + retry_after)
            return
        started = _STARTED.get()
        if info.remaining is None or (started is not None and started <= now - self._hold):
            return  # no news, or news about a window that has passed
        limit = min(self.max_requests, info.max) if info.max else self.max_requests
        used = limit - info.remaining
        horizon = now - self._hold
        starts = self._starts
        while starts and starts[0] <= horizon:
            starts.popleft()
        # Requests we did not send (other processes) count as started now: the most
        # cautious guess, since the server does not say when they started.
        missing = used - len(starts) + (self.max_requests - limit)
        for _ in range(max(0, missing)):
            starts.append(now)


class _Unlimited:
    """The limiter used with ``rate_limit=None``."""

    async def acquire(self) -> None:
        return None

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        return None
