"""Figures, goals and output: ratios to the raw baseline of the same run, tables, chart.

Every figure that can be is a ratio to the raw aiohttp loop measured in the same run:
absolute numbers move 10-20% between runs on a shared 2-core VM, ratios much less.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import os
import platform
import statistics
from pathlib import Path
from typing import Any

from bench._data import Sizes
from bench._workloads import RAW

#: Figures each row gets a ratio to raw aiohttp for.
_RATIO_KEYS = ("wall_s", "cpu_s", "cpu_us_per_unit", "peak_rss_mb")


def _ideal_latency_wall(sizes: Sizes) -> float:
    """``ceil(calls / concurrency) x latency`` for the fewest calls the ids need.

    The calls are counted from the data set (one page per id, ``read_chunk`` ids a call),
    not from what a client sent, so a client making more calls cannot raise its ideal.
    """
    calls = math.ceil(sizes.latency_ids / sizes.read_chunk)
    return math.ceil(calls / sizes.concurrency) * sizes.latency


def derive(rows: list[dict[str, Any]], sizes: Sizes) -> None:
    """Add per-unit figures, (latency) wall over ideal, and ratios to raw aiohttp."""
    for row in rows:
        if "error" in row or "skipped" in row or "cpu_s" not in row:
            continue
        units = row.get("associations") or row.get("ids_without") or 0
        row["units"] = units
        row["cpu_us_per_unit"] = row["cpu_s"] / max(units, 1) * 1e6
        if row["workload"].startswith("latency"):
            row["ideal_wall_s"] = _ideal_latency_wall(sizes)
            row["wall_vs_ideal"] = row["wall_s"] / row["ideal_wall_s"]
    raw = {r["workload"]: r for r in rows if r["client"] == RAW and r.get("verified")}
    for row in rows:
        base = raw.get(row["workload"])
        if base is None or not row.get("verified"):
            continue
        ratio = {
            key: row[key] / base[key] if base.get(key) else math.nan
            for key in _RATIO_KEYS
            if key in row
        }
        for key in ("wall_vs_ideal", "rate_fraction", "rate_fraction_min"):
            if key in row and base.get(key):
                ratio[key] = row[key] / base[key]
        row["ratio"] = ratio


def _find(
    rows: list[dict[str, Any]], workload: str, client: str = "hubassoc"
) -> dict[str, Any] | None:
    for row in rows:
        if row["workload"] == workload and row["client"] == client and row.get("verified"):
            return row
    return None


def goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The users' goals, each with its measured figure and pass or fail.

    A goal whose workload did not run, or did not verify, is listed as not measured
    (``passed`` None): a goal is never passed by omission.
    """
    out: list[dict[str, Any]] = []

    def add(goal: str, value: float | None, target: str, passed: bool | None) -> None:
        out.append({"goal": goal, "value": value, "target": target, "passed": passed})

    def ratio_goal(workload: str, key: str, limit: float, goal: str) -> None:
        row = _find(rows, workload)
        value = row.get("ratio", {}).get(key) if row else None
        add(goal, value, f"<= {limit:g}x raw", None if value is None else value <= limit)

    def absolute(workload: str, key: str, limit: float, goal: str, unit: str) -> None:
        row = _find(rows, workload)
        value = row.get(key) if row else None
        add(goal, value, f"< {limit:g} {unit}", None if value is None else value < limit)

    for name, what in (("read-portal", "portal shape"), ("read-own", "own shape")):
        ratio_goal(name, "cpu_s", 1.1, f"{name}: read + use, client CPU ({what})")
        ratio_goal(name, "peak_rss_mb", 1.0, f"{name}: read + use, peak RSS ({what})")
    ratio_goal("stream", "cpu_us_per_unit", 1.3, "stream: CPU per association")
    absolute("stream", "peak_rss_mb", 100, "stream: peak RSS", "MB")

    rate = _find(rows, "rate")
    runs = len(rate.get("rate_fractions", [])) if rate else 0
    value = rate.get("rate_fraction_min") if rate else None
    add(
        f"rate: min fraction of the allowed rate over {runs} runs",
        value,
        ">= 0.95",
        None if value is None else value >= 0.95,
    )
    per_run = rate.get("server_429s_per_run") if rate else None
    add(
        f"rate: 429s in every one of {runs} runs",
        max(per_run) if per_run else None,
        "0",
        None if not per_run else max(per_run) == 0,
    )
    shared = _find(rows, "rate-shared")
    value = shared.get("server_429s") if shared else None
    add(
        "rate-shared: 429s while another process spends half the budget",
        value,
        "0",
        None if value is None else value == 0,
    )

    for name, how in (("no-assoc", "awaited"), ("no-assoc-stream", "streamed")):
        row = _find(rows, name)
        ids = f"{row['units']:,} ids" if row and "units" in row else "ids"
        ratio_goal(name, "cpu_s", 1.2, f"{name}: {ids} without associations, {how}, client CPU")
        absolute(name, "peak_rss_mb", 150, f"{name}: peak RSS, {how}", "MB")

    for name, how in (("latency", "awaited"), ("latency-stream", "async for")):
        latency = _find(rows, name)
        ratio = latency.get("ratio", {}).get("wall_vs_ideal") if latency else None
        add(
            f"{name}: wall/ideal vs raw's ({how})",
            ratio,
            "<= 1x raw",
            None if ratio is None else ratio <= 1.0,
        )
        value = latency.get("wall_vs_ideal") if latency else None
        add(
            f"{name}: wall/ideal ({how})",
            value,
            "<= 1.1",
            None if value is None else value <= 1.1,
        )
    return out


