"""Charge classifier and disposition normaliser for raw Maryland Case Search text.

A wrong "marijuana" is worse than an honest "not sure" (domain/court-records.md): when the
words do not settle it, the answer is ``unknown`` (or ``drug_unspecified`` for a drug charge
that names no substance). Word lists and curated entries live in ``knowledge/data/``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from knowledge.model import CATEGORIES, DISPOSITIONS
from knowledge.yaml_files import safe_load

_DATA = Path(__file__).resolve().parent / "data"


def _load(name: str) -> Any:
    with (_DATA / name).open(encoding="utf-8") as fh:
        return safe_load(fh)


_TERMS: dict[str, list[str]] = _load("charge_terms.yaml")

_DIGIT_O = re.compile(r"(?<=[A-Z])0(?=[A-Z])")
_DIGIT_I = re.compile(r"(?<=[A-Z])1(?=[A-Z])")
_PUNCT = re.compile(r"[^A-Z0-9/<>]+")
_SLASH_SPACES = re.compile(r"\s*/\s*")
_ATTEMPT_WORDS = (
    r"(?:ATT|ATTEMPT|ATTEMPTED|ATTEMPTING|ATMPT|CON|CONSP|CONSPIRACY|CONSPIRE|CONSPIRING)"
)
_LEADING_ATTEMPT = re.compile(rf"^(?:{_ATTEMPT_WORDS}\s+)+")
_TRAILING_ATTEMPT = re.compile(rf"(?:\s+{_ATTEMPT_WORDS})+$")


def _words(terms: Iterable[str]) -> str:
    """An alternation grouped by first letter (N(?:ARC|...)|H(?:EROIN|...)), which the regex
    engine tries far faster than one flat list; longest first, so the fuller spelling wins."""
    by_first: dict[str, list[str]] = {}
    for term in sorted(set(terms), key=lambda t: (-len(t), t)):
        by_first.setdefault(term[0], []).append(re.escape(term[1:]))
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in by_first.items())


def _prefix_re(terms: Iterable[str]) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{_words(terms)})")


def _word_re(terms: Iterable[str]) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{_words(terms)})\b")


_CANNABIS_TERM = (
    rf"(?:{_words(_TERMS['cannabis_stems'])}|(?:{_words(_TERMS['cannabis_words'])})\b)"
)
_CANNABIS = re.compile(rf"\b{_CANNABIS_TERM}")
_NEGATED_CANNABIS = re.compile(
    rf"\b(?:{_words(_TERMS['negations'])})\s*(?:CDS\s*)?{_CANNABIS_TERM}"
)
_OTHER_DRUG = _prefix_re(_TERMS["other_drug_stems"])
_DRUG_CONTEXT = _prefix_re(_TERMS["drug_context"])
# "CDS" that is not the offence: compact discs, or drugs as the circumstance of another charge.
_CDS_NOT_THE_OFFENCE = _prefix_re(_TERMS["compact_disc_words"] + _TERMS["cds_circumstance_words"])
_NON_DRUG = _prefix_re(_TERMS["non_drug_words"])

_CTRL_PARA = re.compile(
    r"\bADMIN\w*\s+EQUIP|\bCONT\w*\s+PAR[AE]?P|\bHYPODERMIC|\bSYRINGE|\bNEEDLE"
)
# PARAP anywhere, also glued to the word before ("CDS: POSSESSPARAPHERNALIA", MVFULL), or a word
# PARPH..., PAREPF..., PARA, PRPH. Starting on a plain P lets the search skip ahead quickly.
_PARA = re.compile(r"P(?:ARAP|(?<=\bP)(?:AR[AE]?P[HF]|ARA\b|RPH))")
_DELIVERY = re.compile(r"\bDELIV|\bSELL|\bSALE\b|\bSOLD\b|\bMANUF|\bDIST|\bADVERTIS")
_CIVIL = re.compile(r"\bCIVIL|\bCITATION|\bCIT\b")
_BIG_DIST = re.compile(
    r"\bVOLUME|\bKINGPIN|\bKING PIN|\bIMPORT|\bBRING\w*\s+INTO|\bMANUF|\bMFG\b|\bMANF\b"
    r"|\bCULTIVAT|\bGROW|\bINTERS\w*\W*TRANS"  # "CDS:INTERST/TRANS:100LBS MARIJ": CR 5-614
)
_INTENT = re.compile(
    r"\bPWID|\bPWITD|\bW/\s?I\b|\bW/\s?INT|\bWITH\s+INT|\bWI\s+DIST|\bINT\w*\s+(?:TO\s+)?DIS"
)
_PWID_WORD = re.compile(r"\bPWID|\bPWITD")
_DIST_WORD = re.compile(r"\bDIS(?:T|P|\b)|\bSELL|\bSALE\b|\bDELIV|\bMANUF")
_DIST = re.compile(r"\bDIST|\bDISP\b|\bDISPENS|\bSELL|\bSALE\b|\bDELIVER")
_POSS = re.compile(r"\bPOS|\bPSSN|\bPSN\b|\bPS\b|\bUSE\b")  # PS: "CDS PS NOT MARIHUANA"
# "MARIJUANA LESS THAN 10 GRAMS": the under-10 g amount is a tier of possession only (CR
# 5-601(c)(2); law file section 2), so the amount names the act when no verb does (MVLS).
_POSS_AMOUNT = re.compile(r"\bLESS\s+THAN\s+\d+\s*G|\bL\s*T\s+\d+\s*G")

# Statutes, as Case Search writes them ("CR.5.601.(a)(1)") and older Art. 27 cites.
_ST_CIVIL = re.compile(r"\b5\W*601\W*1\b|\b5\W*601\W*\(?C\)?\W*\(?2\)?\W*\(?II\)?")
# CR 5-601(a)(2) is obtaining a drug by fraud or forgery, not possessing it (MVJRA).
_ST_OBTAIN = re.compile(r"\b5\W*601\W*\(?A\)?\W*\(?2\)?")
_ST_POSS = re.compile(r"\b5\W*601\b|\b27\W*287\b(?!\W*A)")
_ST_DIST = re.compile(r"\b5\W*602\b|\b27\W*286\b")
_ST_PARA = re.compile(r"\b5\W*619\b|\b27\W*287\W*A\b")
_ST_CTRL_PARA = re.compile(r"\b5\W*620\b")
_ST_BIG = re.compile(r"\b5\W*61[234]\b|\b5\W*603\b")
_ST_DRUG = re.compile(r"\b5\W*6\d\d\b")
_ST_ARTICLE = re.compile(r"^[A-Z]{2,3}\W*\d")

_ACT_COMPATIBLE: dict[str, frozenset[str]] = {
    "civil": frozenset({"civil", "poss"}),
    "poss": frozenset({"poss", "civil"}),
    "dist": frozenset({"pwid", "dist", "big"}),
    "para": frozenset({"para", "para_dist", "poss"}),
    "ctrl_para": frozenset({"ctrl_para", "para", "poss"}),
    "big": frozenset({"big", "dist", "pwid"}),
}


def normalize_text(text: str) -> str:
    """Upper-case, fix letter-digit typos (P0SSESSION) and turn punctuation into spaces."""
    t = text.upper()
    t = _DIGIT_O.sub("O", t)
    t = _DIGIT_I.sub("I", t)
    t = _PUNCT.sub(" ", t)
    t = _SLASH_SPACES.sub("/", t)
    return " ".join(t.split())


def _strip_attempt(t: str) -> str:
    return _TRAILING_ATTEMPT.sub("", _LEADING_ATTEMPT.sub("", t))


def _curated() -> dict[str, str]:
    table: dict[str, str] = {}
    for entry in _load("charge_descriptions.yaml"):
        category = entry["category"]
        if category not in CATEGORIES:
            raise ValueError(f"charge_descriptions.yaml: bad category {category!r}")
        table[_strip_attempt(normalize_text(entry["description"]))] = category
    return table


_CURATED = _curated()


def _statute_act(statute: str | None) -> str | None:
    if not statute:
        return None
    s = statute.upper().strip()
    if not s:
        return None
    for pattern, act in (
        (_ST_CIVIL, "civil"),
        (_ST_PARA, "para"),
        (_ST_CTRL_PARA, "ctrl_para"),
        (_ST_OBTAIN, "drug"),
        (_ST_POSS, "poss"),
        (_ST_DIST, "dist"),
        (_ST_BIG, "big"),
        (_ST_DRUG, "drug"),
    ):
        if pattern.search(s):
            return act
    if _ST_ARTICLE.search(s):
        return "nondrug"
    return None


def _description_act(t: str) -> str | None:
    if _CTRL_PARA.search(t):
        return "ctrl_para"
    if _PARA.search(t):
        return "para_dist" if _DELIVERY.search(t) else "para"
    if _CIVIL.search(t):
        return "civil"
    if _BIG_DIST.search(t):
        return "big"
    if _INTENT.search(t) and (_DIST_WORD.search(t) or _PWID_WORD.search(t)):
        return "pwid"
    if _DIST.search(t):
        return "dist"
    if _POSS.search(t) or _POSS_AMOUNT.search(t):
        return "poss"
    return None


def _substance(t: str) -> str | None:
    mentions = len(_CANNABIS.findall(t))
    negated = len(_NEGATED_CANNABIS.findall(t))
    cannabis = mentions > negated
    other = negated > 0 or _OTHER_DRUG.search(t) is not None
    if cannabis and other:
        return "both"
    if cannabis:
        return "cannabis"
    if other:
        return "other"
    return None


_BY_ACT: dict[str, dict[str | None, str]] = {
    "civil": {"cannabis": "cannabis_civil_citation", None: "cannabis_civil_citation"},
    "para": {"cannabis": "paraphernalia", "other": "paraphernalia", None: "paraphernalia"},
    "para_dist": {},
    "ctrl_para": {},
    "big": {"cannabis": "cannabis_distribution", "other": "other_drug_distribution"},
    "pwid": {"cannabis": "cannabis_pwid", "other": "other_drug_distribution"},
    "dist": {"cannabis": "cannabis_pwid", "other": "other_drug_distribution"},
    "poss": {"cannabis": "cannabis_possession", "other": "other_drug_possession"},
}


_NAMED_CATEGORIES = frozenset(CATEGORIES) - {"unknown"}


def _named_category(description: str | None) -> str | None:
    """The category a description names when it is one of the contract's values, else None."""
    if not description:
        return None
    key = "_".join(description.lower().split())
    return key if key in _NAMED_CATEGORIES else None


