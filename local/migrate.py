"""Applies supabase/migrations/ as the Supabase CLI does, for local and test databases.

Each file is applied once, in its own transaction, and recorded in
supabase_migrations.schema_migrations (the CLI's own table), so `supabase db push` and this
runner agree on what a database has. The first failing file stops the run with its name.

    python -m local.migrate            apply what is missing to DATABASE_URL (or the embedded database)
    python -m local.migrate --reset    delete the embedded database and start it again, with the seed
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from shared.core.config import ROOT

SUPABASE_DIR = ROOT / "supabase"
MIGRATIONS_DIR = SUPABASE_DIR / "migrations"
# What a Supabase project has before any migration, made where it is missing: the table that
# tells whether it is there, and the file that makes it.
BOOTSTRAP = (
    ("auth.users", SUPABASE_DIR / "bootstrap" / "auth.sql"),
    ("vault.secrets", SUPABASE_DIR / "bootstrap" / "vault.sql"),
)
SEED = SUPABASE_DIR / "seed.sql"
_FILENAME = re.compile(r"^(\d{14})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_046_311_226  # advisory lock: one runner at a time per database


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: a migration is named <14-digit timestamp>_<name>.sql")
        found.append(Migration(match[1], match[2], path))
    return found


def _bootstrap(conn: psycopg.Connection) -> None:
    for table, path in BOOTSTRAP:
        if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]:
            conn.execute(path.read_text(encoding="utf-8"))


def apply(url: str, directory: Path = MIGRATIONS_DIR, echo=None) -> list[str]:
    """Apply every migration the database lacks; return the versions applied."""
    migrations = discover(directory)
    applied: list[str] = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            with conn.transaction():
                _bootstrap(conn)
                conn.execute("CREATE SCHEMA IF NOT EXISTS supabase_migrations")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations"
                    " (version text PRIMARY KEY, statements text[], name text)"
                )
            done = {r[0] for r in conn.execute("SELECT version FROM supabase_migrations.schema_migrations")}
            for migration in migrations:
                if migration.version in done:
                    continue
                text = migration.path.read_text(encoding="utf-8")
                try:
                    with conn.transaction():
                        conn.execute(text)
                        conn.execute(
                            "INSERT INTO supabase_migrations.schema_migrations (version, statements, name)"
                            " VALUES (%s, %s, %s)",
                            (migration.version, [text], migration.name),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"{migration.path.name} failed and was rolled back: {exc}") from exc
                applied.append(migration.version)
                if echo:
                    echo(f"applied {migration.path.name}")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def apply_seed(url: str) -> None:
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn, conn.transaction():
        conn.execute(SEED.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reset", action="store_true", help="delete and recreate the embedded database, with the seed"
    )
    parser.add_argument("--seed", action="store_true", help="also load supabase/seed.sql")
    args = parser.parse_args(argv)

    from local import embedded
    from shared.core.config import get_settings

    settings = get_settings()
    try:
        if args.reset:
            if settings.database_url:
                print("--reset only works on the embedded database; unset DATABASE_URL", file=sys.stderr)
                return 2
            embedded.reset(settings.data_dir)
            print(f"reset the embedded database under {settings.data_dir / 'pg'}")
            return 0
        url = settings.database_url or embedded.start((settings.data_dir / "pg").resolve())
        versions = apply(url, echo=print)
        print(f"{len(versions)} migration(s) applied, database up to date")
        if args.seed:
            apply_seed(url)
            print("seed loaded")
    except MigrationError as exc:
        print(f"migration failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
