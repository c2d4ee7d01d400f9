"""Submit jobs to the fleet, wait for them, and write each one's output to a file.

Reads each portal's contacts' companies (ids 1..N, or one id a line from a file) and
writes ``<portal>.jsonl``::

    HUBASSOC_PORTALS=portals.json python examples/fleet/submit.py --ids 1:50000

Run it again after any crash (of the submitter, a worker, Redis persisted or not):
blocks already done are not queued again, and blocks still queued are not queued twice.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from settings import fleet

import hubassoc


def ids_from(spec: str) -> list[str]:
    """``A:B`` for the ids A..B, else a file of ids, one a line."""
    first, sep, last = spec.partition(":")
    if sep and first.isdigit() and last.isdigit():
        return [str(i) for i in range(int(first), int(last) + 1)]
    return [line.strip() for line in Path(spec).read_text().splitlines() if line.strip()]


async def main(argv: Sequence[str]) -> int:
    """Submit one read per portal, wait for all of them, then write their outputs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", required=True, help="A:B, or a file of ids")
    parser.add_argument("--out", default=".", help="folder for <portal>.jsonl")
    args = parser.parse_args(argv)
    the_fleet = fleet()
    ids = ids_from(args.ids)
    try:
        jobs = {}
        for portal in the_fleet.portal_names():
            job = hubassoc.Job.read("contacts", "companies", ids)
            jobs[portal] = job
            submitted = await the_fleet.submit(job, portal)
            print(f"{portal}: {submitted.queued} blocks queued, {submitted.done} done before")
        for portal, job in jobs.items():
            summary = await the_fleet.wait(job, portal)
            state = await the_fleet.state(job, portal)
            if state.stopped:
                print(f"{portal}: stopped ({state.stopped}); resume with fleet.resume")
            out = Path(args.out) / f"{portal}.jsonl"
            with out.open("w", encoding="utf-8") as file:
                async for line in the_fleet.store.lines(summary.job_id):
                    file.write(line + "\n")
            print(f"{portal}: {summary.lines} lines, {summary.failed} failed -> {out}")
    finally:
        await the_fleet.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
