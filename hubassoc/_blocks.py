"""One block of a job: the batch call it makes, and what it leaves behind.

A block's outcome is plain data, so that any store can keep it: the output lines
(JSON text, one per association read or created, in HubSpot's result shapes) and the
inputs that failed, in the job's own input form (an id, a ``[from, to]`` pair or a
``[category, typeId]`` spec). Running a block twice gives the same kind of outcome, and
stores keep one outcome per block index, so a block that is run again replaces what
it wrote rather than adding to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import attrs

from . import _validation as validate
from ._exceptions import InvalidInputError
from ._models import (
    AssociationCategory,
    AssociationRead,
    AssociationSpec,
    BatchError,
    BatchResult,
    DefaultAssociation,
    Progress,
)

__all__ = ["OPERATIONS", "BlockResult", "Operation", "clean_inputs", "run_block"]

Operation = Literal["read", "associate", "archive", "purge"]
#: What a job can do, one batch endpoint each.
OPERATIONS: Final[tuple[Operation, ...]] = ("read", "associate", "archive", "purge")
Pair = tuple[str, str]
SpecRow = tuple[str, int]
_TYPE_ID: Final = re.compile(r"[0-9]{1,10}")


@attrs.frozen
class BlockResult:
    """What one finished block leaves: its output lines and its failed inputs.

    Attributes:
        index: the block's number in its job, from 0.
        lines: output lines, JSON text without a newline: one per from-id read
            (HubSpot's batch-read shape, every page merged) or per association created.
            Empty for archive and purge.
        failed: the block's inputs that failed, in block order: ids (read), ``(from,
            to)`` pairs (associate, archive) or ``(category, typeId)`` specs (purge).
    """

    index: int
    lines: list[str] = attrs.Factory(list)
    failed: list[Any] = attrs.Factory(list)


def clean_inputs(operation: str, inputs: Any) -> list[Any]:
    """Validated, deduplicated inputs in a JSON-friendly form, in input order.

    Ids become str, pairs ``(from, to)`` tuples of str, specs ``(CATEGORY, typeId)``.
    """
    if operation == "read":
        return validate.ids(inputs)
    if operation in ("associate", "archive"):
        return validate.pairs(inputs)
    if operation == "purge":
        return [(str(s.category.value), s.type_id) for s in validate.specs(inputs)]
    raise InvalidInputError(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")


def from_json(operation: str, items: Sequence[Any]) -> list[Any]:
    """Inputs read back from JSON (where tuples became lists), as :func:`clean_inputs` gives them."""
    if operation == "read":
        return [str(i) for i in items]
    if operation == "purge":
        return [(str(c), int(t)) for c, t in items]
    return [(str(f), str(t)) for f, t in items]


# ---------------------------------------------------------------------------- output lines


def read_line(item: AssociationRead) -> str:
    """One from-id's associations in HubSpot's batch-read shape, every page merged."""
    return json.dumps(
        {
            "from": {"id": item.from_id},
            "to": [
                {
                    "toObjectId": to.to_object_id,
                    "associationTypes": [
                        {"category": str(t.category.value), "typeId": t.type_id, "label": t.label}
                        for t in to.association_types
                    ],
                }
                for to in item.to
            ],
        }
    )


def associate_line(item: DefaultAssociation) -> str:
    """One created association in HubSpot's associate/default result shape."""
    spec = item.association_spec
    return json.dumps(
        {
            "from": {"id": item.from_id},
            "to": {"id": item.to_id},
            "associationSpec": {
                "associationCategory": str(spec.category.value),
                "associationTypeId": spec.type_id,
            },
        }
    )


# ---------------------------------------------------------------------------- failed inputs


