"""The job commands: how each one runs a block of inputs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs

from .._client import DEFAULT_WRITE_CHUNK_SIZE, READ_LIMIT, Client
from .._models import AssociationCategory, AssociationSpec, Progress
from ._inputs import Kind
from ._outputs import associate_line, failed_ids, failed_pairs, failed_specs, read_line


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
