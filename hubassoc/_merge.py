"""Folding pages into one result, free of I/O: the last step of every batch operation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from itertools import repeat
from operator import attrgetter, is_not
from typing import Any, Generic, TypeVar, cast

from ._models import (
    AssociatedObject,
    AssociationRead,
    AssociationType,
    BatchError,
    BatchResult,
    BatchStatus,
    ToIds,
    ToTypes,
    _Absent,
    _shared_types,
)

T = TypeVar("T")
_FROM_ID = attrgetter("from_id")
_IDS = attrgetter("_ids")
_NOT_NONE = partial(is_not, None)


def unite(objects: list[AssociatedObject]) -> list[AssociatedObject]:
    """``objects`` with each to-id once, its association types united in first-seen order."""
    if len(objects) < 2 or len({o.to_object_id for o in objects}) == len(objects):
        return objects  # the common case: nothing to do, nothing copied
    out: list[AssociatedObject] = []
    _fold(out, {}, objects)
    return out


def _fold(
    out: list[AssociatedObject], index: dict[str, int], more: Sequence[AssociatedObject]
) -> None:
    """Add ``more`` to ``out``: a new to-id is appended, a known one gets its new types.

    ``index`` is where each to-id of ``out`` stands; it is kept up to date.
    """
    for obj in more:
        at = index.get(obj.to_object_id)
        if at is None:
            index[obj.to_object_id] = len(out)
            out.append(obj)
        else:
            out[at] = _with_types(out[at], obj.association_types)


def _with_types(obj: AssociatedObject, more: Sequence[AssociationType]) -> AssociatedObject:
    new = [t for t in more if t not in obj.association_types]
    if not new:
        return obj
    types = _shared_types((*obj.association_types, *dict.fromkeys(new)))
    return AssociatedObject(obj.to_object_id, types)


def unique(read: AssociationRead) -> AssociationRead:
    """``read`` with each to-id once (see :func:`unite`); itself when nothing repeats."""
    n = len(read)
    if n < 2:
        return read
    ids = read._ids
    if len(set(memoryview(ids).cast("q") if type(ids) is bytes else ids)) == n:
        return read
    return AssociationRead(read.from_id, unite(read.to))


def uniques(reads: list[AssociationRead]) -> list[AssociationRead]:
    """:func:`unique` of each read; ``reads`` itself when none has two to-ids to repeat.

    Only reads that could hold a repeat are looked at: a page of reads of one packed
    to-id each (the usual latency-bound page) costs one pass over the ids, not a call
    per read.
    """
    # Packed ids take 8 bytes each: more than 8 bytes, or a list, may hold a repeat.
    maybe = [i for i, ids in enumerate(map(_IDS, reads)) if len(ids) > 8 or type(ids) is list]
    if not maybe:
        return reads
    out = list(reads)
    for i in maybe:
        out[i] = unique(out[i])
    return out


def joined(parts: Sequence[AssociationRead]) -> AssociationRead:
    """The pages of one from-id as one read, in page order, each to-id once."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    ids: ToIds
    if all(type(p._ids) is bytes for p in parts):
        ids = b"".join([cast(bytes, p._ids) for p in parts])
    else:
        ids = [i for part in parts for i in part.to_ids]
    types: ToTypes
    shared = first._types
    if type(shared) is tuple and all(p._types is shared or not len(p) for p in parts):
        types = shared
    else:
        types = []
        for part in parts:
            kinds = part._types
            if isinstance(kinds, tuple):
                types.extend(repeat(kinds, len(part)))
            else:
                types.extend(kinds)
    return unique(AssociationRead._of(first.from_id, ids, types))


_STATUS_RANK = {
    BatchStatus.COMPLETE: 0,
    BatchStatus.PENDING: 1,
    BatchStatus.PROCESSING: 2,
    BatchStatus.CANCELED: 3,
}
#: A status HubSpot does not document outranks every known one: it is never merged away.
_UNKNOWN_RANK = 4


def status_rank(status: BatchStatus) -> int:
    """How strongly a page's status shows in the merged one."""
    return _STATUS_RANK.get(status, _UNKNOWN_RANK)


