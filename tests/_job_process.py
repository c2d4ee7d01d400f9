"""A program that runs one library job with a FileStore: what the SIGKILL tests kill.

Usage: ``python tests/_job_process.py URL CHECKPOINT OUT COUNT BLOCK_SIZE``. It reads
contacts -> companies for the ids ``0 .. COUNT-1`` with the token in
``HUBSPOT_ACCESS_TOKEN``, two blocks in flight, and prints the summary as JSON. Each
block committed to the checkpoint is announced on stderr, one line each, so a test can
wait for the n-th without looking at the file.
"""

from __future__ import annotations

import asyncio
import json
import sys

import hubassoc


def make_job(count: int, block_size: int) -> hubassoc.Job:
    """The job, the same in the test and in this process."""
    return hubassoc.Job.read(
        "contacts", "companies", [str(i) for i in range(count)], block_size=block_size
    )


async def main(url: str, checkpoint: str, out: str, count: int, block_size: int) -> None:
    job = make_job(count, block_size)
    store = hubassoc.FileStore(checkpoint, out=out)
    async with hubassoc.Client(
        base_url=url, rate_limit=None, max_concurrency=2, read_chunk_size=block_size
    ) as client:
        summary = await job.run(
            client,
            store,
            max_blocks_in_flight=2,
            on_block=lambda result: print("committed", file=sys.stderr, flush=True),
        )
    print(json.dumps({"ran": summary.ran, "skipped": summary.skipped, "lines": summary.lines}))


if __name__ == "__main__":
    url, checkpoint, out, count, block_size = sys.argv[1:]
    asyncio.run(main(url, checkpoint, out, int(count), int(block_size)))
