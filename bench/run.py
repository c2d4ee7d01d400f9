"""hubassoc's benchmark: what a user pays, as ratios to a raw aiohttp loop in the same run.

Usage::

    python bench/run.py            # default sizes, ~8 minutes on 2 cores; writes bench/results/
    python bench/run.py --quick    # the same shapes, heavy sets cut down: ~2 minutes
    python bench/run.py --smoke    # tiny sizes, seconds; writes nothing unless --out
    python bench/run.py --help     # every size and option

The emulator (:mod:`hubassoc.testing`) runs in processes of its own on 127.0.0.1, one
per configuration (page size, per-call delay, rate limit), so its work is never counted
as a client's; every client runs in a process of its own and measures itself (see
:mod:`bench._measure`), and the clock stops only once the consumer has used every
association. The workloads are listed in :mod:`bench._workloads` and ``bench/README.md``.

A client's figures count only if what its consumer took is exactly what the emulator
holds. Output: a table, a goals table, one JSON line (the last line of stdout), and with
``--out`` (the default for a full run) ``latest.md``, ``latest.json`` and ``bench.png``;
``--readme`` also rewrites the README's benchmark section from the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench import _report as report  # noqa: E402
from bench._data import DEFAULT, QUICK, SMOKE, Sizes  # noqa: E402
from bench._procs import ClientInfo, emulators  # noqa: E402
from bench._workloads import (  # noqa: E402
    CLIENTS,
    REPEATED,
    WORKLOADS,
    bench_rate,
    bench_reads,
    bench_shared,
    bench_writes,
    emulator_args,
)

RESULTS = ROOT / "bench" / "results"
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; every size defaults to the preset's."""
    parser = argparse.ArgumentParser(
        description="Benchmark hubassoc against raw aiohttp and HubSpot's SDKs.",
        epilog="Results: a table, a goals table, one JSON line, and (with --out) latest.md.",
    )
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--smoke", action="store_true", help="tiny sizes: proves it works")
    preset.add_argument("--quick", action="store_true", help="heavy sets cut down (~2 min)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write results (default bench/results for a full run, nothing otherwise)",
    )
    parser.add_argument(
        "--readme", type=Path, default=None, help="rewrite this README's benchmark section"
    )
    parser.add_argument(
        "--workloads", default=",".join(w.name for w in WORKLOADS), help="comma-separated"
    )
    parser.add_argument(
        "--clients", default=",".join(c.name for c in CLIENTS), help="comma-separated"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of hubassoc and raw aiohttp per workload (rate: --rate-runs); the median "
        "by CPU is reported (default 3, 1 for --smoke)",
    )
    parser.add_argument(
        "--heavy-repeat",
        type=int,
        default=None,
        help="the same for the million-id no-assoc workloads (default 1: each hubassoc run "
        "takes ~40 s today)",
    )
    for field in attrs.fields(Sizes):
        if field.name == "rate_limit":
            parser.add_argument("--rate-limit", type=float, nargs=2, metavar=("N", "SECONDS"))
        else:
            kind = type(field.default)  # int or float: the preset's type
            parser.add_argument("--" + field.name.replace("_", "-"), type=kind)
    return parser.parse_args(argv)


def _available(wanted: set[str], log: Any) -> tuple[list[ClientInfo], list[str]]:
    clients: list[ClientInfo] = []
    notes: list[str] = []
    for client in CLIENTS:
        if client.name not in wanted:
            continue
        if client.requires and importlib.util.find_spec(client.requires) is None:
            notes.append(
                f"{client.name}: not importable ({client.requires}), so not measured: "
                "`pip install -e '.[bench]'` to include it"
            )
            continue
        clients.append(client)
    for note in notes:
        log(note)
    return clients, notes


def run_all(
    names: list[str],
    clients: list[ClientInfo],
    sizes: Sizes,
    repeats: tuple[int, int],
    log: Any,
) -> list[dict[str, Any]]:
    """Run the chosen workloads in the order of :data:`WORKLOADS`, one client at a time.

    ``repeats`` is the runs per workload of hubassoc and raw aiohttp, and the same for
    the workloads on the ``none`` emulator (a million ids).
    """
    repeat, heavy_repeat = repeats
    chosen = [w for w in WORKLOADS if w.name in names]
    configs = {w.emulator: emulator_args(w.emulator, sizes) for w in chosen}
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with emulators(configs) as running:
        log(f"emulators {', '.join(running)} ready in {time.perf_counter() - started:.1f} s")
        writes_done = False
        for w in chosen:
            emu = running[w.emulator]
            who = [c for c in clients if w.name in c.workloads]
            if w.kind in ("associate", "archive"):
                if not writes_done:
                    write_rows = bench_writes(who, sizes, emu, repeat, log)
                    rows += [r for r in write_rows if r["workload"] in names]
                    writes_done = True
            elif w.name == "rate":
                rows += bench_rate(who, sizes, emu, log)
            elif w.name == "rate-shared":
                rows += bench_shared(who, sizes, emu, log)
            else:
                runs = heavy_repeat if w.emulator == "none" else repeat
                if w.emulator == "latency":
                    runs = max(repeat, sizes.latency_runs)
                rows += bench_reads(w, who, sizes, emu, runs, log)
    return rows


def _readme_section(
    command: str, date: str, info: dict[str, Any], goal_md: str, elapsed: float
) -> str:
    return "\n".join(
        [
            README_START,
            f"Measured {date} with `make bench` (`{command}`, {elapsed / 60:.1f} minutes) on "
            f"{info['nproc']} "
            f"CPUs ({info['cpu']}), Python {info['python']}: each emulator and each client in a "
            "process of its own, every figure a ratio to a raw aiohttp + orjson loop measured "
            "in the same run, the clock stopped once the consumer has used every association, "
            "every answer verified against the emulator's data.",
            "",
            goal_md,
            "",
            "Every workload, client and figure: [bench/results/latest.md](bench/results/latest.md); "
            "method: [bench/README.md](bench/README.md).",
            README_END,
        ]
    )


