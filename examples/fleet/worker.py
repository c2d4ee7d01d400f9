"""A worker process: run the blocks of every portal's queue until SIGTERM or SIGINT.

Start as many as you like, on as many machines as you like (they share Redis)::

    HUBASSOC_PORTALS=portals.json python examples/fleet/worker.py

A worker killed outright (SIGKILL, a lost machine) stops sending heartbeats; after
``heartbeat`` seconds another worker's sweep hands its blocks to a live worker.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from settings import fleet


async def main(argv: Sequence[str]) -> int:
    """Serve the portals' queues (all of them, or those named) until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("portals", nargs="*", help="portals to serve (default: all)")
    parser.add_argument("--concurrency", type=int, default=4, help="blocks per portal at once")
    parser.add_argument("--sweep", type=int, default=10, help="seconds between sweeps")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("HUBASSOC_LOG", "WARNING"))
    the_fleet = fleet()
    names = args.portals or list(the_fleet.portal_names())
    print(f"worker {os.getpid()} serving {', '.join(names)}", flush=True)
    try:
        await the_fleet.serve(names, concurrency=args.concurrency, sweep=args.sweep)
    finally:
        await the_fleet.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
