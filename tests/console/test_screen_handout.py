from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from knowledge.texts import render
from webhooks.console.screening import handout_sections, screen_answers

ANSWERS = {
    "q_charge": "possession",
    "q_other": "no",
    "q_outcome": "guilty",
    "q_when_year": "2015",
    "q_when_month": "3",
    "q_done": "yes",
    "q_done_when_year": "2016",
    "q_court": "baltimore_city",
    "q_open": "no",
}


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def test_the_by_hand_form_asks_the_residents_questions_with_labels(worker_client):
    page = worker_client.get("/console/screen").get_data(as_text=True)

    for question in ("q_charge", "q_other", "q_outcome", "q_done", "q_court", "q_open"):
        assert f'name="{question}"' in page
    assert page.count("<legend>") == 9
    assert 'for="q_when_year"' in page
    assert 'for="q_ended_year"' in page
    assert 'value="not_sure" checked' in page


def test_screening_by_hand_gives_the_engines_answer_for_those_facts(worker_client, post_form):
    expected = screen_answers(
        {
            "q_charge": "possession",
            "q_other": "no",
            "q_outcome": "guilty",
            "q_when": "2015-03",
            "q_done": "yes",
            "q_done_when": "2016",
            "q_court": "baltimore_city",
            "q_open": "no",
        }
    ).to_json("en")

    response = post_form(worker_client, "/console/screen", ANSWERS)

    page = _text(response)
    assert response.status_code == 200
    assert expected["verdict"]["summary"] in page
    assert "Screened from what the client said" in page
    assert 'value="possession" checked' in response.get_data(as_text=True)


def test_not_sure_everywhere_leads_to_review_never_a_guess(worker_client, post_form):
    page = _text(post_form(worker_client, "/console/screen", {}))

    assert "status-needs_review" in page


def test_a_client_still_on_probation_is_told_the_sentence_is_not_over(worker_client, post_form):
    # The same reading as the bot: "No" is not "Not sure" (law file P3, 9.2).
    answers = {**ANSWERS, "q_when_year": "2024", "q_when_month": "", "q_done": "no"}
    del answers["q_done_when_year"]

    page = _text(post_form(worker_client, "/console/screen", answers))
    unsure = _text(post_form(worker_client, "/console/screen", {**answers, "q_done": "not_sure"}))

    assert "status-wait" in page
    assert render("verdict.wait_sentence", "en") in page
    assert render("reason.p3.sentence_not_over", "en") in page
    assert "status-needs_review" in unsure
    assert render("verdict.wait_sentence", "en") not in unsure


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("q_charge", "murder"),
        ("q_outcome", ""),
        ("q_when_year", "1800"),
        ("q_when_year", "20x5"),
        ("q_when_year", "9" * 5000),
        ("q_when_month", "13"),
        ("q_done_when_year", "3000"),
        ("q_court", "<b>"),
    ],
)
def test_by_hand_form_rejects_bad_answers(worker_client, post_form, field, value):
    response = post_form(worker_client, "/console/screen", {**ANSWERS, field: value})

    assert response.status_code == 400
    assert "field-error" in response.get_data(as_text=True)
    assert 'value="<b>"' not in response.get_data(as_text=True)


def test_by_hand_screening_is_audited_without_the_answers(app, worker_client, worker, post_form):
    from sqlalchemy import select

    from db.models.console import ConsoleAuditEvent

    post_form(worker_client, "/console/screen", ANSWERS)

    with app.extensions["recordcheck.sessions"]() as session:
        events = [e for e in session.scalars(select(ConsoleAuditEvent)) if e.action == "screen"]
    assert len(events) == 1
    assert events[0].user_id == worker.id
    assert events[0].target_hash is None


# --- the handout ---------------------------------------------------------------------------


def _handout(client, post_form, **data):
    return post_form(client, "/console/handout", data)


@pytest.mark.usefixtures("records")
@pytest.mark.parametrize("lang", ["en", "es"])
def test_handout_for_a_stored_case_uses_the_bots_texts_in_that_language(
    worker_client, post_form, lang
):
    response = _handout(
        worker_client, post_form, source="record", case_number="0B00000001", lang=lang
    )

    page = _text(response)
    assert response.status_code == 200
    assert render("console.handout.title", lang) in page
    assert render("console.handout.case", lang, case_number="0B00000001") in page
    assert render("explain.heading.help", lang) in page
    assert render("help.mvls", lang) in page
    assert f'<article class="handout" lang="{lang}">' in response.get_data(as_text=True)
    assert "data-print" in page
    assert render("explain.self_reported", lang) not in page


