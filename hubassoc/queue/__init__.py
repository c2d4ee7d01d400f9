"""Run hubassoc jobs on many workers and many portals, on SAQ (``pip install 'hubassoc[queue]'``).

A :class:`hubassoc.Job`'s blocks become SAQ tasks, one queue per portal; each portal's
workers share one :class:`hubassoc.RedisRateLimit` key, and every block commits its
output to a :class:`hubassoc.RedisStore` once, however often it is run. See
``docs/jobs.md`` for when to use this, a library job, or the command line.

Example::

    from hubassoc.queue import Fleet, Portal

    fleet = Fleet("redis://localhost", {"4711": Portal("4711", token=TOKEN)})

    # where jobs start:
    job = hubassoc.Job.read("contacts", "companies", ids)
    await fleet.submit(job, "4711")
    summary = await fleet.wait(job, "4711")
    async for line in fleet.store.lines(fleet.job_id(job, "4711")):
        ...

    # in each worker process:
    await fleet.serve(["4711"])
"""

from __future__ import annotations

try:
    import saq as _saq  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("hubassoc.queue needs SAQ: pip install 'hubassoc[queue]'") from exc

from ._fleet import BLOCK_TASK, Fleet, Submission
from ._portal import Portal, PortalSource

__all__ = ["BLOCK_TASK", "Fleet", "Portal", "PortalSource", "Submission"]
