"""Where a job's progress lives: the :class:`Store` interface and its two implementations.

A store records each finished block of a job together with what the block wrote, in
one durable step, so that whatever it says is done is done: a job stopped at any
instant, even by SIGKILL, is resumed from its store and redoes at most the blocks that
were in flight. Both stores keep one outcome per block index, so a block run twice
(a worker that died after HubSpot answered, a queue that delivered a task again)
leaves its output once.

- :class:`FileStore`: a checkpoint file and output files on one machine, every write
  flushed and fsynced (what the ``hubassoc`` command line does). One job, one process.
- :class:`RedisStore`: every job's blocks and outputs in Redis, for workers on many
  machines. Each commit is one ``MULTI``/``EXEC`` transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import attrs

from ._blocks import OPERATIONS, BlockResult, from_json

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["FileStore", "JobInfo", "JobState", "RedisStore", "Store", "StoreError"]


class StoreError(Exception):
    """A store that belongs to another job, or output files that no longer match it."""


@attrs.frozen
class JobInfo:
    """What a store is told about a job when it begins: enough to refuse another job's state.

    Attributes:
        id: the job's name in the store.
        fingerprint: a digest of everything that decides what the job writes.
        operation: ``read``, ``associate``, ``archive`` or ``purge``.
        from_type, to_type: the object types.
        blocks: how many blocks the job has.
        inputs: how many inputs, in all blocks.
    """

    id: str
    fingerprint: str
    operation: str
    from_type: str
    to_type: str
    blocks: int
    inputs: int


@attrs.frozen
class BlockRecord:
    """What a store keeps about a finished block besides its output: how much it wrote."""

    lines: int
    failed: int


@attrs.define
class JobState:
    """A job's progress as its store has it.

    Attributes:
        done: finished blocks, by index.
        stopped: why the job was stopped (HubSpot's DAILY limit, a revoked token...), or
            None. Set by the task-queue integration, which has no caller to raise to.
    """

    done: dict[int, BlockRecord] = attrs.Factory(dict)
    stopped: str | None = None

    @property
    def lines(self) -> int:
        """Output lines written by the finished blocks."""
        return sum(r.lines for r in self.done.values())

    @property
    def failed(self) -> int:
        """Inputs that failed in the finished blocks."""
        return sum(r.failed for r in self.done.values())


@runtime_checkable
class Store(Protocol):
    """Where :meth:`hubassoc.Job.run` records finished blocks.

    ``commit`` must be durable and atomic (a block is recorded with all it wrote, or not
    at all) and idempotent per block index (committing a block again replaces it).
    """

    async def begin(self, job: JobInfo) -> JobState:
        """Start or resume ``job``; raise :class:`StoreError` if the store holds another job."""
        ...

    async def commit(self, job_id: str, result: BlockResult) -> None:
        """Record one finished block and its outcome."""
        ...

    async def complete(self, job_id: str) -> None:
        """Every block of the job is done."""
        ...

    async def close(self) -> None:
        """Release what the store opened (files); the recorded state stays."""
        ...


# ---------------------------------------------------------------------------- file store

_CHECKPOINT_VERSION: Final = 1


def _json_lines(items: Sequence[Any], first: bool) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def _target(where: str | os.PathLike[str] | IO[bytes] | None) -> Path | IO[bytes] | None:
    if where is None:
        return None
    if isinstance(where, str | os.PathLike):
        return Path(where)
    return where


def _fsync_directory(path: Path) -> None:
    # A new file's directory entry is durable only once its directory is synced (POSIX).
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Appender:
    """A file appended to block by block, each append flushed and fsynced.

    Or a stream (standard output), written and flushed: it cannot be cut back, so what
    a resumed job wrote to it before is not taken back.
    """

    def __init__(self, target: Path | IO[bytes], name: str) -> None:
        self.path = target if isinstance(target, Path) else None
        self.name = name
        self.size = 0
        self._stream = None if isinstance(target, Path) else target
        self._file: IO[bytes] | None = None

    def open(self, keep: int) -> None:
        """Open for appending, cut back to its first ``keep`` bytes."""
        if self.path is None:
            self._file = self._stream
            return
        if keep:
            try:
                actual = self.path.stat().st_size
            except FileNotFoundError:
                actual = -1
            if actual < keep:
                raise StoreError(
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
        if not data:
            return
        assert self._file is not None
        self._file.write(data)
        self._file.flush()
        if self.path is not None:
            os.fsync(self._file.fileno())
        self.size += len(data)

    def close(self) -> None:
        if self._file is not None and self.path is not None:
            self._file.close()
        self._file = None


class FileStore:
    """One job's checkpoint in a local file, its output and failed inputs in files beside it.

    When a block finishes, its output lines are appended to ``out`` and its failed inputs
    to ``failed`` (each flushed and fsynced), and then a line recording the block and the
    sizes both files reached is appended to the checkpoint (flushed and fsynced too). A
    job resumed from the checkpoint cuts both files back to the recorded sizes, so a block
    that was half written when the process died is written again exactly once.

    Args:
        path: the checkpoint file. Deleted when the job completes, unless ``keep=True``.
            None for no checkpoint: the outputs are written all the same, but a job
            stopped midway starts over.
        out: where output lines go (one JSON object a line): a file, or a binary
            stream such as ``sys.stdout.buffer`` (not cut back on resume, so best
            without a checkpoint); None to drop them.
        failed: where failed inputs go, as ``out``; None to drop them (they are still
            counted).
        format_failed: turns a block's failed inputs into text, given whether they are
            the first the file gets (to write a header); default one JSON value a line.
        keep: keep the checkpoint once the job is complete.

    The checkpoint belongs to one job: beginning another job (other inputs, operation or
    block size) with it raises :class:`StoreError`, as do files it cannot open. One process
    at a time.

    Example::

        store = hubassoc.FileStore("read.ckpt", out="associations.jsonl")
        await job.run(client, store)
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        out: str | os.PathLike[str] | IO[bytes] | None = None,
        failed: str | os.PathLike[str] | IO[bytes] | None = None,
        format_failed: Callable[[Sequence[Any], bool], str] = _json_lines,
        keep: bool = False,
    ) -> None:
        self.path = None if path is None else Path(path)
        out_target, failed_target = _target(out), _target(failed)
        self.out_path = out_target if isinstance(out_target, Path) else None
        self.failed_path = failed_target if isinstance(failed_target, Path) else None
        paths = [p.resolve() for p in (self.path, self.out_path, self.failed_path) if p]
        if len(set(paths)) != len(paths):
            raise ValueError("the checkpoint, out and failed files must be different files")
        self._format_failed = format_failed
        self._keep = keep
        self._job: JobInfo | None = None
        self._file: IO[bytes] | None = None
        self._out = None if out_target is None else _Appender(out_target, "out")
        self._failed = None if failed_target is None else _Appender(failed_target, "failed")

    def __repr__(self) -> str:
        return f"FileStore({None if self.path is None else str(self.path)!r})"

    def load(self, job: JobInfo) -> tuple[JobState, int, int, int] | None:
        """The recorded state, the out and failed sizes, and where the good part ends.

        None when the checkpoint is missing or empty (or the store has none). A torn last
        line (the process died while writing it) is ignored.
        """
        if self.path is None:
            return None
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not data.strip():
            return None
        state = JobState()
        out_size = failed_size = valid = 0
        offset = 0
        for number, line in enumerate(data.split(b"\n")):
            end = offset + len(line) + 1
            if end > len(data):  # no newline: torn
                break
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if number == 0:
                if (
                    not isinstance(record, dict)
                    or record.get("hubassoc_checkpoint") != _CHECKPOINT_VERSION
                ):
                    raise StoreError(f"{self.path} is not a hubassoc checkpoint")
                if (
                    record.get("fingerprint") != job.fingerprint
                    or record.get("blocks") != job.blocks
                ):
                    raise StoreError(
                        f"{self.path} was written by a job with other arguments or other input; "
                        "run that job again, or delete the checkpoint to start over"
                    )
            else:
                fields = ("block", "out", "failed", "lines", "failed_inputs")
                if not isinstance(record, dict) or not all(
                    isinstance(record.get(k), int) and not isinstance(record.get(k), bool)
                    for k in fields
                ):
                    break
                if not 0 <= record["block"] < job.blocks:
                    break
                state.done[record["block"]] = BlockRecord(record["lines"], record["failed_inputs"])
                out_size, failed_size = record["out"], record["failed"]
            offset = end
            valid = offset
        if valid == 0:
            raise StoreError(f"{self.path} is not a hubassoc checkpoint")
        return state, out_size, failed_size, valid

    async def begin(self, job: JobInfo) -> JobState:
        """Load the checkpoint (or start one) and open the output files where it left them."""
        try:
            return self._begin(job)
        except OSError as exc:
            await self.close()
            raise StoreError(f"cannot open {exc.filename}: {exc.strerror}") from exc
        except BaseException:
            await self.close()
            raise

    def _begin(self, job: JobInfo) -> JobState:
        loaded = self.load(job)
        if self.path is None:
            state, out_size, failed_size = JobState(), 0, 0
        elif loaded is None:
            state, out_size, failed_size = JobState(), 0, 0
            self._file = self.path.open("wb")
            header = {
                "hubassoc_checkpoint": _CHECKPOINT_VERSION,
                "fingerprint": job.fingerprint,
                "blocks": job.blocks,
            }
            self._append(header)
            _fsync_directory(self.path)
        else:
            state, out_size, failed_size, valid = loaded
            self._file = self.path.open("r+b")
            self._file.truncate(valid)
            self._file.seek(valid)
        self._job = job
        if self._out is not None:
            self._out.open(out_size)
        if self._failed is not None:
            self._failed.open(failed_size)
        return state

    def _append(self, record: dict[str, Any]) -> None:
        if self._file is None:  # no checkpoint
            return
        self._file.write(json.dumps(record).encode() + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    async def commit(self, job_id: str, result: BlockResult) -> None:
        """Append the block's output and failed inputs, then the checkpoint line."""
        if self._job is None or job_id != self._job.id:
            raise StoreError(f"{self!r} has not begun job {job_id!r}")
        # Synchronous on purpose: nothing interleaves between a block's output, its
        # failed inputs and its checkpoint line.
        if self._out is not None:
            self._out.append("".join(line + "\n" for line in result.lines).encode())
        if self._failed is not None and result.failed:
            text = self._format_failed(result.failed, self._failed.size == 0)
            self._failed.append(text.encode())
        self._append(
            {
                "block": result.index,
                "out": self._out.size if self._out is not None else 0,
                "failed": self._failed.size if self._failed is not None else 0,
                "lines": len(result.lines),
                "failed_inputs": len(result.failed),
            }
        )

    async def complete(self, job_id: str) -> None:
        """Close the files and delete the checkpoint (unless ``keep``); the outputs stay."""
        await self.close()
        if not self._keep and self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def close(self) -> None:
        """Close every file; the checkpoint stays on disk."""
        for appender in (self._out, self._failed):
            if appender is not None:
                appender.close()
        if self._file is not None:
            self._file.close()
            self._file = None


# ---------------------------------------------------------------------------- redis store

_DAY: Final = 86_400


class RedisStore:
    """Every job's finished blocks and outputs in Redis, shared by workers on many machines.

    A job named ``id`` lives in the keys ``<prefix>:{<id>}:meta``, ``:done``, ``:out``,
    ``:failed`` and ``:stop`` (one Redis Cluster slot), which expire ``ttl`` seconds after
    the last write. A block's commit writes its output lines, its failed inputs and its
    record in one ``MULTI``/``EXEC``, each under the block's index: a block committed
    twice is kept once. Read the output back with :meth:`lines` and :meth:`failed`.
    Needs redis-py (``pip install 'hubassoc[redis]'``).

    Example::

        store = hubassoc.RedisStore(redis.asyncio.Redis.from_url(url))
        await job.run(client, store)
        async for line in store.lines(job.id):
            ...
    """

    def __init__(
        self, redis: Redis, *, prefix: str = "hubassoc:job", ttl: float = 7 * _DAY
    ) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix must be a non-empty str, got {prefix!r}")
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
            raise ValueError(f"ttl must be a number of seconds > 0, got {ttl!r}")
        self.redis = redis
        self.prefix = prefix
        self.ttl = int(ttl)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    def _key(self, job_id: str, part: str) -> str:
        return f"{self.prefix}:{{{job_id}}}:{part}"

    def _keys(self, job_id: str) -> list[str]:
        return [self._key(job_id, p) for p in ("meta", "done", "out", "failed", "stop")]

    async def begin(self, job: JobInfo) -> JobState:
        """Record the job (or check that the recorded one is the same) and return its state."""
        meta = self._key(job.id, "meta")
        fields: dict[Any, Any] = {k: str(v) for k, v in attrs.asdict(job).items()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(meta, "fingerprint", job.fingerprint)
            pipe.hget(meta, "fingerprint")
            replies = await pipe.execute()
        recorded = replies[1].decode() if isinstance(replies[1], bytes) else replies[1]
        if recorded != job.fingerprint:
            raise StoreError(
                f"job {job.id!r} in Redis was begun with other arguments or other input; "
                "give this job another name, or delete the old one"
            )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(meta, mapping=fields)
            pipe.expire(meta, self.ttl)
            await pipe.execute()
        return await self.state(job.id)

    async def info(self, job_id: str) -> JobInfo | None:
        """The job as :meth:`begin` recorded it, or None."""
        raw = await self.redis.hgetall(self._key(job_id, "meta"))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        if "blocks" not in fields:
            return None
        return JobInfo(
            id=fields["id"],
            fingerprint=fields["fingerprint"],
            operation=fields["operation"],
            from_type=fields["from_type"],
            to_type=fields["to_type"],
            blocks=int(fields["blocks"]),
            inputs=int(fields["inputs"]),
        )

    async def state(self, job_id: str) -> JobState:
        """Finished blocks and the stop reason, as they stand."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._key(job_id, "done"))
            pipe.get(self._key(job_id, "stop"))
            done, stop = await pipe.execute()
        records = {}
        for key, value in done.items():
            record = json.loads(value)
            records[int(key)] = BlockRecord(record["lines"], record["failed"])
        return JobState(records, None if stop is None else _text(stop))

    async def is_done(self, job_id: str, index: int) -> bool:
        """Whether block ``index`` of the job is committed."""
        return bool(await self.redis.hexists(self._key(job_id, "done"), str(index)))

    async def commit(self, job_id: str, result: BlockResult) -> None:
        """Write the block's output, failed inputs and record in one transaction."""
        field = str(result.index)
        record = json.dumps({"lines": len(result.lines), "failed": len(result.failed)})
        meta, done, out, failed, _ = self._keys(job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(out, field, "\n".join(result.lines))
            pipe.hset(failed, field, json.dumps(result.failed))
            pipe.hset(done, field, record)
            for key in (meta, done, out, failed):
                pipe.expire(key, self.ttl)
            await pipe.execute()

    async def stopped(self, job_id: str) -> str | None:
        """Why the job was stopped, or None: one read, for a worker about to run a block."""
        reason = await self.redis.get(self._key(job_id, "stop"))
        return None if reason is None else _text(reason)

    async def stop(self, job_id: str, reason: str) -> None:
        """Mark the job stopped: blocks not yet started are not run until :meth:`resume`."""
        await self.redis.set(self._key(job_id, "stop"), reason, ex=self.ttl)

    async def resume(self, job_id: str) -> None:
        """Clear a stop, so the job's blocks run again."""
        await self.redis.delete(self._key(job_id, "stop"))

    async def complete(self, job_id: str) -> None:
        """Note the job complete; its outputs stay readable until they expire."""
        await self.redis.hset(self._key(job_id, "meta"), "complete", "1")

    async def lines(self, job_id: str, *, batch: int = 100) -> AsyncIterator[str]:
        """Every output line of the finished blocks, in block order."""
        info = await self.info(job_id)
        blocks = info.blocks if info is not None else 0
        out = self._key(job_id, "out")
        for start in range(0, blocks, batch):
            fields = [str(i) for i in range(start, min(start + batch, blocks))]
            for text in await self.redis.hmget(out, fields):
                if text:
                    for line in _text(text).split("\n"):
                        yield line

    async def failed(self, job_id: str) -> list[Any]:
        """The failed inputs of the finished blocks, in block order."""
        info = await self.info(job_id)
        raw = await self.redis.hgetall(self._key(job_id, "failed"))
        by_block = sorted((int(k), json.loads(v)) for k, v in raw.items())
        operation = info.operation if info is not None else "read"
        if operation not in OPERATIONS:  # a job with its own runner: its inputs as JSON gave them
            return [item for _, items in by_block for item in items]
        return [item for _, items in by_block for item in from_json(operation, items)]

    async def delete(self, job_id: str) -> None:
        """Forget the job: its record, progress and outputs."""
        await self.redis.delete(*self._keys(job_id))

    async def close(self) -> None:
        """Nothing to release: the Redis connection belongs to the caller."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
