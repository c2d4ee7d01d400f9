"""Batch-read pages decoded by msgspec into columns: the same pages as the dict path gives.

With the ``[speed]`` extra a usual batch-read answer is decoded straight into typed
columns (``hubassoc._typed_pages``); every other answer, and every answer without
msgspec, is decoded as plain JSON and checked result by result. Whatever the body, both
roads must give the same page and the same cursors; and the core must work without
msgspec at all.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hubassoc import BatchResult
from hubassoc._codec import loads
from hubassoc._models import AssociationRead
from hubassoc._pages import _DecodedRead, decode_read_page, parse_read_page

from ._isolated import run_without
from .test_answers_property import read_bodies

_TYPES = [{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None}]


def _usual_result(from_id: str, to_ids: list[int], after: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "from": {"id": from_id},
        "to": [{"toObjectId": t, "associationTypes": _TYPES} for t in to_ids],
    }
    if after is not None:
        out["paging"] = {"next": {"after": after, "link": "https://example.invalid"}}
    return out


def _absent(from_id: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No company is associated with contact {from_id}.",
        "context": {"fromObjectId": [from_id]},
    }


record_ids = st.integers(1, 10**6).map(str)
usual_bodies = st.builds(
    lambda results, errors, status: {
        "status": status,
        "results": results,
        "errors": errors,
        "startedAt": "2026-12-07T10:00:00.000Z",
        "completedAt": "2026-12-07T10:00:01.000Z",
    },
    st.lists(
        st.builds(
            _usual_result,
            record_ids,
            st.lists(st.integers(1, 2**63 - 1), min_size=1, max_size=4),
            st.one_of(st.none(), st.text("abc0123", min_size=1, max_size=4)),
        ),
        max_size=6,
    ),
    st.lists(st.builds(_absent, record_ids), max_size=3),
    st.sampled_from(["COMPLETE", "PENDING"]),
)


def _same(
    a: tuple[BatchResult[AssociationRead], Any], b: tuple[BatchResult[AssociationRead], Any]
) -> None:
    (page_a, cursors_a), (page_b, cursors_b) = a, b
    assert [(r.from_id, r.to) for r in page_a.results] == [
        (r.from_id, r.to) for r in page_b.results
    ]
    assert page_a.errors == page_b.errors
    assert page_a.ids_without_associations == page_b.ids_without_associations
    assert (page_a.status, page_a.started_at, page_a.completed_at) == (
        page_b.status,
        page_b.started_at,
        page_b.completed_at,
    )
    assert cursors_a == cursors_b


def _parsed(raw: Any) -> tuple[BatchResult[AssociationRead], Any] | ValueError:
    asked = {i: i for i in ("1", "2", "3", "4", "999")}
    try:
        return parse_read_page(raw, asked)
    except ValueError as exc:  # ResponseShapeError: the whole answer is refused
        return exc


def _both_roads(body: bytes) -> None:
    plain = _parsed(loads(body))
    decoded = _parsed(decode_read_page(body))
    if isinstance(plain, ValueError) or isinstance(decoded, ValueError):
        assert type(plain) is type(decoded), (plain, decoded)
        return
    _same(decoded, plain)


@settings(max_examples=150, deadline=None)
@given(usual_bodies)
def test_usual_pages_read_the_same_decoded_as_columns(body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    assert type(decode_read_page(raw)) is _DecodedRead
    _both_roads(raw)


@settings(max_examples=150, deadline=None)
@given(read_bodies)
def test_any_page_reads_the_same_on_both_roads(body: Any) -> None:
    _both_roads(json.dumps(body).encode())


def test_unusual_pages_take_the_dict_road() -> None:
    usual = _usual_result("7", [11, 12], "c1")
    cases = {
        "a from-id sent as a number": {**usual, "from": {"id": 7}},
        "no to-objects": {**usual, "to": []},
        "a to-id sent as a string": {**usual, "to": [{"toObjectId": "11", "associationTypes": []}]},
        "a cursor sent as a number": {**usual, "paging": {"next": {"after": 5}}},
        "a to-id of 0": {**usual, "to": [{"toObjectId": 0, "associationTypes": _TYPES}]},
        "a to-id past 2**63 - 1": {
            **usual,
            "to": [{"toObjectId": 2**63, "associationTypes": _TYPES}],
        },
    }
    for why, result in cases.items():
        body = json.dumps({"status": "COMPLETE", "results": [result]}).encode()
        assert type(decode_read_page(body)) is dict, why
        _both_roads(body)


def test_equal_types_spelled_differently_are_compared_as_values() -> None:
    # Raw JSON that differs only in spacing is not equal as bytes: the page falls back to
    # the dict road, which compares decoded values, and both give the same read.
    body = (
        b'{"results":[{"from":{"id":"7"},"to":['
        b'{"toObjectId":11,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":1}]},'
        b'{"toObjectId":12,"associationTypes":[ {"category": "HUBSPOT_DEFINED", "typeId": 1} ]}'
        b"]}]}"
    )
    assert type(decode_read_page(body)) is dict
    page, _ = parse_read_page(decode_read_page(body), {"7": "7"})
    assert [
        (r.from_id, r.to_ids, len({o.association_types for o in r.to})) for r in page.results
    ] == [("7", ["11", "12"], 1)]


def test_the_core_reads_without_msgspec() -> None:
    """Without the [speed] extra: the stdlib codec, the dict road, the same answers.

    Runs the read, trust and wire tests in a fresh interpreter where ``import msgspec``
    fails, so the emulator and the client both use the standard library's json.
    """
    modules = ["tests/test_wire.py", "tests/test_trust.py", "tests/test_compact.py"]
    check = (
        "import json, hubassoc._codec, hubassoc._pages\n"
        "assert hubassoc._pages._typed is None and hubassoc._codec._decode is json.loads"
    )
    run_without(["msgspec"], [*modules, "tests/test_client.py"], check)


def test_a_decoded_page_parses_the_same_twice() -> None:
    body = json.dumps({"results": [_usual_result("7", [11], None)], "errors": [_absent("8")]})
    decoded = decode_read_page(body.encode())
    first, second = _parsed(decoded), _parsed(decoded)
    assert not isinstance(first, ValueError)
    assert not isinstance(second, ValueError)
    _same(first, second)
    assert first[0].ids_without_associations == ["8"]
