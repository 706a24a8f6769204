"""Forgiving reading of what people type: numbers, yes/no, "not sure", dates and commands.

Words in this module are things people may *type* (input vocabulary, matched after folding
accents and case); nothing here is ever shown to a resident.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_KEEP = re.compile(r"[^a-z0-9/\-. ]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, accents removed, emoji and stray punctuation dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("\u2019", "'").replace("'", "")
    text = _KEEP.sub(" ", text)
    # Sentence punctuation at the ends ("yes.", "2)", "...") carries no meaning.
    return _SPACES.sub(" ", text).strip(" .-/")


def tokens(text: str) -> list[str]:
    """The folded words of a message, with dots and dashes at their ends trimmed."""
    return [t.strip(".-") for t in fold(text).split(" ") if t.strip(".-")]


# ---- numbers ------------------------------------------------------------------------------

NUMBER_WORDS: dict[str, int] = {
    # English
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6,
    "7th": 7,
    # Spanish
    "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "primero": 1, "primera": 1, "segundo": 2,
    "segunda": 2, "tercero": 3, "tercera": 3, "cuarto": 4, "cuarta": 4, "quinto": 5,
    "quinta": 5, "sexto": 6, "sexta": 6, "septimo": 7, "septima": 7,
}  # fmt: skip

_NUMBER_FILLERS = frozenset(
    [
        "option",
        "opcion",
        "opt",
        "number",
        "numero",
        "num",
        "no",
        "nr",
        "#",
        "the",
        "el",
        "la",
        "reply",
        "press",
        "send",
        "choose",
        "choice",
        "please",
        "pls",
        "plz",
        "por",
        "favor",
        "porfa",
        "i",
        "want",
        "quiero",
        "pick",
        "elijo",
        "ok",
        "okay",
        "is",
        "es",
    ]
)


def parse_number(text: str, maximum: int) -> int | None:
    """A choice from 1 to ``maximum``: "2", "two", "dos", "option 2", "2.", "2️⃣", "#2"."""
    words = [w for w in tokens(text) if w not in _NUMBER_FILLERS]
    if len(words) != 1:
        return None
    word = words[0]
    value = int(word) if word.isdigit() and len(word) <= 2 else NUMBER_WORDS.get(word)
    if value is None or not 1 <= value <= maximum:
        return None
    return value


# ---- yes / no / not sure -------------------------------------------------------------------

_YES = frozenset(
    [
        "y",
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ya",
        "yah",
        "ye",
        "yess",
        "yesss",
        "sure",
        "ok",
        "okay",
        "k",
        "kk",
        "alright",
        "right",
        "correct",
        "affirmative",
        "absolutely",
        "definitely",
        "si",
        "sip",
        "claro",
        "dale",
        "vale",
        "bueno",
        "correcto",
        "cierto",
        "afirmativo",
        "sii",
        "siii",
    ]
)
_YES_PHRASES = ("of course", "yes please", "por supuesto", "de acuerdo", "si claro", "esta bien")
_NO = frozenset(
    ["n", "no", "nope", "nah", "nay", "never", "negative", "nunca", "nel", "noo", "nooo"]
)
_NO_PHRASES = ("no thanks", "no thank you", "no gracias", "not really", "para nada", "no way")
_THUMBS_UP = ("\U0001f44d", "\u2705", "\u2714")
_THUMBS_DOWN = ("\U0001f44e", "\u274c", "\u2716")

_NOT_SURE = frozenset(
    (
        "not sure", "im not sure", "i am not sure", "unsure", "idk", "i dont know",
        "dont know", "do not know", "dunno", "no idea", "no clue", "i forget", "i forgot",
        "dont remember", "i dont remember", "cant remember", "i cant remember", "not certain",
        "maybe", "ns", "dk", "no se", "nose", "no lo se", "no estoy seguro",
        "no estoy segura", "no seguro", "no segura", "ni idea", "no recuerdo",
        "no me acuerdo", "no lo recuerdo", "quizas", "tal vez", "a lo mejor", "ns nc",
        "not sure sorry", "no se la verdad", "la verdad no se", "unknown", "desconocido",
    )
)  # fmt: skip


def is_not_sure(text: str) -> bool:
    """True for "not sure", "idk", "no sé", "?" and their kin."""
    stripped = text.strip()
    if stripped and set(stripped) <= {"?", "\u00bf", " ", "!"} and "?" in stripped:
        return True
    folded = fold(text)
    return folded in _NOT_SURE


def parse_yes_no(text: str) -> bool | None:
    """True for yes-words ("y", "yeah", "si", "sí", 👍), False for no-words, else None."""
    stripped = text.strip()
    if stripped.startswith(_THUMBS_UP):
        return True
    if stripped.startswith(_THUMBS_DOWN):
        return False
    if is_not_sure(text):
        return None
    folded = fold(text)
    if folded in _YES or folded in _YES_PHRASES:
        return True
    if folded in _NO or folded in _NO_PHRASES:
        return False
    words = tokens(text)
    if not words:
        return None
    # "yes it is", "no, it was not": judge by the first word when it is clear.
    if words[0] in _YES and not set(words[1:]) & _NO:
        return True
    if words[0] in _NO and len(words) <= 4 and not set(words[1:]) & _YES:
        return False
    return None


# ---- choices by keyword ---------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One answer to a question: the value stored, and words that mean it in either language."""

    value: str
    words: tuple[str, ...] = ()
    #: Everyday words read only when no option's ``words`` are in the message: "weed" means
    #: possession, but "selling weed" and "a weed pipe" mean the answers their other words say.
    loose_words: tuple[str, ...] = ()


