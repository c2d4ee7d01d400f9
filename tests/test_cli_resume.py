"""``hubassoc`` jobs stopped and resumed with ``--checkpoint``: signals, a revoked OAuth
token, and checkpoints written by earlier versions. Run as in ``test_cli.py``."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
from pathlib import Path
from typing import Any

from hubassoc.testing import FakeHubSpot, OAuthApp
from tests.test_cli import (
    TIMEOUT,
    TOKEN,
    Done,
    _by_id,
    _cli,
    _env,
    _lines,
    _read_args,
    _read_ids,
    _start,
)


async def test_sigterm_then_resume_redoes_no_chunk(tmp_path: Path) -> None:
    ids = [str(100 + i) for i in range(10)]
    graph: dict[str | int, list[str]] = {
        i: [f"{i}{k}" for k in range(3)] for i in ids if i not in ("101", "106")
    }
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.seed("contacts", "companies", graph)
        args = _read_args(
            hub,
            *("--ids", "ids.txt", "--chunk-size", "2", "--concurrency", "1"),
            *("--out", "out.jsonl", "--checkpoint", "job.ckpt", "--progress-interval", "0"),
        )
        process = await _start(args, tmp_path)
        await hub.wait_for_requests(2)
        # Blocks 0 and 1 are answered; block 2's request gets a 503 whose Retry-After
        # keeps it in flight, so the signal lands while it is unfinished.
        hub.fail_next(1, 503, headers={"Retry-After": "60"})
        await hub.wait_for_requests(3)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
        assert process.returncode == 128 + signal.SIGTERM, stderr
        assert "stopped by SIGTERM: 2 of 5 blocks done; run the same command again" in (
            stderr.decode()
        )
        assert "Traceback" not in stderr.decode()
        assert _read_ids(hub) == [["100", "101"], ["102", "103"], ["104", "105"]]
        assert set(_by_id(_lines(tmp_path / "out.jsonl"))) == {"100", "102", "103"}

        # Other input with the same checkpoint is refused, and touches nothing.
        (tmp_path / "other.txt").write_text("100\n")
        other = [a if a != "ids.txt" else "other.txt" for a in args]
        refused = await _cli(other, tmp_path)
        assert refused.returncode == 2
        assert "other arguments or other input" in refused.stderr

        # As if the process had also died in the middle of its next write.
        with (tmp_path / "out.jsonl").open("ab") as out:
            out.write(b'{"from": {"id": "104"}, "to": [{"toObj')
        with (tmp_path / "job.ckpt").open("ab") as checkpoint:
            checkpoint.write(b'{"block": 2, "out": 9')

        seen = len(hub.requests)
        resumed = await _cli(args, tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        assert _read_ids(hub, seen) == [["104", "105"], ["106", "107"], ["108", "109"]]
        assert _by_id(_lines(tmp_path / "out.jsonl")) == graph
        assert not (tmp_path / "job.ckpt").exists()
        assert "read done: 10 ids, 8 lines written, 0 failed" in resumed.stderr


async def test_oauth_job_stopped_by_a_revoked_refresh_token_resumes_exactly(
    tmp_path: Path,
) -> None:
    secret, first_refresh, second_refresh = "cs-SECRET-5a1e", "rt-SECRET-one", "rt-SECRET-two"
    ids = [str(300 + i) for i in range(40)]
    graph: dict[str | int, list[str]] = {i: [f"8{i}"] for i in ids}
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    oauth_env = {
        "HUBSPOT_CLIENT_ID": "app",
        "HUBSPOT_CLIENT_SECRET": secret,
        "HUBSPOT_REFRESH_TOKEN": first_refresh,
    }
    app = OAuthApp("app", secret, first_refresh)
    async with FakeHubSpot(oauth=app, latency=0.02) as hub:
        hub.seed("contacts", "companies", graph)
        args = _read_args(
            hub,
            *("--ids", "ids.txt", "--out", "out.jsonl", "--checkpoint", "job.ckpt"),
            *("--chunk-size", "4", "--concurrency", "1", "--oauth"),
        )
        process = await _start(args, tmp_path, env=_env(**oauth_env))
        await hub.wait_for_requests(5)  # the token exchange and four blocks
        hub.revoke_refresh_tokens()
        hub.expire_access_tokens()
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
        first = Done(process.returncode or 0, stdout.decode(), stderr.decode())
        assert first.returncode == 1, first.stderr
        assert "HubSpot stopped the job: HubSpot refused the OAuth refresh token" in first.stderr
        assert "BAD_REFRESH_TOKEN" in first.stderr
        assert "run the same command again to resume from" in first.stderr
        done_before = _by_id(_lines(tmp_path / "out.jsonl"))
        assert 0 < len(done_before) < len(ids)
        seen = len(hub.requests)

        hub.grant_refresh_token(second_refresh)
        process = await _start(
            args, tmp_path, env=_env(**{**oauth_env, "HUBSPOT_REFRESH_TOKEN": second_refresh})
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
        second = Done(process.returncode or 0, stdout.decode(), stderr.decode())
        assert second.returncode == 0, second.stderr
        reread = {
            i["id"]
            for r in hub.requests[seen:]
            if r.path.endswith("/batch/read")
            for i in r.body["inputs"]
        }
        assert reread.isdisjoint(done_before)  # no finished block redone
        assert _by_id(_lines(tmp_path / "out.jsonl")) == graph  # each id once
        assert not (tmp_path / "job.ckpt").exists()
        secrets = [secret, first_refresh, second_refresh, *hub.access_tokens]
    shown = first.stdout + first.stderr + second.stdout + second.stderr
    shown += (tmp_path / "out.jsonl").read_text()
    for value in secrets:
        assert value not in shown


def _real(path: Path) -> Path:
    return path.resolve()


def _old_checkpoint_header(parts: dict[str, Any], items: list[str], blocks: int) -> bytes:
    """A checkpoint header as hubassoc wrote it before its jobs were the library's."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode())
    for item in items:
        digest.update(b"\n" + json.dumps(item).encode())
    header = {"hubassoc_checkpoint": 1, "fingerprint": digest.hexdigest(), "blocks": blocks}
    return json.dumps(header).encode() + b"\n"


