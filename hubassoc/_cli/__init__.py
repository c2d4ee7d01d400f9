"""The ``hubassoc`` command line: bulk reads and writes from files, with progress and resume.

Usage::

    hubassoc read FROM TO --ids FILE|-          [options]   JSON Lines of associations
    hubassoc associate FROM TO --pairs FILE|-   [options]   CSV (from,to) or JSONL
    hubassoc create FROM TO --pairs FILE|-      [options]   CSV (from,to,label) or JSONL
    hubassoc archive FROM TO --pairs FILE|-     [options]
    hubassoc purge FROM TO --specs FILE|-       [options]   CSV (category,typeId) or JSONL
    hubassoc labels FROM TO [--out FILE]                    JSON Lines of label definitions
    hubassoc emulator [--port P] [--seed-demo] ...          the built-in HubSpot emulator
    hubassoc demo                                           the quickstart, against the emulator

A job command is a :class:`hubassoc.Job` (``create``: :meth:`hubassoc.Job.custom`) of
``--chunk-size`` inputs a block, run with ``--concurrency`` blocks in flight through one
shared :class:`hubassoc.Client` into a :class:`hubassoc.FileStore`: when a block finishes,
its output lines and failed inputs are appended to ``--out`` and ``--failed`` (flushed
and fsynced), and then, with ``--checkpoint``, the block is recorded as done together
with the byte sizes both files had reached. A restarted job skips the recorded blocks
and cuts both files back to the recorded sizes, so a block that was half written when
the job died is written again exactly once. The command line adds the input files,
progress, signals and the closing lines.

Exit status: 0 every input done, 1 some inputs failed (or HubSpot stopped the job),
2 bad usage or a bad input file, 128 + the signal number when stopped by SIGINT/SIGTERM.
"""

from __future__ import annotations

from .._blocks import associate_line, failed_ids, failed_pairs, failed_specs, read_line
from ._inputs import (
    InputError,
    InputFormat,
    ParsedInput,
    format_inputs,
    parse_ids,
    parse_labelled,
    parse_pairs,
    parse_specs,
    read_input,
)
from ._labelling import LabelError, resolve_labels
from ._main import build_parser, main
from ._outputs import create_line, label_line
from ._progress import ProgressReporter, progress_text
from ._status import EXIT_FAILED, EXIT_OK, EXIT_USAGE

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "InputError",
    "InputFormat",
    "LabelError",
    "ParsedInput",
    "ProgressReporter",
    "associate_line",
    "build_parser",
    "create_line",
    "failed_ids",
    "failed_pairs",
    "failed_specs",
    "format_inputs",
    "label_line",
    "main",
    "parse_ids",
    "parse_labelled",
    "parse_pairs",
    "parse_specs",
    "progress_text",
    "read_input",
    "read_line",
    "resolve_labels",
]
