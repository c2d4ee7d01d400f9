"""The read path's costs that the benchmark relies on, counted (never timed)."""

from __future__ import annotations

import aiohttp

import hubassoc
from hubassoc._models import BatchError
from hubassoc._pages import parse_read_page
from hubassoc._wire import converter
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


async def test_no_associations_errors_as_the_emulator_sends_them_are_held_compactly(
    hub: FakeHubSpot,
) -> None:
    # The emulator's errors carry HubSpot's full error schema (empty "errors" and
    # "links"); they must still take the compact form, and rebuild exactly.
    ids = [str(i) for i in range(1, 51)]
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            hub.url + "/crm/v4/associations/contacts/companies/batch/read",
            json={"inputs": [{"id": i} for i in ids]},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        raw = await response.json()
    assert all("errors" in e and "links" in e for e in raw["errors"])
    page, _ = parse_read_page(raw)
    assert page._errors == []
    assert page.num_errors == 50
    assert page.errors == [converter.structure(e, BatchError) for e in raw["errors"]]
    async with hubassoc.Client(TOKEN, base_url=hub.url, rate_limit=None) as client:
        result = await client.read("contacts", "companies", ids)
    assert result.ids_without_associations == ids
    assert result.errors == page.errors


def test_an_error_with_details_or_links_is_not_held_compactly() -> None:
    base = {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": "No company is associated with contact 5.",
        "context": {"fromObjectId": ["5"]},
    }
    detailed = {**base, "errors": [{"message": "why"}], "links": {"docs": "https://x"}}
    page, _ = parse_read_page({"status": "COMPLETE", "results": [], "errors": [detailed]})
    assert len(page._errors) == 1
    assert page.errors == [converter.structure(detailed, BatchError)]
    assert page.errors[0].links == {"docs": "https://x"}
    assert page.ids_without_associations == ["5"]


def _no_assoc(from_id: object, **changes: object) -> dict[str, object]:
    error: dict[str, object] = {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No company is associated with contact {from_id}.",
        "context": {"fromObjectId": [from_id], "toObjectType": ["company"]},
        "errors": [],
        "links": {},
    }
    error.update(changes)
    return error


def test_errors_unlike_their_neighbours_keep_their_meaning() -> None:
    raw_errors = [
        _no_assoc("1"),
        _no_assoc("2"),
        _no_assoc("3", context={"fromObjectId": "3", "toObjectType": ["company"]}),
        _no_assoc("4", context={"fromObjectId": ["4", "5"], "toObjectType": ["company"]}),
        _no_assoc(6),
        _no_assoc("7", extra="x"),
        _no_assoc("8", message="No deal is associated with contact 8."),
        _no_assoc("9", context={"fromObjectId": ["9"], "toObjectType": "company"}),
        _no_assoc("10", status=1),
        _no_assoc("11", errors=[{}]),
        _no_assoc("12"),
        ["not", "an", "error"],
        _no_assoc("13", subCategory="OTHER"),
    ]
    page, _ = parse_read_page({"status": "COMPLETE", "results": [], "errors": raw_errors})
    expected = [converter.structure(e, BatchError) for e in raw_errors if isinstance(e, dict)]
    assert sorted(map(repr, page.errors)) == sorted(map(repr, expected))
    assert sorted(page.ids_without_associations) == sorted(
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
    )
    # Only the errors alike but for the id are held compactly.
    assert len(page._errors) == 8


def _result(from_id: str, to_ids: list[int], type_id: int = 279) -> dict[str, object]:
    kinds = [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
    return {
        "from": {"id": from_id},
        "to": [{"toObjectId": t, "associationTypes": kinds} for t in to_ids],
    }


def test_a_usual_page_parses_at_once_as_result_by_result_and_keeps_the_asked_strings() -> None:
    results = [_result(str(i), [1000 + i, 2000 + i]) for i in range(1, 30)]
    results[3]["paging"] = {"next": {"after": "abc%3D"}}
    raw = {"status": "COMPLETE", "results": results}
    asked_ids = [str(i) for i in range(1, 30)]
    asked = dict(zip(asked_ids, asked_ids, strict=True))
    page, cursors = parse_read_page(raw, asked)
    assert [r.from_id for r in page.results] == asked_ids
    assert all(r.from_id is a for r, a in zip(page.results, asked_ids, strict=True))
    assert [r.to for r in page.results] == [
        converter.structure(r, hubassoc.AssociationRead).to for r in results
    ]
    assert cursors == [("4", "abc%3D")]
    # Pages it does not fit (types that differ, an id that is not a record id) give the
    # same results, or withhold what cannot be believed, one result at a time.
    mixed = [*results[:2], _result("40", [5], type_id=1)]
    page, _ = parse_read_page({"status": "COMPLETE", "results": mixed})
    assert [len(r) for r in page.results] == [2, 2, 1]
    assert page.results[2].to[0].association_types[0].type_id == 1
    bad = [*results[:2], _result("41", [-5])]
    page, _ = parse_read_page({"status": "COMPLETE", "results": bad})
    assert [r.from_id for r in page.results] == ["1", "2"]
    assert page.failed_ids == ["41"]
