"""Replies (text keys) to channel messages: SMS stays GSM-7 and short; Telegram gets buttons.

SMS: any character outside GSM-7 turns the whole message into UCS-2 (70 characters a segment
instead of 160), so accents that GSM-7 lacks (á í ó ú), curly quotes, dashes and emoji are
replaced with plain letters. GSM-7 has é ñ ü ¡ ¿, which stay. Telegram and the web keep the
text as written.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence

from bot.model import Button, Channel, OutboundMessage, Reply
from knowledge.texts import render as render_text

#: GSM 03.38 basic character set (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: two septets each.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM7 = GSM7_BASIC | GSM7_EXTENDED

MAX_SMS_SEGMENTS = 3
#: Short replies are joined into one SMS while the result stays within 2 segments.
SMS_JOIN_LIMIT = 306
TELEGRAM_JOIN_LIMIT = 1500
TELEGRAM_MAX_CHARS = 4096

_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2007": " ", "\u202f": " ",
    "\u2009": " ", "\u200b": "", "\u00b7": "-", "\u2022": "-", "\t": " ",
    "\u00ba": "o", "\u00aa": "a", "\u00b0": "o",
}  # fmt: skip


def to_gsm7(text: str) -> str:
    """Replace every character GSM-7 lacks with its plain-letter form (or drop it)."""
    if GSM7.issuperset(text):
        return text  # the usual case: a text written in GSM-7 already
    out: list[str] = []
    for ch in text:
        if ch in GSM7:
            out.append(ch)
            continue
        if ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
        out.append("".join(c for c in plain if c in GSM7))
    return "".join(out)


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic or extension set."""
    return GSM7.issuperset(text)


def sms_segments(text: str) -> int:
    """How many SMS segments a message costs (GSM-7 153 per part, else UCS-2 67 per part)."""
    if is_gsm7(text):
        septets = len(text) + sum(text.count(ch) for ch in GSM7_EXTENDED)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= 70 else math.ceil(units / 67)


def _split_sms(text: str) -> list[str]:
    """Split an over-long SMS at line breaks so each part fits in 3 segments (a safety net)."""
    if sms_segments(text) <= MAX_SMS_SEGMENTS:
        return [text]
    return _split_at_lines(
        text, lambda part: sms_segments(part) <= MAX_SMS_SEGMENTS, _longest_fitting
    )


def _split_at_lines(
    text: str, fits: Callable[[str], bool], longest: Callable[[str], int]
) -> list[str]:
    """Parts of ``text`` that each ``fits``, cut at line breaks; a line too long on its own is
    cut at its last space within ``longest(line)`` characters (else exactly there)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if fits(candidate):
            current = candidate
            continue
        if current:
            parts.append(current)
        while not fits(line):
            size = longest(line)
            cut = line.rfind(" ", 0, size + 1)
            cut = cut if cut > 0 else size
            parts.append(line[:cut])
            line = line[cut:].lstrip()
        current = line
    if current:
        parts.append(current)
    return parts


def _longest_fitting(line: str) -> int:
    """How many leading characters fit in 3 segments (fewer when ``{}[]~|€`` count twice)."""
    size = min(len(line), 153 * MAX_SMS_SEGMENTS)
    while size > 1 and sms_segments(line[:size]) > MAX_SMS_SEGMENTS:
        size -= 1
    return size


def format_date(value: str, lang: str) -> str:
    """An ISO date in words for ``lang`` ("March 2, 2027", "2 de marzo de 2027")."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    month = render_text(f"chat.month.m{day.month}", lang)
    return render_text("chat.date", lang, day=str(day.day), month=month, year=str(day.year))


def text_params(params: Mapping[str, str], lang: str) -> dict[str, str]:
    """Parameters ready for a template.

    Conventions: ``x_key`` is a text key rendered into ``x``; ``date`` and ``*_date`` holding
    an ISO date are written out in words. A key's text may use the other parameters and the
    keys rendered before it (``chat.program.dated`` is "{label}, {date}").
    """
    out: dict[str, str] = {}
    keys: dict[str, str] = {}
    for name, value in params.items():
        if name.endswith("_key"):
            keys[name[: -len("_key")]] = value
        elif name == "date" or name.endswith("_date"):
            out[name] = format_date(value, lang)
        else:
            out[name] = value
    for name, key in keys.items():
        out[name] = render_text(key, lang, **out).strip()
    return out


