"""A sentence the person says is not over is not an unknown sentence.

Law file (domain/maryland-relief-law.md): the possession petition waits for the sentence,
including probation, to end (P3, 9.2); a PBJ waits for the later of discharge and 3 years (P5);
listed convictions wait 3 or 5 years after it (P6, 9.4); shielding 3 years after it (P11).
Automatic expungement (P1, any outcome) and the 2024 pardon (section 3, 9.1) name no such
condition, so they do not change. The DESIGN 5.3 JSON cannot say "not over": only the
residents' questions set the fact, and the contract's input and output stay as they were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from knowledge import CaseInput, ChargeInput, InputError, PersonInput, screen, screen_json
from knowledge.render import render_note

AS_OF = dt.date(2026, 11, 25)


def _case(*charges: ChargeInput, later: tuple[dt.date, ...] = (), court: str = "district"):
    return CaseInput(
        charges=charges,
        county="Baltimore City",
        court=court,
        case_status="closed",
        person=PersonInput(pending_case=False, later_convictions=later),
    )


def _charge(category: str, disposition: str, year: int, **kw: object) -> ChargeInput:
    fields: dict[str, object] = {
        "category": category,
        "disposition": disposition,
        "offense_date": dt.date(year, 3, 1),
        "disposition_date": dt.date(year, 5, 1),
        "probation_violation": False,
    }
    return ChargeInput(**(fields | kw))  # type: ignore[arg-type]


def _not_over(charge: ChargeInput) -> ChargeInput:
    return dataclasses.replace(charge, sentence_not_over=True)


def _statuses(case: CaseInput, as_of: dt.date = AS_OF) -> dict[str, str]:
    return {p.id: p.status for p in screen(case, as_of).pathways}


def _first_reason(case: CaseInput, pathway: str, as_of: dt.date = AS_OF) -> str:
    p = screen(case, as_of).pathway(pathway)
    return render_note(p.reasons[0], "en", {"court": "the court"})


# A 2024 possession conviction: after the P1 and pardon cut-offs, so only petitions can help.
POSSESSION_2024 = _charge("cannabis_possession", "guilty", 2024)


def test_a_possession_conviction_not_yet_served_waits_for_the_sentence_not_for_a_lawyer():
    result = screen(_case(_not_over(POSSESSION_2024)), AS_OF)
    p3 = result.pathway("petition_cannabis_possession")

    assert p3.status == "eligible_later"
    assert p3.eligible_on is None  # the end of the sentence is the date, and we do not know it
    assert p3.reasons[0].key == "reason.p3.sentence_not_over"
    assert "step.sentence_help" in [s.key for s in p3.next_steps]
    assert result.pathway("shielding").status == "eligible_later"
    assert result.verdict.status == "wait"
    assert result.verdict.summary.key == "verdict.wait_sentence"


def test_not_sure_still_gives_needs_review_and_a_finished_sentence_still_acts_now():
    unsure = screen(_case(POSSESSION_2024), AS_OF)
    done = screen(
        _case(dataclasses.replace(POSSESSION_2024, sentence_completed_on=dt.date(2025, 6, 1))),
        AS_OF,
    )

    assert unsure.pathway("petition_cannabis_possession").status == "needs_review"
    assert unsure.verdict.summary.key == "verdict.needs_review"
    assert done.pathway("petition_cannabis_possession").status == "eligible_now"
    assert done.verdict.status == "act_now"


def test_a_completion_date_wins_over_a_stray_not_over_flag():
    finished = dataclasses.replace(POSSESSION_2024, sentence_completed_on=dt.date(2025, 6, 1))

    assert _statuses(_case(_not_over(finished))) == _statuses(_case(finished))


def test_a_cannabis_pbj_on_probation_waits_for_discharge_on_both_routes():
    pbj = _not_over(_charge("cannabis_possession", "pbj", 2024))
    result = screen(_case(pbj), AS_OF)

    assert result.pathway("petition_cannabis_possession").status == "eligible_later"
    p5 = result.pathway("petition_non_conviction")
    assert p5.status == "eligible_later"
    assert p5.eligible_on is None
    assert _first_reason(_case(pbj), "petition_non_conviction").startswith(
        "Your probation is not over yet."
    )
    assert result.verdict.summary.key == "verdict.wait_sentence"


def test_a_conviction_since_the_pbj_still_blocks_the_pbj_route_but_not_the_cannabis_one():
    # PBJ route: no conviction between the PBJ and the later of discharge and 3 years (S2,
    # S22); the possession route: later convictions do not bar it (Trey H., S22).
    pbj = _not_over(_charge("cannabis_possession", "pbj", 2024))
    case = _case(pbj, later=(dt.date(2025, 2, 1),))

    statuses = _statuses(case)

    assert statuses["petition_non_conviction"] == "not_eligible"
    assert statuses["petition_cannabis_possession"] == "eligible_later"


def test_what_does_not_need_the_sentence_to_end_still_applies():
    # P1 ("any outcome", 9.5) and the 2024 pardon (9.1) name no completed sentence.
    old = _charge("cannabis_possession", "guilty", 2019)
    not_over = screen(_case(_not_over(old)), AS_OF)
    finished = screen(
        _case(dataclasses.replace(old, sentence_completed_on=dt.date(2020, 1, 1))), AS_OF
    )

    for pathway in ("auto_expungement_cannabis", "pardon_2024", "petition_pardoned"):
        assert not_over.pathway(pathway).status == finished.pathway(pathway).status, pathway
    assert not_over.pathway("auto_expungement_cannabis").status == "automatic"
    assert not_over.pathway("pardon_2024").status == "automatic"
    assert not_over.pathway("petition_cannabis_possession").status == "eligible_later"
    # The state's clearing was due in 2024: that is the answer until the sentence ends.
    assert not_over.verdict.summary.key == "verdict.automatic_past"
    assert finished.verdict.summary.key == "verdict.act_now_after_automatic"


def test_intent_to_distribute_names_its_three_year_wait_after_the_sentence():
    pwid = _not_over(_charge("cannabis_pwid", "guilty", 2022))
    case = _case(pwid)

    assert _statuses(case)["petition_listed_conviction"] == "eligible_later"
    assert _first_reason(case, "petition_listed_conviction") == (
        "Your sentence is not over yet. The wait is 3 years after it ends."
    )
    assert _first_reason(case, "shielding") != _first_reason(case, "petition_listed_conviction")


def test_a_later_conviction_since_the_listed_conviction_still_needs_a_lawyer():
    para = _not_over(_charge("paraphernalia", "guilty", 2024))
    case = _case(para, later=(dt.date(2025, 2, 1),))
    p6 = screen(case, AS_OF).pathway("petition_listed_conviction")

    assert p6.status == "eligible_later"
    assert "reason.p6.later_conviction" in [r.key for r in p6.reasons]


def test_before_july_2023_the_possession_wait_is_four_years_after_the_sentence_ends():
    case = _case(_not_over(_charge("cannabis_possession", "guilty", 2021)))

    assert _statuses(case, dt.date(2023, 1, 1))["petition_cannabis_possession"] == (
        "eligible_later"
    )
    assert _first_reason(case, "petition_cannabis_possession", dt.date(2023, 1, 1)) == (
        "Your sentence is not over yet. You can file 4 years after it ends."
    )


def test_a_youth_court_case_waits_for_the_sentence_before_its_two_years():
    case = dataclasses.replace(
        _case(_not_over(_charge("cannabis_possession", "guilty", 2024)), court="juvenile"),
        person=PersonInput(
            date_of_birth=dt.date(2000, 1, 1), pending_case=False, later_convictions=()
        ),
    )
    juvenile = screen(case, AS_OF).pathway("juvenile_expungement")

    assert juvenile.status == "eligible_later"
    assert juvenile.reasons[0].key == "reason.juv.sentence_not_over"


def test_when_a_lawyer_must_check_other_things_the_summary_still_says_the_sentence_is_running():
    # A pardoned possession charge with another charge whose result is unknown (S13, 9.1 b).
    possession = _not_over(_charge("cannabis_possession", "guilty", 2019))
    other = ChargeInput(category="other", disposition="unknown")
    result = screen(_case(possession, other), AS_OF)

    assert result.verdict.status == "needs_review"
    assert result.verdict.summary.key == "verdict.needs_review_sentence"
    assert result.pathway("petition_cannabis_possession").status == "eligible_later"


def test_the_cache_keeps_not_over_and_unknown_apart():
    unknown = _case(POSSESSION_2024)
    not_over = _case(_not_over(POSSESSION_2024))

    first = screen(unknown, AS_OF).verdict.status
    second = screen(not_over, AS_OF).verdict.status
    third = screen(unknown, AS_OF).verdict.status

    assert (first, second, third) == ("needs_review", "wait", "needs_review")


def test_the_screening_json_contract_has_no_such_field_and_is_unchanged():
    data = {
        "county": "Baltimore City",
        "court": "district",
        "case_status": "closed",
        "person": {"pending_case": False, "later_convictions": []},
        "charges": [
            {
                "category": "cannabis_possession",
                "disposition": "guilty",
                "offense_date": "2024-03-01",
                "disposition_date": "2024-05-01",
                "probation_violation": False,
            }
        ],
    }

    result = screen_json(data, AS_OF)

    assert result["verdict"]["status"] == "needs_review"  # unknown, as before
    with pytest.raises(InputError, match="is not a known field"):
        screen_json(
            {**data, "charges": [{**data["charges"][0], "sentence_not_over": True}]}, AS_OF
        )
