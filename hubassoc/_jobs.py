"""Resumable jobs: a bulk operation split into blocks, each recorded in a store as it finishes.

A :class:`Job` cuts its inputs into blocks of ``block_size``. :meth:`Job.run` keeps at
most ``max_blocks_in_flight`` of them in progress through one shared client, and when
one finishes it is committed to the :class:`~hubassoc.Store` (its output, its failed
inputs and its record, durably and atomically) before another block takes its place.
Run again with the same store, a job skips every committed block: a job killed at 90%
has 90% saved, and redoes at most the blocks that were in flight.

The same blocks are what a task queue runs one task each (:mod:`hubassoc.queue`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast

import attrs

from . import _validation as validate
from ._blocks import OPERATIONS, BlockResult, Operation, clean_inputs, run_block
from ._client import DEFAULT_WRITE_CHUNK_SIZE, READ_LIMIT
from ._exceptions import InvalidInputError
from ._models import Progress
from ._stores import JobInfo, JobState, Store

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["BlockRunner", "Job", "JobSummary"]

#: Runs one block of a job made with :meth:`Job.custom`: called with the client, the
#: block's inputs and a progress callback (or None), it returns the block's output lines
#: and its failed inputs.
BlockRunner: TypeAlias = Callable[
    ["Client", list[Any], Callable[[Progress], object] | None],
    Awaitable[tuple[list[str], list[Any]]],
]

#: Default inputs per block: one request's worth, as the command line does.
DEFAULT_BLOCK_SIZE: Final[dict[str, int]] = {
    "read": READ_LIMIT,
    "associate": DEFAULT_WRITE_CHUNK_SIZE,
    "archive": DEFAULT_WRITE_CHUNK_SIZE,
    "purge": DEFAULT_WRITE_CHUNK_SIZE,
}


@attrs.frozen
class JobSummary:
    """How a run of a job ended.

    Attributes:
        job_id: the job's name in its store.
        blocks: blocks in the job.
        ran: blocks this run finished.
        skipped: blocks already done when it began (a resumed job).
        lines: output lines of every finished block, this run's and earlier ones'.
        failed: inputs that failed, in every finished block.
    """

    job_id: str
    blocks: int
    ran: int
    skipped: int
    lines: int
    failed: int


def fingerprint(parts: dict[str, Any], items: Sequence[Any]) -> str:
    """A digest of everything that decides what a job writes: its settings and inputs."""
    digest = hashlib.sha256()
    digest.update(json.dumps(parts, sort_keys=True).encode())
    for item in items:
        digest.update(b"\n")
        digest.update(json.dumps(item).encode())
    return digest.hexdigest()


class Job:
    """A bulk operation over many inputs, split into blocks that are recorded as they finish.

    Build one with :meth:`read`, :meth:`associate`, :meth:`archive` or :meth:`purge`, then
    :meth:`run` it with a client and a store. Inputs are validated and deduplicated (first
    one kept) when the job is made; the blocks are fixed by the inputs and ``block_size``,
    so the same job made again in another process has the same blocks and the same
    :attr:`id`, and resumes from the same store.

    Attributes:
        operation: ``read``, ``associate``, ``archive`` or ``purge``.
        from_type, to_type: the object types.
        inputs: the clean inputs, in order.
        block_size: inputs per block.
        name: the name given, or None.
        scope: what else decides what the job writes (an account, output paths...), as given.
        id: the job's name in a store: ``name``, else derived from the fingerprint.
        fingerprint: a digest of the operation, types, block size, name, scope and inputs.

    ``scope`` is a mapping of JSON values mixed into the fingerprint, so that a store
    refuses the same inputs run for another account: ``{"portal": 123}``.

    Example::

        job = hubassoc.Job.read("contacts", "companies", ids)
        store = hubassoc.FileStore("read.ckpt", out="associations.jsonl")
        async with hubassoc.Client() as client:
            summary = await job.run(client, store)   # killed? run it again: it resumes
    """

    def __init__(
        self,
        operation: Operation,
        from_type: str,
        to_type: str,
        inputs: Any,
        *,
        block_size: int | None = None,
        name: str | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> None:
        self._runner: BlockRunner | None = None
        self._setup(operation, from_type, to_type, block_size, name, scope)
        self.inputs: list[Any] = clean_inputs(operation, inputs)
        self._fingerprint()

    def _setup(
        self,
        operation: str,
        from_type: str,
        to_type: str,
        block_size: int | None,
        name: str | None,
        scope: Mapping[str, Any] | None,
    ) -> None:
        if operation not in OPERATIONS and self._runner is None:
            raise InvalidInputError(
                f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}"
            )
        self.operation: str = operation
        self.from_type = validate.object_type(from_type, "from")
        self.to_type = validate.object_type(to_type, "to")
        size = DEFAULT_BLOCK_SIZE[operation] if block_size is None else block_size
        validate.positive_int(size, "block_size")
        if operation == "read" and size > READ_LIMIT:
            # Each block is one read; more than 1,000 ids would be split across calls
            # anyway, and the block would then hold a request's worth of pages in memory.
            raise InvalidInputError(f"block_size may be at most {READ_LIMIT} for read")
        if name is not None and (not isinstance(name, str) or not name or "}" in name):
            raise InvalidInputError(f"name must be a non-empty str without '}}', got {name!r}")
        self.block_size: int = size
        self.name = name
        self.scope: dict[str, Any] = dict(scope or {})

    def _fingerprint(self) -> None:
        # The keys the command line has always written, so that its checkpoints resume.
        parts: dict[str, Any] = {
            "command": self.operation,
            "from": self.from_type,
            "to": self.to_type,
            "chunk_size": self.block_size,
        }
        if self.name is not None:
            parts["name"] = self.name
        clash = parts.keys() & self.scope.keys()
        if clash:
            raise InvalidInputError(f"scope may not set {', '.join(sorted(clash))}")
        try:
            self.fingerprint = fingerprint({**parts, **self.scope}, self.inputs)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"a job's inputs and scope must be JSON values: {exc}"
            ) from None
        self.id: str = (
            self.name if self.name is not None else f"{self.operation}-{self.fingerprint[:24]}"
        )

    @classmethod
    def custom(
        cls,
        operation: str,
        from_type: str,
        to_type: str,
        inputs: Sequence[Any],
        runner: BlockRunner,
        *,
        block_size: int,
        name: str | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> Job:
        """A job whose blocks ``runner`` runs, for a batch call the library has no job for.

        ``inputs`` are taken as given (JSON values, tuples allowed), in order; a failed
        input is whatever ``runner`` says failed. ``operation`` names the job in its
        store and its fingerprint.
        """
        if not isinstance(operation, str) or not operation:
            raise InvalidInputError(f"operation must be a non-empty str, got {operation!r}")
        job = cls.__new__(cls)
        job._runner = runner
        job._setup(operation, from_type, to_type, block_size, name, scope)
        job.inputs = list(inputs)
        job._fingerprint()
        return job

    def __repr__(self) -> str:
        return (
            f"<hubassoc.Job {self.id} {self.operation} {self.from_type}->{self.to_type}: "
            f"{len(self.inputs):,} inputs in {self.blocks:,} blocks>"
        )

    @classmethod
    def read(
        cls,
        from_type: str,
        to_type: str,
        ids: Any,
        *,
        block_size: int = READ_LIMIT,
        name: str | None = None,
    ) -> Job:
        """Read the associations of many objects; one output line per from-id with any."""
        return cls("read", from_type, to_type, ids, block_size=block_size, name=name)

    @classmethod
    def associate(
        cls,
        from_type: str,
        to_type: str,
        pairs: Any,
        *,
        block_size: int = DEFAULT_WRITE_CHUNK_SIZE,
        name: str | None = None,
    ) -> Job:
        """Create the default association of many pairs; one output line per association."""
        return cls("associate", from_type, to_type, pairs, block_size=block_size, name=name)

    @classmethod
    def archive(
        cls,
        from_type: str,
        to_type: str,
        pairs: Any,
        *,
        block_size: int = DEFAULT_WRITE_CHUNK_SIZE,
        name: str | None = None,
    ) -> Job:
        """Delete every association between many pairs; no output lines."""
        return cls("archive", from_type, to_type, pairs, block_size=block_size, name=name)

    @classmethod
    def purge(
        cls,
        from_type: str,
        to_type: str,
        specs: Any,
        *,
        block_size: int = DEFAULT_WRITE_CHUNK_SIZE,
        name: str | None = None,
    ) -> Job:
        """Remove association limit configurations; no output lines."""
        return cls("purge", from_type, to_type, specs, block_size=block_size, name=name)

    @property
    def blocks(self) -> int:
        """How many blocks the job has."""
        return -(-len(self.inputs) // self.block_size)

    def block(self, index: int) -> list[Any]:
        """The inputs of block ``index``."""
        if not 0 <= index < self.blocks:
            raise IndexError(f"block {index} out of range (the job has {self.blocks})")
        return self.inputs[index * self.block_size : (index + 1) * self.block_size]

    def info(self, job_id: str | None = None) -> JobInfo:
        """What a store is told about the job (under ``job_id``, default :attr:`id`)."""
        return JobInfo(
            id=job_id or self.id,
            fingerprint=self.fingerprint,
            operation=self.operation,
            from_type=self.from_type,
            to_type=self.to_type,
            blocks=self.blocks,
            inputs=len(self.inputs),
        )

    async def run_block(
        self,
        client: Client,
        index: int,
        *,
        on_progress: Callable[[Progress], object] | None = None,
    ) -> BlockResult:
        """Run one block and return its outcome, recording nothing."""
        if self._runner is not None:
            lines, failed = await self._runner(client, self.block(index), on_progress)
            return BlockResult(index, lines, failed)
        return await run_block(
            client,
            cast(Operation, self.operation),
            self.from_type,
            self.to_type,
            index,
            self.block(index),
            on_progress,
        )

    async def run(
        self,
        client: Client,
        store: Store,
        *,
        max_blocks_in_flight: int = 4,
        on_block: Callable[[BlockResult], object] | None = None,
        on_progress: Callable[[int, Progress], object] | None = None,
        on_start: Callable[[JobState], object] | None = None,
    ) -> JobSummary:
        """Run every block not yet in ``store``, committing each as it finishes.

        At most ``max_blocks_in_flight`` blocks are in progress; the client's
        ``max_concurrency`` and rate limit bound their requests together. A finished
        block is committed before another starts in its place. When HubSpot stops the
        job (:class:`hubassoc.APIError`: the DAILY limit, a revoked token, a missing
        scope), the blocks that finished alongside are committed and the error is
        raised: run the job again to resume. Cancelling the run stops every block
        in flight; the committed ones stay.

        ``on_start`` is called with what the store holds of the job (its finished blocks)
        before any block starts, ``on_block`` with each committed block's outcome, and
        ``on_progress`` with ``(block index, Progress)`` after each request of a block.
        The store is closed on return; when every block is done, ``store.complete`` is
        called first.
        """
        validate.positive_int(max_blocks_in_flight, "max_blocks_in_flight")
        info = self.info()
        try:
            state = await store.begin(info)
            if on_start is not None:
                on_start(state)
            pending = [i for i in range(self.blocks) if i not in state.done]
            skipped = self.blocks - len(pending)
            ran = 0
            lines, failed = state.lines, state.failed
            schedule = self._schedule(client, pending, max_blocks_in_flight, on_progress)
            async with aclosing(schedule) as finished:
                async for result in finished:
                    await store.commit(info.id, result)
                    ran += 1
                    lines += len(result.lines)
                    failed += len(result.failed)
                    if on_block is not None:
                        on_block(result)
            await store.complete(info.id)
        finally:
            await store.close()
        return JobSummary(info.id, self.blocks, ran, skipped, lines, failed)

    async def _schedule(
        self,
        client: Client,
        pending: list[int],
        limit: int,
        on_progress: Callable[[int, Progress], object] | None,
    ) -> AsyncGenerator[BlockResult, None]:
        """Yield blocks as they finish, starting the next ones only when asked for more."""
        queue = list(reversed(pending))
        running: dict[asyncio.Task[BlockResult], int] = {}

        def start(index: int) -> None:
            report = None
            if on_progress is not None:
                callback = on_progress

                def report(progress: Progress) -> None:
                    callback(index, progress)

            running[asyncio.ensure_future(self.run_block(client, index, on_progress=report))] = (
                index
            )

        try:
            while queue or running:
                # Runs only once the consumer has committed every block yielded so far.
                while queue and len(running) < limit:
                    start(queue.pop())
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                finished = sorted(
                    ((task, running.pop(task)) for task in done), key=lambda pair: pair[1]
                )
                errors = [exc for task, _ in finished if (exc := task.exception()) is not None]
                # Blocks that finished alongside a stop are still handed out, so the store
                # holds every finished block.
                for task, _ in finished:
                    if task.exception() is None:
                        yield task.result()
                if errors:
                    raise errors[0]
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
