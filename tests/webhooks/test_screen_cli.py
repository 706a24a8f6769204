"""`recordcheck screen`: JSON object, array, JSON Lines and record CSV; bad input exits 2."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge import PATHWAY_IDS
from webhooks.screen_cli import CSV_COLUMNS, RESULT_COLUMNS
from webhooks.screen_cli import screen as screen_command

CASE: dict[str, Any] = {
    "case_number": "0B01234567",
    "court": "district",
    "county": "Baltimore City",
    "case_status": "closed",
    "charges": [
        {
            "description": "CDS: POSS-MARIJUANA",
            "offense_date": "2016-04-02",
            "disposition": "GUILTY",
            "disposition_date": "2016-06-10",
            "sentence_completed_on": "2017-06-10",
            "probation_violation": False,
        }
    ],
    "person": {"pending_case": False, "later_convictions": []},
}


def _command() -> click.Command:
    """The command as registered in the `recordcheck` group, else the module's own."""
    try:
        from webhooks.cli import cli

        registered = cli.commands.get("screen")  # type: ignore[attr-defined]
    except ImportError:
        registered = None
    return registered or screen_command


def run(args: list[str], stdin: bytes | str | None = None) -> Any:
    runner = CliRunner()
    return runner.invoke(_command(), args, input=stdin, catch_exceptions=False)


def test_a_json_object_in_gives_an_object_out() -> None:
    result = run(["-", "--as-of", "2026-11-25"], json.dumps(CASE))

    out = json.loads(result.stdout)
    assert result.exit_code == 0
    assert out["as_of"] == "2026-11-25"
    assert out["verdict"]["status"] == "act_now"
    assert [p["id"] for p in out["pathways"]] == list(PATHWAY_IDS)


def test_the_case_as_of_wins_over_the_option() -> None:
    result = run(["--as-of", "2026-11-25"], json.dumps(CASE | {"as_of": "2024-01-01"}))

    assert json.loads(result.stdout)["as_of"] == "2024-01-01"


def test_an_array_in_gives_an_array_out_and_a_bad_case_exits_2_after_the_rest() -> None:
    bad = CASE | {
        "case_number": "BAD1",
        "charges": [CASE["charges"][0] | {"offense_date": "2016-13-40"}],
    }

    result = run(["--as-of", "2026-11-25"], json.dumps([CASE, bad, CASE]))

    out = json.loads(result.stdout)
    assert result.exit_code == 2
    assert len(out) == 3
    assert out[0]["verdict"]["status"] == "act_now"
    assert out[1] == {
        "case_number": "BAD1", "index": 1, "field": "charges[0].offense_date",
        "error": "is not a real calendar date",
    }  # fmt: skip
    assert out[2]["verdict"]["status"] == "act_now"
    assert "case 2 (BAD1): charges[0].offense_date" in result.stderr


def test_json_lines_in_gives_json_lines_out(tmp_path: Path) -> None:
    src = tmp_path / "cases.jsonl"
    src.write_text(json.dumps(CASE) + "\n" + json.dumps(CASE | {"county": "federal"}) + "\n")

    result = run([str(src), "--as-of", "2026-11-25"])

    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert [r["verdict"]["status"] for r in lines] == ["act_now", "outside_maryland"]


def test_a_broken_json_line_is_reported_and_the_others_are_screened() -> None:
    stdin = json.dumps(CASE) + "\n{broken\n" + json.dumps(CASE) + "\n"

    result = run(["--as-of", "2026-11-25"], stdin)

    lines = result.stdout.splitlines()
    assert result.exit_code == 2
    assert len(lines) == 3
    assert json.loads(lines[1]) == {
        "case_number": None,
        "index": 1,
        "error": "not valid JSON",
        "field": "",
    }  # the same keys as any other bad case
    assert "line 2" in result.stderr


def test_a_json_file_saved_by_windows_powershell_in_utf16_is_read(tmp_path: Path) -> None:
    src = tmp_path / "case.json"
    src.write_bytes(json.dumps(CASE).encode("utf-16"))  # with its byte-order mark

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["verdict"]["status"] == "act_now"


