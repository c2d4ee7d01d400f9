"""Merged per-id streaming: ``op.completed()`` yields each from-id once, every page merged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import hubassoc
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


@pytest.fixture
async def paged() -> AsyncIterator[FakeHubSpot]:
    async with FakeHubSpot(token=TOKEN, page_size=3) as server:
        yield server


@pytest.fixture
async def serial(paged: FakeHubSpot) -> AsyncIterator[hubassoc.Client]:
    # One call at a time, ten ids a call: the order of events is the order of calls.
    async with hubassoc.Client(
        TOKEN, base_url=paged.url, rate_limit=None, max_concurrency=1, read_chunk_size=10
    ) as client:
        yield client


def graph(n: int) -> dict[str, list[str]]:
    """Ids 1..n: every third has none, every fifth has three pages, the rest one."""
    out: dict[str, list[str]] = {}
    for i in range(1, n + 1):
        if i % 3 == 0:
            continue
        count = 8 if i % 5 == 0 else 2
        out[str(i)] = [str(10_000 + i * 10 + k) for k in range(count)]
    return out


async def test_each_id_once_with_every_page_merged(
    paged: FakeHubSpot, serial: hubassoc.Client
) -> None:
    want = graph(60)
    paged.seed("contacts", "companies", want)
    got: dict[str, list[str]] = {}
    async for read in serial.read("contacts", "companies", range(1, 61)).completed():
        assert read.from_id not in got
        got[read.from_id] = read.to_ids
    assert got == want
    # Three-page ids really came in three pages each.
    assert len(paged.requests) > 6


async def test_an_id_comes_out_before_the_read_ends(
    paged: FakeHubSpot, serial: hubassoc.Client
) -> None:
    paged.seed("contacts", "companies", graph(60))
    stream = serial.read("contacts", "companies", range(1, 61)).completed()
    first = await anext(stream)
    # The first complete id arrived while most calls were still to be made.
    assert len(first.to_ids) in (2, 8)
    assert len(paged.requests) <= 3
    rest = [read async for read in stream]
    assert len(rest) + 1 == len(graph(60))


async def test_a_failed_id_is_not_yielded_and_its_failure_is_raised(
    paged: FakeHubSpot, serial: hubassoc.Client
) -> None:
    paged.seed("contacts", "companies", graph(30))
    paged.fail_ids([25])  # fails the whole call that asks for it
    got: list[str] = []

    async def consume() -> None:
        op = serial.read("contacts", "companies", range(1, 31))
        async for read in op.completed():
            got.append(read.from_id)  # noqa: PERF401 - kept as they come, before the raise

    with pytest.raises(hubassoc.BatchErrors) as caught:
        await consume()
    failed = {i for e in caught.value.errors for i in e.ids}
    assert "25" in failed
    assert len(failed) == 10
    # Everything else came out whole, and nothing of a failed call's ids did.
    assert set(got) == {k for k in graph(30) if k not in failed}


async def test_on_error_takes_the_failures_instead(
    paged: FakeHubSpot, serial: hubassoc.Client
) -> None:
    want = graph(30)
    paged.seed("contacts", "companies", want)
    paged.fail_ids([7])
    errors: list[hubassoc.BatchError] = []
    op = serial.read("contacts", "companies", range(1, 31))
    got = [read async for read in op.completed(on_error=errors.append)]
    failed = {i for e in errors for i in e.ids}
    assert "7" in failed
    assert {r.from_id: r.to_ids for r in got} == {k: v for k, v in want.items() if k not in failed}


async def test_one_records_list_is_one_read(paged: FakeHubSpot, serial: hubassoc.Client) -> None:
    to_ids = [str(5000 + i) for i in range(12)]
    paged.seed("contacts", "companies", {"101": to_ids})
    op = serial.associations.list("contacts", 101, "companies", limit=5)
    reads = [read async for read in op.completed()]
    assert [(r.from_id, r.to_ids) for r in reads] == [("101", to_ids)]
    assert len([r for r in paged.requests if r.method == "GET"]) == 3


async def test_writes_have_nothing_to_complete(serial: hubassoc.Client) -> None:
    op = serial.associate_default("contacts", "companies", [(1, 2)])
    with pytest.raises(TypeError, match="no per-id reads"):
        op.completed()
