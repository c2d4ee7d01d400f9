"""OAuth: token providers, single-flight refresh, expiring tokens, and secrets kept out."""

from __future__ import annotations

import asyncio
import logging

import pytest

import hubassoc
from hubassoc.testing import FakeHubSpot, OAuthApp

CLIENT_ID = "app-client-id"
SECRET = "client-SECRET-4f1d-do-not-log"
REFRESH = "refresh-SECRET-77ab-do-not-log"


def _app(lifetime: float = 1800.0, *, rotate: bool = False) -> OAuthApp:
    return OAuthApp(
        CLIENT_ID, SECRET, REFRESH, token_lifetime=lifetime, rotate_refresh_tokens=rotate
    )


def _auth(**kwargs: object) -> hubassoc.OAuthToken:
    return hubassoc.OAuthToken(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        refresh_token=REFRESH,
        **kwargs,  # type: ignore[arg-type]
    )


def _secrets(hub: FakeHubSpot) -> list[str]:
    return [SECRET, REFRESH, *hub.access_tokens, *hub.refresh_tokens]


async def test_a_long_read_and_associate_outlive_many_token_lifetimes() -> None:
    ids = [str(i) for i in range(1, 20_001)]
    graph = {i: [str(100_000 + int(i)), str(200_000 + int(i))] for i in ids[::2]}
    async with FakeHubSpot(oauth=_app(lifetime=1.0), latency=0.15) as hub:
        hub.seed("contacts", "companies", graph)
        auth = _auth()
        async with hubassoc.Client(
            auth,
            base_url=hub.url,
            rate_limit=None,
            read_chunk_size=200,
            write_chunk_size=200,
            max_concurrency=4,
        ) as client:
            result = await client.read("contacts", "companies", ids)
            assert {r.from_id: r.to_ids for r in result.results} == graph
            assert sorted(result.ids_without_associations, key=int) == ids[1::2]
            read_refreshes = hub.token_refreshes

            pairs = [(i, str(300_000 + int(i))) for i in ids]
            created = await client.associate_default("contacts", "deals", pairs)
            assert created.failures == []
            assert {(a.from_id, a.to_id) for a in created.results} == set(pairs)
        # 100 calls of 0.15 s, four at a time, span several one-second lifetimes each.
        assert read_refreshes >= 3
        assert hub.token_refreshes - read_refreshes >= 3
        assert auth.refreshes == hub.token_refreshes
        assert hub.graph("contacts", "deals") == {f: [t] for f, t in pairs}
        assert hub.status_counts[401] == 0


async def test_fifty_requests_meeting_an_expired_token_cause_one_refresh() -> None:
    async with FakeHubSpot(oauth=_app()) as hub:
        hub.seed("contacts", "companies", {str(i): ["900"] for i in range(50)})
        async with hubassoc.Client(
            _auth(), base_url=hub.url, rate_limit=None, read_chunk_size=1, max_concurrency=50
        ) as client:
            await client.read("contacts", "companies", ["0"])
            assert hub.token_refreshes == 1
            hub.expire_access_tokens()
            hub.hold()

            async def read_fifty() -> hubassoc.BatchResult[hubassoc.AssociationRead]:
                return await client.read("contacts", "companies", [str(i) for i in range(50)])

            task = asyncio.create_task(read_fifty())
            await hub.wait_for_in_flight(50)
            hub.release()
            result = await task
        assert len(result.results) == 50
        assert hub.status_counts[401] == 50
        assert hub.token_refreshes == 2


async def test_rotated_refresh_tokens_reach_the_hook_and_are_used() -> None:
    stored: list[str] = []
    async with FakeHubSpot(oauth=_app(lifetime=1800.0, rotate=True)) as hub:
        auth = _auth(on_refresh_token=stored.append)
        async with hubassoc.Client(auth, base_url=hub.url, rate_limit=None) as client:
            await client.read("contacts", "companies", ["1"])
            hub.expire_access_tokens()
            await client.read("contacts", "companies", ["2"])
        assert hub.token_refreshes == 2
        assert len(stored) == 2
        assert stored[0] != stored[1]
        assert hub.refresh_tokens == {stored[-1]}
        assert auth.refresh_token == stored[-1]


