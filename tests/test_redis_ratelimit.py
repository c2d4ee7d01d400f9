"""RedisRateLimit against a real redis-server on loopback, and real worker processes.

The server is started from a fixture; when the ``redis-server`` binary is missing the
tests skip with the reason (``make test`` and ``.ci/run`` install it first).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

import hubassoc
from hubassoc import RateLimit, RedisRateLimit
from hubassoc._classify import RateLimitInfo
from hubassoc.testing import FakeHubSpot

from ._servers import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "pat-na1-redis-test-token"


@pytest.fixture
def key() -> str:
    # A key per test: the tests share one server and never see each other's windows.
    return f"hubassoc-test:{uuid.uuid4().hex}"


class FakeClock:
    """A clock the test moves by hand; passed to a limiter, Redis's TIME is not used."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _limiter(client: aioredis.Redis, key: str, **kwargs: Any) -> RedisRateLimit:
    limiter = RedisRateLimit(client, key=key, **kwargs)
    limiter._bind()  # what acquire() does first; lets tests call _try_acquire directly
    return limiter


async def test_script_admits_exactly_max_requests_across_concurrent_acquirers(
    redis_server: RedisServer, key: str
) -> None:
    clients = [aioredis.Redis(port=redis_server.port) for _ in range(8)]
    try:
        clock = FakeClock()
        limiters = [_limiter(c, key, max_requests=20, interval=60.0, clock=clock) for c in clients]
        waits = await asyncio.gather(*(limiters[i % 8]._try_acquire() for i in range(100)))
        assert waits.count(0) == 20
        # The refused ones wait for the admitted (all at this instant, none answered) to
        # leave the window: an interval after their start, and a second more, since an
        # unanswered request may have reached HubSpot after it started.
        assert set(waits) == {0, 61_000}
        window: Any = await clients[0].zrange(f"{{{key}}}:window", 0, -1, withscores=True)
        assert len(window) == len({m for m, _ in window}) == 20
        assert {score for _, score in window} == {(clock.now + 1) * 1_000_000}
        assert 0 < await clients[0].pttl(f"{{{key}}}:window") <= 62_000
    finally:
        for client in clients:
            await client.aclose()


async def test_acquire_waits_for_the_rolling_window(redis_server: RedisServer, key: str) -> None:
    clients = [aioredis.Redis(port=redis_server.port) for _ in range(3)]
    try:
        limiters = [RedisRateLimit(c, key=key, max_requests=5, interval=0.5) for c in clients]
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.gather(*(limiters[i % 3].acquire() for i in range(15)))
        # 5 at once, 5 when those leave the window, 5 more after another 0.5 s.
        assert loop.time() - start >= 1.0
        assert await clients[0].zcard(f"{{{key}}}:window") == 5
    finally:
        for client in clients:
            await client.aclose()


async def test_waiters_are_served_in_arrival_order_across_limiters(
    redis_client: aioredis.Redis, key: str
) -> None:
    window, queue, leases = (f"{{{key}}}:{name}" for name in ("window", "queue", "leases"))
    seconds, micros = await redis_client.time()
    now = seconds * 1_000_000 + micros
    # 3 of 5 slots used, started 50, 40 and 30 s ago in a 60 s window; three waiters
    # already in line, and one more that stopped asking (its lease ran out).
    await redis_client.zadd(window, {"old": now - 50e6, "mid": now - 40e6, "new": now - 30e6})
    await redis_client.zadd(queue, {"gone": now - 4e6, "w0": now - 3e6, "w1": now - 2e6})
    await redis_client.zadd(queue, {"w2": now - 1e6})
    await redis_client.zadd(leases, {"gone": now - 1, "w0": now + 60e6, "w1": now + 60e6})
    await redis_client.zadd(leases, {"w2": now + 60e6})
    limit = _limiter(redis_client, key, max_requests=5, interval=60.0)

    # A newcomer queues behind w0..w2 although two slots are free; its turn comes
    # when a third slot frees, i.e. when "mid" leaves the window in 20 s.
    assert 19_000 < await limit._try_acquire("late") <= 20_000
    assert await limit._try_acquire("w0") == 0
    assert await limit._try_acquire("w1") == 0
    assert 9_000 < await limit._try_acquire("w2") <= 10_000  # when "old" leaves
    assert await redis_client.zrange(queue, 0, -1) == [b"w2", b"late"]
    assert await redis_client.zcard(window) == 5


async def test_a_cancelled_waiter_gives_its_place_back(
    redis_client: aioredis.Redis, key: str
) -> None:
    limit = RedisRateLimit(redis_client, key=key, max_requests=1, interval=60.0)
    await limit.acquire()
    waiter = asyncio.ensure_future(limit.acquire())
    queue = f"{{{key}}}:queue"
    for _ in range(1000):  # each round trip to Redis lets the waiter run
        if await redis_client.zcard(queue):
            break
    assert await redis_client.zcard(queue) == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await limit.flush()
    assert await redis_client.zcard(queue) == 0


