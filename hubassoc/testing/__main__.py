"""Run the HubSpot emulator as a standalone server: ``python -m hubassoc.testing``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from hubassoc._argtypes import positive_int, seconds
from hubassoc.testing._server import FakeHubSpot

_DESCRIPTION = """\
Serve the hubassoc HubSpot emulator (CRM Associations v4 batch read,
associate/default, archive and configuration purge) until Ctrl-C or SIGTERM.
Once ready it prints one line to stdout:
"hubassoc emulator listening on http://HOST:PORT".
"""

_EPILOG = """\
--seed-demo seeds contacts -> companies (and the reverse companies -> contacts):
contact 101 -> companies 201, 202; contact 102 -> 203; contact 103 -> 250
companies 1001..1250 (three pages at page size 100); contact 104 has none, so
reading it gives a 207 NO_ASSOCIATIONS_FOUND error. It also adds the
configuration contacts -> companies USER_DEFINED / typeId 3.
"""


def _rate_limit(text: str) -> tuple[int, float]:
    count, sep, seconds = text.partition("/")
    try:
        parsed = (int(count), float(seconds))
    except ValueError:
        parsed = (0, 0.0)
    if not sep or parsed[0] < 1 or parsed[1] <= 0:
        raise argparse.ArgumentTypeError(f"expected N/SECONDS such as 100/10, got {text!r}")
    return parsed


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port between 0 and 65535, got {text!r}")
    return value


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8080, help="port to bind; 0 picks a free one (default 8080)"
    )
    parser.add_argument("--seed-demo", action="store_true", help="seed the demo data (see below)")
    parser.add_argument(
        "--page-size",
        type=positive_int,
        default=100,
        metavar="N",
        help="to-objects per batch-read page (default 100)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="N/SECONDS",
        help="rolling-window limit, e.g. 100/10 (default: none)",
    )
    parser.add_argument(
        "--latency",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help=(
            "seconds from a request's arrival to its answer, concurrent requests "
            "waiting in parallel (default 0)"
        ),
    )
    parser.add_argument(
        "--token",
        default=None,
        help="accept only this bearer token (default: any non-empty bearer token)",
    )
    parser.add_argument(
        "--exec",
        dest="command",
        nargs=argparse.REMAINDER,
        metavar="COMMAND ...",
        help=(
            "run COMMAND with HUBSPOT_BASE_URL and HUBSPOT_ACCESS_TOKEN pointing at the "
            "emulator, then stop and exit with its status (must come last)"
        ),
    )
    return parser


async def _run(command: Sequence[str], hub: FakeHubSpot, token: str | None) -> int:
    env = dict(os.environ)
    env["HUBSPOT_BASE_URL"] = hub.url
    env["HUBSPOT_ACCESS_TOKEN"] = token or "emulator-token"
    process = await asyncio.create_subprocess_exec(*command, env=env)
    return await process.wait()


async def _serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows event loops have no signal handlers; Ctrl-C then arrives as
        # KeyboardInterrupt and is handled in main().
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    hub = FakeHubSpot(
        host=args.host,
        port=args.port,
        token=args.token,
        page_size=args.page_size,
        rate_limit=args.rate_limit,
        latency=args.latency,
    )
    if args.seed_demo:
        hub.seed_demo()
    async with hub:
        print(f"hubassoc emulator listening on {hub.url}", flush=True)
        if args.command:
            return await _run(args.command, hub, args.token)
        await stop.wait()
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "python -m hubassoc.testing") -> int:
    """Parse ``argv``, serve until interrupted, and return the exit status."""
    parser = _parser(prog)
    args = parser.parse_args(argv)
    if args.command == []:
        parser.error("--exec needs a command")
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"hubassoc emulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
