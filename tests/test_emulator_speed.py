"""The emulator's JSON codec: msgspec when installed, else orjson, else the standard library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hubassoc.testing import _replies

ROOT = Path(__file__).resolve().parents[1]


def test_the_codec_is_msgspec_when_installed() -> None:
    msgspec = pytest.importorskip("msgspec")
    assert isinstance(getattr(_replies._dumps, "__self__", None), msgspec.json.Encoder)
    assert isinstance(getattr(_replies._loads, "__self__", None), msgspec.json.Decoder)
    assert _replies._loads(_replies._dumps({"a": [1, None, "é"]})) == {"a": [1, None, "é"]}
    with pytest.raises(ValueError, match="malformed"):  # the server catches ValueError
        _replies._loads(b"{bad")


@pytest.mark.parametrize(
    ("blocked", "codec", "modules"),
    [
        (("msgspec",), "orjson", ["tests/test_emulator.py"]),
        (("msgspec", "orjson"), "json", ["tests/test_emulator.py", "tests/test_emulator_speed.py"]),
    ],
)
def test_the_emulator_works_without_msgspec(
    blocked: tuple[str, ...], codec: str, modules: list[str]
) -> None:
    """A fresh interpreter where ``import`` of the blocked codecs fails runs the tests."""
    code = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None\n"
        "import pytest\n"
        "code = pytest.main(['-q', '-x', '-p', 'no:cacheprovider', '-k', 'not msgspec',"
        " *sys.argv[1:]])\n"
        "from hubassoc.testing import _replies\n"
        f"assert _replies._loads.__module__ == {codec!r}, _replies._loads\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
