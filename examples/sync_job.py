"""A sync job: read the companies of 100,000 contacts, streaming, into a JSON Lines file.

Pages are written as they arrive, so memory stays flat however many ids there are, and
``on_progress`` prints how far the job is. Run it against the built-in emulator::

    python -m hubassoc.testing --port 0 --seed-demo --exec python examples/sync_job.py

or against HubSpot, with your own ids (one a line)::

    HUBSPOT_ACCESS_TOKEN=pat-... python examples/sync_job.py contact_ids.txt out.jsonl

``op.completed()`` yields one whole read per contact as soon as its last page is in (so
a contact with several pages of companies is still one line), holding only the contacts
still being read; ``async for item in op`` would give one item per contact *per page*.
For a job that must survive being stopped and restarted, use ``hubassoc.Job`` (or
``hubassoc read --checkpoint``): see docs/jobs.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import hubassoc

#: Without an ids file, the job reads contacts 1..TOTAL.
TOTAL = 100_000


def contact_ids(path: str | None) -> list[str]:
    """The ids to read: from a file (one a line), else 1..TOTAL."""
    if path is None:
        return [str(i) for i in range(1, TOTAL + 1)]
    with open(path, encoding="utf-8") as file:
        return [line.strip() for line in file if line.strip()]


class ProgressPrinter:
    """An ``on_progress`` callback printing a line to stderr every 10% of the ids."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.next_step = 10

    def __call__(self, progress: hubassoc.Progress) -> None:
        percent = 100 * progress.inputs_done // max(progress.inputs_total, 1)
        if percent < self.next_step:
            return
        self.next_step = percent // 10 * 10 + 10
        elapsed = time.monotonic() - self.started
        print(
            f"{progress.inputs_done:,}/{progress.inputs_total:,} ids ({percent}%), "
            f"{progress.calls} requests, {progress.retries} retries, {elapsed:.1f}s",
            file=sys.stderr,
            flush=True,
        )


async def sync(ids: Sequence[str], out: TextIO) -> list[str]:
    """Write each contact's companies to ``out`` as soon as they are all in; return failed ids."""
    base_url = os.environ.get("HUBSPOT_BASE_URL", "https://api.hubapi.com")
    lines = 0
    failed: list[str] = []

    def note(error: hubassoc.BatchError) -> None:
        failed.extend(error.ids)

    async with hubassoc.Client(base_url=base_url, on_progress=ProgressPrinter()) as client:
        async for read in client.read("contacts", "companies", ids).completed(on_error=note):
            out.write(json.dumps({"from": {"id": read.from_id}, "to": read.to_ids}) + "\n")
            lines += 1
    failed = list(dict.fromkeys(failed))
    print(
        f"read {len(ids):,} contacts: {lines:,} lines written to {out.name}, "
        f"{len(ids) - lines - len(failed):,} without companies, {len(failed):,} failed"
    )
    return failed


def main(argv: Sequence[str]) -> int:
    ids = contact_ids(argv[1] if len(argv) > 1 else None)
    out_path = argv[2] if len(argv) > 2 else "associations.jsonl"
    # Opened outside the event loop; the writes are small and buffered.
    with open(out_path, "w", encoding="utf-8") as out:
        failed = asyncio.run(sync(ids, out))
    if failed:
        print(f"failed ids (first 10): {failed[:10]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
