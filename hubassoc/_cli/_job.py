"""One run of a job command: a :class:`hubassoc.Job` over the input file, a
:class:`hubassoc.FileStore` for ``--out``, ``--failed`` and ``--checkpoint``, and what
the command line adds around them: signals, progress, and the closing lines."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from .._auth import TokenSource
from .._blocks import BlockResult
from .._client import READ_LIMIT, Client
from .._exceptions import HubSpotError
from .._jobs import BlockRunner, Job, JobSummary
from .._models import Progress
from .._stores import FileStore, JobState
from ._commands import _Command
from ._inputs import ParsedInput, format_inputs
from ._progress import ProgressReporter, _count, _counted, _ReporterLogHandler
from ._status import _PROG, EXIT_FAILED, EXIT_OK


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


class _Job:
    """One run of a job command (read, associate, create, archive, purge) over an input file."""

    def __init__(
        self, args: argparse.Namespace, command: _Command, parsed: ParsedInput[Any]
    ) -> None:
        self.args = args
        self.command = command
        self.parsed = parsed
        self.chunk_size: int = args.chunk_size or command.default_chunk
        self.stop = _Stop()
        self.stderr = sys.stderr
        self.reporter: ProgressReporter | None = None
        self.finished = 0  # blocks done, this run's and earlier ones'

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

    def _job(self, base_url: str, runner: BlockRunner | None) -> Job:
        args = self.args
        # Part of the fingerprint: a checkpoint resumes only the same portal and files.
        scope = {"base_url": base_url, "out": _abspath(args.out), "failed": _abspath(args.failed)}
        items = self.parsed.items
        if runner is not None:
            return Job.custom(
                args.command,
                args.from_type,
                args.to_type,
                items,
                runner,
                block_size=self.chunk_size,
                scope=scope,
            )
        return Job(
            args.command,
            args.from_type,
            args.to_type,
            items,
            block_size=self.chunk_size,
            scope=scope,
        )

    def _store(self) -> FileStore:
        args, fmt = self.args, self.parsed.format

        def format_failed(items: Sequence[Any], first: bool) -> str:
            return format_inputs(fmt, items, header=first)

        return FileStore(
            args.checkpoint or None,
            out=_output(args.out),
            failed=_output(args.failed) if args.failed else None,
            format_failed=format_failed,
        )

    async def run(self, client: Client, base_url: str) -> int:
        """Run the job (resuming it if its checkpoint says so); return the exit status.

        What the command settles first (``create``'s labels) is settled before any file
        is touched, so a label that names nothing changes nothing.
        """
        args = self.args
        async with client:
            runner, calls = None, 0
            if self.command.prepare is not None:
                try:
                    runner, calls = await self.command.prepare(
                        client, args.from_type, args.to_type, self.parsed.items
                    )
                except HubSpotError as exc:
                    self._say(f"error: HubSpot stopped the job: {exc}; no block was started")
                    return EXIT_FAILED
            return await self._run(client, self._job(base_url, runner), calls)

    def _start(self, job: Job, state: JobState, calls: int) -> None:
        """The store has been read: show where the job starts from."""
        self.finished = len(state.done)
        self.reporter = ProgressReporter(
            self.stderr,
            operation=self.args.command,
            unit=self.command.unit,
            total=len(job.inputs),
            already_done=sum(len(job.block(i)) for i in state.done),
            already_failed=state.failed,
            tty=self.stderr.isatty(),
            interval=self.args.progress_interval,
            calls=calls,
        )
        self.reporter.start()

    def _block_finished(self, job: Job, result: BlockResult) -> None:
        self.finished += 1
        assert self.reporter is not None
        self.reporter.block_finished(result.index, len(job.block(result.index)), len(result.failed))

    def _block_progress(self, index: int, progress: Progress) -> None:
        assert self.reporter is not None
        self.reporter.block_progress(index, progress)

    async def _run(self, client: Client, job: Job, calls: int) -> int:
        args = self.args
        logger = logging.getLogger("hubassoc")
        handler = _ReporterLogHandler(self.log)
        handler.setLevel(logging.INFO if args.verbose else logging.WARNING)
        logger.addHandler(handler)
        previous_level = logger.level
        logger.setLevel(handler.level)
        started = time.monotonic()
        summary: JobSummary | None = None
        stopped: int | None = None
        error: str | None = None
        self.stop.install()
        try:
            summary = await job.run(
                client,
                self._store(),
                max_blocks_in_flight=args.concurrency,
                on_start=lambda state: self._start(job, state, calls),
                on_block=lambda result: self._block_finished(job, result),
                on_progress=self._block_progress,
            )
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
        if self.reporter is not None:
            self.reporter.finish()

        if summary is None:
            where = f"{self.finished} of {job.blocks} blocks done"
            if args.checkpoint:
                resume = f"run the same command again to resume from {args.checkpoint}"
            else:
                resume = "the output is incomplete (use --checkpoint FILE to make jobs resumable)"
            if stopped is not None:
                self._say(f"stopped by {signal.Signals(stopped).name}: {where}; {resume}")
                return 128 + stopped
            self._say(f"error: {error}; {where}; {resume}")
            return EXIT_FAILED
        self._say(self._summary(summary, time.monotonic() - started))
        return EXIT_FAILED if summary.failed else EXIT_OK

    def _summary(self, summary: JobSummary, elapsed: float) -> str:
        args, command = self.args, self.command
        calls = self.reporter.calls if self.reporter is not None else 0
        retries = self.reporter.retries if self.reporter is not None else 0
        text = (
            f"{args.command} done: {_counted(len(self.parsed.items), *command.units)}"
            + (
                f", {_counted(summary.lines, 'line', 'lines')} written"
                if command.writes_output
                else ""
            )
            + f", {_count(summary.failed)} failed"
        )
        if summary.failed:
            text += f" (written to {args.failed})" if args.failed else " (use --failed FILE)"
        return text + (
            f"; {_counted(calls, 'request', 'requests')}, "
            f"{_counted(retries, 'retry', 'retries')} in {elapsed:.1f}s"
        )

    def log(self, message: str) -> None:
        """A log line, through the progress display once there is one."""
        if self.reporter is not None:
            self.reporter.log(message)
        else:
            self.stderr.write(message + "\n")
            self.stderr.flush()


def _abspath(path: str | None) -> str | None:
    return None if path in (None, "-") else os.path.abspath(path)


def _output(path: str | None) -> str | IO[bytes]:
    """A file, or standard output for none or ``-``."""
    return sys.stdout.buffer if path in (None, "-") else str(path)
