"""Charge classifier and disposition normaliser for raw Maryland Case Search text.

A wrong "marijuana" is worse than an honest "not sure" (domain/court-records.md): when the
words do not settle it, the answer is ``unknown`` (or ``drug_unspecified`` for a drug charge
that names no substance). Word lists, curated entries and the cannabis amount lines live in
``knowledge/data/``.
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

# CR 5-620 controlled paraphernalia, packaging material included (MVJRA: "MARIHUANA PACKING
# POSS/DIS", "CDS PKG MATERL: POSS/DISTR", both CR.5.620.(a)(2)): possession words there are not
# possession of the drug.
_CTRL_PARA = re.compile(
    r"\bADMIN\w*\s+EQUIP|\bCONT\w*\s+PAR[AE]?P|\bHYPODERMIC|\bSYRINGE|\bNEEDLE"
    r"|\bPACK(?:ING|AG\w*)?\s+MAT|\bPACKING\b|\bPKG\s+MAT"
)
# PARAP anywhere, also glued to the word before ("CDS: POSSESSPARAPHERNALIA", MVFULL), or a word
# PARPH..., PAREPF..., PARA, PRPH. Starting on a plain P lets the search skip ahead quickly.
_PARA = re.compile(r"P(?:ARAP|(?<=\bP)(?:AR[AE]?P[HF]|ARA\b|RPH))")
_DELIVERY = re.compile(r"\bDELIV|\bSELL|\bSALE\b|\bSOLD\b|\bMANUF|\bDIST|\bADVERTIS")
_CIVIL = re.compile(r"\bCIVIL|\bCITATION|\bCIT\b")
_BIG_DIST = re.compile(
    r"\bVOLUME|\bKINGPIN|\bKING PIN|\bIMPORT|\bBRING\w*\s+INTO|\bMANUF|\bMFG\b|\bMANF\b"
    r"|\bCULTIVAT|\bGROW|\bINTERS\w*\W*TRANS"  # "CDS:INTERST/TRANS:100LBS MARIJ": CR 5-614
    # "CDS POSSESS - LG AMT", "CDS LARGE AMT", "CDS MANUFACTURE-LG AMOUNT" (MVFULL): a large
    # amount is the volume-dealer offence (CR 5-612), whatever verb goes with it.
    r"|\bL(?:A?RGE?|G)\s+AM(?:OUN)?T"
)
_INTENT = re.compile(
    r"\bPWID|\bPWITD|\bW/\s?I\b|\bW/\s?INT|\bWITH\s+INT|\bWI\s+DIST|\bINT\w*\s+(?:TO\s+)?DIS"
)
# CR 5-602: possess "in sufficient quantity reasonably to indicate ... an intent to distribute"
# (MVFULL "CDS:POSSES SUFFICIENT QUANTITY").
_PWID_WORD = re.compile(r"\bPWID|\bPWITD|\bSUFF\w*\s+(?:QUAN|QTY)")
# An intent that names no purpose ("CDS:POSS W/INT MARJ", MVFULL): distribution or, cut short,
# "with intent to use" paraphernalia; the words do not say which, so never plain possession.
_BARE_INTENT = re.compile(r"\bW/\s?I\b|\bW/\s?INT\w*|\bWITH\s+INT\w*|\bINTENT\b")
_INTENT_TO_USE = re.compile(r"\b(?:INT\w*|W/\s?I)\s+(?:TO\s+)?USE\b")
_DIST_WORD = re.compile(r"\bDIS(?:T|P|\b)|\bSELL|\bSALE\b|\bDELIV|\bMANUF")
_DIST = re.compile(r"\bDIST|\bDISP\b|\bDISPENS|\bSELL|\bSALE\b|\bDELIVER")
_POSS = re.compile(r"\bPOS|\bPSSN|\bPSN\b|\bPS\b|\bUSE\b")  # PS: "CDS PS NOT MARIHUANA"

# --- amounts ----------------------------------------------------------------------------------
# A possession description that names an amount may name another offence: above the civil use
# amount is criminal possession, 50 lb is the volume dealer (data/cannabis_amounts.yaml).

_AMOUNTS: dict[str, dict[str, float]] = _load("cannabis_amounts.yaml")
_LINES = _AMOUNTS["lines_grams"]
_CONC_LINES = _AMOUNTS["lines_concentrate_grams"]
_THC_LINES = _AMOUNTS["lines_thc_milligrams"]
_LINES_BY_KIND = {"concentrate": _CONC_LINES, "thc": _THC_LINES}
_SAME = 0.01  # grams: "2.5 OZ" is the civil use amount however the ounce is rounded

# Unit spellings, longest first: what the amount counts and in how many of the lines' units
# (grams; milligrams for THC). Grams of concentrate have their own lines (_amount_tiers).
_UNITS: tuple[tuple[str, str, float], ...] = (
    *((u, "weight", 1000.0) for u in ("KILOGRAMS", "KILOGRAM", "KILOS", "KILO", "KGS", "KG")),
    *((u, "weight", 453.59237) for u in ("POUNDS", "POUND", "LBS", "LB")),
    *((u, "weight", 28.349523125) for u in ("OUNCES", "OUNCE", "OZS", "OZ")),
    *((u, "thc", 1.0) for u in ("MILLIGRAMS", "MILLIGRAM", "MGS", "MG")),
    *((u, "grams", 1.0) for u in ("GRAMS", "GRAM", "GRMS", "GRM", "GRS", "GR", "GMS", "GM", "G")),
)
_UNIT = {spelling: (kind, factor) for spelling, kind, factor in _UNITS}


def _phrase_re(phrases: Iterable[str]) -> str:
    """Spellings as one alternation, longest first; spaces and slashes may vary in width."""
    parts = []
    for phrase in sorted(set(phrases), key=lambda p: (-len(p), p)):
        body = r"\s*/\s*".join(r"\s+".join(map(re.escape, w.split())) for w in phrase.split("/"))
        parts.append(rf"(?<![A-Z]){body}" if phrase[0].isalpha() else body)
    return "|".join(parts)


_UNDER = _phrase_re(_TERMS["amount_under_before"])
_OVER = _phrase_re(_TERMS["amount_over_before"])
_OVER_BEFORE = re.compile(_OVER)
_OVER_AFTER = re.compile(_phrase_re(_TERMS["amount_over_after"]))
_NUMBER = r"\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?|\.\d+"
_NAMED_AMOUNT = (
    r"(?<![A-Z])(?P<named>PERSONAL|PERS|CIVIL|CIV)\s*(?:USE\s*)?(?:AMOUNT|AMNT|AMT|QTY|QUANTITY)\b"
)
_AMOUNT = re.compile(
    rf"(?:(?P<before>{_OVER}|{_UNDER})\s*(?:(?:THE|OF)\s+)?)?"
    rf"(?:(?<![\d.,])(?P<num>{_NUMBER})(?:\s*(?:-|TO)\s*(?P<high>{_NUMBER}))?\s*"
    rf"(?P<unit>{'|'.join(u for u, _, _ in _UNITS)})(?![A-Z])|{_NAMED_AMOUNT})"
    rf"(?P<after>\s*(?:{_phrase_re(_TERMS['amount_over_after'] + _TERMS['amount_under_after'])}))?"
)
# Any amount at all: a digit or a named amount (most descriptions have neither).
_AMOUNT_HINT = re.compile(r"\d|\bAM(?:OU)?N?T|\bQ(?:UANTI)?TY")
# The named use amounts in normalised text: their word CIVIL does not make a charge a citation.
_NAMED_AMOUNT_WORDS = re.compile(_NAMED_AMOUNT)
_CONCENTRATE = _word_re(_TERMS["concentrate_words"])


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _relation(before: str | None, after: str | None) -> str:
    """over (the amount or more), under (less), or exact (the amount named)."""
    if after:
        return "over" if _OVER_AFTER.fullmatch(after.strip()) else "under"
    if before:
        return "over" if _OVER_BEFORE.fullmatch(before) else "under"
    return "exact"


def _weight_tier(amount: float, relation: str, kind: str) -> str:
    """The offence a cannabis amount names: volume, criminal, small (the old under-10 g tier,
    read as possession as before) or unsettled (its side of a line depends on the offence date).
    kind: grams or weight (flower in grams, or in ounces, pounds, kilos), concentrate, thc."""
    lines = _LINES_BY_KIND.get(kind, _LINES)
    flower = kind in ("grams", "weight")
    if flower and relation != "under" and amount >= _LINES["volume_dealer"] - _SAME:
        return "volume"
    if (relation == "over" and amount >= lines["civil_use"] - _SAME) or (
        relation == "exact" and amount > lines["civil_use"] + _SAME
    ):
        return "criminal"  # above the civil use amount: a misdemeanor in every period
    if kind == "grams":
        old_line = _LINES["old_misdemeanor"]
        if relation != "under" and amount >= old_line - _SAME:
            return "criminal"  # the 2012-2022 line: 10 g or more a misdemeanor
        if relation != "over" and amount <= old_line + _SAME:
            return "small"
    return "unsettled"


def _named_tier(named: str, relation: str) -> str:
    """CR 5-601.1 names two amounts (law file section 2): above the civil use amount is a
    misdemeanor; the personal or civil use amount itself is a civil offence; above the personal
    use amount is either, so it stays unsettled."""
    if relation == "over":
        return "criminal" if named.startswith("CIV") else "unsettled"
    return "civil"


def _amount_tiers(raw: str, weights: bool) -> set[str]:
    """Every amount a description names, read as the cannabis offence it points to; with
    `weights` False the named use amounts only (a weight of an unnamed drug says nothing of the
    cannabis lines, while the use amounts are cannabis's alone)."""
    tiers: set[str] = set()
    concentrate = _CONCENTRATE.search(raw) is not None
    for m in _AMOUNT.finditer(raw):
        relation = _relation(m["before"], m["after"])
        if m["named"]:
            tiers.add(_named_tier(m["named"], relation))
            continue
        if not weights:
            continue
        kind, factor = _UNIT[m["unit"]]
        if kind == "grams" and concentrate:
            kind = "concentrate"
        for number in (m["num"], m["high"]):
            if number:
                tiers.add(_weight_tier(_number(number) * factor, relation, kind))
    return tiers


def _amount_tier(raw: str, weights: bool = True) -> str | None:
    """One reading of the amounts in a description, None when it names none; amounts that
    disagree are unsettled."""
    tiers = _amount_tiers(raw, weights)
    if not tiers:
        return None
    return tiers.pop() if len(tiers) == 1 else "unsettled"


def _names_a_weight(raw: str) -> bool:
    """A weight that is not an upper bound. Simple possession of a drug other than cannabis has
    no amount (CR 5-601); an amount points to the volume dealer (CR 5-612: 448 g of cocaine, 28 g
    of opium...), so such a charge is not read as possession."""
    return any(
        not m["named"] and _relation(m["before"], m["after"]) != "under"
        for m in _AMOUNT.finditer(raw)
    )


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
    "poss": frozenset({"poss", "civil", "poss_over_civil"}),
    "dist": frozenset({"pwid", "dist", "big", "intent"}),
    "para": frozenset({"para", "para_dist", "poss"}),
    "ctrl_para": frozenset({"ctrl_para", "para", "poss"}),
    "big": frozenset({"big", "dist", "pwid", "intent"}),
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
    if _CIVIL.search(t) and _CIVIL.search(_NAMED_AMOUNT_WORDS.sub(" ", t)):
        return "civil"  # "CIVIL USE AMOUNT" alone is an amount: _amount_tier reads it
    if _BIG_DIST.search(t):
        return "big"
    if _PWID_WORD.search(t) or (_INTENT.search(t) and _DIST_WORD.search(t)):
        return "pwid"
    if _DIST.search(t):
        return "dist"
    if _BARE_INTENT.search(t) and not _INTENT_TO_USE.search(t):
        return "intent"
    if _POSS.search(t):
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
    # Possession above the civil use amount: criminal, so a civil statute contradicts it.
    "poss_over_civil": {"cannabis": "cannabis_possession", "other": "other_drug_possession"},
    "intent": {"cannabis": "unknown", "other": "unknown"},
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
    act = _amount_act(_description_act(t), (description or "").upper(), substance)
    if act == "unknown":
        return "unknown"
    if st_act not in (None, "drug"):
        if act is None:
            act = st_act
        elif act not in _ACT_COMPATIBLE[st_act]:
            return "unknown"
        elif st_act == "civil":
            act = st_act
        elif act == "intent":
            act = "pwid" if st_act == "dist" else st_act  # the statute names the purpose
    if act is None:
        return "drug_unspecified" if substance is None else "unknown"
    return _BY_ACT[act].get(substance, "drug_unspecified")


def _amount_act(act: str | None, raw: str, substance: str | None) -> str | None:
    """The act once the amounts a description names are read ("unknown": they leave it open).

    Paraphernalia and the big offences (import, kingpin...) keep their act whatever the amount.
    """
    if act in ("para", "para_dist", "ctrl_para", "big") or not _AMOUNT_HINT.search(raw):
        return act
    if substance == "other":
        return "unknown" if act == "poss" and _names_a_weight(raw) else act
    tier = _amount_tier(raw, weights=substance is not None)
    if tier is None or (act in ("pwid", "dist", "intent") and tier != "volume"):
        return act
    if tier == "volume":
        return "big"  # CR 5-612: 50 lb or more is the volume dealer, never possession
    if tier == "unsettled":
        return "unknown"
    if tier == "criminal":
        # "CITATION" beside an amount above the civil use amount: the words contradict.
        return "unknown" if act == "civil" else "poss_over_civil"
    if tier == "civil":
        return "civil"
    # small: "MARIJUANA LESS THAN 10 GRAMS" (MVLS): the under-10 g amount is a tier of
    # possession only (CR 5-601(c)(2); law file section 2), so it names the act when no verb does.
    return act or "poss"


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
