"""Folding pages into one result, free of I/O: the last step of every batch operation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from ._models import (
    AssociatedObject,
    AssociationRead,
    AssociationType,
    BatchError,
    BatchResult,
    BatchStatus,
)

T = TypeVar("T")


def unite(objects: list[AssociatedObject]) -> list[AssociatedObject]:
    """``objects`` with each to-id once, its association types united in first-seen order."""
    if len(objects) < 2 or len({o.to_object_id for o in objects}) == len(objects):
        return objects  # the common case: nothing to do, nothing copied
    index: dict[str, int] = {}
    out: list[AssociatedObject] = []
    for obj in objects:
        at = index.get(obj.to_object_id)
        if at is None:
            index[obj.to_object_id] = len(out)
            out.append(obj)
        else:
            out[at] = _with_types(out[at], obj.association_types)
    return out


def _with_types(obj: AssociatedObject, more: Sequence[AssociationType]) -> AssociatedObject:
    new = [t for t in more if t not in obj.association_types]
    if not new:
        return obj
    return AssociatedObject(obj.to_object_id, [*obj.association_types, *dict.fromkeys(new)])


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
        self._by_from: dict[str, list[AssociatedObject]] = {}
        # Position of each to-id, only for from-ids that came in more than one page.
        self._index: dict[str, dict[str, int]] = {}
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
                known = by_from.get(item.from_id)
                if known is None:
                    by_from[item.from_id] = item.to  # copied only if more pages come
                else:
                    self._extend(item.from_id, known, item.to)
        elif self._objects:
            known = self._by_from.get("")
            if known is None:
                self._by_from[""] = list(page.results)
            else:
                self._extend("", known, page.results)
        else:
            self._results.extend(page.results)
        self._errors.extend(page.errors)
        if status_rank(page.status) > status_rank(self._status):
            self._status = page.status
        self._requested = _pick(min, self._requested, page.requested_at)
        self._started = _pick(min, self._started, page.started_at)
        self._completed = _pick(max, self._completed, page.completed_at)
        for key, value in page.links.items():
            self._links.setdefault(key, value)

    def _extend(
        self, from_id: str, known: list[AssociatedObject], more: Sequence[AssociatedObject]
    ) -> None:
        index = self._index.get(from_id)
        if index is None:
            known = self._by_from[from_id] = list(known)
            index = self._index[from_id] = {o.to_object_id: i for i, o in enumerate(known)}
        for obj in more:
            at = index.get(obj.to_object_id)
            if at is None:
                index[obj.to_object_id] = len(known)
                known.append(obj)
            else:
                known[at] = _with_types(known[at], obj.association_types)

    def result(self) -> BatchResult[T]:
        """The merged result so far."""
        results: list[Any]
        if self._order is not None:
            by_from = self._by_from
            # The plan keeps only asked ids, so every merged id is in the order.
            results = [AssociationRead(f, by_from[f]) for f in self._order if f in by_from]
        elif self._objects:
            results = list(self._by_from.get("", ()))
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