# --------------------------------------------------------------------------- tables


def num(value: float | None, digits: int = 2) -> str:
    """A figure for a table: thousands separated, '-' for nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


COLUMNS = (
    ("wall s", "wall_s", 2),
    ("client CPU s", "cpu_s", 2),
    ("CPU µs/unit", "cpu_us_per_unit", 2),
    ("peak RSS MB", "peak_rss_mb", 0),
)


def table_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and cells: each figure, then its ratio to raw aiohttp in brackets."""
    header = [
        "workload",
        "client",
        *(c[0] + " (x raw)" for c in COLUMNS),
        "units",
        "calls",
        "verified",
    ]
    cells = []
    for row in rows:
        if "skipped" in row:
            continue
        if "cpu_s" not in row:
            cells.append(
                [row["workload"], row["client"], *["-"] * len(COLUMNS), "-", "-", "NO (error)"]
            )
            continue
        ratio = row.get("ratio", {})
        figures = []
        for _, key, digits in COLUMNS:
            text = num(row.get(key, math.nan), digits)
            if key in ratio and row["client"] != RAW:
                text += f" ({ratio[key]:.2f}x)"
            figures.append(text)
        verified = "yes" if row.get("verified") else "NO: does not count"
        units = f"{row.get('units', 0):,}"
        cells.append(
            [row["workload"], row["client"], *figures, units, str(row.get("calls", "-")), verified]
        )
    return header, cells


