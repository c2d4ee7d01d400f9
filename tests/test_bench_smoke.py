"""The benchmark still works: ``bench/run.py --smoke`` end to end, every answer verified.

No timing is asserted: CI machines vary, and the benchmark is a command, not a test of
speed. What is asserted is that every workload ran for hubassoc and the raw baseline,
that every client which ran returned exactly what the emulator holds, that every figure
the goals need was measured (as a ratio to the raw loop where the goal is one), and that
the run produced its tables, its JSON line, its results file and the README section.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {
    "read-portal",
    "read-own",
    "associate",
    "archive",
    "stream",
    "no-assoc",
    "no-assoc-stream",
    "latency",
    "latency-stream",
    "rate",
    "rate-shared",
}


def test_bench_smoke_runs_and_verifies_every_client(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\n\nafter\n")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--smoke",
            "--out",
            str(tmp_path),
            "--readme",
            str(readme),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith("workload") and "client CPU s (x raw)" in line for line in lines)
    assert any(line.startswith("goal") and "result" in line for line in lines)
    summary = json.loads(lines[-1])  # the JSON line is the last line
    assert summary["smoke"] is True
    rows = summary["results"]
    by_client: dict[str, set[str]] = {}
    for row in rows:
        assert row["verified"] is True, row
        by_client.setdefault(row["client"], set()).add(row["workload"])
    assert by_client["hubassoc"] == WORKLOADS
    assert by_client["raw aiohttp"] == WORKLOADS
    # An SDK that is not installed is named as such, never silently dropped.
    for name in ("hubspot-api-client", "hubspot-sdk"):
        assert name in by_client or any(name in note for note in summary["unavailable"])

    ours = {r["workload"]: r for r in rows if r["client"] == "hubassoc"}
    for name in ("read-portal", "read-own", "stream", "no-assoc", "no-assoc-stream", "latency"):
        assert ours[name]["ratio"]["cpu_s"] > 0, name
        assert ours[name]["ratio"]["peak_rss_mb"] > 0, name
    assert ours["read-portal"]["associations"] == 4_888
    assert ours["no-assoc"]["ids_without"] == summary["sizes"]["none_ids"]
    assert ours["no-assoc-stream"]["ids_without"] == summary["sizes"]["none_ids"]
    assert len(ours["rate"]["rate_fractions"]) == summary["sizes"]["rate_runs"]
    assert len(ours["rate"]["server_429s_per_run"]) == summary["sizes"]["rate_runs"]
    assert ours["rate-shared"]["rival_requests"] > 0
    # The awaited latency row says how much of its wall time came after the await.
    assert 0 < ours["latency"]["use_after_await_s"] < ours["latency"]["wall_s"]
    assert any(
        line.startswith("latency hubassoc:") and "consumer's pass over the awaited" in line
        for line in lines
    )
    assert "combined_fraction" in ours["rate-shared"]
    assert ours["latency"]["ratio"]["wall_vs_ideal"] > 0

    # Every goal was measured: none is passed or failed by omission.
    assert summary["goals"]
    assert all(goal["passed"] is not None for goal in summary["goals"]), summary["goals"]

    assert (tmp_path / "latest.md").read_text().startswith("# hubassoc benchmark")
    section = readme.read_text()
    assert "old" not in section
    assert section.endswith("<!-- bench:end -->\n\nafter\n")
    assert "| goal | measured | target | result |" in section
