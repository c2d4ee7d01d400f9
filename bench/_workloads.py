"""What the benchmark runs: the workloads, their emulators, and how each is run and checked.

Every workload names the emulator it needs (page size, per-call delay, rate limit, data
set) and the client-side job (``kind``) each client process runs. A client's figures
count only if what its consumer took is exactly what the emulator holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from bench._data import READ_TYPES, STREAM_TYPES, WRITE_TYPES, Sizes, digest_ids
from bench._measure import Spec
from bench._procs import ClientInfo, Emulator, rival, run_client
from bench._server import TOKEN

Log = Callable[[str], None]
RAW = "raw aiohttp"
EMPTY_IDS = digest_ids([])


@attrs.frozen
class Workload:
    """One line of the table: a name, the client job, the emulator, the data set."""

    name: str
    kind: str  # read | read-stream | stream | none | none-stream | rate | associate | archive
    emulator: str
    data: str | None
    what: str


WORKLOADS = (
    Workload(
        "read-portal",
        "read",
        "portal",
        "portal",
        "20,000 ids, 283,649 associations, page size 500: 5% of ids with none, 0.5% with "
        "501-1,400 (2-3 pages), the rest 5-15; awaited, then every (from_id, to_object_id) "
        "and the ids without associations taken",
    ),
    Workload(
        "read-own",
        "read",
        "own",
        "own",
        "20,000 ids, 248,000 associations, page size 100: 5-15 each, every 100th id 250 "
        "(3 pages); awaited, then every pair taken",
    ),
    Workload("associate", "associate", "own", None, "20,000 pairs, 100 a request"),
    Workload("archive", "archive", "own", None, "the same 20,000 pairs"),
    Workload(
        "stream",
        "stream",
        "stream",
        "stream",
        "100,000 ids x 10 = 1,000,000 associations through async for, every to_object_id "
        "touched, nothing kept",
    ),
    Workload(
        "no-assoc",
        "none",
        "none",
        "none",
        "1,000,000 ids without associations (a 207 with one NO_ASSOCIATIONS_FOUND error per "
        "id), awaited, len(result.ids_without_associations) taken",
    ),
    Workload(
        "no-assoc-stream",
        "none-stream",
        "none",
        "none",
        "the same ids streamed page by page, each page's ids_without_associations counted",
    ),
    Workload(
        "latency",
        "read",
        "latency",
        "latency",
        "40,000 ids with one association each, 300 ms per call, concurrency 8; awaited, "
        "then every pair taken",
    ),
    Workload(
        "latency-stream",
        "read-stream",
        "latency",
        "latency",
        "the same calls, streamed with async for, every pair taken as its page arrives "
        "(as the raw loop does)",
    ),
    Workload(
        "rate",
        "rate",
        "rate",
        "rate",
        "server allows 20 requests per rolling 2 s (429 TEN_SECONDLY_ROLLING beyond, rate "
        "headers on every answer, no Retry-After); 20,000 ids at page size 3 = 6 dependent "
        "rounds of 20 requests; client told RateLimit(20, 2.0); 10 runs",
    ),
    Workload(
        "rate-shared",
        "rate",
        "rate",
        "shared",
        "the same server and client, 10,000 ids, while another process spends half the "
        "budget (10 requests per 2 s, evenly spaced)",
    ),
)
BY_NAME = {w.name: w for w in WORKLOADS}

_READS = frozenset(w.name for w in WORKLOADS)
CLIENTS = (
    ClientInfo("hubassoc", "bench.hubassoc_client", None, _READS),
    ClientInfo(RAW, "bench.baselines.raw_aiohttp", None, _READS),
    ClientInfo(
        "hubspot-api-client",
        "bench.baselines.official_sdk",
        "hubspot",
        frozenset({"read-own", "associate", "archive", "latency"}),
    ),
    ClientInfo(
        "hubspot-sdk",
        "bench.baselines.hubspot_sdk",
        "hubspot_sdk",
        frozenset({"read-own", "associate", "archive", "latency"}),
    ),
)
#: Clients cheap enough to run ``--repeat`` times; the SDKs take 5-15 s a read and run once.
REPEATED = {"hubassoc", RAW}


def emulator_args(name: str, sizes: Sizes) -> list[str]:
    """The ``bench._server`` arguments of one emulator configuration."""
    sizes_json = json.dumps(attrs.asdict(sizes))
    args = ["--sizes", sizes_json]
    if name == "portal":
        return [*args, "--seed", "portal", "--page-size", str(sizes.portal_page)]
    if name == "own":
        return [*args, "--seed", "own", "--page-size", str(sizes.own_page)]
    if name in ("stream", "none"):
        return [*args, "--seed", name]
    if name == "latency":
        return [*args, "--seed", "latency", "--latency", str(sizes.latency)]
    if name == "rate":
        n, window = sizes.rate_limit
        return [
            *args,
            "--seed",
            "rate",
            "--page-size",
            str(sizes.rate_page),
            "--rate-limit",
            str(n),
            str(window),
        ]
    raise ValueError(f"unknown emulator {name!r}")


def _spec(w: Workload, sizes: Sizes, emu: Emulator) -> Spec:
    types = {"stream": STREAM_TYPES, "associate": WRITE_TYPES, "archive": WRITE_TYPES}
    from_type, to_type = types.get(w.kind, READ_TYPES)
    return Spec(
        workload=w.kind,
        url=emu.url,
        token=TOKEN,
        concurrency=sizes.concurrency,
        from_type=from_type,
        to_type=to_type,
        read_set=sizes.data_set(w.data) if w.data else None,
        write_set=sizes.write_set() if w.data is None else None,
        read_chunk=sizes.read_chunk,
        rate_limit=sizes.rate_limit if w.kind == "rate" else None,
    )


def _verify(row: dict[str, Any], expected: dict[str, str]) -> None:
    if "error" in row:
        row["verified"], row["why"] = False, row["error"]
        return
    for key, want in expected.items():
        # A client that raises on every error page reports no ids without associations;
        # that is right exactly when the data set has none.
        if key == "without_digest" and key not in row and want == EMPTY_IDS:
            continue
        if row.get(key) != want:
            row["verified"] = False
            row["why"] = f"{key} {row.get(key)} != expected {want}"
            return
    row["verified"] = True


def _summarise(runs: list[dict[str, Any]], key: str = "cpu_s") -> dict[str, Any]:
    """One row for a client's runs: the run with the median ``key``.

    Every run is verified, not only the one reported, and a single failed run fails the
    row: a client that is right two times out of three does not count.
    """
    failed = [r for r in runs if not r["verified"]]
    if failed:
        row = dict(failed[0])
        if len(runs) > 1:
            row["why"] = f"{len(failed)} of {len(runs)} runs failed: {row['why']}"
        return row
    ordered = sorted(runs, key=lambda r: r[key])
    row = dict(ordered[(len(ordered) - 1) // 2])
    row["runs"] = len(runs)
    row["cpu_s_all"] = [round(r["cpu_s"], 3) for r in runs]
    row["peak_rss_mb_all"] = [round(r["peak_rss_mb"], 1) for r in runs]
    return row


def _brief(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"ERROR {row['error'][:200]}"
    if "skipped" in row:
        return f"skipped: {row['skipped']}"
    return (
        f"wall {row['wall_s']:.2f}s cpu {row['cpu_s']:.2f}s rss {row['peak_rss_mb']:.0f}MB "
        f"calls {row['calls']} server cpu {row['server_cpu_s']:.2f}s"
    )


def bench_reads(
    w: Workload,
    clients: Sequence[ClientInfo],
    sizes: Sizes,
    emu: Emulator,
    repeat: int,
    log: Log,
) -> list[dict[str, Any]]:
    """Every client reads the workload's data set ``repeat`` times (the SDKs once)."""
    assert w.data is not None
    spec = _spec(w, sizes, emu)
    expected = sizes.data_set(w.data).expected(w.kind)
    runs: dict[str, list[dict[str, Any]]] = {c.name: [] for c in clients}
    for i in range(repeat):
        for client in clients:
            if i and client.name not in REPEATED:
                continue
            if w.emulator == "none":
                emu.reset()  # a million request bodies a run would pile up otherwise
            row = run_client(client, spec, emu, w.name)
            _verify(row, expected)
            runs[client.name].append(row)
            log(f"  {w.name:<16} {client.name:<19} {_brief(row)}")
    # A latency row is about wall time: its run with the median wall, not the median CPU.
    key = "wall_s" if w.emulator == "latency" else "cpu_s"
    return [_summarise(runs[c.name], key) for c in clients]


