"""Resumable library jobs: blocks, FileStore and RedisStore, stops, restarts and SIGKILL."""

from __future__ import annotations

import asyncio
import collections
import io
import json
import os
import signal
import sys
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

import hubassoc
from hubassoc import BlockResult, FileStore, Job, RedisStore, StoreError
from hubassoc.testing import FakeHubSpot

from ._job_process import make_job
from .conftest import TOKEN

ROOT = Path(__file__).resolve().parent.parent


def _seed(hub: FakeHubSpot, count: int) -> dict[str, list[str]]:
    graph = {str(i): [f"1{i}", f"2{i}"] for i in range(count)}
    hub.seed("contacts", "companies", graph)
    return graph


def _read_lines(path: Path) -> dict[str, list[str]]:
    """The output file as from-id -> to-ids, asserting that no from-id is there twice."""
    seen: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        item = json.loads(line)
        from_id = item["from"]["id"]
        assert from_id not in seen, f"{from_id} written twice"
        seen[from_id] = sorted(str(to["toObjectId"]) for to in item["to"])
    return seen


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _ids_requested(hub: FakeHubSpot) -> collections.Counter[str]:
    return collections.Counter(
        str(i["id"]) for r in hub.requests if r.body for i in r.body.get("inputs", [])
    )


def _client(hub: FakeHubSpot, **kwargs: Any) -> hubassoc.Client:
    options: dict[str, Any] = {"rate_limit": None, "max_retries": 1, "timeout": 10}
    options.update(kwargs)
    return hubassoc.Client(TOKEN, base_url=hub.url, **options)


# ---------------------------------------------------------------------------- the job itself


def test_blocks_follow_the_inputs_and_block_size() -> None:
    job = Job.read("contacts", "companies", [3, "1", 2, 3, "4", 5, 6], block_size=2)
    assert job.inputs == ["3", "1", "2", "4", "5", "6"]  # deduplicated, first kept
    assert job.blocks == 3
    assert [job.block(i) for i in range(3)] == [["3", "1"], ["2", "4"], ["5", "6"]]
    with pytest.raises(IndexError):
        job.block(3)
    again = Job.read("contacts", "companies", ["3", "1", "2", "4", "5", "6"], block_size=2)
    assert again.id == job.id
    assert again.fingerprint == job.fingerprint
    other = Job.read("contacts", "companies", ["3", "1", "2", "4", "5", "6"], block_size=3)
    assert other.fingerprint != job.fingerprint
    assert Job.read("contacts", "companies", ["1"], name="nightly").id == "nightly"


def test_bad_jobs_are_refused_before_anything_runs() -> None:
    with pytest.raises(hubassoc.InvalidInputError, match="block_size"):
        Job.read("contacts", "companies", ["1"], block_size=0)
    with pytest.raises(hubassoc.InvalidInputError, match="at most 1000"):
        Job.read("contacts", "companies", ["1"], block_size=1001)
    with pytest.raises(hubassoc.InvalidInputError, match="pair"):
        Job.associate("contacts", "companies", [("1", "2", "3")])
    with pytest.raises(hubassoc.InvalidInputError, match="operation"):
        Job("delete", "contacts", "companies", ["1"])  # type: ignore[arg-type]
    with pytest.raises(hubassoc.InvalidInputError, match="object type"):
        Job.read("", "companies", ["1"])


async def test_a_job_writes_every_block_and_removes_its_checkpoint(
    hub: FakeHubSpot, tmp_path: Path
) -> None:
    graph = _seed(hub, 95)
    hub.invalid_ids.add("7")
    job = Job.read("contacts", "companies", [str(i) for i in range(100)], block_size=10)
    store = FileStore(tmp_path / "job.ckpt", out=tmp_path / "out.jsonl", failed=tmp_path / "f")
    seen: list[int] = []
    async with _client(hub, read_chunk_size=10) as client:
        summary = await job.run(
            client, store, max_blocks_in_flight=3, on_block=lambda b: seen.append(b.index)
        )
    assert sorted(seen) == list(range(10))
    assert summary == hubassoc.JobSummary(job.id, 10, 10, 0, lines=94, failed=1)
    lines = _read_lines(tmp_path / "out.jsonl")
    assert lines == {k: sorted(v) for k, v in graph.items() if k != "7"}
    assert (tmp_path / "f").read_text() == '"7"\n'
    assert not (tmp_path / "job.ckpt").exists()
    assert hub.max_in_flight <= 3


