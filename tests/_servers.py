"""Throwaway servers for the job and queue tests: redis-server on a free loopback port.

When the ``redis-server`` binary is missing the tests that need it skip with the reason
(``make test`` and ``.ci/run`` install it first).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time

import pytest

REDIS_SERVER = shutil.which("redis-server")
_NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A ``redis-server`` on a free loopback port, without persistence."""

    def __init__(self) -> None:
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None) -> None:
        """Start it (on ``port``, else a free one), or skip when redis-server is not installed."""
        if REDIS_SERVER is None:
            pytest.skip(
                "redis-server is not installed (`make test` and .ci/run install it with apt-get)"
            )
        # A port picked free can be taken before redis binds it; pick again then.
        for _ in range(5):
            self.port = port or free_port()
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", *_NO_PERSISTENCE],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_for_ping():
                return
            self.stop()
        raise RuntimeError("redis-server did not start")

    def _wait_for_ping(self, deadline: float = 10.0) -> bool:
        assert self.proc is not None
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return True
            try:
                # Pauses between attempts and notices a server that exited (port taken).
                self.proc.wait(timeout=0.02)
                return False
            except subprocess.TimeoutExpired:
                pass
        return False

    def stop(self) -> None:
        """Kill it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
