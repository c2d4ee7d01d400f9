"""Write plans, free of I/O: one request body per chunk, and answers checked against it.

Every write whose success answer lists what it did (associate default, batch create,
limit create and update) must account for each input it was sent: a result for it, or
an error naming it. A result for an input that was never sent is reported, not kept,
and an input the answer leaves out is named by an ``INVALID_RESPONSE`` error so the
caller can re-run exactly those (:func:`unconfirmed_pairs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, Protocol, TypeVar

import attrs

from ._batch import Chunk, _path, _split, _WritePlan, unasked_error
from ._codec import dumps
from ._models import (
    AssociationSpec,
    BatchError,
    BatchResult,
    DefaultAssociation,
    LabelledAssociation,
    LimitConfiguration,
)
from ._validation import Pair, TypedPair

__all__ = [
    "ConfirmingPlan",
    "archive_plan",
    "associate_plan",
    "create_plan",
    "labels_archive_plan",
    "limit_plan",
    "purge_plan",
    "unconfirmed_pairs",
]


class _PairResult(Protocol):
    @property
    def from_id(self) -> str: ...

    @property
    def to_id(self) -> str: ...


P = TypeVar("P", bound=_PairResult)
_FROM_ID = attrgetter("from_id")
_TO_ID = attrgetter("to_id")


def _pair_context(pairs: Sequence[Pair]) -> dict[str, list[str]]:
    # ids and toIds are aligned: the i-th failed pair is (ids[i], toIds[i]).
    return {"ids": [f for f, _ in pairs], "toIds": [t for _, t in pairs]}


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


class ConfirmingPlan(_WritePlan[P]):
    """A write plan whose answers must account for every pair sent.

    A result for a pair that was not sent (nor its reverse: HubSpot may report the
    inverse direction of a pair it created) is reported, not kept; a pair given twice
    is kept once; a sent pair the answer neither confirmed nor reported is named by an
    ``INVALID_RESPONSE`` error (see :func:`unconfirmed_pairs`).
    """

    def complete(self, chunk: Chunk, raw: Any) -> BatchResult[P]:
        """Parse the page, keep what was asked, and add an error for any pair left out."""
        page = super().complete(chunk, raw)
        sent = set(zip(chunk.context["ids"], chunk.context["toIds"], strict=True))
        results = page.results
        keys = list(zip(map(_FROM_ID, results), map(_TO_ID, results), strict=True))
        kept: dict[Pair, P] = dict(zip(keys, results, strict=True))
        unasked: list[Pair] = []
        if len(kept) != len(results) or not kept.keys() <= sent:
            # A result for a pair not sent as such (reversed, unasked) or given twice:
            # key by key. Sent pairs left out are found below either way.
            kept = {}
            for key, r in zip(keys, results, strict=True):
                if key in sent or (key[1], key[0]) in sent:
                    kept.setdefault(key, r)
                else:
                    unasked.append(key)
        errors = list(page.errors)
        if unasked:
            errors.append(
                unasked_error(
                    "pairs",
                    {
                        "unaskedIds": [f for f, _ in unasked],
                        "unaskedToIds": [t for _, t in unasked],
                    },
                )
            )
        extra: BatchError | None = None
        if kept.keys() != sent:  # else every pair sent is confirmed, as sent
            confirmed = [*kept, *((t, f) for f, t in kept)]
            extra = unconfirmed_pairs(chunk, confirmed, errors)
        if extra is not None:
            errors.append(extra)
        if not unasked and extra is None and len(kept) == len(page.results):
            return page
        return attrs.evolve(page, results=list(kept.values()), errors=errors)


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


def create_plan(
    items: Sequence[TypedPair], chunk_size: int, path: str
) -> ConfirmingPlan[LabelledAssociation]:
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


def associate_plan(
    from_type: str,
    to_type: str,
    pairs: Sequence[Pair],
    chunk_size: int,
    *,
    path: str | None = None,
) -> ConfirmingPlan[DefaultAssociation]:
    """Plan batch/associate/default: one input per pair, each confirmed by the answer."""
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
    return ConfirmingPlan(path, chunks, DefaultAssociation)


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
