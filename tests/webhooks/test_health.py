from __future__ import annotations

from sqlalchemy import text

from webhooks.app import create_app


def test_healthz_answers_without_touching_the_database(tmp_path):
    # A database URL that cannot be opened: liveness must not care.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/\0bad.db"})

    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ok_on_a_migrated_database(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["migrations"] == "head"


def test_readyz_is_503_before_migrations(empty_database_factory):
    app = create_app({"DATABASE_URL": empty_database_factory("sqlite")})

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["migrations"] == "behind"


def test_readyz_is_503_when_the_database_is_unreachable():
    app = create_app(
        {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"}
    )

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_readyz_notices_a_database_rolled_back_by_hand(app, engine, backend):
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    try:
        response = app.test_client().get("/readyz")
    finally:
        from db.migrate import head_revisions

        (head,) = head_revisions()
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})

    assert response.status_code == 503
