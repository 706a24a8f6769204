"""Property tests: no input crashes the engine, every pathway appears once, unknown never says yes.

The last property is checked directly: when a fact is unknown and a pathway still comes out
``eligible_now`` or ``automatic``, then every concrete value of that fact must give the same
status, which means the fact did not decide it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from knowledge import (
    CATEGORIES,
    DISPOSITIONS,
    PATHWAY_IDS,
    PATHWAY_STATUSES,
    VERDICT_STATUSES,
    CaseInput,
    ChargeInput,
    InputError,
    PersonInput,
    RecordStatus,
    screen,
    screen_json,
)
from knowledge.explain import explain

AS_OF = dt.date(2026, 11, 25)
DAYS = st.dates(min_value=dt.date(2005, 1, 1), max_value=dt.date(2030, 12, 31))
KEY_DAYS = st.sampled_from(
    [
        dt.date(2014, 9, 30), dt.date(2014, 10, 1), dt.date(2021, 9, 30), dt.date(2021, 10, 1),
        dt.date(2022, 12, 31), dt.date(2023, 1, 1), dt.date(2023, 6, 30), dt.date(2023, 7, 1),
        dt.date(2023, 11, 25), dt.date(2023, 11, 26), dt.date(2024, 6, 17), AS_OF,
    ]
)  # fmt: skip
SOME_DAY = st.one_of(st.none(), DAYS, KEY_DAYS)
DESCRIPTIONS = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(
        [
            "CDS: POSS-MARIJUANA", "CDS:POSSESS-NOT MARIHUANA", "CDS:P W/I DIST:NARC",
            "CDS:POSS PARAPHERNALIA", "ASSAULT-SEC DEGREE", "CDS VIOLATION", "PWID MARIJUANA",
            "CIVIL CITATION MARIJUANA", "CDS:MANUF-MARIJUANA",
        ]
    ),
)  # fmt: skip
RAW_DISPOSITIONS = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(DISPOSITIONS),
    st.sampled_from(["GUILTY", "NOLLE PROSEQUI", "PBJ SUPERVISED", "STET", "MERGED"]),
)
CHARGES = st.builds(
    ChargeInput,
    description=DESCRIPTIONS,
    statute=st.one_of(st.none(), st.sampled_from(["CR.5.601.(a)(1)", "CR.5.602", "CR.3.203"])),
    category=st.one_of(st.none(), st.sampled_from(CATEGORIES)),
    offense_date=SOME_DAY,
    disposition=RAW_DISPOSITIONS,
    disposition_date=SOME_DAY,
    sentence_completed_on=SOME_DAY,
    probation_violation=st.one_of(st.none(), st.booleans()),
)
CASES = st.builds(
    CaseInput,
    charges=st.lists(CHARGES, min_size=0, max_size=4).map(tuple),
    case_number=st.one_of(st.none(), st.text(max_size=12)),
    court=st.one_of(st.none(), st.sampled_from(["district", "circuit", "juvenile"])),
    county=st.one_of(
        st.none(),
        st.sampled_from(["Baltimore City", "Baltimore County", "Howard County", "federal"]),
        st.just("other_state"),
    ),
    case_status=st.one_of(st.none(), st.sampled_from(["open", "closed"])),
    person=st.builds(
        PersonInput,
        date_of_birth=SOME_DAY,
        pending_case=st.one_of(st.none(), st.booleans()),
        later_convictions=st.one_of(st.none(), st.lists(DAYS, max_size=2).map(tuple)),
    ),
    record_status=st.builds(
        RecordStatus,
        expunged=st.one_of(st.none(), st.booleans()),
        pardoned=st.one_of(st.none(), st.booleans()),
        shielded=st.one_of(st.none(), st.booleans()),
    ),
)
AS_OFS = st.one_of(st.just(AS_OF), DAYS, KEY_DAYS)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(CASES, AS_OFS)
def test_no_input_crashes_and_every_pathway_appears_exactly_once(
    case: CaseInput, as_of: dt.date
) -> None:
    result = screen(case, as_of)
    data = result.to_json("es")
    parts = explain(result, "en", self_reported=True)

    assert [p.id for p in result.pathways] == list(PATHWAY_IDS)
    assert all(p.status in PATHWAY_STATUSES for p in result.pathways)
    assert result.verdict.status in VERDICT_STATUSES
    assert all(c.category in CATEGORIES and c.disposition in DISPOSITIONS for c in result.charges)
    assert [p["id"] for p in data["pathways"]] == list(PATHWAY_IDS)  # type: ignore[index]
    assert parts


@FAST
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda kids: (
            st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=12), kids, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_any_json_value_is_either_screened_or_refused_with_a_field(value: object) -> None:
    try:
        result = screen_json(value, AS_OF)
    except InputError as exc:
        problem: str | None = exc.field
    else:
        problem = None
        assert len(result["pathways"]) == len(PATHWAY_IDS)  # type: ignore[arg-type]

    assert problem is None or isinstance(problem, str)


YES = {"eligible_now", "automatic"}
Variant = Callable[[CaseInput], list[CaseInput]]


def _charge_variants(i: int, field: str, values: list[object]) -> Variant:
    def make(case: CaseInput) -> list[CaseInput]:
        out = []
        for v in values:
            charges = list(case.charges)
            charges[i] = dataclasses.replace(charges[i], **{field: v})
            out.append(dataclasses.replace(case, charges=tuple(charges)))
        return out

    return make


CONCRETE_DAYS: list[object] = [
    dt.date(2010, 1, 1), dt.date(2021, 10, 1), dt.date(2022, 12, 31), dt.date(2023, 7, 1),
    dt.date(2024, 6, 17), AS_OF, dt.date(2029, 1, 1),
]  # fmt: skip


def _unknowns(case: CaseInput) -> list[tuple[str, CaseInput, list[CaseInput]]]:
    """(fact, case with the fact unknown, the same case with each concrete value)."""
    found: list[tuple[str, CaseInput, list[CaseInput]]] = []
    person = case.person
    unknown_pending = dataclasses.replace(
        case, person=dataclasses.replace(person, pending_case=None)
    )
    found.append(("pending_case", unknown_pending, [
        dataclasses.replace(case, person=dataclasses.replace(person, pending_case=v))
        for v in (True, False)
    ]))  # fmt: skip
    unknown_later = dataclasses.replace(
        case, person=dataclasses.replace(person, later_convictions=None)
    )
    found.append(("later_convictions", unknown_later, [
        dataclasses.replace(case, person=dataclasses.replace(person, later_convictions=v))
        for v in ((), (dt.date(2012, 1, 1),), (dt.date(2024, 1, 1),))
    ]))  # fmt: skip
    found.append(("county", dataclasses.replace(case, county=None), [
        dataclasses.replace(case, county=v) for v in ("Baltimore City", "federal")
    ]))  # fmt: skip
    for i in range(len(case.charges)):
        for field, values in (
            ("sentence_completed_on", CONCRETE_DAYS),
            ("offense_date", CONCRETE_DAYS),
            ("disposition_date", CONCRETE_DAYS),
            ("probation_violation", [True, False]),
            ("disposition", [d for d in DISPOSITIONS if d != "unknown"]),
            ("category", [c for c in CATEGORIES if c != "unknown"]),
        ):
            blank: object = "unknown" if field in ("disposition", "category") else None
            make = _charge_variants(i, field, values)
            found.append((f"charges[{i}].{field}", _charge_variants(i, field, [blank])(case)[0],
                          make(case)))  # fmt: skip
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CASES, st.one_of(st.just(AS_OF), KEY_DAYS))
@example(
    CaseInput(
        charges=(
            ChargeInput(
                category="unknown", offense_date=dt.date(2023, 7, 1), disposition="dismissed",
                disposition_date=dt.date(2023, 7, 1),
            ),
        ),
        county="Baltimore City",
        person=PersonInput(pending_case=False, later_convictions=()),
    ),
    AS_OF,
)  # fmt: skip
def test_an_unknown_fact_never_gives_a_yes_that_the_fact_decides(
    case: CaseInput, as_of: dt.date
) -> None:
    for fact, unknown_case, concrete_cases in _unknowns(case):
        with_unknown = {p.id: p.status for p in screen(unknown_case, as_of).pathways}
        for concrete in concrete_cases:
            if any(
                c.offense_date and c.disposition_date and c.offense_date > c.disposition_date
                for c in concrete.charges
            ):
                continue  # impossible: parse_case refuses an offense after its disposition
            statuses = {p.id: p.status for p in screen(concrete, as_of).pathways}
            for pathway_id, status in with_unknown.items():
                if status in YES:
                    assert statuses[pathway_id] == status, (fact, pathway_id, status, statuses)


def _shift(day: dt.date | None, days: int) -> dt.date | None:
    return None if day is None else day + dt.timedelta(days=days)


def _shifted(case: CaseInput, deltas: list[int]) -> CaseInput:
    charges = tuple(
        dataclasses.replace(
            c,
            offense_date=_shift(c.offense_date, deltas[(3 * i) % len(deltas)]),
            disposition_date=_shift(c.disposition_date, deltas[(3 * i + 1) % len(deltas)]),
            sentence_completed_on=_shift(
                c.sentence_completed_on, deltas[(3 * i + 2) % len(deltas)]
            ),
        )
        for i, c in enumerate(case.charges)
    )
    return dataclasses.replace(case, charges=charges)


# Realistic, fully known closed cases: here dates decide answers, so a bad key shows.
REAL_DAYS = st.one_of(DAYS, KEY_DAYS)
REAL_CHARGES = st.builds(
    ChargeInput,
    description=st.sampled_from(
        [
            "CDS: POSS-MARIJUANA",
            "PWID MARIJUANA",
            "CDS:POSS PARAPHERNALIA",
            "CDS:POSSESS-NOT MARIHUANA",
            "ASSAULT-SEC DEGREE",
            "THEFT LESS THAN $100",
        ]
    ),  # fmt: skip
    disposition=st.sampled_from(
        ["GUILTY", "PBJ SUPERVISED", "NOLLE PROSEQUI", "STET", "DISMISSED"]
    ),
    offense_date=REAL_DAYS,
    disposition_date=REAL_DAYS,
    sentence_completed_on=st.one_of(st.none(), REAL_DAYS),
    probation_violation=st.just(False),
).filter(lambda c: c.offense_date <= c.disposition_date)
REAL_CASES = st.builds(
    CaseInput,
    charges=st.lists(REAL_CHARGES, min_size=1, max_size=3).map(tuple),
    court=st.sampled_from(["district", "circuit"]),
    county=st.just("Baltimore City"),
    case_status=st.just("closed"),
    person=st.just(PersonInput(pending_case=False, later_convictions=())),
    record_status=st.just(RecordStatus()),
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REAL_CASES, AS_OFS, st.lists(st.integers(-45, 45), min_size=3, max_size=9))
def test_cases_that_share_a_cache_key_get_the_same_answer(
    case: CaseInput, as_of: dt.date, deltas: list[int]
) -> None:
    """The engine answers from a cache keyed on the facts the rules read (engine.fact_key).

    Moving dates without crossing a cut-off or a live waiting period keeps the key; then the
    uncached answer must be identical too, or the cache would hand one person another's result.
    """
    from knowledge.engine import _decide, classify_charges, fact_key

    moved = _shifted(case, deltas)
    charges, moved_charges = classify_charges(case), classify_charges(moved)
    same_key = fact_key(case, charges, as_of) == fact_key(moved, moved_charges, as_of)

    event(f"same cache key: {same_key}")
    if same_key:
        assert _decide(moved, moved_charges, as_of) == _decide(case, charges, as_of)
    assert screen(moved, as_of).pathways == _decide(moved, moved_charges, as_of)[0]
