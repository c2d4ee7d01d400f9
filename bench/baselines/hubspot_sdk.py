"""HubSpot's new ``hubspot-sdk`` (Stainless-generated, ``AsyncHubSpot`` on httpx) as a baseline.

Same loop as the raw baseline, with ``client.crm.associations.batch.get`` under a
semaphore. The SDK calls HubSpot's date-versioned paths
(``/crm/associations/2026-03/{from}/{to}/batch/read``) while the emulator serves the v4
paths of the same endpoints, so a wrapping httpx transport rewrites the path prefix;
that costs a string replace per request and nothing per association.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hubspot_sdk import AsyncHubSpot

from bench._measure import Outcome, Spec, run_client

_SDK_PREFIX = "/crm/associations/2026-03/"
_V4_PREFIX = "/crm/v4/associations/"


class _V4Paths(httpx.AsyncBaseTransport):
    """Send the SDK's date-versioned association paths to the emulator's v4 paths."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith(_SDK_PREFIX):
            request.url = request.url.copy_with(path=_V4_PREFIX + path[len(_SDK_PREFIX) :])
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _client(spec: Spec) -> AsyncHubSpot:
    limits = httpx.Limits(max_connections=spec.concurrency)
    transport = _V4Paths(httpx.AsyncHTTPTransport(limits=limits))
    return AsyncHubSpot(
        access_token=spec.token,
        base_url=spec.url,
        http_client=httpx.AsyncClient(transport=transport, limits=limits),
    )


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def read(spec: Spec) -> Outcome:
    """Read every association; the result is the SDK's pydantic models, merged per from-id."""
    semaphore = asyncio.Semaphore(spec.concurrency)
    merged: dict[str, list[Any]] = {}
    async with _client(spec) as client:

        async def read_chunk(ids: list[str]) -> None:
            inputs: list[Any] = [{"id": i} for i in ids]  # the SDK's TypedDict params
            while inputs:
                async with semaphore:
                    page = await client.crm.associations.batch.get(
                        spec.to_type, from_object_type=spec.from_type, inputs=inputs
                    )
                errors = getattr(page, "errors", None)
                if errors:
                    raise RuntimeError(f"errors in page: {errors[:2]}")
                inputs = []
                for r in page.results:
                    merged.setdefault(str(r.from_.id), []).extend(r.to)
                    if r.paging is not None and r.paging.next is not None:
                        inputs.append({"id": r.from_.id, "after": r.paging.next.after})

        await asyncio.gather(*(read_chunk(c) for c in _chunks(spec.ids, spec.read_chunk)))
    pairs = [(f, o.to_object_id) for f, to in merged.items() for o in to]
    return Outcome(associations=len(pairs), pairs=lambda: pairs)


async def associate(spec: Spec) -> Outcome:
    """``create_default`` 100 pairs a request."""
    semaphore = asyncio.Semaphore(spec.concurrency)
    async with _client(spec) as client:

        async def one(part: list[tuple[str, str]]) -> list[Any]:
            inputs: list[Any] = [{"from": {"id": f}, "to": {"id": t}} for f, t in part]
            async with semaphore:
                page = await client.crm.associations.batch.create_default(
                    spec.to_type, from_object_type=spec.from_type, inputs=inputs
                )
            results: list[Any] = page.results
            return results

        pages = await asyncio.gather(*(one(p) for p in _chunks(spec.pairs, spec.write_chunk)))
    results = [r for page in pages for r in page]
    return Outcome(
        associations=len(results),
        pairs=lambda: ((str(r.from_.id), str(r.to.id)) for r in results),
    )


async def archive(spec: Spec) -> Outcome:
    """``delete`` (batch/archive) 100 pairs a request, grouped by from-id."""
    semaphore = asyncio.Semaphore(spec.concurrency)
    pairs = spec.pairs
    async with _client(spec) as client:

        async def one(part: list[tuple[str, str]]) -> None:
            grouped: dict[str, list[dict[str, str]]] = {}
            for f, t in part:
                grouped.setdefault(f, []).append({"id": t})
            inputs: list[Any] = [{"from": {"id": f}, "to": to} for f, to in grouped.items()]
            async with semaphore:
                await client.crm.associations.batch.delete(
                    spec.to_type, from_object_type=spec.from_type, inputs=inputs
                )

        await asyncio.gather(*(one(p) for p in _chunks(pairs, spec.write_chunk)))
    return Outcome(associations=len(pairs))


WORKLOADS = {"read": read, "associate": associate, "archive": archive}

if __name__ == "__main__":
    run_client("hubspot-sdk", WORKLOADS)
