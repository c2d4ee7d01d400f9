"""One run of a job command: blocks scheduled, committed, checkpointed and reported."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from .._auth import TokenSource
from .._client import READ_LIMIT, Client
from .._exceptions import HubSpotError
from .._models import Progress
from ._checkpoint import Checkpoint, CheckpointState, fingerprint
from ._commands import _BlockOutcome, _Command, _Target
from ._inputs import ParsedInput, format_inputs
from ._outputs import _Sink
from ._progress import ProgressReporter, _count, _counted, _ReporterLogHandler
from ._status import _PROG, EXIT_FAILED, EXIT_OK, _UsageError


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
        """Run the job (resuming it if its checkpoint says so); return the exit status.

        What the command settles first (``create``'s labels) is settled before any file
        is touched, so a label that names nothing changes nothing.
        """
        args = self.args
        async with client:
            try:
                target = await self.command.prepare(
                    client, args.from_type, args.to_type, self.parsed.items
                )
            except HubSpotError as exc:
                self._say(f"error: HubSpot stopped the job: {exc}; no block was started")
                return EXIT_FAILED
            return await self._open_and_run(target, base_url)

    async def _open_and_run(self, target: _Target, base_url: str) -> int:
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
            return await self._run(target, checkpoint, state, out, failed_sink)
        finally:
            out.close()
            if failed_sink is not None:
                failed_sink.close()
            if checkpoint is not None:
                checkpoint.close()

    async def _run(
        self,
        target: _Target,
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
            calls=target.calls,
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
            async with contextlib.aclosing(self._schedule(target, pending, reporter)) as outcomes:
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
        self, target: _Target, pending: list[int], reporter: ProgressReporter
    ) -> AsyncGenerator[tuple[int, _BlockOutcome], None]:
        """Yield ``(block index, outcome)`` as blocks finish, at most ``concurrency`` at once."""
        args, runner = self.args, self.command.runner
        queue = list(reversed(pending))
        running: dict[asyncio.Task[_BlockOutcome], int] = {}

        def start(index: int) -> None:
            def report(progress: Progress) -> None:
                reporter.block_progress(index, progress)

            call = runner(target, self.blocks[index], report)
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