def test_a_jsonl_file_of_one_case_gives_one_json_line(tmp_path: Path) -> None:
    src = tmp_path / "cases.jsonl"
    src.write_text(json.dumps(CASE) + "\n")

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["verdict"]["status"] == "act_now"


def test_a_bad_json_line_is_named_by_its_line_number_counting_blank_lines() -> None:
    stdin = json.dumps(CASE) + "\n\n{broken\n" + json.dumps(CASE) + "\n"

    result = run(["--as-of", "2026-11-25"], stdin)

    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 3
    assert "error: line 3: is not valid JSON" in result.stderr


def test_a_line_separator_inside_a_json_line_string_does_not_split_the_line() -> None:
    odd = CASE | {"case_number": "0B0\u20281234567"}  # U+2028 is valid raw inside JSON text
    stdin = json.dumps(odd, ensure_ascii=False) + "\n" + json.dumps(CASE) + "\n"

    result = run(["--as-of", "2026-11-25"], stdin)

    assert result.exit_code == 0, result.stderr
    out_lines = result.stdout.rstrip("\n").split("\n")
    assert [json.loads(line)["case_number"] for line in out_lines] == [
        "0B0\u20281234567",
        "0B01234567",
    ]


def test_a_broken_pretty_printed_object_is_one_error_with_its_position() -> None:
    stdin = json.dumps(CASE, indent=2).replace('"court": "district",', '"court": "district"')

    result = run(["--as-of", "2026-11-25"], stdin)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("error:") == 1
    assert "error: input: is not valid JSON (Expecting ',' delimiter: line 4" in result.stderr


def test_a_json_line_nested_too_deeply_is_reported_and_the_others_are_screened() -> None:
    deep = '{"a":' * 50_000 + "1" + "}" * 50_000
    stdin = json.dumps(CASE) + "\n" + deep + "\n" + json.dumps(CASE) + "\n"

    result = run(["--as-of", "2026-11-25"], stdin)

    lines = result.stdout.splitlines()
    assert result.exit_code == 2
    assert [json.loads(line).get("error") for line in lines] == [None, "not valid JSON", None]
    assert "line 2: is not valid JSON (arrays or objects are nested too deeply)" in result.stderr


def test_a_json_array_nested_too_deeply_exits_2_with_a_message() -> None:
    result = run(["--as-of", "2026-11-25"], "[" * 100_000 + "]" * 100_000)

    assert result.exit_code == 2
    assert "nested too deeply" in result.stderr


def test_an_output_that_cannot_be_written_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "results.json"

    result = run(["-", "-o", str(out), "--as-of", "2026-11-25"], json.dumps(CASE))

    assert result.exit_code == 1
    assert f"cannot write {out}: No such file or directory" in result.stderr


def test_a_missing_input_leaves_an_earlier_output_file_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    out.write_text("yesterday's results\n")

    result = run([str(tmp_path / "missing.json"), "-o", str(out)])

    assert result.exit_code == 1
    assert "cannot read" in result.stderr
    assert out.read_text() == "yesterday's results\n"


@pytest.mark.parametrize("name", ["cases.json", "records.csv"])
def test_an_output_that_is_the_input_file_is_refused_and_the_input_kept(
    tmp_path: Path, name: str
) -> None:
    src = tmp_path / name
    src.write_text(json.dumps(CASE) if name.endswith(".json") else _csv([ROW]))
    before = src.read_text()

    result = run([str(src), "-o", str(tmp_path / "." / name), "--as-of", "2026-11-25"])

    assert result.exit_code == 1
    assert "is the input file" in result.stderr
    assert src.read_text() == before


def _csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in CSV_COLUMNS})
    return buf.getvalue()


