"""A rolling-window rate limit shared by every process and machine through Redis.

HubSpot counts requests per app, not per process: eight workers that each pace
themselves at 100 per 10 s send 800. :class:`RedisRateLimit` keeps the window in
one Redis sorted set instead, so every client naming the same key shares it.

Each admission is one Lua script, run atomically by Redis: drop the start times
that left the window, count the rest, and add this request only if there is room
and no earlier waiter is in line for it. Times come from Redis's own clock
(``TIME``), so clocks of different machines never disagree about the window; a
``clock`` passed in replaces both Redis's and the loop's (every process sharing the key
must then pass the same one: it is meant for tests).
Waiters queue first come, first served across processes, so a process far from
Redis is not beaten to every freed slot. A request stays in the window until
``interval`` after its answer, not its start: HubSpot counts it when it arrives,
which is somewhere in between.

A 429 or a low ``X-HubSpot-RateLimit-Remaining`` seen by any client is written to
the same keys (a "paused until" time and phantom start times), so it slows every
client, as :class:`~hubassoc.RateLimit` does within one process.

Redis is a helper, never a single point of failure: when it errors or does not
answer in time, the limiter logs one warning, paces this process with a local
:class:`~hubassoc.RateLimit`, and tries Redis again later.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import math
import uuid
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from ._classify import RateLimitInfo
from ._exceptions import InvalidInputError
from ._ratelimit import Clock, RateLimit, RateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisRateLimit"]

logger = logging.getLogger("hubassoc")

#: The limiter (by id) and window entry of the slot the current task acquired last.
_ADMISSION: contextvars.ContextVar[tuple[int, str] | None] = contextvars.ContextVar(
    "hubassoc_redis_admission", default=None
)

# KEYS[1]: the window, a sorted set of requests by start time (microseconds, Redis clock).
# KEYS[2]: "paused until" (microseconds, Redis clock), set after a 429.
# KEYS[3]: the waiters' queue, a sorted set of waiters by the time they first asked.
# KEYS[4]: the waiters' leases, by the time after which a waiter that has not asked
#          again is presumed gone.
# ARGV: max_requests, interval in microseconds, window TTL in milliseconds, this
#       request's unique member, lease grace in microseconds, the time in
#       microseconds ('' for Redis's own clock), and the in-flight slack in microseconds.
# Returns 0 when the request was counted, else the milliseconds to wait before asking again.
_ACQUIRE = """
if redis.replicate_commands then redis.replicate_commands() end
local now = tonumber(ARGV[6])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local max_requests = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local member = ARGV[4]
local grace = tonumber(ARGV[5])

-- Waiters whose process died or gave up stop holding their place.
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for _, waiter in ipairs(gone) do
  redis.call('ZREM', KEYS[3], waiter)
  redis.call('ZREM', KEYS[4], waiter)
end

-- Waiting is first come, first served across processes: a process far from Redis
-- (or just slower to wake up) must not lose every race for a freed slot.
local function wait_in_line(wait)
  redis.call('ZADD', KEYS[3], 'NX', now, member)
  redis.call('ZADD', KEYS[4], now + wait + grace, member)
  local keep = math.ceil((wait + grace) / 1000) + 1000
  for i = 3, 4 do
    if redis.call('PTTL', KEYS[i]) < keep then redis.call('PEXPIRE', KEYS[i], keep) end
  end
  return math.max(1, math.ceil(wait / 1000))
end

local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then
  return wait_in_line(paused - now)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - interval)
local count = redis.call('ZCARD', KEYS[1])
local free = max_requests - count
local rank = redis.call('ZRANK', KEYS[3], member)
local place = rank or redis.call('ZCARD', KEYS[3])
if place < free then
  -- Scored a little later than its start: if its answer never comes (its process was
  -- killed), HubSpot may have counted it on arrival, after the start. The answer
  -- re-scores it to the time of the answer.
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[7]), member)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  if rank then
    redis.call('ZREM', KEYS[3], member)
    redis.call('ZREM', KEYS[4], member)
  end
  return 0
end
-- This waiter's turn comes when enough entries have left the window to leave a slot
-- for it and for each waiter ahead of it: the entry at this index is the last of those.
-- (Phantom entries can make the window overfull, and then free is negative.)
local index = place - free
if index >= count then
  -- More waiters ahead than a window holds: its turn cannot come before every entry
  -- now in the window has left.
  if count == 0 then return wait_in_line(interval) end
  index = count - 1
