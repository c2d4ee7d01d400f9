"""Batch planning and merging, free of I/O.

A *plan* turns validated inputs into chunks (request bodies no larger than the
endpoint's limit), turns each answered chunk into a page (a :class:`BatchResult`), and,
for batch read, feeds ``paging.next.after`` cursors back in as new inputs. A
:class:`Merger` folds pages into one result. The driver in :mod:`hubassoc._operation`
only moves chunks between a plan and the transport.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import attrs

from ._models import (
    AssociatedObject,
    AssociationRead,
    AssociationSpec,
    BatchError,
    BatchResult,
    BatchStatus,
    DefaultAssociation,
)
from ._validation import Pair
from ._wire import dumps, next_cursors, parse_envelope

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

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[T]:
        """Turn a 2xx answer (parsed JSON, or None for no body) into a page."""
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


class ReadPlan:
    """Batch read: chunk the ids, then follow each id's cursor until ``paging`` is gone.

    Ids that still have pages go back in front of the queue, so an id finishes soon after
    it starts and a chunk is filled with fresh ids around the continuations.
    """

    def __init__(
        self,
        from_type: str,
        to_type: str,
        ids: Sequence[str],
        chunk_size: int,
        *,
        path: str | None = None,
    ) -> None:
        self.path = path or _path("/crm/v4/associations/{}/{}/batch/read", from_type, to_type)
        self.total = len(ids)
        self.finished = 0
        self._chunk_size = chunk_size
        self._fresh: deque[str] = deque(ids)
        self._continuations: deque[tuple[str, str]] = deque()
        self._cursors_sent: dict[str, set[str]] = {}

    def next_chunk(self) -> Chunk | None:
        """Take continuations first, then fresh ids, up to the chunk size."""
        inputs: list[dict[str, str]] = []
        ids: list[str] = []
        while self._continuations and len(inputs) < self._chunk_size:
            from_id, after = self._continuations.popleft()
            inputs.append({"id": from_id, "after": after})
            ids.append(from_id)
        while self._fresh and len(inputs) < self._chunk_size:
            from_id = self._fresh.popleft()
            inputs.append({"id": from_id})
            ids.append(from_id)
        if not inputs:
            return None
        return Chunk(dumps({"inputs": inputs}), len(inputs), {"ids": ids}, inputs=ids)

    def pending(self) -> list[str]:
        """Ids waiting for their next page, then ids not read yet."""
        return [from_id for from_id, _ in self._continuations] + list(self._fresh)

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[AssociationRead]:
        """Parse a page and queue the next cursor of every id that has one."""
        page: BatchResult[AssociationRead] = parse_envelope(raw, AssociationRead)
        asked = set(chunk.context["ids"])
        cursors = next_cursors(raw)
        repeated: list[str] = []
        for from_id, after in cursors.items():
            if from_id not in asked:
                continue
            sent = self._cursors_sent.setdefault(from_id, set())
            if after in sent:
                repeated.append(from_id)
                continue
            sent.add(after)
            self._continuations.append((from_id, after))
        for from_id in asked.difference(cursors):
            self._cursors_sent.pop(from_id, None)
        self.finished += len(asked) - sum(1 for f in cursors if f in asked) + len(repeated)
        # An id with no next cursor is done; its cursor set was dropped above.
        extra: list[BatchError] = []
        answered = {r.from_id for r in page.results}
        answered.update(i for e in page.errors for i in e.ids)
        unanswered = [i for i in chunk.context["ids"] if i not in answered]
        if unanswered:
            extra.append(
                BatchError(
                    category="INVALID_RESPONSE",
                    message="HubSpot's answer neither returned nor reported these ids",
                    context={"ids": unanswered},
                )
            )
        if repeated:
            for from_id in repeated:
                self._cursors_sent.pop(from_id, None)
            extra.append(
                BatchError(
                    category="PAGING_ERROR",
                    sub_category=REPEATED_CURSOR,
                    message=(
                        "HubSpot returned a paging cursor it had already returned for these "
                        "ids; stopped following it so the read cannot loop forever. The pages "
                        "read before it are in the results."
                    ),
                    context={"ids": repeated},
                )
            )
        if extra:
            page = attrs.evolve(page, errors=[*page.errors, *extra])
        return page

    def fail(self, chunk: Chunk, error: BatchError) -> BatchResult[AssociationRead]:
        """Forget the cursors of a failed chunk's ids; the error names them all."""
        for from_id in chunk.context["ids"]:
            self._cursors_sent.pop(from_id, None)
        self.finished += chunk.size
        return _failed_page(error)


class _WritePlan(Generic[T]):
    """A fixed list of chunks, each sent once (after retries)."""

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


def _pair_context(pairs: Sequence[Pair]) -> dict[str, list[str]]:
    # ids and toIds are aligned: the i-th failed pair is (ids[i], toIds[i]).
    return {"ids": [f for f, _ in pairs], "toIds": [t for _, t in pairs]}


