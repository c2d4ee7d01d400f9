"""The ``hubassoc`` command line: bulk reads and writes from files, with progress and resume.

Usage::

    hubassoc read FROM TO --ids FILE|-          [options]   JSON Lines of associations
    hubassoc associate FROM TO --pairs FILE|-   [options]   CSV (from,to) or JSONL
    hubassoc archive FROM TO --pairs FILE|-     [options]
    hubassoc purge FROM TO --specs FILE|-       [options]   CSV (category,typeId) or JSONL
    hubassoc emulator [--port P] [--seed-demo] ...          the built-in HubSpot emulator
    hubassoc demo                                           the quickstart, against the emulator

A job is split into *blocks* of ``--chunk-size`` inputs, one request's worth each. Up to
``--concurrency`` blocks run at once through one shared :class:`hubassoc.Client`; when a
block finishes, its output lines and failed inputs are appended to ``--out`` and
``--failed`` (flushed and fsynced), and then, with ``--checkpoint``, the block is recorded
as done together with the byte sizes both files had reached. A restarted job skips the
recorded blocks and cuts both files back to the recorded sizes, so a block that was half
written when the job died is written again exactly once.

Exit status: 0 every input done, 1 some inputs failed (or HubSpot stopped the job),
2 bad usage or a bad input file, 128 + the signal number when stopped by SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import hashlib
import io
import json
import logging
import math
import os
import re
import signal
import sys
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Final, Generic, Literal, TextIO, TypeVar

import attrs

from ._argtypes import positive_int, seconds
from ._auth import OAuthToken, TokenSource
from ._client import DEFAULT_BASE_URL, DEFAULT_WRITE_CHUNK_SIZE, READ_LIMIT, TOKEN_ENV, Client
from ._exceptions import HubSpotError, InvalidInputError
from ._models import (
    AssociationCategory,
    AssociationRead,
    AssociationSpec,
    BatchError,
    BatchResult,
    DefaultAssociation,
    Progress,
)
from ._ratelimit import RateLimit
from ._version import __version__

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Checkpoint",
    "CheckpointError",
    "CheckpointState",
    "InputError",
    "InputFormat",
    "ParsedInput",
    "ProgressReporter",
    "associate_line",
    "build_parser",
    "failed_ids",
    "failed_pairs",
    "failed_specs",
    "fingerprint",
    "format_inputs",
    "load_checkpoint",
    "main",
    "parse_ids",
    "parse_pairs",
    "parse_specs",
    "progress_text",
    "read_input",
    "read_line",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

T = TypeVar("T")
Pair = tuple[str, str]
SpecRow = tuple[str, int]
Kind = Literal["ids", "pairs", "specs"]

_PROG = "hubassoc"
CLIENT_ID_ENV: Final = "HUBSPOT_CLIENT_ID"
CLIENT_SECRET_ENV: Final = "HUBSPOT_CLIENT_SECRET"
REFRESH_TOKEN_ENV: Final = "HUBSPOT_REFRESH_TOKEN"
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
_OBJECT_TYPE = re.compile(r"[A-Za-z0-9_-]+")
_CATEGORY = re.compile(r"[A-Za-z_]{1,64}")
_TYPE_ID = re.compile(r"[0-9]{1,10}")
_HEADER_NAMES: Final[dict[Kind, dict[str, str]]] = {
    "ids": {},
    "pairs": {
        "from": "from",
        "fromid": "from",
        "fromobjectid": "from",
        "to": "to",
        "toid": "to",
        "toobjectid": "to",
    },
    "specs": {
        "category": "category",
        "associationcategory": "category",
        "typeid": "typeId",
        "associationtypeid": "typeId",
    },
}
_COLUMNS: Final[dict[Kind, tuple[str, ...]]] = {
    "ids": ("id",),
    "pairs": ("from", "to"),
    "specs": ("category", "typeId"),
}


# ---------------------------------------------------------------------------- input files


class InputError(Exception):
    """An input file that cannot be used; names the line when one is to blame."""

    def __init__(self, message: str, line: int | None = None, source: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.source = source

    def __str__(self) -> str:
        where = self.source or "input"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


@attrs.frozen
class InputFormat:
    """How an input file was written, so failed inputs can be written back the same way.

    ``format`` is ``"lines"`` (one id a line), ``"csv"`` or ``"jsonl"``; ``header`` is
    the CSV header row as written (None without one) and ``columns`` the canonical field
    names in the file's column order.
    """

    kind: Kind
    format: Literal["lines", "csv", "jsonl"]
    header: tuple[str, ...] | None = None
    columns: tuple[str, ...] = ()


@attrs.frozen
class ParsedInput(Generic[T]):
    """Inputs read from a file: deduplicated, in file order, and the file's format."""

    format: InputFormat
    items: list[T]
    duplicates: int = 0


