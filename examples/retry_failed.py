"""Re-run only the inputs that failed, in smaller requests each time.

HubSpot rejects a whole batch request when one input is bad (a 400), and a request can
still fail after its retries. hubassoc reports such a request as one error naming all
of its ids, and ``result.failed_ids`` lists them. This example reads again only those
ids, halving the request size on each pass: the good ids of a rejected request come
through, and what is left at the end is what is really wrong.

Run it against the built-in emulator::

    python -m hubassoc.testing --port 0 --seed-demo --exec python examples/retry_failed.py

(the emulator started that way fails nothing; the test suite runs it against one that
rejects every request mentioning contact 103). Other ids: pass them as arguments.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
from collections.abc import Sequence

import hubassoc


async def read_with_reruns(
    client: hubassoc.Client, from_type: str, to_type: str, ids: Sequence[str]
) -> tuple[dict[str, hubassoc.AssociationRead], set[str], list[str]]:
    """Read ``ids``; re-read the failed ones in smaller requests until none fail or
    requests are down to one id.

    Returns the associations by from-id, the ids without associations, and the ids
    that still failed.
    """
    found: dict[str, hubassoc.AssociationRead] = {}
    without: set[str] = set()
    todo = list(ids)
    size = len(todo)
    attempt = 1
    while todo:
        groups = [todo[i : i + size] for i in range(0, len(todo), size)]
        results = await asyncio.gather(*(client.read(from_type, to_type, g) for g in groups))
        failed: list[str] = []
        for result in results:
            failed_here = set(result.failed_ids)
            failed.extend(failed_here)
            # A failed id may have some of its pages in the result: drop them, it is re-read.
            found.update((r.from_id, r) for r in result.results if r.from_id not in failed_here)
            without.update(result.ids_without_associations)
        print(
            f"pass {attempt}: {len(todo)} ids, up to {min(size, client.read_chunk_size)} a request: "
            f"{len(todo) - len(failed)} read, {len(failed)} failed"
        )
        still = set(failed)
        todo = [i for i in todo if i in still]
        if size == 1:
            break
        size = max(1, math.ceil(len(todo) / 2))
        attempt += 1
    return found, without, todo


async def main(argv: Sequence[str]) -> int:
    ids = list(argv[1:]) or ["101", "102", "103", "104"]
    base_url = os.environ.get("HUBSPOT_BASE_URL", "https://api.hubapi.com")
    async with hubassoc.Client(base_url=base_url) as client:
        found, without, failed = await read_with_reruns(client, "contacts", "companies", ids)
    for from_id in ids:
        if from_id in found:
            count = len(found[from_id].to)
            print(f"contact {from_id}: {count} compan{'y' if count == 1 else 'ies'}")
        elif from_id in without:
            print(f"contact {from_id}: no companies")
    print(f"still failing: {failed}" if failed else "nothing failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
