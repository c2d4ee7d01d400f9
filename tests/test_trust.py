"""Answers that look right and are not: nothing invented, nothing dropped without a word,
every call ends. Each test drives the public API against the emulator's misbehaviour modes."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import hubassoc
from hubassoc import BatchErrors, BatchStatus
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


def _client(hub: FakeHubSpot, **kwargs: Any) -> hubassoc.Client:
    options: dict[str, Any] = {"base_url": hub.url, "rate_limit": None, "max_retries": 1}
    options.update(kwargs)
    return hubassoc.Client(TOKEN, **options)


def _pairs(result: hubassoc.BatchResult[hubassoc.AssociationRead]) -> list[tuple[str, str]]:
    return [(r.from_id, t.to_object_id) for r in result.results for t in r.to]


def _invalid(result: hubassoc.BatchResult[Any]) -> list[hubassoc.BatchError]:
    return [e for e in result.errors if e.category == "INVALID_RESPONSE"]


@pytest.mark.parametrize("value", [1.5, True, None, {"x": 1}, 0, "1.0", "abc"])
async def test_a_to_object_id_that_is_no_record_id_is_never_made_a_string(
    hub: FakeHubSpot, value: Any
) -> None:
    hub.seed("contacts", "companies", {"1": ["10", "11"], "2": ["20"]})
    hub.misbehave("bad_id", field="toObjectId", value=value)
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", ["1", "2"])
    # The result holding it is withheld, the rest of the page stands.
    assert _pairs(result) == [("2", "20")]
    [error] = _invalid(result)
    assert error.ids == ["1"]
    assert "toObjectId was" in error.message
    assert result.failed_ids == ["1"]


async def test_a_from_id_that_is_no_record_id_names_the_asked_id_instead(
    hub: FakeHubSpot,
) -> None:
    hub.seed("contacts", "companies", {"1": ["10"]})
    hub.misbehave("bad_id", field="from.id", value=1.0)
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", [1])
    assert result.results == []
    assert "from.id was 1.0" in " ".join(e.message for e in result.errors)
    assert result.failed_ids == ["1"]  # asked, never answered: re-run it


async def test_a_result_for_an_id_never_asked_is_reported_not_returned(
    hub: FakeHubSpot, caplog: pytest.LogCaptureFixture
) -> None:
    hub.seed("contacts", "companies", {"1": ["10"]})
    hub.misbehave("unasked_result", value="999")
    with caplog.at_level(logging.WARNING, logger="hubassoc"):
        async with _client(hub) as client:
            result = await client.read("contacts", "companies", ["1"])
    assert _pairs(result) == [("1", "10")]
    [error] = _invalid(result)
    assert error.context["unaskedIds"] == ["999"]
    assert "999" not in result.failed_ids  # nothing to re-run: it was never asked
    assert any("not asked for" in r.getMessage() for r in caplog.records)


async def test_the_same_id_twice_in_a_page_gives_each_association_once(
    hub: FakeHubSpot,
) -> None:
    hub.seed("contacts", "companies", {"1": ["6", "7"]})
    hub.associate("contacts", "companies", "1", "6", type_id=1, label="Primary")
    hub.misbehave("duplicate_result", endpoints=["read"])
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", ["1"])
        streamed = [(r.from_id, r.to_ids) async for r in client.read("contacts", "companies", [1])]
    [read] = result.results
    assert read.to_ids == ["6", "7"]
    assert sorted(t.type_id for t in read.to[0].association_types) == [1, 279]
    assert streamed == [("1", ["6", "7"])]


async def test_a_to_object_listed_twice_in_one_result_is_given_once(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {"1": ["6", "7"], "2": ["8"], "3": ["9", "10", "11"]})
    hub.misbehave("repeated_to_object")
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", ["1", "2", "3"])
        streamed = [
            (r.from_id, r.to_ids) async for r in client.read("contacts", "companies", [1, 2, 3])
        ]
    expected = [("1", ["6", "7"]), ("2", ["8"]), ("3", ["9", "10", "11"])]
    assert [(r.from_id, r.to_ids) for r in result.results] == expected
    assert [len(t.association_types) for r in result.results for t in r.to] == [1] * 6
    assert streamed == expected
    assert result.errors == []


async def test_a_next_page_repeating_a_to_object_gives_it_once(hub: FakeHubSpot) -> None:
    hub.page_size = 3
    to_ids = [str(100 + i) for i in range(10)]
    hub.seed("contacts", "companies", {"1": to_ids, "2": ["5"]})
    hub.misbehave("overlapping_pages")
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", ["1", "2"])
        streamed = [p async for r in client.read("contacts", "companies", ["1"]) for p in r.to_ids]
    assert result.results[0].to_ids == to_ids
    assert result.failures == []
    assert streamed == to_ids  # streaming yields each pair once per id too


async def test_an_undocumented_status_is_kept_in_the_merge_and_logged_once(
    hub: FakeHubSpot, caplog: pytest.LogCaptureFixture
) -> None:
    hub.seed("contacts", "companies", {str(i): ["9"] for i in range(1, 6)})
    hub.misbehave("unknown_status", value="FAILED")
    with caplog.at_level(logging.WARNING, logger="hubassoc"):
        async with _client(hub, read_chunk_size=1) as client:
            result = await client.read("contacts", "companies", range(1, 6))
    assert result.status != BatchStatus.COMPLETE
    assert str(result.status) == "FAILED"
    assert sum("FAILED" in r.getMessage() for r in caplog.records) == 1


async def test_cursors_that_never_end_stop_at_max_pages_per_id(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {"1": ["10"], "2": ["20"]})
    hub.misbehave("endless_cursor", endpoints=["read"])
    async with _client(hub, max_pages_per_id=5) as client:
        result = await client.read("contacts", "companies", ["1", "2"])
    assert _pairs(result) == [("1", "10"), ("2", "20")]  # the pages read are kept
    [error] = result.failures
    assert (error.category, error.sub_category) == ("PAGING_ERROR", "hubassoc.TOO_MANY_PAGES")
    assert sorted(error.ids) == ["1", "2"]
    assert len(hub.requests) == 5


async def test_two_cursors_for_one_id_are_both_followed(hub: FakeHubSpot) -> None:
    hub.page_size = 4
    to_ids = [str(100 + i) for i in range(11)]
    hub.seed("contacts", "companies", {"1": to_ids})
    hub.misbehave("two_cursors")
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", ["1"])
    assert result.results[0].to_ids == to_ids
    assert result.failures == []
    followed = [i for r in hub.requests for i in r.body["inputs"] if "after" in i]
    assert len({i["after"] for i in followed}) >= 2


async def test_an_associate_answer_for_a_pair_never_sent_is_not_a_result(
    hub: FakeHubSpot,
) -> None:
    hub.misbehave("unasked_result", value="999", endpoints=["associate"])
    async with _client(hub) as client:
        result = await client.associate_default("contacts", "companies", [("1", "2")])
    assert [(r.from_id, r.to_id) for r in result.results] == [("1", "2")]
    [error] = _invalid(result)
    assert (error.context["unaskedIds"], error.context["unaskedToIds"]) == (["999"], ["999"])


@pytest.mark.parametrize(("field", "value"), [("from.id", 1.5), ("to.id", None)])
async def test_an_associate_answer_with_bad_ids_leaves_the_pair_unconfirmed(
    hub: FakeHubSpot, field: str, value: Any
) -> None:
    hub.misbehave("bad_id", field=field, value=value)
    async with _client(hub) as client:
        result = await client.associate_default("contacts", "companies", [("1", "2"), ("3", "4")])
    assert [(r.from_id, r.to_id) for r in result.results] == [("3", "4")]
    unconfirmed = [e for e in _invalid(result) if "toIds" in e.context]
    assert [(e.context["ids"], e.context["toIds"]) for e in unconfirmed] == [(["1"], ["2"])]


async def test_a_write_answer_confirming_nothing_names_every_pair(hub: FakeHubSpot) -> None:
    hub.misbehave("unconfirmed_write")
    pairs = [("1", "2"), ("1", "3"), ("5", "6")]
    async with _client(hub) as client:
        result = await client.associate_default("contacts", "companies", pairs)
    assert result.results == []
    [error] = result.failures
    assert list(zip(error.context["ids"], error.context["toIds"], strict=True)) == pairs
    assert hub.associations("contacts", "companies", "1") == ["2", "3"]  # it did happen


async def test_one_records_list_checks_ids_and_ends(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {"1": ["10", "11"]})
    hub.misbehave("endless_cursor", endpoints=["record_associations"])
    hub.misbehave("duplicate_result", endpoints=["record_associations"], times=1)
    async with _client(hub, max_pages_per_id=4) as client:
        result = await client.associations.list("contacts", 1, "companies", limit=500)
    assert [o.to_object_id for o in result.results] == ["10", "11"]
    [error] = result.failures
    assert error.sub_category == "hubassoc.TOO_MANY_PAGES"
    assert len(hub.requests) == 4
    hub.reset()
    hub.seed("contacts", "companies", {"1": ["10", "11"]})
    hub.misbehave("bad_id", field="toObjectId", value=True, endpoints=["record_associations"])
    async with _client(hub) as client:
        result = await client.associations.list("contacts", 1, "companies")
    assert [o.to_object_id for o in result.results] == ["11"]
    assert [e.ids for e in _invalid(result)] == [["1"]]


def test_batch_errors_needs_an_error() -> None:
    with pytest.raises(ValueError, match="at least one error"):
        BatchErrors([])


def test_an_unknown_misbehaviour_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown misbehaviour"):
        FakeHubSpot().misbehave("sulk")