def failed_ids(result: BatchResult[Any], block: Sequence[str]) -> list[str]:
    """The ids of ``block`` that a read failed for, in block order.

    A failure naming no id of the block (HubSpot sent an error this code cannot map)
    fails the whole block: re-reading an id is harmless, losing one is not.
    """
    asked = set(block)
    failed: set[str] = set()
    for error in result.failures:
        named = asked.intersection(error.ids)
        if not named:
            return list(block)
        failed.update(named)
    return [i for i in block if i in failed]


def _error_pairs(error: BatchError) -> set[Pair] | None:
    context = error.context
    for from_key, to_key in (("ids", "toIds"), ("fromObjectId", "toObjectId")):
        froms, tos = context.get(from_key), context.get(to_key)
        if froms and tos:
            if len(froms) == len(tos):
                return set(zip(froms, tos, strict=True))
            # One from-id with several to-ids (an archive input), or the other way round.
            return {(f, t) for f in froms for t in tos}
    return None


def failed_pairs(result: BatchResult[Any], block: Sequence[Pair]) -> list[Pair]:
    """The pairs of ``block`` a write failed for, in block order.

    Chunk failures carry aligned ``context["ids"]``/``["toIds"]``; HubSpot's per-input
    errors carry ``fromObjectId``/``toObjectId``; an error naming only from-ids fails
    every pair of those from-ids. Anything unmappable fails the whole block (writes
    are idempotent, so re-running a pair that succeeded is harmless).
    """
    asked = set(block)
    failed: set[Pair] = set()
    for error in result.failures:
        pairs = _error_pairs(error)
        if pairs is None:
            froms = set(error.ids)
            pairs = {p for p in block if p[0] in froms}
        named = asked.intersection(pairs)
        if not named:
            return list(block)
        failed.update(named)
    return [p for p in block if p in failed]


def failed_specs(result: BatchResult[Any], block: Sequence[SpecRow]) -> list[SpecRow]:
    """The specs of ``block`` a purge failed for, in block order (the whole block if unmappable)."""
    asked = set(block)
    failed: set[SpecRow] = set()
    for error in result.failures:
        categories, type_ids = error.context.get("category"), error.context.get("typeId")
        named: set[SpecRow] = set()
        if categories and type_ids and len(categories) == len(type_ids):
            for category, type_id in zip(categories, type_ids, strict=True):
                if _TYPE_ID.fullmatch(type_id):
                    named.add((category, int(type_id)))
        named &= asked
        if not named:
            return list(block)
        failed.update(named)
    return [s for s in block if s in failed]


# ---------------------------------------------------------------------------- running


async def run_block(
    client: Any,
    operation: str,
    from_type: str,
    to_type: str,
    index: int,
    block: list[Any],
    on_progress: Callable[[Progress], object] | None = None,
) -> BlockResult:
    """Run one block through ``client`` (a :class:`hubassoc.Client`).

    Raises what the operation raises when HubSpot stops it (:class:`hubassoc.APIError`):
    a stopped block has no outcome and is run again in full.
    """
    if operation == "read":
        read = await client.read(from_type, to_type, block, on_progress=on_progress)
        failed = failed_ids(read, block)
        # A failed id may have some of its pages here; leaving it out means a re-run of
        # the failed ids yields it whole, once.
        skip, asked = set(failed), set(block)
        lines = [read_line(r) for r in read.results if r.from_id in asked and r.from_id not in skip]
        return BlockResult(index, lines, failed)
    if operation == "associate":
        made = await client.associate_default(from_type, to_type, block, on_progress=on_progress)
        return BlockResult(
            index, [associate_line(r) for r in made.results], failed_pairs(made, block)
        )
    if operation == "archive":
        gone = await client.archive(from_type, to_type, block, on_progress=on_progress)
        return BlockResult(index, [], failed_pairs(gone, block))
    if operation == "purge":
        specs = [AssociationSpec(AssociationCategory(c), t) for c, t in block]
        purged = await client.purge_configurations(
            from_type, to_type, specs, on_progress=on_progress
        )
        return BlockResult(index, [], failed_specs(purged, block))
    raise InvalidInputError(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