def _decoded_lines(data: bytes, source: str) -> list[str]:
    """Split into lines, decoding each on its own so an error names its line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    lines: list[str] = []
    for number, raw in enumerate(raw_lines, 1):
        try:
            lines.append(raw.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError:
            raise InputError("not valid UTF-8", number, source) from None
    return lines


def _check_id(value: Any, what: str, number: int, source: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, dict) and set(value) == {"id"}:
        return _check_id(value["id"], what, number, source)
    if not isinstance(value, str) or not _ID.fullmatch(value.strip()):
        shown = value if isinstance(value, str) else json.dumps(value)
        raise InputError(
            f"{what} must be an object id (letters, digits, '_', '.', ':' or '-'), got {shown[:60]!r}",
            number,
            source,
        )
    return value.strip()


def _dedupe(items: list[T]) -> tuple[list[T], int]:
    unique = list(dict.fromkeys(items))
    return unique, len(items) - len(unique)


def parse_ids(lines: Iterable[str], source: str = "") -> ParsedInput[str]:
    """One id a line; blank lines are skipped, duplicates dropped (first one kept)."""
    items: list[str] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text:
            items.append(_check_id(text, "an id", number, source))
    unique, duplicates = _dedupe(items)
    return ParsedInput(InputFormat("ids", "lines", None, ("id",)), unique, duplicates)


def _rows(
    lines: Iterable[str], kind: Kind, source: str
) -> tuple[InputFormat, list[tuple[int, dict[str, Any]]]]:
    """Read CSV or JSONL rows as ``(line number, {canonical field: value})``."""
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    columns = _COLUMNS[kind]
    if not numbered:
        return InputFormat(kind, "csv", None, columns), []
    if numbered[0][1].lstrip().startswith("{"):
        return InputFormat(kind, "jsonl", None, columns), _json_rows(numbered, kind, source)
    names = _HEADER_NAMES[kind]
    rows: list[tuple[int, dict[str, Any]]] = []
    header: tuple[str, ...] | None = None
    order = columns
    for index, (number, line) in enumerate(numbered):
        try:
            fields = [f.strip() for f in next(csv.reader([line], strict=True))]
        except csv.Error as exc:
            raise InputError(f"not valid CSV ({exc})", number, source) from None
        if len(fields) != len(columns):
            raise InputError(
                f"expected {len(columns)} comma-separated fields ({','.join(columns)}), "
                f"got {len(fields)}",
                number,
                source,
            )
        if index == 0:
            canonical = [names.get(re.sub(r"[^a-z]", "", f.lower())) for f in fields]
            # One column name is enough to call it a header: no object id reads "from".
            if any(canonical):
                if set(canonical) != set(columns):
                    raise InputError(
                        f"the header must name the columns {' and '.join(columns)}",
                        number,
                        source,
                    )
                header = tuple(fields)
                order = tuple(c for c in canonical if c is not None)
                continue
        rows.append((number, dict(zip(order, fields, strict=True))))
    return InputFormat(kind, "csv", header, order), rows


def _json_rows(
    numbered: list[tuple[int, str]], kind: Kind, source: str
) -> list[tuple[int, dict[str, Any]]]:
    columns = _COLUMNS[kind]
    aliases: dict[str, tuple[str, ...]] = {"from": ("from",), "to": ("to",)}
    if kind == "specs":
        aliases = {
            "category": ("category", "associationCategory"),
            "typeId": ("typeId", "associationTypeId"),
        }
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in numbered:
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", number, source) from None
        if not isinstance(value, dict):
            raise InputError(
                f"expected a JSON object with {' and '.join(map(repr, columns))}", number, source
            )
        row: dict[str, Any] = {}
        for column in columns:
            found = [value[key] for key in aliases[column] if key in value]
            if not found:
                raise InputError(f"missing {column!r}", number, source)
            row[column] = found[0]
        rows.append((number, row))
    return rows


def parse_pairs(lines: Iterable[str], source: str = "") -> ParsedInput[Pair]:
    """``from,to`` CSV with an optional header, or JSONL ``{"from": "1", "to": "2"}``."""
    fmt, rows = _rows(lines, "pairs", source)
    items = [
        (
            _check_id(row["from"], "'from'", number, source),
            _check_id(row["to"], "'to'", number, source),
        )
        for number, row in rows
    ]
    unique, duplicates = _dedupe(items)
    return ParsedInput(fmt, unique, duplicates)


def parse_specs(lines: Iterable[str], source: str = "") -> ParsedInput[SpecRow]:
    """``category,typeId`` CSV with an optional header, or JSONL ``{"category", "typeId"}``."""
    fmt, rows = _rows(lines, "specs", source)
    items: list[SpecRow] = []
    for number, row in rows:
        category, type_id = row["category"], row["typeId"]
        if not isinstance(category, str) or not _CATEGORY.fullmatch(category):
            raise InputError(
                f"'category' must be a word such as USER_DEFINED, got {category!r}", number, source
            )
        if isinstance(type_id, str) and _TYPE_ID.fullmatch(type_id):
            type_id = int(type_id)
        if isinstance(type_id, bool) or not isinstance(type_id, int) or type_id < 0:
            raise InputError(
                f"'typeId' must be a whole number >= 0, got {type_id!r}", number, source
            )
        items.append((category.upper(), type_id))
    unique, duplicates = _dedupe(items)
    return ParsedInput(fmt, unique, duplicates)


def format_inputs(fmt: InputFormat, items: Sequence[Any], *, header: bool) -> str:
    """Write ``items`` the way ``fmt`` says, so the text parses back to the same inputs."""
    if fmt.format == "lines":
        return "".join(f"{item}\n" for item in items)
    if fmt.format == "jsonl":
        return "".join(
            json.dumps(dict(zip(fmt.columns, _as_row(fmt.kind, item), strict=True))) + "\n"
            for item in items
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header and fmt.header is not None:
        writer.writerow(fmt.header)
    for item in items:
        row = dict(zip(_COLUMNS[fmt.kind], _as_row(fmt.kind, item), strict=True))
        writer.writerow([row[column] for column in fmt.columns])
    return buffer.getvalue()


def _as_row(kind: Kind, item: Any) -> tuple[Any, ...]:
    return (item,) if kind == "ids" else tuple(item)


def read_input(path: str, kind: Kind, stdin: IO[bytes] | None = None) -> ParsedInput[Any]:
    """Read and parse an input file (``-`` is standard input)."""
    source = "<stdin>" if path == "-" else path
    try:
        data = (stdin or sys.stdin.buffer).read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), None, source) from None
    lines = _decoded_lines(data, source)
    parser: dict[Kind, Callable[[list[str], str], ParsedInput[Any]]] = {
        "ids": parse_ids,
        "pairs": parse_pairs,
        "specs": parse_specs,
    }
    return parser[kind](lines, source)


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


# ---------------------------------------------------------------------------- checkpoint


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


def _fsync_directory(path: Path) -> None:
    # A new file's directory entry is durable only once its directory is synced (POSIX).
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


# ---------------------------------------------------------------------------- progress


def _count(n: int) -> str:
    return f"{n:,}"


def _counted(n: int, singular: str, plural: str) -> str:
    return f"{n:,} {singular if n == 1 else plural}"


def progress_text(
    *,
    done: int,
    total: int,
    unit: str,
    failed: int,
    calls: int,
    retries: int,
    rate: float | None,
) -> str:
    """``4,000/10,000 ids (40%), 3 failed, 12 requests, 1 retry, 2,130 ids/s``."""
    percent = math.floor(100 * done / total) if total else 100
    parts = [f"{_count(done)}/{_count(total)} {unit} ({percent}%)"]
    if failed:
        parts.append(f"{_count(failed)} failed")
    parts.append(_counted(calls, "request", "requests"))
    parts.append(_counted(retries, "retry", "retries"))
    if rate is not None:
        parts.append(f"{_count(round(rate))} {unit}/s")
    return ", ".join(parts)


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = width if not total else min(width, width * done // total)
    return "[" + "#" * filled + "." * (width - filled) + "]"


@attrs.define
class _Live:
    done: int = 0
    calls: int = 0
    retries: int = 0


class ProgressReporter:
    """Progress of a whole job, fed by each block's ``on_progress`` callback.

    On a terminal it redraws one line (``\\r``) at most every ``redraw`` seconds; on
    anything else it writes a plain line at most every ``interval`` seconds, plus one
    at the start and one at the end, for log files and schedulers.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        operation: str,
        unit: str,
        total: int,
        already_done: int,
        already_failed: int,
        tty: bool,
        interval: float,
        redraw: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._operation = operation
        self._unit = unit
        self._total = total
        self._base = already_done
        self._done = already_done
        self._failed = already_failed
        self._calls = 0
        self._retries = 0
        self._tty = tty
        self._every = redraw if tty else interval
        self._clock = clock
        self._started = clock()
        self._last = -math.inf
        self._live: dict[int, _Live] = {}
        self._drawn = False
        self._shown: tuple[int, ...] | None = None

    @property
    def calls(self) -> int:
        """Requests sent by this run, retries included."""
        return self._calls

    @property
    def retries(self) -> int:
        """Retries made by this run."""
        return self._retries

    def start(self) -> None:
        """Show the starting point."""
        self._emit(force=True)

    def block_progress(self, block: int, progress: Progress) -> None:
        """Take one block's :class:`hubassoc.Progress`; totals move by its change."""
        live = self._live.setdefault(block, _Live())
        self._done += progress.inputs_done - live.done
        self._calls += progress.calls - live.calls
        self._retries += progress.retries - live.retries
        live.done, live.calls, live.retries = progress.inputs_done, progress.calls, progress.retries
        self._emit()

    def block_finished(self, block: int, size: int, failed: int) -> None:
        """Count a committed block as wholly done, ``failed`` of its inputs failed."""
        live = self._live.pop(block, _Live())
        self._done += size - live.done
        self._failed += failed
        self._emit()

    def log(self, message: str) -> None:
        """Write a line without tearing the progress bar."""
        if self._tty and self._drawn:
            self._stream.write("\r\x1b[K")
        self._stream.write(message + "\n")
        self._stream.flush()
        if self._tty and self._drawn:
            self._emit(force=True)

    def finish(self) -> None:
        """Show the final state and end the bar's line."""
        self._emit(force=True)
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False

    def _emit(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last < self._every:
            return
        shown = (self._done, self._failed, self._calls, self._retries)
        if not self._tty and shown == self._shown:
            return  # a log line that repeats the previous one says nothing
        self._last = now
        self._shown = shown
        elapsed = now - self._started
        moved = self._done - self._base
        rate = moved / elapsed if moved and elapsed > 0 else None
        text = progress_text(
            done=self._done,
            total=self._total,
            unit=self._unit,
            failed=self._failed,
            calls=self._calls,
            retries=self._retries,
            rate=rate,
        )
        if self._tty:
            bar = _bar(self._done, self._total)
            self._stream.write(f"\r{_PROG} {self._operation} {bar} {text}\x1b[K")
            self._drawn = True
        else:
            self._stream.write(f"{_PROG} {self._operation}: {text}\n")
        self._stream.flush()


class _ReporterLogHandler(logging.Handler):
    """Routes the library's log records through the reporter, so the bar stays whole."""

    def __init__(self, reporter: ProgressReporter) -> None:
        super().__init__()
        self._reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        self._reporter.log(f"{_PROG}: {record.levelname.lower()}: {record.getMessage()}")


# ---------------------------------------------------------------------------- the job


@attrs.frozen
class _BlockOutcome:
    output: list[str]
    failed: list[Any]


_BlockRunner = Callable[
    [Client, str, str, list[Any], Callable[[Progress], object]], Awaitable[_BlockOutcome]
]


async def _read_block(
    client: Client, from_type: str, to_type: str, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    result = await client.read(from_type, to_type, block, on_progress=report)
    failed = failed_ids(result, block)
    # A failed id may have some pages in the result; leave it out so that re-running
    # the --failed file yields it whole, once.
    skip = set(failed)
    asked = set(block)
    output = [read_line(r) for r in result.results if r.from_id in asked and r.from_id not in skip]
    return _BlockOutcome(output, failed)


async def _associate_block(
    client: Client, from_type: str, to_type: str, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    result = await client.associate_default(from_type, to_type, block, on_progress=report)
    return _BlockOutcome([associate_line(r) for r in result.results], failed_pairs(result, block))


async def _archive_block(
    client: Client, from_type: str, to_type: str, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    result = await client.archive(from_type, to_type, block, on_progress=report)
    return _BlockOutcome([], failed_pairs(result, block))


async def _purge_block(
    client: Client, from_type: str, to_type: str, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    specs = [AssociationSpec(AssociationCategory(c), t) for c, t in block]
    result = await client.purge_configurations(from_type, to_type, specs, on_progress=report)
    return _BlockOutcome([], failed_specs(result, block))


@attrs.frozen
class _Command:
    kind: Kind
    unit: str
    singular: str
    option: str
    runner: _BlockRunner
    default_chunk: int
    max_chunk: int | None
    writes_output: bool

    @property
    def units(self) -> tuple[str, str]:
        """The input unit, singular and plural."""
        return self.singular, self.unit


_COMMANDS: Final[dict[str, _Command]] = {
    "read": _Command("ids", "ids", "id", "--ids", _read_block, READ_LIMIT, READ_LIMIT, True),
    "associate": _Command(
        "pairs", "pairs", "pair", "--pairs", _associate_block, DEFAULT_WRITE_CHUNK_SIZE, None, True
    ),
    "archive": _Command(
        "pairs", "pairs", "pair", "--pairs", _archive_block, DEFAULT_WRITE_CHUNK_SIZE, None, False
    ),
    "purge": _Command(
        "specs", "specs", "spec", "--specs", _purge_block, DEFAULT_WRITE_CHUNK_SIZE, None, False
    ),
}


class _Stop:
    """Turns SIGINT/SIGTERM into a cancellation of the job, remembering which signal."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._task: asyncio.Task[Any] | None = None

    def install(self) -> None:
        self._task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows loops have no signal handlers; Ctrl-C then raises KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, self._stop, signum)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)

    def _stop(self, signum: int) -> None:
        if self.signum is None and self._task is not None:
            self.signum = signum
            self._task.cancel()


class _UsageError(Exception):
    """Bad usage found after argument parsing (exit status 2)."""


def _rate_limit(text: str) -> RateLimit | None:
    if text.strip().lower() in ("none", "off"):
        return None
    count, sep, seconds = text.partition("/")
    try:
        interval = float(seconds)
        limit = RateLimit(int(count), interval) if sep and math.isfinite(interval) else None
    except (ValueError, InvalidInputError):
        limit = None
    if limit is None:
        raise argparse.ArgumentTypeError(
            f"expected N/SECONDS such as 100/10 (or none), got {text!r}"
        )
    return limit


def _object_type(text: str) -> str:
    if not _OBJECT_TYPE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected an object type such as contacts, 0-1 or p123_cars, got {text!r}"
        )
    return text


class _Job:
    """One run of read/associate/archive/purge over an input file."""

    def __init__(
        self, args: argparse.Namespace, command: _Command, parsed: ParsedInput[Any]
    ) -> None:
        self.args = args
        self.command = command
        self.parsed = parsed
        self.chunk_size: int = args.chunk_size or command.default_chunk
        items = parsed.items
        self.blocks = [
            items[i : i + self.chunk_size] for i in range(0, len(items), self.chunk_size)
        ]
        self.stop = _Stop()
        self.stderr = sys.stderr

    def _fingerprint(self, base_url: str) -> str:
        args = self.args
        parts = {
            "command": args.command,
            "from": args.from_type,
            "to": args.to_type,
            "base_url": base_url,
            "chunk_size": self.chunk_size,
            "out": _abspath(args.out),
            "failed": _abspath(args.failed),
        }
        return fingerprint(parts, self.parsed.items)

    def _say(self, message: str) -> None:
        self.stderr.write(f"{_PROG}: {message}\n")
        self.stderr.flush()

    def client(self, token: TokenSource, base_url: str) -> Client:
        """The job's one client; raises InvalidInputError for settings it refuses."""
        return Client(
            token,
            base_url=base_url,
            max_concurrency=self.args.concurrency,
            rate_limit=self.args.rate_limit,
            read_chunk_size=min(self.chunk_size, READ_LIMIT),
            write_chunk_size=self.chunk_size,
        )

    async def run(self, client: Client, base_url: str) -> int:
        """Run the job (resuming it if its checkpoint says so); return the exit status."""
        args = self.args
        checkpoint: Checkpoint | None = None
        state = CheckpointState()
        if args.checkpoint:
            checkpoint = Checkpoint(
                Path(args.checkpoint), self._fingerprint(base_url), len(self.blocks)
            )
            state = checkpoint.open()
        out = _Sink(args.out, name="--out")
        failed_sink = _Sink(args.failed, name="--failed") if args.failed else None
        try:
            try:
                out.open(state.out_size)
                if failed_sink is not None:
                    failed_sink.open(state.failed_size)
            except OSError as exc:
                raise _UsageError(f"cannot open {exc.filename}: {exc.strerror}") from None
            return await self._run(client, checkpoint, state, out, failed_sink)
        finally:
            out.close()
            if failed_sink is not None:
                failed_sink.close()
            if checkpoint is not None:
                checkpoint.close()

    async def _run(
        self,
        client: Client,
        checkpoint: Checkpoint | None,
        state: CheckpointState,
        out: _Sink,
        failed_sink: _Sink | None,
    ) -> int:
        args, command = self.args, self.command
        done_before = sum(len(self.blocks[i]) for i in state.done)
        reporter = ProgressReporter(
            self.stderr,
            operation=args.command,
            unit=command.unit,
            total=len(self.parsed.items),
            already_done=done_before,
            already_failed=state.failed_inputs,
            tty=self.stderr.isatty(),
            interval=args.progress_interval,
        )
        lines = state.lines
        failed_inputs = state.failed_inputs
        fmt = self.parsed.format

        def commit(index: int, outcome: _BlockOutcome) -> None:
            # Synchronous on purpose: nothing can interleave between the output, the
            # failed inputs and the checkpoint line of one block.
            nonlocal lines, failed_inputs
            out.append("".join(line + "\n" for line in outcome.output).encode())
            if failed_sink is not None and outcome.failed:
                text = format_inputs(fmt, outcome.failed, header=failed_sink.size == 0)
                failed_sink.append(text.encode())
            lines += len(outcome.output)
            failed_inputs += len(outcome.failed)
            if checkpoint is not None:
                checkpoint.record(
                    index,
                    out=out.size,
                    failed=failed_sink.size if failed_sink is not None else 0,
                    lines=len(outcome.output),
                    failed_inputs=len(outcome.failed),
                )
            reporter.block_finished(index, len(self.blocks[index]), len(outcome.failed))

        logger = logging.getLogger("hubassoc")
        handler = _ReporterLogHandler(reporter)
        handler.setLevel(logging.INFO if args.verbose else logging.WARNING)
        logger.addHandler(handler)
        previous_level = logger.level
        logger.setLevel(handler.level)
        started = time.monotonic()
        pending = [i for i in range(len(self.blocks)) if i not in state.done]
        finished = len(self.blocks) - len(pending)
        stopped: int | None = None
        error: str | None = None
        self.stop.install()
        reporter.start()
        try:
            async with (
                client,
                contextlib.aclosing(self._schedule(client, pending, reporter)) as outcomes,
            ):
                async for index, outcome in outcomes:
                    commit(index, outcome)
                    finished += 1
        except asyncio.CancelledError:
            if self.stop.signum is None:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            stopped = self.stop.signum
        except HubSpotError as exc:
            error = f"HubSpot stopped the job: {exc}"
        except OSError as exc:
            error = f"cannot write output: {exc}"
        finally:
            self.stop.uninstall()
            logger.removeHandler(handler)
            logger.setLevel(previous_level)
        reporter.finish()

        blocks = len(self.blocks)
        if stopped is not None or error is not None:
            where = f"{finished} of {blocks} blocks done"
            if checkpoint is not None:
                resume = f"run the same command again to resume from {checkpoint.path}"
            else:
                resume = "the output is incomplete (use --checkpoint FILE to make jobs resumable)"
            if stopped is not None:
                self._say(f"stopped by {signal.Signals(stopped).name}: {where}; {resume}")
                return 128 + stopped
            self._say(f"error: {error}; {where}; {resume}")
            return EXIT_FAILED

        elapsed = time.monotonic() - started
        summary = (
            f"{args.command} done: {_counted(len(self.parsed.items), *command.units)}"
            + (f", {_counted(lines, 'line', 'lines')} written" if command.writes_output else "")
            + f", {_count(failed_inputs)} failed"
        )
        if failed_inputs:
            summary += f" (written to {args.failed})" if args.failed else " (use --failed FILE)"
        summary += (
            f"; {_counted(reporter.calls, 'request', 'requests')}, "
            f"{_counted(reporter.retries, 'retry', 'retries')} in {elapsed:.1f}s"
        )
        self._say(summary)
        if checkpoint is not None:
            checkpoint.remove()
        return EXIT_FAILED if failed_inputs else EXIT_OK

    async def _schedule(
        self, client: Client, pending: list[int], reporter: ProgressReporter
    ) -> AsyncGenerator[tuple[int, _BlockOutcome], None]:
        """Yield ``(block index, outcome)`` as blocks finish, at most ``concurrency`` at once."""
        args, runner = self.args, self.command.runner
        queue = list(reversed(pending))
        running: dict[asyncio.Task[_BlockOutcome], int] = {}

        def start(index: int) -> None:
            def report(progress: Progress) -> None:
                reporter.block_progress(index, progress)

            call = runner(client, args.from_type, args.to_type, self.blocks[index], report)
            running[asyncio.ensure_future(call)] = index

        try:
            while queue or running:
                while queue and len(running) < args.concurrency:
                    start(queue.pop())
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                finished = [(task, running.pop(task)) for task in list(running) if task in done]
                errors = [exc for task, _ in finished if (exc := task.exception()) is not None]
                # Blocks that finished before a stop are still committed, so the
                # checkpoint holds every finished block.
                for task, index in sorted(finished, key=lambda pair: pair[1]):
                    if task.exception() is None:
                        yield index, task.result()
                if errors:
                    raise errors[0]
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)


def _abspath(path: str | None) -> str | None:
    return None if path in (None, "-") else os.path.abspath(path)


# ---------------------------------------------------------------------------- argument parsing

_DESCRIPTION = """\
Read, create and delete HubSpot CRM associations in bulk from files.

The access token is read from the environment (HUBSPOT_ACCESS_TOKEN, or the
variable --token-env names), never from the command line.
"""

_EPILOG = """\
exit status: 0 all inputs done, 1 some inputs failed (see --failed), 2 bad usage
or a bad input file, 130/143 stopped by Ctrl-C/SIGTERM (resumable with --checkpoint).

examples:
  hubassoc read contacts companies --ids ids.txt --out assoc.jsonl --checkpoint job.ckpt
  hubassoc associate contacts companies --pairs pairs.csv --failed failed.csv
  hubassoc emulator --port 8080 --seed-demo
"""

_JOB_EPILOG = {
    "read": "Output: one JSON line per from-id with associations, HubSpot's batch-read shape "
    "with every page merged. --ids: one id a line.",
    "associate": "Output: one JSON line per created association (HubSpot's result shape). "
    '--pairs: CSV from,to (optional header) or JSON Lines {"from": "1", "to": "2"}.',
    "archive": "--pairs: CSV from,to (optional header) or JSON Lines "
    '{"from": "1", "to": "2"}. Every association between each pair is deleted.',
    "purge": "--specs: CSV category,typeId (optional header) or JSON Lines "
    '{"category": "USER_DEFINED", "typeId": 3}.',
}


def _job_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument(
        "--token-env",
        default=TOKEN_ENV,
        metavar="NAME",
        help=f"environment variable holding the access token (default {TOKEN_ENV})",
    )
    group.add_argument(
        "--oauth",
        action="store_true",
        help="authenticate as an OAuth app: client id, client secret and refresh token come "
        "from the environment variables below; access tokens are refreshed as they expire",
    )
    group.add_argument(
        "--client-id-env",
        default=CLIENT_ID_ENV,
        metavar="NAME",
        help=f"with --oauth: variable holding the app's client id (default {CLIENT_ID_ENV})",
    )
    group.add_argument(
        "--client-secret-env",
        default=CLIENT_SECRET_ENV,
        metavar="NAME",
        help=f"with --oauth: variable holding the client secret (default {CLIENT_SECRET_ENV})",
    )
    group.add_argument(
        "--refresh-token-env",
        default=REFRESH_TOKEN_ENV,
        metavar="NAME",
        help=f"with --oauth: variable holding the refresh token (default {REFRESH_TOKEN_ENV})",
    )
    group.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help=f"API root (default $HUBSPOT_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    group.add_argument(
        "--concurrency",
        type=positive_int,
        default=8,
        metavar="N",
        help="requests in flight at once (default 8)",
    )
    group.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=RateLimit(),
        metavar="N/SECONDS",
        help="at most N requests per SECONDS rolling window, or none (default 100/10)",
    )
    group.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"inputs per request (default {READ_LIMIT} for read, at most {READ_LIMIT}; "
        f"{DEFAULT_WRITE_CHUNK_SIZE} for writes)",
    )
    files = common.add_argument_group("files")
    files.add_argument("--out", metavar="FILE", help="write result lines here (default stdout)")
    files.add_argument(
        "--failed",
        metavar="FILE",
        help="write the inputs that failed here, in the input's format, to re-run them",
    )
    files.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="record finished blocks here; a stopped job run again with the same "
        "arguments resumes where it stopped (deleted when the job finishes)",
    )
    shown = common.add_argument_group("progress")
    shown.add_argument(
        "--progress-interval",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="seconds between progress lines when stderr is not a terminal (default 10)",
    )
    shown.add_argument("-v", "--verbose", action="store_true", help="also log each retry on stderr")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The ``hubassoc`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _job_options()
    helps = {
        "read": "read the associations of many objects, as JSON Lines",
        "associate": "create the default association of many (from, to) pairs",
        "archive": "delete every association between many (from, to) pairs",
        "purge": "remove association limit configurations (category, typeId)",
    }
    for name, command in _COMMANDS.items():
        sub = commands.add_parser(
            name,
            parents=[common],
            help=helps[name],
            description=helps[name][0].upper() + helps[name][1:] + ".",
            epilog=_JOB_EPILOG[name],
        )
        sub.add_argument("from_type", type=_object_type, metavar="FROM", help="e.g. contacts")
        sub.add_argument("to_type", type=_object_type, metavar="TO", help="e.g. companies")
        sub.add_argument(
            command.option,
            dest="input",
            required=True,
            metavar="FILE",
            help="input file, or - for standard input",
        )
    commands.add_parser(
        "emulator",
        add_help=False,
        help="serve the built-in HubSpot emulator (options: hubassoc emulator --help)",
    )
    commands.add_parser(
        "demo", help="run the quickstart against the built-in emulator (what `make demo` runs)"
    )
    return parser


def _env_value(name: str, what: str, hint: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise _UsageError(f"no {what}: set the {name} environment variable{hint}")
    return value


def _token(args: argparse.Namespace) -> TokenSource:
    """The job's credentials, from the environment only (never from the command line)."""
    if not args.oauth:
        hint = "" if args.token_env != TOKEN_ENV else " (or name another one with --token-env)"
        return _env_value(args.token_env, "access token", hint)
    client_id = _env_value(args.client_id_env, "OAuth client id", " (--client-id-env)")
    secret = _env_value(args.client_secret_env, "OAuth client secret", " (--client-secret-env)")
    refresh = _env_value(args.refresh_token_env, "OAuth refresh token", " (--refresh-token-env)")
    variable = args.refresh_token_env

    def rotated(_: str) -> None:
        # The new value is a secret: say where it belongs, never what it is.
        print(
            f"{_PROG}: warning: HubSpot issued a new refresh token; the one in {variable} "
            "may stop working (use hubassoc.OAuthToken(on_refresh_token=...) to store it)",
            file=sys.stderr,
        )

    try:
        return OAuthToken(
            client_id=client_id,
            client_secret=secret,
            refresh_token=refresh,
            on_refresh_token=rotated,
        )
    except InvalidInputError as exc:
        raise _UsageError(str(exc)) from None


async def _main_job(
    args: argparse.Namespace, command: _Command, parsed: ParsedInput[Any], token: TokenSource
) -> int:
    base_url = args.base_url or os.environ.get("HUBSPOT_BASE_URL") or DEFAULT_BASE_URL
    job = _Job(args, command, parsed)
    try:
        # Made before any file is touched: a token or setting it refuses changes nothing.
        client = job.client(token, base_url)
    except InvalidInputError as exc:
        raise _UsageError(str(exc)) from None
    return await job.run(client, base_url)


def _check_job_args(args: argparse.Namespace, command: _Command) -> None:
    if command.max_chunk is not None and (args.chunk_size or 0) > command.max_chunk:
        raise _UsageError(
            f"--chunk-size may be at most {command.max_chunk} for {args.command} "
            "(HubSpot's batch-read limit)"
        )
    if args.checkpoint and command.writes_output and args.out in (None, "-"):
        raise _UsageError("--checkpoint needs --out FILE: standard output cannot be rewound")
    paths = [p for p in (args.out, args.failed, args.checkpoint) if p not in (None, "-")]
    if len({os.path.abspath(p) for p in paths}) != len(paths):
        raise _UsageError("--out, --failed and --checkpoint must be different files")
    if args.input != "-" and os.path.abspath(args.input) in {os.path.abspath(p) for p in paths}:
        raise _UsageError("the input file cannot also be an output file")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hubassoc`` command line and return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["emulator"]:
        from hubassoc.testing.__main__ import main as emulator_main

        return emulator_main(arguments[1:], prog="hubassoc emulator")
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.command == "demo":
        from ._demo import main as demo_main

        return demo_main()
    command = _COMMANDS[args.command]
    try:
        _check_job_args(args, command)
        token = _token(args)
        parsed = read_input(args.input, command.kind)
        if parsed.duplicates:
            print(f"{_PROG}: {parsed.duplicates} duplicate input(s) skipped", file=sys.stderr)
        return asyncio.run(_main_job(args, command, parsed, token))
    except (InputError, CheckpointError, _UsageError) as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