@functools.lru_cache(maxsize=65536)
def classify_charge(description: str | None, statute: str | None = None) -> str:
    """Return the contract category of a charge from its court description and statute.

    A description that is itself a contract category ("cannabis_distribution", any case,
    spaces for underscores) is that category (DESIGN 5.3); "unknown" lets the statute speak.
    """
    named = _named_category(description)
    if named is not None:
        return named
    t = _strip_attempt(normalize_text(description)) if description else ""
    st_act = _statute_act(statute)
    if not t:
        # A statute alone never names the substance (CR 5-601 covers every drug).
        if st_act in (None, "nondrug"):
            return "other" if st_act == "nondrug" else "unknown"
        if st_act == "civil":
            return "cannabis_civil_citation"
        if st_act == "para":
            return "paraphernalia"
        return "drug_unspecified"
    curated = _CURATED.get(t) if st_act in (None, "drug") else None
    if curated is not None:
        return curated
    substance = _substance(t)
    has_drug_words = _DRUG_CONTEXT.search(t) is not None
    if has_drug_words and substance is None and _CDS_NOT_THE_OFFENCE.search(t):
        return "other"  # compact discs (court-records.md, "Traps"), or a DUI, a handgun...
    drug = (
        has_drug_words
        or substance is not None
        or st_act not in (None, "nondrug")
        or _PARA.search(t) is not None
    )
    if not drug:
        return "other" if st_act == "nondrug" or _NON_DRUG.search(t) else "unknown"
    if st_act == "nondrug":
        # Drug words under a non-drug statute: compact discs, or a record we cannot read.
        return "other" if substance is None else "unknown"
    if substance == "both":
        return "unknown"
    act = _description_act(t)
    if st_act not in (None, "drug"):
        if act is None:
            act = st_act
        elif act not in _ACT_COMPATIBLE[st_act]:
            return "unknown"
        elif st_act == "civil":
            act = st_act
    if act is None:
        return "drug_unspecified" if substance is None else "unknown"
    return _BY_ACT[act].get(substance, "drug_unspecified")


