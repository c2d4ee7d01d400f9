"""Input files: ids, pairs, labelled pairs and (category, typeId) specs, and writing them back."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Final, Generic, Literal, TypeVar

import attrs

T = TypeVar("T")
Pair = tuple[str, str]
SpecRow = tuple[str, int]
#: A pair and the labels its rows give, as written ("" for an unlabelled row).
LabelledRow = tuple[str, str, tuple[str, ...]]
Kind = Literal["ids", "pairs", "specs", "labelled"]

# HubSpot record ids are digits; the client refuses anything else, so the file is checked first.
_ID = re.compile(r"[0-9]{1,100}")
_CATEGORY = re.compile(r"[A-Za-z_]{1,64}")
_TYPE_ID = re.compile(r"[0-9]{1,10}")
_HEADER_NAMES: Final[dict[Kind, dict[str, str]]] = {
    "ids": {},
    "pairs": {
        "from": "from",
        "fromid": "from",
        "fromobjectid": "from",
        "to": "to",
        "toid": "to",
        "toobjectid": "to",
    },
    "specs": {
        "category": "category",
        "associationcategory": "category",
        "typeid": "typeId",
        "associationtypeid": "typeId",
    },
    "labelled": {
        "from": "from",
        "fromid": "from",
        "fromobjectid": "from",
        "to": "to",
        "toid": "to",
        "toobjectid": "to",
        "label": "label",
        "associationlabel": "label",
    },
}
_COLUMNS: Final[dict[Kind, tuple[str, ...]]] = {
    "ids": ("id",),
    "pairs": ("from", "to"),
    "specs": ("category", "typeId"),
    "labelled": ("from", "to", "label"),
}
#: Columns a JSON Lines row may leave out: a row without a label is unlabelled.
_OPTIONAL: Final = frozenset({"label"})
#: Longest label text taken; HubSpot's own limit is far below.
_MAX_LABEL: Final = 1000


class InputError(Exception):
    """An input file that cannot be used; names the line when one is to blame."""

    def __init__(self, message: str, line: int | None = None, source: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.source = source

    def __str__(self) -> str:
        where = self.source or "input"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


@attrs.frozen
class InputFormat:
    """How an input file was written, so failed inputs can be written back the same way.

    ``format`` is ``"lines"`` (one id a line), ``"csv"`` or ``"jsonl"``; ``header`` is
    the CSV header row as written (None without one) and ``columns`` the canonical field
    names in the file's column order.
    """

    kind: Kind
    format: Literal["lines", "csv", "jsonl"]
    header: tuple[str, ...] | None = None
    columns: tuple[str, ...] = ()


@attrs.frozen
class ParsedInput(Generic[T]):
    """Inputs read from a file: deduplicated, in file order, and the file's format."""

    format: InputFormat
    items: list[T]
    duplicates: int = 0


