"""Tests run again in a fresh interpreter where optional packages cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_without(blocked: Sequence[str], args: Sequence[str], check: str) -> None:
    """Run pytest on ``args`` where ``import`` of each of ``blocked`` fails, then ``check``.

    ``check`` is Python run in the same interpreter after the tests, asserting that the
    fallback really was used. Both must pass, and at least one test must have run.
    """
    code = (
        "import sys\n"
        f"for name in {list(blocked)!r}:\n"
        "    sys.modules[name] = None\n"
        "import pytest\n"
        "code = pytest.main(['-q', '-x', '-p', 'no:cacheprovider', *sys.argv[1:]])\n"
        f"{check}\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
