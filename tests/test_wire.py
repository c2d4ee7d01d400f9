"""Parsing HubSpot JSON into models: tolerant of what HubSpot really sends."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import pytest

from hubassoc import AssociationCategory, AssociationRead, BatchStatus, DefaultAssociation
from hubassoc._codec import GC_PAUSE_MIN_BYTES, dumps, loads
from hubassoc._pages import parse_envelope, parse_read_page
from hubassoc._wire import ResponseShapeError, record_id, structure_context


def _read_envelope(**extra: object) -> dict[str, object]:
    return {
        "status": "COMPLETE",
        "results": [
            {
                "from": {"id": "1"},
                "to": [
                    {
                        "toObjectId": 201,
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
                            {"category": "USER_DEFINED", "typeId": 3, "label": "Billing"},
                        ],
                    }
                ],
                "paging": {"next": {"after": "MC0yLTE1OTc0MDA2NTg%3D", "link": "x"}},
            }
        ],
        "startedAt": "2023-11-07T05:31:56Z",
        "completedAt": "2023-11-07T05:31:57.5Z",
        **extra,
    }


def test_read_envelope_ids_become_strings_and_types_parse() -> None:
    page = parse_envelope(_read_envelope(), AssociationRead)
    [item] = page.results
    assert item.from_id == "1"
    assert item.to_ids == ["201"]
    types = item.to[0].association_types
    assert [(t.category, t.type_id, t.label) for t in types] == [
        (AssociationCategory.HUBSPOT_DEFINED, 279, None),
        (AssociationCategory.USER_DEFINED, 3, "Billing"),
    ]
    assert page.started_at == datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC)
    assert page.completed_at is not None
    assert page.completed_at.tzinfo is not None
    assert page.requested_at is None


def test_unknown_fields_and_enum_values_do_not_break_parsing() -> None:
    raw = _read_envelope(status="ARCHIVED_SOMEHOW", brandNewField={"x": 1})
    raw["results"][0]["to"][0]["associationTypes"][0]["category"] = "PARTNER_DEFINED"  # type: ignore[index]
    page = parse_envelope(raw, AssociationRead)
    assert page.status == "ARCHIVED_SOMEHOW"
    assert page.results[0].to[0].association_types[0].category == "PARTNER_DEFINED"


def test_cursor_is_returned_unchanged() -> None:
    assert parse_read_page(_read_envelope())[1] == [("1", "MC0yLTE1OTc0MDA2NTg%3D")]
    raw = _read_envelope()
    del raw["results"][0]["paging"]  # type: ignore[index]
    assert parse_read_page(raw)[1] == []


@pytest.mark.parametrize("value", [1, 42, "7", "007", "123456789012345678901234567890"])
def test_record_ids_are_positive_integers_or_digit_strings(value: object) -> None:
    assert record_id(value, "x") == str(value)


@pytest.mark.parametrize(
    "value", [0, -3, 1.5, 1.0, True, False, None, {"x": 1}, [1], "", " 1", "1.0", "abc", "\u0661"]
)
def test_anything_else_is_not_a_record_id(value: object) -> None:
    with pytest.raises(ValueError, match="x was"):
        record_id(value, "x")


def test_a_result_with_a_bad_id_is_withheld_and_named() -> None:
    raw = _read_envelope()
    good = raw["results"][0]  # type: ignore[index]
    bad_to = {"from": {"id": "2"}, "to": [{"toObjectId": 1.5, "associationTypes": []}]}
    bad_from = {"from": {"id": 1.0}, "to": []}
    raw["results"] = [good, bad_to, bad_from]
    page, cursors = parse_read_page(raw)
    assert [r.from_id for r in page.results] == ["1"]
    assert cursors == [("1", "MC0yLTE1OTc0MDA2NTg%3D")]
    first, second = page.errors
    assert (first.category, first.ids) == ("INVALID_RESPONSE", ["2"])
    assert "toObjectId was 1.5" in first.message
    assert second.ids == []  # a from-id that is no record id is never named
    assert "from.id was 1.0" in second.message


def test_default_association_parses_spec() -> None:
    raw = {
        "status": "COMPLETE",
        "results": [
            {
                "from": {"id": 101},
                "to": {"id": "201"},
                "associationSpec": {
                    "associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": 279,
                },
            }
        ],
    }
    [res] = parse_envelope(raw, DefaultAssociation).results
    assert (res.from_id, res.to_id, res.association_spec.type_id) == ("101", "201", 279)


@pytest.mark.parametrize("ids", [("101", "201"), (101, 201)])
def test_an_associate_page_keeps_each_results_own_spec_and_ids(ids: tuple[object, object]) -> None:
    def result(from_id: object, to_id: object, type_id: int) -> dict[str, object]:
        spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
        return {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec}

    raw = {"results": [result(*ids, 279), result("102", "202", 279), result("103", "203", 1)]}
    got = parse_envelope(raw, DefaultAssociation).results
    assert [(r.from_id, r.to_id, r.association_spec.type_id) for r in got] == [
        ("101", "201", 279),
        ("102", "202", 279),
        ("103", "203", 1),
    ]
    same = parse_envelope({"results": raw["results"][:2]}, DefaultAssociation).results
    assert [r.association_spec.type_id for r in same] == [279, 279]
    assert DefaultAssociation("101", "201", same[0].association_spec) == same[0]


def test_no_associations_error_is_recognised() -> None:
    raw = {
        "status": "COMPLETE",
        "results": [],
        "numErrors": 1,
        "errors": [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": "No company is associated with deal 5.",
                "context": {"fromObjectId": ["5", "6"], "fromObjectType": ["deal"]},
            },
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "subCategory": {"x": 1},
                "message": "bad",
            },
        ],
    }
    page = parse_envelope(raw, AssociationRead)
    assert page.status == BatchStatus.COMPLETE
    assert page.ids_without_associations == ["5", "6"]
    assert [e.category for e in page.failures] == ["VALIDATION_ERROR"]
    assert page.errors[1].sub_category == {"x": 1}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"requiredScopes": ["a", "b"]}, {"requiredScopes": ["a", "b"]}),
        ({"fromObjectId": 5}, {"fromObjectId": ["5"]}),
        ("{missingScopes=[scope1, scope2]}", {"missingScopes": ["scope1", "scope2"]}),
        (None, {}),
        (17, {}),
    ],
)
def test_context_shapes(raw: object, expected: dict[str, list[str]]) -> None:
    assert structure_context(raw) == expected


@pytest.mark.parametrize("raw", [[1, 2], "text", {"results": 5}, {"status": 5}])
def test_bad_envelopes_raise_shape_error(raw: object) -> None:
    with pytest.raises(ResponseShapeError):
        parse_envelope(raw, AssociationRead)


def test_repr_of_a_big_result_stays_short() -> None:
    raw = _read_envelope()
    raw["results"] = raw["results"] * 10_000  # type: ignore[operator]
    page = parse_envelope(raw, AssociationRead)
    assert repr(page) == "BatchResult(status=COMPLETE, results=10000, errors=0)"


def test_parsing_leaves_the_garbage_collector_as_it_found_it() -> None:
    big = dumps({"results": ["x" * 100] * (GC_PAUSE_MIN_BYTES // 50)})
    assert len(big) >= GC_PAUSE_MIN_BYTES
    assert gc.isenabled()
    loads(big)
    parse_envelope(_read_envelope(), AssociationRead)
    with pytest.raises(ResponseShapeError):
        parse_envelope({"results": 5}, AssociationRead)
    parse_envelope({"results": [{"from": {}}]}, AssociationRead)  # withheld, not raised
    assert gc.isenabled()  # switched back on, after an error too
    gc.disable()
    try:
        loads(big)
        parse_envelope(_read_envelope(), AssociationRead)
        assert not gc.isenabled()  # a caller's choice to keep it off is kept
    finally:
        gc.enable()


def test_default_association_specs_are_shared_and_equal_to_fresh_ones() -> None:
    def result(type_id: object) -> dict[str, object]:
        spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
        return {"from": {"id": 1}, "to": {"id": 2}, "associationSpec": spec}

    raw = {"results": [result(279), result(279), result("279")]}
    a, b, c = parse_envelope(raw, DefaultAssociation).results
    assert a.association_spec is b.association_spec  # interned: immutable, safe to share
    assert a.association_spec == c.association_spec  # a string id still parses as before
    assert c.association_spec.type_id == 279
    page = parse_envelope({"results": [result("x")]}, DefaultAssociation)
    assert page.results == []
    assert [e.category for e in page.errors] == ["INVALID_RESPONSE"]