def _decoded_lines(data: bytes, source: str) -> list[str]:
    """Split into lines, decoding each on its own so an error names its line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    lines: list[str] = []
    for number, raw in enumerate(raw_lines, 1):
        try:
            lines.append(raw.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError:
            raise InputError("not valid UTF-8", number, source) from None
    return lines


def _check_id(value: Any, what: str, number: int, source: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, dict) and set(value) == {"id"}:
        return _check_id(value["id"], what, number, source)
    if not isinstance(value, str) or not _ID.fullmatch(value.strip()):
        shown = value if isinstance(value, str) else json.dumps(value)
        raise InputError(
            f"{what} must be a record id (digits), got {shown[:60]!r}",
            number,
            source,
        )
    return value.strip()


def _dedupe(items: list[T]) -> tuple[list[T], int]:
    unique = list(dict.fromkeys(items))
    return unique, len(items) - len(unique)


def parse_ids(lines: Iterable[str], source: str = "") -> ParsedInput[str]:
    """One id a line; blank lines are skipped, duplicates dropped (first one kept)."""
    items: list[str] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text:
            items.append(_check_id(text, "an id", number, source))
    unique, duplicates = _dedupe(items)
    return ParsedInput(InputFormat("ids", "lines", None, ("id",)), unique, duplicates)


def _rows(
    lines: Iterable[str], kind: Kind, source: str
) -> tuple[InputFormat, list[tuple[int, dict[str, Any]]]]:
    """Read CSV or JSONL rows as ``(line number, {canonical field: value})``."""
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    columns = _COLUMNS[kind]
    if not numbered:
        return InputFormat(kind, "csv", None, columns), []
    if numbered[0][1].lstrip().startswith("{"):
        return InputFormat(kind, "jsonl", None, columns), _json_rows(numbered, kind, source)
    names = _HEADER_NAMES[kind]
    rows: list[tuple[int, dict[str, Any]]] = []
    header: tuple[str, ...] | None = None
    order = columns
    for index, (number, line) in enumerate(numbered):
        try:
            fields = [f.strip() for f in next(csv.reader([line], strict=True))]
        except csv.Error as exc:
            raise InputError(f"not valid CSV ({exc})", number, source) from None
        if len(fields) != len(columns):
            raise InputError(
                f"expected {len(columns)} comma-separated fields ({','.join(columns)}), "
                f"got {len(fields)}",
                number,
                source,
            )
        if index == 0:
            canonical = [names.get(re.sub(r"[^a-z]", "", f.lower())) for f in fields]
            # One column name is enough to call it a header: no object id reads "from".
            # A label column name is not, since a label may well read "Label".
            if set(canonical) - {None, "label"}:
                if set(canonical) != set(columns):
                    raise InputError(
                        f"the header must name the columns {_listed(columns)}",
                        number,
                        source,
                    )
                header = tuple(fields)
                order = tuple(c for c in canonical if c is not None)
                continue
        rows.append((number, dict(zip(order, fields, strict=True))))
    return InputFormat(kind, "csv", header, order), rows


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _json_rows(
    numbered: list[tuple[int, str]], kind: Kind, source: str
) -> list[tuple[int, dict[str, Any]]]:
    columns = _COLUMNS[kind]
    aliases: dict[str, tuple[str, ...]] = {"from": ("from",), "to": ("to",)}
    if kind == "specs":
        aliases = {
            "category": ("category", "associationCategory"),
            "typeId": ("typeId", "associationTypeId"),
        }
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in numbered:
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", number, source) from None
        if not isinstance(value, dict):
            raise InputError(
                f"expected a JSON object with {_listed([repr(c) for c in columns])}",
                number,
                source,
            )
        row: dict[str, Any] = {}
        for column in columns:
            found = [value[key] for key in aliases.get(column, (column,)) if key in value]
            if not found and column not in _OPTIONAL:
                raise InputError(f"missing {column!r}", number, source)
            row[column] = found[0] if found else None
        rows.append((number, row))
    return rows


def parse_pairs(lines: Iterable[str], source: str = "") -> ParsedInput[Pair]:
    """``from,to`` CSV with an optional header, or JSONL ``{"from": "1", "to": "2"}``."""
    fmt, rows = _rows(lines, "pairs", source)
    items = [
        (
            _check_id(row["from"], "'from'", number, source),
            _check_id(row["to"], "'to'", number, source),
        )
        for number, row in rows
    ]
    unique, duplicates = _dedupe(items)
    return ParsedInput(fmt, unique, duplicates)


def parse_specs(lines: Iterable[str], source: str = "") -> ParsedInput[SpecRow]:
    """``category,typeId`` CSV with an optional header, or JSONL ``{"category", "typeId"}``."""
    fmt, rows = _rows(lines, "specs", source)
    items: list[SpecRow] = []
    for number, row in rows:
        category, type_id = row["category"], row["typeId"]
        if not isinstance(category, str) or not _CATEGORY.fullmatch(category):
            raise InputError(
                f"'category' must be a word such as USER_DEFINED, got {category!r}", number, source
            )
        if isinstance(type_id, str) and _TYPE_ID.fullmatch(type_id):
            type_id = int(type_id)
        if isinstance(type_id, bool) or not isinstance(type_id, int) or type_id < 0:
            raise InputError(
                f"'typeId' must be a whole number >= 0, got {type_id!r}", number, source
            )
        items.append((category.upper(), type_id))
    unique, duplicates = _dedupe(items)
    return ParsedInput(fmt, unique, duplicates)


def _check_label(value: Any, number: int, source: str) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str) or len(value) > _MAX_LABEL or not value.isprintable():
        shown = value if isinstance(value, str) else json.dumps(value)
        raise InputError(
            "'label' must be a label name, an association type id or CATEGORY:typeId, "
            f"got {shown[:60]!r}",
            number,
            source,
        )
    return value.strip()


def parse_labelled(lines: Iterable[str], source: str = "") -> ParsedInput[LabelledRow]:
    """``from,to,label`` CSV with an optional header, or JSONL ``{"from", "to", "label"}``.

    An empty (or, in JSON, missing or null) label is the unlabelled association. The
    rows of one pair become one input holding each of their labels, in file order;
    a row repeated exactly is dropped.
    """
    fmt, rows = _rows(lines, "labelled", source)
    labels: dict[Pair, dict[str, None]] = {}
    duplicates = 0
    for number, row in rows:
        pair = (
            _check_id(row["from"], "'from'", number, source),
            _check_id(row["to"], "'to'", number, source),
        )
        label = _check_label(row["label"], number, source)
        of_pair = labels.setdefault(pair, {})
        if label in of_pair:
            duplicates += 1
        of_pair[label] = None
    items = [(f, t, tuple(of_pair)) for (f, t), of_pair in labels.items()]
    return ParsedInput(fmt, items, duplicates)


def format_inputs(fmt: InputFormat, items: Sequence[Any], *, header: bool) -> str:
    """Write ``items`` the way ``fmt`` says, so the text parses back to the same inputs."""
    if fmt.format == "lines":
        return "".join(f"{item}\n" for item in items)
    if fmt.format == "jsonl":
        return "".join(
            json.dumps(dict(zip(fmt.columns, row, strict=True))) + "\n"
            for item in items
            for row in _as_rows(fmt.kind, item)
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header and fmt.header is not None:
        writer.writerow(fmt.header)
    for item in items:
        for values in _as_rows(fmt.kind, item):
            row = dict(zip(_COLUMNS[fmt.kind], values, strict=True))
            writer.writerow([row[column] for column in fmt.columns])
    return buffer.getvalue()


def _as_rows(kind: Kind, item: Any) -> list[tuple[Any, ...]]:
    """The rows one input was read from, in canonical column order."""
    if kind == "ids":
        return [(item,)]
    if kind == "labelled":
        from_id, to_id, labels = item
        return [(from_id, to_id, label) for label in labels]
    return [tuple(item)]


def read_input(path: str, kind: Kind, stdin: IO[bytes] | None = None) -> ParsedInput[Any]:
    """Read and parse an input file (``-`` is standard input)."""
    source = "<stdin>" if path == "-" else path
    try:
        data = (stdin or sys.stdin.buffer).read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), None, source) from None
    lines = _decoded_lines(data, source)
    parser: dict[Kind, Callable[[list[str], str], ParsedInput[Any]]] = {
        "ids": parse_ids,
        "pairs": parse_pairs,
        "specs": parse_specs,
        "labelled": parse_labelled,
    }
    return parser[kind](lines, source)