async def test_associate_and_archive_jobs(hub: FakeHubSpot, tmp_path: Path) -> None:
    pairs = [(str(i), str(1000 + i)) for i in range(25)]
    out = tmp_path / "made.jsonl"
    async with _client(hub, write_chunk_size=10) as client:
        made = await Job.associate("contacts", "companies", pairs, block_size=10).run(
            client, FileStore(tmp_path / "a.ckpt", out=out)
        )
        assert made.lines == 25
        made_pairs = {(json.loads(x)["from"]["id"], json.loads(x)["to"]["id"]) for x in lines(out)}
        assert made_pairs == set(pairs)
        assert hub.associations("contacts", "companies", "3") == ["1003"]
        gone = await Job.archive("contacts", "companies", pairs[:5]).run(
            client, FileStore(tmp_path / "b.ckpt")
        )
    assert (gone.lines, gone.failed) == (0, 0)
    assert hub.associations("contacts", "companies", "3") == []
    assert hub.associations("contacts", "companies", "7") == ["1007"]


async def test_a_stopped_job_commits_what_finished_and_resumes_the_rest(
    tmp_path: Path,
) -> None:
    # HubSpot's DAILY limit stops the job after 4 requests; the next day it resumes.
    async with FakeHubSpot(token=TOKEN, daily_limit=4) as hub:
        graph = _seed(hub, 60)
        job = Job.read("contacts", "companies", list(graph), block_size=10)
        store = FileStore(tmp_path / "job.ckpt", out=tmp_path / "out.jsonl")
        async with _client(hub, read_chunk_size=10, max_concurrency=1) as client:
            with pytest.raises(hubassoc.RateLimitError):
                await job.run(client, store, max_blocks_in_flight=1)
            loaded = store.load(job.info())
            assert loaded is not None
            assert sorted(loaded[0].done) == [0, 1, 2, 3]
            first = len(hub.requests)
            hub.daily_limit = None
            summary = await job.run(client, store, max_blocks_in_flight=2)
        assert (summary.ran, summary.skipped, summary.lines) == (2, 4, 60)
        again = _ids_requested(hub)
        # The resumed run asked only for blocks 4 and 5 (plus the refused request's block).
        resumed = {str(i["id"]) for r in hub.requests[first:] for i in r.body["inputs"]}
        assert resumed == {str(i) for i in range(40, 60)}
        assert all(again[str(i)] == 1 for i in range(40))
        assert _read_lines(tmp_path / "out.jsonl") == {k: sorted(v) for k, v in graph.items()}


async def test_a_checkpoint_of_another_job_is_refused(hub: FakeHubSpot, tmp_path: Path) -> None:
    _seed(hub, 10)
    path = tmp_path / "job.ckpt"
    async with _client(hub) as client:
        store = FileStore(path, out=tmp_path / "out.jsonl", keep=True)
        await Job.read("contacts", "companies", ["1", "2"]).run(client, store)
        assert path.exists()  # keep=True
        with pytest.raises(StoreError, match="other arguments or other input"):
            await Job.read("contacts", "companies", ["1", "3"]).run(client, store)
    path.write_text("not a checkpoint\n")
    with pytest.raises(StoreError, match="not a hubassoc checkpoint"):
        FileStore(path).load(Job.read("contacts", "companies", ["1"]).info())
    with pytest.raises(ValueError, match="different files"):
        FileStore(path, out=path)