async def test_an_async_callable_provider_is_asked_for_every_request() -> None:
    calls = 0

    async def provide() -> str:
        nonlocal calls
        calls += 1
        return "pat-callable-token"

    async with (
        FakeHubSpot(token="pat-callable-token") as hub,
        hubassoc.Client(provide, base_url=hub.url, rate_limit=None, read_chunk_size=2) as client,
    ):
        await client.read("contacts", "companies", ["1", "2", "3", "4"])
    assert calls == 2
    assert hub.status_counts[207] == 2


async def test_a_rejected_refresh_token_is_a_clear_error_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeHubSpot(oauth=_app()) as hub:
        hub.revoke_refresh_tokens()
        auth = _auth()
        async with hubassoc.Client(auth, base_url=hub.url, rate_limit=None) as client:
            with pytest.raises(hubassoc.TokenRefreshError) as caught:
                await client.read("contacts", "companies", ["1"])
            shown = [str(caught.value), repr(caught.value), repr(auth), repr(client), caplog.text]
        assert caught.value.category == "BAD_REFRESH_TOKEN"
        assert isinstance(caught.value, hubassoc.AuthenticationError)
        for text in shown:
            for secret in _secrets(hub):
                assert secret not in text


def test_bad_oauth_settings_fail_before_any_request() -> None:
    with pytest.raises(hubassoc.InvalidInputError):
        hubassoc.OAuthToken(client_id="x", client_secret="a b", refresh_token="r")
    with pytest.raises(hubassoc.InvalidInputError):
        hubassoc.Client(12345)  # type: ignore[arg-type]


async def test_the_token_is_asked_for_when_the_request_is_sent_not_before_its_wait() -> None:
    # Two reads share a client that sends one request at a time: the second waits for
    # the first to be answered. A token taken before that wait could expire during it.
    answered_at_ask: list[int] = []
    async with FakeHubSpot(token="t-1", latency=0.05) as hub:
        hub.seed("contacts", "companies", {"1": ["9"], "2": ["9"]})

        def token() -> str:
            answered_at_ask.append(sum(hub.status_counts.values()))
            return "t-1"

        async with hubassoc.Client(
            token, base_url=hub.url, rate_limit=None, max_concurrency=1
        ) as client:
            one, two = await asyncio.gather(
                client.read("contacts", "companies", ["1"]),
                client.read("contacts", "companies", ["2"]),
            )
    assert [r.from_id for r in (*one.results, *two.results)] == ["1", "2"]
    assert answered_at_ask == [0, 1]


async def test_a_token_lifetime_counts_from_the_ask_not_the_slow_answer() -> None:
    # HubSpot starts a token's clock when it issues it; the answer saying so can come much
    # later. With a 1 s lifetime (0.2 s margin) and answers 0.45 s after each request, a
    # client counting from the answer would think the token good 0.25 s past its end.
    async with FakeHubSpot(oauth=_app(lifetime=1.0), latency=0.45) as hub:
        hub.seed("contacts", "companies", {"1": ["9"]})
        loop = asyncio.get_running_loop()
        async with hubassoc.Client(
            _auth(), base_url=hub.url, rate_limit=None, max_retries=0
        ) as client:
            asked = loop.time()
            await client.read("contacts", "companies", ["1"])
            # Past the token's end by HubSpot's clock, before it by an answer's.
            await asyncio.sleep(asked + 1.1 - loop.time())
            result = await client.read("contacts", "companies", ["1"])
    assert [r.to_ids for r in result.results] == [["9"]]
    assert hub.status_counts[401] == 0
    assert hub.token_refreshes == 2
