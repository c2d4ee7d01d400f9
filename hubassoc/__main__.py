"""``python -m hubassoc`` and the ``hubassoc`` console script; see :mod:`hubassoc._cli`."""

from __future__ import annotations

import sys

from hubassoc._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
