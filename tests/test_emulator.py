"""Tests of the HubSpot emulator itself, spoken to over its real socket."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

import hubassoc.testing
from hubassoc.testing import FakeHubSpot, Faults, RecordedRequest

TOKEN = "test-token-0123"
READ = "/crm/v4/associations/contacts/companies/batch/read"
ASSOCIATE = "/crm/v4/associations/contacts/companies/batch/associate/default"
ARCHIVE = "/crm/v4/associations/contacts/companies/batch/archive"
PURGE = "/crm/associations/v4/definitions/configurations/contacts/companies/batch/purge"
WAIT = 5.0
# The child process must import this very copy of hubassoc, installed or not.
SOURCE_ROOT = str(Path(hubassoc.testing.__file__).resolve().parents[2])


class Reply:
    """What a test needs from one HTTP exchange."""

    def __init__(self, status: int, raw: bytes, headers: CIMultiDictProxy[str]) -> None:
        self.status = status
        self.raw = raw
        self.headers = headers

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@pytest.fixture
async def hub() -> AsyncIterator[FakeHubSpot]:
    async with FakeHubSpot(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def post(
    session: aiohttp.ClientSession,
    url: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = TOKEN,
    raw: bytes | None = None,
    method: str = "POST",
) -> Reply:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    async with session.request(method, url + path, data=data, headers=headers) as resp:
        return Reply(resp.status, await resp.read(), resp.headers)


def read_body(*ids: str | int, after: str | None = None) -> dict[str, Any]:
    inputs: list[dict[str, Any]] = [{"id": str(i)} for i in ids]
    if after is not None:
        inputs[0]["after"] = after
    return {"inputs": inputs}


def pair_inputs(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"inputs": [{"from": {"id": f}, "to": {"id": t}} for f, t in pairs]}


# ---------------------------------------------------------------------------- batch read


async def test_read_pages_through_three_pages_with_round_tripped_cursors(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed_demo()
    seen: list[str] = []
    after: str | None = None
    cursors: list[str] = []
    for expected_len in (100, 100, 50):
        reply = await post(session, hub.url, READ, read_body("103", after=after))
        assert reply.status == 200
        envelope = reply.json
        assert envelope["status"] == "COMPLETE"
        assert envelope["errors"] == []
        assert "numErrors" not in envelope
        for field in ("requestedAt", "startedAt", "completedAt"):
            assert envelope[field].endswith("Z")
        (result,) = envelope["results"]
        assert result["from"] == {"id": "103"}
        assert len(result["to"]) == expected_len
        for item in result["to"]:
            assert isinstance(item["toObjectId"], int)
            assert item["associationTypes"] == [
                {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
            ]
            seen.append(str(item["toObjectId"]))
        if expected_len == 50:
            assert "paging" not in result
        else:
            after = result["paging"]["next"]["after"]
            assert isinstance(after, str)
            assert "%3D" in after
            assert result["paging"]["next"]["link"].startswith(hub.url)
            cursors.append(after)
    assert len(set(cursors)) == 2
    assert seen == hub.associations("contacts", "companies", "103")
    assert seen == [str(n) for n in range(1001, 1251)]
    assert [r.n_inputs for r in hub.requests] == [1, 1, 1]


async def test_read_of_id_without_associations_is_207_no_associations_found(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed_demo()
    reply = await post(session, hub.url, READ, read_body("101", "104"))
    assert reply.status == 207
    envelope = reply.json
    assert [r["from"]["id"] for r in envelope["results"]] == ["101"]
    assert [t["toObjectId"] for t in envelope["results"][0]["to"]] == [201, 202]
    assert envelope["numErrors"] == 1
    assert envelope["errors"] == [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
            "message": "No company is associated with contact 104.",
            "context": {
                "fromObjectId": ["104"],
                "fromObjectType": ["contact"],
                "toObjectType": ["company"],
            },
            "errors": [],
            "links": {},
        }
    ]


async def test_read_rejects_garbage_and_foreign_cursors_per_id(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed_demo()
    first = await post(session, hub.url, READ, read_body("103"))
    cursor = first.json["results"][0]["paging"]["next"]["after"]

    foreign = await post(session, hub.url, READ, read_body("101", after=cursor))
    garbage = await post(session, hub.url, READ, read_body("103", after="not-a-cursor"))
    # Decodes to an offset of a digit that int() refuses: once a 500 from the emulator.
    crafted = base64.urlsafe_b64encode("²:103".encode()).decode().replace("=", "%3D")
    odd = await post(session, hub.url, READ, read_body("103", after=crafted))
    for reply in (foreign, garbage, odd):
        assert reply.status == 207
        assert reply.json["results"] == []
        (error,) = reply.json["errors"]
        assert error["category"] == "VALIDATION_ERROR"
        assert error["context"]["fromObjectId"] in (["101"], ["103"])


async def test_read_of_invalid_id_is_object_not_found(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed("contacts", "companies", {"1": ["2"]})
    hub.invalid_ids.add("1")
    reply = await post(session, hub.url, READ, read_body("1"))
    assert reply.status == 207
    (error,) = reply.json["errors"]
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert "subCategory" not in error
    assert error["context"]["fromObjectId"] == ["1"]


async def test_non_numeric_to_ids_stay_strings_and_types_are_normalised(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.associate("contact", "0-2", 1, "abc")
    hub.associate("CONTACTS", "company", "1", "007")
    hub.associate("contacts", "companies", "1", "9", type_id=1, label="Primary")
    reply = await post(
        session, hub.url, "/crm/v4/associations/0-1/Company/batch/read", read_body(1)
    )
    assert reply.status == 200
    to = reply.json["results"][0]["to"]
    assert [t["toObjectId"] for t in to] == ["abc", "007", 9]
    assert to[2]["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"}
    ]
    # The reverse direction gets the reverse ids: 280 for the default, 2 for primary.
    back = await post(
        session, hub.url, "/crm/v4/associations/companies/contacts/batch/read", read_body(9)
    )
    assert back.json["results"][0]["to"][0]["associationTypes"][0]["typeId"] == 2
    assert hub.graph("companies", "contacts") == {"abc": ["1"], "007": ["1"], "9": ["1"]}


async def test_extra_types_and_duplicates_on_one_edge(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed("contacts", "companies", {"1": ["2", "2", "3"]})
    hub.associate("contacts", "companies", "1", "2", type_id=1, label="Primary")
    hub.associate("contacts", "companies", "1", "2", type_id=1, label="Primary")
    assert hub.associations("contacts", "companies", "1") == ["2", "3"]
    reply = await post(session, hub.url, READ, read_body("1"))
    types = reply.json["results"][0]["to"][0]["associationTypes"]
    assert [t["typeId"] for t in types] == [279, 1]
    back = await post(
        session, hub.url, "/crm/v4/associations/companies/contacts/batch/read", read_body("2")
    )
    assert [t["typeId"] for t in back.json["results"][0]["to"][0]["associationTypes"]] == [280, 2]


async def test_default_type_ids_per_pair(hub: FakeHubSpot) -> None:
    hub.associate("deals", "contacts", 1, 2)
    hub.associate("deals", "companies", 1, 3)
    hub.associate("contacts", "tickets", 2, 4)
    hub.associate("notes", "contacts", 5, 2)
    # associate() twice is a no-op.
    hub.associate("deals", "contacts", 1, 2)
    assert hub.associations("contacts", "deals", 2) == ["1"]
    assert hub.associations("tickets", "contacts", 4) == ["2"]
    assert hub.graph("notes", "contacts") == {"5": ["2"]}
    assert hub.associations("contacts", "notes", 2) == ["5"]


# ---------------------------------------------------------------------------- validation


async def test_over_limit_inputs_are_400_and_recorded_in_max_inputs_seen(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeHubSpot(read_limit=5, write_limit=3) as hub:
        reply = await post(session, hub.url, READ, read_body(*range(6)))
        assert reply.status == 400
        body = reply.json
        assert body["status"] == "error"
        assert body["category"] == "VALIDATION_ERROR"
        assert body["errors"][0]["in"] == "inputs"
        assert body["correlationId"] == reply.headers["X-HubSpot-Correlation-Id"]
        assert hub.max_inputs_seen == 6

        pairs = [(str(i), str(100 + i)) for i in range(4)]
        write = await post(session, hub.url, ASSOCIATE, pair_inputs(*pairs))
        assert write.status == 400
        assert hub.graph("contacts", "companies") == {}
        ok = await post(session, hub.url, ASSOCIATE, pair_inputs(*pairs[:3]))
        assert ok.status == 200
        assert hub.max_inputs_seen == 6
        assert [r.n_inputs for r in hub.requests] == [6, 4, 3]


@pytest.mark.parametrize(
    ("path", "raw", "status"),
    [
        (READ, b"{not json", 400),
        (READ, b"", 400),
        (READ, b"[]", 400),
        (READ, b'{"inputs": []}', 400),
        (READ, b'{"inputs": "1"}', 400),
        (READ, b'{"inputs": [{"nope": 1}]}', 400),
        (ASSOCIATE, b'{"inputs": [{"from": {"id": "1"}}]}', 400),
        (ARCHIVE, b'{"inputs": [{"from": {"id": "1"}, "to": {"id": "2"}}]}', 400),
        (PURGE, b'{"inputs": [{"category": "USER_DEFINED", "typeId": "3"}]}', 400),
        ("/crm/v4/associations/con!tacts/companies/batch/read", b'{"inputs": [{"id": "1"}]}', 400),
        ("/crm/v4/associations/contacts/companies/batch/nope", b"{}", 404),
        ("/crm/v3/whatever", b"{}", 404),
    ],
)
async def test_invalid_requests_get_hubspot_error_bodies(
    hub: FakeHubSpot, session: aiohttp.ClientSession, path: str, raw: bytes, status: int
) -> None:
    reply = await post(session, hub.url, path, raw=raw)
    assert reply.status == status
    body = reply.json
    assert body["status"] == "error"
    assert body["message"]
    assert body["correlationId"]
    if status == 400:
        assert body["category"] == "VALIDATION_ERROR"
        assert body["errors"][0]["in"]
    assert hub.requests[0].status == status


async def test_non_post_method_is_405(hub: FakeHubSpot, session: aiohttp.ClientSession) -> None:
    reply = await post(session, hub.url, READ, raw=b"", method="GET")
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"


# ---------------------------------------------------------------------------- auth and scopes


async def test_missing_or_wrong_token_is_401(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed_demo()
    missing = await post(session, hub.url, READ, read_body("101"), token=None)
    wrong = await post(session, hub.url, READ, read_body("101"), token="other")
    for reply in (missing, wrong):
        assert reply.status == 401
        body = reply.json
        assert body["category"] == "INVALID_AUTHENTICATION"
        assert body["message"].startswith("Authentication credentials not found")
        assert body["correlationId"]
    assert [r.authorization_present for r in hub.requests] == [False, True]
    assert hub.status_counts[401] == 2
    assert TOKEN not in repr(hub.requests)
    assert "other" not in repr(hub.requests)


async def test_any_bearer_token_is_accepted_when_none_is_configured(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeHubSpot() as hub:
        hub.seed_demo()
        assert (await post(session, hub.url, READ, read_body("101"), token="x")).status == 200
        assert (await post(session, hub.url, READ, read_body("101"), token=None)).status == 401


async def test_missing_scopes_is_403_with_required_scopes(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.missing_scopes = ["crm.objects.contacts.write"]
    reply = await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "2")))
    assert reply.status == 403
    body = reply.json
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredScopes"] == ["crm.objects.contacts.write"]
    assert hub.graph("contacts", "companies") == {}


# ---------------------------------------------------------------------------- writes


async def test_associate_default_creates_both_directions(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    reply = await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "10"), ("1", "11")))
    assert reply.status == 200
    assert reply.json["results"][0] == {
        "from": {"id": "1"},
        "to": {"id": "10"},
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279},
    }
    assert hub.graph("contacts", "companies") == {"1": ["10", "11"]}
    assert hub.graph("companies", "contacts") == {"10": ["1"], "11": ["1"]}
    again = await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "10")))
    assert again.status == 200
    assert hub.graph("contacts", "companies") == {"1": ["10", "11"]}


async def test_associate_with_invalid_ids_is_207_and_partially_applied(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.invalid_ids.update({"99"})
    reply = await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "10"), ("1", "99")))
    assert reply.status == 207
    envelope = reply.json
    assert len(envelope["results"]) == 1
    assert envelope["numErrors"] == 1
    assert envelope["errors"][0]["context"]["toObjectId"] == ["99"]
    assert hub.associations("contacts", "companies", "1") == ["10"]


async def test_archive_is_204_and_updates_both_directions(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed("contacts", "companies", {"1": ["10", "11", "12"], "2": ["10"]})
    body = {"inputs": [{"from": {"id": "1"}, "to": [{"id": "10"}, {"id": "11"}]}]}
    reply = await post(session, hub.url, ARCHIVE, body)
    assert reply.status == 204
    assert reply.raw == b""
    assert hub.graph("contacts", "companies") == {"1": ["12"], "2": ["10"]}
    assert hub.graph("companies", "contacts") == {"10": ["2"], "12": ["1"]}
    assert (await post(session, hub.url, ARCHIVE, body)).status == 204
    # Archiving the last association leaves the id without any, so reads report that.
    last = {"inputs": [{"from": {"id": "1"}, "to": [{"id": "12"}]}]}
    assert (await post(session, hub.url, ARCHIVE, last)).status == 204
    assert hub.associations("contacts", "companies", "1") == []
    reread = await post(session, hub.url, READ, read_body("1"))
    assert reread.status == 207


async def test_archive_envelope_mode_and_invalid_ids(session: aiohttp.ClientSession) -> None:
    async with FakeHubSpot(empty_write_responses=False) as hub:
        hub.seed("contacts", "companies", {"1": ["10"], "2": ["20"]})
        hub.invalid_ids.add("20")
        body = {
            "inputs": [
                {"from": {"id": "1"}, "to": [{"id": "10"}]},
                {"from": {"id": "2"}, "to": [{"id": "20"}]},
            ]
        }
        reply = await post(session, hub.url, ARCHIVE, body)
        assert reply.status == 207
        assert reply.json["results"] == []
        assert reply.json["numErrors"] == 1
        assert hub.graph("contacts", "companies") == {"2": ["20"]}
        hub.invalid_ids.clear()
        ok = await post(session, hub.url, ARCHIVE, body)
        assert ok.status == 200
        assert ok.json["status"] == "COMPLETE"
        assert ok.json["results"] == []


async def test_purge_removes_configurations(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed_demo()
    hub.add_configuration("contacts", "companies", "USER_DEFINED", 4, 2)
    assert hub.configurations("contact", "company") == [("USER_DEFINED", 3), ("USER_DEFINED", 4)]
    body = {"inputs": [{"category": "USER_DEFINED", "typeId": 3}]}
    reply = await post(session, hub.url, PURGE, body)
    assert reply.status == 204
    assert hub.configurations("contacts", "companies") == [("USER_DEFINED", 4)]
    assert (await post(session, hub.url, PURGE, body)).status == 204


# ---------------------------------------------------------------------------- rate limits


async def test_rate_limit_answers_429_after_n_requests_with_headers(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeHubSpot(rate_limit=(3, 60.0)) as hub:
        hub.seed_demo()
        # Rejected authentication does not consume the window.
        assert (await post(session, hub.url, READ, read_body("101"), token=None)).status == 401
        replies = [await post(session, hub.url, READ, read_body("101")) for _ in range(4)]
        assert [r.status for r in replies] == [200, 200, 200, 429]
        assert [r.headers["X-HubSpot-RateLimit-Remaining"] for r in replies] == ["2", "1", "0", "0"]
        for reply in replies:
            assert reply.headers["X-HubSpot-RateLimit-Max"] == "3"
            assert reply.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "60000"
            assert "Retry-After" not in reply.headers
        body = replies[-1].json
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["errorType"] == "RATE_LIMIT"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert body["groupName"].startswith("publicapi:")
        assert hub.status_counts[429] == 1


async def test_daily_limit_answers_429_daily(session: aiohttp.ClientSession) -> None:
    async with FakeHubSpot(daily_limit=2) as hub:
        hub.seed_demo()
        replies = [await post(session, hub.url, READ, read_body("101")) for _ in range(3)]
        assert [r.status for r in replies] == [200, 200, 429]
        assert replies[-1].json["policyName"] == "DAILY"
        assert replies[-1].json["errorType"] == "RATE_LIMIT"
        assert [r.headers["X-HubSpot-RateLimit-Daily-Remaining"] for r in replies] == [
            "1",
            "0",
            "0",
        ]
        assert replies[0].headers["X-HubSpot-RateLimit-Daily"] == "2"
        assert "X-HubSpot-RateLimit-Max" not in replies[0].headers


# ---------------------------------------------------------------------------- scripted faults


async def test_fail_next_answers_matching_requests_and_applies_nothing(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed("contacts", "companies", {"1": ["10"]})
    hub.fail_next(2, 503, path_contains="/batch/archive")
    body = {"inputs": [{"from": {"id": "1"}, "to": [{"id": "10"}]}]}
    assert (await post(session, hub.url, READ, read_body("1"))).status == 200
    first = await post(session, hub.url, ARCHIVE, body)
    assert first.status == 503
    assert first.json["status"] == "error"
    assert (await post(session, hub.url, ARCHIVE, body)).status == 503
    assert hub.graph("contacts", "companies") == {"1": ["10"]}
    assert (await post(session, hub.url, ARCHIVE, body)).status == 204
    assert hub.graph("contacts", "companies") == {}

    hub.fail_next(1, 429, headers={"Retry-After": "2"})
    limited = await post(session, hub.url, READ, read_body("1"))
    assert limited.status == 429
    assert limited.json["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.headers["Retry-After"] == "2"
    assert "X-HubSpot-RateLimit-Max" in limited.headers

    hub.fail_next(1, 502, body=b"<html>bad gateway</html>", headers={"Content-Type": "text/html"})
    gateway = await post(session, hub.url, READ, read_body("1"))
    assert gateway.status == 502
    assert gateway.raw == b"<html>bad gateway</html>"
    assert gateway.headers["Content-Type"] == "text/html"
    assert [r.status for r in hub.requests] == [200, 503, 503, 204, 429, 502]


async def test_fail_ids_rejects_the_whole_request(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.fail_ids(["666"])
    hub.fail_ids([777], status=409)
    reply = await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "10"), ("1", "666")))
    assert reply.status == 400
    assert reply.json["category"] == "VALIDATION_ERROR"
    assert hub.graph("contacts", "companies") == {}
    conflict = await post(session, hub.url, READ, read_body("5", "777"))
    assert conflict.status == 409
    archive = {"inputs": [{"from": {"id": "2"}, "to": [{"id": "3"}, {"id": "666"}]}]}
    assert (await post(session, hub.url, ARCHIVE, archive)).status == 400
    assert (await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "10")))).status == 200
    hub.fail_ids(["888"], status=429)
    limited = await post(session, hub.url, READ, read_body("888"))
    assert limited.status == 429
    assert limited.json["policyName"] == "TEN_SECONDLY_ROLLING"


async def test_repeat_cursor_for_returns_the_same_cursor_every_time(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed_demo()
    hub.repeat_cursor_for(["103"])
    first = await post(session, hub.url, READ, read_body("103", "101"))
    by_id = {r["from"]["id"]: r for r in first.json["results"]}
    cursor = by_id["103"]["paging"]["next"]["after"]
    assert "paging" not in by_id["101"]
    for _ in range(3):
        again = await post(session, hub.url, READ, read_body("103", after=cursor))
        assert again.json["results"][0]["paging"]["next"]["after"] == cursor


async def _fault_outcomes(session: aiohttp.ClientSession, seed: int) -> list[str]:
    faults = Faults(
        seed=seed,
        rate_limit=0.15,
        retry_after=0.25,
        server_error=0.2,
        disconnect=0.15,
        truncated=0.15,
        slow=0.2,
        slow_seconds=0.001,
    )
    outcomes: list[str] = []
    async with FakeHubSpot(faults=faults) as hub:
        hub.seed("contacts", "companies", {"1": ["10", "11"]})
        for _ in range(40):
            try:
                reply = await post(session, hub.url, READ, read_body("1"))
            except aiohttp.ClientConnectionError:
                outcomes.append("disconnect")
                continue
            if reply.status in (502, 503):
                assert reply.headers["Content-Type"].startswith("text/html")
            if reply.status == 429:
                assert reply.json["policyName"] == "TEN_SECONDLY_ROLLING"
                assert reply.headers["Retry-After"] == "0.25"
                assert reply.headers["X-HubSpot-RateLimit-Remaining"] == "0"
            if reply.status == 200:
                try:
                    reply.json  # noqa: B018
                except ValueError:
                    outcomes.append("truncated")
                    continue
            outcomes.append(str(reply.status))
        assert [r.status for r in hub.requests].count(0) == outcomes.count("disconnect")
    return outcomes


async def test_faults_are_reproducible_for_a_seed(session: aiohttp.ClientSession) -> None:
    first = await _fault_outcomes(session, seed=7)
    second = await _fault_outcomes(session, seed=7)
    other = await _fault_outcomes(session, seed=8)
    assert first == second
    assert first != other
    assert {"200", "429", "disconnect", "truncated"} <= set(first)
    assert set(first) & {"500", "502", "503", "504"}


async def test_faults_do_not_touch_scripted_answers(session: aiohttp.ClientSession) -> None:
    async with FakeHubSpot(token=TOKEN, faults=Faults(server_error=1.0)) as hub:
        hub.fail_next(1, 409)
        assert (await post(session, hub.url, READ, read_body("1"))).status == 409
        assert (await post(session, hub.url, READ, read_body("1"), token="bad")).status == 401
        assert (await post(session, hub.url, READ, raw=b"{")).status == 400
        assert (await post(session, hub.url, READ, read_body("1"))).status >= 500


@pytest.mark.parametrize(("seed", "applied"), [(0, True), (4, False)])
async def test_disconnect_happens_before_or_after_the_write(
    session: aiohttp.ClientSession, seed: int, applied: bool
) -> None:
    # The second draw of a request picks the half: seed 0 gives 0.76 (after), seed 4 0.10.
    async with FakeHubSpot(faults=Faults(seed=seed, disconnect=1.0)) as hub:
        with pytest.raises(aiohttp.ClientConnectionError):
            await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "10")))
        assert bool(hub.graph("contacts", "companies")) is applied
        assert hub.requests[0].status == 0
        assert hub.status_counts == {}


# ---------------------------------------------------------------------------- concurrency


async def test_hold_and_release_expose_in_flight(
    hub: FakeHubSpot, session: aiohttp.ClientSession
) -> None:
    hub.seed_demo()
    hub.hold()
    tasks = [asyncio.create_task(post(session, hub.url, READ, read_body("101"))) for _ in range(3)]
    await asyncio.wait_for(hub.wait_for_requests(3), WAIT)
    await asyncio.wait_for(hub.wait_for_in_flight(3), WAIT)
    assert hub.in_flight == 3
    assert hub.requests == []
    hub.release()
    replies = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
    assert [r.status for r in replies] == [200, 200, 200]
    assert hub.in_flight == 0
    assert hub.max_in_flight == 3
    assert len(hub.requests) == 3
    assert all(isinstance(r, RecordedRequest) for r in hub.requests)


async def test_cancelled_client_request_is_still_handled(session: aiohttp.ClientSession) -> None:
    async with FakeHubSpot() as hub:
        hub.hold()
        task = asyncio.create_task(post(session, hub.url, ASSOCIATE, pair_inputs(("1", "2"))))
        await asyncio.wait_for(hub.wait_for_in_flight(1), WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        hub.release()
    # close() waits for the handler, which applies the write like a real server would.
    assert hub.associations("contacts", "companies", "1") == ["2"]
    assert len(hub.requests) == 1


async def test_latency_counts_in_flight(session: aiohttp.ClientSession) -> None:
    async with FakeHubSpot(latency=0.02) as hub:
        hub.seed_demo()
        task = asyncio.create_task(post(session, hub.url, READ, read_body("101")))
        await asyncio.wait_for(hub.wait_for_in_flight(1), WAIT)
        assert hub.in_flight == 1
        assert (await task).status == 200
        assert hub.in_flight == 0


async def test_close_cuts_latency_short_and_answers(session: aiohttp.ClientSession) -> None:
    hub = FakeHubSpot(latency=60.0)
    await hub.start()
    try:
        task = asyncio.create_task(post(session, hub.url, ASSOCIATE, pair_inputs(("1", "2"))))
        await asyncio.wait_for(hub.wait_for_in_flight(1), WAIT)
    finally:
        await asyncio.wait_for(hub.close(), WAIT)
    assert (await asyncio.wait_for(task, WAIT)).status == 200
    assert hub.associations("contacts", "companies", "1") == ["2"]


# ---------------------------------------------------------------------------- lifecycle


async def test_url_before_start_and_reset() -> None:
    hub = FakeHubSpot()
    with pytest.raises(RuntimeError):
        _ = hub.url
    hub.seed_demo()
    hub.fail_next(1, 500)
    hub.fail_ids(["1"])
    hub.invalid_ids.add("2")
    hub.missing_scopes.append("x")
    hub.reset()
    assert hub.graph("contacts", "companies") == {}
    assert hub.configurations("contacts", "companies") == []
    assert hub.invalid_ids == set()
    assert hub.missing_scopes == []
    async with aiohttp.ClientSession() as session, hub:
        reply = await post(session, hub.url, ASSOCIATE, pair_inputs(("1", "2")))
        assert reply.status == 200
        assert hub.status_counts[200] == 1
        hub.reset()
        assert hub.requests == []
        assert hub.status_counts == {}
        assert hub.max_inputs_seen == 0
    with pytest.raises(RuntimeError):
        _ = hub.url
    await hub.close()


def test_faults_validate_probabilities() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Faults(rate_limit=1.5)
    with pytest.raises(ValueError, match="must not exceed 1"):
        Faults(rate_limit=0.6, server_error=0.6)
    with pytest.raises(ValueError, match=">= 0"):
        Faults(retry_after=-1)


async def test_module_runs_as_a_server_and_exits_cleanly_on_sigterm(
    session: aiohttp.ClientSession,
) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SOURCE_ROOT, env.get("PYTHONPATH")) if p)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hubassoc.testing",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--seed-demo",
        "--page-size",
        "2",
        "--token",
        TOKEN,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        prefix = "hubassoc emulator listening on http://127.0.0.1:"
        assert line.decode().startswith(prefix), line
        url = line.decode().strip().rsplit(" ", 1)[1]
        assert int(url.rsplit(":", 1)[1]) > 0

        reply = await post(session, url, READ, read_body("103", "104"))
        assert reply.status == 207
        (result,) = reply.json["results"]
        assert [t["toObjectId"] for t in result["to"]] == [1001, 1002]
        assert "paging" in result

        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert out == b""
    assert err == b""
