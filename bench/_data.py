"""The benchmark's data sets and sizes, generated deterministically so every process agrees.

An emulator process seeds its graph from these functions and the runner computes the
expected answers from the same functions, so a client's answer is checked against what
the server holds without shipping a million pairs between processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import attrs

#: Object types of each data set. Distinct pairs keep the data sets apart in one emulator.
READ_TYPES = ("contacts", "companies")
STREAM_TYPES = ("deals", "tickets")
WRITE_TYPES = ("contacts", "deals")

#: The most ids one batch-read request may carry (HubSpot's limit).
READ_LIMIT = 1000

Shape = Literal["own", "portal", "fixed", "rate", "none"]


def _spread(i: int) -> int:
    """5..15 associations, mean 10; 7919 is prime, so neighbouring ids differ."""
    return 5 + (i * 7919) % 11


def associations_of(shape: Shape, i: int, per_id: int) -> int:
    """How many associations the ``i``-th id of a set of ``shape`` has.

    - ``own``: 5..15, every 100th id 250 (3 pages at 100 a page).
    - ``portal``: every 20th id none (5%), every 200th id 501..1,400 (0.5%: 2 or 3 pages at
      500 a page), the rest 5..15; 20,000 ids hold 283,649 associations.
    - ``fixed``: ``per_id`` each.
    - ``rate``: 16..18, so 6 pages at 3 a page: 6 dependent rounds.
    - ``none``: none (HubSpot answers a 207 with one NO_ASSOCIATIONS_FOUND error per id).
    """
    if shape == "own":
        return 250 if i % 100 == 99 else _spread(i)
    if shape == "portal":
        if i % 20 == 0:
            return 0
        if i % 200 == 199:
            return 501 + (i // 200 * 101) % 900
        return _spread(i)
    if shape == "fixed":
        return per_id
    if shape == "rate":
        return 16 + i % 3
    return 0


@attrs.frozen
class ReadSet:
    """``count`` from-ids starting at ``first``, with associations as ``shape`` says."""

    first: int
    count: int
    shape: Shape = "own"
    per_id: int = 10

    def ids(self) -> list[str]:
        """The from-ids, as strings (what every client sends)."""
        return [str(self.first + i) for i in range(self.count)]

    def edges(self) -> Iterator[tuple[str, list[str]]]:
        """Each from-id that has associations, with its to-ids, in stored order."""
        for i in range(self.count):
            k = associations_of(self.shape, i, self.per_id)
            if not k:
                continue
            # 7919 is prime to 50,000, so the k (<= 1,400) to-ids of one id are distinct;
            # ids share companies the way contacts do.
            yield (
                str(self.first + i),
                [str(20_000_000 + (i * 37 + j * 7919) % 50_000) for j in range(k)],
            )

    def without(self) -> list[str]:
        """The from-ids with no associations."""
        return [
            str(self.first + i)
            for i in range(self.count)
            if not associations_of(self.shape, i, self.per_id)
        ]

    def total(self) -> int:
        """Number of associations in the set."""
        return sum(associations_of(self.shape, i, self.per_id) for i in range(self.count))

    def expected(self, kind: str) -> dict[str, str]:
        """What a client's report must say for a workload of ``kind`` over this set."""
        if kind == "stream":
            return {"digest": stream_digest(self)}
        if kind == "none-stream":
            return {"without_count": str(len(self.without()))}
        out = {"without_digest": digest_ids(self.without())}
        if kind != "none":
            out["digest"] = digest_pairs((f, t) for f, to in self.edges() for t in to)
        return out


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


def digest_pairs(pairs: Iterable[tuple[Any, Any]]) -> str:
    """An order-independent digest: sha256 over the sorted, de-duplicated pairs.

    Ids are compared as strings (a raw loop keeps HubSpot's numeric ``toObjectId``), and
    sorting makes clients that merge pages differently comparable; a missing, extra or
    altered pair changes the digest.
    """
    h = hashlib.sha256()
    for f, t in sorted({(str(f), str(t)) for f, t in pairs}):
        h.update(f"{f}\t{t}\n".encode())
    return h.hexdigest()[:16]