async def test_a_429_seen_by_one_limiter_pauses_the_others(
    redis_server: RedisServer, key: str
) -> None:
    first, second = aioredis.Redis(port=redis_server.port), aioredis.Redis(port=redis_server.port)
    try:
        clock = FakeClock()
        a = _limiter(first, key, max_requests=20, interval=2.0, clock=clock)
        b = _limiter(second, key, max_requests=20, interval=2.0, clock=clock)
        assert await b._try_acquire() == 0
        a.feedback(RateLimitInfo(max=20, remaining=0, interval=2.0), retry_after=1.5)
        await a.flush()
        assert await second.get(f"{{{key}}}:paused") == b"%d" % ((clock.now + 1.5) * 1_000_000)
        assert await b._try_acquire() == 1_500
        clock.now += 1.0
        assert await b._try_acquire() == 500
        clock.now += 0.5
        assert await b._try_acquire() == 0
    finally:
        await first.aclose()
        await second.aclose()


async def test_low_remaining_seen_by_one_limiter_is_counted_for_all(
    redis_server: RedisServer, key: str
) -> None:
    first, second = aioredis.Redis(port=redis_server.port), aioredis.Redis(port=redis_server.port)
    try:
        a = _limiter(first, key, max_requests=20, interval=60.0)
        b = _limiter(second, key, max_requests=20, interval=60.0)
        for _ in range(5):
            assert await a._try_acquire() == 0
        # HubSpot says 2 remain: 13 requests this window never saw (another app user).
        a.feedback(RateLimitInfo(max=20, remaining=2, interval=60.0), retry_after=None)
        await a.flush()
        assert await first.zcard(f"{{{key}}}:window") == 18
        assert [await b._try_acquire() for _ in range(3)][:2] == [0, 0]
        assert await b._try_acquire() > 0
        # Remaining that shows more room than the window is no news: nothing removed.
        a.feedback(RateLimitInfo(max=20, remaining=15, interval=60.0), retry_after=None)
        await a.flush()
        assert await first.zcard(f"{{{key}}}:window") == 20
    finally:
        await first.aclose()
        await second.aclose()


# --------------------------------------------------------------- worker processes


def _worker_main() -> None:
    """Entry point of one worker process: ``python -c '...; _worker_main()' CONFIG``."""
    asyncio.run(_worker(json.loads(sys.argv[1])))


async def _worker(config: dict[str, Any]) -> None:
    redis = aioredis.Redis(port=config["redis_port"])
    await redis.ping()
    limit = RedisRateLimit(
        redis, key=config["key"], max_requests=config["max_requests"], interval=config["interval"]
    )
    first = config["worker"] * 1_000_000
    ids = [str(first + i) for i in range(config["requests"])]
    async with hubassoc.Client(
        TOKEN,
        base_url=config["url"],
        rate_limit=limit,
        max_concurrency=4,
        read_chunk_size=1,  # one request per id: the request count is the id count
        max_retries=10,
        timeout=30,
    ) as client:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        result = await client.read("contacts", "companies", ids)
    await limit.flush()
    await redis.aclose()
    print(
        json.dumps({"failed": len(result.failures), "empty": len(result.ids_without_associations)})
    )