async def test_a_checkpoint_of_an_earlier_version_resumes(tmp_path: Path) -> None:
    ids = [str(500 + i) for i in range(6)]
    graph: dict[str | int, list[str]] = {i: [f"7{i}"] for i in ids}
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    out = _real(tmp_path) / "out.jsonl"  # the path the job's cwd gives
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.seed("contacts", "companies", graph)
        # Block 0 of three was done: its lines in --out, its record in the checkpoint.
        block_0 = "".join(
            json.dumps(
                {
                    "from": {"id": i},
                    "to": [
                        {
                            "toObjectId": f"7{i}",
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
                            ],
                        }
                    ],
                }
            )
            + "\n"
            for i in ids[:2]
        )
        out.write_text(block_0)
        parts = {
            "command": "read",
            "from": "contacts",
            "to": "companies",
            "base_url": hub.url,
            "chunk_size": 2,
            "out": str(out),
            "failed": None,
        }
        record = {"block": 0, "out": len(block_0), "failed": 0, "lines": 2, "failed_inputs": 0}
        (tmp_path / "job.ckpt").write_bytes(
            _old_checkpoint_header(parts, ids, 3) + json.dumps(record).encode() + b"\n"
        )
        args = _read_args(
            hub,
            *("--ids", "ids.txt", "--chunk-size", "2", "--out", "out.jsonl"),
            *("--checkpoint", "job.ckpt"),
        )
        done = await _cli(args, tmp_path)
        assert done.returncode == 0, done.stderr
        assert _read_ids(hub) == [["502", "503"], ["504", "505"]]
        assert "read done: 6 ids, 6 lines written, 0 failed" in done.stderr
    assert _by_id(_lines(out)) == graph
    assert not (tmp_path / "job.ckpt").exists()
