"""Jobs on SAQ: a real redis-server, real worker processes (examples/fleet/worker.py), and
one emulator per portal, each with its own rate limit.

The workers run in their own processes; the emulators and the submitting fleet run in
the test's event loop, so the emulators serve while the test waits for the jobs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis

import hubassoc
from hubassoc.queue import Fleet, Portal
from hubassoc.testing import FakeHubSpot
from tests._servers import RedisServer

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "examples" / "fleet" / "worker.py"

pytestmark = pytest.mark.timeout(240)


class Workers:
    """Worker processes of examples/fleet/worker.py, killed at the end of the test."""

    def __init__(self, portals_file: Path, redis_url: str) -> None:
        self.env = {
            **os.environ,
            "HUBASSOC_PORTALS": str(portals_file),
            "HUBASSOC_REDIS": redis_url,
            "PYTHONPATH": str(ROOT),
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, n: int) -> None:
        for _ in range(n):
            command = [sys.executable, str(WORKER), "--concurrency", "4", "--sweep", "1"]
            self.procs.append(subprocess.Popen(command, env=self.env))

    def kill(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()

    def stop(self) -> list[int | None]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=20))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(None)
        return codes


def portals_file(tmp_path: Path, hubs: dict[str, tuple[FakeHubSpot, int, float]]) -> Path:
    path = tmp_path / "portals.json"
    entries = [
        {
            "name": name,
            "token": f"token-{name}",
            "max_requests": n,
            "interval": interval,
            "base_url": hub.url,
        }
        for name, (hub, n, interval) in hubs.items()
    ]
    path.write_text(json.dumps(entries))
    return path


def rate_fraction(hub: FakeHubSpot, n: int, interval: float) -> float:
    """The share of the allowed rate the clients used, from first arrival to last.

    ``N`` requests kept to ``n`` per ``interval`` (rolling) span at least
    ``floor((N - 1) / n) * interval``: that over the real span (1.0 = no idle time).
    """
    arrivals = sorted(r.arrived for r in hub.requests)
    span = arrivals[-1] - arrivals[0]
    return ((len(arrivals) - 1) // n) * interval / span


def read_graph(n_ids: int, offset: int) -> dict[str, list[int]]:
    """A portal's contacts -> companies: most ids with none, some with several pages."""
    graph: dict[str, list[int]] = {}
    for i in range(offset, offset + n_ids):
        if i % 997 == 0:
            graph[str(i)] = list(range(900_000, 900_000 + 250))  # 3 pages of 100
        elif i % 3 == 0:
            graph[str(i)] = [800_000 + i % 50, 810_000 + i % 7]
    return graph


def read_lines(lines: list[str]) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for line in lines:
        item = json.loads(line)
        from_id = item["from"]["id"]
        assert from_id not in got, f"{from_id} written twice"
        got[from_id] = [str(to["toObjectId"]) for to in item["to"]]
    return got


async def wait(fleet: Fleet, job: hubassoc.Job, portal: str) -> hubassoc.JobSummary:
    """``fleet.wait``, failing with each unfinished block's task as SAQ has it."""
    try:
        async with asyncio.timeout(100):
            return await fleet.wait(job, portal, poll=0.2)
    except TimeoutError:
        state = await fleet.state(job, portal)
        job_id = fleet.job_id(job, portal)
        tasks = []
        for index in range(job.blocks):
            if index not in state.done:
                task = await fleet.queue(portal).job(f"{job_id}#{index}")
                tasks.append(task.info() if task is not None else f"block {index}: no task")
        raise AssertionError(f"{job_id} did not finish: {tasks}") from None


async def collect(fleet: Fleet, job_id: str) -> list[str]:
    return [line async for line in fleet.store.lines(job_id)]


