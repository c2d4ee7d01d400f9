"""The job commands: their input files and units, and what ``create`` settles first.

``read``, ``associate``, ``archive`` and ``purge`` are the library's own jobs
(:class:`hubassoc.Job`); ``create`` is a :meth:`hubassoc.Job.custom` job whose runner
the labels it resolved before its first block go into.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from .._blocks import failed_pairs
from .._client import DEFAULT_WRITE_CHUNK_SIZE, READ_LIMIT, Client
from .._jobs import BlockRunner
from .._models import AssociationSpec, Progress
from ._inputs import Kind
from ._labelling import needs_definitions, resolve_labels
from ._outputs import create_line

#: Settles what a job's blocks need before the first one starts; returns how to run a
#: block and how many requests settling it took.
_Prepare = Callable[[Client, str, str, Sequence[Any]], Awaitable[tuple[BlockRunner, int]]]


async def _labelled_runner(
    client: Client, from_type: str, to_type: str, items: Sequence[Any]
) -> tuple[BlockRunner, int]:
    """Resolve every label text once, so that a bad one stops the job before any write."""
    texts = list(dict.fromkeys(label for _, _, labels in items for label in labels))
    calls = 0
    definitions = []
    if needs_definitions(texts):
        definitions = await client.labels.list(from_type, to_type)
        calls = 1
    specs = resolve_labels(texts, definitions, from_type, to_type)
    return _create_runner(from_type, to_type, specs), calls


def _create_runner(
    from_type: str, to_type: str, specs: Mapping[str, AssociationSpec]
) -> BlockRunner:
    async def create(
        client: Client, block: list[Any], report: Callable[[Progress], object] | None
    ) -> tuple[list[str], list[Any]]:
        inputs = [(f, t, [specs[label] for label in labels]) for f, t, labels in block]
        result = await client.associations.create(from_type, to_type, inputs, on_progress=report)
        # A failed pair goes back to --failed as every row it was read from.
        failed = set(failed_pairs(result, [(f, t) for f, t, _ in block]))
        return [create_line(r) for r in result.results], [
            i for i in block if (i[0], i[1]) in failed
        ]

    return create


@attrs.frozen
class _Command:
    kind: Kind
    unit: str
    singular: str
    option: str
    default_chunk: int
    max_chunk: int | None
    writes_output: bool
    #: None for the library's own jobs.
    prepare: _Prepare | None = None

    @property
    def units(self) -> tuple[str, str]:
        """The input unit, singular and plural."""
        return self.singular, self.unit


_WRITE: Final = DEFAULT_WRITE_CHUNK_SIZE
_COMMANDS: Final[dict[str, _Command]] = {
    "read": _Command("ids", "ids", "id", "--ids", READ_LIMIT, READ_LIMIT, True),
    "associate": _Command("pairs", "pairs", "pair", "--pairs", _WRITE, None, True),
    "create": _Command(
        "labelled", "pairs", "pair", "--pairs", _WRITE, None, True, _labelled_runner
    ),
    "archive": _Command("pairs", "pairs", "pair", "--pairs", _WRITE, None, False),
    "purge": _Command("specs", "specs", "spec", "--specs", _WRITE, None, False),
}
