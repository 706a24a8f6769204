from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from db.models.console import ConsoleAuditEvent
from db.models.records import LookupAudit
from webhooks.console.screening import screen_dict

pytestmark = pytest.mark.usefixtures("records")


def _events(app, model=ConsoleAuditEvent):
    with app.extensions["recordcheck.sessions"]() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def test_lookup_by_case_number_in_any_format_shows_charges_pathways_and_programs(
    app, worker_client, worker, post_form
):
    response = post_form(worker_client, "/console/lookup", {"case_number": " 0b-0000-0001 "})

    page = _text(response)
    assert response.status_code == 200
    assert "Case 0B00000001" in page
    assert "CDS: POSS-MARIJUANA" in page
    assert "bcsao-2019-vacatur" in page
    assert "denied" in page
    assert "Md. Code, Crim. Proc. § 10-112" in page
    for pathway in ("auto_expungement_cannabis", "pardon_2024", "shielding"):
        assert f'id="pathway-{pathway}"' in page


def test_the_page_shows_exactly_what_the_engine_says(app, worker_client, post_form):
    from db.records.lookup import verified_lookup

    with app.extensions["recordcheck.sessions"]() as session:
        case = verified_lookup(
            session, case_number="0B00000003", date_of_birth=None, requester="test"
        ).case
    expected = screen_dict(case).to_json("en")

    page = _text(post_form(worker_client, "/console/lookup", {"case_number": "0B00000003"}))

    assert expected["verdict"]["summary"] in page
    assert f"status-{expected['verdict']['status']}" in page
    for pathway in expected["pathways"]:
        for reason in pathway["reasons"]:
            assert reason in page
        if pathway["eligible_on"]:
            assert pathway["eligible_on"] in page


def test_every_lookup_and_view_is_audited_with_the_worker_and_no_case_number(
    app, worker_client, worker, post_form
):
    post_form(worker_client, "/console/lookup", {"case_number": "0B00000001"})
    post_form(worker_client, "/console/lookup", {"case_number": "0B09999999"})

    events = [e for e in _events(app) if e.action in ("lookup", "view")]
    assert [(e.action, e.detail) for e in events] == [
        ("lookup", "found"),
        ("view", events[1].detail),
        ("lookup", "not_found_or_unverified"),
    ]
    assert all(e.user_id == worker.id for e in events)
    assert all(e.target_hash and "0B0000" not in e.target_hash for e in events)
    store_audit = _events(app, LookupAudit)
    assert {row.requester for row in store_audit} == {f"worker:{worker.id}"}
    assert [row.outcome for row in store_audit] == ["found", "not_found"]


def test_a_record_with_a_birth_date_needs_that_date(worker_client, post_form):
    without = _text(post_form(worker_client, "/console/lookup", {"case_number": "0B00000002"}))
    wrong = _text(
        post_form(
            worker_client,
            "/console/lookup",
            {"case_number": "0B00000002", "date_of_birth": "1980-05-07"},
        )
    )
    unknown = _text(post_form(worker_client, "/console/lookup", {"case_number": "0B07777777"}))
    right = _text(
        post_form(
            worker_client,
            "/console/lookup",
            {"case_number": "0B00000002", "date_of_birth": "05/06/1980"},
        )
    )

    assert "No case shown" in without
    assert "No case shown" in wrong
    assert "No case shown" in unknown
    assert "JOHNSON" not in without + wrong
    assert "Case 0B00000002" in right


def test_repeated_failed_lookups_lock_the_worker_out_for_a_day(worker_client, post_form):
    from db.records.lookup import MAX_FAILURES, WORKER_MAX_FAILURES

    for n in range(WORKER_MAX_FAILURES):
        post_form(worker_client, "/console/lookup", {"case_number": f"0B07{n:06d}"})
        if n == MAX_FAILURES:
            # A resident would be stopped by now; a signed-in worker mistyping is not.
            assert "paused for your account" not in _text(
                post_form(worker_client, "/console/lookup", {"case_number": "0B00000001"})
            )

    locked = _text(post_form(worker_client, "/console/lookup", {"case_number": "0B00000001"}))

    assert "paused for your account" in locked
    assert "Case 0B00000001" not in locked


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"case_number": ""}, "Enter a case number."),
        ({"case_number": "   "}, "Enter a case number."),
        ({"case_number": "0B00000001", "date_of_birth": "yesterday"}, "Enter the date of birth"),
        ({"case_number": "0B00000001", "date_of_birth": "2999-01-01"}, "Enter the date of birth"),
    ],
    ids=["empty", "blank", "bad-date", "future-date"],
)
def test_lookup_form_errors_are_shown_next_to_the_field(worker_client, post_form, data, field):
    response = post_form(worker_client, "/console/lookup", data)

    assert response.status_code == 400
    assert field in _text(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "case_number",
    ["x" * 100_000, "<script>alert(1)</script>", "0B0000\u00000001", "\u202e0B00000001"],
    ids=["huge", "markup", "nul", "bidi"],
)
def test_odd_case_numbers_never_crash_and_are_escaped(worker_client, post_form, case_number):
    response = post_form(worker_client, "/console/lookup", {"case_number": case_number})

    assert response.status_code in (200, 400)
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_lookups_are_posts_so_case_numbers_stay_out_of_urls(worker_client):
    assert worker_client.get("/console/lookup?case_number=0B00000001").status_code == 405


