"""The benchmark's emulator process: build a FakeHubSpot, seed it, serve, print its URL.

Run by :mod:`bench.run` as ``python -m bench._server``, one process per emulator configuration, so the server's CPU is
never counted as a client's. Prints one JSON line once listening::

    {"url": "http://127.0.0.1:PORT", "admin": "http://127.0.0.1:PORT2", "seed_s": 1.2}

The admin URL is a second, tiny HTTP app on its own port (the emulator answers every path
of its own port as HubSpot would): ``GET /stats`` gives the emulator's request and status
counts and its own CPU time, ``GET /graph?from=..&to=..`` the size and digest of one
directed graph, which is how the runner checks what writes did. The process exits on
SIGTERM or when its standard input closes, so it never outlives the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys
import threading
import time

from aiohttp import web

from bench._data import PAGE_SIZE, READ_TYPES, STREAM_TYPES, ReadSet, Sizes, digest_pairs
from hubassoc.testing import FakeHubSpot

TOKEN = "bench-token"


def _seed(hub: FakeHubSpot, types: tuple[str, str], data: ReadSet) -> None:
    hub.seed(types[0], types[1], dict(data.edges()))


def _admin_app(hub: FakeHubSpot) -> web.Application:
    async def stats(_: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        body = {
            "requests": len(hub.requests),
            "status_counts": {str(k): v for k, v in hub.status_counts.items()},
            "max_in_flight": hub.max_in_flight,
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }
        return web.json_response(body)

    async def graph(request: web.Request) -> web.Response:
        g = hub.graph(request.query["from"], request.query["to"])
        pairs = [(f, t) for f, to in g.items() for t in to]
        return web.json_response({"pairs": len(pairs), "digest": digest_pairs(pairs)})

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_get("/graph", graph)
    return app


async def _serve(args: argparse.Namespace) -> None:
    sizes = Sizes.from_dict(args.sizes)
    hub = FakeHubSpot(
        token=TOKEN,
        page_size=PAGE_SIZE,
        latency=args.latency,
        rate_limit=tuple(args.rate_limit) if args.rate_limit else None,
    )
    started = time.perf_counter()
    for name in args.seed:
        if name == "read":
            _seed(hub, READ_TYPES, sizes.read_set())
        elif name == "stream":
            _seed(hub, STREAM_TYPES, sizes.stream_set())
        elif name == "rate":
            _seed(hub, READ_TYPES, sizes.rate_set())
        elif name == "latency":
            _seed(hub, READ_TYPES, sizes.latency_set())
        else:
            raise SystemExit(f"unknown data set {name!r}")
    seed_s = time.perf_counter() - started

    runner = web.AppRunner(_admin_app(hub), access_log=None)
    async with hub:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        admin_port = runner.addresses[0][1]
        line = {"url": hub.url, "admin": f"http://127.0.0.1:{admin_port}", "seed_s": seed_s}
        print(json.dumps(line), flush=True)

        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)

        def watch_stdin() -> None:
            # The runner keeps our stdin open; EOF means it has gone, so we go too.
            sys.stdin.read()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


def main() -> None:
    """Parse arguments and serve until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=json.loads, required=True, help="Sizes as JSON")
    parser.add_argument("--seed", nargs="*", default=[], help="data sets to seed")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--rate-limit", type=float, nargs=2, default=None, metavar=("N", "SECONDS"))
    args = parser.parse_args()
    if args.rate_limit:
        args.rate_limit = (int(args.rate_limit[0]), args.rate_limit[1])
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
