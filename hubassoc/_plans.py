"""Plans for the labelled-association and limit endpoints, free of I/O.

They are the write plans of :mod:`hubassoc._batch` with their own request bodies,
plus one check shared by every write whose answer lists what it did: each pair that
was sent must come back as a result or be named by an error
(:func:`unconfirmed_pairs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs

from ._batch import REPEATED_CURSOR, Chunk, _failed_page, _split, _WritePlan
from ._models import (
    AssociatedObject,
    BatchError,
    BatchResult,
    BatchStatus,
    LabelledAssociation,
    LimitConfiguration,
)
from ._validation import Pair, TypedPair
from ._wire import ResponseShapeError, converter, dumps

__all__ = [
    "ConfirmingPlan",
    "RecordPlan",
    "create_plan",
    "labels_archive_plan",
    "limit_plan",
    "unconfirmed_pairs",
]


def unconfirmed_pairs(
    chunk: Chunk, results: Iterable[Pair], errors: Iterable[BatchError]
) -> BatchError | None:
    """An ``INVALID_RESPONSE`` error for the sent pairs an answer neither confirmed nor reported.

    ``chunk.context`` holds the sent pairs as aligned ``ids`` and ``toIds``. An error
    that names from-ids but no to-ids reports every pair of those from-ids.
    """
    sent = list(zip(chunk.context["ids"], chunk.context["toIds"], strict=True))
    seen = set(results)
    whole_ids: set[str] = set()
    for error in errors:
        from_ids = error.ids
        to_ids = error.context.get("toObjectId") or error.context.get("toIds") or []
        if to_ids:
            seen.update((f, t) for f in from_ids for t in to_ids)
        else:
            whole_ids.update(from_ids)
    missing = [(f, t) for f, t in sent if (f, t) not in seen and f not in whole_ids]
    if not missing:
        return None
    return BatchError(
        category="INVALID_RESPONSE",
        message="HubSpot's answer neither confirmed nor reported these pairs",
        context={"ids": [f for f, _ in missing], "toIds": [t for _, t in missing]},
    )


class ConfirmingPlan(_WritePlan[LabelledAssociation]):
    """A write plan whose answers must account for every pair sent (see :func:`unconfirmed_pairs`)."""

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[LabelledAssociation]:
        """Parse the page, adding an error for any pair the answer left out."""
        page = super().complete(chunk, raw)
        extra = unconfirmed_pairs(chunk, ((r.from_id, r.to_id) for r in page.results), page.errors)
        return page if extra is None else attrs.evolve(page, errors=[*page.errors, extra])


def _typed_chunks(items: Sequence[TypedPair], chunk_size: int) -> list[Chunk]:
    return [
        Chunk(
            dumps(
                {
                    "inputs": [
                        {
                            "from": {"id": f},
                            "to": {"id": t},
                            "types": [
                                {
                                    "associationCategory": s.category.value,
                                    "associationTypeId": s.type_id,
                                }
                                for s in specs
                            ],
                        }
                        for f, t, specs in part
                    ]
                }
            ),
            len(part),
            # ids and toIds are aligned: the i-th input is (ids[i], toIds[i]).
            {"ids": [f for f, _, _ in part], "toIds": [t for _, t, _ in part]},
            inputs=part,
        )
        for part in _split(items, chunk_size)
    ]


def create_plan(items: Sequence[TypedPair], chunk_size: int, path: str) -> ConfirmingPlan:
    """Plan ``batch/create``: one input per pair with all of its types."""
    return ConfirmingPlan(path, _typed_chunks(items, chunk_size), LabelledAssociation)


def labels_archive_plan(
    items: Sequence[TypedPair], chunk_size: int, path: str
) -> _WritePlan[dict[str, Any]]:
    """Plan ``batch/labels/archive``: the same inputs; HubSpot answers 204."""
    return _WritePlan(path, _typed_chunks(items, chunk_size), dict[str, Any])


def _spec_key(category: str, type_id: str | int) -> str:
    return f"{category}:{type_id}"


class _LimitPlan(_WritePlan[LimitConfiguration]):
    """Limit writes: errors name the spec they refuse, and every sent spec is accounted for."""

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[LimitConfiguration]:
        """Give each per-spec error the ``ids`` key of the spec, then check nothing is missing."""
        page = super().complete(chunk, raw)
        errors: list[BatchError] = []
        for error in page.errors:
            categories, type_ids = error.context.get("category"), error.context.get("typeId")
            if not error.ids and categories and type_ids:
                keys = [_spec_key(c, t) for c, t in zip(categories, type_ids, strict=False)]
                error = attrs.evolve(error, context={**error.context, "ids": keys})
            errors.append(error)
        seen = {_spec_key(r.category.value, r.type_id) for r in page.results}
        seen.update(i for e in errors for i in e.ids)
        missing = [key for key in chunk.context["ids"] if key not in seen]
        if missing:
            errors.append(
                BatchError(
                    category="INVALID_RESPONSE",
                    message="HubSpot's answer neither confirmed nor reported these limits",
                    context={"ids": missing},
                )
            )
        return attrs.evolve(page, errors=errors)


def limit_plan(
    limits: Sequence[tuple[Any, int]], chunk_size: int, path: str
) -> _WritePlan[LimitConfiguration]:
    """Plan configurations ``batch/create`` or ``batch/update``: ``{category, typeId, maxToObjectIds}``."""
    chunks = [
        Chunk(
            dumps(
                {
                    "inputs": [
                        {"category": s.category.value, "typeId": s.type_id, "maxToObjectIds": m}
                        for s, m in part
                    ]
                }
            ),
            len(part),
            {
                "ids": [_spec_key(s.category.value, s.type_id) for s, _ in part],
                "category": [s.category.value for s, _ in part],
                "typeId": [str(s.type_id) for s, _ in part],
            },
            inputs=part,
        )
        for part in _split(limits, chunk_size)
    ]
    return _LimitPlan(path, chunks, LimitConfiguration)


class RecordPlan:
    """One record's associations: GET a page, then the next with its ``after``, until none.

    Pages are fetched one after another (each needs the previous one's cursor). A
    cursor HubSpot sends twice ends the read with a ``REPEATED_CURSOR`` error, as for
    batch read; the pages before it are kept.
    """

    def __init__(self, from_id: str, path: str, limit: int) -> None:
        self.path = path
        self.total = 1
        self.finished = 0
        self._from_id = from_id
        self._limit = limit
        self._after: str | None = None
        self._ready = True
        self._sent: set[str] = set()

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
        """Parse a page and queue the next one if ``paging.next.after`` is there."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("results"), list):
            raise ResponseShapeError("expected a JSON object with a 'results' array")
        try:
            results = [converter.structure(r, AssociatedObject) for r in raw["results"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ResponseShapeError(f"unexpected results: {exc!r}") from None
        paging = raw.get("paging")
        following = paging.get("next") if isinstance(paging, Mapping) else None
        after = following.get("after") if isinstance(following, Mapping) else None
        errors: list[BatchError] = []
        if after is None:
            self.finished = 1
        elif str(after) in self._sent:
            self.finished = 1
            errors.append(
                BatchError(
                    category="PAGING_ERROR",
                    sub_category=REPEATED_CURSOR,
                    message=(
                        "HubSpot returned a paging cursor it had already returned; stopped "
                        "following it so the read cannot loop forever. The pages read before "
                        "it are in the results."
                    ),
                    context={"ids": [self._from_id]},
                )
            )
        else:
            self._after = str(after)
            self._sent.add(self._after)
            self._ready = True
        return BatchResult(status=BatchStatus.COMPLETE, results=results, errors=errors)

    def fail(self, chunk: Chunk, error: BatchError) -> BatchResult[AssociatedObject]:
        """A failed page ends the read; the error names the record."""
        self.finished = 1
        return _failed_page(error)