@pytest.mark.usefixtures("records")
def test_handout_shows_every_part_the_engine_explains(app, worker_client, post_form):
    from db.records.lookup import verified_lookup
    from webhooks.console.screening import screen_dict

    with app.extensions["recordcheck.sessions"]() as session:
        case = verified_lookup(
            session, case_number="0B00000003", date_of_birth=None, requester="t"
        ).case
    sections = handout_sections(screen_dict(case), "es", self_reported=False)

    page = _text(
        _handout(worker_client, post_form, source="record", case_number="0B00000003", lang="es")
    )

    for section in sections:
        for line in section.lines:
            assert line in page


def test_handout_from_answers_says_it_rests_on_what_the_person_said(worker_client, post_form):
    page = _text(_handout(worker_client, post_form, source="answers", lang="es", **ANSWERS))

    assert render("explain.self_reported", "es") in page


@pytest.mark.usefixtures("records")
def test_handout_pdf_is_a_well_formed_pdf_with_the_texts(worker_client, post_form):
    response = _handout(
        worker_client,
        post_form,
        source="record",
        case_number="0B00000001",
        lang="es",
        format="pdf",
    )

    body = response.data
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert body.startswith(b"%PDF-1.4")
    assert body.rstrip().endswith(b"%%EOF")
    xref_at = int(re.search(rb"startxref\n(\d+)", body).group(1))
    assert body[xref_at:].startswith(b"xref")
    offsets = [int(x) for x in re.findall(rb"(\d{10}) 00000 n", body)]
    for number, offset in enumerate(offsets, start=1):
        assert body[offset:].startswith(b"%d 0 obj" % number)
    title = render("console.handout.title", "es").encode("cp1252")
    assert title in body


@pytest.mark.usefixtures("records")
@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"source": "record", "case_number": "0B00000001", "lang": "fr"}, 400),
        ({"source": "record", "case_number": "", "lang": "en"}, 400),
        ({"source": "record", "case_number": "0B07777777", "lang": "en"}, 404),
        ({"source": "record", "case_number": "0B00000002", "lang": "en"}, 404),
        (
            {"source": "record", "case_number": "0B00000001", "date_of_birth": "x", "lang": "en"},
            400,
        ),
        ({"source": "answers", "q_charge": "bogus", "lang": "en"}, 400),
        ({"source": "magic", "lang": "en"}, 400),
        ({"lang": "en"}, 400),
    ],
    ids=[
        "lang",
        "no-case",
        "unknown",
        "needs-dob",
        "bad-dob",
        "bad-answer",
        "bad-source",
        "no-source",
    ],
)
def test_handout_refuses_bad_requests(worker_client, post_form, data, code):
    assert _handout(worker_client, post_form, **data).status_code == code


def test_handout_needs_a_session_and_the_csrf_token(client, worker_client):
    assert client.post("/console/handout", data={"source": "answers"}).status_code == 401
    assert worker_client.post("/console/handout", data={"source": "answers"}).status_code == 403


def test_print_css_hides_the_console_around_the_handout(client):
    css = client.get("/console/static/console.css").get_data(as_text=True)

    print_block = css.split("@media print", 1)[1]
    assert ".site-header" in print_block
    assert "display: none" in print_block
    assert "@page" in print_block


# --- the "when" questions: a year, a year and a month, or not sure ------------------------


def _screened(response) -> bool:
    return "Screened from what the client said" in _text(response)


def _kept_other_answers(response) -> None:
    page = response.get_data(as_text=True)
    assert 'value="possession" checked' in page
    assert 'value="guilty" checked' in page
    assert 'value="baltimore_city" checked' in page


def _bot_result(**dates: str | None) -> dict[str, object]:
    answers: dict[str, str | None] = {
        "q_charge": "possession",
        "q_other": "no",
        "q_outcome": "guilty",
        "q_when": "2015-03",
        "q_done": "yes",
        "q_done_when": "2016",
        "q_court": "baltimore_city",
        "q_open": "no",
    }
    answers.update(dates)
    return screen_answers(answers).to_json("en")


@pytest.mark.parametrize("question", ["q_when", "q_done_when"])
@pytest.mark.parametrize(
    ("year", "month", "answer"),
    # 2016: the year the sentence of ANSWERS ended, so either date keeps the order of events
    [("", "", None), ("2016", "", "2016"), ("2016", "11", "2016-11"), (" 2016 ", "07", "2016-07")],
    ids=["not-sure", "year-only", "year-and-month", "padded"],
)
def test_a_when_answer_is_screened_as_the_bot_reads_it(
    worker_client, post_form, question, year, month, answer
):
    """The year is enough (as the text line says); a month sharpens it; blank is not sure."""
    data = {**ANSWERS, f"{question}_year": year, f"{question}_month": month}

    response = post_form(worker_client, "/console/screen", data)

    assert response.status_code == 200
    assert _screened(response)
    assert _bot_result(**{question: answer})["verdict"]["summary"] in _text(response)


