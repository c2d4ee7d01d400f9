"""Argument parsing, credentials from the environment, and ``main``."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any, Final

from .._argtypes import positive_int, seconds
from .._auth import OAuthToken, TokenSource
from .._client import DEFAULT_BASE_URL, DEFAULT_WRITE_CHUNK_SIZE, READ_LIMIT, TOKEN_ENV, Client
from .._exceptions import InvalidInputError
from .._ratelimit import RateLimit
from .._stores import StoreError
from .._version import __version__
from ._commands import _COMMANDS, _Command
from ._inputs import InputError, ParsedInput, read_input
from ._job import _Job
from ._labelling import LabelError
from ._labels import list_labels
from ._status import _PROG, EXIT_USAGE, _UsageError

CLIENT_ID_ENV: Final = "HUBSPOT_CLIENT_ID"
CLIENT_SECRET_ENV: Final = "HUBSPOT_CLIENT_SECRET"
REFRESH_TOKEN_ENV: Final = "HUBSPOT_REFRESH_TOKEN"
_OBJECT_TYPE = re.compile(r"[A-Za-z0-9_-]+")


def _rate_limit(text: str) -> RateLimit | None:
    if text.strip().lower() in ("none", "off"):
        return None
    count, sep, seconds = text.partition("/")
    try:
        interval = float(seconds)
        limit = RateLimit(int(count), interval) if sep and math.isfinite(interval) else None
    except (ValueError, InvalidInputError):
        limit = None
    if limit is None:
        raise argparse.ArgumentTypeError(
            f"expected N/SECONDS such as 100/10 (or none), got {text!r}"
        )
    return limit


def _object_type(text: str) -> str:
    if not _OBJECT_TYPE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected an object type such as contacts, 0-1 or p123_cars, got {text!r}"
        )
    return text


_DESCRIPTION = """\
Read, create and delete HubSpot CRM associations in bulk from files.

The access token is read from the environment (HUBSPOT_ACCESS_TOKEN, or the
variable --token-env names), never from the command line.
"""

_EPILOG = """\
exit status: 0 all inputs done, 1 some inputs failed (see --failed), 2 bad usage
or a bad input file, 130/143 stopped by Ctrl-C/SIGTERM (resumable with --checkpoint).

examples:
  hubassoc read contacts companies --ids ids.txt --out assoc.jsonl --checkpoint job.ckpt
  hubassoc associate contacts companies --pairs pairs.csv --failed failed.csv
  hubassoc create contacts companies --pairs labelled.csv --out created.jsonl
  hubassoc labels contacts companies
  hubassoc emulator --port 8080 --seed-demo
