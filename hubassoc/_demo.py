"""``hubassoc demo``: the quickstart, run against the built-in emulator in this process.

``examples/`` is not part of the installed package, so the demo carries its own copy of
``examples/quickstart.py``; the test suite runs both and checks they print the same.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from ._client import Client
from ._models import AssociationCategory, AssociationSpec

#: Any bearer token will do for the emulator; this one shows up in no real account.
DEMO_TOKEN = "emulator-token"


async def quickstart(client: Client, out: TextIO) -> None:
    """Associate, read (following every page), archive and purge, printing each result."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    # Contact 101 gets 250 companies: more than one page of a batch read.
    pairs = [("101", str(5000 + i)) for i in range(250)] + [("102", "201"), ("102", "202")]
    created = await client.associate_default("contacts", "companies", pairs)
    say(
        f"associate_default: {len(created.results)} associations created, {created.num_errors} errors"
    )

    result = await client.read("contacts", "companies", ["101", "102", 103, 104])
    for item in result.results:
        say(f"read: contact {item.from_id} -> {len(item.to)} companies (first: {item.to_ids[:3]})")
    say(f"read: ids with no associations: {result.ids_without_associations}")
    result.raise_for_errors()

    archived = await client.archive(
        "contacts", "companies", {"101": [str(5000 + i) for i in range(200)]}
    )
    say(f"archive: status {archived.status.value}, {archived.num_errors} errors")
    after = await client.read("contacts", "companies", ["101"])
    say(f"read again: contact 101 -> {len(after.results[0].to)} companies")

    purged = await client.purge_configurations(
        "contacts", "companies", [AssociationSpec(AssociationCategory.USER_DEFINED, 3)]
    )
    say(f"purge_configurations: status {purged.status.value}, {purged.num_errors} errors")


async def run(out: TextIO) -> None:
    """Start a seeded emulator on a free port and run :func:`quickstart` against it."""
    from hubassoc.testing import FakeHubSpot

    async with FakeHubSpot() as hub:
        hub.seed_demo()
        print(f"hubassoc emulator listening on {hub.url}", file=out, flush=True)
        async with Client(DEMO_TOKEN, base_url=hub.url) as client:
            await quickstart(client, out)


def main() -> int:
    """Run the demo; the exit status is 0 unless it fails."""
    try:
        asyncio.run(run(sys.stdout))
    except KeyboardInterrupt:
        return 130
    return 0
