"""The plan machinery every batch endpoint shares, free of I/O.

A *plan* turns validated inputs into chunks (request bodies no larger than the
endpoint's limit) and turns each answered chunk into a page (a :class:`BatchResult`).
Batch read and one record's list live in :mod:`hubassoc._reading`, the writes in
:mod:`hubassoc._writes`; :mod:`hubassoc._merge` folds pages into one result. The driver
in :mod:`hubassoc._operation` only moves chunks between a plan and the transport.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import attrs

from ._codec import loads
from ._models import BatchError, BatchResult, BatchStatus
from ._pages import parse_envelope

T = TypeVar("T")

#: Sub-category of the error hubassoc reports when HubSpot repeats a paging cursor.
REPEATED_CURSOR = "hubassoc.REPEATED_CURSOR"


@attrs.frozen
class Chunk:
    """One request's worth of inputs.

    ``context`` names every input of the chunk (``ids``: the from-ids), so that a chunk
    failing as a whole becomes an error that still accounts for all of them.
    """

    body: bytes
    size: int
    context: dict[str, list[str]]
    #: HTTP method and path of this chunk's call, when not POST to the plan's path
    #: (a GET page of one record's associations carries its cursor in the query).
    method: str = "POST"
    path: str | None = None
    #: The inputs as the caller gave them (ids, pairs or specs), for ``unfinished``.
    inputs: Sequence[Any] = ()


class Plan(Protocol[T]):
    """What the driver needs from an operation: chunks out, pages back."""

    @property
    def path(self) -> str:
        """URL path of the endpoint, object types already quoted."""
        ...

    @property
    def total(self) -> int:
        """Number of inputs."""
        ...

    @property
    def finished(self) -> int:
        """Inputs that need no more calls."""
        ...

    def next_chunk(self) -> Chunk | None:
        """The next chunk to send, or None if nothing is ready (read may get more later)."""
        ...

    def decode(self, body: bytes) -> Any:
        """Decode a non-empty 2xx body for :meth:`complete`; raise one of
        ``JSON_DECODE_ERRORS`` if it is not JSON."""
        ...

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[T]:
        """Turn a 2xx answer (what :meth:`decode` gave, or None for no body) into a page."""
        ...

    def fail(self, chunk: Chunk, error: BatchError) -> BatchResult[T]:
        """Turn a chunk that failed as a whole into a page holding one error."""
        ...

    def pending(self) -> list[Any]:
        """Inputs not yet handed out in a chunk (for batch read, ids still to page too)."""
        ...


def _path(template: str, from_type: str, to_type: str) -> str:
    return template.format(quote(from_type, safe=""), quote(to_type, safe=""))


def _failed_page(error: BatchError) -> BatchResult[Any]:
    return BatchResult(status=BatchStatus.COMPLETE, errors=[error])


#: Sub-category of the error hubassoc reports when an id has more pages than ``max_pages_per_id``.
TOO_MANY_PAGES = "hubassoc.TOO_MANY_PAGES"
#: Sub-category of the error naming results for inputs that were never sent.
UNASKED_RESULT = "hubassoc.UNASKED_RESULT"
#: Default of ``Client(max_pages_per_id=...)``; see ``docs/trust.md`` for why this number.
DEFAULT_MAX_PAGES_PER_ID = 1000

logger = logging.getLogger("hubassoc")


def unasked_error(what: str, context: dict[str, list[str]]) -> BatchError:
    """The ``INVALID_RESPONSE`` error for results an answer gave for inputs never sent."""
    logger.warning("HubSpot answered %s that were not asked for: %s", what, context)
    return BatchError(
        category="INVALID_RESPONSE",
        sub_category=UNASKED_RESULT,
        message=f"HubSpot's answer held results for {what} that were not asked for; not kept",
        context=context,
    )


class _WritePlan(Generic[T]):
    """A fixed list of chunks, each sent once (after retries)."""

    decode = staticmethod(loads)

    def __init__(self, path: str, chunks: list[Chunk], item_type: type[T]) -> None:
        self.path = path
        self.total = sum(c.size for c in chunks)
        self.finished = 0
        self._chunks = deque(chunks)
        self._item_type = item_type

    def next_chunk(self) -> Chunk | None:
        """The next chunk, in input order."""
        return self._chunks.popleft() if self._chunks else None

    def pending(self) -> list[Any]:
        """Inputs of the chunks not sent yet."""
        return [item for chunk in self._chunks for item in chunk.inputs]

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[T]:
        """A 204 (no body) is a complete page with no results."""
        page: BatchResult[T] = (
            BatchResult(status=BatchStatus.COMPLETE)
            if raw is None
            else parse_envelope(raw, self._item_type)
        )
        self.finished += chunk.size
        return page

    def fail(self, chunk: Chunk, error: BatchError) -> BatchResult[T]:
        """A failed chunk is a page with one error naming every input."""
        self.finished += chunk.size
        return _failed_page(error)


def _split(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
