"""How tests synchronise with the emulator: the hold gate, the closing signal, state waiters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class _Sync:
    """Hold/release of handlers, delays cut short by close, and waits on a predicate.

    The events are created in :meth:`start`, inside the serving loop.
    """

    __slots__ = ("_closing", "_gate", "_held", "_waiters")

    def __init__(self) -> None:
        self._held = False
        self._gate: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def start(self) -> None:
        self._gate = asyncio.Event()
        if not self._held:
            self._gate.set()
        self._closing = asyncio.Event()

    def closing(self) -> None:
        """Release held handlers and cut pending delays short."""
        self.release()
        if self._closing is not None:
            self._closing.set()

    def fail_waiters(self, message: str) -> None:
        waiters, self._waiters = self._waiters, []
        for _, future in waiters:
            if not future.done():
                future.set_exception(RuntimeError(message))

    def hold(self) -> None:
        self._held = True
        if self._gate is not None:
            self._gate.clear()

    def release(self) -> None:
        self._held = False
        if self._gate is not None:
            self._gate.set()

    async def pass_gate(self) -> None:
        if self._gate is not None:
            await self._gate.wait()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            await future
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def notify(self) -> None:
        if not self._waiters:
            return
        for predicate, future in list(self._waiters):
            if not future.done() and predicate():
                future.set_result(None)

    async def pause(self, delay: float) -> None:
        if delay <= 0:
            return
        closing = self._closing
        if closing is None or closing.is_set():
            return
        # Waiting on the closing event rather than sleeping lets close() finish
        # promptly instead of waiting out aiohttp's shutdown timeout.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await closing.wait()