def update_readme(path: Path, section: str) -> None:
    """Replace the text between the benchmark markers of ``path`` with ``section``."""
    text = path.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no {README_START} ... {README_END} section")
    path.write_text(pattern.sub(lambda _: section, text))


def full_sizes(args: argparse.Namespace) -> bool:
    """Whether the run uses the default sizes (not --smoke or --quick)."""
    return not (args.smoke or args.quick)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit code 1 if any client that ran could not be verified."""
    args = parse_args(argv)
    preset, preset_name = (
        (SMOKE, "smoke") if args.smoke else (QUICK, "quick") if args.quick else (DEFAULT, "default")
    )
    overrides: dict[str, Any] = {}
    for field in attrs.fields(Sizes):
        value = getattr(args, field.name)
        if value is not None:
            overrides[field.name] = (
                (int(value[0]), value[1]) if field.name == "rate_limit" else value
            )
    sizes = attrs.evolve(preset, **overrides)
    repeat = args.repeat or (1 if args.smoke else 3)
    heavy_repeat = args.heavy_repeat or (repeat if not full_sizes(args) else 1)
    full = full_sizes(args)
    out: Path | None = args.out if args.out is not None else (RESULTS if full else None)
    names = args.workloads.split(",")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    clients, notes = _available(set(args.clients.split(",")), log)
    if args.smoke:  # the SDKs' imports cost seconds a process: prove them on one workload
        clients = [
            c if c.name in REPEATED else attrs.evolve(c, workloads=frozenset({"read-own"}))
            for c in clients
        ]
    started = time.perf_counter()
    rows = run_all(names, clients, sizes, (repeat, heavy_repeat), log)
    elapsed = time.perf_counter() - started

    report.derive(rows, sizes)
    goal_list = report.goals(rows)
    info = report.machine()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["python bench/run.py", *(argv if argv is not None else sys.argv[1:])])
    header, cells = report.table_rows(rows)
    goal_header, goal_cells = report.goal_rows(goal_list)
    extras = report.extra_lines(rows, sizes)
    where = (
        f"{date}; {info['nproc']} CPUs ({info['cpu']}); Python {info['python']}; "
        f"concurrency {sizes.concurrency}; {preset_name} sizes; median of {repeat} for hubassoc "
        f"and raw aiohttp (no-assoc: {heavy_repeat}; latency: {max(repeat, sizes.latency_runs)}; "
        f"rate: {sizes.rate_runs} runs); run took "
        f"{elapsed:.0f} s"
    )
    print(where)
    print(report.text_table(header, cells))
    for line in [*extras, *notes]:
        print(line)
    print()
    if not full:  # small sizes measure fixed costs, not speed
        print(f"goals ({preset_name} sizes: these say little; judge the default run):")
    print(report.text_table(goal_header, goal_cells))

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        title = (
            f"hubassoc benchmark, {date}: {info['nproc']} CPUs ({info['cpu']}), "
            f"Python {info['python']}, concurrency {sizes.concurrency}"
        )
        chart_note = report.chart(rows, out / "bench.png", title)
        if chart_note:
            print(chart_note)
        versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        goal_md = report.markdown_table(goal_header, goal_cells)
        md = [
            "# hubassoc benchmark: latest results",
            "",
            f"- Date: {date}; the run took {elapsed:.0f} s",
            f"- Machine: {info['nproc']} CPUs, {info['cpu']}; {info['platform']}; Python {info['python']}",
            f"- Versions: {versions}",
            f"- Command: `{command}` ({preset_name} sizes)",
            f"- Concurrency {sizes.concurrency}. hubassoc and raw aiohttp: the run with the median "
            f"client CPU of {repeat} (no-assoc: of {heavy_repeat}; latency: the run with the median "
            f"wall time of {max(repeat, sizes.latency_runs)}; rate: every one of "
            f"{sizes.rate_runs} runs, the median by achieved rate shown); the SDKs ran once. Client CPU is user + system time of the "
            "client process from the call to the consumer's last use of the result (start-up "
            "and imports excluded); peak RSS is the process's high-water mark (VmHWM). Ratios "
            "in brackets are to raw aiohttp in this run. Units: associations, or ids without "
            "associations for no-assoc.",
            "",
            "## Goals",
            "",
            goal_md,
            "",
            "## Every workload",
            "",
            report.markdown_table(header, cells),
            "",
            *(f"- {line}" for line in [*extras, *notes]),
            "",
            "![benchmark chart](bench.png)" if chart_note is None else f"({chart_note})",
            "",
        ]
        (out / "latest.md").write_text("\n".join(md))
        (out / "latest.json").write_text(json.dumps({"rows": rows, "goals": goal_list}, indent=1))
        print(f"wrote {out / 'latest.md'}")
        if args.readme is not None:
            update_readme(args.readme, _readme_section(command, date, info, goal_md, elapsed))
            print(f"rewrote the benchmark section of {args.readme}")

    summary = {
        "bench": "hubassoc",
        "date": date,
        "machine": info,
        "sizes": attrs.asdict(sizes),
        "preset": preset_name,
        "smoke": args.smoke,
        "elapsed_s": round(elapsed, 1),
        "unavailable": notes,
        "results": [
            {
                k: (round(v, 6) if isinstance(v, float) else v)
                for k, v in r.items()
                if k != "traceback"
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
