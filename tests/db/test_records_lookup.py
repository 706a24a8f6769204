from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from db.identity import value_hash
from db.models.records import LookupAudit
from db.records.importer import import_paths
from db.records.lookup import (
    MAX_FAILURES,
    WORKER_MAX_FAILURES,
    LookupResult,
    ProgramEntry,
    case_number_hash,
    verified_lookup,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "test-hmac-key"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
WITH_DOB = "0B09990001"  # SAMPLE, JANE Q, born 1980-07-15
DOB = dt.date(1980, 7, 15)
WITHOUT_DOB = "1D09990002"


@pytest.fixture
def records(engine, db_session):
    import_paths(engine, [FIXTURES / "records.csv"])
    import_paths(engine, [FIXTURES / "program.csv"], program="bcsao-2019-vacatur")
    return db_session


def _lookup(session, case_number, dob, requester="sender-a", now=NOW) -> LookupResult:
    return verified_lookup(
        session,
        case_number=case_number,
        date_of_birth=dob,
        requester=requester,
        now=now,
        hmac_key=KEY,
    )


def _audit(session) -> list[tuple[str, str, str | None]]:
    rows = session.scalars(select(LookupAudit).order_by(LookupAudit.id))
    return [(r.requester, r.outcome, r.case_number_hash) for r in rows]


def test_a_record_with_a_birth_date_is_found_with_the_same_birth_date(records):
    result = _lookup(records, "0b-0999-0001", DOB)

    assert result.status == "found"
    assert result.case is not None
    assert result.case["case_number"] == WITH_DOB
    assert result.has_personal_data is True


def test_the_found_case_is_the_screening_input_of_design_5_3(records):
    result = _lookup(records, WITH_DOB, DOB)

    assert result.case == {
        "case_number": "0B09990001",
        "court": "district",
        "county": "Baltimore City",
        "case_status": "closed",
        "charges": [
            {
                "description": "CDS: POSS-MARIJUANA",
                "statute": "CR.5.601.(a)(1)",
                "category": None,
                "offense_date": "2015-03-01",
                "disposition": "GUILTY",
                "disposition_date": "2015-05-01",
                "sentence_completed_on": "2015-11-01",
                "probation_violation": False,
            },
            {
                "description": "CDS:POSS PARAPHERNALIA",
                "statute": "CR.5.619.(c)",
                "category": None,
                "offense_date": "2015-03-01",
                "disposition": "NOLLE PROSEQUI",
                "disposition_date": "2015-05-01",
                "sentence_completed_on": None,
                "probation_violation": None,
            },
        ],
        # The birth date is never echoed back, even to the person who gave it.
        "person": {"date_of_birth": None, "pending_case": None, "later_convictions": None},
        "record_status": {"expunged": False, "pardoned": None, "shielded": None},
    }
    assert result.programs == (
        ProgramEntry(
            "bcsao-2019-vacatur",
            "denied",
            dt.date(2019, 4, 26),
            "Motion to vacate filed 2019-01-29; denied 2019-04-26",
        ),
    )


def test_the_knowledge_engine_screens_the_found_case_unchanged(records):
    from knowledge.screening import screen_json

    result = _lookup(records, WITH_DOB, DOB)

    screening = screen_json(result.case, dt.date(2026, 11, 25))
    assert screening["case_number"] == WITH_DOB
    assert [c["category"] for c in screening["charges"]] == [
        "cannabis_possession",
        "paraphernalia",
    ]


def test_a_record_the_import_accepts_can_always_be_screened(engine, db_session, tmp_path):
    """Court data has slips: a line break inside a quoted cell, an offense date after the
    disposition. The import keeps such a charge; the lookup must still screen it."""
    from knowledge.screening import screen_json

    lines = (FIXTURES / "records.csv").read_text().splitlines()
    path = tmp_path / "slips.csv"
    path.write_text(
        lines[0] + "\n"
        "0B09990077,district,Baltimore City,closed,2015-03-02,,,1,"
        '"CDS: POSS-\nMARIJUANA",CR.5.601.(a)(1),2015-06-01,GUILTY,2015-05-01,,false,false\n'
        "0B09990077,district,Baltimore City,closed,2015-03-02,,,2,"
        f'"{"CDS:POSS PARAPHERNALIA " * 40}",CR.5.619.(c),2015-03-01,NOLLE PROSEQUI,'
        "2015-05-01,,,false\n"
    )
    report = import_paths(engine, [path])
    assert report.error_count == 0

    result = _lookup(db_session, "0B09990077", None)
    screening = screen_json(result.case, dt.date(2026, 11, 25))

    first, second = result.case["charges"]
    assert first["description"] == "CDS: POSS- MARIJUANA"
    assert first["offense_date"] is None  # after the disposition date: unknown
    assert len(second["description"]) <= 500
    categories = [c["category"] for c in screening["charges"]]
    assert categories == ["cannabis_possession", "paraphernalia"]


def test_wrong_birth_date_and_unknown_case_give_the_identical_result(records):
    wrong_dob = _lookup(records, WITH_DOB, dt.date(1980, 7, 16))
    no_dob = _lookup(records, WITH_DOB, None)
    unknown = _lookup(records, "0B09999999", DOB)
    garbage = _lookup(records, "!!!", None)

    assert wrong_dob == no_dob == unknown == garbage
    assert wrong_dob == LookupResult("not_found_or_unverified", None, (), False)


def test_a_record_without_a_birth_date_is_found_whatever_date_is_given(records):
    assert _lookup(records, WITHOUT_DOB, None).status == "found"
    result = _lookup(records, WITHOUT_DOB, dt.date(1999, 1, 1), requester="sender-b")

    assert result.status == "found"
    assert result.has_personal_data is False
    assert [c["description"] for c in result.case["charges"]] == ["POSSESSION OF MARIHUANA"]


def test_five_failures_in_24_hours_lock_the_sender_out_without_looking(records):
    for minute in range(5):
        _lookup(records, WITH_DOB, dt.date(2000, 1, 1), now=NOW + dt.timedelta(minutes=minute))

    # Even the right birth date is refused now, and so is another sender's...
    locked = _lookup(records, WITH_DOB, DOB, now=NOW + dt.timedelta(minutes=6))
    other = _lookup(records, WITH_DOB, DOB, requester="sender-b", now=NOW)
    # ...until 24 hours after the failures.
    later = _lookup(records, WITH_DOB, DOB, now=NOW + dt.timedelta(hours=24, minutes=5))

    assert locked.status == "locked_out"
    assert locked.case is None
    assert other.status == "found"
    assert later.status == "found"


def test_a_signed_in_worker_gets_a_higher_but_real_ceiling(records):
    worker = "worker:7"
    for minute in range(WORKER_MAX_FAILURES - 1):
        _lookup(
            records, "0B09999999", None, requester=worker, now=NOW + dt.timedelta(seconds=minute)
        )

    still_working = _lookup(
        records, WITH_DOB, DOB, requester=worker, now=NOW + dt.timedelta(hours=1)
    )
    _lookup(records, "0B09999998", None, requester=worker, now=NOW + dt.timedelta(hours=1))
    stopped = _lookup(records, WITH_DOB, DOB, requester=worker, now=NOW + dt.timedelta(hours=2))

    assert MAX_FAILURES < WORKER_MAX_FAILURES
    assert still_working.status == "found"
    assert stopped.status == "locked_out"


def test_successful_lookups_do_not_count_toward_the_lock_out(records):
    for minute in range(10):
        assert _lookup(records, WITH_DOB, DOB, now=NOW + dt.timedelta(minutes=minute)).found
    for minute in range(4):
        _lookup(records, "0B09999999", None, now=NOW + dt.timedelta(minutes=20 + minute))

    assert _lookup(records, WITH_DOB, DOB, now=NOW + dt.timedelta(minutes=30)).found


def test_every_attempt_is_audited_with_hashes_only(records):
    _lookup(records, "0b 0999 0001", DOB)
    _lookup(records, WITH_DOB, dt.date(2001, 1, 1))
    _lookup(records, "0B09999999", None)

    rows = _audit(records)
    assert [(r[0], r[1]) for r in rows] == [
        ("sender-a", "found"),
        ("sender-a", "not_verified"),
        ("sender-a", "not_found"),
    ]
    assert rows[0][2] == rows[1][2] == value_hash(KEY, "case_number", WITH_DOB)
    assert rows[0][2] == case_number_hash(WITH_DOB, KEY)
    stored = " ".join(
        str(v) for r in records.scalars(select(LookupAudit)) for v in vars(r).values()
    )
    assert WITH_DOB not in stored
    assert "1980" not in stored


def test_the_lookup_runs_inside_the_callers_transaction(records):
    _lookup(records, WITH_DOB, DOB)

    records.rollback()

    assert _audit(records) == []


def test_not_found_and_wrong_birth_date_run_the_same_statements(records):
    """Similar timing comes from doing the same work: the same SQL, in the same order."""
    from sqlalchemy import event

    def statements(case_number: str, requester: str) -> list[str]:
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        engine = records.get_bind()
        event.listen(engine, "before_cursor_execute", record)
        try:
            _lookup(records, case_number, dt.date(2001, 1, 1), requester=requester)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return seen

    wrong_dob = statements(WITH_DOB, "w")
    unknown = statements("0B09999999", "u")

    assert wrong_dob == unknown
    assert len(wrong_dob) >= 2
