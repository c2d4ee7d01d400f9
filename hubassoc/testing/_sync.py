"""How tests synchronise with the emulator: the hold gate, the closing signal, state waiters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Final

# Loop passes aiohttp takes from reading a request's bytes to calling its handler
# (two with aiohttp 3.14), with room to spare.
_SETTLE_PASSES: Final = 4
# A steady stream of arrivals must not put builds off for ever.
_SETTLE_ROUNDS: Final = 8


class _Sync:
    """Hold/release of handlers, delays cut short by close, and waits on a predicate.

    The events are created in :meth:`start`, inside the serving loop.
    """

    __slots__ = ("_batch", "_closing", "_gate", "_held", "_settler", "_waiters")

    def __init__(self) -> None:
        self._held = False
        self._gate: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._batch: asyncio.Event | None = None
        self._settler: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._gate = asyncio.Event()
        if not self._held:
            self._gate.set()
        self._closing = asyncio.Event()
        # A batch left by a loop that stopped mid-settle would never be set.
        self._batch = self._settler = None

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

    async def settle(self, arrivals: Callable[[], int]) -> None:
        """Return once the loop has taken in the requests already at the socket.

        ``arrivals()`` counts the requests whose handler has started. Callers return
        in the order they called, so answers are still built in that order.
        """
        batch = self._batch
        if batch is None:
            batch = self._batch = asyncio.Event()
            self._settler = asyncio.get_running_loop().create_task(self._settle(batch, arrivals))
        await batch.wait()

    async def _settle(self, batch: asyncio.Event, arrivals: Callable[[], int]) -> None:
        try:
            for _ in range(_SETTLE_ROUNDS):
                seen = arrivals()
                for _ in range(_SETTLE_PASSES):
                    await asyncio.sleep(0)
                if arrivals() == seen:
                    break
        finally:
            # Later callers start a batch of their own, so they build after this one.
            self._batch = None
            batch.set()
