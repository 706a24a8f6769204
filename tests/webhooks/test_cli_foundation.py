from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from db.engine import make_engine
from db.migrate import is_at_head
from webhooks.cli import cli

ROOT = Path(__file__).parents[2]


def test_db_upgrade_migrates_the_configured_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)

    result = CliRunner().invoke(cli, ["db", "upgrade"])

    engine = make_engine(url)
    try:
        assert result.exit_code == 0, result.output
        assert is_at_head(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("revision", "code", "message"),
    [
        ("garbage", 1, "Error: Can't locate revision identified by 'garbage'"),
        ("", 2, "name a revision, or leave the option out for head"),
    ],
    ids=["unknown", "empty"],
)
def test_db_upgrade_to_a_revision_that_does_not_exist_says_so_and_changes_nothing(
    tmp_path, monkeypatch, revision, code, message
):
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)

    result = CliRunner().invoke(cli, ["db", "upgrade", "--revision", revision])

    assert result.exit_code == code
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert message in result.output
    engine = make_engine(url)
    try:
        assert not is_at_head(engine)
    finally:
        engine.dispose()


def test_cli_reports_a_production_misconfiguration_without_a_traceback(monkeypatch):
    monkeypatch.setenv("RECORDCHECK_ENV", "production")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)

    result = CliRunner().invoke(cli, ["db", "upgrade"])

    assert result.exit_code == 1
    assert "TWILIO_AUTH_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_worker_says_at_start_which_channels_it_sends_on(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/w.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-token")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0

    result = CliRunner().invoke(cli, ["worker", "--once", "--interval", "2"])

    assert result.exit_code == 0, result.output
    assert "worker: sending telegram; checking the outbox every 2 s" in result.output
    assert "worker: not sending sms" in result.output


def test_worker_once_drains_an_empty_outbox_and_exits(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/w.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0

    result = CliRunner().invoke(cli, ["worker", "--once"])

    assert result.exit_code == 0, result.output


def test_unknown_command_and_bad_arguments_get_usage_errors():
    runner = CliRunner()

    assert runner.invoke(cli, ["frobnicate"]).exit_code == 2
    assert runner.invoke(cli, ["serve", "--port", "99999"]).exit_code == 2
    assert runner.invoke(cli, ["serve", "--port", ""]).exit_code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_starts_gunicorn_and_answers_health(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/s.sqlite3", "WEB_CONCURRENCY": "1"}
    recordcheck = Path(sys.executable).with_name("recordcheck")
    subprocess.run([str(recordcheck), "db", "upgrade"], env=env, cwd=tmp_path, check=True)
    process = subprocess.Popen(
        [str(recordcheck), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.1)
        assert body == b'{"status":"ok"}\n'
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_refuses_a_database_without_its_tables_and_says_how_to_fix_it(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/new.sqlite3"}
    recordcheck = Path(sys.executable).with_name("recordcheck")

    done = subprocess.run(
        [str(recordcheck), "serve", "--port", str(_free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "is not migrated; run: recordcheck db upgrade" in done.stderr
    assert "Traceback" not in done.stderr
    assert "serving" not in done.stderr