def reply_text(reply: Reply, lang: str) -> str:
    """The words of one reply in ``lang``, before any channel rules."""
    return render_text(reply.key, lang, **text_params(reply.params, lang)).strip()


def render_reply(reply: Reply, channel: Channel, lang: str) -> OutboundMessage:
    """One reply as one message for ``channel`` (no joining, no splitting)."""
    text = reply_text(reply, lang)
    if channel == "sms":
        return OutboundMessage(to_gsm7(text))
    buttons = tuple(
        Button(render_text(choice.label_key, lang).strip(), choice.value)
        for choice in reply.choices
    )
    return OutboundMessage(text, buttons)


#: Section headings of a result ("Free help:"): each stays in the message of the line under it.
HEADING_PREFIX = "explain.heading."
#: A pathway's reason and next steps: each stays in the message of the line it explains.
NOTE_PREFIXES = ("reason.", "step.")


def _units(replies: Iterable[Reply], channel: Channel, lang: str) -> Iterable[OutboundMessage]:
    """Each reply as a message, joined to what must be read with it: a heading to the line
    under it, a reason or a step to the line it explains.

    Joined greedily, "What a lawyer should check:" could end one SMS and its first line begin
    the next, or a reason arrive in another text than the route it is about.
    """
    heading: str | None = None
    unit: OutboundMessage | None = None
    for reply in replies:
        message = render_reply(reply, channel, lang)
        if not message.text:
            continue
        if reply.key.startswith(HEADING_PREFIX) and not message.buttons:
            heading = message.text if heading is None else f"{heading}\n\n{message.text}"
            continue
        attached = reply.key.startswith(NOTE_PREFIXES) and heading is None
        if attached and unit is not None and not unit.buttons:
            unit = OutboundMessage(f"{unit.text}\n\n{message.text}", message.buttons)
            continue
        if unit is not None:
            yield unit
        if heading is not None:
            message = OutboundMessage(f"{heading}\n\n{message.text}", message.buttons)
            heading = None
        unit = message
    if unit is not None:
        yield unit
    if heading is not None:
        yield OutboundMessage(heading)


def render(replies: Iterable[Reply], channel: Channel, lang: str) -> list[OutboundMessage]:
    """Render replies for one channel, joining short ones so people get fewer messages."""
    limit = SMS_JOIN_LIMIT if channel == "sms" else TELEGRAM_JOIN_LIMIT
    messages: list[OutboundMessage] = []
    for message in _units(replies, channel, lang):
        if messages and not messages[-1].buttons:
            joined = f"{messages[-1].text}\n\n{message.text}"
            fits = (
                sms_segments(joined) <= 2 and len(joined) <= limit
                if channel == "sms"
                else len(joined) <= limit
            )
            if fits:
                messages[-1] = OutboundMessage(joined, message.buttons)
                continue
        messages.append(message)
    if channel == "sms":
        return [OutboundMessage(part) for m in messages for part in _split_sms(m.text)]
    if channel == "telegram":
        return [part for m in messages for part in _split_telegram(m)]
    return [_cap_web(m) for m in messages]


def _cap_web(message: OutboundMessage) -> OutboundMessage:
    if len(message.text) <= TELEGRAM_MAX_CHARS:
        return message
    return OutboundMessage(message.text[: TELEGRAM_MAX_CHARS - 3] + "...", message.buttons)


def _split_telegram(message: OutboundMessage) -> list[OutboundMessage]:
    """An over-long Telegram message as several, cut at line breaks (else at spaces); the
    buttons stay on the last part. Cutting it at 4,096 characters lost the end of it, and
    the end of an answer is where the phone numbers and the law are."""
    if len(message.text) <= TELEGRAM_MAX_CHARS:
        return [message]
    cut = _split_at_lines(
        message.text,
        lambda part: len(part) <= TELEGRAM_MAX_CHARS,
        lambda line: TELEGRAM_MAX_CHARS,
    )
    parts = [part.rstrip() for part in cut if part.strip()]
    last = len(parts) - 1
    return [OutboundMessage(p, message.buttons if i == last else ()) for i, p in enumerate(parts)]


def plain_text(replies: Sequence[Reply], lang: str) -> str:
    """Replies as one plain text (for the staff summary of a handoff request)."""
    return "\n".join(reply_text(r, lang) for r in replies)
