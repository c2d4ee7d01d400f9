"""Batch operations: the object ``client.read(...)`` and friends return, and its driver.

The driver keeps at most ``max_concurrency`` chunk calls of an operation in progress,
starting the next chunk only when one finishes, so a long job completes work chunk by
chunk instead of starting every chunk at once. It runs the calls as plain tasks and
yields between them outside any TaskGroup or timeout block (PEP 789), cancelling
whatever is still running when the consumer stops or is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Sequence
from contextlib import aclosing
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

import attrs

from ._batch import Chunk, Plan
from ._classify import ChunkFailure, Retry, Success
from ._exceptions import APIError, BatchErrors
from ._merge import Completer, Merger
from ._models import AssociationRead, BatchError, BatchResult, BatchStatus, Progress
from ._reading import RecordPlan
from ._transport import CallOutcome, CallStats, Transport
from ._wire import ResponseShapeError

T = TypeVar("T")

__all__ = ["BatchOperation"]


ProgressCallback = Callable[[Progress], object]
logger = logging.getLogger("hubassoc")
_DOCUMENTED_STATUSES = frozenset(BatchStatus)
#: Name of the task running one chunk call, to tell them apart in ``asyncio.all_tasks()``.
CHUNK_TASK_NAME = "hubassoc-chunk"


def _chunk_error(chunk: Chunk, outcome: ChunkFailure | Retry) -> BatchError:
    context = dict(chunk.context)
    if outcome.status is not None:
        context["httpStatus"] = [str(outcome.status)]
    if outcome.body.correlation_id:
        context["correlationId"] = [outcome.body.correlation_id]
    if isinstance(outcome, Retry):
        category = "RATE_LIMITS" if outcome.rate_limited else "RETRIES_EXHAUSTED"
        message = f"chunk failed: {outcome.reason}"
    else:
        category = outcome.body.category or f"HTTP_{outcome.status}"
        message = outcome.reason
    return BatchError(
        category=category, sub_category=outcome.body.sub_category, message=message, context=context
    )


def _page(plan: Plan[T], chunk: Chunk, outcome: CallOutcome) -> tuple[BatchResult[T], bool]:
    """The page for one finished call, and whether the chunk failed as a whole."""
    if isinstance(outcome, Success):
        try:
            return plan.complete(chunk, outcome.data), False
        except ResponseShapeError as exc:
            error = BatchError(
                category="INVALID_RESPONSE", message=str(exc), context=dict(chunk.context)
            )
            return plan.fail(chunk, error), True
    return plan.fail(chunk, _chunk_error(chunk, outcome)), True


async def _drive(
    plan: Plan[T],
    transport: Transport,
    *,
    name: str,
    timeout: float | None,
    on_progress: ProgressCallback | None,
) -> AsyncGenerator[BatchResult[T], None]:
    """Yield one page per chunk call, in completion order."""
    running: dict[asyncio.Task[CallOutcome], Chunk] = {}
    limit = transport.max_concurrency
    stats = CallStats()
    failed = 0
    strange: set[str] = set()

    def checked(page: BatchResult[T]) -> BatchResult[T]:
        status = page.status
        if status not in _DOCUMENTED_STATUSES and status not in strange:
            strange.add(status)  # once per operation: a log line per page would flood
            logger.warning(
                "%s: HubSpot answered with status %r, which it does not document; "
                "the merged status keeps it",
                name,
                str(status),
            )
        return page

    def refill() -> bool:
        started = False
        while len(running) < limit and (chunk := plan.next_chunk()) is not None:
            call = transport.post(
                chunk.path or plan.path,
                chunk.body or None,
                size=chunk.size,
                timeout=timeout,
                stats=stats,
                method=chunk.method,
                decode=plan.decode,
            )
            running[asyncio.create_task(call, name=CHUNK_TASK_NAME)] = chunk
            started = True
        return started

    try:
        while True:
            refill()
            if not running:
                return
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            finished = [(task, running.pop(task)) for task in list(running) if task in done]
            del done
            # Look at every finished task's exception, so none is left "never retrieved".
            errors = [exc for task, _ in finished if (exc := task.exception()) is not None]
            if errors:
                # Calls answered before the stop still count: hand out their pages, then
                # name everything else (failed here, still running, never sent).
                for task, chunk in finished:
                    if task.exception() is None:
                        yield checked(_page(plan, chunk, task.result())[0])
                error = errors[0]
                if isinstance(error, APIError):
                    stopped = [chunk for task, chunk in finished if task.exception() is not None]
                    error.unfinished = _unfinished(plan, [*stopped, *running.values()])
                raise error
            # Pages are built and handed out one at a time, each raw body dropped as soon
            # as its page exists: holding every finished call's JSON until the last page
            # was consumed cost a third more memory when streaming.
            outcomes = deque((task.result(), chunk) for task, chunk in finished)
            del finished
            # Building a page of a thousand ids takes tens of ms, in which nothing else
            # runs. So the freed places are filled first, and before each page the loop
            # runs once: new calls get onto the wire and answers that came in meanwhile
            # are read (a rate limiter dates each answer from then); their calls' places
            # are filled once this batch is handed out. Continuations these pages bring
            # are started by the refill after each one.
            pause = refill()
            while outcomes:
                if pause:
                    await asyncio.sleep(0)
                pause = True
                outcome, chunk = outcomes.popleft()
                page, chunk_failed = _page(plan, chunk, outcome)
                page = checked(page)
                del outcome
                if chunk_failed:
                    failed += chunk.size
                if on_progress is not None:
                    on_progress(
                        Progress(
                            name, plan.total, plan.finished, failed, stats.calls, stats.retries
                        )
                    )
                # Start the next chunks before handing the page over, so a slow consumer
                # does not leave the concurrency budget idle.
                refill()
                yield page
                del page
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


@runtime_checkable
class _Closing(Protocol):
    """A plan that says which ids its last call finished (batch read, one record's list)."""

    def track_closed(self) -> None: ...

    def take_closed(self) -> list[str]: ...


def _unfinished(plan: Plan[Any], chunks: Sequence[Chunk]) -> list[Any]:
    """Inputs of ``chunks`` and the plan's pending ones, each once, in a stable order."""
    seen: dict[Any, None] = {}
    for chunk in chunks:
        seen.update(dict.fromkeys(chunk.inputs))
    seen.update(dict.fromkeys(plan.pending()))
    return list(seen)


def _without(result: BatchResult[T], unfinished: Sequence[Any]) -> BatchResult[T]:
    """``result`` less the items of from-ids that are unfinished (batch read)."""
    drop = {i for i in unfinished if isinstance(i, str)}
    if not drop:
        return result
    kept = [r for r in result.results if getattr(r, "from_id", None) not in drop]
    return attrs.evolve(result, results=kept)


class BatchOperation(Generic[T]):
    """A batch call that is both awaitable and async-iterable.

    - ``await op``: every chunk's envelope merged into one :class:`BatchResult`.
    - ``async for item in op``: each result item as its page arrives (for batch read,
      one :class:`AssociationRead` per from-id per page), holding no more than the
      pages in flight.
    - ``async for page in op.pages()``: each envelope as its call completes, including
      one for every chunk that failed as a whole; together they hold exactly what the
      merged result holds.

    Each ``await`` or iteration runs the whole operation again. To stop streaming early
    and release the in-flight calls at once, break out of the loop (CPython closes the
    iterator right away) or wrap it in ``contextlib.aclosing``.

    Example::

        async for item in client.read("contacts", "companies", ids):
            print(item.from_id, item.to_ids)
    """

    def __init__(
        self,
        make_plan: Callable[[], Plan[T]],
        transport: Transport,
        *,
        name: str,
        order: Sequence[str] | None = None,
        objects: bool = False,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._make_plan = make_plan
        self._objects = objects
        self._name = name
        self._transport = transport
        self._order = order
        self._timeout = timeout
        self._on_progress = on_progress

    def __repr__(self) -> str:
        return f"<BatchOperation {self._name}>"

    def pages(self) -> AsyncGenerator[BatchResult[T], None]:
        """Stream each envelope (a :class:`BatchResult`) as its call completes."""
        return _drive(
            self._make_plan(),
            self._transport,
            name=self._name,
            timeout=self._timeout,
            on_progress=self._on_progress,
        )

    async def _items(self) -> AsyncGenerator[T, None]:
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                for item in page.results:
                    yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    def completed(
        self, *, on_error: Callable[[BatchError], object] | None = None
    ) -> AsyncGenerator[AssociationRead, None]:
        """Stream one whole :class:`AssociationRead` per from-id, once its last page is in.

        For ``client.read`` and ``client.associations.list``: every page of an id merged
        into one read, handed out as soon as the id needs no more calls, while the rest
        are still being read. Only ids in progress are held. Ids without associations
        yield nothing. An id named by a failure is not yielded (its read is not whole);
        each failure goes to ``on_error`` as it comes, or, without ``on_error``, all of
        them are raised together as :class:`hubassoc.BatchErrors` once the stream ends.

        Example::

            async for read in client.read("contacts", "companies", ids).completed():
                save(read.from_id, read.to_ids)   # every page of this contact
        """
        plan = self._make_plan()
        made: object = plan
        if not isinstance(made, _Closing):
            raise TypeError(f"{self._name} has no per-id reads to complete; iterate it instead")
        made.track_closed()
        record = made.from_id if isinstance(made, RecordPlan) else None
        return self._complete(plan, Completer(record), on_error)

    async def _complete(
        self,
        plan: Plan[T],
        completer: Completer,
        on_error: Callable[[BatchError], object] | None,
    ) -> AsyncGenerator[AssociationRead, None]:
        closing = cast(_Closing, plan)
        pages = _drive(
            plan,
            self._transport,
            name=self._name,
            timeout=self._timeout,
            on_progress=self._on_progress,
        )
        reported = 0
        async with aclosing(pages):
            async for page in pages:
                for read in completer.add(page, closing.take_closed()):
                    yield read
                if on_error is not None:
                    for error in completer.errors[reported:]:
                        on_error(error)
                    reported = len(completer.errors)
        if on_error is None and completer.errors:
            raise BatchErrors(completer.errors)

    async def _collect(self) -> BatchResult[T]:
        merger: Merger[T] = Merger(self._order, objects=self._objects)
        try:
            async with aclosing(self.pages()) as pages:
                async for page in pages:
                    merger.add(page)
        except APIError as exc:
            partial = merger.result()
            exc.partial = _without(partial, exc.unfinished) if self._order is not None else partial
            raise
        return merger.result(last=True)

    def __await__(self) -> Generator[Any, None, BatchResult[T]]:
        return self._collect().__await__()
