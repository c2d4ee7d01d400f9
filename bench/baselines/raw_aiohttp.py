"""The raw baseline: a minimal hand-written aiohttp + JSON loop.

What someone writes without a library: split the ids into chunks of 1,000, post every
chunk under a semaphore of ``concurrency``, and let each chunk follow its own ids'
``paging.next.after`` cursors until none is left. It keeps the parsed JSON as it is (no
models) and uses orjson when installed, as hubassoc does, so the comparison is between
the libraries' own work and not between JSON codecs. No retries, no rate limit, no
error accounting: that is the point of a floor.
"""

from __future__ import annotations

import asyncio
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


class _Raw:
    """One session, one semaphore, one POST helper."""

    def __init__(self, spec: Spec, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.semaphore = asyncio.Semaphore(spec.concurrency)
        self.base = f"{spec.url}/crm/v4/associations/{spec.from_type}/{spec.to_type}/batch/"
        self.headers = {
            "Authorization": f"Bearer {spec.token}",
            "Content-Type": "application/json",
        }

    async def post(self, endpoint: str, inputs: list[Any]) -> Any:
        async with (
            self.semaphore,
            self.session.post(
                self.base + endpoint, data=dumps({"inputs": inputs}), headers=self.headers
            ) as response,
        ):
            body = await response.read()
            if response.status >= 300:
                raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
        return loads(body) if body else None

    async def read_chunk(self, ids: list[str], on_result: Callable[[dict[str, Any]], None]) -> None:
        """Read one chunk of ids, then its continuations, until no id has a cursor."""
        inputs: list[dict[str, str]] = [{"id": i} for i in ids]
        while inputs:
            page = await self.post("read", inputs)
            if page.get("errors"):
                raise RuntimeError(f"errors in page: {page['errors'][:2]}")
            inputs = []
            for result in page["results"]:
                on_result(result)
                paging = result.get("paging")
                if paging:
                    inputs.append({"id": result["from"]["id"], "after": paging["next"]["after"]})


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _with_raw(spec: Spec, job: Callable[[_Raw], Awaitable[Outcome]]) -> Outcome:
    connector = aiohttp.TCPConnector(limit=spec.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await job(_Raw(spec, session))


async def read(spec: Spec) -> Outcome:
    """Read every association, merged per from-id (raw ``to`` dicts, pages in order)."""
    merged: dict[str, list[dict[str, Any]]] = {}

    def keep(result: dict[str, Any]) -> None:
        merged.setdefault(result["from"]["id"], []).extend(result["to"])

    async def job(raw: _Raw) -> Outcome:
        await asyncio.gather(*(raw.read_chunk(c, keep) for c in _chunks(spec.ids, spec.read_chunk)))
        return Outcome(
            associations=sum(len(to) for to in merged.values()),
            pairs=lambda: ((f, str(o["toObjectId"])) for f, to in merged.items() for o in to),
        )

    return await _with_raw(spec, job)


async def stream(spec: Spec) -> Outcome:
    """Handle each result as its page arrives and keep only the checksum."""
    totals = [0, 0]

    def count(result: dict[str, Any]) -> None:
        to_ids = [o["toObjectId"] for o in result["to"]]
        totals[0] += len(to_ids)
        totals[1] += stream_check(result["from"]["id"], to_ids)

    async def job(raw: _Raw) -> Outcome:
        await asyncio.gather(
            *(raw.read_chunk(c, count) for c in _chunks(spec.ids, spec.read_chunk))
        )
        return Outcome(associations=totals[0], digest=f"{totals[0]}:{totals[1]}")

    return await _with_raw(spec, job)


async def associate(spec: Spec) -> Outcome:
    """Post the pairs 100 a request; keep every result dict."""

    async def job(raw: _Raw) -> Outcome:
        async def one(part: list[tuple[str, str]]) -> list[dict[str, Any]]:
            inputs = [{"from": {"id": f}, "to": {"id": t}} for f, t in part]
            page = await raw.post("associate/default", inputs)
            if page.get("errors"):
                raise RuntimeError(f"errors in page: {page['errors'][:2]}")
            results: list[dict[str, Any]] = page["results"]
            return results

        pages = await asyncio.gather(*(one(p) for p in _chunks(spec.pairs, spec.write_chunk)))
        results = [r for page in pages for r in page]
        return Outcome(
            associations=len(results),
            pairs=lambda: ((r["from"]["id"], r["to"]["id"]) for r in results),
        )

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
    "associate": associate,
    "archive": archive,
    "stream": stream,
    "latency": read,
}

if __name__ == "__main__":
    run_client("raw aiohttp", WORKLOADS)