@pytest.mark.parametrize("question", ["q_when", "q_ended", "q_done_when"])
@pytest.mark.parametrize(
    ("year", "month", "says"),
    [
        ("", "3", "Enter the year too"),  # "March", with no year
        ("3/", "", "Enter a year between 1900"),
        ("March", "", "Enter a year between 1900"),
        ("03/2015", "", "Enter a year between 1900"),
        ("2015-03-02", "", "Enter a year between 1900"),
        ("15", "", "Enter a year between 1900"),
        ("1899", "", "Enter a year between 1900"),
        ("2015", "0", "Choose a month"),
        ("2015", "March", "Choose a month"),
        ("", "13", "Choose a month"),
        ("9" * 100_000, "", "Enter a year between 1900"),
        ("2015", "1" * 100_000, "Choose a month"),
        ("٢٠١٥", "", "Enter a year between 1900"),  # Arabic-Indic digits
    ],
    ids=[
        "month-only",
        "slash",
        "month-word",
        "month-slash-year",
        "full-iso-date",
        "two-digits",
        "too-old",
        "month-zero",
        "month-word-in-month",
        "bad-month-no-year",
        "huge-year",
        "huge-month",
        "other-digits",
    ],
)
def test_a_when_answer_that_cannot_be_read_is_refused_at_its_field_answers_kept(
    worker_client, post_form, question, year, month, says
):
    data = {**ANSWERS, f"{question}_year": year, f"{question}_month": month}

    response = post_form(worker_client, "/console/screen", data)

    page = _text(response)
    assert response.status_code == 400
    assert not _screened(response)
    error = re.search(rf'<p class="field-error" id="{question}-error">([^<]*)</p>', page)
    assert error, "no message at the field"
    assert says in error.group(1)
    assert f'aria-describedby="{question}-error"' in response.get_data(as_text=True)
    assert page.count('class="field-error"') == 1
    _kept_other_answers(response)


@pytest.mark.parametrize("question", ["q_when", "q_ended", "q_done_when"])
def test_a_when_answer_still_to_come_is_refused(worker_client, post_form, question):
    from webhooks.console.screening import today

    now = today()
    year, month = (now.year, now.month + 1) if now.month < 12 else (now.year + 1, 1)
    data = {**ANSWERS, f"{question}_year": str(year), f"{question}_month": str(month)}

    response = post_form(worker_client, "/console/screen", data)

    assert response.status_code == 400
    assert f'id="{question}-error"' in response.get_data(as_text=True)
    _kept_other_answers(response)


@pytest.mark.parametrize(
    ("year", "month", "problem", "answer"),
    [
        ("2026", "5", None, "2026-05"),
        ("2026", "6", "That month has not come yet", None),
        ("2026", "", None, "2026"),
        ("2027", "", "Enter a year between 1900 and 2026", None),
        ("", "6", "Enter the year too", None),
        ("", "", None, None),
    ],
)
def test_when_answers_against_a_fixed_today(year, month, problem, answer):
    from webhooks.console.home import _when_answer

    said, iso = _when_answer(year, month, dt.date(2026, 5, 31))

    assert iso == answer
    if problem is None:
        assert said is None
    else:
        assert said is not None
        assert problem in said


def _broken_body(client, question: str, raw: bytes) -> bytes:
    from urllib.parse import urlencode

    from tests.console.conftest import page_token

    others = {k: v for k, v in ANSWERS.items() if not k.startswith(f"{question}_")}
    body = urlencode({**others, "csrf_token": page_token(client)}).encode()
    return body + b"&" + question.encode() + b"_year=" + raw


