"""Read results are held compactly: a guard on the objects the garbage collector must walk,
and proof that the compact form keeps the public meaning (counted, never timed)."""

from __future__ import annotations

import gc
import pickle
from array import array
from typing import Any

import hubassoc
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


def _client(hub: FakeHubSpot) -> hubassoc.Client:
    return hubassoc.Client(TOKEN, base_url=hub.url, rate_limit=None)


def _tracked(results: list[Any]) -> int:
    """GC-tracked objects a result list holds: the list, its items, and what they refer to
    (each shared object once; classes not counted)."""
    seen: set[int] = {id(results)}
    for item in results:
        for obj in [item, *gc.get_referents(item)]:
            if gc.is_tracked(obj) and not isinstance(obj, type):
                seen.add(id(obj))
    return len(seen)


async def test_a_large_result_holds_almost_no_gc_tracked_objects_per_association(
    hub: FakeHubSpot,
) -> None:
    # 200 ids x 50 associations, one id with several pages.
    graph = {str(i): [str(10_000 + i * 100 + k) for k in range(50)] for i in range(1, 201)}
    graph["1"] = [str(900_000 + k) for k in range(1_200)]
    hub.seed("contacts", "companies", graph)
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", list(graph))
    associations = sum(len(r) for r in result.results)
    assert associations == 199 * 50 + 1_200
    # Before compact storage: 2.15 per association (each object and its types list).
    per_association = _tracked(result.results) / associations
    assert per_association < 0.05, per_association


async def test_the_compact_form_keeps_the_public_meaning(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {"1": ["10", "11"], "2": ["20"]})
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", ["1", "2", "3"])
    first = result.results[0]
    assert first.from_id == "1"
    assert first.to_ids == ["10", "11"]
    assert [o.to_object_id for o in first.to] == ["10", "11"]
    assert all(isinstance(o.to_object_id, str) for o in first.to)
    assert all(o.association_types for o in first.to)
    assert pickle.loads(pickle.dumps(first)) == first
    assert first == hubassoc.AssociationRead("1", first.to)
    # The no-associations error is built on access, exactly as the emulator sent it.
    assert result.ids_without_associations == ["3"]
    assert result.num_errors == 1
    [error] = result.errors
    assert error.is_no_associations
    assert error.context["fromObjectId"] == ["3"]
    assert "3" in error.message
    assert result.failures == []


async def test_a_read_of_one_association_is_one_object_for_the_collector(hub: FakeHubSpot) -> None:
    # The to-ids of a read are packed in bytes, which the collector does not walk: an id
    # with one association costs its AssociationRead alone (an array made it two).
    graph = {str(i): [str(50_000 + i)] for i in range(1, 1_001)}
    hub.seed("contacts", "companies", graph)
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", list(graph))
    assert {r.from_id: r.to_ids for r in result.results} == graph
    per_association = _tracked(result.results) / len(graph)
    assert per_association < 1.01, per_association


def test_a_read_pickled_with_an_array_of_ids_still_loads() -> None:
    # What pickles carry (and carried before ids were packed): an array, portable across
    # byte orders.
    read = hubassoc.AssociationRead._of("1", array("q", [10, 11]), ())
    assert read.to_ids == ["10", "11"]
    assert len(read) == 2
    assert pickle.loads(pickle.dumps(read)) == read
