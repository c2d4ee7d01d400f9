"""The benchmark still works: ``bench/run.py --smoke`` end to end, every answer verified.

No timing is asserted: CI machines vary, and the benchmark is a command, not a test of
speed. What is asserted is that every workload ran for hubassoc and the raw baseline,
that every client which ran returned exactly what the emulator holds, and that the run
produced its table, its JSON line and its results file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {"read", "associate", "archive", "stream", "rate", "latency"}


def test_bench_smoke_runs_and_verifies_every_client(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith("workload") and "client CPU s" in line for line in lines)
    summary = json.loads(lines[-1])  # the JSON line is the last line
    assert summary["smoke"] is True
    rows = summary["results"]
    by_client: dict[str, set[str]] = {}
    for row in rows:
        assert row["verified"] is True, row
        by_client.setdefault(row["client"], set()).add(row["workload"])
    assert by_client["hubassoc"] == WORKLOADS
    assert by_client["raw aiohttp"] == WORKLOADS - {"rate"}
    # An SDK that is not installed is named as such, never silently dropped.
    for name in ("hubspot-api-client", "hubspot-sdk"):
        assert name in by_client or any(name in note for note in summary["unavailable"])
    read = next(r for r in rows if r["client"] == "hubassoc" and r["workload"] == "read")
    assert read["associations"] > 0
    assert read["cpu_s"] > 0
    assert read["peak_rss_mb"] > 0
    assert (tmp_path / "latest.md").read_text().startswith("# hubassoc benchmark")
