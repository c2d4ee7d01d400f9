"""The driver starts the next calls before it builds the page of one that finished."""

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
