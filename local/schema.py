"""supabase/schema.sql: the whole current schema, dumped from a freshly migrated database.

The migrations are the history; this file is the present. It is made, never written by hand:
a throwaway database on the embedded server gets every migration, pg_dump (the one pgserver
ships, so its version matches the server's) dumps the project's schemas with their
grants, and what varies from run to run or version to version is taken out.

    python -m local.schema            rewrite supabase/schema.sql (`make schema`)
    python -m local.schema --check    exit 1 with a diff when the file and the migrations disagree
"""

from __future__ import annotations

import argparse
import difflib
import re
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from local import migrate

SCHEMA_FILE = migrate.SUPABASE_DIR / "schema.sql"
# Not the project's: auth and vault are Supabase's (made locally by supabase/bootstrap/),
# supabase_migrations is the CLI's bookkeeping. Excluded rather than the project's schemas
# selected: pg_dump leaves out default privileges that name no schema when schemas are selected.
OTHERS = ("auth", "vault", "supabase_migrations")
HEADER = (
    "-- The whole current schema, made from supabase/migrations/ by `make schema`: never edit it by hand.\n"
    "-- A new migration replaces a definition (CREATE OR REPLACE, DROP and CREATE) rather than wrapping\n"
    "-- it; tests/integration/test_schema_file.py fails when this file and the migrations disagree.\n"
)

# pg_dump's own noise, line by line: its comments, the session settings of its preamble and
# before tables, and the \restrict guard newer versions add with a random key. Function bodies
# are kept verbatim, so only these exact shapes are dropped.
_NOISE = re.compile(
    r"^(?:--$"
    r"|-- (?:Name|Data for Name|TOC entry|Dumped (?:from|by)|PostgreSQL database dump)\b.*"
    r"|SET (?:statement_timeout|lock_timeout|idle_in_transaction_session_timeout|transaction_timeout"
    r"|client_encoding|standard_conforming_strings|check_function_bodies|xmloption|client_min_messages"
    r"|row_security|default_tablespace|default_table_access_method) = .*;"
    r"|SELECT pg_catalog\.set_config\('search_path', '', false\);"
    r"|\\(?:un)?restrict \S+)$"
)


def pg_dump_path() -> Path:
    from local.embedded import _pgserver

    return Path(_pgserver().__file__).parent / "pginstall" / "bin" / "pg_dump"


def normalise(dump: str) -> str:
    """pg_dump's output without what differs between runs, blank lines collapsed, with the header."""
    lines = [line.rstrip() for line in dump.splitlines() if not _NOISE.match(line)]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return HEADER + "\n" + text + "\n"


def dump(url: str) -> str:
    """The normalised schema of the database at url."""
    args = [str(pg_dump_path()), "--schema-only", "--no-owner", "--no-tablespaces"]
    args += [f"--exclude-schema={name}" for name in OTHERS]
    # Connection settings as pg_dump's own keywords (a libpq connection string), not psycopg's URL.
    conninfo = make_conninfo(**{k: v for k, v in conninfo_to_dict(url).items() if v is not None})
    result = subprocess.run([*args, "--dbname", conninfo], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {result.stderr.strip()}")
    return normalise(result.stdout)


def render(server_url: str) -> str:
    """Migrate a new database on the server at server_url, dump it, and drop it."""
    name = f"outreach_schema_{secrets.token_hex(4)}"
    admin = make_conninfo(server_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(server_url, dbname=name)
        migrate.apply(url)
        return dump(url)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def difference(current: str, expected: str) -> str:
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            "supabase/schema.sql",
            "the migrations",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.schema", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare instead of writing; exit 1 on a difference"
    )
    args = parser.parse_args(argv)

    from local import embedded
    from shared.core.config import get_settings

    # Always the embedded server: its pg_dump is the one that matches it.
    server = embedded.start((get_settings().data_dir / "pg").resolve())
    expected = render(server)
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    if args.check:
        if current != expected:
            sys.stdout.write(difference(current, expected))
            print("supabase/schema.sql differs from the migrations: run `make schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(expected, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE.relative_to(migrate.ROOT)} ({expected.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
