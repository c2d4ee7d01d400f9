"""hubassoc's benchmark: hubassoc against a raw aiohttp loop and HubSpot's own SDKs.

Usage::

    python bench/run.py            # default sizes, ~2 minutes on 2 cores; writes bench/results/
    python bench/run.py --smoke    # tiny sizes, a few seconds; writes nothing unless --out
    python bench/run.py --help     # every size and option

The emulator (:mod:`hubassoc.testing`) runs in processes of its own on 127.0.0.1, so
its work is never counted as a client's; every client runs in a process of its own and
measures itself (see :mod:`bench._measure`). Workloads, as in issue 4:

(a) read: every association of 20,000 ids (~10 each, 1% over 3 pages)
(b) associate: 20,000 pairs with the default association
(c) archive: the same 20,000 pairs
(d) stream: 1,000,000 associations through ``async for``: peak RSS
(e) rate: against an emulator enforcing N requests per window, client set to match
(f) latency: 50 ms per call; wall time against ceil(calls / concurrency) x latency

A client's figures count only if what it returned is exactly what the emulator holds:
a digest of the sorted (from, to) pairs (for archive, the emulator's graph afterwards).
Output: a table, one JSON line (the last line of stdout), and with ``--out`` (the default
for a full run) ``latest.md``, ``latest.json`` and ``bench.png`` in that directory.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench._data import (  # noqa: E402
    DEFAULT,
    READ_TYPES,
    SMOKE,
    STREAM_TYPES,
    WRITE_TYPES,
    ReadSet,
    Sizes,
    stream_digest,
)
from bench._measure import Spec  # noqa: E402
from bench._server import TOKEN  # noqa: E402

RESULTS = ROOT / "bench" / "results"


@attrs.frozen
class ClientInfo:
    """A client under benchmark: its module, the package it needs, its workloads."""

    name: str
    module: str
    requires: str | None  # import name that must be importable, if any
    workloads: frozenset[str]


CLIENTS = (
    ClientInfo(
        "hubassoc",
        "bench.hubassoc_client",
        None,
        frozenset({"read", "associate", "archive", "stream", "rate", "latency"}),
    ),
    ClientInfo(
        "raw aiohttp",
        "bench.baselines.raw_aiohttp",
        None,
        frozenset({"read", "associate", "archive", "stream", "latency"}),
    ),
    ClientInfo(
        "hubspot-api-client",
        "bench.baselines.official_sdk",
        "hubspot",
        frozenset({"read", "associate", "archive", "latency"}),
    ),
    ClientInfo(
        "hubspot-sdk",
        "bench.baselines.hubspot_sdk",
        "hubspot_sdk",
        frozenset({"read", "associate", "archive", "latency"}),
    ),
)
RAW = "raw aiohttp"
WORKLOADS = ("read", "associate", "archive", "stream", "rate", "latency")
LABELS = {
    "read": "(a) read",
    "associate": "(b) associate",
    "archive": "(c) archive",
    "stream": "(d) stream",
    "rate": "(e) rate-limited",
    "latency": "(f) latency",
}
#: Clients cheap enough to run ``--repeat`` times; the SDKs take 5-15 s a read and run once.
REPEATED = {"hubassoc", RAW}


# --------------------------------------------------------------------------- emulators


@attrs.define
class Emulator:
    """A running ``bench._server`` process."""

    process: subprocess.Popen[str]
    url: str
    admin: str
    seed_s: float

    def get(self, path: str) -> Any:
        """GET a JSON document from the admin app."""
        with urllib.request.urlopen(self.admin + path, timeout=30) as response:
            return json.load(response)

    def stats(self) -> dict[str, Any]:
        """Request count, status counts and CPU time of the emulator so far."""
        result: dict[str, Any] = self.get("/stats")
        return result

    def graph(self, types: tuple[str, str]) -> dict[str, Any]:
        """Size and digest of one directed graph."""
        result: dict[str, Any] = self.get(f"/graph?from={types[0]}&to={types[1]}")
        return result

    def stop(self) -> None:
        """Close its stdin (it exits on EOF) and wait."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_emulators(configs: dict[str, list[str]]) -> dict[str, Emulator]:
    """Start one emulator per configuration, all at once (seeding takes a second or two)."""
    procs: dict[str, subprocess.Popen[str]] = {}
    for name, args in configs.items():
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "bench._server", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    emulators: dict[str, Emulator] = {}
    for name, proc in procs.items():
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"emulator {name!r} did not start (exit code {proc.wait()})")
        info = json.loads(line)
        emulators[name] = Emulator(proc, info["url"], info["admin"], info["seed_s"])
    return emulators