end
local turn = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
return wait_in_line(tonumber(turn[2]) + interval - now)
"""

# Same KEYS. ARGV: max_requests, interval in microseconds, key TTL in milliseconds,
# retry_after in microseconds or -1, X-HubSpot-RateLimit-Remaining or -1, a unique
# prefix, the member of the request this answer belongs to ('' when unknown), the
# time in microseconds ('' for Redis's own clock), and the in-flight slack (as _ACQUIRE).
# Returns the number of phantom entries added.
_FEEDBACK = """
if redis.replicate_commands then redis.replicate_commands() end
local now = tonumber(ARGV[8])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local max_requests = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local retry_after = tonumber(ARGV[4])
local remaining = tonumber(ARGV[5])
-- HubSpot counted the request when it arrived, somewhere between its admission and
-- now: keeping it in the window until an interval after its answer means it never
-- leaves the window before it leaves HubSpot's, however long it took to get there.
local since = now - interval
local admitted = ARGV[7] ~= '' and redis.call('ZSCORE', KEYS[1], ARGV[7])
if admitted then
  since = tonumber(admitted) - tonumber(ARGV[9]) - interval
  redis.call('ZADD', KEYS[1], now, ARGV[7])
end
if retry_after >= 0 then
  local paused = now + retry_after
  if paused > tonumber(redis.call('GET', KEYS[2]) or '0') then
    redis.call('SET', KEYS[2], string.format('%d', paused), 'PX', math.ceil(retry_after / 1000) + 1000)
  end
end
local added = 0
if remaining >= 0 then
  -- HubSpot counts every request of the app; those this window does not hold (sent by
  -- something not using this key) are counted as started now, the most cautious guess
  -- since HubSpot does not say when they started. The window is compared as it stood
  -- when this request was admitted: entries that left it since, HubSpot may still count.
  local known = redis.call('ZCOUNT', KEYS[1], since + 1, '+inf')
  local missing = (max_requests - remaining) - known
  for i = 1, missing do
    redis.call('ZADD', KEYS[1], now, ARGV[6] .. ':' .. i)
  end
  if missing > 0 then added = missing end
end
if admitted or added > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return added
"""


# KEYS[1], KEYS[2]: the waiters' queue and leases. ARGV[1]: the member giving up its place.
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
"""

#: The most an unanswered request is kept in the window beyond ``interval`` after its
#: start (a quarter of the interval for short ones): a request whose process died before its
#: answer may have reached HubSpot after it started, and HubSpot counts from arrival.
_SLACK_MAX = 1.0

#: How late a waiter may be to ask again before it loses its place in the queue.
_LEASE_GRACE_US = 2_000_000


class _AsyncRedis(Protocol):
    """The two commands the limiter needs from a redis-py asyncio client."""

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Awaitable[Any]: ...

    def script_load(self, script: str) -> Awaitable[Any]: ...


