"""The charge classifier and the disposition normaliser on real and documented-pattern text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from knowledge import CATEGORIES, DISPOSITIONS, classify_charge, normalize_disposition
from knowledge.classify import disposition_detail
from knowledge.screening import screen_json

VARIANTS_FILE = Path(__file__).parent / "charge_variants.yaml"
_DATA = yaml.safe_load(VARIANTS_FILE.read_text(encoding="utf-8"))
VARIANTS = [
    (description, statute, category, seen)
    for category, rows in _DATA.items()
    for description, statute, seen in rows
]


@pytest.mark.parametrize(
    ("description", "statute", "category", "seen"),
    VARIANTS,
    ids=[f"{v[2]}:{v[0]!r}:{v[1]}" for v in VARIANTS],
)
def test_description_gets_its_category(
    description: str | None, statute: str | None, category: str, seen: str
) -> None:
    assert classify_charge(description, statute) == category


@pytest.mark.parametrize("category", [c for c in CATEGORIES if c != "unknown"])
@pytest.mark.parametrize("spelled", [str.lower, str.upper, lambda c: c.replace("_", " ")])
def test_a_description_that_is_a_contract_category_is_that_category(
    category: str, spelled: Callable[[str], str]
) -> None:
    """DESIGN 5.3: `description` may be raw court text or the normalised values."""
    result = screen_json(
        {"charges": [{"description": spelled(category), "disposition": "guilty"}]},
        dt.date(2026, 11, 25),
    )

    assert result["charges"][0]["category"] == category


def test_unknown_as_the_description_leaves_the_statute_to_classify() -> None:
    assert classify_charge("unknown", "CR.5.619.(c)") == "paraphernalia"


# Where each row was seen (the header of charge_variants.yaml says what each code is).
REAL_SOURCES = {"CR", "BPD", "CLUE", "CJIS", "MVLS", "MVFULL", "MVJRA"}
# No public real text was found for these (see the header of charge_variants.yaml).
WITHOUT_REAL_TEXT = {"cannabis_civil_citation"}


def real_variant_counts() -> dict[str, tuple[int, int]]:
    """(real rows, all rows) per category."""
    return {
        category: (
            sum(v[3] != "VAR" for v in VARIANTS if v[2] == category),
            sum(v[2] == category for v in VARIANTS),
        )
        for category in CATEGORIES
    }


def test_the_variant_table_has_150_real_descriptions_and_covers_every_category() -> None:
    counts = real_variant_counts()
    real = sum(r for r, _ in counts.values())
    report = f"{real} real of {len(VARIANTS)} variants; " + ", ".join(
        f"{category} {r}/{n}" for category, (r, n) in counts.items()
    )
    print(report)  # shown with -rP: the suite's real-text coverage at a glance
    assert real >= 150, report
    assert all(n > 0 for _, n in counts.values()), report
    assert {c for c, (r, _) in counts.items() if r == 0} == WITHOUT_REAL_TEXT, report
    assert {v[3] for v in VARIANTS} <= REAL_SOURCES | {"VAR"}
    assert len({(v[0], v[1]) for v in VARIANTS}) == len(VARIANTS), "a description is listed twice"


def test_the_word_not_decides_between_cannabis_and_other_drugs() -> None:
    assert classify_charge("CDS:POSSESS-MARIHUANA") == "cannabis_possession"
    assert classify_charge("CDS:POSSESS-NOT MARIHUANA") == "other_drug_possession"


def test_a_statute_alone_never_names_the_substance() -> None:
    assert classify_charge(None, "CR.5.601.(a)(1)") == "drug_unspecified"


RAW_DISPOSITIONS = [
    ("GUILTY", "guilty"),
    ("GUILTY - DOMESTIC RLTD", "guilty"),
    ("NOLO CONTENDERE", "guilty"),
    ("NOLLE PROSEQUI", "nolle_prosequi"),
    ("Nolle Pros", "nolle_prosequi"),
    ("STET", "stet"),
    ("Stet", "stet"),
    ("DISMISSED", "dismissed"),
    ("Dismissed With Prejudice", "dismissed"),
    ("NOT GUILTY", "not_guilty"),
    ("JUDGMENT OF ACQUITAL", "not_guilty"),
    ("ACQUITTED", "not_guilty"),
    ("PBJ SUPERVISED", "pbj"),
    ("PBJ UNSUPERVISED", "pbj"),
    ("PROBATION BEFORE JUDGMENT", "pbj"),
    ("PROBATION BEFORE JUDGEMENT", "pbj"),
    ("PROBATION BEFORE JUDGMENT - DOMESTIC RLTD", "pbj"),
    ("PBJ (6-220)", "pbj"),
    ("MERGED", "merged"),
    ("MERGED WITH OTHER COUNTS", "merged"),
    ("NOT CRIMINALLY RESPONSIBLE", "ncr"),
    ("COMPROMISED", "unknown"),
    ("ABATED BY DEATH", "unknown"),
    ("REMANDED TO JUVENILE COURT", "unknown"),
    ("TRIAL DE NOVO WAIVED", "unknown"),
    ("OTHER", "unknown"),
    ("VOP WITHDRAWN/DISMISSED", "unknown"),
    ("something new", "unknown"),
    ("", "unknown"),
    (None, "unknown"),
]


@pytest.mark.parametrize(("raw", "expected"), RAW_DISPOSITIONS)
def test_raw_dispositions_normalise(raw: str | None, expected: str) -> None:
    assert normalize_disposition(raw) == expected


@pytest.mark.parametrize("value", DISPOSITIONS)
def test_normalised_values_map_to_themselves(value: str) -> None:
    assert normalize_disposition(value) == value
    assert normalize_disposition(value.upper()) == value


def test_a_nolle_with_a_treatment_condition_is_flagged() -> None:
    assert disposition_detail("NOLLE PROSEQUI - DRUG TREATMENT") == ("nolle_prosequi", True)
    assert disposition_detail("NOLLE PROSEQUI") == ("nolle_prosequi", False)
