"""Jobs on SAQ: one task per block, one queue per portal, progress in a :class:`RedisStore`.

:meth:`Fleet.submit` records the job in the store and enqueues one task per block not
yet done, keyed by job and block, so submitting twice queues nothing twice. A worker
(:meth:`Fleet.serve`) runs a block through the portal's client and commits it to the
store in one transaction; a block already committed is skipped, so a block run twice
(its worker was killed after HubSpot answered, SAQ's sweeper gave it to another worker)
leaves its output once. While a block runs, its task sends a heartbeat; a worker killed
by SIGKILL stops sending it, and SAQ's sweeper hands the block to another worker.

Each portal has its own queue and its own rate-limit key: a portal with a long backlog,
a small budget, 429s or a ``DAILY`` stop holds only its own queue, never another
portal's worker slots. A block stopped by HubSpot (:class:`hubassoc.APIError`: the
DAILY limit, a revoked token) marks its job stopped; the job's other blocks then end
without a request until :meth:`Fleet.resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import Iterable
from typing import Any, Final, cast

import attrs
import redis.asyncio as aioredis
from saq import Worker
from saq.queue.redis import RedisQueue
from saq.types import Context, PartialTimersDict

from .._blocks import from_json, run_block
from .._client import Client
from .._exceptions import APIError, InvalidInputError
from .._jobs import Job, JobSummary
from .._redis import RedisRateLimit
from .._stores import JobState, RedisStore
from ._portal import Portal, PortalSource, portal_client

__all__ = ["BLOCK_TASK", "Fleet", "Submission"]

logger = logging.getLogger("hubassoc")

#: The name SAQ knows the block task by.
BLOCK_TASK: Final = "hubassoc.block"


class _Queue(RedisQueue):
    """SAQ's Redis queue, sweeping dead workers' blocks without waiting on each.

    SAQ's sweep asks a stuck task's worker to abort it and waits up to five seconds
    per task for the acknowledgement before retrying it. A block is stuck because its
    worker stopped sending heartbeats, so that worker is gone and nobody acknowledges:
    eight blocks of a killed worker would come back one every five seconds. Retrying
    at once is safe, since a block committed twice is kept once.
    """

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        return await super().sweep(lock, abort=_SWEEP_ABORT_WAIT)


#: Seconds the sweep waits for a stuck block's worker to acknowledge the abort.
_SWEEP_ABORT_WAIT: Final = 0.1


@attrs.frozen
class Submission:
    """What :meth:`Fleet.submit` did.

    Attributes:
        job_id: the job's name in the store (``<portal>/<job id>``).
        blocks: blocks in the job.
        done: blocks already committed when it was submitted.
        queued: tasks enqueued now (blocks neither done nor already queued).
    """

    job_id: str
    blocks: int
    done: int
    queued: int


class Fleet:
    """Run :class:`hubassoc.Job` blocks as SAQ tasks, on many workers and many portals.

    One ``Fleet`` describes the set-up; the same one is built in the process that
    submits jobs and in every worker process (from the same module, say).

    Args:
        redis: a ``redis.asyncio.Redis`` (bytes replies) or a URL. The fleet closes a
            client it made from a URL, never one it was given.
        portals: the portals by name, or a function (sync or async) loading one by name.
        name: prefix of the queue names (``<name>:<portal>``) and of the Redis keys.
        block_timeout: seconds a block may run before SAQ gives it up and retries it.
        heartbeat: seconds without a heartbeat after which SAQ's sweeper presumes a
            block's worker dead and gives the block to another worker.
        retries: attempts per block (a killed worker, a timeout, a crash), first included.
        store_ttl: seconds the job's progress and output stay in Redis after its last write.

    Example::

        fleet = Fleet("redis://localhost", {"4711": Portal("4711", token=...)})
        await fleet.submit(hubassoc.Job.read("contacts", "companies", ids), "4711")
        # in each worker process:  await fleet.serve(["4711"])
    """

    def __init__(
        self,
        redis: aioredis.Redis | str,
        portals: PortalSource,
        *,
        name: str = "hubassoc",
        block_timeout: int = 600,
        heartbeat: int = 30,
        retries: int = 10,
        store_ttl: float = 7 * 86_400,
    ) -> None:
        for label, value in (
            ("block_timeout", block_timeout),
            ("heartbeat", heartbeat),
            ("retries", retries),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{label} must be an int >= 1, got {value!r}")
        if not isinstance(name, str) or not name or ":" in name:
            raise InvalidInputError(f"name must be a non-empty str without ':', got {name!r}")
        self._owns_redis = isinstance(redis, str)
        self.redis: aioredis.Redis = aioredis.from_url(redis) if isinstance(redis, str) else redis
        self.name = name
        self.store = RedisStore(self.redis, prefix=f"{name}:job", ttl=store_ttl)
        self._portals = portals
        self._block_timeout = block_timeout
        self._heartbeat = heartbeat
        self._retries = retries
        self._queues: dict[str, RedisQueue] = {}
        self._clients: dict[str, tuple[Client, RedisRateLimit]] = {}
        self._opening: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"<hubassoc.queue.Fleet {self.name!r}>"

    # ------------------------------------------------------------------ submitting

    def queue(self, portal: str) -> RedisQueue:
        """The SAQ queue of ``portal``'s blocks (``<name>:<portal>``)."""
        queue = self._queues.get(portal)
        if queue is None:
            Portal(portal, token=None)  # checks the name before it becomes a key
            queue = self._queues[portal] = _Queue(self.redis, name=f"{self.name}:{portal}")
        return queue

    @staticmethod
    def job_id(job: Job, portal: str) -> str:
        """The job's name in the store: jobs with the same input on two portals differ."""
        return f"{portal}/{job.id}"

    async def submit(self, job: Job, portal: str) -> Submission:
        """Record ``job`` for ``portal`` and enqueue every block not yet done.

        Raises :class:`hubassoc.StoreError` if the store holds another job of that name.
        Submitting again (after a crash of the submitter, say) enqueues only blocks that
        are neither done nor queued.
        """
        job_id = self.job_id(job, portal)
        state = await self.store.begin(job.info(job_id))
        queue = self.queue(portal)
        queued = 0
        for index in range(job.blocks):
            if index in state.done:
                continue
            task = await queue.enqueue(
                BLOCK_TASK,
                key=f"{job_id}#{index}",
                timeout=self._block_timeout,
                heartbeat=self._heartbeat,
                retries=self._retries,
                portal=portal,
                job_id=job_id,
                operation=job.operation,
                from_type=job.from_type,
                to_type=job.to_type,
                index=index,
                inputs=job.block(index),
            )
            queued += task is not None
        return Submission(job_id, job.blocks, len(state.done), queued)

    async def resume(self, job: Job, portal: str) -> Submission:
        """Clear a stop (after the DAILY limit reset, say) and enqueue the blocks not done."""
        await self.store.resume(self.job_id(job, portal))
        return await self.submit(job, portal)

    async def state(self, job: Job, portal: str) -> JobState:
        """The job's finished blocks and stop reason, as the store has them."""
        return await self.store.state(self.job_id(job, portal))

    async def wait(self, job: Job, portal: str, *, poll: float = 0.5) -> JobSummary:
        """Wait until every block of the job is done, or the job is stopped.

        Returns how it stands then; ``skipped`` is 0 and ``ran`` the blocks done. Wrap
        it in ``asyncio.timeout`` to bound the wait.
        """
        job_id = self.job_id(job, portal)
        while True:
            state = await self.store.state(job_id)
            if len(state.done) >= job.blocks or state.stopped is not None:
                return JobSummary(job_id, job.blocks, len(state.done), 0, state.lines, state.failed)
            await asyncio.sleep(poll)

    def portal_names(self) -> list[str]:
        """The portals' names, when they were given as a mapping."""
        if callable(self._portals):
            raise TypeError("the portals were given as a function; name them yourself")
        return list(self._portals)

    # ------------------------------------------------------------------ working

    async def _portal(self, name: str) -> Portal:
        source = self._portals
        if callable(source):
            found = source(name)
            portal = await found if inspect.isawaitable(found) else found
        else:
            portal = source[name]
        if not isinstance(portal, Portal) or portal.name != name:
            raise InvalidInputError(f"portals gave {portal!r} for portal {name!r}")
        return portal

    async def _client(self, name: str) -> Client:
        opened = self._clients.get(name)
        if opened is None:
            async with self._opening.setdefault(name, asyncio.Lock()):
                opened = self._clients.get(name)
                if opened is None:
                    portal = await self._portal(name)
                    opened = portal_client(portal, self.redis, f"{self.name}:rate")
                    self._clients[name] = opened
        return opened[0]

    @staticmethod
    async def _beat(task: Any, done: asyncio.Event) -> None:
        # The period is the task's own (set when it was submitted), three beats to it,
        # so one slow Redis round trip is not taken for a death. The loop ends on
        # ``done`` rather than on cancellation: a cancel arriving inside redis-py's
        # command can be swallowed, and the block would then wait for it forever.
        period = max(task.heartbeat, 1) / 3
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), period)
                return
            with contextlib.suppress(Exception):
                async with asyncio.timeout(period):
                    await task.update()

    async def _run(
        self,
        ctx: Context,
        *,
        portal: str,
        job_id: str,
        operation: str,
        from_type: str,
        to_type: str,
        index: int,
        inputs: list[Any],
    ) -> dict[str, Any]:
        """The block task: skip it if done or stopped, else run and commit it."""
        state = await self.store.stopped(job_id)
        if state is not None:
            return {"skipped": "stopped", "reason": state}
        if await self.store.is_done(job_id, index):
            return {"skipped": "done"}
        task = ctx["job"]
        done = asyncio.Event()
        beat = asyncio.create_task(self._beat(task, done))
        try:
            client = await self._client(portal)
            result = await run_block(
                client, operation, from_type, to_type, index, from_json(operation, inputs)
            )
            await self.store.commit(job_id, result)
        except APIError as exc:
            # Retrying cannot help (the DAILY limit, a revoked token): stop the job, not
            # the worker, and not the other portals.
            policy = getattr(exc, "policy_name", None)
            reason = f"{type(exc).__name__}{f' {policy}' if policy else ''}: {exc}"
            logger.warning("hubassoc job %s stopped on portal %s: %s", job_id, portal, reason)
            await self.store.stop(job_id, reason)
            return {"stopped": reason}
        except Exception as exc:
            if task.attempts >= task.retries:
                # SAQ gives up on the block now: say so in the store, so that waiting
                # for the job ends instead of waiting for a block that will never come.
                reason = f"block {index} failed {task.attempts} times: {type(exc).__name__}: {exc}"
                await self.store.stop(job_id, reason)
            raise
        finally:
            done.set()
            await beat
        return {"lines": len(result.lines), "failed": len(result.failed)}

    def worker(self, portal: str, *, concurrency: int = 4, sweep: int = 10) -> Worker[Context]:
        """A SAQ worker for ``portal``'s queue: ``concurrency`` blocks at once.

        ``sweep`` is how often (seconds) it looks for blocks whose worker died. Use
        :meth:`serve` to run workers for several portals in one process.
        """
        return Worker(
            self.queue(portal),
            functions=[(BLOCK_TASK, self._run)],
            concurrency=concurrency,
            # SAQ types every timer as required; it fills in the ones left out.
            timers=cast(PartialTimersDict, {"sweep": sweep}),
        )

    async def serve(
        self,
        portals: Iterable[str],
        *,
        concurrency: int = 4,
        sweep: int = 10,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Work on the queues of ``portals`` until ``stop`` is set, SIGTERM or SIGINT.

        One SAQ worker per portal, each running up to ``concurrency`` blocks; the
        portals' clients are opened on first use and closed on return.
        """
        workers = [self.worker(p, concurrency=concurrency, sweep=sweep) for p in portals]
        if not workers:
            raise InvalidInputError("serve needs at least one portal")
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for worker in workers:
            # One handler for all the workers: each SAQ worker would replace the last's.
            worker.SIGNALS = []
        for signum in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        running = [asyncio.create_task(w.start()) for w in workers]
        try:
            waiting = asyncio.create_task(stop.wait())
            await asyncio.wait([waiting, *running], return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        finally:
            for worker in workers:
                await worker.stop()
            await asyncio.gather(*running, return_exceptions=True)
            for signum in signals:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            await self.close_clients()

    async def close_clients(self) -> None:
        """Close the portals' clients opened in this process (pending limiter writes first)."""
        opened, self._clients = self._clients, {}
        for client, limit in opened.values():
            await client.close()
            await limit.flush()

    async def close(self) -> None:
        """Close the clients, and the Redis connection if the fleet made it."""
        await self.close_clients()
        if self._owns_redis:
            await self.redis.aclose()
