"""The emulator's ``latency``: the time from a request's arrival to its answer leaving.

Spoken to over its real socket; the client runs on the emulator's loop, so the times
the emulator records (``RecordedRequest.arrived``) and the client's receive times are
on one clock.
"""

from __future__ import annotations

import asyncio

import aiohttp

from hubassoc.testing import FakeHubSpot, Faults

TOKEN = "test-token-0123"
READ = "/crm/v4/associations/contacts/companies/batch/read"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
LATENCY = 0.5
CALLS = 8
# Each id has 17 associations, read 3 a page: every result carries a cursor, as in the
# benchmark's rate-limited reads. 4,000 ids a call make some 10 ms of the emulator's
# work, CALLS of them well inside LATENCY, and leave little garbage to collect.
IDS, PAGE_SIZE = 4_000, 3


def _ids(call: int) -> list[str]:
    """A first id of the call's own, then ids every call reads."""
    return [str(100 + call), *(str(1_000 + i) for i in range(IDS - 1))]


async def _read(session: aiohttp.ClientSession, url: str, call: int) -> tuple[str, float]:
    """The call's first id and when its answer reached the client."""
    body = {"inputs": [{"id": i} for i in _ids(call)]}
    async with session.post(url + READ, json=body, headers=HEADERS) as resp:
        received = asyncio.get_running_loop().time()
        assert resp.status == 200
        await resp.read()
    return _ids(call)[0], received


def _arrivals(hub: FakeHubSpot) -> dict[str, float]:
    return {r.body["inputs"][0]["id"]: r.arrived for r in hub.requests}


async def test_concurrent_answers_leave_latency_after_their_arrival(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeHubSpot(token=TOKEN, page_size=PAGE_SIZE, read_limit=IDS) as hub:
        to_ids = [str(500_000 + k) for k in range(17)]
        hub.seed("contacts", "companies", {i: to_ids for c in range(3 * CALLS) for i in _ids(c)})
        # A warm pool of connections, and the time one answer takes without latency.
        await asyncio.gather(*(_read(session, hub.url, c) for c in range(CALLS)))
        alone = []
        for c in range(CALLS, CALLS + 3):
            first_id, received = await _read(session, hub.url, c)
            alone.append(received - _arrivals(hub)[first_id])
        build = min(alone)

        hub.latency = LATENCY
        seen = len(hub.requests)
        burst = range(2 * CALLS, 3 * CALLS)
        answers = await asyncio.gather(*(_read(session, hub.url, c) for c in burst))

    arrived = _arrivals(hub)
    assert len(hub.requests) == seen + CALLS
    first = min(arrived[first_id] for first_id, _ in answers)
    for first_id, received in answers:
        assert received - arrived[first_id] >= LATENCY - 0.001
        # Building one after another after the latency would put the last answer
        # CALLS builds late; each answer is built before its wait, in parallel with
        # the others' waits, so the burst leaves together (the margin is for a
        # loaded machine).
        assert received - first < LATENCY + CALLS / 2 * build, (received - first, build)


async def test_a_slow_fault_adds_to_the_latency(session: aiohttp.ClientSession) -> None:
    async with FakeHubSpot(
        token=TOKEN, latency=0.1, faults=Faults(slow=1.0, slow_seconds=0.1)
    ) as hub:
        hub.seed("contacts", "companies", {"101": ["201"]})
        body = {"inputs": [{"id": "101"}]}
        async with session.post(hub.url + READ, json=body, headers=HEADERS) as resp:
            received = asyncio.get_running_loop().time()
            assert resp.status == 200
    assert received - hub.requests[0].arrived >= 0.2 - 0.001
