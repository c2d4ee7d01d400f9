"""Reads that follow cursors, free of I/O: batch read and one record's associations.

Every page is checked before it is believed: results for inputs that were not asked
are reported, not kept; each to-object comes once per from-id; every cursor is followed
once, and at most ``max_pages`` pages an id, so a read always ends.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import is_
from typing import Any
from urllib.parse import quote

import attrs

from ._batch import (
    DEFAULT_MAX_PAGES_PER_ID,
    REPEATED_CURSOR,
    TOO_MANY_PAGES,
    Chunk,
    _failed_page,
    _path,
    unasked_error,
)
from ._codec import dumps, loads
from ._merge import _FROM_ID, joined, uniques, unite
from ._models import (
    AssociatedObject,
    AssociationRead,
    AssociationType,
    BatchError,
    BatchResult,
    BatchStatus,
    _shared_types,
)
from ._pages import INVALID_RESULT, decode_read_page, parse_read_page, withheld
from ._validation import digits
from ._wire import ITEM_ERRORS, ResponseShapeError, converter


@attrs.define(slots=True)
class _Open:
    """Bookkeeping for one id whose pages are still being read."""

    pages: int = 0
    outstanding: int = 0
    cursors: set[str] = attrs.Factory(set)
    #: Association types handed out so far, by to-id, to tell a repeat from news.
    seen: dict[str, tuple[AssociationType, ...]] = attrs.Factory(dict)


class ReadPlan:
    """Batch read: chunk the ids, then follow each id's cursor until ``paging`` is gone.

    Ids that still have pages go back in front of the queue, so an id finishes soon after
    it starts and a chunk is filled with fresh ids around the continuations.

    Each page is checked before it is believed: results for ids that were not asked are
    reported, not kept; an id answered twice in one page is one result; a to-object an
    earlier page of the same id already gave is dropped (or only its new types kept);
    every cursor of an id is followed, each once, and at most ``max_pages`` pages an id.
    """

    decode = staticmethod(decode_read_page)

    def __init__(
        self,
        from_type: str,
        to_type: str,
        ids: Sequence[str],
        chunk_size: int,
        *,
        path: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES_PER_ID,
    ) -> None:
        self.path = path or _path("/crm/v4/associations/{}/{}/batch/read", from_type, to_type)
        self.total = len(ids)
        self.finished = 0
        self._chunk_size = chunk_size
        self._max_pages = max_pages
        # Fresh ids are taken by position, a chunk at a time, not popped one by one.
        self._ids = ids
        self._next = 0
        self._continuations: deque[tuple[str, str]] = deque()
        self._open: dict[str, _Open] = {}
        # Kept only for a consumer of take_closed(): a million-id read would otherwise
        # hold every id a second time until it ends.
        self._closed: list[str] | None = None

    def track_closed(self) -> None:
        """Keep the ids whose read ends, for :meth:`take_closed`, from now on."""
        if self._closed is None:
            self._closed = []

    def take_closed(self) -> list[str]:
        """Ids whose last page came in (or whose read ended) since the last call."""
        closed = self._closed
        if closed is None:
            return []
        self._closed = []
        return closed

    def next_chunk(self) -> Chunk | None:
        """Take continuations first, then fresh ids, up to the chunk size."""
        inputs: list[dict[str, str]] = []
        ids: list[str] = []
        taken: set[str] = set()
        later: list[tuple[str, str]] = []
        continuations = self._continuations
        while continuations and len(inputs) < self._chunk_size:
            from_id, after = continuations.popleft()
            if from_id in taken:  # an id with two cursors: one page of it per request
                later.append((from_id, after))
                continue
            taken.add(from_id)
            inputs.append({"id": from_id, "after": after})
            ids.append(from_id)
        continuations.extendleft(reversed(later))
        start = self._next
        fresh = list(self._ids[start : start + self._chunk_size - len(inputs)])
        self._next = start + len(fresh)
        if not inputs and not fresh:
            return None
        parts: list[bytes] = []
        if inputs:
            parts.append(dumps(inputs)[1:-1])
        if fresh:
            ids.extend(fresh)
            if digits("".join(fresh)):
                # Digit strings need no escaping: the same bytes dumps() would give.
                parts.append(('{"id":"' + '"},{"id":"'.join(fresh) + '"}').encode())
            else:
                parts.append(dumps([{"id": from_id} for from_id in fresh])[1:-1])
        body = b'{"inputs":[' + b",".join(parts) + b"]}"
        return Chunk(body, len(ids), {"ids": ids}, inputs=ids)

    def pending(self) -> list[str]:
        """Ids waiting for their next page, then ids not read yet."""
        waiting = dict.fromkeys(from_id for from_id, _ in self._continuations)
        return list(waiting) + list(self._ids[self._next :])

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[AssociationRead]:
        """Check a page, queue every new cursor of every asked id, and account for each id."""
        asked_ids = chunk.context["ids"]
        # The caller's own strings: ids HubSpot names are held as these, not as copies.
        asked = dict(zip(asked_ids, asked_ids, strict=True))
        page, cursors = parse_read_page(raw, asked)
        errors = [_unasked_withheld(e, asked) for e in page._errors]
        unasked: list[str] = []
        results = _by_asked_id(page.results, asked)
        if results is None:
            results = {}
            for item in page.results:
                from_id = asked.get(item.from_id)
                if from_id is None:
                    unasked.append(item.from_id)
                elif from_id in results:  # the same id twice in one answer: one result
                    results[from_id] = joined([results[from_id], item])
                else:
                    results[from_id] = (
                        item
                        if item.from_id is from_id
                        else AssociationRead._of(from_id, item._ids, item._types)
                    )
        absent = page._absent
        unanswered: list[str] = []
        if len(results) != len(asked) or errors or absent:
            answered = set(results)
            answered.update(i for e in errors for i in e.ids)
            if absent:
                answered.update(absent.ids())
            unanswered = [i for i in asked_ids if i not in answered]

        open_ = self._open
        if open_:  # no id of the read has a second page yet: nothing to account
            for from_id in asked_ids:
                state = open_.get(from_id)
                if state is not None:
                    state.outstanding -= 1
                    state.pages += 1
        repeated: list[str] = []
        too_many: list[str] = []
        for from_id, after in cursors:
            if from_id not in results:
                continue  # an unasked id's cursor, reported above
            state = open_.get(from_id)
            if state is None:
                state = open_[from_id] = _Open(pages=1)
            if after in state.cursors:
                if from_id not in repeated:
                    repeated.append(from_id)
            elif state.pages + state.outstanding >= self._max_pages:
                if from_id not in too_many:
                    too_many.append(from_id)
            else:
                state.cursors.add(after)
                state.outstanding += 1
                self._continuations.append((from_id, after))

        kept: list[AssociationRead] = uniques(list(results.values()))
        ended: list[str] = asked_ids  # every id of this page is done with it
        if open_:
            # Ids with earlier pages keep only what those pages did not give.
            news: list[AssociationRead] = []
            for read in kept:
                earlier = open_.get(read.from_id)
                new = read if earlier is None else _news(earlier.seen, read)
                if new is not None:
                    news.append(new)
            kept = news
            ended = []
            for from_id in asked_ids:
                state = open_.get(from_id)
                if state is None:
                    ended.append(from_id)
                elif state.outstanding <= 0:
                    del open_[from_id]
                    ended.append(from_id)
        self.finished += len(ended)
        if self._closed is not None:
            self._closed.extend(ended)

        if unanswered:
            errors.append(
                BatchError(
                    category="INVALID_RESPONSE",
                    message="HubSpot's answer neither returned nor reported these ids",
                    context={"ids": unanswered},
                )
            )
        if unasked:
            errors.append(unasked_error("ids", {"unaskedIds": list(dict.fromkeys(unasked))}))
        if repeated:
            errors.append(_repeated_cursor(repeated))
        if too_many:
            errors.append(_too_many_pages(too_many, self._max_pages))
        return BatchResult(
            status=page.status,
            results=kept,
            errors=errors,
            requested_at=page.requested_at,
            started_at=page.started_at,
            completed_at=page.completed_at,
            links=page.links,
            _absent=absent,
        )

    def fail(self, chunk: Chunk, error: BatchError) -> BatchResult[AssociationRead]:
        """Forget the cursors of a failed chunk's ids; the error names them all."""
        for from_id in chunk.context["ids"]:
            state = self._open.get(from_id)
            if state is not None:
                state.outstanding -= 1
                if state.outstanding > 0:
                    continue  # another cursor of this id is still to be read
                del self._open[from_id]
            self.finished += 1
            if self._closed is not None:
                self._closed.append(from_id)
        return _failed_page(error)


