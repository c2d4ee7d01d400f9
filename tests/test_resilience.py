"""Resilience: faults survived with nothing lost, rate limits, retries, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import attrs
import pytest

import hubassoc
from hubassoc import RateLimit
from hubassoc._classify import RateLimitInfo
from hubassoc._operation import CHUNK_TASK_NAME
from hubassoc.testing import FakeHubSpot, Faults

from .conftest import TOKEN

N = 20_000


def _graph() -> dict[str, list[str]]:
    # 0 to 4 associations per id, and every 500th id with 250 (three pages).
    graph: dict[str, list[str]] = {}
    for i in range(N):
        count = 250 if i % 500 == 0 else i % 5
        if count:
            graph[str(i)] = [str(1_000_000 + i * 300 + k) for k in range(count)]
    return graph


GRAPH = _graph()

FAULT_MIXES = {
    "429-storm": Faults(rate_limit=0.3, retry_after=0.01),
    "5xx": Faults(server_error=0.2),
    "disconnects": Faults(disconnect=0.15),
    "truncated": Faults(truncated=0.15),
    "slow": Faults(slow=0.1, slow_seconds=0.4),
    "everything": Faults(
        rate_limit=0.06,
        retry_after=0.01,
        server_error=0.05,
        disconnect=0.05,
        truncated=0.05,
        slow=0.04,
        slow_seconds=0.4,
    ),
}


def _client(hub: FakeHubSpot, **kwargs: Any) -> hubassoc.Client:
    options: dict[str, Any] = {
        "base_url": hub.url,
        "rate_limit": None,
        "max_retries": 12,
        "max_retry_time": 60,
        "timeout": 0.3,
        "write_chunk_size": 500,
    }
    options.update(kwargs)
    return hubassoc.Client(TOKEN, **options)


@pytest.mark.parametrize(
    ("mix", "seed"), [(mix, 1) for mix in FAULT_MIXES] + [("everything", 2), ("everything", 3)]
)
async def test_nothing_lost_under_faults(mix: str, seed: int) -> None:
    faults = attrs.evolve(FAULT_MIXES[mix], seed=seed)
    retries: dict[str, int] = {}

    def count(progress: hubassoc.Progress) -> None:
        retries[progress.operation] = progress.retries

    async with FakeHubSpot(token=TOKEN) as hub:
        hub.seed("contacts", "companies", GRAPH)
        hub.faults = faults
        async with _client(hub, rate_limit=RateLimit(10_000, 1.0), on_progress=count) as client:
            result = await client.read("contacts", "companies", range(N))
            assert result.failures == []
            got = {r.from_id: r.to_ids for r in result.results}
            # Every association exactly once, in page order: no page of a retried call twice.
            assert got == GRAPH
            assert sorted(result.ids_without_associations, key=int) == [
                str(i) for i in range(N) if str(i) not in GRAPH
            ]

            pairs = [(str(i), str(900_000 + i)) for i in range(N)]
            created = await client.associate_default("deals", "tickets", pairs)
            assert created.failures == []
            assert hub.graph("deals", "tickets") == {f: [t] for f, t in pairs}

            archived = await client.archive("deals", "tickets", pairs[: N // 2])
            assert archived.failures == []
            assert hub.graph("deals", "tickets") == {f: [t] for f, t in pairs[N // 2 :]}
    # The mix really injected faults, and every operation lived through some.
    assert set(retries) == {"read", "associate_default", "archive"}
    assert sum(retries.values()) > 0


async def test_every_input_accounted_for_when_retries_run_out() -> None:
    async with FakeHubSpot(token=TOKEN, faults=Faults(seed=3, server_error=0.5)) as hub:
        hub.seed("contacts", "companies", GRAPH)
        async with _client(hub, max_retries=1, read_chunk_size=200) as client:
            result = await client.read("contacts", "companies", range(N))
    assert result.failures, "with half the calls failing and one retry, some chunks must fail"
    accounted = {r.from_id for r in result.results} | set(result.ids_without_associations)
    for error in result.failures:
        assert error.category == "RETRIES_EXHAUSTED"
        assert "gave up after 2 attempt(s)" in error.message
        accounted.update(error.ids)
    assert accounted == {str(i) for i in range(N)}
    failed = set(result.failed_ids)
    for item in result.results:
        if item.from_id not in failed:
            assert item.to_ids == GRAPH[item.from_id]


async def test_client_rate_limit_sees_no_429_at_the_server_limit() -> None:
    async with FakeHubSpot(token=TOKEN, rate_limit=(20, 0.5)) as hub:
        hub.seed("contacts", "companies", {str(i): ["1"] for i in range(60)})
        async with _client(
            hub, rate_limit=RateLimit(20, 0.5), read_chunk_size=1, timeout=10
        ) as client:
            result = await client.read("contacts", "companies", range(60))
    assert len(result.results) == 60
    assert hub.status_counts[429] == 0
    assert len(hub.requests) == 60


async def test_without_a_client_limit_429s_are_retried_to_completion() -> None:
    async with FakeHubSpot(token=TOKEN, rate_limit=(10, 0.3)) as hub:
        hub.seed("contacts", "companies", {str(i): ["1"] for i in range(40)})
        async with _client(hub, read_chunk_size=1, timeout=10) as client:
            result = await client.read("contacts", "companies", range(40))
    assert hub.status_counts[429] > 0
    assert result.failures == []
    assert len(result.results) == 40


class _Clock:
    """A clock the test moves by hand: waits end when the test says so, not the wall."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _is_blocked(limit: RateLimit) -> bool:
    waiter = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0)
    blocked = not waiter.done()
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter
    return blocked