async def test_a_torn_checkpoint_line_and_a_half_written_block_are_redone_once(
    hub: FakeHubSpot, tmp_path: Path
) -> None:
    graph = _seed(hub, 30)
    job = Job.read("contacts", "companies", list(graph), block_size=10)
    checkpoint, out = tmp_path / "job.ckpt", tmp_path / "out.jsonl"
    store = FileStore(checkpoint, out=out, keep=True)
    async with _client(hub) as client:
        await job.run(client, store)
        # As if the process died while writing block 2: its output half there, its
        # checkpoint line torn.
        records = checkpoint.read_bytes().split(b"\n")
        size_after_block_1 = json.loads(records[2])["out"]
        checkpoint.write_bytes(b"\n".join(records[:3]) + b'\n{"block": 2, "ou')
        with out.open("r+b") as f:
            f.truncate(size_after_block_1 + 17)
        before = len(hub.requests)
        summary = await job.run(client, store)
    assert (summary.ran, summary.skipped) == (1, 2)
    assert len(hub.requests) == before + 1
    assert _read_lines(out) == {k: sorted(v) for k, v in graph.items()}


async def test_output_shorter_than_the_checkpoint_says_is_refused(
    hub: FakeHubSpot, tmp_path: Path
) -> None:
    graph = _seed(hub, 20)
    job = Job.read("contacts", "companies", list(graph), block_size=10)
    store = FileStore(tmp_path / "job.ckpt", out=tmp_path / "out.jsonl", keep=True)
    async with _client(hub) as client:
        await job.run(client, store)
        (tmp_path / "out.jsonl").write_text("")
        with pytest.raises(StoreError, match="shorter than the checkpoint"):
            await job.run(client, store)


async def test_a_store_without_checkpoint_writes_to_a_stream_and_reports_its_start(
    hub: FakeHubSpot, tmp_path: Path
) -> None:
    graph = _seed(hub, 5)
    job = Job.read("contacts", "companies", [*graph, "999"], block_size=2)
    stream = io.BytesIO()
    starts: list[hubassoc.JobState] = []
    async with _client(hub) as client:
        summary = await job.run(client, FileStore(None, out=stream), on_start=starts.append)
        with pytest.raises(StoreError, match=r"cannot open .*missing"):
            await job.run(client, FileStore(tmp_path / "missing" / "job.ckpt"))
    assert [s.done for s in starts] == [{}]
    assert summary.lines == 5
    written = [json.loads(line)["from"]["id"] for line in stream.getvalue().splitlines()]
    assert sorted(written) == sorted(graph)
    assert not stream.closed  # the caller's stream stays open


async def test_a_custom_job_runs_its_own_blocks_with_its_scope(
    hub: FakeHubSpot, tmp_path: Path
) -> None:
    rows = [("1", "10", ("x",)), ("2", "20", ("y", "z")), ("3", "30", ())]

    async def runner(
        client: hubassoc.Client, block: list[Any], report: Any
    ) -> tuple[list[str], list[Any]]:
        return [json.dumps(list(r)) for r in block if r[2]], [r for r in block if not r[2]]

    def make(scope: dict[str, Any]) -> Job:
        return Job.custom("tag", "contacts", "companies", rows, runner, block_size=2, scope=scope)

    job = make({"portal": 1})
    assert job.fingerprint != make({"portal": 2}).fingerprint
    assert job.id.startswith("tag-")
    with pytest.raises(hubassoc.InvalidInputError, match="scope may not set from"):
        make({"from": "deals"})
    out, failed = tmp_path / "out.jsonl", tmp_path / "failed"
    async with _client(hub) as client:
        summary = await job.run(client, FileStore(tmp_path / "c.ckpt", out=out, failed=failed))
    assert (summary.blocks, summary.lines, summary.failed) == (2, 2, 1)
    assert [json.loads(line) for line in lines(out)] == [
        ["1", "10", ["x"]],
        ["2", "20", ["y", "z"]],
    ]
    assert lines(failed) == ['["3", "30", []]']
    assert hub.requests == []


# ---------------------------------------------------------------------------- SIGKILL


async def _wait_for_blocks(process: Any, count: int) -> None:
    """Until the job process has committed ``count`` blocks (it says so on stderr)."""
    for _ in range(count):
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        assert line == b"committed\n", f"the job ended or spoke before {count} blocks: {line!r}"