def _by_asked_id(
    reads: list[AssociationRead], asked: Mapping[str, str]
) -> dict[str, AssociationRead] | None:
    """``reads`` by from-id if each is of an asked id, once, held as the asked string.

    The usual page, checked in C; None for any other, which is then looked at read by read.
    """
    by_id = dict(zip(map(_FROM_ID, reads), reads, strict=True))
    if len(by_id) != len(reads) or not by_id.keys() <= asked.keys():
        return None
    if not all(map(is_, map(asked.__getitem__, by_id), by_id)):
        return None
    return by_id


def _repeated_cursor(ids: list[str]) -> BatchError:
    return BatchError(
        category="PAGING_ERROR",
        sub_category=REPEATED_CURSOR,
        message=(
            "HubSpot returned a paging cursor it had already returned; stopped following it "
            "so the read cannot loop forever. The pages read before it are in the results."
        ),
        context={"ids": ids},
    )


def _too_many_pages(ids: list[str], max_pages: int) -> BatchError:
    return BatchError(
        category="PAGING_ERROR",
        sub_category=TOO_MANY_PAGES,
        message=(
            f"HubSpot kept sending paging cursors after {max_pages} pages "
            "(max_pages_per_id); stopped following them. The pages read are in the results."
        ),
        context={"ids": ids},
    )


