"""HubSpot's official ``hubspot-api-client`` (synchronous, OpenAPI-generated) as a baseline.

The SDK is synchronous, so concurrency comes from a ``ThreadPoolExecutor`` of
``concurrency`` workers, each running the same loop as the raw baseline: one chunk of
1,000 ids, then its continuations, until no id has a cursor. The SDK has no paging
helper for associations, so every user of it writes this loop. It is pointed at the
emulator through its ``Configuration.host`` (``HubSpot(host=...)`` sets it on every API
client it builds). ``batch_api`` is fetched once and shared: each access of the property
builds a new API client and connection pool, which would only make the SDK look worse.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiArchive,
    PublicDefaultAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)

from bench._measure import Outcome, Spec, run_client


def _batch_api(spec: Spec) -> Any:
    # The urllib3 pool must hold a connection per worker, or workers queue for one.
    client = HubSpot(
        access_token=spec.token, host=spec.url, connection_pool_maxsize=spec.concurrency
    )
    return client.crm.associations.v4.batch_api


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def read(spec: Spec) -> Outcome:
    """Read every association; the result is the SDK's own models, merged per from-id."""
    api = _batch_api(spec)

    def read_chunk(ids: list[str]) -> list[Any]:
        out: list[Any] = []
        inputs = [PublicFetchAssociationsBatchRequest(id=i) for i in ids]
        while inputs:
            page = api.get_page(
                spec.from_type,
                spec.to_type,
                BatchInputPublicFetchAssociationsBatchRequest(inputs=inputs),
            )
            if getattr(page, "errors", None):
                raise RuntimeError(f"errors in page: {page.errors[:2]}")
            out.extend(page.results)
            inputs = [
                PublicFetchAssociationsBatchRequest(id=r._from.id, after=r.paging.next.after)
                for r in page.results
                if r.paging is not None and r.paging.next is not None
            ]
        return out

    merged: dict[str, list[Any]] = {}
    with ThreadPoolExecutor(max_workers=spec.concurrency) as pool:
        for results in pool.map(read_chunk, _chunks(spec.ids, spec.read_chunk)):
            for r in results:
                merged.setdefault(r._from.id, []).extend(r.to)
    pairs = [(f, o.to_object_id) for f, to in merged.items() for o in to]
    return Outcome(associations=len(pairs), pairs=lambda: pairs)


def associate(spec: Spec) -> Outcome:
    """``create_default`` 100 pairs a request."""
    api = _batch_api(spec)

    def one(part: list[tuple[str, str]]) -> list[Any]:
        body = BatchInputPublicDefaultAssociationMultiPost(
            inputs=[
                PublicDefaultAssociationMultiPost(
                    _from=PublicObjectId(id=f), to=PublicObjectId(id=t)
                )
                for f, t in part
            ]
        )
        page = api.create_default(spec.from_type, spec.to_type, body)
        if getattr(page, "errors", None):
            raise RuntimeError(f"errors in page: {page.errors[:2]}")
        results: list[Any] = page.results
        return results

    with ThreadPoolExecutor(max_workers=spec.concurrency) as pool:
        results = [r for rs in pool.map(one, _chunks(spec.pairs, spec.write_chunk)) for r in rs]
    return Outcome(
        associations=len(results),
        pairs=lambda: ((str(r._from.id), str(r.to.id)) for r in results),
    )


def archive(spec: Spec) -> Outcome:
    """``archive`` 100 pairs a request, grouped by from-id."""
    api = _batch_api(spec)
    pairs = spec.pairs

    def one(part: list[tuple[str, str]]) -> None:
        grouped: dict[str, list[PublicObjectId]] = {}
        for f, t in part:
            grouped.setdefault(f, []).append(PublicObjectId(id=t))
        body = BatchInputPublicAssociationMultiArchive(
            inputs=[
                PublicAssociationMultiArchive(_from=PublicObjectId(id=f), to=to)
                for f, to in grouped.items()
            ]
        )
        api.archive(spec.from_type, spec.to_type, body)

    with ThreadPoolExecutor(max_workers=spec.concurrency) as pool:
        list(pool.map(one, _chunks(pairs, spec.write_chunk)))
    return Outcome(associations=len(pairs))


WORKLOADS = {"read": read, "associate": associate, "archive": archive}

if __name__ == "__main__":
    run_client("hubspot-api-client", WORKLOADS)
