"""POST /api/v1/screen: the screening contract over HTTP, and bad input refused plainly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from knowledge import PATHWAY_IDS, RULES_VERSION
from webhooks.app import create_app

CASE: dict[str, Any] = {
    "as_of": "2026-11-25",
    "case_number": "0B01234567",
    "court": "district",
    "county": "Baltimore City",
    "case_status": "closed",
    "charges": [
        {
            "description": "CDS: POSS-MARIJUANA",
            "statute": "CR.5.601.(a)(1)",
            "category": None,
            "offense_date": "2016-04-02",
            "disposition": "GUILTY",
            "disposition_date": "2016-06-10",
            "sentence_completed_on": "2017-06-10",
            "probation_violation": False,
        }
    ],
    "person": {"date_of_birth": None, "pending_case": False, "later_convictions": []},
    "record_status": {"expunged": False, "pardoned": None, "shielded": None},
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    app: Flask = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}", "TESTING": True})
    if "screen_api" not in app.blueprints:  # until the lead registers it in create_app
        from webhooks.api import bp

        app.register_blueprint(bp)
    with app.test_client() as c:
        yield c


def _post(client: FlaskClient, body: bytes | str, **kw: Any) -> Any:
    return client.post(
        "/api/v1/screen", data=body, content_type=kw.pop("content_type", "application/json"), **kw
    )


def test_one_case_in_gives_the_contract_object_out(client: FlaskClient) -> None:
    response = _post(client, json.dumps(CASE))

    body = response.get_json()
    assert response.status_code == 200
    assert body["as_of"] == "2026-11-25"
    assert body["rules_version"] == RULES_VERSION
    assert body["case_number"] == "0B01234567"
    assert body["charges"] == [
        {"index": 0, "category": "cannabis_possession", "disposition": "guilty"}
    ]
    assert [p["id"] for p in body["pathways"]] == list(PATHWAY_IDS)
    assert body["verdict"]["status"] == "act_now"
    assert set(body["pathways"][0]) == {
        "id", "status", "eligible_on", "charges", "citations", "reasons", "next_steps",
    }  # fmt: skip


def test_an_array_in_gives_an_array_out(client: FlaskClient) -> None:
    response = _post(client, json.dumps([CASE, CASE | {"case_number": "2"}]))

    assert response.status_code == 200
    assert [r["case_number"] for r in response.get_json()] == ["0B01234567", "2"]


def test_a_bad_date_is_a_400_naming_the_field(client: FlaskClient) -> None:
    charge = CASE["charges"][0] | {"disposition_date": "06/10/2016"}

    response = _post(client, json.dumps(CASE | {"charges": [charge]}))

    assert response.status_code == 400
    assert response.get_json()["field"] == "charges[0].disposition_date"
    assert "YYYY-MM-DD" in response.get_json()["error"]


def test_a_bad_case_in_an_array_names_its_position(client: FlaskClient) -> None:
    response = _post(client, json.dumps([CASE, CASE | {"county": "Atlantis"}]))

    assert response.status_code == 400
    assert response.get_json()["field"] == "[1].county"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00{", "not UTF-8"),
        (b"[]", "empty"),
        (b'"just text"', "JSON object"),
        (b"42", "JSON object"),
        (b'{"charges": [], "county": "Baltimore City"}', "at least one charge"),
        (b'{"charges": [{"disposition": "GUILTY", "dispostion": "x"}]}', "not a known field"),
        (b'{"charges": [{"offense_date": NaN}]}', "not valid JSON"),
    ],
)
def test_malformed_bodies_get_a_plain_400(client: FlaskClient, body: bytes, message: str) -> None:
    response = _post(client, body)

    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_a_body_after_a_utf8_byte_order_mark_is_read(client: FlaskClient) -> None:
    response = _post(client, b"\xef\xbb\xbf" + json.dumps(CASE).encode())

    assert response.status_code == 200
    assert response.get_json()["case_number"] == "0B01234567"


def test_a_100000_character_field_is_a_400_naming_it(client: FlaskClient) -> None:
    case = json.loads(json.dumps(CASE))
    case["charges"][0]["description"] = "X" * 100_000

    response = _post(client, json.dumps(case))

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "is longer than 500 characters",
        "field": "charges[0].description",
    }


def test_a_lone_surrogate_in_a_field_is_screened_not_crashed(client: FlaskClient) -> None:
    case = json.loads(json.dumps(CASE))
    case["charges"][0]["description"] += " \ud800"

    response = _post(client, json.dumps(case))

    assert response.status_code == 200
    assert response.get_json()["verdict"]["status"] == "act_now"


def test_duplicated_keys_are_refused_as_forged(client: FlaskClient) -> None:
    body = json.dumps(CASE)[:-1] + ', "county": "federal"}'

    response = _post(client, body)

    assert response.status_code == 400
    assert "appears twice" in response.get_json()["error"]


def test_a_huge_body_gets_413(client: FlaskClient) -> None:
    charge = CASE["charges"][0] | {"description": "X" * 400}
    body = json.dumps([CASE | {"charges": [charge] * 100}] * 40)

    response = _post(client, body)

    assert len(body) > 1024 * 1024
    assert response.status_code == 413
    assert "larger than" in response.get_json()["error"]


def test_too_many_charges_in_one_case_is_a_400(client: FlaskClient) -> None:
    response = _post(client, json.dumps(CASE | {"charges": CASE["charges"] * 201}))

    assert response.status_code == 400
    assert response.get_json()["field"] == "charges"


def test_a_non_json_content_type_gets_415(client: FlaskClient) -> None:
    response = _post(client, json.dumps(CASE), content_type="text/plain")

    assert response.status_code == 415


def test_get_is_not_allowed(client: FlaskClient) -> None:
    assert client.get("/api/v1/screen").status_code == 405


def test_without_as_of_the_adapter_uses_today(client: FlaskClient) -> None:
    body = {k: v for k, v in CASE.items() if k != "as_of"}

    response = _post(client, json.dumps(body))

    assert response.status_code == 200
    assert response.get_json()["as_of"] >= "2026-01-01"


def test_deeply_nested_json_is_a_400_not_a_crash(client: FlaskClient) -> None:
    body = "[" * 100_000 + "]" * 100_000

    response = _post(client, body)

    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["error"]
