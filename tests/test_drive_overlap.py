"""The driver starts the next calls before it decodes and builds the page of one that finished."""

from __future__ import annotations

import hubassoc
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


class CountingLimiter:
    """Lets everything through, counting the requests that started."""

    def __init__(self) -> None:
        self.started = 0

    async def acquire(self) -> None:
        self.started += 1

    def feedback(self, info: hubassoc.RateLimitInfo, *, retry_after: float | None) -> None:
        return None


async def test_the_next_call_is_under_way_before_a_finished_one_is_turned_into_a_page(
    hub: FakeHubSpot,
) -> None:
    hub.seed("contacts", "companies", {str(i): [str(100 + i)] for i in range(1, 4)})
    limiter = CountingLimiter()
    started_at_page: list[int] = []

    def on_progress(progress: hubassoc.Progress) -> None:
        # Runs once a page is built: by then the call for the next chunk has started.
        started_at_page.append(limiter.started)

    async with hubassoc.Client(
        TOKEN,
        base_url=hub.url,
        rate_limit=limiter,
        read_chunk_size=1,
        max_concurrency=1,
        on_progress=on_progress,
    ) as client:
        result = await client.read("contacts", "companies", ["1", "2", "3"])
    assert sorted(r.from_id for r in result.results) == ["1", "2", "3"]
    # One call at a time: each page was built while the following call was in flight.
    assert started_at_page == [2, 3, 3]


async def test_the_next_call_goes_out_before_an_answer_is_decoded(hub: FakeHubSpot) -> None:
    # One call at a time. The first answer is a 200 whose body is not JSON. The call for
    # the next chunk is sent as soon as that body is read, before decoding finds it
    # garbled, so the retry of the first chunk comes after it.
    hub.seed("contacts", "companies", {"1": ["11"], "2": ["12"]})
    hub.fail_next(1, 200, body=b"{not json", path_contains="batch/read")
    async with hubassoc.Client(
        TOKEN,
        base_url=hub.url,
        rate_limit=None,
        read_chunk_size=1,
        max_concurrency=1,
        max_retries=1,
    ) as client:
        result = await client.read("contacts", "companies", ["1", "2"])
    assert [r.to_ids for r in result.results] == [["11"], ["12"]]
    assert result.errors == []
    sent = [[i["id"] for i in r.body["inputs"]] for r in hub.requests if r.body]
    assert sent == [["1"], ["2"], ["1"]]