def parse_option(text: str, options: Sequence[Option]) -> str | None:
    """The value of the option meant by a number ("2", "two", "dos") or by its words."""
    number = parse_number(text, len(options))
    if number is not None:
        return options[number - 1].value
    folded = fold(text)
    if not folded:
        return None
    for option in options:
        if folded in option.words:
            return option.value
    padded = f" {folded} "
    for vocabulary in (
        [(word, option.value) for option in options for word in option.words],
        [(word, option.value) for option in options for word in option.loose_words],
    ):
        # Containment, longest phrase first, so "not guilty" wins over "guilty".
        for word, value in sorted(vocabulary, key=lambda pair: -len(pair[0])):
            if f" {word} " in padded:
                return value
    return None


#: Probation named without saying whether it came with a guilty finding or before judgment.
_PROBATION_WORDS = frozenset(("probation", "probatoria", "probatorio", "condicional", "prueba"))


def mentions_probation(text: str) -> bool:
    """True for "I got probation", "me dieron probatoria": an answer that fits both "guilty"
    (with probation) and "probation before judgment"."""
    return any_in(tokens(text), _PROBATION_WORDS)


# ---- dates -------------------------------------------------------------------------------

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("january", "jan", "enero", "ene"),
        ("february", "feb", "febrero"),
        ("march", "mar", "marzo"),
        ("april", "apr", "abril", "abr"),
        ("may", "mayo"),
        ("june", "jun", "junio"),
        ("july", "jul", "julio"),
        ("august", "aug", "agosto", "ago"),
        ("september", "sep", "sept", "septiembre", "setiembre", "set"),
        ("october", "oct", "octubre"),
        ("november", "nov", "noviembre"),
        ("december", "dec", "diciembre", "dic"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _number

_DATE_FILLERS = frozenset(
    [
        "in",
        "on",
        "around",
        "about",
        "approx",
        "approximately",
        "circa",
        "maybe",
        "like",
        "the",
        "of",
        "year",
        "de",
        "del",
        "en",
        "el",
        "ano",
        "alrededor",
        "como",
        "mas",
        "o",
        "menos",
        "aproximadamente",
        "por",
        "ahi",
        "it",
        "was",
        "fue",
        "was",
        # A year inside a short sentence: "I think it was 2015 maybe", "creo que fue en 2015".
        "i",
        "im",
        "think",
        "guess",
        "believe",
        "probably",
        "pretty",
        "sure",
        "roughly",
        "they",
        "got",
        "me",
        "creo",
        "que",
        "pienso",
        "yo",
        "probablemente",
        "seguro",
        "lo",
    ]
)
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th|o|a)?$")
_NUMERIC = re.compile(r"^(\d{1,4})[/\-.](\d{1,4})(?:[/\-.](\d{1,4}))?$")
MIN_YEAR = 1900
MAX_YEAR = 2100


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def is_full(self) -> bool:
        """True when the day is known."""
        return self.day is not None

    def earliest(self) -> dt.date:
        """The first day the answer could mean."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        """The last day the answer could mean (the cautious choice for waiting periods)."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def iso(self) -> str:
        """``2015``, ``2015-03`` or ``2015-03-02``."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @classmethod
    def from_iso(cls, text: str) -> PartialDate:
        """Read back ``iso()``."""
        parts = [int(p) for p in text.split("-")]
        return cls(parts[0], *(parts[1:3]))


def _year(value: int, digits: int) -> int | None:
    if digits == 2:
        # Two-digit years: 00-30 are this century, the rest the last one.
        return 2000 + value if value <= 30 else 1900 + value
    if digits == 4 and MIN_YEAR <= value <= MAX_YEAR:
        return value
    return None


def _build(year: int | None, month: int | None, day: int | None) -> PartialDate | None:
    if year is None:
        return None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and (month is None or not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return PartialDate(year, month, day)


def _numeric(match: re.Match[str]) -> PartialDate | None:
    first, second, third = match.group(1), match.group(2), match.group(3)
    if third is None:
        if len(first) == 4:  # 2015-03
            return _build(_year(int(first), 4), int(second), None)
        if len(second) in (2, 4) and len(first) <= 2:  # 3/2015, 03/15
            return _build(_year(int(second), len(second)), int(first), None)
        return None
    if len(first) == 4:  # 2015-03-02
        return _build(_year(int(first), 4), int(second), int(third))
    if len(first) > 2 or len(second) > 2 or len(third) not in (2, 4):
        return None
    year = _year(int(third), len(third))
    a, b = int(first), int(second)
    # United States order (month/day/year), as courts write it; day/month only when it
    # cannot be a month ("25/03/2015").
    if a > 12 >= b:
        return _build(year, b, a)
    return _build(year, a, b)


def parse_date(text: str) -> PartialDate | None:
    """Read "2015", "3/2015", "march 2015", "marzo 2015", "03/02/2015", "2 de marzo de 2015"."""
    words = [w for w in tokens(text.replace(",", " ")) if w not in _DATE_FILLERS]
    if not words:
        return None
    if len(words) == 1:
        word = words[0]
        if word.isdigit():
            return _build(_year(int(word), 4), None, None) if len(word) == 4 else None
        match = _NUMERIC.match(word)
        return _numeric(match) if match else None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    for word in words:
        if word in MONTHS and month is None:
            month = MONTHS[word]
            continue
        if word.isdigit() and len(word) == 4 and year is None:
            year = _year(int(word), 4)
            if year is None:
                return None
            continue
        ordinal = _ORDINAL.match(word)
        if ordinal and day is None:
            day = int(ordinal.group(1))
            continue
        return None
    if month is None and day is not None:
        return None
    return _build(year, month, day)


def parse_full_date(text: str) -> dt.date | None:
    """A complete date (a date of birth), or None."""
    digits = text.strip()
    if len(digits) == 8 and digits.isdigit():
        # "03251985": a date typed on a keypad without separators, month first as in the US.
        try:
            return dt.date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
        except ValueError:
            return None
    partial = parse_date(text)
    if partial is None or not partial.is_full:
        return None
    return partial.earliest()


# ---- buttons ------------------------------------------------------------------------------

#: Between the step that asked and the answer in a button's value (``q_outcome:1``).
_BUTTON_STEP = ":"


def button_value(step: str, value: str) -> str:
    """What a button sends back: its answer and the step that asked, so that a press on an
    older message (Telegram keeps every message's buttons) is not read as the current answer."""
    return f"{step}{_BUTTON_STEP}{value}"


def split_button(data: str) -> tuple[str | None, str]:
    """The step a pressed button belongs to (None for a button sent before buttons carried
    it) and its answer."""
    step, separator, value = data.partition(_BUTTON_STEP)
    if not separator:
        return None, data
    return step, value


# ---- case numbers ------------------------------------------------------------------------

#: Words around a case number in a short sentence ("Case #: 0B01234567.", "my case number is
#: ...", "mi número de caso es ..."). Only whole words at the start or the end are dropped,
#: never anything inside the number, so no other case can be made from what was typed.
_CASE_LEADING = frozenset(
    ("my", "the", "case", "number", "no", "nr", "num", "is", "its", "it", "mi", "el",
     "numero", "de", "del", "caso", "es")
)  # fmt: skip
_CASE_TRAILING = frozenset(
    ("thanks", "thank", "you", "thx", "ty", "please", "pls", "gracias", "por", "favor")
)  # fmt: skip
_CASE_EDGE_PUNCTUATION = " \t\r\n.,;:!?\"'()[]{}<>\u201c\u201d\u2018\u2019\u00bf\u00a1"


def _case_word(word: str) -> str:
    """A word folded for the filler check ("Case:" -> "case")."""
    return fold(word.strip(_CASE_EDGE_PUNCTUATION))


def case_number_text(text: str) -> str:
    """The part of a message that can be a case number: without the words and punctuation
    people put around it. What is left goes to the records' own normaliser unchanged."""
    words = [w.strip(_CASE_EDGE_PUNCTUATION) for w in text.replace("#", " ").split()]
    words = [w for w in words if w]
    while len(words) > 1 and _case_word(words[0]) in _CASE_LEADING:
        words.pop(0)
    while len(words) > 1 and _case_word(words[-1]) in _CASE_TRAILING:
        words.pop()
    if len(words) > 1 and any(w.isalpha() and len(w) > 2 for w in words):
        return ""  # a sentence ("0B01234567 and 0B07654321"), not one number
    return " ".join(words)


# ---- commands ----------------------------------------------------------------------------

COMMANDS: dict[str, tuple[str, ...]] = {
    "menu": ("menu", "main menu", "menu principal", "inicio", "home", "options", "opciones"),
    "back": ("back", "go back", "atras", "volver", "regresar", "anterior", "previous"),
    "help": ("help", "ayuda", "info", "help me", "ayudame", "necesito ayuda"),
    "lang": ("lang", "language", "idioma", "lengua", "cambiar idioma", "change language"),
    "lang_en": ("english", "ingles", "in english", "en ingles"),
    "lang_es": ("espanol", "spanish", "castellano", "en espanol", "in spanish"),
    "delete": ("delete", "borrar", "delete me", "delete my data", "borrar todo", "erase"),
    "restart": ("restart", "reiniciar", "start over", "empezar de nuevo", "reset", "reset all"),
    "start": ("start",),
    # Twilio's default opt-out keywords, REVOKE and OPTOUT included
    # (https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out); the SMS adapter
    # records an opt-out for exactly these.
    "stop": ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"),
    "unstop": ("unstop",),
}
_COMMAND_OF = {phrase: name for name, phrases in COMMANDS.items() for phrase in phrases}

#: Sentences asking us to stop or forget ("please stop texting me", "borren mis datos"): not
#: the STOP or DELETE keyword Twilio and the dialog act on, so we tell the person the word.
_STOP_PHRASES = {
    # Never "delete my" or "remove my" alone: "delete my record" is what people come for.
    "en": ("stop texting", "stop messaging", "stop sending", "stop contacting", "dont text",
           "do not text", "dont message", "dont contact", "leave me alone", "unsubscribe me",
           "delete my data", "delete my info", "delete my information", "delete my number",
           "erase my data", "erase my info", "erase my number", "remove my number"),
    "es": ("no me escriban", "no me escribas", "no me manden", "no me mande",
           "dejen de escribir", "dejen de mandar", "deja de escribir", "deja de mandar",
           "borren mis datos", "borra mis datos", "borrar mis datos", "eliminen mis datos",
           "borren mi numero", "borrar mi numero"),
}  # fmt: skip


def stop_request_lang(text: str) -> str | None:
    """The language of a sentence asking us to stop writing or to erase the person's data
    (``en`` or ``es``); None for any other message."""
    if " " not in text.strip():
        return None  # every phrase has two words or more: answers like "1" or "yes" end here
    folded = f" {fold(text)} "
    for lang, phrases in _STOP_PHRASES.items():
        if any(f" {phrase} " in folded for phrase in phrases):
            return lang
    return None


GREETINGS = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "hiya",
        "yo",
        "howdy",
        "sup",
        "good",
        "morning",
        "hola",
        "buenas",
        "buenos",
        "dias",
        "buenas",
        "tardes",
        "buenas",
        "noches",
        "saludos",
        "ola",
        "que",
        "tal",
        "hey",
        "there",
        "hi",
        "there",
    ]
) | {"good morning", "good afternoon", "buenos dias", "buenas tardes", "buenas noches", "que tal"}
_SPANISH_HINTS = frozenset(
    ("hola", "buenas", "buenos dias", "buenas tardes", "ayuda", "ola", "borrar", "borrar todo")
)


def parse_command(text: str) -> str | None:
    """The global command a whole message is ("MENU", "atrás", "/help"), else None."""
    folded = fold(text.strip().lstrip("/"))
    return _COMMAND_OF.get(folded)


def is_greeting(text: str) -> bool:
    """True for "hi", "hello", "hola", "buenas"... (a message that only says hello)."""
    folded = fold(text)
    if not folded:
        return True
    return folded in GREETINGS or all(word in GREETINGS for word in folded.split(" "))


def looks_spanish(text: str) -> bool:
    """True when a first message is a Spanish greeting, so we can answer in Spanish."""
    folded = fold(text)
    return folded in _SPANISH_HINTS or folded.split(" ")[0] in {"hola", "buenas", "buenos"}


def lang_from_hint(hint: str | None) -> str | None:
    """``es`` or ``en`` from a Telegram language code like ``es-MX``; None otherwise."""
    if not hint:
        return None
    base = hint.strip().lower().replace("_", "-").split("-")[0]
    return base if base in ("en", "es") else None


def any_in(words: Iterable[str], vocabulary: frozenset[str]) -> bool:
    """True when any of ``words`` is in ``vocabulary``."""
    return any(word in vocabulary for word in words)