def bench_writes(
    clients: Sequence[ClientInfo],
    sizes: Sizes,
    emu: Emulator,
    repeat: int,
    log: Log,
) -> list[dict[str, Any]]:
    """Associate the pairs, then archive them, checking the emulator's graph around each.

    Empty before associate, exactly the pairs after it, empty again after archive: every
    client starts from the same state and its writes are verified on the server.
    """
    data = sizes.write_set()
    expected = data.digest()
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i in range(repeat):
        for client in clients:
            if i and client.name not in REPEATED:
                continue
            for name in ("associate", "archive"):
                spec = _spec(BY_NAME[name], sizes, emu)
                before = emu.graph(WRITE_TYPES)
                row = run_client(client, spec, emu, name)
                after = emu.graph(WRITE_TYPES)
                want_before = 0 if name == "associate" else data.count
                want_after = data.count if name == "associate" else 0
                if "error" not in row and before["pairs"] != want_before:
                    row["error"] = (
                        f"emulator held {before['pairs']} pairs before, not {want_before}"
                    )
                elif "error" not in row and after["pairs"] != want_after:
                    row["error"] = f"emulator holds {after['pairs']} pairs after, not {want_after}"
                elif name == "associate" and after["digest"] != expected:
                    row["error"] = "emulator's graph is not the pairs sent"
                if name == "archive" and "error" not in row:
                    row["digest"] = expected  # verified on the server: every pair is gone
                _verify(row, {"digest": expected})
                runs.setdefault((client.name, name), []).append(row)
                log(f"  {name:<16} {client.name:<19} {_brief(row)}")
    return [
        _summarise(runs[(client.name, name)])
        for name in ("associate", "archive")
        for client in clients
        if (client.name, name) in runs
    ]


