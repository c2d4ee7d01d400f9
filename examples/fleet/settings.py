"""The fleet's set-up, shared by the submitter and every worker: Redis and the portals.

Portals come from a JSON file named by ``HUBASSOC_PORTALS`` (a list of objects with
``name``, ``token`` or ``token_env``, ``max_requests``, ``interval`` and optionally
``base_url``); a real service would load them from its own database instead, through a
function passed as ``portals=``. Redis is ``HUBASSOC_REDIS`` (default
``redis://localhost:6379/0``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hubassoc.queue import Fleet, Portal


def load_portals(path: str | os.PathLike[str]) -> dict[str, Portal]:
    """The portals of a JSON file, by name; a token is read from ``token_env`` if given."""
    portals: dict[str, Portal] = {}
    for entry in json.loads(Path(path).read_text(encoding="utf-8")):
        spec: dict[str, Any] = dict(entry)
        token = spec.pop("token", None)
        if token is None:
            token = os.environ[spec.pop("token_env")]
        portal = Portal(token=token, **spec)
        portals[portal.name] = portal
    return portals


def fleet(*, heartbeat: int = 30) -> Fleet:
    """The fleet as this deployment has it."""
    portals = load_portals(os.environ["HUBASSOC_PORTALS"])
    redis = os.environ.get("HUBASSOC_REDIS", "redis://localhost:6379/0")
    return Fleet(redis, portals, heartbeat=heartbeat)
