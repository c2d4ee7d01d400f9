"""The client against the emulator over a real socket: the issue-2 contract."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest

import hubassoc
from hubassoc import (
    AssociationCategory,
    AssociationSpec,
    AuthenticationError,
    BatchStatus,
    ClientClosedError,
    ForbiddenError,
    InvalidInputError,
)
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


def _client(hub: FakeHubSpot, **kwargs: Any) -> hubassoc.Client:
    options: dict[str, Any] = {
        "base_url": hub.url,
        "rate_limit": None,
        "max_retries": 2,
        "timeout": 10,
    }
    options.update(kwargs)
    return hubassoc.Client(TOKEN, **options)


def _accounted(result: hubassoc.BatchResult[Any]) -> set[str]:
    ids = {r.from_id for r in result.results}
    ids.update(result.ids_without_associations)
    for error in result.errors:
        ids.update(error.ids)
    return ids


async def test_multi_page_ids_merge_in_page_order(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    hub.seed("contacts", "companies", {"1": [str(1000 + i) for i in range(250)], "2": ["7"]})
    result = await client.read("contacts", "companies", ["1", "2"])
    assert [r.from_id for r in result.results] == ["1", "2"]
    assert result.results[0].to_ids == [str(1000 + i) for i in range(250)]
    assert result.results[1].to_ids == ["7"]
    assert result.status == BatchStatus.COMPLETE
    assert result.num_errors == 0
    reads = [r for r in hub.requests if r.path.endswith("/batch/read")]
    assert len(reads) == 3  # page 1 of both, then pages 2 and 3 of id 1
    assert reads[1].body["inputs"][0]["id"] == "1"
    assert "after" in reads[1].body["inputs"][0]
    assert result.started_at is not None
    assert result.started_at.tzinfo is not None


async def test_ids_without_associations_are_not_failures(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    hub.seed("contacts", "companies", {"1": ["9"]})
    result = await client.read("contacts", "companies", ["1", "404", "405"])
    assert [r.from_id for r in result.results] == ["1"]
    assert sorted(result.ids_without_associations) == ["404", "405"]
    assert result.failures == []
    result.raise_for_errors()


async def test_ints_as_ids_and_numeric_to_ids_are_strings(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    hub.seed("contacts", "companies", {101: [201, 202]})
    result = await client.read("contacts", "companies", [101])
    [item] = result.results
    assert item.from_id == "101"
    assert item.to_ids == ["201", "202"]
    assert hub.requests[0].body == {"inputs": [{"id": "101"}]}
    [types] = {tuple(o.association_types) for o in item.to}
    assert types[0].category == AssociationCategory.HUBSPOT_DEFINED
    assert types[0].type_id == 279


@pytest.mark.parametrize(("n", "requests"), [(1000, 1), (1001, 2), (2500, 3)])
async def test_chunking_at_the_read_limit(
    hub: FakeHubSpot, client: hubassoc.Client, n: int, requests: int
) -> None:
    hub.seed("contacts", "companies", {str(i): ["1"] for i in range(0, n, 7)})
    result = await client.read("contacts", "companies", range(n))
    assert hub.max_inputs_seen == min(n, 1000)
    assert len(hub.requests) == requests
    assert len(result.results) == len(range(0, n, 7))
    assert _accounted(result) == {str(i) for i in range(n)}


async def test_write_chunk_size_is_respected(hub: FakeHubSpot) -> None:
    async with _client(hub, write_chunk_size=30) as client:
        await client.associate_default("contacts", "companies", [(i, i + 1) for i in range(100)])
    assert hub.max_inputs_seen == 30
    assert len(hub.requests) == 4


async def test_concurrency_bound_is_observed_by_the_server(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {str(i): ["1"] for i in range(40)})
    async with _client(hub, max_concurrency=3, read_chunk_size=2) as client:
        hub.hold()
        task = asyncio.ensure_future(client.read("contacts", "companies", range(40)))
        await hub.wait_for_in_flight(3)
        hub.release()
        result = await task
    assert hub.max_in_flight == 3
    assert len(hub.requests) == 20
    assert len(result.results) == 40


async def test_one_client_shared_by_fifty_tasks(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {str(i): [f"1{i}", f"2{i}"] for i in range(500)})
    async with _client(hub, max_concurrency=4, read_chunk_size=5) as client:

        async def one(k: int) -> list[tuple[str, list[str]]]:
            ids = [str(i) for i in range(k * 10, k * 10 + 10)]
            result = await client.read("contacts", "companies", ids)
            return [(r.from_id, r.to_ids) for r in result.results]

        answers = await asyncio.gather(*(one(k) for k in range(50)))
    for k, answer in enumerate(answers):
        assert answer == [(str(i), [f"1{i}", f"2{i}"]) for i in range(k * 10, k * 10 + 10)]
    assert hub.max_in_flight <= 4


async def test_streaming_items_and_pages_hold_what_the_merge_holds(hub: FakeHubSpot) -> None:
    hub.seed(
        "contacts", "companies", {"1": [str(i) for i in range(1000, 1250)], "2": ["8"], "3": ["9"]}
    )
    async with _client(hub, read_chunk_size=2) as client:
        op = client.read("contacts", "companies", ["1", "2", "3", "4"])
        items = [(item.from_id, item.to_ids) async for item in op]
        pages = [page async for page in op.pages()]
        merged = await op
    assert sorted((f, len(t)) for f, t in items) == [
        ("1", 50),
        ("1", 100),
        ("1", 100),
        ("2", 1),
        ("3", 1),
    ]
    assert sum(len(p.results) for p in pages) == 5
    assert [e for p in pages for e in p.errors] == merged.errors
    assert merged.ids_without_associations == ["4"]
    by_id = {r.from_id: r.to_ids for r in merged.results}
    assert by_id["1"] == [str(i) for i in range(1000, 1250)]


async def test_caller_owned_session_is_used_and_left_open(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {"1": ["2"]})
    async with aiohttp.ClientSession() as session:
        async with _client(hub, session=session) as client:
            result = await client.read("contacts", "companies", ["1"])
        assert result.results[0].to_ids == ["2"]
        assert not session.closed
        async with session.get(hub.url + "/nowhere") as response:
            assert response.status in (404, 405)


async def test_a_rejected_chunk_becomes_one_error_naming_every_id(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {str(i): ["1"] for i in range(0, 2500, 3)})
    hub.fail_ids(["1500"], status=400)
    async with _client(hub) as client:
        result = await client.read("contacts", "companies", range(2500))
    [error] = result.failures
    assert error.context["ids"] == [str(i) for i in range(1000, 2000)]
    assert error.context["httpStatus"] == ["400"]
    assert error.category == "VALIDATION_ERROR"
    assert _accounted(result) == {str(i) for i in range(2500)}
    assert result.failed_ids == [str(i) for i in range(1000, 2000)]
    with pytest.raises(hubassoc.BatchErrors) as info:
        result.raise_for_errors()
    assert info.value.errors == [error]


async def test_a_failed_write_chunk_names_its_pairs(hub: FakeHubSpot) -> None:
    hub.fail_ids(["999"], status=400)
    pairs = [(str(i), str(i + 500)) for i in range(1000, 1250)]
    pairs.append(("999", "1"))
    async with _client(hub) as client:
        result = await client.associate_default("contacts", "companies", pairs)
    [error] = result.failures
    failed = list(zip(error.context["ids"], error.context["toIds"], strict=True))
    assert failed == pairs[200:]
    assert len(result.results) == 200


async def test_401_raises_authentication_error(hub: FakeHubSpot) -> None:
    async with hubassoc.Client("pat-wrong", base_url=hub.url, rate_limit=None) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.read("contacts", "companies", range(3000))
    assert info.value.status == 401
    assert "pat-wrong" not in str(info.value)


async def test_403_raises_forbidden_with_missing_scopes(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    hub.missing_scopes = ["crm.objects.contacts.read"]
    with pytest.raises(ForbiddenError) as info:
        await client.read("contacts", "companies", ["1"])
    assert info.value.missing_scopes == ["crm.objects.contacts.read"]
    assert info.value.status == 403


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.read("../x", "companies", ["1"]),
        lambda c: c.read("contacts", "contacts/1", ["1"]),
        lambda c: c.read("contacts", "companies", ["1", " "]),
        lambda c: c.read("contacts", "companies", "123"),
        lambda c: c.read("contacts", "companies", 5),
        lambda c: c.associate_default("contacts", "companies", [("1",)]),
        lambda c: c.archive("contacts", "companies", {"1": [""]}),
        lambda c: c.purge_configurations("contacts", "companies", [3]),
        lambda c: c.read("contacts", "companies", ["1"], timeout=0),
    ],
)
async def test_bad_input_sends_nothing(
    hub: FakeHubSpot, client: hubassoc.Client, call: Any
) -> None:
    with pytest.raises(InvalidInputError):
        await call(client)
    assert hub.requests == []


async def test_a_repeating_cursor_ends_with_an_error_not_a_hang(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    hub.seed("contacts", "companies", {"1": [str(i) for i in range(1, 301)], "2": ["5"]})
    hub.repeat_cursor_for(["1"])
    result = await client.read("contacts", "companies", ["1", "2"])
    [error] = result.failures
    assert error.ids == ["1"]
    assert {r.from_id for r in result.results} == {"1", "2"}
    assert len(hub.requests) < 10


async def test_associate_read_archive_purge_round_trip(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    created = await client.associate_default(
        "contacts", "companies", [("1", "10"), (2, 20), ("1", "11")]
    )
    assert {(r.from_id, r.to_id) for r in created.results} == {
        ("1", "10"),
        ("2", "20"),
        ("1", "11"),
    }
    assert all(r.association_spec.type_id == 279 for r in created.results)
    assert hub.associations("contacts", "companies", "1") == ["10", "11"]
    archived = await client.archive("contacts", "companies", {"1": ["10"], "2": ["20"]})
    assert archived.errors == []
    assert archived.results == []
    assert hub.graph("contacts", "companies") == {"1": ["11"]}
    hub.add_configuration("contacts", "companies", "USER_DEFINED", 3)
    purged = await client.purge_configurations(
        "contacts", "companies", [AssociationSpec(AssociationCategory.USER_DEFINED, 3)]
    )
    assert purged.status == BatchStatus.COMPLETE
    assert hub.configurations("contacts", "companies") == []


async def test_archive_answered_with_an_envelope() -> None:
    async with FakeHubSpot(token=TOKEN, empty_write_responses=False) as hub:
        hub.seed("contacts", "companies", {"1": ["2"]})
        async with _client(hub) as client:
            result = await client.archive("contacts", "companies", [("1", "2")])
        assert result.status == BatchStatus.COMPLETE
        assert result.completed_at is not None
        assert hub.graph("contacts", "companies") == {}


async def test_retries_transient_errors(hub: FakeHubSpot, client: hubassoc.Client) -> None:
    hub.seed("contacts", "companies", {"1": ["2"]})
    hub.fail_next(2, 503, headers={"Retry-After": "0"})
    result = await client.read("contacts", "companies", ["1"])
    assert result.results[0].to_ids == ["2"]
    assert [r.status for r in hub.requests] == [503, 503, 200]


async def test_gives_up_after_max_retries_and_keeps_the_ids(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    hub.fail_next(10, 429, headers={"Retry-After": "0"})
    result = await client.read("contacts", "companies", ["1", "2"])
    assert len(hub.requests) == 3  # max_retries=2 -> 3 attempts
    [error] = result.errors
    assert error.category == "RATE_LIMITS"
    assert error.context["ids"] == ["1", "2"]


async def test_daily_limit_raises_at_once(hub: FakeHubSpot, client: hubassoc.Client) -> None:
    body = b'{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}'
    hub.fail_next(1, 429, body=body)
    with pytest.raises(hubassoc.RateLimitError) as info:
        await client.read("contacts", "companies", ["1"])
    assert info.value.policy_name == "DAILY"
    assert len(hub.requests) == 1


async def test_token_from_environment(hub: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    hub.seed("contacts", "companies", {"1": ["2"]})
    async with hubassoc.Client(base_url=hub.url) as client:
        result = await client.read("contacts", "companies", ["1"])
    assert result.results[0].to_ids == ["2"]


def test_no_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    with pytest.raises(InvalidInputError, match="HUBSPOT_ACCESS_TOKEN"):
        hubassoc.Client()


def test_client_can_be_built_outside_a_loop_and_hides_the_token() -> None:
    client = hubassoc.Client(TOKEN)
    assert TOKEN not in repr(client)
    assert "api.hubapi.com" in repr(client)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"read_chunk_size": 1001},
        {"max_concurrency": 0},
        {"max_retries": -1},
        {"timeout": 0},
        {"base_url": "ftp://x"},
    ],
)
def test_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        hubassoc.Client(TOKEN, **kwargs)


async def test_without_async_with_then_close(hub: FakeHubSpot) -> None:
    hub.seed("contacts", "companies", {"1": ["2"]})
    client = _client(hub)
    result = await client.read("contacts", "companies", ["1"])
    await client.close()
    assert result.results[0].to_ids == ["2"]
    with pytest.raises(ClientClosedError):
        await client.read("contacts", "companies", ["1"])


async def test_leaving_async_with_on_error_closes_the_session(hub: FakeHubSpot) -> None:
    client = _client(hub)
    with contextlib.suppress(KeyError):
        async with client:
            await client.read("contacts", "companies", ["1"])
            raise KeyError("boom")
    with pytest.raises(ClientClosedError):
        await client.read("contacts", "companies", ["1"])


async def test_a_borrowed_session_closed_by_its_owner_is_a_clear_error(hub: FakeHubSpot) -> None:
    session = aiohttp.ClientSession()
    client = _client(hub, session=session)
    await session.close()
    with pytest.raises(ClientClosedError, match="session= has been closed"):
        await client.read("contacts", "companies", ["1"])
    await client.close()
    assert hub.requests == []
