"""The benchmark's emulator process: build a FakeHubSpot, seed it, serve, print its URL.

Run by :mod:`bench.run` as ``python -m bench._server``, one process per emulator configuration, so the server's CPU is
never counted as a client's. Prints one JSON line once listening::

    {"url": "http://127.0.0.1:PORT", "admin": "http://127.0.0.1:PORT2", "seed_s": 1.2}

The admin URL is a second, tiny HTTP app on its own port (the emulator answers every path
of its own port as HubSpot would): ``GET /stats`` gives the emulator's request and status
counts and its own CPU time, ``GET /graph?from=..&to=..`` the size and digest of one
directed graph, which is how the runner checks what writes did, and ``POST /reset``
forgets the recorded requests (and everything else) and seeds the data sets again, so an
emulator answering a million ids a run does not carry every earlier run's request bodies.
The process exits on SIGTERM or when its standard input closes, so it never outlives the
runner.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import signal
import sys
import threading
import time

from aiohttp import web

from bench._data import READ_TYPES, STREAM_TYPES, Sizes, digest_pairs
from hubassoc.testing import FakeHubSpot

TOKEN = "bench-token"


def _seed(hub: FakeHubSpot, sizes: Sizes, names: list[str]) -> None:
    for name in names:
        types = STREAM_TYPES if name == "stream" else READ_TYPES
        graph = dict(sizes.data_set(name).edges())
        if graph:
            hub.seed(types[0], types[1], graph)
    # The seeded graph is millions of objects that live as long as the process. Left in
    # the collector's generations, the first full collections after seeding (27 ms each
    # on the latency set) land in whichever client's run comes first; frozen, the
    # collector never walks them, so no client pays for another's position in the order.
    gc.collect()
    gc.freeze()


def _admin_app(hub: FakeHubSpot, sizes: Sizes, names: list[str]) -> web.Application:
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

    async def reset(_: web.Request) -> web.Response:
        hub.reset()
        _seed(hub, sizes, names)
        return web.json_response({"reset": True})

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_get("/graph", graph)
    app.router.add_post("/reset", reset)
    return app


async def _serve(args: argparse.Namespace) -> None:
    sizes = Sizes.from_dict(args.sizes)
    hub = FakeHubSpot(
        token=TOKEN,
        page_size=args.page_size,
        latency=args.latency,
        rate_limit=tuple(args.rate_limit) if args.rate_limit else None,
    )
    started = time.perf_counter()
    _seed(hub, sizes, args.seed)
    seed_s = time.perf_counter() - started

    runner = web.AppRunner(_admin_app(hub, sizes, args.seed), access_log=None)
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
    parser.add_argument("--page-size", type=int, default=100, help="to-objects per page")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--rate-limit", type=float, nargs=2, default=None, metavar=("N", "SECONDS"))
    args = parser.parse_args()
    if args.rate_limit:
        args.rate_limit = (int(args.rate_limit[0]), args.rate_limit[1])
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