def associate_plan(
    from_type: str,
    to_type: str,
    pairs: Sequence[Pair],
    chunk_size: int,
    *,
    path: str | None = None,
) -> _WritePlan[DefaultAssociation]:
    """Plan batch/associate/default: one input per pair."""
    chunks = [
        Chunk(
            dumps({"inputs": [{"from": {"id": f}, "to": {"id": t}} for f, t in part]}),
            len(part),
            _pair_context(part),
            inputs=part,
        )
        for part in _split(pairs, chunk_size)
    ]
    path = path or _path("/crm/v4/associations/{}/{}/batch/associate/default", from_type, to_type)
    return _WritePlan(path, chunks, DefaultAssociation)


def archive_plan(
    from_type: str,
    to_type: str,
    pairs: Sequence[Pair],
    chunk_size: int,
    *,
    path: str | None = None,
) -> _WritePlan[dict[str, Any]]:
    """Plan batch/archive: pairs grouped by from-id, at most ``chunk_size`` pairs a request.

    HubSpot documents no limit on the ``to`` list of one input, so a request is bounded
    by its number of pairs, not of inputs; a from-id with many to-ids spans chunks.
    """
    chunks: list[Chunk] = []
    for part in _split(pairs, chunk_size):
        grouped: dict[str, list[dict[str, str]]] = {}
        for f, t in part:
            grouped.setdefault(f, []).append({"id": t})
        inputs = [{"from": {"id": f}, "to": to} for f, to in grouped.items()]
        chunks.append(Chunk(dumps({"inputs": inputs}), len(part), _pair_context(part), inputs=part))
    path = path or _path("/crm/v4/associations/{}/{}/batch/archive", from_type, to_type)
    return _WritePlan(path, chunks, dict[str, Any])


def purge_plan(
    from_type: str,
    to_type: str,
    specs: Sequence[AssociationSpec],
    chunk_size: int,
    *,
    path: str | None = None,
) -> _WritePlan[dict[str, Any]]:
    """Plan definitions/configurations batch/purge: one input per spec."""
    chunks = [
        Chunk(
            dumps({"inputs": [{"category": s.category.value, "typeId": s.type_id} for s in part]}),
            len(part),
            {
                "ids": [f"{s.category.value}:{s.type_id}" for s in part],
                "category": [s.category.value for s in part],
                "typeId": [str(s.type_id) for s in part],
            },
            inputs=part,
        )
        for part in _split(specs, chunk_size)
    ]
    path = path or _path(
        "/crm/associations/v4/definitions/configurations/{}/{}/batch/purge", from_type, to_type
    )
    return _WritePlan(path, chunks, dict[str, Any])


_STATUS_RANK = {
    BatchStatus.CANCELED: 3,
    BatchStatus.PROCESSING: 2,
    BatchStatus.PENDING: 1,
}


class Merger(Generic[T]):
    """Fold pages into one result as they arrive, holding only the merged data.

    Status: CANCELED if any page says so, else PROCESSING, else PENDING if any, else
    COMPLETE. Timestamps: earliest requested/started, latest completed; ``None`` if no
    page carried one. Given ``order`` (batch read), the items of one from-id merge into
    one, pages in the order they arrived, and results follow ``order``.
    """

    def __init__(self, order: Sequence[str] | None = None) -> None:
        # With an order (batch read), items merge per from-id and come out in that order.
        self._order = order
        self._by_from: dict[str, list[AssociatedObject]] = {}
        self._results: list[T] = []
        self._errors: list[BatchError] = []
        self._status = BatchStatus.COMPLETE
        self._requested: datetime | None = None
        self._started: datetime | None = None
        self._completed: datetime | None = None
        self._links: dict[str, str] = {}

    def add(self, page: BatchResult[Any]) -> None:
        """Fold one page in."""
        if self._order is not None:
            by_from = self._by_from
            for item in page.results:
                by_from.setdefault(item.from_id, []).extend(item.to)
        else:
            self._results.extend(page.results)
        self._errors.extend(page.errors)
        if _STATUS_RANK.get(page.status, 0) > _STATUS_RANK.get(self._status, 0):
            self._status = page.status
        self._requested = _pick(min, self._requested, page.requested_at)
        self._started = _pick(min, self._started, page.started_at)
        self._completed = _pick(max, self._completed, page.completed_at)
        for key, value in page.links.items():
            self._links.setdefault(key, value)

    def result(self) -> BatchResult[T]:
        """The merged result so far."""
        results: list[Any]
        if self._order is not None:
            by_from = self._by_from
            results = [AssociationRead(f, by_from[f]) for f in self._order if f in by_from]
            if len(results) < len(by_from):  # ids HubSpot answered that were not asked for
                asked = set(self._order)
                results.extend(
                    AssociationRead(f, to) for f, to in by_from.items() if f not in asked
                )
        else:
            results = list(self._results)
        return BatchResult(
            status=self._status,
            results=results,
            errors=list(self._errors),
            requested_at=self._requested,
            started_at=self._started,
            completed_at=self._completed,
            links=dict(self._links),
        )


def _pick(fn: Any, current: datetime | None, new: datetime | None) -> datetime | None:
    if new is None:
        return current
    if current is None:
        return new
    result: datetime = fn(current, new)
    return result
