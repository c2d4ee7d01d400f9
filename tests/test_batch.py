"""Chunking, cursor bookkeeping and merging, tested without any I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hubassoc import AssociationCategory, AssociationSpec, BatchError, BatchResult, BatchStatus
from hubassoc._batch import REPEATED_CURSOR
from hubassoc._merge import Merger
from hubassoc._reading import ReadPlan
from hubassoc._writes import archive_plan, associate_plan, purge_plan


def _inputs(chunk_body: bytes) -> list[dict[str, Any]]:
    inputs: list[dict[str, Any]] = json.loads(chunk_body)["inputs"]
    return inputs


def _page(*results: tuple[str, list[str], str | None]) -> dict[str, Any]:
    out = []
    for from_id, to_ids, after in results:
        item: dict[str, Any] = {
            "from": {"id": from_id},
            "to": [{"toObjectId": t, "associationTypes": []} for t in to_ids],
        }
        if after is not None:
            item["paging"] = {"next": {"after": after}}
        out.append(item)
    return {"status": "COMPLETE", "results": out}


def test_read_chunks_never_exceed_the_chunk_size() -> None:
    plan = ReadPlan("contacts", "companies", [str(i) for i in range(2500)], 1000)
    sizes = []
    while (chunk := plan.next_chunk()) is not None:
        sizes.append(len(_inputs(chunk.body)))
        assert chunk.size == sizes[-1] == len(chunk.context["ids"])
    assert sizes == [1000, 1000, 500]
    assert plan.path == "/crm/v4/associations/contacts/companies/batch/read"


def test_continuations_come_first_with_their_cursor_unchanged() -> None:
    plan = ReadPlan("contacts", "companies", ["1", "2", "3"], 2)
    first = plan.next_chunk()
    assert first is not None
    assert _inputs(first.body) == [{"id": "1"}, {"id": "2"}]
    plan.complete(first, _page(("1", ["11"], "c%3D1"), ("2", ["12"], None)))
    second = plan.next_chunk()
    assert second is not None
    assert _inputs(second.body) == [{"id": "1", "after": "c%3D1"}, {"id": "3"}]
    assert plan.next_chunk() is None


def test_a_repeated_cursor_ends_that_id_with_an_error() -> None:
    plan = ReadPlan("contacts", "companies", ["1"], 10)
    chunk = plan.next_chunk()
    assert chunk is not None
    page = plan.complete(chunk, _page(("1", ["11"], "same")))
    assert not page.errors
    chunk = plan.next_chunk()
    assert chunk is not None
    page = plan.complete(chunk, _page(("1", ["12"], "same")))
    assert plan.next_chunk() is None
    [error] = page.errors
    assert error.sub_category == REPEATED_CURSOR
    assert error.ids == ["1"]
    assert page.results[0].to_ids == ["12"]


def test_path_object_types_are_quoted() -> None:
    plan = associate_plan("p_cars", "2-123", [("1", "2")], 10)
    assert plan.path == "/crm/v4/associations/p_cars/2-123/batch/associate/default"


def test_write_chunks_account_for_every_pair() -> None:
    pairs = [(str(i // 3), str(i)) for i in range(250)]
    plan = associate_plan("contacts", "companies", pairs, 100)
    seen: list[tuple[str, str]] = []
    while (chunk := plan.next_chunk()) is not None:
        body = _inputs(chunk.body)
        assert len(body) <= 100
        seen.extend((i["from"]["id"], i["to"]["id"]) for i in body)
        assert list(zip(chunk.context["ids"], chunk.context["toIds"], strict=True)) == [
            (i["from"]["id"], i["to"]["id"]) for i in body
        ]
    assert seen == pairs


def test_archive_groups_by_from_id_and_bounds_pairs_per_request() -> None:
    pairs = [("1", str(t)) for t in range(150)] + [("2", "x")]
    plan = archive_plan("contacts", "companies", pairs, 100)
    chunks = []
    while (chunk := plan.next_chunk()) is not None:
        chunks.append(_inputs(chunk.body))
    assert [sum(len(i["to"]) for i in c) for c in chunks] == [100, 51]
    assert chunks[1][0]["from"] == {"id": "1"}
    assert chunks[1][1] == {"from": {"id": "2"}, "to": [{"id": "x"}]}


def test_a_write_answered_204_is_a_complete_empty_page() -> None:
    plan = archive_plan("contacts", "companies", [("1", "2")], 100)
    chunk = plan.next_chunk()
    assert chunk is not None
    page = plan.complete(chunk, None)
    assert (page.status, page.results, page.errors) == (BatchStatus.COMPLETE, [], [])


def test_purge_body_uses_category_and_type_id() -> None:
    specs = [
        AssociationSpec(AssociationCategory.USER_DEFINED, 3),
        AssociationSpec("HUBSPOT_DEFINED", 1),
    ]
    plan = purge_plan("contacts", "companies", specs, 100)
    chunk = plan.next_chunk()
    assert chunk is not None
    assert _inputs(chunk.body) == [
        {"category": "USER_DEFINED", "typeId": 3},
        {"category": "HUBSPOT_DEFINED", "typeId": 1},
    ]
    assert (
        plan.path
        == "/crm/associations/v4/definitions/configurations/contacts/companies/batch/purge"
    )


def _at(second: int) -> datetime:
    return datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC)


def test_merge_status_timestamps_and_errors() -> None:
    merger: Merger[Any] = Merger()
    merger.add(BatchResult(status=BatchStatus.COMPLETE, started_at=_at(5), completed_at=_at(9)))
    merger.add(BatchResult(status=BatchStatus.PENDING, requested_at=_at(1), started_at=_at(3)))
    merger.add(BatchResult(errors=[BatchError(message="x")], completed_at=_at(20)))
    result = merger.result()
    assert result.status == BatchStatus.PENDING
    assert (result.requested_at, result.started_at, result.completed_at) == (
        _at(1),
        _at(3),
        _at(20),
    )
    assert result.num_errors == 1
    merger.add(BatchResult(status=BatchStatus.CANCELED))
    merger.add(BatchResult(status=BatchStatus.PROCESSING))
    assert merger.result().status == BatchStatus.CANCELED


def test_merge_with_no_timestamps_gives_none() -> None:
    merger: Merger[Any] = Merger()
    merger.add(BatchResult())
    result = merger.result()
    assert (result.requested_at, result.started_at, result.completed_at) == (None, None, None)
    assert result.status == BatchStatus.COMPLETE


def test_read_merge_is_one_item_per_id_in_input_order_pages_in_order() -> None:
    plan = ReadPlan("contacts", "companies", ["9", "1"], 10)
    merger = Merger[Any](["9", "1"])
    chunk = plan.next_chunk()
    assert chunk is not None
    merger.add(plan.complete(chunk, _page(("1", ["11", "12"], "p2"), ("9", ["26"], None))))
    chunk = plan.next_chunk()
    assert chunk is not None
    merger.add(plan.complete(chunk, _page(("1", ["13"], None))))
    result = merger.result()
    assert [(r.from_id, r.to_ids) for r in result.results] == [
        ("9", ["26"]),
        ("1", ["11", "12", "13"]),
    ]


def test_ended_ids_are_kept_only_for_a_consumer_that_asked() -> None:
    # completed() asks; an awaited or streamed read does not, and so holds no second
    # list of every id (8 MB for a million) until it ends.
    for tracked in (False, True):
        plan = ReadPlan("contacts", "companies", ["1", "2", "3"], 2)
        if tracked:
            plan.track_closed()
        first = plan.next_chunk()
        assert first is not None
        plan.complete(first, _page(("1", ["11"], "c1"), ("2", ["12"], None)))
        assert plan.take_closed() == (["2"] if tracked else [])
        second = plan.next_chunk()
        assert second is not None
        plan.complete(second, _page(("1", ["13"], None), ("3", ["14"], None)))
        assert plan.take_closed() == (["1", "3"] if tracked else [])
        assert plan.finished == 3