class RedisRateLimit:
    """At most ``max_requests`` requests start in any ``interval`` seconds, across processes.

    Every :class:`RedisRateLimit` naming the same Redis ``key`` shares one rolling window,
    whichever process or machine it runs in. Use it when more than one process calls
    HubSpot with the same app's token; within one process, one :class:`~hubassoc.RateLimit`
    shared by the clients is enough. Needs redis-py (``pip install 'hubassoc[redis]'``).

    Like :class:`~hubassoc.RateLimit` it listens to HubSpot, and what one client hears
    slows them all: after a 429 every client waits out ``Retry-After`` (or the window),
    and when ``X-HubSpot-RateLimit-Remaining`` reports less room than the shared window
    shows, the difference is counted as used.

    When Redis fails or takes longer than ``redis_timeout`` seconds to answer, one
    WARNING goes to the ``hubassoc`` logger, the process paces itself with ``fallback``
    (by default ``RateLimit(max_requests, interval)``), and Redis is tried again
    ``retry_redis_after`` seconds later. The limiter never waits on Redis longer than
    ``redis_timeout``, and never lets requests through unpaced.

    ``clock`` (seconds) replaces Redis's ``TIME`` and the event loop's clock, for tests
    that move time by hand; every limiter sharing the key must then use the same clock.

    Waiting requests are served first come, first served across processes (one waiter
    per process at a time, so processes take turns), and a request stays in the window
    until ``interval`` after its answer: HubSpot counts it when it arrives, so counting
    from its start would let the next one in early when latencies differ.

    State lives in four Redis keys, ``{<key>}:window``, ``:paused``, ``:queue`` and
    ``:leases`` (the braces keep them in one Redis Cluster slot); they expire on their
    own once unused. Use the same ``max_requests`` and ``interval`` in every process.

    Example::

        import redis.asyncio as redis
        import hubassoc

        limit = hubassoc.RedisRateLimit(
            redis.Redis(host="redis.internal"), key="hubspot:portal-123", max_requests=100
        )
        async with hubassoc.Client(rate_limit=limit) as client:
            result = await client.read("contacts", "companies", ids)
        await limit.flush()  # before closing the Redis connection
    """

    def __init__(
        self,
        redis: Redis,
        *,
        key: str,
        max_requests: int = 100,
        interval: float = 10.0,
        fallback: RateLimiter | None = None,
        redis_timeout: float = 1.0,
        retry_redis_after: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        try:
            import redis.exceptions as redis_errors
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "RedisRateLimit needs redis-py: pip install 'hubassoc[redis]'"
            ) from exc
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"key must be a non-empty str, got {key!r}")
        # RateLimit checks max_requests and interval; it is also the default fallback.
        local = RateLimit(max_requests, interval, clock=clock)
        if fallback is not None and not isinstance(fallback, RateLimiter):
            raise InvalidInputError("fallback must be a hubassoc.RateLimiter or None")
        for name, value in (
            ("redis_timeout", redis_timeout),
            ("retry_redis_after", retry_redis_after),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidInputError(f"{name} must be a number > 0, got {value!r}")
        self.key = key
        self.max_requests = local.max_requests
        self.interval = local.interval
        self.fallback: RateLimiter = fallback if fallback is not None else local
        self.redis_timeout = float(redis_timeout)
        self.retry_redis_after = float(retry_redis_after)
        self._redis: _AsyncRedis = redis
        self._clock = clock
        window, paused, queue, leases = (
            f"{{{key}}}:{name}" for name in ("window", "paused", "queue", "leases")
        )
        self._acquire_keys = (window, paused, queue, leases)
        self._feedback_keys = (window, paused)
        self._leave_keys = (queue, leases)
        self._interval_us = round(self.interval * 1_000_000)
        # Long enough for every entry to leave the window, so an abandoned window expires.
        # How much later than its start an unanswered request is kept in the window.
        self._slack_us = round(min(self.interval / 4, _SLACK_MAX) * 1_000_000)
        self._ttl_ms = math.ceil((self.interval + self._slack_us / 1e6) * 1000) + 1000
        self._errors: tuple[type[BaseException], ...] = (
            redis_errors.RedisError,
            OSError,
            TimeoutError,
        )
        self._no_script = redis_errors.NoScriptError
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._paused_until = 0.0
        self._redis_down_until: float | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (
            f"RedisRateLimit(key={self.key!r}, max_requests={self.max_requests}, "
            f"interval={self.interval})"
        )

    @property
    def using_fallback(self) -> bool:
        """True while Redis is considered unavailable and ``fallback`` paces requests."""
        return self._redis_down_until is not None

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # Loop-bound primitives and loop-clock times are made in the loop that uses them.
            self._loop = loop
            self._lock = asyncio.Lock()
            self._paused_until = 0.0
            self._redis_down_until = None
            self._pending = set()
        return loop

    async def acquire(self) -> None:
        """Wait for a free slot in the shared window, then take it."""
        loop = self._bind()
        assert self._lock is not None
        _ADMISSION.set(None)
        # The same member all along: it is this request's place in the waiters' queue,
        # and its entry in the window once admitted.
        member = uuid.uuid4().hex
        in_line = False
        try:
            # One waiter per process asks Redis at a time: FIFO inside the process, and
            # the shared queue then takes processes in turn.
            async with self._lock:
                while True:
                    now = self._now(loop)
                    if self._paused_until > now:
                        # This process's own 429, honoured before its Redis write lands.
                        await asyncio.sleep(self._paused_until - now)
                        continue
                    if self._redis_down_until is not None and now < self._redis_down_until:
                        await self.fallback.acquire()
                        return
                    if self._pending:
                        # This process's own feedback reaches Redis before it asks for a slot.
                        await asyncio.wait(set(self._pending))
                    try:
                        wait_ms = await self._try_acquire(member)
                    except self._errors as exc:
                        self._redis_failed(exc, loop)
                        continue
                    self._redis_ok()
                    if wait_ms <= 0:
                        # The transport gives feedback on the answer in this same task,
                        # so feedback() can tell which window entry the answer belongs to.
                        _ADMISSION.set((id(self), member))
                        return
                    in_line = True
                    await asyncio.sleep(wait_ms / 1000)
        except asyncio.CancelledError:
            if in_line:
                # Give the place in line back now rather than when its lease runs out.
                self._spawn(self._run(_LEAVE, self._leave_keys, member))
            raise

    def _now(self, loop: asyncio.AbstractEventLoop) -> float:
        return self._clock() if self._clock is not None else loop.time()

    def _script_now(self) -> int | str:
        """The time the scripts use: Redis's own (''), unless a clock was passed."""
        return "" if self._clock is None else round(self._clock() * 1_000_000)

    async def _try_acquire(self, member: str | None = None) -> int:
        """One atomic attempt: 0 when a slot was taken, else the milliseconds to wait."""
        result = await self._script(
            _ACQUIRE,
            self._acquire_keys,
            self.max_requests,
            self._interval_us,
            self._ttl_ms,
            member or uuid.uuid4().hex,
            _LEASE_GRACE_US,
            self._script_now(),
            self._slack_us,
        )
        return int(result)

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        """Share a 429 or a low ``X-HubSpot-RateLimit-Remaining`` with every client of the key.

        Called by the client with each answer's rate-limit headers, in the task that
        acquired the slot; the answered request then stays in the window until
        ``interval`` after its answer, since HubSpot counted it on arrival.
        """
        # The fallback learns too, so it starts with what HubSpot said if Redis goes away.
        self.fallback.feedback(info, retry_after=retry_after)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if loop is not self._loop:
            return
        admission = _ADMISSION.get()
        member = ""
        if admission is not None and admission[0] == id(self):
            member = admission[1]
            _ADMISSION.set(None)
        now = self._now(loop)
        if retry_after is not None:
            self._paused_until = max(self._paused_until, now + retry_after)
        remaining = info.remaining
        if retry_after is not None:
            remaining = None  # a 429's Remaining: 0 counts nothing; its wait is the news
        elif remaining is not None and remaining >= self.max_requests:
            remaining = None  # no news: the window can never hold less than nothing
        if retry_after is None and remaining is None and not member:
            return
        if self._redis_down_until is not None and now < self._redis_down_until:
            return
        self._spawn(
            self._run(
                _FEEDBACK,
                self._feedback_keys,
                self.max_requests,
                self._interval_us,
                self._ttl_ms,
                -1 if retry_after is None else round(retry_after * 1_000_000),
                -1 if remaining is None else max(0, remaining),
                uuid.uuid4().hex,
                member,
                self._script_now(),
                self._slack_us,
            )
        )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _run(self, script: str, keys: tuple[str, ...], *args: int | str) -> None:
        """Run a script in the background; a failure switches to the fallback."""
        try:
            await self._script(script, keys, *args)
        except self._errors as exc:
            if self._loop is not None:
                self._redis_failed(exc, self._loop)

    async def flush(self) -> None:
        """Wait until the feedback given so far has reached Redis (or failed to).

        Example::

            limit.feedback(info, retry_after=2.0)
            await limit.flush()  # every client of the key now sees the pause
        """
        if self._pending:
            await asyncio.wait(set(self._pending))

    async def _script(self, script: str, keys: tuple[str, ...], *args: int | str) -> Any:
        sha = _SHAS[script]
        async with asyncio.timeout(self.redis_timeout):
            try:
                return await self._redis.evalsha(sha, len(keys), *keys, *args)
            except self._no_script:
                # First use on this Redis (or after SCRIPT FLUSH / a restart).
                await self._redis.script_load(script)
                return await self._redis.evalsha(sha, len(keys), *keys, *args)

    def _redis_failed(self, exc: BaseException, loop: asyncio.AbstractEventLoop) -> None:
        already_down = self._redis_down_until is not None
        self._redis_down_until = self._now(loop) + self.retry_redis_after
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if already_down:
            logger.debug("Redis rate limit %r still unavailable (%s)", self.key, reason)
            return
        logger.warning(
            "Redis rate limit %r unavailable (%s): this process now paces itself with %r "
            "and tries Redis again in %g s; until then processes sharing the key do not "
            "see each other's requests",
            self.key,
            reason,
            self.fallback,
            self.retry_redis_after,
        )

    def _redis_ok(self) -> None:
        if self._redis_down_until is not None:
            self._redis_down_until = None
            logger.info("Redis rate limit %r is reachable again; sharing the window", self.key)


_SHAS = {
    script: hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    for script in (_ACQUIRE, _FEEDBACK, _LEAVE)
}
