from __future__ import annotations

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
    assert page.count("<legend>") == 8
    assert 'for="q_when_year"' in page
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
