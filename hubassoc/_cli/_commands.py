"""The job commands: what each one settles before its first block, and how it runs a block."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from .._blocks import associate_line, failed_ids, failed_pairs, failed_specs, read_line
from .._client import DEFAULT_WRITE_CHUNK_SIZE, READ_LIMIT, Client
from .._models import AssociationCategory, AssociationSpec, Progress
from ._inputs import Kind
from ._labelling import needs_definitions, resolve_labels
from ._outputs import create_line


@attrs.frozen
class _BlockOutcome:
    output: list[str]
    failed: list[Any]


@attrs.frozen
class _Target:
    """Where every block of a job goes, and what the job settled before its first block."""

    client: Client
    from_type: str
    to_type: str
    #: For ``create``: each label text of the input and the association type it names.
    specs: Mapping[str, AssociationSpec] = attrs.Factory(dict)
    #: Requests made to settle it.
    calls: int = 0


_BlockRunner = Callable[
    [_Target, list[Any], Callable[[Progress], object]], Awaitable[_BlockOutcome]
]
_Prepare = Callable[[Client, str, str, Sequence[Any]], Awaitable[_Target]]


async def _plain_target(
    client: Client, from_type: str, to_type: str, items: Sequence[Any]
) -> _Target:
    return _Target(client, from_type, to_type)


async def _labelled_target(
    client: Client, from_type: str, to_type: str, items: Sequence[Any]
) -> _Target:
    """Resolve every label text once, so that a bad one stops the job before any write."""
    texts = list(dict.fromkeys(label for _, _, labels in items for label in labels))
    calls = 0
    definitions = []
    if needs_definitions(texts):
        definitions = await client.labels.list(from_type, to_type)
        calls = 1
    specs = resolve_labels(texts, definitions, from_type, to_type)
    return _Target(client, from_type, to_type, specs, calls)


async def _read_block(
    target: _Target, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    result = await target.client.read(target.from_type, target.to_type, block, on_progress=report)
    failed = failed_ids(result, block)
    # A failed id may have some pages in the result; leave it out so that re-running
    # the --failed file yields it whole, once.
    skip = set(failed)
    asked = set(block)
    output = [read_line(r) for r in result.results if r.from_id in asked and r.from_id not in skip]
    return _BlockOutcome(output, failed)


async def _associate_block(
    target: _Target, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    result = await target.client.associate_default(
        target.from_type, target.to_type, block, on_progress=report
    )
    return _BlockOutcome([associate_line(r) for r in result.results], failed_pairs(result, block))


async def _archive_block(
    target: _Target, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    result = await target.client.archive(
        target.from_type, target.to_type, block, on_progress=report
    )
    return _BlockOutcome([], failed_pairs(result, block))


async def _purge_block(
    target: _Target, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    specs = [AssociationSpec(AssociationCategory(c), t) for c, t in block]
    result = await target.client.purge_configurations(
        target.from_type, target.to_type, specs, on_progress=report
    )
    return _BlockOutcome([], failed_specs(result, block))


async def _create_block(
    target: _Target, block: list[Any], report: Callable[..., object]
) -> _BlockOutcome:
    inputs = [(f, t, [target.specs[label] for label in labels]) for f, t, labels in block]
    result = await target.client.associations.create(
        target.from_type, target.to_type, inputs, on_progress=report
    )
    # A failed pair goes back to --failed as every row it was read from.
    failed = set(failed_pairs(result, [(f, t) for f, t, _ in block]))
    return _BlockOutcome(
        [create_line(r) for r in result.results], [i for i in block if (i[0], i[1]) in failed]
    )


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
    prepare: _Prepare = _plain_target

    @property
    def units(self) -> tuple[str, str]:
        """The input unit, singular and plural."""
        return self.singular, self.unit


_COMMANDS: Final[dict[str, _Command]] = {
    "read": _Command("ids", "ids", "id", "--ids", _read_block, READ_LIMIT, READ_LIMIT, True),
    "associate": _Command(
        "pairs", "pairs", "pair", "--pairs", _associate_block, DEFAULT_WRITE_CHUNK_SIZE, None, True
    ),
    "create": _Command(
        "labelled",
        "pairs",
        "pair",
        "--pairs",
        _create_block,
        DEFAULT_WRITE_CHUNK_SIZE,
        None,
        True,
        _labelled_target,
    ),
    "archive": _Command(
        "pairs", "pairs", "pair", "--pairs", _archive_block, DEFAULT_WRITE_CHUNK_SIZE, None, False
    ),
    "purge": _Command(
        "specs", "specs", "spec", "--specs", _purge_block, DEFAULT_WRITE_CHUNK_SIZE, None, False
    ),
}
