from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.webhooks.test_config import PRODUCTION_ENV
from webhooks.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def run(database_url, db_session, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RECORDCHECK_HMAC_KEY", "cli-test-key")

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args))

    return invoke


def test_import_prints_a_summary_and_lookup_shows_the_case(run):
    imported = run("records", "import", str(FIXTURES / "records.csv"))
    found = run("records", "lookup", "1d-0999-0002")

    assert imported.exit_code == 0, imported.output
    assert "cases: 3 added" in imported.output
    assert "skipped: 1" in imported.output
    assert found.exit_code == 0, found.output
    assert "Case 1D09990002: district court, Baltimore City" in found.output
    assert "POSSESSION OF MARIHUANA" in found.output


def test_import_of_case_harvester_tables_with_auto_format(run):
    paths = [str(p) for p in sorted((FIXTURES / "caseharvester").iterdir())]

    result = run("records", "import", "--format", "auto", *paths)

    assert result.exit_code == 0, result.output
    assert "cases: 6 added" in result.output


def test_bad_rows_are_listed_with_file_and_line_and_exit_1(run, tmp_path):
    path = tmp_path / "bad.csv"
    lines = (FIXTURES / "records.csv").read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], "0B1,district"]) + "\n")

    result = run("records", "import", str(path))

    assert result.exit_code == 1
    assert f"{path}:3: row has 2 fields, the header has 16" in result.output
    assert "cases: 1 added" in result.output


def test_lookup_json_with_the_right_birth_date(run):
    run("records", "import", str(FIXTURES / "records.csv"))
    run("records", "import", "--program", "bcsao-2019-vacatur", str(FIXTURES / "program.csv"))

    result = run("records", "lookup", "0B09990001", "--dob", "1980-07-15", "--json")

    payload = json.loads(result.output)
    assert result.exit_code == 0
    assert payload["status"] == "found"
    assert payload["case"]["person"]["date_of_birth"] is None
    assert payload["programs"][0]["program"] == "bcsao-2019-vacatur"
    assert payload["screening"]["case_number"] == "0B09990001"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["0B09990001"], id="birth-date-needed"),
        pytest.param(["0B09990001", "--dob", "1980-07-16"], id="wrong-birth-date"),
        pytest.param(["9Z99999999", "--dob", "1980-07-15"], id="unknown-case"),
        pytest.param([""], id="empty"),
        pytest.param(["0" * 100_000], id="huge"),
        pytest.param(["0B0999\x000001", "--dob", "1980-07-15"], id="nul"),
    ],
)
def test_lookup_exits_3_with_one_message_when_not_found_or_not_verified(run, args):
    run("records", "import", str(FIXTURES / "records.csv"))

    result = run("records", "lookup", *args)

    assert result.exit_code == 3
    assert "Not found, or the date of birth does not match" in result.output
    assert "SAMPLE" not in result.output


def test_lookup_rejects_a_malformed_birth_date(run):
    result = run("records", "lookup", "0B09990001", "--dob", "15/07/1980")

    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_import_rejects_a_bad_program_name_and_a_missing_file(run, tmp_path):
    bad_name = run("records", "import", "--program", "no spaces!", str(FIXTURES / "program.csv"))
    missing = run("records", "import", str(tmp_path / "nope.csv"))

    assert bad_name.exit_code == 2
    assert missing.exit_code == 1
    assert "cannot read the file" in missing.output


def test_demo_data_if_empty_loads_once(run):
    first = run("demo-data", "--cases", "30", "--seed", "4", "--if-empty")
    second = run("demo-data", "--cases", "30", "--seed", "4", "--if-empty")

    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.output
    assert second.exit_code == 0
    assert "demo data not loaded: the database already holds" in second.output


def test_demo_data_out_writes_csv_files_that_import_cleanly(run, tmp_path):
    written = run("demo-data", "--cases", "25", "--seed", "9", "--out", str(tmp_path))
    with (tmp_path / "records.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    imported = run("records", "import", str(tmp_path / "records.csv"))

    assert written.exit_code == 0
    assert len(rows) >= 25
    assert imported.exit_code == 0, imported.output


def test_demo_data_rejects_a_negative_count(run):
    assert run("demo-data", "--cases", "-1").exit_code == 2


def test_lookup_screens_a_case_whose_offense_date_is_after_its_disposition(run, tmp_path):
    lines = (FIXTURES / "records.csv").read_text().splitlines()
    path = tmp_path / "slip.csv"
    path.write_text(
        lines[0] + "\n"
        "0B09990077,district,Baltimore City,closed,2015-03-02,,,1,CDS: POSS-MARIJUANA,"
        "CR.5.601.(a)(1),2015-06-01,GUILTY,2015-05-01,2015-11-01,false,false\n"
    )
    run("records", "import", str(path))

    shown = run("records", "lookup", "0B09990077")
    as_json = run("records", "lookup", "0B09990077", "--json")

    assert shown.exit_code == 0, shown.output
    assert "Screening: automatic: This case should already be cleared." in shown.output
    assert json.loads(as_json.output)["screening"]["case_number"] == "0B09990077"


def test_lookup_screens_as_of_today_in_baltimore_whatever_the_hosts_zone(run, monkeypatch):
    import datetime as dt
    import time
    from zoneinfo import ZoneInfo

    baltimore = dt.datetime.now(ZoneInfo("America/New_York")).date()
    # One of the two zones furthest from UTC always has another date than Baltimore.
    zone = next(
        z for z in ("Etc/GMT-14", "Etc/GMT+12") if dt.datetime.now(ZoneInfo(z)).date() != baltimore
    )
    run("records", "import", str(FIXTURES / "records.csv"))
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        result = run("records", "lookup", "1D09990002", "--json")
    finally:
        monkeypatch.undo()
        time.tzset()

    assert json.loads(result.output)["screening"]["as_of"] == baltimore.isoformat()


def test_lookup_says_why_a_record_cannot_be_screened(run, tmp_path):
    header = (FIXTURES / "records.csv").read_text().splitlines()[0]
    rows = [
        f"0B09990088,district,Baltimore City,closed,2015-03-02,,,{n},CDS: POSS-MARIJUANA,"
        "CR.5.601.(a)(1),2015-03-01,GUILTY,2015-05-01,,false,false"
        for n in range(1, 202)
    ]
    path = tmp_path / "many.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    run("records", "import", str(path))

    shown = run("records", "lookup", "0B09990088")

    assert shown.exit_code == 0, shown.output
    assert "Screening: this record cannot be screened (charges: has more than 200" in shown.output
    assert "not available in this build" not in shown.output


def test_demo_data_refuses_to_load_invented_cases_into_production(monkeypatch, tmp_path):
    """Invented cases with real-looking numbers in a live database: a resident could be told
    about a case that does not exist. Writing them as files stays allowed."""
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)  # its database host does not exist: nothing connects

    loaded = CliRunner().invoke(cli, ["demo-data", "--cases", "5"])
    written = CliRunner().invoke(cli, ["demo-data", "--cases", "5", "--out", str(tmp_path)])

    assert loaded.exit_code == 1
    assert "does not load invented records into a production database" in loaded.output
    assert "--out DIR" in loaded.output
    assert written.exit_code == 0, written.output
    assert (tmp_path / "records.csv").exists()
