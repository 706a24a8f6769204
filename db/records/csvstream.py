"""CSV rows with bounded memory: over-long lines and bad encodings become row problems.

The file is read in blocks of about 1 MB and split at its last newline, so a 10 MB (or 10 GB)
line never sits in memory. A block of clean UTF-8 goes to the C csv reader in one piece (the
fast path of a million-row import); a block with a bad byte or a NUL is decoded line by line,
so one Latin-1 row is reported without losing the rest of the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import BinaryIO, NamedTuple

#: Longest physical line (and CSV field) we read; longer ones are reported and skipped.
MAX_LINE_BYTES = 1 << 20
_BLOCK_BYTES = 1 << 20
_DISCARD_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_TOO_LONG = "line is longer than 1 MB"

csv.field_size_limit(MAX_LINE_BYTES)

#: Builds a row without the Python-level ``__new__`` of a NamedTuple (one per CSV record).
_new = tuple.__new__


class CsvRow(NamedTuple):
    """One CSV record: its first physical line number, and its fields or why it is unusable.

    A named tuple rather than a dataclass: an import builds one per charge.
    """

    line: int
    fields: list[str] | None
    problem: str | None = None


class _Lines:
    """Decoded lines of a binary file, in blocks, remembering which lines were unusable and why.

    Every physical line becomes exactly one string for the csv reader (an unusable one becomes
    ``"\\n"``), so the reader's ``line_num`` is the physical line number.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._done = 0  # physical lines handed out in earlier blocks
        self.problems: dict[int, str] = {}

    def blocks(self) -> Iterator[Iterable[str]]:
        """Iterables of lines, one per block read."""
        read = self._stream.read
        pending = b""
        first = True
        while True:
            data = read(_BLOCK_BYTES)
            if first:
                first = False
                if data.startswith(_BOM):
                    data = data[len(_BOM) :]
            if not data:
                if pending:  # the last line has no newline
                    if len(pending) > MAX_LINE_BYTES:
                        yield self._problem(_TOO_LONG)
                    else:
                        yield self._decoded([pending], newline="")
                return
            buffer = pending + data if pending else data
            cut = buffer.rfind(b"\n")
            if cut < 0:
                if len(buffer) > MAX_LINE_BYTES:
                    self._discard_rest_of_line()
                    yield self._problem(_TOO_LONG)
                    pending = b""
                else:
                    pending = buffer
                continue
            pending = buffer[cut + 1 :]
            start = 0
            if buffer.find(b"\n", 0, MAX_LINE_BYTES + 1) < 0:
                # Only the first line can be too long: the block itself is not longer than that.
                start = buffer.find(b"\n") + 1
                yield self._problem(_TOO_LONG)
            if start <= cut:
                yield self._block(buffer[start : cut + 1])

    def _block(self, complete: bytes) -> Iterable[str]:
        """Lines of a run of complete lines: one decode when it is clean, else line by line."""
        try:
            text = complete.decode("utf-8")
        except UnicodeDecodeError:
            return self._decoded(complete.split(b"\n")[:-1], newline="\n")
        if "\x00" in text:
            return self._decoded(complete.split(b"\n")[:-1], newline="\n")
        self._done += text.count("\n")
        return io.StringIO(text, newline="\n")

    def _decoded(self, raw_lines: list[bytes], *, newline: str) -> list[str]:
        lines = []
        for raw in raw_lines:
            self._done += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.problems[self._done] = "line is not UTF-8 text"
                lines.append("\n")
                continue
            if "\x00" in text:
                self.problems[self._done] = "line contains a NUL character"
                lines.append("\n")
                continue
            lines.append(text + newline)
        return lines

    def _problem(self, reason: str) -> list[str]:
        self._done += 1
        self.problems[self._done] = reason
        return ["\n"]

    def _discard_rest_of_line(self) -> None:
        readline = self._stream.readline
        while True:  # drop the rest of the line, a chunk at a time
            rest = readline(_DISCARD_CHUNK)
            if not rest or rest.endswith(b"\n"):
                return


def read_rows(stream: BinaryIO) -> Iterator[CsvRow]:
    """Every non-blank CSV record of ``stream`` (the header included), with its line number."""
    lines = _Lines(stream)
    problems = lines.problems
    reader = csv.reader(chain.from_iterable(lines.blocks()), strict=False)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reason = "field is longer than 1 MB" if "limit" in str(error) else "malformed CSV"
            yield CsvRow(start, None, reason)
            continue
        if problems:
            end = reader.line_num
            problem = None
            for number in [n for n in problems if n <= end]:
                reason = problems.pop(number)
                if problem is None and number >= start:
                    problem = reason
            if problem is not None:
                yield CsvRow(start, None, problem)
                continue
        if fields:
            yield _new(CsvRow, (start, fields, None))
