"""Another process spending part of the same HubSpot budget: ``python -m bench._rival '<JSON>'``.

It reads one id, ``per_window`` times per ``window`` seconds, evenly spaced on a fixed
schedule (so it never bursts and never drifts), from the moment it starts until its
standard input closes. Then it prints one JSON line: when each request started on the
system-wide monotonic clock (``time.monotonic()``, the same clock the clients stamp
with) and how it was answered, so the runner can line both processes up. It never
retries and ignores the rate-limit headers: it is the other tenant the client must
adapt to, not a client under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
from typing import Any

import aiohttp


async def _run(config: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    url = (
        f"{config['url']}/crm/v4/associations/{config['from_type']}/{config['to_type']}/batch/read"
    )
    headers = {"Authorization": f"Bearer {config['token']}", "Content-Type": "application/json"}
    body = json.dumps({"inputs": [{"id": config["id"]}]})
    gap = config["window"] / config["per_window"]
    stamps: list[tuple[float, int]] = []
    in_flight: set[asyncio.Task[None]] = set()

    async def one(session: aiohttp.ClientSession) -> None:
        started = time.monotonic()
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            stamps.append((started, response.status))

    async with aiohttp.ClientSession() as session:
        # One request first, so the connection is open before the schedule starts.
        await one(session)
        stamps.clear()
        print(json.dumps({"ready": True}), flush=True)
        t0 = time.monotonic()
        k = 0
        while not stop.is_set():
            task = asyncio.create_task(one(session))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            k += 1
            delay = t0 + k * gap - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
    return {"stamps": stamps}


def main() -> None:
    """Run until stdin closes, then report."""
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(_run(config))), flush=True)


if __name__ == "__main__":
    main()
