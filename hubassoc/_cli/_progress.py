"""Progress on stderr: a redrawn bar on a terminal, periodic plain lines elsewhere."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TextIO

import attrs

from .._models import Progress
from ._status import _PROG


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
    at the start and one at the end, for log files and schedulers. ``calls`` are the
    requests the job made before its first block (``create``'s label lookup).
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
        calls: int = 0,
    ) -> None:
        self._stream = stream
        self._operation = operation
        self._unit = unit
        self._total = total
        self._base = already_done
        self._done = already_done
        self._failed = already_failed
        self._calls = calls  # requests the job made before its first block
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
    """Routes the library's log records through ``write`` (the reporter's), so the bar stays whole."""

    def __init__(self, write: Callable[[str], object]) -> None:
        super().__init__()
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        self._write(f"{_PROG}: {record.levelname.lower()}: {record.getMessage()}")
