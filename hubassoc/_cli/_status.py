"""The program's name, its exit statuses, and the usage error every module may raise."""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

_PROG = "hubassoc"


class _UsageError(Exception):
    """Bad usage found after argument parsing (exit status 2)."""