async def test_a_job_killed_by_sigkill_resumes_without_redoing_a_finished_block(
    tmp_path: Path,
) -> None:
    count, block_size = 600, 10
    job = make_job(count, block_size)
    checkpoint, out = tmp_path / "job.ckpt", tmp_path / "out.jsonl"
    env = {**os.environ, "HUBSPOT_ACCESS_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    async with FakeHubSpot(token=TOKEN, latency=0.01) as hub:
        graph = _seed(hub, count)
        args = [str(ROOT / "tests" / "_job_process.py"), hub.url, str(checkpoint), str(out)]
        args += [str(count), str(block_size)]
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, stdout=PIPE, stderr=PIPE
        )
        try:
            await _wait_for_blocks(process, 12)
            hub.hold()  # nothing more finishes: the kill lands mid-job
            os.kill(process.pid, signal.SIGKILL)
            await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        hub.release()
        assert process.returncode == -signal.SIGKILL
        loaded = FileStore(checkpoint).load(job.info())
        assert loaded is not None
        done_before = set(loaded[0].done)
        assert 12 <= len(done_before) < job.blocks
        first_run = _ids_requested(hub)

        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, stdout=PIPE, stderr=PIPE
        )
        stdout, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0
        summary = json.loads(stdout)
        assert summary == {
            "ran": job.blocks - len(done_before),
            "skipped": len(done_before),
            "lines": count,
        }
    total = _ids_requested(hub)
    second_run = total - first_run
    done_ids = {i for b in done_before for i in job.block(b)}
    assert not done_ids & set(second_run), "a finished block was requested again"
    redone = {b for b in range(job.blocks) if set(job.block(b)) & set(first_run)} - done_before
    assert len(redone) <= 2  # at most the blocks in flight when it was killed
    assert _read_lines(out) == {k: sorted(v) for k, v in graph.items()}
    assert not checkpoint.exists()


# ---------------------------------------------------------------------------- RedisStore


async def test_a_redis_store_keeps_each_block_once_in_block_order(
    hub: FakeHubSpot, redis_client: aioredis.Redis
) -> None:
    graph = _seed(hub, 45)
    job = Job.read("contacts", "companies", [*graph, "999999"], block_size=10, name="redis-1")
    store = RedisStore(redis_client, prefix="test-jobs")
    async with _client(hub) as client:
        summary = await job.run(client, store)
        # A block delivered twice (a redone task) replaces its first outcome.
        again = await job.run_block(client, 2)
        await store.commit(job.id, again)
    assert summary.lines == 45
    lines = [json.loads(line)["from"]["id"] async for line in store.lines(job.id)]
    assert lines == list(graph)
    state = await store.state(job.id)
    assert sorted(state.done) == [0, 1, 2, 3, 4]
    assert state.lines == 45
    assert await store.failed(job.id) == []  # no associations is not a failure
    info = await store.info(job.id)
    assert info == job.info()
    with pytest.raises(StoreError, match="other arguments or other input"):
        await Job.read("contacts", "companies", ["1"], name="redis-1").run(client, store)
    await store.delete(job.id)
    assert await store.info(job.id) is None
    assert (await store.state(job.id)).done == {}


async def test_a_redis_store_records_stops_and_failed_inputs(
    redis_client: aioredis.Redis,
) -> None:
    store = RedisStore(redis_client, prefix="test-jobs", ttl=60)
    job = Job.associate("contacts", "companies", [("1", "2"), ("3", "4")], name="redis-2")
    await store.begin(job.info())
    await store.commit(job.id, BlockResult(0, ['{"a": 1}'], [("3", "4")]))
    assert await store.is_done(job.id, 0)
    assert not await store.is_done(job.id, 1)
    assert await store.failed(job.id) == [("3", "4")]
    assert 0 < await redis_client.ttl(f"test-jobs:{{{job.id}}}:out") <= 60
    await store.stop(job.id, "DAILY limit")
    assert (await store.state(job.id)).stopped == "DAILY limit"
    await store.resume(job.id)
    assert (await store.state(job.id)).stopped is None
    with pytest.raises(ValueError, match="ttl"):
        RedisStore(redis_client, ttl=0)