@contextlib.contextmanager
def running(configs: dict[str, list[str]]) -> Iterator[dict[str, Emulator]]:
    """Start the emulators and stop them however the run ends."""
    emulators: dict[str, Emulator] = {}
    try:
        emulators = start_emulators(configs)
        yield emulators
    finally:
        for emulator in emulators.values():
            emulator.stop()


# --------------------------------------------------------------------------- running clients


def run_client(client: ClientInfo, spec: Spec, emulator: Emulator) -> dict[str, Any]:
    """Run one client process for one workload; add the emulator's view of the run."""
    before = emulator.stats()
    proc = subprocess.run(
        [sys.executable, "-m", client.module, spec.to_json()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    after = emulator.stats()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {
            "client": client.name,
            "workload": spec.workload,
            "error": f"exit code {proc.returncode}: {proc.stderr.strip()[-500:]}",
        }
    report: dict[str, Any] = json.loads(lines[-1])
    statuses = {
        k: v - before["status_counts"].get(k, 0)
        for k, v in after["status_counts"].items()
        if v - before["status_counts"].get(k, 0)
    }
    report["calls"] = after["requests"] - before["requests"]
    report["server_statuses"] = statuses
    report["server_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    return report


def _read_spec(sizes: Sizes, workload: str, url: str, data: ReadSet, chunk: int) -> Spec:
    types = STREAM_TYPES if workload == "stream" else READ_TYPES
    return Spec(
        workload=workload,
        url=url,
        token=TOKEN,
        concurrency=sizes.concurrency,
        from_type=types[0],
        to_type=types[1],
        read_set=data,
        read_chunk=chunk,
        rate_limit=sizes.rate_limit if workload == "rate" else None,
    )


def _verify(row: dict[str, Any], expected: str, what: str) -> None:
    if "error" in row:
        row["verified"] = False
        row["why"] = row["error"]
    elif row.get("digest") != expected:
        row["verified"] = False
        row["why"] = f"{what} digest {row.get('digest')} != expected {expected}"
    else:
        row["verified"] = True


def _summarise(runs: list[dict[str, Any]], expected: str, what: str) -> dict[str, Any]:
    """One row for a client's runs: the run with the median client CPU.

    Every run is verified, not only the one reported, and a single failed run fails the
    row: a client that is right two times out of three does not count.
    """
    for run in runs:
        _verify(run, expected, what)
    failed = [r for r in runs if not r["verified"]]
    if failed:
        row = dict(failed[0])
        if len(runs) > 1:
            row["why"] = f"{len(failed)} of {len(runs)} runs failed: {row['why']}"
        return row
    ordered = sorted(runs, key=lambda r: r["cpu_s"])
    row = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        row["runs"] = len(runs)
        row["cpu_s_all"] = [round(r["cpu_s"], 4) for r in runs]
    return row


def bench_reads(
    workload: str,
    clients: Sequence[ClientInfo],
    sizes: Sizes,
    emulator: Emulator,
    data: ReadSet,
    chunk: int,
    repeat: int,
    log: Any,
) -> list[dict[str, Any]]:
    """Workloads (a), (d), (e), (f): each client reads ``data``; digests are compared."""
    expected = stream_digest(data) if workload == "stream" else data.digest()
    spec = _read_spec(sizes, workload, emulator.url, data, chunk)
    runs: dict[str, list[dict[str, Any]]] = {c.name: [] for c in clients}
    for i in range(repeat):
        for client in clients:
            if i and client.name not in REPEATED:
                continue
            runs[client.name].append(run_client(client, spec, emulator))
            log(f"  {LABELS[workload]:<17} {client.name:<19} {_brief(runs[client.name][-1])}")
    rows = [_summarise(runs[client.name], expected, "associations") for client in clients]
    hubassoc_digest = next((r.get("digest") for r in rows if r["client"] == "hubassoc"), None)
    for row in rows:  # the brief's own check: same answer as hubassoc's
        if row["verified"] and hubassoc_digest is not None and row["digest"] != hubassoc_digest:
            row["verified"] = False
            row["why"] = "differs from hubassoc's answer"
    return rows


def bench_writes(
    clients: Sequence[ClientInfo], sizes: Sizes, emulator: Emulator, repeat: int, log: Any
) -> list[dict[str, Any]]:
    """Workloads (b) and (c): each client associates the pairs, then archives them.

    The emulator's graph is checked around every run: empty before associate, exactly
    the pairs after it, empty again after archive, so every client starts from the same
    state and its writes are verified on the server, not only in what it returned.
    """
    data = sizes.write_set()
    expected = data.digest()
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i in range(repeat):
        for client in clients:
            if i and client.name not in REPEATED:
                continue
            for workload in ("associate", "archive"):
                spec = Spec(
                    workload=workload,
                    url=emulator.url,
                    token=TOKEN,
                    concurrency=sizes.concurrency,
                    from_type=WRITE_TYPES[0],
                    to_type=WRITE_TYPES[1],
                    write_set=data,
                )
                before = emulator.graph(WRITE_TYPES)
                row = run_client(client, spec, emulator)
                after = emulator.graph(WRITE_TYPES)
                want_before = 0 if workload == "associate" else data.count
                want_after = data.count if workload == "associate" else 0
                if "error" not in row and before["pairs"] != want_before:
                    row["error"] = (
                        f"emulator held {before['pairs']} pairs before, not {want_before}"
                    )
                elif "error" not in row and after["pairs"] != want_after:
                    row["error"] = f"emulator holds {after['pairs']} pairs after, not {want_after}"
                elif workload == "associate" and after["digest"] != expected:
                    row["error"] = "emulator's graph is not the pairs sent"
                if workload == "archive" and "error" not in row:
                    row["digest"] = expected  # verified on the server: every pair is gone
                runs.setdefault((client.name, workload), []).append(row)
                log(f"  {LABELS[workload]:<17} {client.name:<19} {_brief(row)}")
    return [
        _summarise(runs[(client.name, workload)], expected, "pairs")
        for workload in ("associate", "archive")
        for client in clients
    ]


def _brief(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"ERROR {row['error'][:200]}"
    if "skipped" in row:
        return f"skipped: {row['skipped']}"
    return (
        f"wall {row['wall_s']:.2f}s cpu {row['cpu_s']:.2f}s rss {row['peak_rss_mb']:.0f}MB "
        f"calls {row['calls']} server cpu {row['server_cpu_s']:.2f}s"
    )


# --------------------------------------------------------------------------- figures


def derive(rows: list[dict[str, Any]], sizes: Sizes) -> None:
    """Add per-association figures, ratios to the raw baseline, and (e)/(f) figures."""
    for row in rows:
        if "error" in row or "skipped" in row:
            continue
        n = max(row["associations"], 1)
        row["cpu_us_per_assoc"] = row["cpu_s"] / n * 1e6
        row["assoc_per_s"] = row["associations"] / row["wall_s"] if row["wall_s"] else math.nan
        if row["workload"] == "latency":
            rounds = math.ceil(row["calls"] / sizes.concurrency)
            row["ideal_wall_s"] = rounds * sizes.latency
            row["wall_vs_ideal"] = row["wall_s"] / row["ideal_wall_s"]
        if row["workload"] == "rate":
            _rate_figures(row, sizes)
    raw = {r["workload"]: r for r in rows if r["client"] == RAW and r.get("verified")}
    for row in rows:
        base = raw.get(row["workload"])
        if base is None or not row.get("verified"):
            continue
        row["ratio"] = {
            key: row[key] / base[key] if base[key] else math.nan
            for key in ("wall_s", "cpu_s", "cpu_us_per_assoc", "peak_rss_mb", "assoc_per_s")
        }


def _rate_figures(row: dict[str, Any], sizes: Sizes) -> None:
    """Achieved rate as a fraction of the limit, from when each request started.

    A client that keeps to ``n`` per ``T`` s rolling window can start request ``k``
    (0-based) no earlier than ``floor(k / n) * T`` after the first, so ``N`` requests
    span at least ``floor((N - 1) / n) * T``; the fraction is that span over the real
    one (1.0 = the whole allowance, used with no idle time; a burst of 429s and retries
    can exceed it, which is why the 429 count is reported beside it).
    """
    n, window = sizes.rate_limit
    starts = sorted(row.pop("request_starts", []))
    statuses = row.pop("client_statuses", [])
    row["requests"] = len(starts)
    row["client_429s"] = statuses.count(429)
    row["server_429s"] = row["server_statuses"].get("429", 0)
    if len(starts) > n:
        span = starts[-1] - starts[0]
        ideal = math.floor((len(starts) - 1) / n) * window
        row["span_s"] = span
        row["ideal_span_s"] = ideal
        row["rate_fraction"] = ideal / span if span else math.nan
        row["achieved_rps"] = row["rate_fraction"] * n / window
    row["limit_rps"] = n / window


def goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 4's goals, each with its figure and whether it is met."""

    def find(workload: str, client: str) -> dict[str, Any] | None:
        for row in rows:
            if row["workload"] == workload and row["client"] == client and row.get("verified"):
                return row
        return None

    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, target: str, met: bool | None) -> None:
        out.append({"goal": name, "value": value, "target": target, "met": met})

    ours, raw, official = (
        find("read", "hubassoc"),
        find("read", RAW),
        find("read", "hubspot-api-client"),
    )
    if ours and raw:
        v = ours["cpu_us_per_assoc"] / raw["cpu_us_per_assoc"]
        add("(a) CPU per association vs raw aiohttp", v, "<= 1.3x", v <= 1.3)
    if ours and official:
        v = ours["cpu_us_per_assoc"] / official["cpu_us_per_assoc"]
        add("(a) CPU per association vs hubspot-api-client", v, "<= 0.2x", v <= 0.2)
    stream = find("stream", "hubassoc")
    if stream:
        v = stream["peak_rss_mb"]
        add(
            f"(d) peak RSS streaming {stream['associations']:,} associations",
            v,
            "< 150 MB",
            v < 150,
        )
    latency = find("latency", "hubassoc")
    if latency:
        v = latency["wall_vs_ideal"]
        add("(f) latency-bound wall vs ideal", v, "<= 1.15x", v <= 1.15)
    rate = find("rate", "hubassoc")
    if rate and "rate_fraction" in rate:
        v = rate["rate_fraction"]
        add("(e) rate-limited: fraction of the allowed rate", v, ">= 0.90", v >= 0.9)
        add("(e) rate-limited: 429 answers", rate["server_429s"], "0", rate["server_429s"] == 0)
    return out


# --------------------------------------------------------------------------- output


def _num(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


COLUMNS = (
    ("wall s", "wall_s", 2),
    ("client CPU s", "cpu_s", 2),
    ("CPU µs/assoc", "cpu_us_per_assoc", 2),
    ("peak RSS MB", "peak_rss_mb", 0),
    ("assoc/s", "assoc_per_s", 0),
)


def table_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and cells: each figure, then its ratio to the raw baseline in brackets."""
    header = ["workload", "client", *(c[0] + " (x raw)" for c in COLUMNS), "calls", "verified"]
    cells = []
    for row in rows:
        label = LABELS[row["workload"]]
        if "skipped" in row:
            continue
        if "error" in row and "wall_s" not in row:
            cells.append([label, row["client"], *["-"] * len(COLUMNS), "-", "NO (error)"])
            continue
        ratio = row.get("ratio", {})
        figures = []
        for _, key, digits in COLUMNS:
            text = _num(row.get(key, math.nan), digits)
            if key in ratio and row["client"] != RAW:
                text += f" ({ratio[key]:.2f}x)"
            figures.append(text)
        verified = "yes" if row.get("verified") else "NO: does not count"
        cells.append([label, row["client"], *figures, str(row.get("calls", "-")), verified])
    return header, cells


def text_table(header: list[str], cells: list[list[str]]) -> str:
    """A plain fixed-width table."""
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    """The same table as GitHub markdown."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell) + " |" for cell in cells]
    return "\n".join(lines)


def extra_lines(rows: list[dict[str, Any]], sizes: Sizes) -> list[str]:
    """What the table has no column for: (e) and (f) figures, and why a row does not count."""
    out = []
    for row in rows:
        if row["workload"] == "latency" and "wall_vs_ideal" in row:
            out.append(
                f"(f) {row['client']}: {row['calls']} calls at {sizes.latency * 1000:.0f} ms, "
                f"concurrency {sizes.concurrency}: wall {row['wall_s']:.3f} s, ideal "
                f"{row['ideal_wall_s']:.3f} s -> {row['wall_vs_ideal']:.3f}x ideal"
            )
        if row["workload"] == "rate" and "rate_fraction" in row:
            n, window = sizes.rate_limit
            out.append(
                f"(e) {row['client']}: limit {n} per {window:g} s ({row['limit_rps']:.1f}/s): "
                f"{row['requests']} requests spanned {row['span_s']:.2f} s (the limit allows "
                f"{row['ideal_span_s']:.2f} s) -> {row['achieved_rps']:.1f}/s = "
                f"{row['rate_fraction']:.1%} of the limit; 429s: {row['server_429s']} "
                f"(emulator), {row['client_429s']} (client)"
            )
        if not row.get("verified") and "skipped" not in row:
            out.append(
                f"{LABELS[row['workload']]} {row['client']}: does not count: {row.get('why')}"
            )
    return out


def machine() -> dict[str, Any]:
    """Where the numbers come from."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for dist in ("hubassoc", "aiohttp", "orjson", "cattrs", "hubspot-api-client", "hubspot-sdk"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def chart(rows: list[dict[str, Any]], path: Path, title: str) -> str | None:
    """Bar charts of read CPU, memory and wall time per client; None if no matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: render straight to the PNG
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no chart"
    reads = [r for r in rows if r["workload"] == "read" and r.get("verified")]
    streams = [r for r in rows if r["workload"] == "stream" and r.get("verified")]
    latency = [r for r in rows if r["workload"] == "latency" and r.get("verified")]
    if not reads:
        return "no verified read results: no chart"
    colours = {
        "hubassoc": "#2a9d8f",
        RAW: "#8d99ae",
        "hubspot-api-client": "#e76f51",
        "hubspot-sdk": "#f4a261",
    }
    panels: list[tuple[str, str, list[dict[str, Any]], float | None]] = [
        ("cpu_us_per_assoc", "client CPU µs per association\n(a) read", reads, None),
        ("peak_rss_mb", "peak RSS MB\n(a) read, and (d) stream", reads + streams, None),
        ("wall_s", "wall s\n(a) read", reads, None),
    ]
    if latency:
        panels.append(("wall_vs_ideal", "wall / ideal\n(f) 50 ms per call", latency, 1.15))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.6))
    for ax, (key, label, data, goal) in zip(axes, panels, strict=True):
        names = [r["client"] + (" stream" if r["workload"] == "stream" else "") for r in data]
        values = [r[key] for r in data]
        bars = ax.bar(names, values, color=[colours.get(r["client"], "#999") for r in data])
        ax.bar_label(bars, labels=[_num(v, 2 if goal else 1) for v in values], fontsize=8)
        if goal is not None:
            ax.axhline(goal, color="#444", linestyle="--", linewidth=1)
            ax.text(-0.4, goal, f"goal {goal}", fontsize=7, ha="left", va="bottom")
        ax.set_title(label + ", lower is better", fontsize=10)
        ax.tick_params(axis="x", labelrotation=25, labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; every size defaults to the preset's."""
    parser = argparse.ArgumentParser(
        description="Benchmark hubassoc against raw aiohttp and HubSpot's SDKs.",
        epilog="Results: a table, one JSON line, and (with --out) latest.md and bench.png.",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves it works")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write results (default bench/results for a full run, nothing for --smoke)",
    )
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated")
    parser.add_argument(
        "--clients", default=",".join(c.name for c in CLIENTS), help="comma-separated"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of hubassoc and raw aiohttp per workload; the median by CPU "
        "is reported (default 3, 1 for --smoke)",
    )
    for field in attrs.fields(Sizes):
        if field.name == "rate_limit":
            parser.add_argument("--rate-limit", type=float, nargs=2, metavar=("N", "SECONDS"))
        else:
            kind = type(field.default)  # int or float: the preset's type
            parser.add_argument("--" + field.name.replace("_", "-"), type=kind)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit code 1 if any client that ran could not be verified."""
    args = parse_args(argv)
    preset = SMOKE if args.smoke else DEFAULT
    overrides: dict[str, Any] = {}
    for field in attrs.fields(Sizes):
        value = getattr(args, field.name)
        if value is not None:
            overrides[field.name] = (
                (int(value[0]), value[1]) if field.name == "rate_limit" else value
            )
    sizes = attrs.evolve(preset, **overrides)
    repeat = args.repeat or (1 if args.smoke else 3)
    out: Path | None = args.out if args.out is not None else (None if args.smoke else RESULTS)
    workloads = [w for w in WORKLOADS if w in args.workloads.split(",")]
    wanted = set(args.clients.split(","))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    clients: list[ClientInfo] = []
    notes: list[str] = []
    for client in CLIENTS:
        if client.name not in wanted:
            continue
        if client.requires and importlib.util.find_spec(client.requires) is None:
            notes.append(
                f"{client.name}: not importable ({client.requires}), so not measured"
                + (
                    ": `pip install hubspot-sdk` (pre-release) to include it"
                    if client.name == "hubspot-sdk"
                    else ": `pip install -e '.[bench]'` to include it"
                )
            )
            continue
        clients.append(client)
    for note in notes:
        log(note)

    configs: dict[str, list[str]] = {}
    sizes_json = json.dumps(attrs.asdict(sizes))
    main_seed = [s for s, w in (("read", "read"), ("stream", "stream")) if w in workloads]
    if main_seed or {"associate", "archive"} & set(workloads):
        configs["main"] = ["--sizes", sizes_json, "--seed", *main_seed]
    if "rate" in workloads:
        n, window = sizes.rate_limit
        configs["rate"] = [
            "--sizes",
            sizes_json,
            "--seed",
            "rate",
            "--rate-limit",
            str(n),
            str(window),
        ]
    if "latency" in workloads:
        configs["latency"] = [
            "--sizes",
            sizes_json,
            "--seed",
            "latency",
            "--latency",
            str(sizes.latency),
        ]

    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with running(configs) as emulators:
        log(
            f"emulators ready in {time.perf_counter() - started:.1f} s; concurrency {sizes.concurrency}"
        )

        def who(workload: str) -> list[ClientInfo]:
            return [c for c in clients if workload in c.workloads]

        if "read" in workloads:
            rows += bench_reads(
                "read", who("read"), sizes, emulators["main"], sizes.read_set(), 1000, repeat, log
            )
        if {"associate", "archive"} & set(workloads):
            write_rows = bench_writes(who("associate"), sizes, emulators["main"], repeat, log)
            rows += [r for r in write_rows if r["workload"] in workloads]
        if "stream" in workloads:
            rows += bench_reads(
                "stream",
                who("stream"),
                sizes,
                emulators["main"],
                sizes.stream_set(),
                1000,
                repeat,
                log,
            )
        if "rate" in workloads:
            rows += bench_reads(
                "rate",
                who("rate"),
                sizes,
                emulators["rate"],
                sizes.rate_set(),
                sizes.rate_chunk,
                1,
                log,
            )
        if "latency" in workloads:
            rows += bench_reads(
                "latency",
                who("latency"),
                sizes,
                emulators["latency"],
                sizes.latency_set(),
                sizes.latency_chunk,
                repeat,
                log,
            )
    elapsed = time.perf_counter() - started

    derive(rows, sizes)
    goal_list = goals(rows)
    info = machine()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header, cells = table_rows(rows)
    extras = extra_lines(rows, sizes)
    goal_text = [
        f"{'met' if g['met'] else 'NOT MET'}: {g['goal']}: {_num(g['value'], 3)} (goal {g['target']})"
        for g in goal_list
    ]
    where = (
        f"{date}; {info['nproc']} CPUs ({info['cpu']}); Python {info['python']}; "
        f"concurrency {sizes.concurrency}; {'smoke' if args.smoke else 'default'} sizes; "
        f"median of {repeat} for hubassoc and raw aiohttp; run took {elapsed:.0f} s"
    )

    if args.smoke:  # tiny sizes measure fixed costs, not speed
        goal_text.insert(0, "goals (smoke sizes: these say nothing; judge the default run):")
    print(where)
    print(text_table(header, cells))
    for line in [*extras, *notes, *goal_text]:
        print(line)

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        title = (
            f"hubassoc benchmark, {date}: {info['nproc']} CPUs ({info['cpu']}), "
            f"Python {info['python']}, concurrency {sizes.concurrency}"
        )
        chart_note = chart(rows, out / "bench.png", title)
        if chart_note:
            print(chart_note)
        versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        command = " ".join(["python bench/run.py", *(argv if argv is not None else sys.argv[1:])])
        md = [
            "# hubassoc benchmark: latest results",
            "",
            f"- Date: {date}",
            f"- Machine: {info['nproc']} CPUs, {info['cpu']}; {info['platform']}; Python {info['python']}",
            f"- Versions: {versions}",
            f"- Command: `{command}`",
            f"- Concurrency {sizes.concurrency}; figures of hubassoc and raw aiohttp are the run with the "
            f"median client CPU of {repeat}; the SDKs ran once. Client CPU is user + system time of the "
            "client process during the workload (start-up and imports excluded); peak RSS is the "
            "process's high-water mark. Ratios in brackets are to raw aiohttp.",
            "",
            markdown_table(header, cells),
            "",
            *(f"- {line}" for line in [*extras, *notes]),
            "",
            "## Goals (issue 4)",
            "",
            *(f"- {line}" for line in goal_text),
            "",
            "![benchmark chart](bench.png)" if chart_note is None else f"({chart_note})",
            "",
        ]
        (out / "latest.md").write_text("\n".join(md))
        (out / "latest.json").write_text(json.dumps({"rows": rows, "goals": goal_list}, indent=1))
        print(f"wrote {out / 'latest.md'}")

    summary = {
        "bench": "hubassoc",
        "date": date,
        "machine": info,
        "sizes": attrs.asdict(sizes),
        "smoke": args.smoke,
        "elapsed_s": round(elapsed, 1),
        "unavailable": notes,
        "results": [
            {
                k: (round(v, 6) if isinstance(v, float) else v)
                for k, v in r.items()
                if k not in ("traceback",)
            }
            for r in rows
        ],
        "goals": goal_list,
    }
    print(json.dumps(summary, separators=(",", ":")))
    ran = [r for r in rows if "skipped" not in r]
    return 0 if ran and all(r.get("verified") for r in ran) else 1


if __name__ == "__main__":
    sys.exit(main())
