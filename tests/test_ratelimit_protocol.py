"""A rate limiter of one's own, written with public names only, plugged into the client."""

from __future__ import annotations

import hubassoc
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


class RecordingLimiter:
    """Lets everything through and keeps what the client told it."""

    def __init__(self) -> None:
        self.acquired = 0
        self.infos: list[hubassoc.RateLimitInfo] = []
        self.waits: list[float | None] = []

    async def acquire(self) -> None:
        self.acquired += 1

    def feedback(self, info: hubassoc.RateLimitInfo, *, retry_after: float | None) -> None:
        self.infos.append(info)
        self.waits.append(retry_after)


async def test_a_limiter_built_from_public_names_hears_every_answer() -> None:
    limiter = RecordingLimiter()
    assert isinstance(limiter, hubassoc.RateLimiter)
    async with FakeHubSpot(token=TOKEN, rate_limit=(100, 10.0)) as hub:
        hub.seed("contacts", "companies", {str(i): ["1"] for i in range(3)})
        hub.fail_next(1, 429, headers={"Retry-After": "0"})
        async with hubassoc.Client(
            TOKEN, base_url=hub.url, rate_limit=limiter, read_chunk_size=1, max_concurrency=1
        ) as client:
            result = await client.read("contacts", "companies", ["0", "1", "2"])
    assert len(result.results) == 3
    assert limiter.acquired == len(limiter.infos) == 4  # one feedback per request
    assert limiter.waits == [0.0, None, None, None]  # the scripted 429 came first
    assert [i.remaining for i in limiter.infos[1:]] == [99, 98, 97]
    assert {(i.max, i.interval) for i in limiter.infos} == {(100, 10.0)}


async def test_a_request_without_an_answer_still_gets_its_feedback(hub: FakeHubSpot) -> None:
    limiter = RecordingLimiter()
    hub.hold()
    async with hubassoc.Client(
        TOKEN, base_url=hub.url, rate_limit=limiter, max_retries=1, timeout=0.05
    ) as client:
        result = await client.read("contacts", "companies", ["1"])
    hub.release()
    assert result.failures[0].category == "RETRIES_EXHAUSTED"
    # Both attempts timed out: the limiter learns they are over, with nothing to read.
    assert limiter.acquired == 2
    assert limiter.infos == [hubassoc.RateLimitInfo()] * 2
    assert limiter.waits == [None, None]