def test_search_by_name_and_birth_date_forgives_typos_and_order(
    app, worker_client, worker, post_form
):
    response = post_form(
        worker_client,
        "/console/search",
        {"name": "Maria Jonson", "search_date_of_birth": "1980-05-06"},
    )
    wrong_dob = post_form(
        worker_client,
        "/console/search",
        {"name": "Maria Johnson", "search_date_of_birth": "1981-05-06"},
    )

    page = _text(response)
    assert "Matches (1)" in page
    assert "0B00000002" in page
    assert "Matches (0)" in _text(wrong_dob)
    searches = [e for e in _events(app) if e.action == "search"]
    assert len(searches) == 2
    assert all(e.user_id == worker.id for e in searches)
    assert all("maria" not in (e.target_hash or "") for e in searches)
    assert {r.requester for r in _events(app, LookupAudit) if r.action == "search"} == {
        f"worker:{worker.id}"
    }


def test_a_search_match_opens_the_case_verified_by_its_birth_date(worker_client, post_form):
    page = _text(
        post_form(
            worker_client,
            "/console/lookup",
            {"case_number": "0B00000002", "date_of_birth": "1980-05-06"},
        )
    )

    assert "Case 0B00000002" in page
    assert "verified by date of birth" in page


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "search_date_of_birth": "1980-05-06"},
        {"name": "Maria Johnson", "search_date_of_birth": ""},
        {"name": "M", "search_date_of_birth": "1980-05-06"},
        {"name": "n" * 5000, "search_date_of_birth": "1980-05-06"},
    ],
    ids=["no-name", "no-dob", "one-letter", "huge-name"],
)
def test_search_needs_a_name_and_a_birth_date(worker_client, post_form, data):
    assert post_form(worker_client, "/console/search", data).status_code == 400


@pytest.mark.parametrize("name", ["Maria\x00 Johnson", "Mar\ufffda Johnson"], ids=["nul", "fffd"])
def test_a_search_name_in_broken_text_never_crashes(worker_client, post_form, name):
    response = post_form(
        worker_client, "/console/search", {"name": name, "search_date_of_birth": "1980-05-06"}
    )

    assert response.status_code in (200, 400)
    assert "Something went wrong" not in response.get_data(as_text=True)


def test_lookup_and_search_need_the_csrf_token(worker_client):
    assert (
        worker_client.post("/console/lookup", data={"case_number": "0B00000001"}).status_code
        == 403
    )
    assert (
        worker_client.post(
            "/console/search", data={"name": "Maria Johnson", "search_date_of_birth": "1980-05-06"}
        ).status_code
        == 403
    )


def test_the_clients_own_answers_settle_what_the_record_cannot(app, worker_client, post_form):
    from db.records.lookup import verified_lookup

    with app.extensions["recordcheck.sessions"]() as session:
        case = verified_lookup(
            session, case_number="0B00000003", date_of_birth=None, requester="t"
        ).case
    case["person"] = {**case["person"], "pending_case": False, "later_convictions": []}
    expected = screen_dict(case).to_json("en")

    response = post_form(
        worker_client,
        "/console/lookup",
        {"case_number": "0B00000003", "pending_case": "no", "later_conviction": "no"},
    )

    page = _text(response)
    assert expected["verdict"]["summary"] in page
    for pathway in expected["pathways"]:
        assert f'id="pathway-{pathway["id"]}"' in page
        for reason in pathway["reasons"]:
            assert reason in page
    assert 'name="pending_case" value="no"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        {"pending_case": "maybe"},
        {"later_conviction": "yes"},
        {"later_conviction": "yes", "later_conviction_date": "soon"},
        {"later_conviction": "<x>"},
    ],
    ids=["pending-value", "later-without-date", "later-bad-date", "later-value"],
)
def test_bad_client_answers_are_refused(worker_client, post_form, data):
    response = post_form(worker_client, "/console/lookup", {"case_number": "0B00000003", **data})

    assert response.status_code == 400