ROW = {
    "case_number": "0B01234567", "court": "district", "county": "Baltimore City",
    "case_status": "closed", "charge_number": "1", "description": "CDS: POSS-MARIJUANA",
    "offense_date": "2016-04-02", "disposition": "GUILTY", "disposition_date": "2016-06-10",
    "sentence_completed_on": "2017-06-10", "probation_violation": "false", "expunged": "false",
}  # fmt: skip


def test_a_record_csv_gives_one_row_per_case(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    src.write_text(
        _csv(
            [
                ROW,
                ROW | {"charge_number": "2", "description": "ASSAULT-SEC DEGREE"},
                ROW
                | {
                    "case_number": "114351015",
                    "court": "circuit",
                    "disposition": "NOLLE PROSEQUI",
                },
            ]
        )
    )
    out = tmp_path / "out.csv"

    result = run([str(src), "--as-of", "2026-11-25", "-o", str(out)])

    rows = list(csv.DictReader(out.open()))
    assert result.exit_code == 0, result.stderr
    assert list(rows[0]) == list(RESULT_COLUMNS)
    cells = list(csv.reader(out.open()))
    assert {len(row) for row in cells} == {len(RESULT_COLUMNS)}  # the empty error cell too
    assert [r["case_number"] for r in rows] == ["0B01234567", "114351015"]
    assert rows[0]["pardon_2024_status"] == "automatic"
    assert rows[0]["pardon_2024_eligible_on"] == "2024-06-17"
    assert rows[0]["auto_expungement_cannabis_status"] == "not_eligible"
    # No person facts in a record CSV: an open case elsewhere is unknown, so a lawyer checks.
    assert rows[0]["petition_cannabis_possession_status"] == "needs_review"


def test_an_expunged_charge_is_left_out_and_its_case_screened(tmp_path: Path) -> None:
    """`expunged` is a charge's column (DESIGN 5.4): one expunged charge of several is not
    bad input; the case is screened on the charges the record still shows."""
    assault = {"charge_number": "2", "description": "ASSAULT-SEC DEGREE", "expunged": "true"}
    expunged = ROW | assault
    mixed, alone = tmp_path / "mixed.csv", tmp_path / "alone.csv"
    mixed.write_text(_csv([ROW, expunged]))
    alone.write_text(_csv([ROW]))

    result = run([str(mixed), "--as-of", "2026-11-25"])
    expected = run([str(alone), "--as-of", "2026-11-25"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected.stdout
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert row["error"] == ""
    assert row["verdict"] != "already_cleared"


def test_a_case_whose_every_charge_is_expunged_is_already_cleared(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    done = ROW | {"expunged": "true"}
    src.write_text(_csv([done, done | {"charge_number": "2", "expunged": " TRUE"}]))

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 0, result.stderr
    assert next(csv.DictReader(io.StringIO(result.stdout)))["verdict"] == "already_cleared"


def test_a_bad_expunged_cell_names_the_charge(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    src.write_text(_csv([ROW, ROW | {"charge_number": "2", "expunged": "maybe"}]))

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 2
    assert "case 0B01234567 (line 2): charges[1].expunged: must be true or false" in result.stderr


def test_a_cell_too_big_for_csv_is_reported_and_the_other_cases_screened(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    over = csv.field_size_limit() + 1  # 128 KiB, or more if an import module raised it
    huge = ROW | {"case_number": "HUGE", "description": "X" * over}
    bad_date = ROW | {"case_number": "BAD1", "offense_date": "2016-13-01"}
    src.write_text(_csv([ROW, huge, ROW | {"case_number": "114351015"}, bad_date]))

    result = run([str(src), "--as-of", "2026-11-25"])

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.exit_code == 2
    assert "error: line 3: is not readable CSV (field larger than field limit" in result.stderr
    assert "error: case BAD1 (line 5): charges[0].offense_date" in result.stderr
    assert [(r["case_number"], bool(r["error"])) for r in rows] == [
        ("0B01234567", False),
        ("114351015", False),
        ("BAD1", True),
    ]


def test_a_windows_1252_csv_is_screened_and_its_odd_lines_reported(tmp_path: Path) -> None:
    src = tmp_path / "excel.csv"
    bad_date = ROW | {"case_number": "BAD1", "offense_date": "2016-13-01"}
    named = ROW | {"case_number": "114351015", "defendant_name": "PEÑA, JOSÉ"}
    src.write_bytes(_csv([bad_date, ROW, named]).encode("cp1252"))

    result = run([str(src), "--as-of", "2026-11-25"])

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.exit_code == 2
    assert [(r["case_number"], bool(r["error"])) for r in rows] == [
        ("BAD1", True),
        ("0B01234567", False),
        ("114351015", False),
    ]
    assert "error: line 4: is not UTF-8 text" in result.stderr
    assert result.stderr.count("case BAD1") == 1  # the first attempt's messages are not repeated
    assert result.stdout.count("case_number,as_of") == 1


def test_a_csv_header_naming_a_column_twice_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    lines = _csv([ROW]).splitlines()
    src.write_text(f"{lines[0]},disposition\n{lines[1]},NOLLE PROSEQUI\n")

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 2
    assert "CSV header names a column twice: disposition" in result.stderr


def test_csv_rows_of_one_case_that_disagree_exit_2_and_the_rest_are_screened(
    tmp_path: Path,
) -> None:
    src = tmp_path / "records.csv"
    src.write_text(
        _csv(
            [
                ROW,
                ROW | {"charge_number": "2", "county": "Baltimore County"},
                ROW | {"case_number": "OTHER"},
            ]
        )
    )

    result = run([str(src), "--as-of", "2026-11-25"])

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.exit_code == 2
    assert rows[0]["error"].startswith("county: rows of the same case disagree")
    assert rows[1]["case_number"] == "OTHER"
    assert rows[1]["verdict"]
    assert "case 0B01234567 (line 2): county" in result.stderr


def test_a_duplicated_charge_row_is_bad_input(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    src.write_text(_csv([ROW, ROW]))

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 2
    assert "appears twice" in result.stderr


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"", "is empty"),
        (b"  \n ", "is empty"),
        (b"\xff\xfe{", "not UTF-8"),
        (b"[1, 2", "not valid JSON"),
        (b'{"charges": [{"disposition": "GUILTY"}], "charges": []}', "not valid JSON"),
    ],
)
def test_bad_stdin_exits_2_with_a_message(stdin: bytes, message: str) -> None:
    result = run(["--as-of", "2026-11-25"], stdin)

    assert result.exit_code == 2
    assert message in result.stderr


def test_non_utf8_csv_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    src.write_bytes(_csv([ROW]).encode("utf-8").replace(b"MARIJUANA", b"MARIJ\xd1ANA"))

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_a_csv_with_unknown_columns_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    src.write_text("case_number,description,disposition,ssn\n1,x,GUILTY,123\n")

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 2
    assert "unknown CSV columns: ssn" in result.stderr


def test_a_huge_csv_is_screened(tmp_path: Path) -> None:
    src = tmp_path / "records.csv"
    src.write_text(_csv([ROW | {"case_number": f"C{i}"} for i in range(3000)]))

    result = run([str(src), "--as-of", "2026-11-25"])

    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 3001


def test_a_bad_as_of_is_a_usage_error() -> None:
    result = run(["--as-of", "25/11/2026"], json.dumps(CASE))

    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run([str(tmp_path / "nope.json")])

    assert result.exit_code != 0
    assert "cannot read" in result.output


# Batch screening reuses a result row between cases whose charges the rules cannot tell apart
# (knowledge.engine.case_key; the order of the charges aside). Each row must still be what the
# case gets when it is screened on its own.
CSV_DAYS = st.sampled_from(
    [
        "", "2012-05-01", "2019-03-02", "2021-09-30", "2021-10-01", "2022-12-31", "2023-01-01",
        "2023-06-30", "2023-07-01", "2023-11-24", "2023-11-26", "2024-06-17", "2025-02-28",
        "2026-11-25", "2027-01-10",
    ]
)  # fmt: skip
CHARGE_ROWS = st.fixed_dictionaries(
    {
        "description": st.sampled_from(
            [
                "CDS: POSS-MARIJUANA", "CDS:POSSESS-NOT MARIHUANA", "CDS:P W/I DIST:NARC",
                "CDS:POSS W/I DIST-MARIJUANA", "CDS:POSS PARAPHERNALIA", "ASSAULT-SEC DEGREE",
                "POSSESS MARIJ. LESS THAN 10 GR", "CDS VIOLATION",
            ]
        ),
        "disposition": st.sampled_from(
            [
                "GUILTY", "NOLLE PROSEQUI", "STET", "PROBATION BEFORE JUDGMENT", "DISMISSED",
                "NOT GUILTY", "MERGED", "", "NOLLE PROSEQUI - DRUG TREATMENT",
            ]
        ),
        "offense_date": CSV_DAYS,
        "disposition_date": CSV_DAYS,
        "sentence_completed_on": CSV_DAYS,
        "probation_violation": st.sampled_from(["false", "true", ""]),
    }
).map(
    lambda c: c | {"offense_date": ""}
    if c["disposition_date"] and c["offense_date"] > c["disposition_date"]
    else c
)  # fmt: skip
CASE_LEVELS = st.fixed_dictionaries(
    {
        "court": st.sampled_from(["district", "circuit", "juvenile", ""]),
        "county": st.sampled_from(["Baltimore City", "Baltimore County", "federal", ""]),
        "case_status": st.sampled_from(["closed", "closed", "open", ""]),
    }
)


@st.composite
def _csv_cases(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Cases made from a few charges and case levels, so that many share a result row."""
    charges = draw(st.lists(CHARGE_ROWS, min_size=1, max_size=5))
    levels = draw(st.lists(CASE_LEVELS, min_size=1, max_size=3))
    picks = st.lists(st.sampled_from(charges), min_size=1, max_size=4)
    return [
        draw(st.sampled_from(levels)) | {"charges": draw(picks)}
        for _ in range(draw(st.integers(1, 12)))
    ]


def _case_rows(number: str, case: dict[str, Any]) -> list[dict[str, str]]:
    level = {k: case[k] for k in ("court", "county", "case_status")}
    return [
        level | charge | {"case_number": number, "charge_number": str(i + 1)}
        for i, charge in enumerate(case["charges"])
    ]


def _screen_csv(tmp: Path, rows: list[dict[str, str]], as_of: str) -> dict[str, dict[str, str]]:
    src = tmp / "records.csv"
    src.write_text(_csv(rows))
    result = run([str(src), "--as-of", as_of])
    widths = {len(row) for row in csv.reader(io.StringIO(result.stdout))}
    assert widths == {len(RESULT_COLUMNS)}, widths  # every cell written, the error's too
    return {r["case_number"]: r for r in csv.DictReader(io.StringIO(result.stdout))}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _csv_cases(),
    st.sampled_from(["2026-11-25", "2023-06-30", "2024-06-17"]),
    st.randoms(use_true_random=False),
)
def test_each_row_of_a_batch_is_what_the_case_gets_on_its_own(
    tmp_path_factory: pytest.TempPathFactory,
    cases: list[dict[str, Any]],
    as_of: str,
    rng: random.Random,
) -> None:
    tmp = tmp_path_factory.mktemp("batch")
    reordered = [
        case | {"charges": rng.sample(case["charges"], len(case["charges"]))} for case in cases
    ]
    numbered = [(f"C{i}", case) for i, case in enumerate(cases + reordered)]
    rows = [row for number, case in numbered for row in _case_rows(number, case)]
    if rng.random() < 0.3:
        rng.shuffle(rows)  # the rows of one case need not be next to each other

    batch = _screen_csv(tmp, rows, as_of)

    for number, _ in numbered:
        own_rows = [row for row in rows if row["case_number"] == number]
        alone = _screen_csv(tmp, own_rows, as_of)[number]
        assert batch[number] == alone