async def test_a_429_pauses_every_queued_request() -> None:
    clock = _Clock()
    limit = RateLimit(1000, 10.0, clock=clock)
    await limit.acquire()
    limit.feedback(RateLimitInfo(), retry_after=30.0)
    assert await _is_blocked(limit)
    clock.now += 30.0
    await limit.acquire()


async def test_low_remaining_from_the_server_slows_the_client() -> None:
    clock = _Clock()
    limit = RateLimit(100, 10.0, clock=clock)
    await limit.acquire()
    # Other processes used the app's budget: the server has room for one more only,
    # which is kept for them as they go on (a margin of a fifth of what they use).
    limit.feedback(RateLimitInfo(max=100, remaining=1, interval=10.0), retry_after=None)
    assert await _is_blocked(limit)
    clock.now += 10.0
    await limit.acquire()


async def test_rolling_window_admits_max_requests_then_waits() -> None:
    clock = _Clock()
    limit = RateLimit(5, 30.0, clock=clock)
    for _ in range(5):
        await limit.acquire()
    assert await _is_blocked(limit)


def test_rate_limit_settings_are_checked() -> None:
    with pytest.raises(hubassoc.InvalidInputError):
        RateLimit(0, 10.0)
    with pytest.raises(hubassoc.InvalidInputError):
        RateLimit(10, 0)


async def test_retry_after_longer_than_the_budget_gives_up_at_once(hub: FakeHubSpot) -> None:
    hub.fail_next(5, 429, headers={"Retry-After": "3600"})
    async with _client(hub, max_retry_time=30) as client:
        result = await client.read("contacts", "companies", ["1"])
    assert len(hub.requests) == 1
    [error] = result.failures
    assert error.category == "RATE_LIMITS"
    assert error.ids == ["1"]


async def test_retries_are_logged_with_endpoint_chunk_size_attempt_and_reason(
    hub: FakeHubSpot, caplog: pytest.LogCaptureFixture
) -> None:
    hub.seed("contacts", "companies", {"1": ["2"]})
    hub.fail_next(1, 503, headers={"Retry-After": "0"})
    with caplog.at_level(logging.INFO, logger="hubassoc"):
        async with _client(hub) as client:
            await client.read("contacts", "companies", ["1", "3"])
    [record] = [r for r in caplog.records if r.name == "hubassoc"]
    message = record.getMessage()
    assert "/crm/v4/associations/contacts/companies/batch/read" in message
    assert "(2 inputs)" in message
    assert "attempt 1 of 13" in message
    assert "HTTP 503" in message


async def test_a_hung_server_does_not_hang_the_caller(hub: FakeHubSpot) -> None:
    hub.hold()
    async with _client(hub, max_retries=1, timeout=0.1) as client:
        result = await client.read("contacts", "companies", ["1"])
    hub.release()
    [error] = result.failures
    assert error.category == "RETRIES_EXHAUSTED"
    assert "no answer within 0.1s" in error.message


async def test_per_call_timeout_overrides_the_client_default(hub: FakeHubSpot) -> None:
    hub.hold()
    async with _client(hub, max_retries=0, timeout=30) as client:
        result = await client.read("contacts", "companies", ["1"], timeout=0.05)
    hub.release()
    assert "no answer within 0.05s" in result.failures[0].message


def _chunk_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == CHUNK_TASK_NAME]