# --------------------------------------------------------------------------- rate limits


def rate_fraction(starts: Sequence[float], n: int, window: float) -> tuple[float, float, float]:
    """``(fraction, span, ideal span)`` of the allowed rate that ``starts`` achieved.

    A client keeping to ``n`` per ``window`` s (rolling) can start request ``k`` (0-based)
    no earlier than ``floor(k / n) * window`` after the first, so ``N`` requests span at
    least ``floor((N - 1) / n) * window``; the fraction is that span over the real one
    (1.0 = the whole allowance, with no idle time).
    """
    if len(starts) <= n:
        return float("nan"), 0.0, 0.0
    span = max(starts) - min(starts)
    ideal = ((len(starts) - 1) // n) * window
    return (ideal / span if span else float("nan")), span, ideal


def _rate_figures(row: dict[str, Any], sizes: Sizes) -> None:
    n, window = sizes.rate_limit
    stamps = row.pop("stamps", [])
    ok = sorted(t for t, status in stamps if status < 400)
    row["requests"] = len(stamps)
    row["client_429s"] = sum(1 for _, status in stamps if status == 429)
    row["server_429s"] = row.get("server_statuses", {}).get("429", 0)
    fraction, span, ideal = rate_fraction(ok, n, window)
    row.update(rate_fraction=fraction, span_s=span, ideal_span_s=ideal, accepted=len(ok))
    row["_ok_starts"] = ok


def _pause_for_window(sizes: Sizes) -> None:
    # The emulator's window must be empty when a run starts: each run is a fresh process
    # whose limiter knows nothing of the previous run's requests.
    time.sleep(sizes.rate_limit[1] + 0.25)


def bench_rate(
    clients: Sequence[ClientInfo], sizes: Sizes, emu: Emulator, log: Log
) -> list[dict[str, Any]]:
    """hubassoc ``rate_runs`` times, raw up to 3 times; every run's figures are kept."""
    w = BY_NAME["rate"]
    spec = _spec(w, sizes, emu)
    assert w.data is not None
    expected = sizes.data_set(w.data).expected("read")
    rows = []
    for client in clients:
        runs = []
        for _ in range(sizes.rate_runs if client.name == "hubassoc" else min(3, sizes.rate_runs)):
            _pause_for_window(sizes)
            row = run_client(client, spec, emu, w.name)
            _verify(row, expected)
            if row["verified"]:
                _rate_figures(row, sizes)
                row.pop("_ok_starts")
                log(
                    f"  {w.name:<16} {client.name:<19} {_brief(row)} "
                    f"rate {row['rate_fraction']:.3f} 429s {row['server_429s']}"
                )
            else:
                log(f"  {w.name:<16} {client.name:<19} {_brief(row)}")
            runs.append(row)
        row = (
            _summarise(runs, key="rate_fraction")
            if all(r["verified"] for r in runs)
            else _summarise(runs)
        )
        if row["verified"]:
            fractions = [r["rate_fraction"] for r in runs]
            row["rate_fractions"] = [round(f, 4) for f in fractions]
            row["rate_fraction_min"] = min(fractions)
            row["server_429s_per_run"] = [r["server_429s"] for r in runs]
            row["client_429s_per_run"] = [r["client_429s"] for r in runs]
        rows.append(row)
    return rows


def bench_shared(
    clients: Sequence[ClientInfo], sizes: Sizes, emu: Emulator, log: Log
) -> list[dict[str, Any]]:
    """Each client once, while a rival process spends half the budget on the same server."""
    w = BY_NAME["rate-shared"]
    assert w.data is not None
    spec = _spec(w, sizes, emu)
    expected = sizes.data_set(w.data).expected("read")
    n, window = sizes.rate_limit
    config = {
        "url": emu.url,
        "token": TOKEN,
        "from_type": READ_TYPES[0],
        "to_type": READ_TYPES[1],
        "id": sizes.data_set(w.data).ids()[0],
        "per_window": max(1, n // 2),
        "window": window,
    }
    rows = []
    for client in clients:
        _pause_for_window(sizes)
        with rival(config) as other:
            time.sleep(window)  # the rival's half of the window is in use when the client starts
            row = run_client(client, spec, emu, w.name)
            rival_stamps = other.finish()
        _verify(row, expected)
        if row["verified"]:
            _rate_figures(row, sizes)
            ok = row.pop("_ok_starts")
            first, last = ok[0], ok[-1]
            theirs = sorted(t for t, s in rival_stamps if s < 400 and first <= t <= last)
            combined, _, _ = rate_fraction(sorted(ok + theirs), n, window)
            span = last - first
            row.update(
                rival_requests=len(rival_stamps),
                rival_429s=sum(1 for _, s in rival_stamps if s == 429),
                rival_share=len(theirs) / span / (n / window) if span else float("nan"),
                client_share=len(ok) / span / (n / window) if span else float("nan"),
                combined_fraction=combined,
            )
            log(
                f"  {w.name:<16} {client.name:<19} {_brief(row)} client "
                f"{row['client_share']:.3f} + rival {row['rival_share']:.3f} of the limit, "
                f"combined {combined:.3f}; 429s {row['server_429s']}"
            )
        else:
            log(f"  {w.name:<16} {client.name:<19} {_brief(row)}")
        rows.append(row)
    return rows
