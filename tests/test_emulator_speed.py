"""Answers the emulator builds piece by piece, against the JSON of what it stores; its codec.

Batch reads are encoded result by result from cached pieces and checked inputs are
taken in one pass when all are in the usual form: the bytes must be the ones encoding
the whole answer as plain dicts gives, built here from the emulator's public state.
The codec is msgspec when installed, else orjson, else the standard library.
"""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest

from hubassoc.testing import FakeHubSpot, _replies
from hubassoc.testing._cursors import _GENERATION, _cursor_bytes, _decode_cursor, _Issued

from ._isolated import run_without

TOKEN = "test-token-0123"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
PAIR = ("contacts", "companies")
READ = "/crm/v4/associations/contacts/companies/batch/read"
ASSOCIATE = "/crm/v4/associations/contacts/companies/batch/associate/default"
ARCHIVE = "/crm/v4/associations/contacts/companies/batch/archive"


async def _post(
    session: aiohttp.ClientSession, url: str, path: str, body: Any
) -> tuple[int, bytes]:
    async with session.post(url + path, json=body, headers=HEADERS) as resp:
        return resp.status, await resp.read()


def _cursor(offset: int, from_id: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{from_id}".encode()).decode().replace("=", "%3D")


def _to_object_id(to_id: str) -> int | str:
    plain = to_id.isascii() and to_id.isdigit() and len(to_id) <= 18
    return int(to_id) if plain and (to_id[0] != "0" or to_id == "0") else to_id


def _error(category: str, message: str, context: dict[str, Any], sub: str | None = None) -> Any:
    error: dict[str, Any] = {"status": "error", "category": category}
    if sub is not None:
        error["subCategory"] = sub
    return {**error, "message": message, "context": context, "errors": [], "links": {}}


def _expected_read(
    hub: FakeHubSpot, inputs: list[dict[str, Any]], answer: dict[str, Any]
) -> dict[str, Any]:
    """The batch-read answer to ``inputs`` as HubSpot's documented dicts."""
    types = {"fromObjectType": ["contact"], "toObjectType": ["company"]}
    results: list[Any] = []
    errors: list[Any] = []
    for item in inputs:
        from_id, after = str(item["id"]), item.get("after")
        if from_id in hub.invalid_ids:
            message = f"Contact {from_id} does not exist."
            errors.append(_error("OBJECT_NOT_FOUND", message, {"fromObjectId": [from_id], **types}))
            continue
        offset = 0
        if after is not None:
            canonical = after.replace("=", "%3D")
            offsets = [k for k in range(1000) if _cursor(k, from_id) == canonical]
            if not offsets:
                message = f"Invalid paging cursor for contact {from_id}."
                context = {"fromObjectId": [from_id], "after": [after], **types}
                errors.append(_error("VALIDATION_ERROR", message, context))
                continue
            offset = offsets[0]
        to_ids = hub.associations(*PAIR, from_id)
        if not to_ids:
            message = f"No company is associated with contact {from_id}."
            context = {"fromObjectId": [from_id], **types}
            sub = "crm.associations.NO_ASSOCIATIONS_FOUND"
            errors.append(_error("OBJECT_NOT_FOUND", message, context, sub))
            continue
        to = [
            {
                "toObjectId": _to_object_id(to_id),
                "associationTypes": [
                    {"category": c, "typeId": t, "label": label}
                    for c, t, label in hub.association_types(*PAIR, from_id, to_id)
                ],
            }
            for to_id in to_ids[offset : offset + hub.page_size]
        ]
        result: dict[str, Any] = {"from": {"id": from_id}, "to": to}
        if offset + hub.page_size < len(to_ids):
            next_after = _cursor(offset + hub.page_size, from_id)
            link = f"{hub.url}{READ}?after={next_after}"
            result["paging"] = {"next": {"after": next_after, "link": link}}
        results.append(result)
    envelope: dict[str, Any] = {"status": "COMPLETE", "results": results, "errors": errors}
    if errors:
        envelope["numErrors"] = len(errors)
    for stamp in ("requestedAt", "startedAt", "completedAt"):
        envelope[stamp] = answer[stamp]
    envelope["links"] = {}
    return envelope


async def _read_all_pages(
    hub: FakeHubSpot, session: aiohttp.ClientSession, inputs: list[dict[str, Any]]
) -> int:
    """Read ``inputs`` and every next page, checking each answer's bytes; the answers read."""
    answers = 0
    while inputs:
        status, raw = await _post(session, hub.url, READ, {"inputs": inputs})
        answer = _replies._loads(raw)
        expected = _expected_read(hub, inputs, answer)
        assert raw == _replies._dumps(expected)
        assert status == (207 if expected["errors"] else 200)
        answers += 1
        inputs = [
            {"id": r["from"]["id"], "after": r["paging"]["next"]["after"]}
            for r in answer["results"]
            if "paging" in r
        ]
    return answers


async def test_read_answers_are_the_json_of_what_is_stored(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeHubSpot(token=TOKEN, page_size=3) as hub:
        odd = ["007", "abc", "12345678901234567890", "0", "9", 'x"y', "é", "a\\b", "1" * 19]
        hub.seed(*PAIR, {"1": [str(100 + i) for i in range(7)], "2": odd, "é": ["1"], 'q"': ["2"]})
        hub.associate(*PAIR, "3", "100", type_id=1)
        hub.associate(*PAIR, "3", "100", category="USER_DEFINED", type_id=1005, label="Boss")
        hub.associate(*PAIR, "3", "101", category="USER_DEFINED", type_id=1006, label=None)
        hub.invalid_ids.add("666")
        ids: list[Any] = ["1", 2, "3", "4", "666", "é", 'q"', "1", "\\n"]
        answers = await _read_all_pages(hub, session, [{"id": i} for i in ids])
        assert answers == 3

        garbage = [
            {"id": "1", "after": "garbage"},
            {"id": "2", "after": _cursor(3, "1")},
            {"id": "1", "after": _cursor(30, "1")},
            {"id": "1", "after": _cursor(30, "1").replace("%3D", "=")},
            {"id": "1", "after": _cursor(30, "1").replace("%3D", "")},
            {"id": "1", "after": _cursor(3, "01")},
            {"id": "1", "after": "é"},
            {"id": "1", "after": _cursor(3, "1")},
        ]
        assert await _read_all_pages(hub, session, garbage) == 2


async def test_a_read_shows_types_changed_since_the_last_read(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeHubSpot(token=TOKEN, page_size=10) as hub:
        hub.seed(*PAIR, {"1": ["500", "501"], "2": ["500"]})
        inputs = [{"id": "1"}, {"id": "2"}]
        await _read_all_pages(hub, session, inputs)
        hub.associate(*PAIR, "1", "500", type_id=1)  # Primary on one edge of a shared to-id
        await _read_all_pages(hub, session, inputs)
        labels = "/crm/v4/associations/contacts/companies/labels"
        status, raw = await _post(session, hub.url, labels, {"label": "Boss", "name": "boss"})
        assert status == 200
        type_id = _replies._loads(raw)["results"][0]["typeId"]
        hub.associate(*PAIR, "2", "500", category="USER_DEFINED", type_id=type_id, label="Boss")
        await _read_all_pages(hub, session, inputs)
        async with session.put(
            hub.url + labels,
            json={"associationTypeId": type_id, "label": "Chief"},
            headers=HEADERS,
        ) as resp:
            assert resp.status == 204
        await _read_all_pages(hub, session, inputs)
        assert [t[2] for t in hub.association_types(*PAIR, "2", "500")] == [None, "Chief"]
        status, _ = await _post(
            session, hub.url, ARCHIVE, {"inputs": [{"from": {"id": "1"}, "to": [{"id": "500"}]}]}
        )
        assert status == 204
        hub.seed(*PAIR, {"1": ["500"]})
        await _read_all_pages(hub, session, inputs)


def test_cursors_handed_out_long_ago_still_decode() -> None:
    issued = _Issued()
    first = _cursor(3, "12")
    issued.add(_cursor_bytes(3, "12"), 3, "12")
    assert issued.decode(first) == (3, "12")
    for k in range(2 * _GENERATION):
        issued.add(_cursor_bytes(k, "x"), k, "x")
    assert first not in issued.new
    assert first not in issued.old
    assert issued.decode(first) == (3, "12")
    assert issued.decode(_cursor(5, "x")) == (5, "x")
    for after in (first.replace("%3D", "="), first.replace("%3D", ""), "garbage", "é"):
        assert issued.decode(after) == _decode_cursor(after)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([{"id": "1"}, {"id": 2}, {"id": "3", "after": None}], None),
        ([{"id": "1"}, {"id": ""}], "inputs[1]"),
        ([{"id": "1"}, {"id": True}], "inputs[1]"),
        ([{"id": "1"}, {"id": "2", "after": 5}], "inputs[1]"),
        ([{"id": "1"}, ["2"]], "inputs[1]"),
        ([{"id": "1"}, {"ID": "2"}], "inputs[1]"),
    ],
)
async def test_read_inputs_in_other_forms_are_checked_one_by_one(
    session: aiohttp.ClientSession, inputs: list[Any], message: str | None
) -> None:
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.seed(*PAIR, {"1": ["10"], "2": ["20"], "3": ["30"]})
        if message is None:
            assert await _read_all_pages(hub, session, inputs) == 1
            return
        status, raw = await _post(session, hub.url, READ, {"inputs": inputs})
        assert status == 400
        assert _replies._loads(raw)["errors"][0]["in"] == message


@pytest.mark.parametrize(
    ("path", "good", "odd", "message"),
    [
        (
            ASSOCIATE,
            {"from": {"id": "1"}, "to": {"id": "10"}},
            {"from": {"id": 2}, "to": {"id": 20}},
            None,
        ),
        (
            ASSOCIATE,
            {"from": {"id": "1"}, "to": {"id": "10"}},
            {"from": {"id": "2"}, "to": "20"},
            "inputs[1]",
        ),
        (
            ASSOCIATE,
            {"from": {"id": "1"}, "to": {"id": "10"}},
            {"from": {"id": ""}, "to": {"id": "20"}},
            "inputs[1]",
        ),
        (
            ARCHIVE,
            {"from": {"id": "1"}, "to": [{"id": "10"}]},
            {"from": {"id": "2"}, "to": [{"id": 20}]},
            None,
        ),
        (
            ARCHIVE,
            {"from": {"id": "1"}, "to": [{"id": "10"}]},
            {"from": {"id": "2"}, "to": {"id": "20"}},
            "inputs[1]",
        ),
        (
            ARCHIVE,
            {"from": {"id": "1"}, "to": [{"id": "10"}]},
            {"from": {"id": "2"}, "to": [{"ID": "20"}]},
            "inputs[1]",
        ),
    ],
)
async def test_write_inputs_in_other_forms_are_checked_one_by_one(
    session: aiohttp.ClientSession,
    path: str,
    good: dict[str, Any],
    odd: dict[str, Any],
    message: str | None,
) -> None:
    async with FakeHubSpot(token=TOKEN) as hub:
        if path == ARCHIVE:
            hub.seed(*PAIR, {"1": ["10"], "2": ["20"], "3": ["30"]})
        status, raw = await _post(session, hub.url, path, {"inputs": [good, odd]})
        if message is not None:
            assert status == 400
            assert _replies._loads(raw)["errors"][0]["in"] == message
            return
        if path == ARCHIVE:
            assert status == 204
            assert hub.graph(*PAIR) == {"3": ["30"]}
            return
        assert status == 200
        spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
        answer = _replies._loads(raw)
        assert answer["results"] == [
            {"from": {"id": "1"}, "to": {"id": "10"}, "associationSpec": spec},
            {"from": {"id": "2"}, "to": {"id": "20"}, "associationSpec": spec},
        ]
        assert hub.graph(*PAIR) == {"1": ["10"], "2": ["20"]}
        assert hub.requests[0].body == {"inputs": [good, odd]}


def test_the_codec_is_msgspec_when_installed() -> None:
    import msgspec  # the dev install has it; the runs without it deselect this test

    assert isinstance(getattr(_replies._dumps, "__self__", None), msgspec.json.Encoder)
    assert isinstance(getattr(_replies._loads, "__self__", None), msgspec.json.Decoder)
    assert _replies._loads(_replies._dumps({"a": [1, None, "é"]})) == {"a": [1, None, "é"]}
    with pytest.raises(ValueError, match="malformed"):  # the server catches ValueError
        _replies._loads(b"{bad")


@pytest.mark.parametrize(
    ("blocked", "codec", "modules"),
    [
        (("msgspec",), "orjson", ["tests/test_emulator_speed.py"]),
        (("msgspec", "orjson"), "json", ["tests/test_emulator.py", "tests/test_emulator_speed.py"]),
    ],
)
def test_the_emulator_works_without_msgspec(
    blocked: tuple[str, ...], codec: str, modules: list[str]
) -> None:
    """A fresh interpreter where ``import`` of the blocked codecs fails runs the tests."""
    check = (
        "from hubassoc.testing import _replies\n"
        f"assert _replies._loads.__module__ == {codec!r}, _replies._loads"
    )
    run_without(blocked, ["-k", "not msgspec", *modules], check)
