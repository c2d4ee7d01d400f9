"""``hubassoc labels``: the label definitions of an object pair, as JSON Lines."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from .._client import Client
from .._exceptions import HubSpotError
from .._models import AssociationType
from ._job import _Stop
from ._outputs import label_line
from ._progress import _counted
from ._status import _PROG, EXIT_FAILED, EXIT_OK, _UsageError


def _say(message: str) -> None:
    sys.stderr.write(f"{_PROG}: {message}\n")
    sys.stderr.flush()


async def list_labels(args: argparse.Namespace, client: Client) -> int:
    """List the definitions from ``args.from_type`` to ``args.to_type``; the exit status.

    ``--out`` is written only once HubSpot has answered, so a failed run leaves an
    earlier file as it was.
    """
    stop = _Stop()
    stop.install()
    try:
        async with client:
            definitions = await client.labels.list(args.from_type, args.to_type)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if stop.signum is None or task is None:
            raise
        task.uncancel()
        _say(f"stopped by {signal.Signals(stop.signum).name}: no labels written")
        return 128 + stop.signum
    except HubSpotError as exc:
        _say(f"error: HubSpot stopped the job: {exc}")
        return EXIT_FAILED
    finally:
        stop.uninstall()
    return _write(args.out, definitions)


def _write(path: str | None, definitions: list[AssociationType]) -> int:
    data = "".join(label_line(d) + "\n" for d in definitions).encode()
    if path in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        try:
            out = open(path, "wb")  # noqa: SIM115 (closed below, after its own errors)
        except OSError as exc:
            raise _UsageError(f"cannot open {exc.filename}: {exc.strerror}") from None
        try:
            with out:
                out.write(data)
        except OSError as exc:
            _say(f"error: cannot write output: {exc}")
            return EXIT_FAILED
    _say(f"labels done: {_counted(len(definitions), 'label', 'labels')} written")
    return EXIT_OK