def goal_rows(goal_list: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The goals table: goal, measured, target, verdict."""
    verdict = {True: "pass", False: "FAIL", None: "not measured"}
    cells = [[g["goal"], num(g["value"], 3), g["target"], verdict[g["passed"]]] for g in goal_list]
    return ["goal", "measured", "target", "result"], cells


def text_table(header: list[str], cells: list[list[str]]) -> str:
    """A plain fixed-width table."""
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip() for cell in cells
    ]
    return "\n".join(lines)


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    """The same table as GitHub markdown."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell) + " |" for cell in cells]
    return "\n".join(lines)


def extra_lines(rows: list[dict[str, Any]], sizes: Sizes) -> list[str]:
    """What the table has no column for: rate and latency figures, and failures."""
    out = []
    n, window = sizes.rate_limit
    for row in rows:
        name, client = row["workload"], row["client"]
        if name.startswith("latency") and "wall_vs_ideal" in row:
            out.append(
                f"{name} {client}: {row['calls']} calls at {sizes.latency * 1000:.0f} ms, "
                f"concurrency {sizes.concurrency}: wall {row['wall_s']:.3f} s, ideal "
                f"{row['ideal_wall_s']:.3f} s -> {row['wall_vs_ideal']:.3f}x ideal"
                + (
                    f" ({row['ratio']['wall_vs_ideal']:.2f}x raw's)"
                    if "wall_vs_ideal" in row.get("ratio", {}) and client != RAW
                    else ""
                )
                + (
                    f"; of it, the consumer's pass over the awaited result "
                    f"{row['use_after_await_s'] * 1000:.0f} ms"
                    if "use_after_await_s" in row
                    else ""
                )
            )
        if name == "rate" and "rate_fractions" in row:
            fractions = row["rate_fractions"]
            out.append(
                f"rate {client}: limit {n} per {window:g} s; {len(fractions)} runs, fraction of "
                f"the allowed rate min {min(fractions):.3f} median {statistics.median(fractions):.3f} "
                f"({', '.join(f'{f:.3f}' for f in fractions)}); 429s per run (emulator) "
                f"{row['server_429s_per_run']}; {row['requests']} requests in the median run"
            )
        if name == "rate-shared" and "combined_fraction" in row:
            out.append(
                f"rate-shared {client}: {row['accepted']} accepted requests; client "
                f"{row['client_share']:.3f} of the limit, the other process "
                f"{row['rival_share']:.3f}, combined {row['combined_fraction']:.3f} of the "
                f"allowed rate; 429s {row['server_429s']} (emulator, during the run), "
                f"{row['client_429s']} to the client, {row['rival_429s']} to the other process"
            )
        if not row.get("verified") and "skipped" not in row:
            out.append(f"{name} {client}: does not count: {row.get('why')}")
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
    """hubassoc over raw aiohttp per workload (CPU, peak RSS) and the rate runs; None if drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: render straight to the PNG
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no chart"
    targets = {
        "read-portal": 1.1,
        "read-own": 1.1,
        "stream": 1.3,
        "no-assoc": 1.2,
        "no-assoc-stream": 1.2,
    }
    ours = [
        r for r in rows if r["client"] == "hubassoc" and r["workload"] in targets and "ratio" in r
    ]
    if not ours:
        return "no verified ratios: no chart"
    rate = _find(rows, "rate")
    panels = 3 if rate and rate.get("rate_fractions") else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.6))
    names = [r["workload"] for r in ours]
    for ax, key, label in (
        (axes[0], "cpu_s", "client CPU, hubassoc / raw aiohttp"),
        (axes[1], "peak_rss_mb", "peak RSS, hubassoc / raw aiohttp"),
    ):
        values = [r["ratio"][key] for r in ours]
        bars = ax.bar(names, values, color="#2a9d8f")
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=8)
        for i, r in enumerate(ours):
            goal = (
                targets[r["workload"]]
                if key == "cpu_s"
                else (1.0 if r["workload"].startswith("read") else None)
            )
            if goal is not None:
                ax.hlines(goal, i - 0.4, i + 0.4, color="#444", linestyle="--", linewidth=1)
        ax.axhline(1.0, color="#8d99ae", linewidth=0.8)
        ax.set_title(label + "\n(dashed: goal), lower is better", fontsize=9)
        ax.tick_params(axis="x", labelrotation=25, labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    if panels == 3 and rate:
        fractions = rate["rate_fractions"]
        bars = axes[2].bar([str(i + 1) for i in range(len(fractions))], fractions, color="#e9c46a")
        axes[2].axhline(0.95, color="#444", linestyle="--", linewidth=1)
        axes[2].set_ylim(0, 1.05)
        axes[2].set_title(
            "rate: fraction of the allowed rate per run\n(dashed: goal 0.95)", fontsize=9
        )
        axes[2].set_xlabel("run", fontsize=8)
        axes[2].spines[["top", "right"]].set_visible(False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