"""

_JOB_EPILOG = {
    "read": "Output: one JSON line per from-id with associations, HubSpot's batch-read shape "
    "with every page merged. --ids: one id a line.",
    "associate": "Output: one JSON line per created association (HubSpot's result shape). "
    '--pairs: CSV from,to (optional header) or JSON Lines {"from": "1", "to": "2"}.',
    "create": "Output: one JSON line per associated pair with every label it now carries "
    "(HubSpot's batch-create result shape). --pairs: CSV from,to,label (optional header) or "
    'JSON Lines {"from": "1", "to": "2", "label": "Decision maker"}. A label is a label name, '
    "an association type id (3) or CATEGORY:typeId (USER_DEFINED:3); an empty one is the "
    "unlabelled association. Rows of one pair are created together, in one input.",
    "archive": "--pairs: CSV from,to (optional header) or JSON Lines "
    '{"from": "1", "to": "2"}. Every association between each pair is deleted.',
    "purge": "--specs: CSV category,typeId (optional header) or JSON Lines "
    '{"category": "USER_DEFINED", "typeId": 3}.',
}


def _connection_options(common: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    group = common.add_argument_group("connection")
    group.add_argument(
        "--token-env",
        default=TOKEN_ENV,
        metavar="NAME",
        help=f"environment variable holding the access token (default {TOKEN_ENV})",
    )
    group.add_argument(
        "--oauth",
        action="store_true",
        help="authenticate as an OAuth app: client id, client secret and refresh token come "
        "from the environment variables below; access tokens are refreshed as they expire",
    )
    group.add_argument(
        "--client-id-env",
        default=CLIENT_ID_ENV,
        metavar="NAME",
        help=f"with --oauth: variable holding the app's client id (default {CLIENT_ID_ENV})",
    )
    group.add_argument(
        "--client-secret-env",
        default=CLIENT_SECRET_ENV,
        metavar="NAME",
        help=f"with --oauth: variable holding the client secret (default {CLIENT_SECRET_ENV})",
    )
    group.add_argument(
        "--refresh-token-env",
        default=REFRESH_TOKEN_ENV,
        metavar="NAME",
        help=f"with --oauth: variable holding the refresh token (default {REFRESH_TOKEN_ENV})",
    )
    group.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help=f"API root (default $HUBSPOT_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    return group


def _labels_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common)
    files = common.add_argument_group("files")
    files.add_argument("--out", metavar="FILE", help="write the labels here (default stdout)")
    return common


def _job_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = _connection_options(common)
    group.add_argument(
        "--concurrency",
        type=positive_int,
        default=8,
        metavar="N",
        help="requests in flight at once (default 8)",
    )
    group.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=RateLimit(),
        metavar="N/SECONDS",
        help="at most N requests per SECONDS rolling window, or none (default 100/10)",
    )
    group.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"inputs per request (default {READ_LIMIT} for read, at most {READ_LIMIT}; "
        f"{DEFAULT_WRITE_CHUNK_SIZE} for writes)",
    )
    files = common.add_argument_group("files")
    files.add_argument("--out", metavar="FILE", help="write result lines here (default stdout)")
    files.add_argument(
        "--failed",
        metavar="FILE",
        help="write the inputs that failed here, in the input's format, to re-run them",
    )
    files.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="record finished blocks here; a stopped job run again with the same "
        "arguments resumes where it stopped (deleted when the job finishes)",
    )
    shown = common.add_argument_group("progress")
    shown.add_argument(
        "--progress-interval",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="seconds between progress lines when stderr is not a terminal (default 10)",
    )
    shown.add_argument("-v", "--verbose", action="store_true", help="also log each retry on stderr")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The ``hubassoc`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _job_options()
    helps = {
        "read": "read the associations of many objects, as JSON Lines",
        "associate": "create the default association of many (from, to) pairs",
        "create": "create labelled associations of many (from, to, label) rows",
        "archive": "delete every association between many (from, to) pairs",
        "purge": "remove association limit configurations (category, typeId)",
    }
    for name, command in _COMMANDS.items():
        sub = commands.add_parser(
            name,
            parents=[common],
            help=helps[name],
            description=helps[name][0].upper() + helps[name][1:] + ".",
            epilog=_JOB_EPILOG[name],
        )
        sub.add_argument("from_type", type=_object_type, metavar="FROM", help="e.g. contacts")
        sub.add_argument("to_type", type=_object_type, metavar="TO", help="e.g. companies")
        sub.add_argument(
            command.option,
            dest="input",
            required=True,
            metavar="FILE",
            help="input file, or - for standard input",
        )
    labels = commands.add_parser(
        "labels",
        parents=[_labels_options()],
        help="list the association label definitions from one object type to another",
        description="List the association label definitions from FROM to TO.",
        epilog="Output: one JSON line per definition, "
        '{"category": "USER_DEFINED", "typeId": 3, "label": "Decision maker"} '
        "(label is null for the unlabelled association).",
    )
    labels.add_argument("from_type", type=_object_type, metavar="FROM", help="e.g. contacts")
    labels.add_argument("to_type", type=_object_type, metavar="TO", help="e.g. companies")
    commands.add_parser(
        "emulator",
        add_help=False,
        help="serve the built-in HubSpot emulator (options: hubassoc emulator --help)",
    )
    commands.add_parser(
        "demo", help="run the quickstart against the built-in emulator (what `make demo` runs)"
    )
    return parser


def _env_value(name: str, what: str, hint: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise _UsageError(f"no {what}: set the {name} environment variable{hint}")
    return value


def _token(args: argparse.Namespace) -> TokenSource:
    """The job's credentials, from the environment only (never from the command line)."""
    if not args.oauth:
        hint = "" if args.token_env != TOKEN_ENV else " (or name another one with --token-env)"
        return _env_value(args.token_env, "access token", hint)
    client_id = _env_value(args.client_id_env, "OAuth client id", " (--client-id-env)")
    secret = _env_value(args.client_secret_env, "OAuth client secret", " (--client-secret-env)")
    refresh = _env_value(args.refresh_token_env, "OAuth refresh token", " (--refresh-token-env)")
    variable = args.refresh_token_env

    def rotated(_: str) -> None:
        # The new value is a secret: say where it belongs, never what it is.
        print(
            f"{_PROG}: warning: HubSpot issued a new refresh token; the one in {variable} "
            "may stop working (use hubassoc.OAuthToken(on_refresh_token=...) to store it)",
            file=sys.stderr,
        )

    try:
        return OAuthToken(
            client_id=client_id,
            client_secret=secret,
            refresh_token=refresh,
            on_refresh_token=rotated,
        )
    except InvalidInputError as exc:
        raise _UsageError(str(exc)) from None


