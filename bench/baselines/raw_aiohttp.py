"""The raw baseline: a minimal hand-written aiohttp + orjson loop.

What someone writes without a library: ``concurrency`` workers take chunks of 1,000 ids
in turn, and each follows its chunk's ``paging.next.after`` cursors until none is left
before taking the next (only the chunks being read are ever built, so a million ids do
not become a million request dicts at once). Each page is used as it arrives: a read
builds its ``(from_id, toObjectId)`` pairs straight from the parsed JSON (``toObjectId``
kept as the number HubSpot sends), takes the ids of the NO_ASSOCIATIONS_FOUND errors, and
raises on any other error. orjson when installed, as hubassoc. No retries, no models, no
error accounting: that is the point of a floor. The rate-limited workload adds what the
shortest correct loop needs: a window of the announced size whose slots are freed a
window after each answer, and a wait-and-retry on 429; it does not read the rate-limit
headers, so it cannot notice another process spending the same budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bench._data import stream_check
from bench._measure import Outcome, Spec, run_client

try:
    import orjson

    loads: Callable[[bytes], Any] = orjson.loads
    dumps: Callable[[Any], bytes] = orjson.dumps
except ImportError:  # pragma: no cover - orjson is in the dev extra
    import json

    loads = json.loads

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj).encode()


NO_ASSOCIATIONS = "crm.associations.NO_ASSOCIATIONS_FOUND"

Page = dict[str, Any]


class _Window:
    """At most ``n`` requests per ``seconds``: a slot is taken when a request is sent and
    given back ``seconds`` after its answer arrived.

    Freeing a slot from the answer rather than from the send keeps the client's window
    behind the server's, which stamps a request when it arrives (after any queueing),
    so the loop never sends into a full window and needs no header reading.
    """

    def __init__(self, n: int, seconds: float) -> None:
        self.n, self.seconds = n, seconds
        self.slots = asyncio.Semaphore(n)

    async def acquire(self) -> None:
        await self.slots.acquire()

    def release(self) -> None:
        asyncio.get_running_loop().call_later(self.seconds, self.slots.release)


class _Raw:
    """One session, one semaphore, one POST helper."""

    def __init__(
        self, spec: Spec, session: aiohttp.ClientSession, window: _Window | None = None
    ) -> None:
        self.session = session
        self.semaphore = asyncio.Semaphore(spec.concurrency)
        self.window = window
        self.base = f"{spec.url}/crm/v4/associations/{spec.from_type}/{spec.to_type}/batch/"
        self.headers = {
            "Authorization": f"Bearer {spec.token}",
            "Content-Type": "application/json",
        }

    async def post(self, endpoint: str, inputs: list[Any]) -> Any:
        data = dumps({"inputs": inputs})
        async with self.semaphore:
            while True:
                if self.window is not None:
                    await self.window.acquire()
                try:
                    async with self.session.post(
                        self.base + endpoint, data=data, headers=self.headers
                    ) as response:
                        body = await response.read()
                        status = response.status
                finally:
                    if self.window is not None:
                        self.window.release()
                if status == 429 and self.window is not None:
                    await asyncio.sleep(self.window.seconds)
                    continue
                if status >= 300:
                    raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
                return loads(body) if body else None

    async def read_chunk(self, ids: list[str], on_page: Callable[[Page], None]) -> None:
        """Read one chunk of ids, then its continuations, until no id has a cursor."""
        inputs: list[dict[str, str]] = [{"id": i} for i in ids]
        while inputs:
            page = await self.post("read", inputs)
            on_page(page)
            inputs = [
                {"id": r["from"]["id"], "after": r["paging"]["next"]["after"]}
                for r in page["results"]
                if "paging" in r
            ]


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _without(page: Page, into: list[str]) -> None:
    """Take the ids HubSpot has no associations for; any other error is a failure."""
    for error in page.get("errors") or ():
        if error.get("subCategory") != NO_ASSOCIATIONS:
            raise RuntimeError(f"error in page: {error}")
        into.extend(error["context"]["fromObjectId"])


async def _workers(raw: _Raw, spec: Spec, on_page: Callable[[Page], None]) -> None:
    """``concurrency`` workers sharing one iterator over the chunks."""
    ids, size = spec.ids, spec.read_chunk
    starts = iter(range(0, len(ids), size))

    async def worker() -> None:
        for start in starts:
            await raw.read_chunk(ids[start : start + size], on_page)

    await asyncio.gather(*(worker() for _ in range(spec.concurrency)))


async def _read_all(
    spec: Spec,
    on_page: Callable[[Page], None],
    window: _Window | None = None,
    trace: aiohttp.TraceConfig | None = None,
) -> None:
    connector = aiohttp.TCPConnector(limit=spec.concurrency)
    traces = [trace] if trace is not None else None
    async with aiohttp.ClientSession(connector=connector, trace_configs=traces) as session:
        await _workers(_Raw(spec, session, window), spec, on_page)


def _pairs_reader() -> tuple[Callable[[Page], None], list[tuple[str, Any]], list[str]]:
    pairs: list[tuple[str, Any]] = []
    without: list[str] = []

    def on_page(page: Page) -> None:
        for r in page["results"]:
            f = r["from"]["id"]
            pairs.extend([(f, t["toObjectId"]) for t in r["to"]])
        _without(page, without)

    return on_page, pairs, without


async def read(spec: Spec) -> Outcome:
    """Every pair and every id without associations, built as the pages arrive."""
    on_page, pairs, without = _pairs_reader()
    await _read_all(spec, on_page)
    return Outcome(associations=len(pairs), pairs=lambda: pairs, without=lambda: without)


async def stream(spec: Spec) -> Outcome:
    """Touch every ``toObjectId`` as its page arrives and keep only the checksum."""
    totals = [0, 0]

    def on_page(page: Page) -> None:
        for r in page["results"]:
            to_ids = [t["toObjectId"] for t in r["to"]]
            totals[0] += len(to_ids)
            totals[1] += stream_check(r["from"]["id"], len(to_ids))
        _without(page, [])

    await _read_all(spec, on_page)
    return Outcome(associations=totals[0], digest=f"{totals[0]}:{totals[1]}")


async def none(spec: Spec) -> Outcome:
    """Ids without associations, kept: the same loop, the 207s' errors taken."""
    on_page, pairs, without = _pairs_reader()
    await _read_all(spec, on_page)
    n = len(without)
    return Outcome(associations=len(pairs), without=lambda: without, extra={"ids_without": n})


