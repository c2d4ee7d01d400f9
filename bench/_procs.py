"""The runner's processes: emulators, client runs, and the rival tenant.

Every emulator (:mod:`bench._server`), client (``bench.hubassoc_client``,
``bench.baselines.*``) and rival (:mod:`bench._rival`) is a process of its own, so no
process's CPU or memory is counted as another's.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from bench._measure import Spec

ROOT = Path(__file__).resolve().parent.parent


@attrs.frozen
class ClientInfo:
    """A client under benchmark: its module, the package it needs, its workloads."""

    name: str
    module: str
    requires: str | None  # import name that must be importable, if any
    workloads: frozenset[str]


@attrs.define
class Emulator:
    """A running ``bench._server`` process."""

    process: subprocess.Popen[str]
    url: str
    admin: str
    seed_s: float

    def _call(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(self.admin + path, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def stats(self) -> dict[str, Any]:
        """Request count, status counts and CPU time of the emulator so far."""
        result: dict[str, Any] = self._call("/stats")
        return result

    def graph(self, types: tuple[str, str]) -> dict[str, Any]:
        """Size and digest of one directed graph."""
        result: dict[str, Any] = self._call(f"/graph?from={types[0]}&to={types[1]}")
        return result

    def reset(self) -> None:
        """Forget every recorded request and seed the data sets again."""
        self._call("/reset", method="POST")

    def stop(self) -> None:
        """Close its stdin (it exits on EOF) and wait."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def emulators(configs: dict[str, list[str]]) -> Iterator[dict[str, Emulator]]:
    """Start one emulator per configuration, all at once (seeding a million associations
    takes seconds), and stop them however the block ends."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "bench._server", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, args in configs.items()
    }
    running: dict[str, Emulator] = {}
    try:
        for name, proc in procs.items():
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"emulator {name!r} did not start (exit code {proc.wait()})")
            info = json.loads(line)
            running[name] = Emulator(proc, info["url"], info["admin"], info["seed_s"])
        yield running
    finally:
        for name, proc in procs.items():
            if name in running:
                running[name].stop()
            elif proc.poll() is None:
                proc.kill()
                proc.wait()


def run_client(client: ClientInfo, spec: Spec, emu: Emulator, workload: str) -> dict[str, Any]:
    """Run one client process for one workload; add the emulator's view of the run."""
    before = emu.stats()
    proc = subprocess.run(
        [sys.executable, "-m", client.module, spec.to_json()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    after = emu.stats()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {
            "client": client.name,
            "workload": workload,
            "error": f"exit code {proc.returncode}: {proc.stderr.strip()[-500:]}",
        }
    report: dict[str, Any] = json.loads(lines[-1])
    report["workload"] = workload
    statuses = {
        k: v - before["status_counts"].get(k, 0)
        for k, v in after["status_counts"].items()
        if v - before["status_counts"].get(k, 0)
    }
    report["calls"] = after["requests"] - before["requests"]
    report["server_statuses"] = statuses
    report["server_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    return report


@attrs.define
class Rival:
    """A running :mod:`bench._rival` process."""

    process: subprocess.Popen[str]

    def finish(self) -> list[tuple[float, int]]:
        """Stop it and return its (start, status) stamps."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        out = self.process.stdout.read()
        self.process.wait(timeout=30)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(
                f"the rival process reported nothing (exit {self.process.returncode})"
            )
        return [(float(t), int(s)) for t, s in json.loads(lines[-1])["stamps"]]


@contextlib.contextmanager
def rival(config: dict[str, Any]) -> Iterator[Rival]:
    """Start a rival tenant; it is sending on schedule once this yields."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._rival", json.dumps(config)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if not proc.stdout.readline():
        proc.wait()
        raise SystemExit(f"the rival process did not start (exit code {proc.returncode})")
    handle = Rival(proc)
    try:
        yield handle
    finally:
        if proc.poll() is None:
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