# --- dispositions -----------------------------------------------------------------------------

_DISP_DATA: dict[str, Any] = _load("dispositions.yaml")
_DISP_EXACT: dict[str, str] = {}
for _raw, _entry in _DISP_DATA["exact"].items():
    if _entry["to"] not in DISPOSITIONS:
        raise ValueError(f"dispositions.yaml: bad value {_entry['to']!r}")
    _DISP_EXACT[" ".join(str(_raw).upper().split())] = _entry["to"]
for _value in DISPOSITIONS:
    _DISP_EXACT[_value.upper()] = _value
    _DISP_EXACT[_value.upper().replace("_", " ")] = _value

_TREATMENT = re.compile(r"TREAT|REHAB|DRUG|ALCOHOL|8-507|DIVERSION")
_DISP_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^VOP\b|VIOLATION OF PROBATION"), "unknown"),
    (re.compile(r"\bPBJ\b|PROB\w*\s+BEFORE\s+JUDG"), "pbj"),
    (re.compile(r"\bNOLLE\b|\bNOL PROS|\bNOL-PROS"), "nolle_prosequi"),
    (re.compile(r"^STET\b"), "stet"),
    (re.compile(r"NOT CRIMINALLY RESP|\bNCR\b"), "ncr"),
    (re.compile(r"NOT GUILTY|ACQUI|AQUIT|ACQUITAL"), "not_guilty"),
    (re.compile(r"^DISMISS|\bDISMISSED\b"), "dismissed"),
    (re.compile(r"^MERGE"), "merged"),
    (re.compile(r"^GUILTY\b|\bCONVICTED\b"), "guilty"),
)


@functools.lru_cache(maxsize=4096)
def disposition_detail(raw: str | None) -> tuple[str, bool]:
    """Return (contract disposition, nolle prosequi with a treatment condition?)."""
    if raw is None:
        return "unknown", False
    t = " ".join(raw.upper().replace("_", " ").split())
    if not t:
        return "unknown", False
    exact = _DISP_EXACT.get(t)
    if exact is not None:
        return exact, False
    for pattern, value in _DISP_PATTERNS:
        if pattern.search(t):
            treatment = value == "nolle_prosequi" and _TREATMENT.search(t) is not None
            return value, treatment
    return "unknown", False


def normalize_disposition(raw: str | None) -> str:
    """Return the contract disposition for raw Case Search text or a normalised value."""
    return disposition_detail(raw)[0]
