"""The text catalogue: same keys and placeholders in both languages, plain and short English."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from pathlib import Path

import pytest
import yaml

from knowledge import screen_json, texts
from knowledge.texts import LANGS, load_catalog, placeholders, render
from tests.readability import fk_grade

ROOT = Path(__file__).parents[2]
TEXTS_DIR = ROOT / "knowledge" / "texts"
# GSM 03.38 basic character set (the bot transliterates Spanish accents for SMS).
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def _own(lang: str) -> dict[str, str]:
    """The engine's own texts (knowledge/texts/{lang}.yaml), flattened."""
    out: dict[str, str] = {}
    texts._flatten(
        "", yaml.safe_load((TEXTS_DIR / f"{lang}.yaml").read_text("utf-8")), out, TEXTS_DIR
    )
    return out


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    en, es = load_catalog("en"), load_catalog("es")

    assert set(en) == set(es)
    for key in en:
        assert placeholders(en[key]) == placeholders(es[key]), key


def test_every_key_the_engine_uses_exists() -> None:
    source = "".join(p.read_text("utf-8") for p in (ROOT / "knowledge").glob("*.py"))
    used = set(re.findall(r'"((?:reason|step|verdict)\.[a-z0-9_.]+)"', source))
    catalog = load_catalog("en")

    assert used
    assert sorted(k for k in used if k not in catalog) == []


def test_english_texts_are_plain() -> None:
    """DESIGN 4: Flesch-Kincaid grade <= 6 on average, none above 8 (URLs and {slots} aside)."""
    grades = {}
    for key, text in _own("en").items():
        words = re.sub(r"\{[a-z_]+\}", "it", text)
        words = re.sub(r"\S+\.(?:org|us|gov|com)\S*|\d[\d-]+", "it", words)
        grades[key] = fk_grade(words)

    assert statistics.mean(grades.values()) <= 6
    assert {k: round(g, 1) for k, g in grades.items() if g > 8} == {}


@pytest.mark.parametrize("lang", LANGS)
def test_texts_are_short_enough_for_sms(lang: str) -> None:
    long = {k: len(v) for k, v in _own(lang).items() if len(v) > 300}

    assert long == {}


def test_english_texts_are_gsm7() -> None:
    own = {k: re.sub(r"\{[a-z_]+\}", "", v) for k, v in _own("en").items()}
    bad = {k: sorted(set(v) - GSM7) for k, v in own.items() if set(v) - GSM7}

    assert bad == {}


def test_render_fills_placeholders_and_names_a_missing_one() -> None:
    assert "June 1" in render("verdict.wait_until", "en", date="June 1, 2027")
    with pytest.raises(KeyError, match="verdict.wait_until"):
        render("verdict.wait_until", "en")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        load_catalog("fr")


def test_a_key_defined_twice_across_files_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "en.yaml").write_text("a:\n  b: one\n", encoding="utf-8")
    (tmp_path / "extra.en.yaml").write_text("a.b: two\n", encoding="utf-8")
    monkeypatch.setattr(texts, "TEXTS_DIR", tmp_path)
    texts.load_catalog.cache_clear()
    try:
        with pytest.raises(ValueError, match="defined twice"):
            texts.load_catalog("en")
    finally:
        texts.load_catalog.cache_clear()


def test_resources_have_sources_and_the_unverified_number_says_commonly_given() -> None:
    from knowledge.resources import RESOURCES

    en = load_catalog("en")
    phones = {r.id: r.phone for r in RESOURCES}

    assert phones["court_help_center"] == "410-260-1392"
    assert phones["mvls"] == "410-547-6537"
    assert all(r.sources for r in RESOURCES)
    for r in RESOURCES:
        if r.phone:
            assert r.phone in en[r.text_key]
        if r.confidence == "U":
            assert "most often given" in en[r.text_key]


def _closed_case(charge: dict[str, object]) -> dict[str, object]:
    """A closed Baltimore City District Court case of one charge, no other record."""
    return {
        "county": "Baltimore City",
        "court": "district",
        "case_status": "closed",
        "person": {"pending_case": False, "later_convictions": []},
        "charges": [charge],
    }


def test_a_treatment_nolle_says_drug_or_alcohol_treatment_in_both_languages() -> None:
    # CP § 10-105.1 (law file P2, 9.9) leaves out only a nolle prosequi "with a requirement of
    # drug or alcohol treatment"; the Spanish must not widen that to any treatment.
    case = _closed_case(
        {
            "description": "CDS: POSS-MARIJUANA",
            "offense_date": "2022-01-05",
            "disposition": "NOLLE PROSEQUI - DRUG TREATMENT",
            "disposition_date": "2022-03-01",
        }
    )
    said = {}
    for lang in LANGS:
        result = screen_json(case, dt.date(2026, 11, 25), lang)
        p2 = next(p for p in result["pathways"] if p["id"] == "auto_expungement_favorable")
        said[lang] = " ".join(p2["reasons"])

    assert "drug or alcohol treatment" in said["en"]
    assert "tratamiento de drogas o alcohol" in said["es"]


def test_the_automatic_cannabis_deadline_is_july_2024_in_both_languages() -> None:
    # CP § 10-112 (law file P1, 9.5): the State had to expunge "on or before July 1, 2024".
    # "antes de julio" (before July) would move the deadline to June.
    en = load_catalog("en")["chat.learn.expungement"]
    es = load_catalog("es")["chat.learn.expungement"]

    assert "by July 2024" in en
    assert "a más tardar en julio de 2024" in es
    assert "antes de julio" not in es


def test_the_pardoned_petition_deadline_is_given_as_about_a_date() -> None:
    # CP § 10-105(a)(8): "no later than 10 years after the pardon was signed" [P]; for the
    # 2024 order the law file only infers "about 2034-06-17" [U, inferred] (P7).
    case = _closed_case(
        {
            "description": "CDS: POSS-MARIJUANA",
            "offense_date": "2017-04-02",
            "disposition": "GUILTY",
            "disposition_date": "2017-06-10",
            "sentence_completed_on": "2017-06-10",
            "probation_violation": False,
        }
    )
    said = {}
    for lang in LANGS:
        result = screen_json(case, dt.date(2026, 11, 25), lang)
        p7 = next(p for p in result["pathways"] if p["id"] == "petition_pardoned")
        assert p7["status"] == "needs_review"
        said[lang] = " ".join(p7["reasons"])

    assert "about June 17, 2034" in said["en"]
    assert "alrededor del 17 de junio de 2034" in said["es"]
