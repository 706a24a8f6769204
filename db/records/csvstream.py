"""CSV rows with bounded memory: over-long lines and bad encodings become row problems.

Lines are read as bytes with a length cap, so a 10 MB (or 10 GB) line never sits in memory, and
decoded one at a time, so one Latin-1 row is reported without losing the rest of the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

#: Longest physical line (and CSV field) we read; longer ones are reported and skipped.
MAX_LINE_BYTES = 1 << 20
_DISCARD_CHUNK = 1 << 20

csv.field_size_limit(MAX_LINE_BYTES)


@dataclass(frozen=True)
class CsvRow:
    """One CSV record: its first physical line number, and its fields or why it is unusable."""

    line: int
    fields: list[str] | None
    problem: str | None = None


class _Lines:
    """Decoded lines of a binary file, remembering which lines were unusable and why."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.number = 0
        self.problems: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        readline = self._stream.readline
        while True:
            raw = readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            self.number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while True:  # drop the rest of the line, a chunk at a time
                    rest = readline(_DISCARD_CHUNK)
                    if not rest or rest.endswith(b"\n"):
                        break
                self.problems[self.number] = "line is longer than 1 MB"
                yield "\n"
                continue
            if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.problems[self.number] = "line is not UTF-8 text"
                yield "\n"
                continue
            if "\x00" in text:
                self.problems[self.number] = "line contains a NUL character"
                yield "\n"
                continue
            yield text


def read_rows(stream: BinaryIO) -> Iterator[CsvRow]:
    """Every non-blank CSV record of ``stream`` (the header included), with its line number."""
    lines = _Lines(stream)
    reader = csv.reader(lines, strict=False)
    while True:
        start = lines.number + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reason = "field is longer than 1 MB" if "limit" in str(error) else "malformed CSV"
            yield CsvRow(start, None, reason)
            continue
        end = lines.number
        problem = None
        if lines.problems:
            for number in [n for n in lines.problems if n <= end]:
                reason = lines.problems.pop(number)
                if problem is None and number >= start:
                    problem = reason
        if problem is not None:
            yield CsvRow(start, None, problem)
        elif fields:
            yield CsvRow(start, fields)
