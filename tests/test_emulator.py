"""Tests of the HubSpot emulator itself, spoken to over its real socket."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from hubassoc.testing import FakeHubSpot

from ._emulator_http import (
    ARCHIVE,
    ASSOCIATE,
    PURGE,
    READ,
    pair_inputs,
    post,
    read_body,
)
from .conftest import TOKEN

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
