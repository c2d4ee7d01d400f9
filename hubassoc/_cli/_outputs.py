"""The command line's own output lines (created pairs, labels) and the files outputs are appended to.

Read and associate lines and the failed-input mapping are the library's (:mod:`hubassoc._blocks`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO

from .._models import (
    AssociationType,
    LabelledAssociation,
)
from ._checkpoint import CheckpointError

# ---------------------------------------------------------------------------- output lines


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