async def test_cancelling_a_read_cancels_its_calls_and_the_client_stays_usable(
    hub: FakeHubSpot, caplog: pytest.LogCaptureFixture
) -> None:
    hub.seed("contacts", "companies", {str(i): ["1"] for i in range(100)})
    async with _client(hub, read_chunk_size=10, max_concurrency=4, timeout=30) as client:
        hub.hold()
        task = asyncio.ensure_future(client.read("contacts", "companies", range(100)))
        await hub.wait_for_in_flight(4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _chunk_tasks() == []
        hub.release()
        result = await client.read("contacts", "companies", ["1", "2"])
        assert [r.from_id for r in result.results] == ["1", "2"]
    assert not [
        r for r in caplog.records if "destroyed" in r.getMessage() or "Unclosed" in r.getMessage()
    ]


async def test_breaking_out_of_async_for_releases_in_flight_calls(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {str(i): ["1"] for i in range(100)})
    async with _client(hub, read_chunk_size=10, max_concurrency=3, timeout=30) as client:
        async for item in client.read("contacts", "companies", range(100)):
            assert item.to_ids == ["1"]
            hub.hold()  # the calls started while we look at this item stay in flight
            break
        # CPython closes the abandoned iterator at once; its calls are cancelled.
        pending = _chunk_tasks()
        if pending:
            await asyncio.wait(pending)
        assert all(t.cancelled() or t.done() for t in pending)
        assert _chunk_tasks() == []
        hub.release()
        again = await client.read("contacts", "companies", ["5"])
        assert again.results[0].to_ids == ["1"]


async def test_aclosing_a_stream_cancels_at_once(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {str(i): ["1"] for i in range(100)})
    async with _client(hub, read_chunk_size=10, timeout=30) as client:
        pages = client.read("contacts", "companies", range(100)).pages()
        async with contextlib.aclosing(pages):
            first = await anext(pages)
            hub.hold()
        assert len(first.results) == 10
        assert _chunk_tasks() == []
        hub.release()


async def test_a_fatal_error_cancels_the_other_chunks(hub: FakeHubSpot) -> None:
    async with _client(hub, read_chunk_size=10, max_concurrency=4) as client:
        hub.fail_next(1, 401)
        with pytest.raises(hubassoc.AuthenticationError):
            await client.read("contacts", "companies", range(1000))
        assert _chunk_tasks() == []
    assert len(hub.requests) < 100


async def test_a_429_waits_its_retry_after_not_a_window_of_phantoms() -> None:
    clock = _Clock()
    limit = RateLimit(100, 10.0, clock=clock)
    await limit.acquire()
    # A 429 also says Remaining: 0; its Retry-After is what counts.
    limit.feedback(RateLimitInfo(max=100, remaining=0, interval=10.0), retry_after=0.01)
    assert await _is_blocked(limit)
    clock.now += 0.01
    await limit.acquire()


async def test_remaining_of_a_slow_answer_is_read_against_the_window_at_its_send() -> None:
    clock = _Clock()
    limit = RateLimit(5, 10.0, clock=clock)
    for remaining in (4, 3, 2, 1):
        await limit.acquire()
        clock.now += 0.01
        limit.feedback(RateLimitInfo(max=5, remaining=remaining, interval=10.0), retry_after=None)
    clock.now += 9.0
    await limit.acquire()  # a slow request: its answer comes 1.5 s later
    clock.now += 1.5
    # HubSpot counted the four older requests with it; they have left the window since,
    # so this Remaining: 0 is no sign of another process: four more may go at once.
    limit.feedback(RateLimitInfo(max=5, remaining=0, interval=10.0), retry_after=None)
    for _ in range(4):
        await limit.acquire()
    assert await _is_blocked(limit)


def test_a_rate_limit_keeps_its_window_across_event_loops() -> None:
    limit = RateLimit(2, 30.0)

    async def take(n: int) -> None:
        for _ in range(n):
            await limit.acquire()

    asyncio.run(take(2))
    with pytest.raises(TimeoutError):
        asyncio.run(asyncio.wait_for(take(1), 0.05))


async def test_ids_a_2xx_answer_leaves_out_are_reported_not_lost(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {"1": ["2"]})
    hub.fail_next(1, 200, body=b'{"status": "COMPLETE", "results": []}')
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", ["1", "2"])
    [error] = result.failures
    assert error.category == "INVALID_RESPONSE"
    assert error.ids == ["1", "2"]
    assert result.failed_ids == ["1", "2"]


@pytest.mark.parametrize("paging", ['"none"', '{"next": "x"}'])
async def test_malformed_paging_fails_only_that_chunk(hub: FakeHubSpot, paging: str) -> None:
    hub.seed("contacts", "companies", {"1": ["2"]})
    body = (
        '{"status": "COMPLETE", "results": [{"from": {"id": "1"}, "to": [], "paging": '
        + paging
        + "}]}"
    )
    hub.fail_next(1, 200, body=body.encode(), path_contains="batch/read")
    async with _client(hub, read_chunk_size=1) as client:
        result = await client.read("contacts", "companies", ["1", "3"])
    assert [e.category for e in result.failures] == ["INVALID_RESPONSE"]
    assert set(result.failed_ids) | set(result.ids_without_associations) | {
        r.from_id for r in result.results
    } == {"1", "3"}


def test_retry_after_nan_is_ignored() -> None:
    from hubassoc._classify import parse_retry_after

    assert parse_retry_after("nan") is None
    assert parse_retry_after("inf") == float("inf")