async def test_two_portals_two_workers_one_killed(
    tmp_path: Path, redis_server: RedisServer, redis_client: aioredis.Redis
) -> None:
    # Portal "east" allows 16 requests a second, "west" 8: a 50,000-id read and a
    # 20,000-pair associate are split between them, the bigger share on the faster one.
    limits = {"east": (16, 1.0), "west": (8, 1.0)}
    shares = {"east": (30_000, 12_000), "west": (20_000, 8_000)}
    hubs = {name: FakeHubSpot(rate_limit=limits[name]) for name in limits}
    for hub in hubs.values():
        await hub.start()
    workers = Workers(
        portals_file(tmp_path, {n: (h, *limits[n]) for n, h in hubs.items()}), redis_server.url
    )
    portals = {n: Portal(n, token=f"token-{n}", base_url=h.url) for n, h in hubs.items()}
    fleet = Fleet(redis_client, portals, heartbeat=2)
    try:
        jobs: dict[str, tuple[hubassoc.Job, hubassoc.Job]] = {}
        graphs = {}
        offset = 1
        for name, (n_ids, n_pairs) in shares.items():
            graphs[name] = read_graph(n_ids, offset)
            hubs[name].seed("contacts", "companies", graphs[name])
            ids = list(range(offset, offset + n_ids))
            pairs = [(5_000_000 + offset + i, 7_000_000 + i % 300) for i in range(n_pairs)]
            offset += n_ids
            jobs[name] = (
                hubassoc.Job.read("contacts", "companies", ids),
                hubassoc.Job.associate("contacts", "companies", pairs),
            )
            for job in jobs[name]:
                submitted = await fleet.submit(job, name)
                assert submitted.queued == job.blocks
                # Submitting again queues nothing twice.
                assert (await fleet.submit(job, name)).queued == 0

        workers.start(2)
        # Kill the first worker outright once a fifth of east's associate is done: it
        # has blocks of both portals in flight then (four per portal queue).
        east_associate = jobs["east"][1]
        await hubs["east"].wait_for_requests(east_associate.blocks // 5 + jobs["east"][0].blocks)
        workers.kill(0)

        for name, pair in jobs.items():
            for job in pair:
                summary = await wait(fleet, job, name)
                assert summary.ran == job.blocks, (name, job)
                assert summary.failed == 0
    finally:
        codes = workers.stop()
        for hub in hubs.values():
            await hub.close()
    assert codes[1] == 0  # the surviving worker stopped cleanly on SIGTERM

    redone = 0
    for name, (read, associate) in jobs.items():
        # Every association read exactly once, as the portal holds it.
        got = read_lines(await collect(fleet, fleet.job_id(read, name)))
        want = {k: [str(t) for t in v] for k, v in graphs[name].items()}
        assert got.keys() == want.keys()
        assert all(sorted(got[k]) == sorted(want[k]) for k in want)
        # Every pair created, and written, exactly once.
        made = [json.loads(line) for line in await collect(fleet, fleet.job_id(associate, name))]
        pairs = [(int(m["from"]["id"]), int(m["to"]["id"])) for m in made]
        assert len(pairs) == len(set(pairs)) == len(associate.inputs)
        assert set(pairs) == {(int(f), int(t)) for f, t in associate.inputs}
        # No 429, and (nearly) the whole allowed rate while the portal was busy.
        hub = hubs[name]
        assert hub.status_counts[429] == 0, (name, hub.status_counts)
        fraction = rate_fraction(hub, *limits[name])
        assert fraction >= 0.9, (name, fraction)
        for job in (read, associate):
            queue = fleet.queue(name)
            for index in range(job.blocks):
                task = await queue.job(f"{fleet.job_id(job, name)}#{index}")
                if task is not None and task.attempts > 1:
                    redone += 1
    # The killed worker's blocks were given to the other worker, and still each is once.
    assert redone >= 1
    await fleet.close()


async def test_daily_stop_on_one_portal_leaves_the_other(
    tmp_path: Path, redis_server: RedisServer, redis_client: aioredis.Redis
) -> None:
    hubs = {
        "spent": FakeHubSpot(rate_limit=(50, 1.0), daily_limit=3),
        "fine": FakeHubSpot(rate_limit=(50, 1.0)),
    }
    for hub in hubs.values():
        await hub.start()
        hub.seed("contacts", "companies", {str(i): [i + 1] for i in range(1, 2001)})
    workers = Workers(
        portals_file(tmp_path, {n: (h, 50, 1.0) for n, h in hubs.items()}), redis_server.url
    )
    portals = {n: Portal(n, token=f"token-{n}", base_url=h.url) for n, h in hubs.items()}
    fleet = Fleet(redis_client, portals, heartbeat=2)
    job = hubassoc.Job.read("contacts", "companies", range(1, 2001), block_size=100)
    try:
        for name in hubs:
            await fleet.submit(job, name)
        workers.start(1)
        spent = await fleet.wait(job, "spent", poll=0.1)
        fine = await fleet.wait(job, "fine", poll=0.1)
    finally:
        workers.stop()
        for hub in hubs.values():
            await hub.close()
    state = await fleet.state(job, "spent")
    assert state.stopped is not None
    assert "DAILY" in state.stopped
    assert spent.ran < job.blocks
    assert fine.ran == job.blocks
    assert fine.lines == 2000
    # Once stopped, the spent portal's remaining blocks end without a request.
    assert hubs["spent"].status_counts[200] + hubs["spent"].status_counts[207] <= 3
    await fleet.close()


def test_portal_repr_hides_the_token() -> None:
    portal = Portal("4711", token="pat-secret-value")
    assert "pat-secret-value" not in repr(portal)
    with pytest.raises(hubassoc.InvalidInputError):
        Portal("a:b", token="x")