async def none_stream(spec: Spec) -> Outcome:
    """The same, counting the ids page by page and keeping nothing."""
    totals = [0, 0]

    def on_page(page: Page) -> None:
        for r in page["results"]:
            totals[0] += len([t["toObjectId"] for t in r["to"]])
        ids: list[str] = []
        _without(page, ids)
        totals[1] += len(ids)

    await _read_all(spec, on_page)
    return Outcome(
        associations=totals[0], without_count=totals[1], extra={"ids_without": totals[1]}
    )


async def rate(spec: Spec) -> Outcome:
    """The read under a client-side rolling window, stamping every request like hubassoc's."""
    assert spec.rate_limit is not None
    stamps: list[tuple[float, int]] = []
    on_page, pairs, without = _pairs_reader()
    window = _Window(*spec.rate_limit)

    async def on_start(_s: Any, ctx: Any, _p: Any) -> None:
        ctx.started = time.monotonic()

    async def on_end(_s: Any, ctx: Any, params: aiohttp.TraceRequestEndParams) -> None:
        stamps.append((ctx.started, params.response.status))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    await _read_all(spec, on_page, window, trace)
    return Outcome(
        associations=len(pairs),
        pairs=lambda: pairs,
        without=lambda: without,
        extra={"stamps": stamps},
    )


async def _with_raw(spec: Spec, job: Callable[[_Raw], Awaitable[Outcome]]) -> Outcome:
    connector = aiohttp.TCPConnector(limit=spec.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await job(_Raw(spec, session))


async def associate(spec: Spec) -> Outcome:
    """Post the pairs 100 a request; keep every result's pair."""

    async def job(raw: _Raw) -> Outcome:
        async def one(part: list[tuple[str, str]]) -> list[tuple[str, str]]:
            inputs = [{"from": {"id": f}, "to": {"id": t}} for f, t in part]
            page = await raw.post("associate/default", inputs)
            if page.get("errors"):
                raise RuntimeError(f"errors in page: {page['errors'][:2]}")
            return [(r["from"]["id"], r["to"]["id"]) for r in page["results"]]

        pages = await asyncio.gather(*(one(p) for p in _chunks(spec.pairs, spec.write_chunk)))
        pairs = [p for page in pages for p in page]
        return Outcome(associations=len(pairs), pairs=lambda: pairs)

    return await _with_raw(spec, job)


async def archive(spec: Spec) -> Outcome:
    """Post the pairs 100 a request, grouped by from-id as the endpoint wants."""
    pairs = spec.pairs

    async def job(raw: _Raw) -> Outcome:
        async def one(part: list[tuple[str, str]]) -> None:
            grouped: dict[str, list[dict[str, str]]] = {}
            for f, t in part:
                grouped.setdefault(f, []).append({"id": t})
            await raw.post("archive", [{"from": {"id": f}, "to": to} for f, to in grouped.items()])

        await asyncio.gather(*(one(p) for p in _chunks(pairs, spec.write_chunk)))
        return Outcome(associations=len(pairs))

    return await _with_raw(spec, job)


WORKLOADS = {
    "read": read,
    # The loop above already takes each page's pairs as it arrives.
    "read-stream": read,
    "stream": stream,
    "none": none,
    "none-stream": none_stream,
    "rate": rate,
    "associate": associate,
    "archive": archive,
}

if __name__ == "__main__":
    run_client("raw aiohttp", WORKLOADS)