class Merger(Generic[T]):
    """Fold pages into one result as they arrive, holding only the merged data.

    Status: a status HubSpot does not document if any page carried one (the first such),
    else CANCELED if any page says so, else PROCESSING, else PENDING if any, else
    COMPLETE. Timestamps: earliest requested/started, latest completed; ``None`` if no
    page carried one. Given ``order`` (batch read), the items of one from-id merge into
    one, pages in the order they arrived, each to-id once with its types united, and
    results follow ``order``. With ``objects=True`` (one record's list), the items are
    to-objects of one record and unite by to-id the same way.
    """

    def __init__(self, order: Sequence[str] | None = None, *, objects: bool = False) -> None:
        # With an order (batch read), items merge per from-id and come out in that order.
        self._order = order
        self._objects = objects
        # Batch read: each from-id's first page, and all pages of the few ids with more
        # (joined when the result is taken): most ids have one, and need no list.
        self._by_from: dict[str, AssociationRead] = {}
        self._more: dict[str, list[AssociationRead]] = {}
        self._results: list[T] = []
        # One record's list: where each to-id is in the results.
        self._index: dict[str, int] = {}
        self._errors: list[BatchError] = []
        self._absent = _Absent()
        self._status = BatchStatus.COMPLETE
        self._requested: datetime | None = None
        self._started: datetime | None = None
        self._completed: datetime | None = None
        self._links: dict[str, str] = {}

    def add(self, page: BatchResult[Any]) -> None:
        """Fold one page in."""
        if self._order is not None:
            by_from = self._by_from
            items = cast("list[AssociationRead]", page.results)
            fresh = dict(zip(map(_FROM_ID, items), items, strict=True))
            if len(fresh) == len(items) and by_from.keys().isdisjoint(fresh):
                by_from.update(fresh)  # the usual page: ids not seen before, each once
            else:
                more = self._more
                for item in items:
                    from_id = item.from_id
                    first = by_from.get(from_id)
                    if first is None:
                        by_from[from_id] = item
                    elif (parts := more.get(from_id)) is None:
                        more[from_id] = [first, item]
                    else:
                        parts.append(item)
        elif self._objects:
            # One record's pages: each to-object once, its types united.
            _fold(cast(list[AssociatedObject], self._results), self._index, page.results)
        else:
            self._results.extend(page.results)
        self._errors.extend(page._errors)
        if page._absent:
            self._absent.extend(page._absent)
        if status_rank(page.status) > status_rank(self._status):
            self._status = page.status
        self._requested = _pick(min, self._requested, page.requested_at)
        self._started = _pick(min, self._started, page.started_at)
        self._completed = _pick(max, self._completed, page.completed_at)
        for key, value in page.links.items():
            self._links.setdefault(key, value)

    def result(self, *, last: bool = False) -> BatchResult[T]:
        """The merged result so far; ``last``: the merger is used no more after this.

        The last result takes over what the merger holds instead of copying it: a read
        of a million ids without associations holds them in one 8 MB list.
        """
        results: list[Any]
        if self._order is not None:
            by_from = self._by_from
            if self._more:
                by_from = {**by_from, **{f: joined(p) for f, p in self._more.items()}}
            # The plan keeps only asked ids, so every merged id is in the order.
            results = list(filter(_NOT_NONE, map(by_from.get, self._order)))
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
            _absent=(self._absent if last else self._absent.copy()) if self._absent else None,
        )


def _pick(fn: Any, current: datetime | None, new: datetime | None) -> datetime | None:
    if new is None:
        return current
    if current is None:
        return new
    result: datetime = fn(current, new)
    return result


class Completer:
    """Pages in, whole reads out: one :class:`AssociationRead` per from-id once it is complete.

    ``add`` takes each page with the ids whose last page it was (from the plan) and
    returns the reads those ids complete, every page of each merged. Only ids still
    being read are held, so memory is bounded by the ids in flight. An id named by a
    failure is not handed out (its read is incomplete); the failure is kept in
    :attr:`errors`. ``record`` is set for one record's list, whose pages hold objects.
    """

    def __init__(self, record: str | None = None) -> None:
        self._record = record
        self._parts: dict[str, list[AssociationRead]] = {}
        self._failed: set[str] = set()
        self.errors: list[BatchError] = []

    def add(self, page: BatchResult[Any], closed: Sequence[str]) -> list[AssociationRead]:
        """Hold ``page``'s items and return the reads of ``closed`` ids with any."""
        parts = self._parts
        if self._record is not None:
            if page.results:
                objects = cast("list[AssociatedObject]", page.results)
                parts.setdefault(self._record, []).append(AssociationRead(self._record, objects))
        else:
            for item in cast("list[AssociationRead]", page.results):
                held = parts.get(item.from_id)
                if held is None:
                    parts[item.from_id] = [item]
                else:
                    held.append(item)
        for error in page.failures:
            self.errors.append(error)
            self._failed.update(error.ids)
        ready: list[AssociationRead] = []
        for from_id in closed:
            read = parts.pop(from_id, None)
            if read is not None and from_id not in self._failed:
                ready.append(joined(read))
        return ready
