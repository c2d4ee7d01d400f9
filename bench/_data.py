"""The benchmark's data sets, generated deterministically so every process agrees on them.

The emulator process seeds its graph from these functions and the runner computes the
expected digests from the same functions, so a client's answer is checked against what
the server holds without shipping 250,000 pairs between processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

#: Object types of each data set. Distinct pairs keep the data sets apart in one emulator.
READ_TYPES = ("contacts", "companies")
STREAM_TYPES = ("deals", "tickets")
WRITE_TYPES = ("contacts", "deals")

#: Emulator page size; an id with more than 2 pages' worth of associations spans 3 pages.
PAGE_SIZE = 100
#: Associations of an id that spans three pages (HubSpot pages at 100 per id).
MULTI_PAGE_ASSOCIATIONS = 250
#: Every this-many-th id of the read set spans three pages.
MULTI_PAGE_EVERY = 100


@attrs.frozen
class ReadSet:
    """``count`` from-ids starting at ``first``; ~10 associations each, 1% over 3 pages."""

    first: int
    count: int
    multi_page: bool = True
    per_id: int | None = None  # a fixed number per id instead of the 5..15 spread

    def ids(self) -> list[str]:
        """The from-ids, as strings (what every client sends)."""
        return [str(self.first + i) for i in range(self.count)]

    def edges(self) -> Iterator[tuple[str, list[str]]]:
        """Each from-id with its to-ids, in the order the emulator stores them."""
        for i in range(self.count):
            if self.per_id is not None:
                k = self.per_id
            elif self.multi_page and i % MULTI_PAGE_EVERY == MULTI_PAGE_EVERY - 1:
                k = MULTI_PAGE_ASSOCIATIONS
            else:
                k = 5 + (i * 7919) % 11  # 5..15, mean 10
            # 7919 is prime to 50,000, so the k to-ids of one id are distinct; ids share
            # companies the way contacts do.
            to_base = 20_000_000
            yield (
                str(self.first + i),
                [str(to_base + (i * 37 + j * 7919) % 50_000) for j in range(k)],
            )

    def total(self) -> int:
        """Number of associations in the set."""
        return sum(len(to) for _, to in self.edges())

    def digest(self) -> str:
        """Digest of the set's (from, to) pairs; see :func:`digest_pairs`."""
        return digest_pairs((f, t) for f, to in self.edges() for t in to)


@attrs.frozen
class WriteSet:
    """``count`` (from, to) pairs: 10 to-ids per from-id, so archive can group them."""

    first: int
    count: int

    def pairs(self) -> list[tuple[str, str]]:
        """The pairs, grouped by from-id."""
        return [
            (str(self.first + i // 10), str(40_000_000 + (i * 7) % 1_000_003))
            for i in range(self.count)
        ]

    def digest(self) -> str:
        """Digest of the pairs."""
        return digest_pairs(self.pairs())


def digest_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """An order-independent digest: sha256 over the sorted, de-duplicated pairs.

    Sorting makes clients that merge pages differently comparable; a missing, extra or
    altered pair changes the digest.
    """
    h = hashlib.sha256()
    for f, t in sorted(set(pairs)):
        h.update(f"{f}\t{t}\n".encode())
    return h.hexdigest()[:16]


def stream_check(from_id: str | int, to_ids: Iterable[str | int]) -> int:
    """One item's share of the streaming checksum; the sum over all items is compared.

    Streaming keeps nothing, so a sorted digest is out of the question; this sum is
    cheap and still catches a lost, repeated or altered page.
    """
    to = [int(t) for t in to_ids]
    return int(from_id) * len(to) * 1_000_003 + sum(to)


def stream_digest(data: ReadSet) -> str:
    """The digest a streaming client reports for ``data``: ``count:checksum``."""
    count = check = 0
    for f, to in data.edges():
        count += len(to)
        check += stream_check(f, to)
    return f"{count}:{check}"


@attrs.frozen
class Sizes:
    """Every size the runner can change; :data:`DEFAULT` and :data:`SMOKE` are the presets."""

    read_ids: int = 20_000
    write_pairs: int = 20_000
    stream_ids: int = 100_000  # x 10 associations = 1,000,000
    rate_ids: int = 2_000  # read in chunks of rate_chunk ids: ~200 calls
    rate_chunk: int = 10
    rate_limit: tuple[int, float] = (50, 2.0)
    latency_ids: int = 2_000
    latency_chunk: int = 10
    latency: float = 0.05
    # Single pages by default: the ideal ceil(calls / concurrency) x latency assumes
    # independent calls, and a third page cannot be asked for before the second comes
    # back, so ids over 3 pages add rounds no client can avoid (see bench/README.md).
    latency_multi_page: int = 0
    concurrency: int = 8

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Sizes:
        """Rebuild from :func:`attrs.asdict` output (JSON turns the tuple into a list)."""
        fields = dict(raw)
        if "rate_limit" in fields:
            n, window = fields["rate_limit"]
            fields["rate_limit"] = (int(n), float(window))
        return cls(**fields)

    def read_set(self) -> ReadSet:
        """Workload (a)."""
        return ReadSet(10_000_000, self.read_ids)

    def stream_set(self) -> ReadSet:
        """Workload (d): exactly 10 associations per id, single pages."""
        return ReadSet(60_000_000, self.stream_ids, per_id=10)

    def write_set(self) -> WriteSet:
        """Workloads (b) and (c)."""
        return WriteSet(30_000_000, self.write_pairs)

    def rate_set(self) -> ReadSet:
        """Workload (e): a slice of the read set's shape, served by the rate-limited emulator."""
        return ReadSet(10_000_000, self.rate_ids)

    def latency_set(self) -> ReadSet:
        """Workload (f): 10 associations per id unless ``latency_multi_page``."""
        if self.latency_multi_page:
            return ReadSet(10_000_000, self.latency_ids)
        return ReadSet(10_000_000, self.latency_ids, per_id=10)


DEFAULT = Sizes()
SMOKE = Sizes(
    read_ids=400,
    write_pairs=400,
    stream_ids=2_000,
    rate_ids=200,
    rate_chunk=10,
    rate_limit=(10, 0.5),
    latency_ids=200,
    latency_chunk=10,
    latency=0.01,
)
