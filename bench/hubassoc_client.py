"""hubassoc under benchmark: ``python -m bench.hubassoc_client '<spec JSON>'``.

Each workload is what a user would write: one ``Client``, one call, and for the
streaming workload an ``async for`` that keeps nothing but counters.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp

import hubassoc
from bench._data import stream_check
from bench._measure import Outcome, Spec, run_client


def _client(spec: Spec, **kwargs: Any) -> hubassoc.Client:
    options: dict[str, Any] = {
        "base_url": spec.url,
        "max_concurrency": spec.concurrency,
        "read_chunk_size": spec.read_chunk,
        "write_chunk_size": spec.write_chunk,
        "rate_limit": None,
    }
    options.update(kwargs)
    return hubassoc.Client(spec.token, **options)


async def read(spec: Spec) -> Outcome:
    """(a) Read every association of the ids, merged into one result."""
    async with _client(spec) as client:
        result = await client.read(spec.from_type, spec.to_type, spec.ids)
    result.raise_for_errors()
    return Outcome(
        associations=sum(len(r.to) for r in result.results),
        pairs=lambda: ((r.from_id, o.to_object_id) for r in result.results for o in r.to),
    )


async def associate(spec: Spec) -> Outcome:
    """(b) Create the default association of every pair."""
    async with _client(spec) as client:
        result = await client.associate_default(spec.from_type, spec.to_type, spec.pairs)
    result.raise_for_errors()
    return Outcome(
        associations=len(result.results),
        pairs=lambda: ((r.from_id, r.to_id) for r in result.results),
    )


async def archive(spec: Spec) -> Outcome:
    """(c) Archive every pair; the runner checks the emulator's graph afterwards."""
    pairs = spec.pairs
    async with _client(spec) as client:
        result = await client.archive(spec.from_type, spec.to_type, pairs)
    result.raise_for_errors()
    return Outcome(associations=len(pairs))


async def stream(spec: Spec) -> Outcome:
    """(d) Stream every association through ``async for``, keeping only a checksum."""
    count = 0
    check = 0
    async with _client(spec) as client:
        async for item in client.read(spec.from_type, spec.to_type, spec.ids):
            to_ids = [o.to_object_id for o in item.to]
            count += len(to_ids)
            check += stream_check(item.from_id, to_ids)
    return Outcome(associations=count, digest=f"{count}:{check}")


async def rate(spec: Spec) -> Outcome:
    """(e) Read against a rate-limited emulator with the client's limit set to match.

    A trace hook records when each HTTP request starts and how it was answered, so the
    runner can compute the achieved rate and count 429s from the client's side too.
    """
    assert spec.rate_limit is not None
    starts: list[float] = []
    statuses: list[int] = []
    t0 = time.perf_counter()

    async def on_start(*_: Any) -> None:
        starts.append(time.perf_counter() - t0)

    async def on_end(_s: Any, _c: Any, params: aiohttp.TraceRequestEndParams) -> None:
        statuses.append(params.response.status)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    limit = hubassoc.RateLimit(spec.rate_limit[0], spec.rate_limit[1])
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        _client(spec, session=session, rate_limit=limit) as client,
    ):
        result = await client.read(spec.from_type, spec.to_type, spec.ids)
    result.raise_for_errors()
    return Outcome(
        associations=sum(len(r.to) for r in result.results),
        pairs=lambda: ((r.from_id, o.to_object_id) for r in result.results for o in r.to),
        extra={"request_starts": starts, "client_statuses": statuses},
    )


async def latency(spec: Spec) -> Outcome:
    """(f) The read of (a), small chunks, against an emulator that waits before answering."""
    return await read(spec)


WORKLOADS = {
    "read": read,
    "associate": associate,
    "archive": archive,
    "stream": stream,
    "rate": rate,
    "latency": latency,
}

if __name__ == "__main__":
    run_client("hubassoc", WORKLOADS)
