from __future__ import annotations

import csv
import datetime as dt

import pytest
from sqlalchemy import select

from db.models.records import LookupAudit
from db.records.formats import RECORDCHECK_COLUMNS
from db.records.importer import import_paths
from db.records.search import name_score, search_people

PEOPLE = [
    ("0B08880001", "WASHINGTON, DENISE M", "1979-04-12"),
    ("0B08880002", "Denise Washburn", "1979-04-12"),
    ("0B08880003", "Marcus Example", "1985-10-01"),
    ("0B08880004", "Marcus Q. Example", "1990-01-01"),
    ("0B08880005", "", ""),
]


@pytest.fixture
def people(engine, db_session, tmp_path):
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RECORDCHECK_COLUMNS)
        writer.writeheader()
        for case_number, name, born in PEOPLE:
            writer.writerow(
                {
                    "case_number": case_number,
                    "court": "district",
                    "defendant_name": name,
                    "date_of_birth": born,
                    "charge_number": "1",
                    "description": "CDS: POSS-MARIJUANA",
                    "expunged": "false",
                }
            )
    assert import_paths(engine, [path]).error_count == 0
    return db_session


def _search(session, name, dob=None, **kwargs):
    return search_people(
        session, name=name, date_of_birth=dob, worker_id="clinic-7", hmac_key="k", **kwargs
    )


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("Denise Washington", id="first-last"),
        pytest.param("washington denise", id="swapped"),
        pytest.param("Denise M. Washington", id="middle-initial"),
        pytest.param("Denise Washingtn", id="typo"),
        pytest.param("DENISE WASHINGTON", id="upper-case"),
    ],
)
def test_fuzzy_name_and_birth_date_find_the_person(people, typed):
    matches = _search(people, typed, dt.date(1979, 4, 12))

    assert matches[0].case_number == "0B08880001"
    assert matches[0].name == "WASHINGTON, DENISE M"


def test_a_different_surname_with_the_same_birth_date_ranks_below_or_is_left_out(people):
    matches = _search(people, "Denise Washington", dt.date(1979, 4, 12))

    assert [m.case_number for m in matches][:1] == ["0B08880001"]
    assert all(m.score >= 85 for m in matches)


def test_the_birth_date_narrows_people_with_the_same_name(people):
    with_dob = _search(people, "Marcus Example", dt.date(1985, 10, 1))
    without_dob = _search(people, "Marcus Example", None)

    assert [m.case_number for m in with_dob] == ["0B08880003"]
    assert sorted(m.case_number for m in without_dob) == ["0B08880003", "0B08880004"]


def test_no_match_for_an_unrelated_name(people):
    assert _search(people, "Zebulon Quartermaine", None) == []
    assert _search(people, "", None) == []


def test_each_search_is_audited_with_the_worker_and_a_hash_of_the_query(people):
    _search(people, "Denise Washington", dt.date(1979, 4, 12))
    _search(people, "Nobody Here", None)

    rows = people.scalars(select(LookupAudit).order_by(LookupAudit.id)).all()
    assert [(r.requester, r.action, r.outcome, r.result_count) for r in rows] == [
        ("worker:clinic-7", "search", "matches", 1),
        ("worker:clinic-7", "search", "no_matches", 0),
    ]
    assert all("denise" not in (r.query_hash or "").lower() for r in rows)
    assert rows[0].case_number_hash is None


def test_a_search_without_a_worker_id_is_refused(people):
    with pytest.raises(ValueError, match="worker id"):
        search_people(people, name="Denise", date_of_birth=None, worker_id=" ")


def test_limit_caps_the_results(people):
    assert len(_search(people, "Marcus Example", None, limit=1)) == 1


def test_name_score_ignores_order_and_initials_but_not_different_names():
    assert name_score("john smith", "smith john q") == 100
    assert name_score("jon smith", "john smith") >= 85
    assert name_score("john smith", "jane doe") < 60