def digest_ids(ids: Iterable[Any]) -> str:
    """``count:sha256`` over the sorted ids: a repeated id changes the count."""
    listed = [str(i) for i in ids]
    h = hashlib.sha256("\n".join(sorted(listed)).encode())
    return f"{len(listed)}:{h.hexdigest()[:16]}"


def stream_check(from_id: str | int, n: int) -> int:
    """One streamed item's share of the streaming checksum; the sum over items is compared.

    Streaming keeps nothing, so a sorted digest is out of the question. The sum of
    ``from_id x count`` over the items catches a lost, repeated or misattributed page
    while costing one ``int()`` per item, not per association, so the consumer's own
    arithmetic does not dilute the client's figures; the read workloads check the
    to-ids themselves.
    """
    return int(from_id) * n


def stream_digest(data: ReadSet) -> str:
    """The digest a streaming client reports for ``data``: ``count:checksum``."""
    count = check = 0
    for f, to in data.edges():
        count += len(to)
        check += stream_check(f, len(to))
    return f"{count}:{check}"


@attrs.frozen
class Sizes:
    """Every size the runner can change; :data:`DEFAULT`, :data:`QUICK` and :data:`SMOKE`."""

    portal_ids: int = 20_000
    portal_page: int = 500
    own_ids: int = 20_000
    own_page: int = 100
    write_pairs: int = 20_000
    stream_ids: int = 100_000  # x 10 associations = 1,000,000
    none_ids: int = 1_000_000
    rate_ids: int = 20_000  # x 16..18 associations at 3 a page: 6 rounds of 20 requests
    rate_page: int = 3
    rate_limit: tuple[int, float] = (20, 2.0)
    rate_runs: int = 10
    shared_ids: int = 10_000  # read while another process spends half the budget
    latency_ids: int = 40_000  # one association each
    latency: float = 0.3
    #: A latency row compares wall times about 1% apart on a machine whose run-to-run
    #: noise is about as large: the median of 9 runs is steadier than that of 3.
    latency_runs: int = 9
    read_chunk: int = READ_LIMIT
    concurrency: int = 8

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Sizes:
        """Rebuild from :func:`attrs.asdict` output (JSON turns the tuple into a list)."""
        fields = dict(raw)
        if "rate_limit" in fields:
            n, window = fields["rate_limit"]
            fields["rate_limit"] = (int(n), float(window))
        return cls(**fields)

    def data_set(self, name: str) -> ReadSet:
        """The read set a workload (or an emulator) uses, by name."""
        if name == "portal":
            return ReadSet(10_000_000, self.portal_ids, "portal")
        if name == "own":
            return ReadSet(11_000_000, self.own_ids, "own")
        if name == "stream":
            return ReadSet(60_000_000, self.stream_ids, "fixed", per_id=10)
        if name == "none":
            return ReadSet(70_000_000, self.none_ids, "none")
        if name == "rate":
            return ReadSet(12_000_000, self.rate_ids, "rate")
        if name == "shared":
            return ReadSet(12_000_000, min(self.shared_ids, self.rate_ids), "rate")
        if name == "latency":
            return ReadSet(13_000_000, self.latency_ids, "fixed", per_id=1)
        raise ValueError(f"unknown data set {name!r}")

    def write_set(self) -> WriteSet:
        """The associate and archive pairs."""
        return WriteSet(30_000_000, self.write_pairs)


DEFAULT = Sizes()
#: A couple of minutes: the same shapes, the heavy sets cut down, 3 rate-limited runs.
QUICK = Sizes(stream_ids=20_000, none_ids=200_000, rate_runs=3, shared_ids=6_000, latency_runs=3)
#: Seconds: proves every workload runs and verifies; the figures mean nothing.
SMOKE = Sizes(
    portal_ids=400,
    own_ids=400,
    write_pairs=400,
    stream_ids=2_000,
    none_ids=4_000,
    rate_ids=200,
    rate_limit=(10, 0.25),
    rate_runs=2,
    shared_ids=200,
    latency_ids=400,
    latency=0.01,
    latency_runs=1,
    read_chunk=100,
)
