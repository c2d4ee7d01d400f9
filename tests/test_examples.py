"""The examples run against the emulator, as a user would run them."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import hubassoc
from hubassoc.testing import FakeHubSpot

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_runs_against_the_emulator() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubassoc.testing",
            "--port",
            "0",
            "--seed-demo",
            "--exec",
            sys.executable,
            str(ROOT / "examples" / "quickstart.py"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "associate_default: 252 associations created, 0 errors" in out
    assert "read: contact 103 -> 250 companies" in out  # three pages merged
    assert "read: ids with no associations: ['104']" in out
    assert "read again: contact 101 -> 52 companies" in out
    assert "purge_configurations: status COMPLETE, 0 errors" in out


def test_exec_returns_the_command_status() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubassoc.testing",
            "--port",
            "0",
            "--exec",
            sys.executable,
            "-c",
            "import os, sys; print(os.environ['HUBSPOT_BASE_URL']); sys.exit(3)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert "http://127.0.0.1:" in done.stdout


def _env(hub: FakeHubSpot) -> dict[str, str]:
    env = dict(os.environ)
    env["HUBSPOT_BASE_URL"] = hub.url
    env["HUBSPOT_ACCESS_TOKEN"] = "example-token"
    return env


async def _run_example(
    hub: FakeHubSpot, name: str, *args: str, cwd: Path = ROOT
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "examples" / name),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(hub),
        cwd=cwd,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def _load_example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_command_prints_what_the_quickstart_prints() -> None:
    quickstart = subprocess.run(
        [
            *(sys.executable, "-m", "hubassoc.testing", "--port", "0", "--seed-demo", "--exec"),
            *(sys.executable, str(ROOT / "examples" / "quickstart.py")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    demo = subprocess.run(
        [sys.executable, "-m", "hubassoc", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listening = re.compile(r"hubassoc emulator listening on http://127\.0\.0\.1:\d+\n")
    assert listening.match(demo.stdout)
    assert listening.sub("", demo.stdout) == listening.sub("", quickstart.stdout)


async def test_web_backend_shares_one_client_across_concurrent_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    web_backend = _load_example("web_backend.py")
    async with FakeHubSpot() as hub:
        hub.seed_demo()
        monkeypatch.setenv("HUBSPOT_BASE_URL", hub.url)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "example-token")
        app = web_backend.make_app()
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            base = f"http://127.0.0.1:{runner.addresses[0][1]}"
            client = app[web_backend.CLIENT]
            hub.hold()  # let the requests pile up, to see them share the client
            async with aiohttp.ClientSession() as http:

                async def get(contact_id: str) -> Any:
                    async with http.get(f"{base}/contacts/{contact_id}/companies") as response:
                        assert response.status == 200
                        return await response.json()

                reads = [asyncio.ensure_future(get(c)) for c in ["101", "102", "103", "104"] * 5]
                await hub.wait_for_in_flight(8)
                hub.release()
                answers = await asyncio.gather(*reads)
                async with http.post(
                    f"{base}/contacts/104/companies", json={"companyIds": ["201", "202"]}
                ) as response:
                    assert response.status == 200
                    assert await response.json() == {"created": ["201", "202"], "errors": []}
                async with http.post(f"{base}/contacts/104/companies", json={}) as response:
                    assert response.status == 400
            assert answers[0] == {"contact": "101", "companies": ["201", "202"]}
            assert answers[3] == {"contact": "104", "companies": []}
            assert len(answers[2]["companies"]) == 250
            assert app[web_backend.CLIENT] is client
            assert hub.max_in_flight >= 8  # concurrent requests, one client
        finally:
            await runner.cleanup()
        with pytest.raises(hubassoc.ClientClosedError):
            await client.read("contacts", "companies", ["101"])


async def test_sync_job_streams_100000_ids_to_jsonl(tmp_path: Path) -> None:
    # Sparse: one contact in 50 has companies, and none has more than a page of them.
    graph: dict[str | int, list[str]] = {
        str(i): [str(10**6 + i + k) for k in range(i % 3 + 1)] for i in range(1, 100_001, 50)
    }
    async with FakeHubSpot() as hub:
        hub.seed("contacts", "companies", graph)
        code, stdout, stderr = await _run_example(hub, "sync_job.py", cwd=tmp_path)
        assert code == 0, stderr
        reads = hub.requests
    assert len(reads) == 100
    assert max(r.n_inputs for r in reads) == 1000
    assert f"read 100,000 contacts: {len(graph):,} lines written" in stdout
    assert "98,000 without companies, 0 failed" in stdout
    progress = stderr.splitlines()
    assert progress[-1].startswith("100,000/100,000 ids (100%), 100 requests, 0 retries")
    assert len(progress) == 10
    written = [
        json.loads(line) for line in (tmp_path / "associations.jsonl").read_text().splitlines()
    ]
    assert {line["from"]["id"]: line["to"] for line in written} == graph


async def test_retry_failed_reruns_only_the_failed_ids() -> None:
    async with FakeHubSpot() as hub:
        hub.seed_demo()
        hub.fail_ids(["103"])  # every request mentioning 103 is rejected whole (400)
        code, stdout, stderr = await _run_example(hub, "retry_failed.py")
        reads = [[i["id"] for i in r.body["inputs"]] for r in hub.requests]
    assert code == 1, stderr
    assert stdout.splitlines() == [
        "pass 1: 4 ids, up to 4 a request: 0 read, 4 failed",
        "pass 2: 4 ids, up to 2 a request: 2 read, 2 failed",
        "pass 3: 2 ids, up to 1 a request: 1 read, 1 failed",
        "contact 101: 2 companies",
        "contact 102: 1 company",
        "contact 104: no companies",
        "still failing: ['103']",
    ]
    assert sorted(reads) == sorted(
        [["101", "102", "103", "104"], ["101", "102"], ["103", "104"], ["103"], ["104"]]
    )
