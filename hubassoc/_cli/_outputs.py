"""Output lines, the inputs a result says failed, and the files both are appended to."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .._models import (
    AssociationRead,
    AssociationType,
    BatchError,
    BatchResult,
    DefaultAssociation,
    LabelledAssociation,
)
from ._checkpoint import CheckpointError
from ._inputs import _TYPE_ID, Pair, SpecRow

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


def create_line(item: LabelledAssociation) -> str:
    """One pair ``batch/create`` associated, in HubSpot's result shape, with all its labels."""
    return json.dumps(
        {
            "fromObjectTypeId": item.from_object_type_id,
            "fromObjectId": item.from_id,
            "toObjectTypeId": item.to_object_type_id,
            "toObjectId": item.to_id,
            "labels": item.labels,
        }
    )


def label_line(item: AssociationType) -> str:
    """One label definition in HubSpot's shape (``label`` is null for the unlabelled type)."""
    return json.dumps(
        {"category": str(item.category.value), "typeId": item.type_id, "label": item.label}
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


# ---------------------------------------------------------------------------- output files


class _Sink:
    """An output appended to block by block: a file (flushed and fsynced) or stdout."""

    def __init__(self, path: str | None, *, name: str) -> None:
        self.path = None if path in (None, "-") else Path(path)
        self.name = name
        self.size = 0
        self._file: IO[bytes] | None = None

    def open(self, keep: int) -> None:
        """Open for appending, cut back to its first ``keep`` bytes."""
        if self.path is None:
            return
        if keep:
            try:
                actual = self.path.stat().st_size
            except FileNotFoundError:
                actual = -1
            if actual < keep:
                raise CheckpointError(
                    f"{self.name} file {self.path} is shorter than the checkpoint says it was "
                    "(was it changed or deleted?); delete the checkpoint to start over"
                )
            self._file = self.path.open("r+b")
        else:
            self._file = self.path.open("wb")
        self._file.truncate(keep)
        self._file.seek(keep)
        self.size = keep

    def append(self, data: bytes) -> None:
        """Append ``data`` and make it durable before returning."""
        if not data:
            return
        if self.path is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        assert self._file is not None
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())
        self.size += len(data)

    def close(self) -> None:
        """Close the file (stdout stays open)."""
        if self._file is not None:
            self._file.close()
            self._file = None
