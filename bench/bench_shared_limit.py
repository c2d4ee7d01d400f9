"""Many processes, one HubSpot budget: a local limiter per process against RedisRateLimit.

Usage::

    python bench/bench_shared_limit.py                     # 4 processes, 20 per 2 s, 10 s each
    python bench/bench_shared_limit.py --processes 8 --limit 100/10 --duration 30
    python bench/bench_shared_limit.py --redis-url redis://host:6379/0   # an existing Redis

One emulator (``python -m hubassoc.testing --rate-limit N/SECONDS``) enforces the limit
in a process of its own. N worker processes, one client each, read as fast as their
limiter lets them for ``--duration`` seconds, first each with its own
``hubassoc.RateLimit`` set to the full limit (what a fleet of workers does without
sharing; expect 429s), then all with one ``hubassoc.RedisRateLimit`` key (expect none).
Each worker counts the answers it got by status through an aiohttp trace.

"Accepted / limit" is the 2xx answers as a fraction of what the limit allows in the
run (``N x duration / seconds``); "sent / limit" adds the 429s. "Min share" is the
smallest worker's part of the accepted answers, times the number of workers (1.0 is an
equal share). Without ``--redis-url`` a ``redis-server`` on a free loopback port is
started and stopped (``make bench-shared`` installs it if missing).

Output: a table, then one JSON line (the last line of stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp

import hubassoc

TOKEN = "bench-shared-limit-token"
ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------- worker process


async def _worker(config: dict[str, Any]) -> dict[str, Any]:
    max_requests, interval = config["max_requests"], config["interval"]
    redis_client: Any = None
    limiter: hubassoc.RateLimiter
    shared: hubassoc.RedisRateLimit | None = None
    if config["mode"] == "redis":
        import redis.asyncio as aioredis

        redis_client = aioredis.Redis.from_url(config["redis_url"])
        await redis_client.ping()
        limiter = shared = hubassoc.RedisRateLimit(
            redis_client, key=config["key"], max_requests=max_requests, interval=interval
        )
    else:
        limiter = hubassoc.RateLimit(max_requests, interval)

    statuses: collections.Counter[int] = collections.Counter()

    async def on_request_end(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        statuses[params.response.status] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    first = config["worker"] * 10_000_000
    # More than the whole run's budget, so no worker runs out of work; no more, since
    # planning a huge read costs CPU before the first request and delays that worker.
    budget = int(max_requests * (config["duration"] / interval + 1))
    ids = [str(first + i) for i in range(budget + 10)]
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        hubassoc.Client(
            TOKEN,
            base_url=config["url"],
            session=session,
            rate_limit=limiter,
            max_concurrency=4,
            read_chunk_size=1,  # one request per id
            max_retries=100,
            max_retry_time=3600.0,
        ) as client,
    ):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        job = asyncio.ensure_future(client.read("contacts", "companies", ids))
        done, _ = await asyncio.wait([job], timeout=config["duration"])
        counted = dict(statuses)  # answers that came back within the run
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
    if shared is not None:
        await shared.flush()  # feedback still on its way to Redis, before closing it
    if redis_client is not None:
        await redis_client.aclose()
    return {"worker": config["worker"], "statuses": counted, "finished_early": bool(done)}


def _worker_main(config_json: str) -> None:
    print(json.dumps(asyncio.run(_worker(json.loads(config_json)))), flush=True)


# ---------------------------------------------------------------------- orchestrator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on loopback; None when the binary is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING within 10 s")
            try:
                proc.wait(timeout=0.02)  # the pause between attempts; notices an early exit
                raise RuntimeError(f"redis-server exited with status {proc.returncode}")
            except subprocess.TimeoutExpired:
                pass
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def _emulator(max_requests: int, interval: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hubassoc.testing",
            "--port",
            "0",
            "--rate-limit",
            f"{max_requests}/{interval:g}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        prefix = "hubassoc emulator listening on "
        if not line.startswith(prefix):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line[len(prefix) :].strip()
    finally:
        proc.terminate()
        proc.wait()


def _run_mode(mode: str, args: argparse.Namespace, redis_url: str | None) -> dict[str, Any]:
    max_requests, interval = args.limit
    key = f"hubassoc-bench:{uuid.uuid4().hex}"
    with _emulator(max_requests, interval) as url:
        procs = []
        for worker in range(args.processes):
            config = {
                "mode": mode,
                "worker": worker,
                "url": url,
                "redis_url": redis_url,
                "key": key,
                "max_requests": max_requests,
                "interval": interval,
                "duration": args.duration,
            }
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--worker", json.dumps(config)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
            )
        try:
            for proc in procs:
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"a {mode} worker did not start")
            # Released together, so every worker runs the same stretch of time.
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            reports = []
            for proc in procs:
                out, _ = proc.communicate(timeout=args.duration + 60)
                if proc.returncode != 0:
                    raise RuntimeError(f"a {mode} worker failed with status {proc.returncode}")
                reports.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    budget = max_requests * args.duration / interval
    accepted = [sum(n for s, n in r["statuses"].items() if 200 <= int(s) < 300) for r in reports]
    too_many = sum(r["statuses"].get("429", 0) for r in reports)
    total = sum(accepted)
    return {
        "limiter": mode,
        "accepted": total,
        "429": too_many,
        "accepted_fraction": round(total / budget, 3),
        "sent_fraction": round((total + too_many) / budget, 3),
        "min_share": round(min(accepted) * len(accepted) / total, 3) if total else 0.0,
        "per_worker": accepted,
    }


def _limit(text: str) -> tuple[int, float]:
    count, _, seconds = text.partition("/")
    try:
        return int(count), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N/SECONDS such as 20/2, got {text!r}") from None


def main() -> int:
    """Run both limiters and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4, help="worker processes (default 4)")
    parser.add_argument(
        "--limit", type=_limit, default=(20, 2.0), metavar="N/SECONDS", help="default 20/2"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per limiter")
    parser.add_argument("--redis-url", default=None, help="use this Redis instead of a new one")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        _worker_main(args.worker)
        return 0

    max_requests, interval = args.limit
    print(
        f"{args.processes} processes x 1 client, one emulator enforcing "
        f"{max_requests} per {interval:g} s, {args.duration:g} s per limiter"
    )
    rows = [_run_mode("local", args, None)]
    with _redis_server() if args.redis_url is None else _given(args.redis_url) as redis_url:
        if redis_url is None:
            print("redis-server is not installed: skipping RedisRateLimit (make bench-shared)")
        else:
            rows.append(_run_mode("redis", args, redis_url))

    header = ("limiter", "accepted / limit", "sent / limit", "429s", "min share", "per worker")
    table = [
        (
            "RateLimit per process" if row["limiter"] == "local" else "RedisRateLimit shared",
            f"{row['accepted_fraction']:.0%}",
            f"{row['sent_fraction']:.0%}",
            str(row["429"]),
            f"{row['min_share']:.2f}",
            " ".join(map(str, row["per_worker"])),
        )
        for row in rows
    ]
    widths = [max(len(r[i]) for r in (header, *table)) for i in range(len(header))]
    for line in (header, tuple("-" * w for w in widths), *table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    print(
        json.dumps(
            {
                "bench": "shared_limit",
                "processes": args.processes,
                "limit": [max_requests, interval],
                "duration": args.duration,
                "results": rows,
            }
        )
    )
    return 0


@contextmanager
def _given(url: str) -> Iterator[str | None]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
