"""Quickstart: associate, read (following every page), archive, purge.

Run it against the built-in emulator, no token or network needed::

    make demo

or against a HubSpot test portal (it creates and deletes real associations)::

    HUBSPOT_ACCESS_TOKEN=pat-... python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import os

import hubassoc
from hubassoc import AssociationCategory, AssociationSpec


async def main() -> None:
    base_url = os.environ.get("HUBSPOT_BASE_URL", "https://api.hubapi.com")
    async with hubassoc.Client(base_url=base_url) as client:
        # Contact 101 gets 250 companies: more than one page of a batch read.
        pairs = [("101", str(5000 + i)) for i in range(250)] + [("102", "201"), ("102", "202")]
        created = await client.associate_default("contacts", "companies", pairs)
        print(
            f"associate_default: {len(created.results)} associations created, {created.num_errors} errors"
        )

        result = await client.read("contacts", "companies", ["101", "102", 103, 104])
        for item in result.results:
            print(
                f"read: contact {item.from_id} -> {len(item.to)} companies (first: {item.to_ids[:3]})"
            )
        print(f"read: ids with no associations: {result.ids_without_associations}")
        result.raise_for_errors()

        archived = await client.archive(
            "contacts", "companies", {"101": [str(5000 + i) for i in range(200)]}
        )
        print(f"archive: status {archived.status.value}, {archived.num_errors} errors")
        after = await client.read("contacts", "companies", ["101"])
        print(f"read again: contact 101 -> {len(after.results[0].to)} companies")

        purged = await client.purge_configurations(
            "contacts", "companies", [AssociationSpec(AssociationCategory.USER_DEFINED, 3)]
        )
        print(f"purge_configurations: status {purged.status.value}, {purged.num_errors} errors")


if __name__ == "__main__":
    asyncio.run(main())
