"""The emulator's scripted faults, concurrency controls and lifecycle, over its real socket."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

import hubassoc.testing
from hubassoc.testing import FakeHubSpot, Faults, RecordedRequest

from ._emulator_http import (
    ARCHIVE,
    ASSOCIATE,
    READ,
    pair_inputs,
    post,
    read_body,
)
from .conftest import TOKEN

WAIT = 5.0
# The child process must import this very copy of hubassoc, installed or not.
SOURCE_ROOT = str(Path(hubassoc.testing.__file__).resolve().parents[2])

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
