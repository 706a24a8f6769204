"""A small PDF writer for the handout: Helvetica text, word-wrapped, on US Letter pages.

No dependency: the 14 standard PDF fonts need no embedding, and WinAnsiEncoding covers
English and Spanish (á é í ó ú ñ ü ¿ ¡ §). Characters outside it print as "?".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Protocol

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN = 54
# Helvetica advance widths (1/1000 em) for ASCII 32..126, from the font's AFM metrics.
_WIDTHS = (
    [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278]
    + [556] * 10
    + [278, 278, 584, 584, 584, 556, 1015]
    + [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833]
    + [722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]
    + [278, 278, 278, 469, 556, 333]
    + [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833]
    + [556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500]
    + [334, 260, 334, 584]
)
_BOLD_FACTOR = 1.08


class Section(Protocol):
    """What the writer needs of a handout section."""

    heading: str | None
    lines: list[str]


def _char_width(ch: str) -> int:
    code = ord(ch)
    if 32 <= code <= 126:
        return _WIDTHS[code - 32]
    base = unicodedata.normalize("NFKD", ch)[:1]
    if base and 32 <= ord(base) <= 126:
        return _WIDTHS[ord(base) - 32]
    return 600


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The printed width of ``text`` in points."""
    width = sum(_char_width(ch) for ch in text) * size / 1000
    return width * _BOLD_FACTOR if bold else width


def wrap(text: str, size: float, width: float, *, bold: bool = False) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (long words are cut)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, bold=bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while text_width(word, size, bold=bold) > width:
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size, bold=bold) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines or [""]


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


class _Pages:
    def __init__(self) -> None:
        self.pages: list[list[bytes]] = [[]]
        self.y: float = PAGE_HEIGHT - MARGIN

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.pages.append([])
            self.y = PAGE_HEIGHT - MARGIN

    def line(self, text: str, size: float, *, bold: bool = False, indent: float = 0) -> None:
        leading = size * 1.3
        self.need(leading)
        self.y -= leading
        font = b"/F2" if bold else b"/F1"
        x = MARGIN + indent
        self.pages[-1].append(
            b"BT "
            + font
            + b" %.1f Tf %.2f %.2f Td " % (size, x, self.y)
            + _pdf_string(text)
            + b" Tj ET"
        )

    def space(self, points: float) -> None:
        self.y -= points


def render_handout(title: str, meta: Sequence[str], sections: Iterable[Section]) -> bytes:
    """The handout as a PDF document."""
    usable = PAGE_WIDTH - 2 * MARGIN
    pages = _Pages()
    for piece in wrap(title, 18, usable, bold=True):
        pages.line(piece, 18, bold=True)
    for item in meta:
        for piece in wrap(item, 10, usable):
            pages.line(piece, 10)
    pages.space(6)
    for section in sections:
        pages.space(6)
        if section.heading:
            pages.need(40)
            for piece in wrap(section.heading, 12.5, usable, bold=True):
                pages.line(piece, 12.5, bold=True)
        bullet = section.heading is not None
        for text in section.lines:
            indent = 14 if bullet else 0
            pieces = wrap(text, 10.5, usable - indent)
            for n, piece in enumerate(pieces):
                shown = ("- " + piece) if bullet and n == 0 else piece
                pages.line(shown, 10.5, indent=indent - (8 if bullet and n == 0 else 0))
    return _assemble(pages.pages)


def _assemble(pages: list[list[bytes]]) -> bytes:
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    page_tree = add(b"")
    font = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    kids = []
    for commands in pages:
        stream = b"\n".join(commands)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                % (page_tree, PAGE_WIDTH, PAGE_HEIGHT)
                + b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                % (font, bold, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree
    objects[page_tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)