async def _run_workers(configs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float]:
    """Start every worker, release them together, and return their reports and the time."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from tests.test_redis_ratelimit import _worker_main; _worker_main()",
            json.dumps(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for config in configs
    ]
    try:
        async with asyncio.timeout(60):
            for proc in procs:
                assert proc.stdout is not None
                line = await proc.stdout.readline()
                if line != b"ready\n":
                    _, err = await proc.communicate()
                    raise AssertionError(f"worker did not start: {line!r} {err.decode()}")
            loop = asyncio.get_running_loop()
            start = loop.time()
            outputs = await asyncio.gather(*(proc.communicate(b"go\n") for proc in procs))
            elapsed = loop.time() - start
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    reports = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert b"unavailable" not in err, err.decode()  # Redis never failed
        reports.append(json.loads(out.splitlines()[-1]))
    return reports, elapsed


async def test_four_processes_share_one_window_without_429s(
    redis_server: RedisServer, key: str
) -> None:
    max_requests, interval, workers, per_worker = 20, 2.0, 4, 15
    async with FakeHubSpot(token=TOKEN, rate_limit=(max_requests, interval)) as hub:
        configs = [
            {
                "worker": w,
                "url": hub.url,
                "redis_port": redis_server.port,
                "key": key,
                "max_requests": max_requests,
                "interval": interval,
                "requests": per_worker,
            }
            for w in range(workers)
        ]
        reports, elapsed = await _run_workers(configs)
        statuses = dict(hub.status_counts)
        order = [int(r.body["inputs"][0]["id"]) // 1_000_000 for r in hub.requests]

    total = workers * per_worker
    assert reports == [{"failed": 0, "empty": per_worker}] * workers
    assert statuses == {207: total}, statuses  # no 429 at all, not even at the start
    # A rolling window lets max_requests through per interval, plus one burst at the start.
    assert total <= max_requests * (elapsed / interval + 1)
    # While every worker still has work, each gets at least half of an equal share.
    contested = collections.Counter(order[: 2 * max_requests])
    equal_share = 2 * max_requests / workers
    assert min(contested[w] for w in range(workers)) >= equal_share / 2, contested


# ------------------------------------------------------------------------ fallback


class _CountingLimiter:
    """A local RateLimit that counts the requests it admitted."""

    def __init__(self, max_requests: int, interval: float) -> None:
        self.inner = RateLimit(max_requests, interval)
        self.admitted = 0

    def __repr__(self) -> str:
        return repr(self.inner)

    async def acquire(self) -> None:
        await self.inner.acquire()
        self.admitted += 1

    def feedback(self, info: RateLimitInfo, *, retry_after: float | None) -> None:
        self.inner.feedback(info, retry_after=retry_after)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "hubassoc" and r.levelno == logging.WARNING
    ]


async def test_redis_killed_mid_job_falls_back_to_local_pacing(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer()
    server.start()
    redis = aioredis.Redis(port=server.port)
    try:
        fallback = _CountingLimiter(5, 0.5)
        limit = RedisRateLimit(redis, key=key, max_requests=5, interval=0.5, fallback=fallback)
        async with (
            FakeHubSpot(token=TOKEN) as hub,
            hubassoc.Client(
                TOKEN, base_url=hub.url, rate_limit=limit, max_concurrency=4, read_chunk_size=1
            ) as client,
        ):
            loop = asyncio.get_running_loop()
            start = loop.time()
            job = asyncio.ensure_future(
                client.read("contacts", "companies", [str(i) for i in range(20)])
            )
            # The first window's 5 requests went through Redis; the rest wait on it.
            await hub.wait_for_requests(5)
            server.stop()
            result = await asyncio.wait_for(job, 30)
            elapsed = loop.time() - start
    finally:
        await redis.aclose()
        server.stop()

    assert len(result.ids_without_associations) == 20
    assert not result.failures
    assert limit.using_fallback
    assert 10 <= fallback.admitted <= 15
    # 5 per 0.5 s even without Redis: at least two more windows after the first.
    assert elapsed >= 1.0
    (warning,) = _warnings(caplog)
    assert f"Redis rate limit {key!r} unavailable" in warning
    assert "RateLimit(max_requests=5, interval=0.5)" in warning


async def test_unreachable_redis_paces_locally_and_warns_once(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    redis = aioredis.Redis(port=free_port())  # nothing listens there
    try:
        limit = RedisRateLimit(redis, key=key, max_requests=3, interval=0.3)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.gather(*(limit.acquire() for _ in range(7)))
        assert loop.time() - start >= 0.6  # 3 + 3 + 1 at 3 per 0.3 s
    finally:
        await redis.aclose()
    assert limit.using_fallback
    assert len(_warnings(caplog)) == 1


async def test_redis_that_never_answers_times_out_instead_of_hanging(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # read nothing, answer nothing

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = aioredis.Redis(port=port)
    try:
        limit = RedisRateLimit(redis, key=key, max_requests=10, interval=1.0, redis_timeout=0.2)
        await limit.acquire()  # pytest's timeout would catch a hang
    finally:
        await redis.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert limit.using_fallback
    (warning,) = _warnings(caplog)
    assert "TimeoutError" in warning


async def test_limiter_returns_to_redis_once_it_answers_again(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer()
    server.start()
    port = server.port
    server.stop()
    redis = aioredis.Redis(port=port)
    caplog.set_level(logging.INFO, logger="hubassoc")
    try:
        clock = FakeClock()
        fallback = _CountingLimiter(100, 10.0)
        limit = RedisRateLimit(
            redis,
            key=key,
            max_requests=20,
            interval=10.0,
            fallback=fallback,
            retry_redis_after=30.0,
            clock=clock,
        )
        await limit.acquire()
        on_fallback = [limit.using_fallback]
        server.start(port)
        await limit.acquire()  # Redis is back, but not tried again so soon
        on_fallback.append(limit.using_fallback)
        clock.now += 30.0
        await limit.acquire()
        on_fallback.append(limit.using_fallback)
        assert on_fallback == [True, True, False]
        assert fallback.admitted == 2
        assert await redis.zcard(f"{{{key}}}:window") == 1
    finally:
        await redis.aclose()
        server.stop()
    assert any("reachable again" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------- the basics


def test_hubassoc_imports_without_redis_installed() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import hubassoc\n"
        "try:\n"
        "    hubassoc.RedisRateLimit(object(), key='k')\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'hubassoc[redis]'" in done.stdout


async def test_arguments_are_checked(redis_client: aioredis.Redis) -> None:
    redis = redis_client
    with pytest.raises(hubassoc.InvalidInputError, match="key"):
        RedisRateLimit(redis, key="")
    with pytest.raises(hubassoc.InvalidInputError, match="max_requests"):
        RedisRateLimit(redis, key="k", max_requests=0)
    with pytest.raises(hubassoc.InvalidInputError, match="redis_timeout"):
        RedisRateLimit(redis, key="k", redis_timeout=0)
    limit = RedisRateLimit(redis, key="k", max_requests=190)
    assert repr(limit) == "RedisRateLimit(key='k', max_requests=190, interval=10.0)"
    assert isinstance(limit, hubassoc.RateLimiter)
