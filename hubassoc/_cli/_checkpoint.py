"""The checkpoint file that makes a job resumable."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from .._stores import _fsync_directory


class CheckpointError(Exception):
    """A checkpoint that does not belong to this job, or output files that do not match it."""


@attrs.define
class CheckpointState:
    """What a checkpoint says is done: block indexes, file sizes, and running totals."""

    done: set[int] = attrs.Factory(set)
    out_size: int = 0
    failed_size: int = 0
    lines: int = 0
    failed_inputs: int = 0
    valid_bytes: int = 0


_CHECKPOINT_VERSION: Final = 1


def fingerprint(parts: dict[str, Any], items: Sequence[Any]) -> str:
    """A digest of everything that decides what a job writes: arguments and inputs."""
    digest = hashlib.sha256()
    digest.update(json.dumps(parts, sort_keys=True).encode())
    for item in items:
        digest.update(b"\n")
        digest.update(json.dumps(item).encode())
    return digest.hexdigest()


def load_checkpoint(path: Path, fingerprint: str, blocks: int) -> CheckpointState | None:
    """Read a checkpoint; None if the file is missing or empty.

    Records are whole lines; a torn last line (the process died mid-write) is ignored
    and ``valid_bytes`` says where the good part ends. Raises :class:`CheckpointError`
    when the checkpoint was written for a different job.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.strip():
        return None
    state = CheckpointState()
    offset = 0
    for index, line in enumerate(data.split(b"\n")):
        end = offset + len(line) + 1
        if end > len(data):  # no newline: torn
            break
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if index == 0:
            if (
                not isinstance(record, dict)
                or record.get("hubassoc_checkpoint") != _CHECKPOINT_VERSION
            ):
                raise CheckpointError(f"{path} is not a hubassoc checkpoint")
            if record.get("fingerprint") != fingerprint or record.get("blocks") != blocks:
                raise CheckpointError(
                    f"{path} was written by a job with other arguments or other input; "
                    "run that job again, or delete the checkpoint to start over"
                )
        else:
            fields = ("block", "out", "failed", "lines", "failed_inputs")
            if not isinstance(record, dict) or not all(
                isinstance(record.get(k), int) and not isinstance(record.get(k), bool)
                for k in fields
            ):
                break
            if not 0 <= record["block"] < blocks:
                break
            state.done.add(record["block"])
            state.out_size = record["out"]
            state.failed_size = record["failed"]
            state.lines += record["lines"]
            state.failed_inputs += record["failed_inputs"]
        offset = end
        state.valid_bytes = offset
    if state.valid_bytes == 0:
        raise CheckpointError(f"{path} is not a hubassoc checkpoint")
    return state


class Checkpoint:
    """An append-only checkpoint file: a header line, then one line per finished block.

    Every line is flushed and fsynced before :meth:`record` returns, after the output it
    describes was, so the checkpoint never claims more than the files hold.
    """

    def __init__(self, path: Path, fingerprint: str, blocks: int) -> None:
        self.path = path
        self._fingerprint = fingerprint
        self._blocks = blocks
        self._file: IO[bytes] | None = None

    def open(self) -> CheckpointState:
        """Load the state, dropping a torn last line, or start a new checkpoint."""
        state = load_checkpoint(self.path, self._fingerprint, self._blocks)
        if state is None:
            self._file = self.path.open("wb")
            header = {
                "hubassoc_checkpoint": _CHECKPOINT_VERSION,
                "fingerprint": self._fingerprint,
                "blocks": self._blocks,
            }
            self._append(header)
            _fsync_directory(self.path)
            return CheckpointState()
        self._file = self.path.open("r+b")
        self._file.truncate(state.valid_bytes)
        self._file.seek(state.valid_bytes)
        return state

    def _append(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(record).encode() + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def record(self, block: int, *, out: int, failed: int, lines: int, failed_inputs: int) -> None:
        """Record ``block`` as done, with the sizes of the output files after it."""
        self._append(
            {
                "block": block,
                "out": out,
                "failed": failed,
                "lines": lines,
                "failed_inputs": failed_inputs,
            }
        )

    def close(self) -> None:
        """Close the file; the checkpoint stays on disk."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def remove(self) -> None:
        """Close and delete the checkpoint (the job is finished)."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
