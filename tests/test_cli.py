"""The ``hubassoc`` command line: its pure parts directly, the rest as a subprocess.

The subprocess tests serve :class:`FakeHubSpot` from the test's own event loop and run
``python -m hubassoc`` with ``asyncio.create_subprocess_exec``, so they can steer the
emulator (and read its request log) while the command runs.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import pty
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

import hubassoc
from hubassoc import BatchError, BatchResult, Progress
from hubassoc._cli import (
    InputError,
    ParsedInput,
    ProgressReporter,
    failed_ids,
    failed_pairs,
    failed_specs,
    format_inputs,
    main,
    parse_ids,
    parse_pairs,
    parse_specs,
    progress_text,
)
from hubassoc.testing import FakeHubSpot

TOKEN = "pat-cli-test-token-42"
SOURCE_ROOT = str(Path(hubassoc.__file__).resolve().parents[1])
TIMEOUT = 30.0


# ---------------------------------------------------------------------------- input files


def test_ids_skip_blanks_and_duplicates() -> None:
    parsed = parse_ids(["101", "", "  102 ", "101", "\t"])
    assert parsed.items == ["101", "102"]
    assert parsed.duplicates == 1


def test_a_bad_id_names_its_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_ids(["1", "", "2", "3 4"], "ids.txt")
    assert caught.value.line == 4
    assert str(caught.value).startswith("ids.txt, line 4: ")


def test_pairs_csv_with_and_without_header() -> None:
    assert parse_pairs(["1,2", "3, 4"]).items == [("1", "2"), ("3", "4")]
    with_header = parse_pairs(["fromObjectId,toObjectId", "1,2"])
    assert with_header.items == [("1", "2")]
    assert with_header.format.header == ("fromObjectId", "toObjectId")
    # A header may put the columns the other way round.
    swapped = parse_pairs(["to,from", "2,1"])
    assert swapped.items == [("1", "2")]
    assert swapped.format.columns == ("to", "from")


def test_pairs_jsonl() -> None:
    parsed = parse_pairs(['{"from": "1", "to": "2"}', "", '{"from": 3, "to": {"id": "4"}}'])
    assert parsed.items == [("1", "2"), ("3", "4")]
    assert parsed.format.format == "jsonl"


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (["1,2", "3,4", "5,6,7"], 3, "expected 2 comma-separated fields"),
        (["from,to", "1,"], 2, "'to' must be a record id"),
        (['{"from": "1", "to": "2"}', "{nope"], 2, "not valid JSON"),
        (['{"from": "1", "to": "2"}', '{"from": "1"}'], 2, "missing 'to'"),
        (['{"from": "1", "to": "2"}', "[1, 2]"], 2, "expected a JSON object"),
        (["from,too", "1,2"], 1, "header must name the columns"),
    ],
)
def test_bad_pair_lines(lines: list[str], line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_pairs(lines, "pairs")
    assert caught.value.line == line
    assert message in str(caught.value)


def test_specs_csv_and_jsonl() -> None:
    assert parse_specs(["category,typeId", "user_defined,3"]).items == [("USER_DEFINED", 3)]
    jsonl = ['{"category": "USER_DEFINED", "typeId": 3}', '{"category": "X", "typeId": "4"}']
    assert parse_specs(jsonl).items == [("USER_DEFINED", 3), ("X", 4)]
    with pytest.raises(InputError, match="line 2: 'typeId' must be a whole number"):
        parse_specs(["USER_DEFINED,3", "USER_DEFINED,three"])


@pytest.mark.parametrize(
    ("parse", "lines"),
    [
        (parse_ids, ["101", "102"]),
        (parse_pairs, ["to,from", "2,1", "4,3"]),
        (parse_pairs, ["1,2", "3,4"]),
        (parse_pairs, ['{"from": "1", "to": "2"}']),
        (parse_specs, ["category,typeId", "USER_DEFINED,3"]),
        (parse_specs, ['{"category": "USER_DEFINED", "typeId": 3}']),
    ],
)
def test_failed_inputs_parse_back_to_the_same_inputs(
    parse: Callable[[list[str]], ParsedInput[Any]], lines: list[str]
) -> None:
    parsed = parse(lines)
    text = format_inputs(parsed.format, parsed.items, header=True)
    again = parse(text.splitlines())
    assert again.items == parsed.items
    assert again.format == parsed.format


# ---------------------------------------------------------------------------- failed inputs


def _result(*errors: BatchError) -> BatchResult[Any]:
    return BatchResult(errors=list(errors))


def test_failed_ids_from_chunk_and_per_id_errors() -> None:
    block = ["1", "2", "3", "4"]
    result = _result(
        BatchError(category="RETRIES_EXHAUSTED", context={"ids": ["3", "1"]}),
        BatchError(category="OBJECT_NOT_FOUND", context={"fromObjectId": ["4"]}),
        BatchError(
            category="OBJECT_NOT_FOUND",
            sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
            context={"fromObjectId": ["2"]},
        ),
    )
    assert failed_ids(result, block) == ["1", "3", "4"]
    # An error that names nothing of the block fails all of it rather than losing ids.
    assert failed_ids(_result(BatchError(message="?")), block) == block


def test_failed_pairs_mapping() -> None:
    block = [("1", "10"), ("1", "11"), ("2", "20"), ("3", "30")]
    chunk = BatchError(context={"ids": ["1", "2"], "toIds": ["11", "20"]})
    assert failed_pairs(_result(chunk), block) == [("1", "11"), ("2", "20")]
    # An archive input names one from-id and all of its to-ids.
    archive = BatchError(context={"fromObjectId": ["1"], "toObjectId": ["10", "11"]})
    assert failed_pairs(_result(archive), block) == [("1", "10"), ("1", "11")]
    only_from = BatchError(context={"fromObjectId": ["3"]})
    assert failed_pairs(_result(only_from), block) == [("3", "30")]
    assert failed_pairs(_result(BatchError(context={"other": ["x"]})), block) == block


def test_failed_specs_mapping() -> None:
    block = [("USER_DEFINED", 3), ("USER_DEFINED", 4)]
    error = BatchError(context={"category": ["USER_DEFINED"], "typeId": ["4"]})
    assert failed_specs(_result(error), block) == [("USER_DEFINED", 4)]
    assert failed_specs(_result(BatchError()), block) == block


# ---------------------------------------------------------------------------- progress


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _progress(done: int, calls: int, retries: int = 0) -> Progress:
    return Progress("read", 4, done, 0, calls, retries)


def test_progress_text() -> None:
    text = progress_text(
        done=4000, total=10000, unit="ids", failed=3, calls=12, retries=1, rate=2130.4
    )
    assert text == "4,000/10,000 ids (40%), 3 failed, 12 requests, 1 retry, 2,130 ids/s"


def test_plain_progress_lines_are_periodic() -> None:
    clock, stream = _Clock(), io.StringIO()
    reporter = ProgressReporter(
        stream,
        operation="read",
        unit="ids",
        total=8,
        already_done=0,
        already_failed=0,
        tty=False,
        interval=10.0,
        clock=clock,
    )
    reporter.start()
    clock.now += 1
    reporter.block_progress(0, _progress(2, 1))  # too soon after the start line
    clock.now += 10
    reporter.block_progress(1, _progress(4, 2, 1))
    reporter.block_finished(0, 4, 1)
    reporter.block_finished(1, 4, 0)
    reporter.finish()
    lines = stream.getvalue().splitlines()
    assert lines == [
        "hubassoc read: 0/8 ids (0%), 0 requests, 0 retries",
        "hubassoc read: 6/8 ids (75%), 3 requests, 1 retry, 1 ids/s",
        "hubassoc read: 8/8 ids (100%), 1 failed, 3 requests, 1 retry, 1 ids/s",
    ]
    assert "\r" not in stream.getvalue()


def test_terminal_progress_redraws_one_line() -> None:
    clock, stream = _Clock(), _Terminal()
    reporter = ProgressReporter(
        stream,
        operation="read",
        unit="ids",
        total=4,
        already_done=2,
        already_failed=0,
        tty=True,
        interval=10.0,
        clock=clock,
    )
    reporter.start()
    clock.now += 1
    reporter.block_progress(1, _progress(2, 1))
    reporter.log("hubassoc: warning: something")
    reporter.finish()
    out = stream.getvalue()
    assert out.startswith("\rhubassoc read [############............] 2/4 ids (50%)")
    assert "\rhubassoc read [########################] 4/4 ids (100%)" in out
    assert "\r\x1b[Khubassoc: warning: something\n" in out
    assert out.endswith("\n")
    assert out.count("\n") == 2


# ---------------------------------------------------------------------------- usage, in-process


def test_usage_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ids.txt").write_text("1\n")
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    assert main(["read", "contacts", "companies", "--ids", "ids.txt"]) == 2
    assert "set the HUBSPOT_ACCESS_TOKEN environment variable" in capsys.readouterr().err
    monkeypatch.setenv("MY_TOKEN", TOKEN)
    cases = [
        (["--chunk-size", "1001"], "at most 1000"),
        (["--checkpoint", "job.ckpt"], "--checkpoint needs --out FILE"),
        (["--out", "x", "--failed", "x"], "must be different files"),
        (["--ids", "missing.txt"], "missing.txt: No such file"),
    ]
    for extra, message in cases:
        argv = ["read", "contacts", "companies", "--token-env", "MY_TOKEN", "--ids", "ids.txt"]
        assert main(argv + extra) == 2, extra
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["read", "contacts", "bad type!", "--ids", "ids.txt"])
    assert exited.value.code == 2
    assert "expected an object type" in capsys.readouterr().err


# ---------------------------------------------------------------------------- subprocess


@attrs.frozen
class Done:
    returncode: int
    stdout: str
    stderr: str


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["HUBSPOT_ACCESS_TOKEN"] = TOKEN
    env["PYTHONPATH"] = SOURCE_ROOT
    env.pop("HUBSPOT_BASE_URL", None)
    env.update(extra)
    return env


async def _start(args: Sequence[str], cwd: Path, **kwargs: Any) -> asyncio.subprocess.Process:
    options: dict[str, Any] = {
        "stdout": asyncio.subprocess.PIPE,
        "stderr": asyncio.subprocess.PIPE,
        "env": _env(),
        "cwd": cwd,
    }
    options.update(kwargs)
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "hubassoc", *args, **options)


async def _cli(args: Sequence[str], cwd: Path, stdin: bytes | None = None) -> Done:
    process = await _start(args, cwd, stdin=asyncio.subprocess.PIPE if stdin else None)
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin), TIMEOUT)
    assert process.returncode is not None
    return Done(process.returncode, stdout.decode(), stderr.decode())


def _read_args(hub: FakeHubSpot, *extra: str) -> list[str]:
    return ["read", "contacts", "companies", "--base-url", hub.url, "--rate-limit", "none", *extra]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _by_id(lines: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in lines:
        from_id = line["from"]["id"]
        assert from_id not in out, f"{from_id} written twice"
        out[from_id] = [to["toObjectId"] for to in line["to"]]
    return out


def _read_ids(hub: FakeHubSpot, start: int = 0) -> list[list[str]]:
    """The from-ids of each batch-read request, from the ``start``-th on."""
    return [[i["id"] for i in r.body["inputs"]] for r in hub.requests[start:]]


async def test_read_output_merges_pages_in_hubspots_shape(tmp_path: Path) -> None:
    async with FakeHubSpot(token=TOKEN, page_size=100) as hub:
        hub.seed_demo()
        done = await _cli(_read_args(hub, "--ids", "-"), tmp_path, stdin=b"101\n103\n104\n")
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert [line["from"]["id"] for line in lines] == ["101", "103"]
        assert lines[0] == {
            "from": {"id": "101"},
            "to": [
                {
                    "toObjectId": to_id,
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
                    ],
                }
                for to_id in ("201", "202")
            ],
        }
        assert len(lines[1]["to"]) == 250  # three pages, one line
        assert "paging" not in lines[1]


async def test_bad_input_file_exits_2_with_the_line_number(tmp_path: Path) -> None:
    (tmp_path / "pairs.csv").write_text("from,to\n1,2\n3,4,5\n")
    (tmp_path / "ids.txt").write_text("1\n2\n\nthree 3\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        pairs = await _cli(
            ["associate", "contacts", "companies", "--pairs", "pairs.csv", "--base-url", hub.url],
            tmp_path,
        )
        ids = await _cli(_read_args(hub, "--ids", "ids.txt"), tmp_path)
        assert hub.requests == []
    assert pairs.returncode == 2
    assert "hubassoc: error: pairs.csv, line 3: expected 2 comma-separated fields" in pairs.stderr
    assert ids.returncode == 2
    assert "ids.txt, line 4: an id must be a record id" in ids.stderr
    assert "Traceback" not in pairs.stderr + ids.stderr


async def test_failed_ids_rerun_from_the_failed_file(tmp_path: Path) -> None:
    ids = [str(200 + i) for i in range(6)]
    graph: dict[str | int, list[str]] = {i: [f"9{i}"] for i in ids}
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.seed("contacts", "companies", graph)
        hub.fail_next(1, 400, path_contains="/batch/read")  # block 0 rejected whole
        hub.invalid_ids.add("203")  # one id of block 1 fails on its own (a 207)
        common = ["--chunk-size", "2", "--concurrency", "1", "--progress-interval", "0"]
        first = await _cli(
            _read_args(hub, "--ids", "ids.txt", "--out", "1.jsonl", "--failed", "f1", *common),
            tmp_path,
        )
        assert first.returncode == 1, first.stderr
        assert "3 failed (written to f1)" in first.stderr
        assert (tmp_path / "f1").read_text() == "200\n201\n203\n"

        hub.invalid_ids.clear()
        second = await _cli(
            _read_args(hub, "--ids", "f1", "--out", "2.jsonl", "--failed", "f2", *common),
            tmp_path,
        )
        assert second.returncode == 0, second.stderr
        assert (tmp_path / "f2").read_text() == ""
    merged = _by_id(_lines(tmp_path / "1.jsonl") + _lines(tmp_path / "2.jsonl"))
    assert merged == graph


async def test_failed_pairs_rerun_in_the_input_format(tmp_path: Path) -> None:
    # Column order given by the header; one chunk rejected, one pair with a missing object.
    pairs = ["to,from", "10,1", "11,1", "20,2", "999,2", "30,3"]
    (tmp_path / "pairs.csv").write_text("\n".join(pairs) + "\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.fail_next(1, 400, path_contains="/associate/")
        hub.invalid_ids.add("999")
        args = ["associate", "contacts", "companies", "--base-url", hub.url, "--chunk-size", "2"]
        args += ["--concurrency", "1", "--rate-limit", "none"]
        first = await _cli([*args, "--pairs", "pairs.csv", "--failed", "failed.csv"], tmp_path)
        assert first.returncode == 1, first.stderr
        assert (tmp_path / "failed.csv").read_text() == "to,from\n10,1\n11,1\n999,2\n"
        created = [json.loads(line) for line in first.stdout.splitlines()]
        assert [(c["from"]["id"], c["to"]["id"]) for c in created] == [("2", "20"), ("3", "30")]

        hub.invalid_ids.clear()
        second = await _cli([*args, "--pairs", "failed.csv", "--failed", "again.csv"], tmp_path)
        assert second.returncode == 0, second.stderr
        assert hub.graph("contacts", "companies") == {
            "1": ["10", "11"],
            "2": ["20", "999"],
            "3": ["30"],
        }

        # archive: HubSpot's per-input error names one from-id and its to-ids (JSON Lines).
        hub.invalid_ids.add("11")
        jsonl = [
            json.dumps({"from": f, "to": t}) for f, t in [("1", "10"), ("1", "11"), ("3", "30")]
        ]
        (tmp_path / "archive.jsonl").write_text("\n".join(jsonl) + "\n")
        archive = [a if a != "associate" else "archive" for a in args]
        archived = await _cli(
            [*archive, "--pairs", "archive.jsonl", "--failed", "failed.jsonl"], tmp_path
        )
        assert archived.returncode == 1, archived.stderr
        assert (tmp_path / "failed.jsonl").read_text() == "".join(line + "\n" for line in jsonl[:2])
        assert hub.associations("contacts", "companies", "3") == []


async def test_purge_reads_specs(tmp_path: Path) -> None:
    (tmp_path / "specs.csv").write_text("category,typeId\nUSER_DEFINED,3\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.add_configuration("contacts", "companies", "USER_DEFINED", 3)
        hub.add_configuration("contacts", "companies", "USER_DEFINED", 4)
        done = await _cli(
            ["purge", "contacts", "companies", "--specs", "specs.csv", "--base-url", hub.url],
            tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert hub.configurations("contacts", "companies") == [("USER_DEFINED", 4)]
        assert "purge done: 1 spec, 0 failed; 1 request, 0 retries" in done.stderr


async def test_progress_bar_on_a_terminal_and_plain_lines_otherwise(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("101\n102\n103\n104\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.seed_demo()
        args = _read_args(hub, "--ids", "ids.txt", "--out", "out.jsonl", "--chunk-size", "2")

        plain = await _cli(args, tmp_path)
        assert plain.returncode == 0, plain.stderr
        assert "\r" not in plain.stderr
        lines = plain.stderr.splitlines()
        assert lines[0] == "hubassoc read: 0/4 ids (0%), 0 requests, 0 retries"
        assert re.fullmatch(r"hubassoc read: 4/4 ids \(100%\), 4 requests, 0 retries, .*", lines[1])

        main_fd, child_fd = pty.openpty()
        try:
            process = await _start(args, tmp_path, stderr=child_fd)
        finally:
            os.close(child_fd)
        terminal = await asyncio.wait_for(_read_until_closed(main_fd), TIMEOUT)
        await asyncio.wait_for(process.wait(), TIMEOUT)
        assert process.returncode == 0, terminal
        assert re.search(r"\rhubassoc read \[\.{24}\] 0/4 ids \(0%\)", terminal)
        assert re.search(r"\rhubassoc read \[#{24}\] 4/4 ids \(100%\), 4 requests", terminal)
        assert "hubassoc: read done: 4 ids, 3 lines written, 0 failed" in terminal


async def _read_until_closed(fd: int) -> str:
    """Everything written to a pseudo-terminal until its last writer closes it."""
    loop = asyncio.get_running_loop()
    chunks: list[bytes] = []
    closed: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child side is closed
            data = b""
        if data:
            chunks.append(data)
        elif not closed.done():
            closed.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await closed
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    return b"".join(chunks).decode()


async def test_emulator_subcommand_serves_the_emulator(tmp_path: Path) -> None:
    code = "import os; print('url', os.environ['HUBSPOT_BASE_URL'])"
    done = await _cli(
        ["emulator", "--port", "0", "--seed-demo", "--exec", sys.executable, "-c", code],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(
        r"^hubassoc emulator listening on (http://127\.0\.0\.1:\d+)$", done.stdout, re.M
    )
    assert "url http://127.0.0.1:" in done.stdout


async def test_a_rejected_token_stops_the_job_without_showing_it(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("101\n")
    async with FakeHubSpot(token="the-right-token") as hub:
        done = await _cli(
            _read_args(hub, "--ids", "ids.txt", "--out", "out.jsonl", "--checkpoint", "job.ckpt"),
            tmp_path,
        )
    assert done.returncode == 1
    assert "hubassoc: error: HubSpot stopped the job: " in done.stderr
    assert "(HTTP 401, INVALID_AUTHENTICATION" in done.stderr
    assert "0 of 1 blocks done; run the same command again to resume" in done.stderr
    assert TOKEN not in done.stderr + done.stdout
    assert (tmp_path / "job.ckpt").exists()


async def test_an_empty_input_still_leaves_fresh_outputs(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("\n")
    (tmp_path / "out.jsonl").write_text("stale\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        done = await _cli(_read_args(hub, "--ids", "ids.txt", "--out", "out.jsonl"), tmp_path)
        assert hub.requests == []
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.jsonl").read_text() == ""
    assert "read done: 0 ids, 0 lines written, 0 failed" in done.stderr


async def test_oauth_without_its_variables_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("1\n")
    async with FakeHubSpot() as hub:
        done = await _cli(_read_args(hub, "--ids", "ids.txt", "--oauth"), tmp_path)
        assert hub.requests == []
    assert done.returncode == 2
    assert "no OAuth client id: set the HUBSPOT_CLIENT_ID environment variable" in done.stderr
