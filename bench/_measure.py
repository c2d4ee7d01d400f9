"""What every benchmark client process shares: the workload spec, the measuring, the report.

A client process is started as ``python -m bench.<client> '<spec JSON>'``. It imports
its library, then measures only the workload: ``resource.getrusage(RUSAGE_SELF)`` user +
system CPU and wall time around it, so interpreter start-up and imports (the same for
every run of a client, and large for the generated SDKs) are reported apart as
``startup_cpu_s``. Peak RSS is the process's high-water mark (see :func:`peak_rss_mb`
for why it is read from /proc rather than ``ru_maxrss``), so it does include the
imported library: that memory is what a user of the library pays.

The clock stops once the workload's consumer has touched every association (and, where
a workload has them, taken the ids without any): what a user pays for a result includes
using it. The digest of what the consumer took is computed after the clock stops, so
sorting 280,000 pairs is not charged to anyone. The report is one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import json
import resource
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs

from bench._data import ReadSet, WriteSet, digest_ids, digest_pairs


@attrs.frozen
class Spec:
    """One workload for one client, as the runner describes it."""

    workload: str  # read | stream | none | none-stream | rate | associate | archive
    url: str
    token: str
    concurrency: int
    from_type: str
    to_type: str
    read_set: ReadSet | None = None
    write_set: WriteSet | None = None
    read_chunk: int = 1000
    write_chunk: int = 100
    rate_limit: tuple[int, float] | None = None

    @classmethod
    def from_json(cls, text: str) -> Spec:
        """Parse the runner's JSON."""
        raw: dict[str, Any] = json.loads(text)
        if raw.get("read_set"):
            raw["read_set"] = ReadSet(**raw["read_set"])
        if raw.get("write_set"):
            raw["write_set"] = WriteSet(**raw["write_set"])
        if raw.get("rate_limit"):
            raw["rate_limit"] = (int(raw["rate_limit"][0]), float(raw["rate_limit"][1]))
        return cls(**raw)

    def to_json(self) -> str:
        """Serialise for the command line."""
        return json.dumps(attrs.asdict(self))

    # Cached, and built by run_client before the clock starts: generating 100,000 ids
    # is the benchmark's work, not the client's.
    @functools.cached_property
    def ids(self) -> list[str]:
        """The from-ids of a read workload."""
        assert self.read_set is not None
        return self.read_set.ids()

    @functools.cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """The pairs of a write workload."""
        assert self.write_set is not None
        return self.write_set.pairs()


@attrs.define
class Outcome:
    """What a workload hands back: enough to verify it, and any figures of its own.

    ``pairs`` and ``without`` are called after the clock stops and give back what the
    consumer took from the client's own result objects, so verification sees exactly
    what a user of the library would see.
    """

    associations: int
    pairs: Callable[[], Iterable[tuple[Any, Any]]] | None = None
    without: Callable[[], Iterable[Any]] | None = None
    without_count: int | None = None
    digest: str | None = None
    extra: dict[str, Any] = attrs.Factory(dict)


Workload = Callable[[Spec], Awaitable[Outcome] | Outcome]


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(usage: resource.struct_rusage) -> float:
    """This process's peak resident set size, in MiB.

    ``ru_maxrss`` would do, except that Linux carries the parent's high-water mark
    across fork and exec, so every client would report at least the runner's own
    peak. ``VmHWM`` in ``/proc/self/status`` is the same high-water mark for this
    process's address space alone, which exec starts afresh; ``ru_maxrss`` is the
    fallback where there is no /proc.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return usage.ru_maxrss / 1024  # KiB on Linux


def run_client(name: str, workloads: Mapping[str, Workload], *, note: str | None = None) -> None:
    """Run the workload named by ``sys.argv[1]`` and print one JSON line about it."""
    spec = Spec.from_json(sys.argv[1])
    report: dict[str, Any] = {"client": name, "workload": spec.workload}
    if note:
        report["note"] = note
    fn = workloads.get(spec.workload)
    if fn is None:
        report["skipped"] = f"{name} has no {spec.workload} workload"
        print(json.dumps(report), flush=True)
        return
    # The argument parsing and the id lists are set-up, not client work.
    if spec.read_set is not None:
        _ = spec.ids
    if spec.write_set is not None:
        _ = spec.pairs
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF)
    # Everything the process spent before the workload: interpreter, imports, set-up.
    report["startup_cpu_s"] = round(_cpu(before), 4)
    started = time.perf_counter()
    try:
        result = fn(spec)
        outcome: Outcome = (
            asyncio.run(result)  # type: ignore[arg-type]
            if inspect.isawaitable(result)
            else result
        )
    except Exception as exc:  # report, do not crash: the runner shows it in the table
        report["error"] = f"{type(exc).__name__}: {exc}"[:500]
        report["traceback"] = traceback.format_exc()[-2000:]
        print(json.dumps(report), flush=True)
        return
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    report.update(
        wall_s=wall,
        cpu_s=_cpu(after) - _cpu(before),
        user_s=after.ru_utime - before.ru_utime,
        sys_s=after.ru_stime - before.ru_stime,
        peak_rss_mb=peak_rss_mb(after),
        ru_maxrss_mb=after.ru_maxrss / 1024,
        associations=outcome.associations,
        **outcome.extra,
    )
    if outcome.digest is not None:
        report["digest"] = outcome.digest
    elif outcome.pairs is not None:
        report["digest"] = digest_pairs(outcome.pairs())
    if outcome.without is not None:
        report["without_digest"] = digest_ids(outcome.without())
    if outcome.without_count is not None:
        report["without_count"] = str(outcome.without_count)
    print(json.dumps(report), flush=True)
