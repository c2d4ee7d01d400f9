"""hubassoc under benchmark: ``python -m bench.hubassoc_client '<spec JSON>'``.

Each workload is what a user would write: one ``Client``, one call, and then the use of
the result that the clock includes: every ``(r.from_id, t.to_object_id)`` taken from an
awaited result, every ``t.to_object_id`` touched while streaming, the ids without
associations counted. Only the public API is used, so the benchmark measures whatever
the library is when it runs.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
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
    """Await the merged result, then take every pair and the ids without associations."""
    async with _client(spec) as client:
        result = await client.read(spec.from_type, spec.to_type, spec.ids)
    awaited = time.perf_counter()
    result.raise_for_errors()
    pairs = [(r.from_id, t.to_object_id) for r in result.results for t in r.to]
    without = result.ids_without_associations
    # Inside the clock: what the awaited form pays after the network time (latency rows).
    used = {"use_after_await_s": time.perf_counter() - awaited}
    return Outcome(
        associations=len(pairs), pairs=lambda: pairs, without=lambda: without, extra=used
    )


async def read_stream(spec: Spec) -> Outcome:
    """``async for`` over the read, every pair taken as its page arrives."""
    pairs: list[tuple[str, str]] = []
    async with _client(spec) as client:
        async for r in client.read(spec.from_type, spec.to_type, spec.ids):
            from_id = r.from_id
            pairs.extend([(from_id, t.to_object_id) for t in r.to])
    return Outcome(associations=len(pairs), pairs=lambda: pairs, without=list)


async def stream(spec: Spec) -> Outcome:
    """``async for`` over the read; every ``to_object_id`` touched, nothing kept."""
    count = 0
    check = 0
    async with _client(spec) as client:
        async for item in client.read(spec.from_type, spec.to_type, spec.ids):
            to_ids = [t.to_object_id for t in item.to]
            count += len(to_ids)
            check += stream_check(item.from_id, len(to_ids))
    return Outcome(associations=count, digest=f"{count}:{check}")


async def none(spec: Spec) -> Outcome:
    """Await a read of ids that have no associations; count the ids HubSpot reported."""
    async with _client(spec) as client:
        result = await client.read(spec.from_type, spec.to_type, spec.ids)
    result.raise_for_errors()
    n = len(result.ids_without_associations)
    associations = sum(len(r.to) for r in result.results)
    return Outcome(
        associations=associations,
        without=lambda: result.ids_without_associations,
        extra={"ids_without": n},
    )


async def none_stream(spec: Spec) -> Outcome:
    """Stream the same read page by page (items carry no errors, pages do)."""
    n = 0
    associations = 0
    async with _client(spec) as client:
        async for page in client.read(spec.from_type, spec.to_type, spec.ids).pages():
            page.raise_for_errors()
            n += len(page.ids_without_associations)
            for item in page.results:
                associations += len([t.to_object_id for t in item.to])
    return Outcome(associations=associations, without_count=n, extra={"ids_without": n})


def _stamping_session() -> tuple[aiohttp.ClientSession, list[tuple[float, int]]]:
    """A session recording when each request started (system-wide monotonic clock) and
    how it was answered, so the runner can line it up with another process's requests."""
    stamps: list[tuple[float, int]] = []

    async def on_start(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
        ctx.started = time.monotonic()

    async def on_end(_s: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        stamps.append((ctx.started, params.response.status))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    return aiohttp.ClientSession(trace_configs=[trace]), stamps


async def rate(spec: Spec) -> Outcome:
    """The read against a rate-limited emulator, ``RateLimit`` set to the server's limit."""
    assert spec.rate_limit is not None
    session, stamps = _stamping_session()
    limit = hubassoc.RateLimit(spec.rate_limit[0], spec.rate_limit[1])
    async with session, _client(spec, session=session, rate_limit=limit) as client:
        result = await client.read(spec.from_type, spec.to_type, spec.ids)
    result.raise_for_errors()
    pairs = [(r.from_id, t.to_object_id) for r in result.results for t in r.to]
    without = result.ids_without_associations
    return Outcome(
        associations=len(pairs),
        pairs=lambda: pairs,
        without=lambda: without,
        extra={"stamps": stamps},
    )


async def associate(spec: Spec) -> Outcome:
    """Create the default association of every pair."""
    async with _client(spec) as client:
        result = await client.associate_default(spec.from_type, spec.to_type, spec.pairs)
    result.raise_for_errors()
    pairs = [(r.from_id, r.to_id) for r in result.results]
    return Outcome(associations=len(pairs), pairs=lambda: pairs)


async def archive(spec: Spec) -> Outcome:
    """Archive every pair; the runner checks the emulator's graph afterwards."""
    pairs = spec.pairs
    async with _client(spec) as client:
        result = await client.archive(spec.from_type, spec.to_type, pairs)
    result.raise_for_errors()
    return Outcome(associations=len(pairs))


WORKLOADS = {
    "read": read,
    "read-stream": read_stream,
    "stream": stream,
    "none": none,
    "none-stream": none_stream,
    "rate": rate,
    "associate": associate,
    "archive": archive,
}

if __name__ == "__main__":
    run_client("hubassoc", WORKLOADS)