def _news(
    seen: dict[str, tuple[AssociationType, ...]], read: AssociationRead
) -> AssociationRead | None:
    """What ``read`` holds that this id's earlier pages did not; remembers it.

    None when the page had to-objects and every one was handed out before.
    """
    keys = read.to_ids
    if seen.keys().isdisjoint(keys):  # the usual page: all new
        kinds = read._types
        if isinstance(kinds, tuple):
            seen.update(zip(keys, repeat(kinds)))
        else:
            seen.update(zip(keys, kinds, strict=True))
        return read
    out: list[AssociatedObject] = []
    for obj in read.to:
        before = seen.get(obj.to_object_id)
        if before is None:
            seen[obj.to_object_id] = obj.association_types
            out.append(obj)
            continue
        new = tuple(t for t in obj.association_types if t not in before)
        if new:
            seen[obj.to_object_id] = (*before, *new)
            out.append(AssociatedObject(obj.to_object_id, _shared_types(new)))
    return AssociationRead(read.from_id, out) if out else None


def _unasked_withheld(error: BatchError, asked: Mapping[str, str]) -> BatchError:
    """A withheld result's error names its from-id only if that id was asked."""
    if error.sub_category != INVALID_RESULT or not error.ids or error.ids[0] in asked:
        return error
    return attrs.evolve(error, context={"unaskedIds": error.ids})


class RecordPlan:
    """One record's associations: GET a page, then the next with its ``after``, until none.

    Pages are fetched one after another (each needs the previous one's cursor). The
    same checks as batch read apply: a to-object that is not a record id is withheld
    and ends the read with an error naming the record; a to-object an earlier page
    gave is dropped (or only its new types kept); a cursor HubSpot sends twice, or a
    page past ``max_pages``, ends the read with a ``PAGING_ERROR``. Pages read are kept.
    """

    decode = staticmethod(loads)

    def __init__(
        self, from_id: str, path: str, limit: int, *, max_pages: int = DEFAULT_MAX_PAGES_PER_ID
    ) -> None:
        self.path = path
        self.total = 1
        self.finished = 0
        self._from_id = from_id
        self._limit = limit
        self._max_pages = max_pages
        self._pages = 0
        self._after: str | None = None
        self._ready = True
        self._sent: set[str] = set()
        self._sent_closed: set[str] = set()
        self._seen: dict[str, tuple[AssociationType, ...]] = {}

    @property
    def from_id(self) -> str:
        """The record whose associations are read."""
        return self._from_id

    def track_closed(self) -> None:
        """Nothing to start: a record's end is known from its one read."""

    def take_closed(self) -> list[str]:
        """The record, once, when its read has ended (last page in, or failed)."""
        if self.finished and self._from_id not in self._sent_closed:
            self._sent_closed.add(self._from_id)
            return [self._from_id]
        return []

    def next_chunk(self) -> Chunk | None:
        """The next page's request, once the previous page has been answered."""
        if not self._ready:
            return None
        self._ready = False
        query = f"?limit={self._limit}"
        if self._after is not None:
            # Sent back exactly as HubSpot gave it: quoted, so the server decodes it unchanged.
            query += f"&after={quote(self._after, safe='')}"
        return Chunk(
            b"",
            1,
            {"ids": [self._from_id]},
            method="GET",
            path=self.path + query,
            inputs=[self._from_id],
        )

    def pending(self) -> list[str]:
        """The record, while pages of it are still to be read."""
        return [self._from_id] if self._ready else []

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[AssociatedObject]:
        """Check a page and queue the next one if ``paging.next.after`` is there."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("results"), list):
            raise ResponseShapeError("expected a JSON object with a 'results' array")
        self._pages += 1
        objects: list[AssociatedObject] = []
        errors: list[BatchError] = []
        for item in raw["results"]:
            try:
                objects.append(converter.structure(item, AssociatedObject))
            except ITEM_ERRORS as exc:
                errors.append(withheld(exc, self._from_id))
        news = _news(self._seen, AssociationRead(self._from_id, unite(objects)))
        objects = news.to if news is not None else []
        paging = raw.get("paging")
        following = paging.get("next") if isinstance(paging, Mapping) else None
        after = following.get("after") if isinstance(following, Mapping) else None
        if after is None or errors:
            self.finished = 1
        elif str(after) in self._sent:
            self.finished = 1
            errors.append(_repeated_cursor([self._from_id]))
        elif self._pages >= self._max_pages:
            self.finished = 1
            errors.append(_too_many_pages([self._from_id], self._max_pages))
        else:
            self._after = str(after)
            self._sent.add(self._after)
            self._ready = True
        return BatchResult(status=BatchStatus.COMPLETE, results=objects, errors=errors)

    def fail(self, chunk: Chunk, error: BatchError) -> BatchResult[AssociatedObject]:
        """A failed page ends the read; the error names the record."""
        self.finished = 1
        return _failed_page(error)
