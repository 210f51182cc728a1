"""The migration runner: applies each file once, in its own transaction, and stops on failure."""

from __future__ import annotations

import secrets
import shutil

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from local import migrate


@pytest.fixture
def scratch_url(database_url):
    params = conninfo_to_dict(database_url)
    name = f"scratch_{secrets.token_hex(4)}"
    server = make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(database_url, dbname=name)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert params


def test_failing_migration_stops_the_run_and_rolls_back(scratch_url, tmp_path):
    for m in migrate.discover():
        shutil.copy(m.path, tmp_path / m.path.name)
    (tmp_path / "29990101000000_broken.sql").write_text(
        "CREATE TABLE public.half_done (id int);\nSELECT * FROM no_such_table;\n"
    )
    (tmp_path / "29990101000100_after.sql").write_text("CREATE TABLE public.never (id int);\n")
    with pytest.raises(migrate.MigrationError, match="29990101000000_broken.sql"):
        migrate.apply(scratch_url, tmp_path)
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute(
            "SELECT to_regclass('public.half_done'), to_regclass('public.never')"
        ).fetchone() == (
            None,
            None,
        )
        versions = [r[0] for r in conn.execute("SELECT version FROM supabase_migrations.schema_migrations")]
    assert "29990101000000" not in versions
    assert len(versions) == len(migrate.discover())


def test_runner_applies_only_what_is_missing(scratch_url):
    first = migrate.apply(scratch_url)
    assert first == [m.version for m in migrate.discover()]
    assert migrate.apply(scratch_url) == []


def test_badly_named_migration_is_refused(tmp_path):
    (tmp_path / "add_things.sql").write_text("SELECT 1;")
    with pytest.raises(migrate.MigrationError, match="14-digit timestamp"):
        migrate.discover(tmp_path)