@pytest.mark.parametrize("question", ["q_when", "q_ended", "q_done_when"])
@pytest.mark.parametrize("raw", [b"%FF%FE2015", b"20%C3%2815", b"%E9t%E9"])
def test_a_when_answer_in_broken_text_is_refused_at_its_field(worker_client, question, raw):
    """Bytes that are not UTF-8, percent-encoded as a browser sends them from a form."""
    response = worker_client.post(
        "/console/screen",
        data=_broken_body(worker_client, question, raw),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert f'id="{question}-error"' in response.get_data(as_text=True)
    _kept_other_answers(response)


def test_a_body_of_raw_non_utf8_bytes_is_refused_without_a_crash(worker_client):
    """Not what a browser sends: the whole body is unreadable, so it is refused, not screened."""
    response = worker_client.post(
        "/console/screen",
        data=_broken_body(worker_client, "q_when", b"\xff\xfe2015"),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 403
    assert "This form has expired" in _text(response)
    assert not _screened(response)


# --- when the case ended: its own date for a recent case (law file section 0) -------------

#: A stet in January 2024 for paraphernalia charged in June 2023: the petition opens three
#: years after the stet, on 2027-01-31 (law file P5), not three years after the arrest.
RECENT = {
    "q_charge": "paraphernalia",
    "q_other": "no",
    "q_outcome": "stet",
    "q_when_year": "2023",
    "q_when_month": "6",
    "q_ended_year": "2024",
    "q_ended_month": "1",
    "q_court": "baltimore_city",
    "q_open": "no",
}


FIXED_TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def fixed_today(monkeypatch):
    """The console reads the clock (webhooks.console.screening.today); these dates need a
    fixed one, the day the example was written."""
    from webhooks.console import home, screening

    monkeypatch.setattr(screening, "today", lambda: FIXED_TODAY)
    monkeypatch.setattr(home, "today", lambda: FIXED_TODAY)


@pytest.mark.usefixtures("fixed_today")
def test_a_recent_case_waits_from_the_day_it_ended(worker_client, post_form):
    expected = screen_answers({**_recent_answers(), "q_ended": "2024-01"}).to_json("en")
    one_date = screen_answers({**_recent_answers(), "q_ended": "2023-06"}).to_json("en")

    page = _text(post_form(worker_client, "/console/screen", RECENT))

    assert expected["verdict"]["status"] == "wait"
    assert one_date["verdict"]["status"] == "act_now"  # what the single date used to say
    assert expected["verdict"]["summary"] in page
    assert "status-wait" in page
    assert "2027-01-31" in page


def _recent_answers() -> dict[str, str | None]:
    return {
        "q_charge": "paraphernalia",
        "q_other": "no",
        "q_outcome": "stet",
        "q_when": "2023-06",
        "q_court": "baltimore_city",
        "q_open": "no",
    }


def test_a_recent_case_with_no_end_date_needs_review_not_a_guess(worker_client, post_form):
    data = {**RECENT, "q_ended_year": "", "q_ended_month": ""}

    page = _text(post_form(worker_client, "/console/screen", data))

    assert _screened_text(page)
    assert "status-needs_review" in page


def _screened_text(page: str) -> bool:
    return "Screened from what the client said" in page


def test_an_old_case_screens_as_before_without_an_end_date(worker_client, post_form):
    response = post_form(worker_client, "/console/screen", ANSWERS)  # 2015, no end date

    assert _bot_result()["verdict"]["summary"] in _text(response)


def test_an_end_before_the_arrest_is_refused_at_its_field_answers_kept(worker_client, post_form):
    data = {**RECENT, "q_ended_year": "2023", "q_ended_month": "2"}

    response = post_form(worker_client, "/console/screen", data)

    page = _text(response)
    assert response.status_code == 400
    assert not _screened(response)
    error = re.search(r'<p class="field-error" id="q_ended-error">([^<]*)</p>', page)
    assert error, "no message at the field"
    assert "cannot end before it happened" in error.group(1)
    assert page.count('class="field-error"') == 1
    assert 'aria-describedby="q_ended-error"' in response.get_data(as_text=True)
    assert 'value="stet" checked' in response.get_data(as_text=True)


def test_a_sentence_ending_before_the_case_ended_is_refused_at_its_field(worker_client, post_form):
    data = {
        **RECENT,
        "q_outcome": "guilty",
        "q_done": "yes",
        "q_done_when_year": "2023",
        "q_done_when_month": "12",
    }

    response = post_form(worker_client, "/console/screen", data)

    page = _text(response)
    assert response.status_code == 400
    assert not _screened(response)
    error = re.search(r'<p class="field-error" id="q_done_when-error">([^<]*)</p>', page)
    assert error, "no message at the field"
    assert "cannot end before" in error.group(1)
    assert page.count('class="field-error"') == 1
    assert 'value="guilty" checked' in response.get_data(as_text=True)
    data["q_done_when_year"] = "2024"
    data["q_done_when_month"] = "1"  # the month the case ended: accepted
    assert post_form(worker_client, "/console/screen", data).status_code == 200


def test_the_same_year_without_months_is_not_refused(worker_client, post_form):
    data = {**RECENT, "q_ended_year": "2023", "q_ended_month": ""}

    response = post_form(worker_client, "/console/screen", data)

    assert response.status_code == 200
    assert _screened(response)


@pytest.mark.usefixtures("fixed_today")
def test_the_handout_from_answers_keeps_the_end_date(worker_client, post_form):
    screened = post_form(worker_client, "/console/screen", RECENT).get_data(as_text=True)
    assert 'name="q_ended_year" value="2024"' in screened

    page = _text(_handout(worker_client, post_form, source="answers", lang="en", **RECENT))
    no_end = {**RECENT, "q_ended_year": "", "q_ended_month": ""}
    unknown = _text(_handout(worker_client, post_form, source="answers", lang="en", **no_end))

    assert "January 31, 2027" in page
    assert "January 31, 2027" not in unknown