def _base_url(args: argparse.Namespace) -> str:
    return str(args.base_url or os.environ.get("HUBSPOT_BASE_URL") or DEFAULT_BASE_URL)


async def _main_labels(args: argparse.Namespace, token: TokenSource) -> int:
    try:
        client = Client(token, base_url=_base_url(args))
    except InvalidInputError as exc:
        raise _UsageError(str(exc)) from None
    return await list_labels(args, client)


async def _main_job(
    args: argparse.Namespace, command: _Command, parsed: ParsedInput[Any], token: TokenSource
) -> int:
    base_url = _base_url(args)
    job = _Job(args, command, parsed)
    try:
        # Made before any file is touched: a token or setting it refuses changes nothing.
        client = job.client(token, base_url)
    except InvalidInputError as exc:
        raise _UsageError(str(exc)) from None
    return await job.run(client, base_url)


def _check_job_args(args: argparse.Namespace, command: _Command) -> None:
    if command.max_chunk is not None and (args.chunk_size or 0) > command.max_chunk:
        raise _UsageError(
            f"--chunk-size may be at most {command.max_chunk} for {args.command} "
            "(HubSpot's batch-read limit)"
        )
    if args.checkpoint and command.writes_output and args.out in (None, "-"):
        raise _UsageError("--checkpoint needs --out FILE: standard output cannot be rewound")
    paths = [p for p in (args.out, args.failed, args.checkpoint) if p not in (None, "-")]
    if len({os.path.abspath(p) for p in paths}) != len(paths):
        raise _UsageError("--out, --failed and --checkpoint must be different files")
    if args.input != "-" and os.path.abspath(args.input) in {os.path.abspath(p) for p in paths}:
        raise _UsageError("the input file cannot also be an output file")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hubassoc`` command line and return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["emulator"]:
        from hubassoc.testing.__main__ import main as emulator_main

        return emulator_main(arguments[1:], prog="hubassoc emulator")
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.command == "demo":
        from .._demo import main as demo_main

        return demo_main()
    try:
        if args.command == "labels":
            return asyncio.run(_main_labels(args, _token(args)))
        command = _COMMANDS[args.command]
        _check_job_args(args, command)
        token = _token(args)
        parsed = read_input(args.input, command.kind)
        if parsed.duplicates:
            print(f"{_PROG}: {parsed.duplicates} duplicate input(s) skipped", file=sys.stderr)
        return asyncio.run(_main_job(args, command, parsed, token))
    except (InputError, StoreError, LabelError, _UsageError) as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
