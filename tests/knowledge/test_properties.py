"""Property tests: no input crashes the engine, every pathway appears once, unknown never says yes.

The last property is checked directly: when a fact is unknown and a pathway still comes out
``eligible_now`` or ``automatic``, then every concrete value of that fact must give the same
status, which means the fact did not decide it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
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
@given(CASES, AS_OFS)
def test_no_pathway_gives_the_same_reason_or_step_twice(case: CaseInput, as_of: dt.date) -> None:
    for p in screen(case, as_of).pathways:
        assert len(set(p.reasons)) == len(p.reasons), (p.id, p.reasons)
        assert len(set(p.next_steps)) == len(p.next_steps), (p.id, p.next_steps)


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
@example(
    CaseInput(
        charges=(
            ChargeInput(
                category="cannabis_possession", offense_date=dt.date(2004, 1, 1),
                disposition="guilty", disposition_date=dt.date(2004, 6, 1),
                sentence_completed_on=dt.date(2005, 1, 1),
            ),
            # Unread, convicted, sentence unknown: possibly a second possession conviction
            # still being served, so the petition cannot be "file now".
            ChargeInput(
                category="unknown", offense_date=dt.date(2004, 1, 1), disposition="guilty",
                disposition_date=dt.date(2004, 6, 1),
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
    from knowledge.engine import classify_charges, decide, fact_key

    moved = _shifted(case, deltas)
    charges, moved_charges = classify_charges(case), classify_charges(moved)
    same_key = fact_key(case, charges, as_of) == fact_key(moved, moved_charges, as_of)

    event(f"same cache key: {same_key}")
    if same_key:
        assert decide(moved, moved_charges, as_of) == decide(case, charges, as_of)
    assert screen(moved, as_of).pathways == decide(moved, moved_charges, as_of)[0]


# Any kind of charge, in any court: the key reads each date by the kind of charge it belongs to,
# so dates are drawn around the ends of the waiting periods as seen from as_of.
@st.composite
def _day_near(draw: st.DrawFn, as_of: dt.date) -> dt.date | None:
    kind = draw(st.sampled_from(["none", "wait", "wait", "wait", "key", "any"]))
    if kind == "none":
        return None
    if kind == "key":
        return draw(KEY_DAYS)
    if kind == "any":
        return draw(DAYS)
    years = draw(st.sampled_from([0, 2, 3, 4, 5, 10]))
    days = draw(st.integers(-40, 40))
    return dt.date(as_of.year - years, 1, 1) + dt.timedelta(days=as_of.timetuple().tm_yday + days)


@st.composite
def _kind_case(draw: st.DrawFn) -> tuple[CaseInput, dt.date]:
    as_of = draw(AS_OFS)
    charges = []
    for _ in range(draw(st.integers(1, 4))):
        offense, disposed = draw(_day_near(as_of)), draw(_day_near(as_of))
        if offense and disposed and offense > disposed:
            offense, disposed = disposed, offense
        charges.append(
            ChargeInput(
                category=draw(st.sampled_from(CATEGORIES)),
                disposition=draw(
                    st.sampled_from(
                        [*DISPOSITIONS, "guilty", "pbj", "stet", "NOLLE PROSEQUI - DRUG TREATMENT"]
                    )
                ),
                offense_date=offense,
                disposition_date=disposed,
                sentence_completed_on=draw(_day_near(as_of)),
                probation_violation=draw(st.one_of(st.none(), st.booleans())),
            )
        )
    case = CaseInput(
        charges=tuple(charges),
        court=draw(st.sampled_from(["district", "circuit", "juvenile"])),
        county=draw(st.sampled_from(["Baltimore City", "Howard County"])),
        case_status=draw(st.sampled_from(["closed", "closed", "open"])),
        person=PersonInput(
            pending_case=draw(st.one_of(st.none(), st.booleans())),
            later_convictions=draw(st.sampled_from([None, (), ()])),
        ),
    )
    return case, as_of


# Dispositions the rules only test as a group (engine.case_key keys each group as one).
GROUPS = (("not_guilty", "dismissed", "nolle_prosequi"), ("merged", "unknown"))
YEARS = st.sampled_from([1, 2, 3, 4, 5, 10, -1, -3])


def _regrouped(case: CaseInput, picks: list[int]) -> CaseInput:
    """The case with each grouped disposition swapped for another of its group."""
    charges = []
    for i, c in enumerate(case.charges):
        group = next((g for g in GROUPS if c.disposition in g), None)
        if group is not None:
            c = dataclasses.replace(c, disposition=group[picks[i % len(picks)] % len(group)])
        charges.append(c)
    return dataclasses.replace(case, charges=tuple(charges))


def _moved_one(case: CaseInput, index: int, field: str, days: int) -> CaseInput:
    """The case with one date of one charge moved by `days`."""
    charges = list(case.charges)
    i = index % len(charges)
    day = getattr(charges[i], field)
    if day is not None:
        charges[i] = dataclasses.replace(charges[i], **{field: day + dt.timedelta(days=days)})
    return dataclasses.replace(case, charges=tuple(charges))


SENTENCE, DISPOSED = "sentence_completed_on", "disposition_date"


def _one_charge(
    category: str, disposition: str, disposed: dt.date | None, done: dt.date | None
) -> tuple[CaseInput, dt.date]:
    """A one-charge case in Baltimore City, with AS_OF (for the examples below)."""
    charge = ChargeInput(
        category=category,
        disposition=disposition,
        disposition_date=disposed,
        sentence_completed_on=done,
    )
    person = PersonInput(pending_case=False, later_convictions=())
    return CaseInput(charges=(charge,), county="Baltimore City", person=person), AS_OF


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _kind_case(),
    st.integers(0, 3),
    st.sampled_from(["offense_date", "disposition_date", "sentence_completed_on"]),
    st.one_of(st.integers(-60, 60), YEARS.map(lambda years: 365 * years)),
    st.lists(st.integers(0, 2), min_size=1, max_size=4),
)
@example(  # before 2023-07-01 a possession conviction waits 4 years from its disposition
    (
        CaseInput(
            charges=(
                ChargeInput(
                    category="cannabis_possession",
                    disposition="guilty",
                    disposition_date=dt.date(2020, 6, 1),
                    sentence_completed_on=dt.date(2019, 1, 1),
                ),
            ),
            court="district",
            county="Baltimore City",
            person=PersonInput(pending_case=False, later_convictions=()),
        ),
        dt.date(2022, 12, 31),
    ),
    0,
    "disposition_date",
    30,
    [0],
)
@example(
    _one_charge("cannabis_possession", "guilty", None, dt.date(2025, 1, 1)), 0, SENTENCE, 30, [0]
)
@example(_one_charge("paraphernalia", "guilty", None, dt.date(2022, 3, 1)), 0, SENTENCE, 30, [0])
@example(_one_charge("other", "stet", dt.date(2024, 3, 1), None), 0, DISPOSED, 30, [0])
@example(
    _one_charge("other", "pbj", dt.date(2020, 3, 1), dt.date(2027, 3, 1)), 0, SENTENCE, 30, [0]
)
def test_any_kind_of_charge_that_shares_a_cache_key_gets_the_same_answer(
    case_as_of: tuple[CaseInput, dt.date],
    index: int,
    field: str,
    days: int,
    picks: list[int],
) -> None:
    """The key keeps a date exactly only while a wait for that kind of charge can see it.

    Moving a date by days or whole years (across a waiting period's end, or not) and
    swapping dispositions the rules test only as a group must either change the key or not
    change the answer. A key that forgot a wait (say P5's three years after a stet, or
    shielding's three years after a possession sentence) fails here.
    """
    from knowledge.engine import classify_charges, decide, fact_key

    case, as_of = case_as_of
    other = _regrouped(_moved_one(case, index, field, days), picks)
    if any(
        c.offense_date and c.disposition_date and c.offense_date > c.disposition_date
        for c in other.charges
    ):
        return  # parse_case refuses such a case
    charges, other_charges = classify_charges(case), classify_charges(other)
    same_key = fact_key(case, charges, as_of) == fact_key(other, other_charges, as_of)

    event(f"same cache key: {same_key}")
    if same_key:
        assert decide(other, other_charges, as_of) == decide(case, charges, as_of)


@FAST
@given(CASES, AS_OFS, st.randoms(use_true_random=False))
def test_the_order_of_the_charges_changes_no_status_date_or_verdict(
    case: CaseInput, as_of: dt.date, rng: random.Random
) -> None:
    """Batch screening shares a result row between cases that list the same charges in
    another order (webhooks.screen_cli): only the charge numbers in the reasons may move."""
    charges = list(case.charges)
    rng.shuffle(charges)
    shuffled = screen(dataclasses.replace(case, charges=tuple(charges)), as_of)
    result = screen(case, as_of)

    assert [(p.status, p.eligible_on) for p in shuffled.pathways] == [
        (p.status, p.eligible_on) for p in result.pathways
    ]
    assert shuffled.verdict == result.verdict
