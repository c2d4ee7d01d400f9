"""An operation that must stop says what it finished (``partial``) and what not (``unfinished``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import hubassoc
from hubassoc.testing import FakeHubSpot, OAuthApp

SECRET = "client-SECRET-91c0-do-not-log"
REFRESH = "refresh-SECRET-2d7e-do-not-log"


def _auth() -> hubassoc.OAuthToken:
    return hubassoc.OAuthToken(client_id="app", client_secret=SECRET, refresh_token=REFRESH)


async def _revoke_after(hub: FakeHubSpot, requests: int) -> None:
    await hub.wait_for_requests(requests)
    hub.revoke_refresh_tokens()
    hub.expire_access_tokens()


async def test_a_revoked_refresh_token_mid_associate_accounts_for_every_pair(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pairs = [(str(i), str(50_000 + i)) for i in range(1, 2_001)]
    async with FakeHubSpot(oauth=OAuthApp("app", SECRET, REFRESH), latency=0.01) as hub:
        async with hubassoc.Client(
            _auth(), base_url=hub.url, rate_limit=None, write_chunk_size=20, max_concurrency=4
        ) as client:
            revoker = asyncio.create_task(_revoke_after(hub, 31))
            with pytest.raises(hubassoc.TokenRefreshError) as caught:
                await client.associate_default("contacts", "companies", pairs)
            await revoker
        exc = caught.value
        assert exc.partial is not None
        done = [(a.from_id, a.to_id) for a in exc.partial.results]
        assert exc.partial.failures == []
        unfinished = list(exc.unfinished)
        # Exactly once: nothing in both, nothing missing, nothing twice.
        assert len(done) == len(set(done))
        assert len(unfinished) == len(set(unfinished))
        assert set(done).isdisjoint(unfinished)
        assert set(done) | set(unfinished) == set(pairs)
        assert 0 < len(done) < len(pairs)
        stored = hub.graph("contacts", "companies")
        assert all(t in stored.get(f, []) for f, t in done)  # what partial says was done, was
        for text in (str(exc), repr(exc), caplog.text):
            for secret in (SECRET, REFRESH, *hub.access_tokens):
                assert secret not in text


async def test_a_stop_mid_read_keeps_only_ids_with_every_page() -> None:
    ids = [str(i) for i in range(1, 3_001)]
    graph = {i: [str(10_000 + int(i) * 3 + k) for k in range(3)] for i in ids if int(i) % 3}
    async with FakeHubSpot(
        oauth=OAuthApp("app", SECRET, REFRESH), page_size=2, latency=0.01
    ) as hub:
        hub.seed("contacts", "companies", graph)
        async with hubassoc.Client(
            _auth(), base_url=hub.url, rate_limit=None, read_chunk_size=100, max_concurrency=3
        ) as client:
            revoker = asyncio.create_task(_revoke_after(hub, 25))
            with pytest.raises(hubassoc.TokenRefreshError) as caught:
                await client.read("contacts", "companies", ids)
            await revoker
            exc = caught.value
            assert exc.partial is not None
            finished = [r.from_id for r in exc.partial.results]
            for item in exc.partial.results:
                assert item.to_ids == graph[item.from_id]  # every page, nothing partial
            without = exc.partial.ids_without_associations
            accounted = finished + without + list(exc.unfinished)
            assert sorted(accounted, key=int) == ids
            assert finished
            assert exc.unfinished

    # partial + a re-run of unfinished is the whole read.
    async with FakeHubSpot(page_size=2) as again:
        again.seed("contacts", "companies", graph)
        async with hubassoc.Client("pat-x", base_url=again.url, rate_limit=None) as client:
            rest = await client.read("contacts", "companies", exc.unfinished)
        merged = {r.from_id: r.to_ids for r in [*exc.partial.results, *rest.results]}
        assert merged == graph


async def test_the_daily_limit_stops_with_partial_and_unfinished() -> None:
    pairs = [(str(i), str(70_000 + i)) for i in range(1, 501)]
    async with FakeHubSpot(daily_limit=7) as hub:
        async with hubassoc.Client(
            "pat-x", base_url=hub.url, rate_limit=None, write_chunk_size=25, max_concurrency=2
        ) as client:
            with pytest.raises(hubassoc.RateLimitError) as caught:
                await client.associate_default("contacts", "companies", pairs)
        exc = caught.value
        assert exc.partial is not None
        done = {(a.from_id, a.to_id) for a in exc.partial.results}
        assert len(done) == 7 * 25
        assert done.isdisjoint(exc.unfinished)
        assert done | set(exc.unfinished) == set(pairs)


async def test_streaming_gets_the_unfinished_inputs_too() -> None:
    ids = [str(i) for i in range(1, 401)]
    seen: list[Any] = []
    async with FakeHubSpot() as hub:
        hub.seed("contacts", "companies", {i: ["5"] for i in ids})
        async with hubassoc.Client(
            "pat-x", base_url=hub.url, rate_limit=None, read_chunk_size=50, max_concurrency=1
        ) as client:

            async def stream() -> None:
                async for item in client.read("contacts", "companies", ids):
                    seen.append(item.from_id)
                    if len(seen) == 100:
                        hub.missing_scopes.append("crm.objects.contacts.read")

            with pytest.raises(hubassoc.ForbiddenError) as caught:
                await stream()
        exc = caught.value
        assert exc.partial is None
        assert sorted(seen + list(exc.unfinished), key=int) == ids
