"""The examples run against the emulator, as a user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_runs_against_the_emulator() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubassoc.testing",
            "--port",
            "0",
            "--seed-demo",
            "--exec",
            sys.executable,
            str(ROOT / "examples" / "quickstart.py"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "associate_default: 252 associations created, 0 errors" in out
    assert "read: contact 103 -> 250 companies" in out  # three pages merged
    assert "read: ids with no associations: ['104']" in out
    assert "read again: contact 101 -> 52 companies" in out
    assert "purge_configurations: status COMPLETE, 0 errors" in out


def test_exec_returns_the_command_status() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubassoc.testing",
            "--port",
            "0",
            "--exec",
            sys.executable,
            "-c",
            "import os, sys; print(os.environ['HUBSPOT_BASE_URL']); sys.exit(3)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert "http://127.0.0.1:" in done.stdout
