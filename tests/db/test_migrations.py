from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from db.engine import make_engine
from db.migrate import current_revisions, downgrade, head_revisions, is_at_head, upgrade
from db.models import Base


def _drift(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_reach_head_on_an_empty_database_and_match_the_models(
    empty_database_factory, backend
):
    url = empty_database_factory(backend)

    upgrade(url)

    engine = make_engine(url)
    try:
        assert is_at_head(engine)
        assert current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()
    assert _drift(url) == []


def test_migrations_round_trip_down_to_base_and_up_again(empty_database_factory, backend):
    url = empty_database_factory(backend)
    upgrade(url)

    downgrade(url, "base")
    engine = make_engine(url)
    try:
        assert current_revisions(engine) == set()
    finally:
        engine.dispose()
    upgrade(url)

    assert _drift(url) == []


def test_there_is_exactly_one_head():
    assert len(head_revisions()) == 1
