"""supabase/schema.sql is what the migrations make: a fresh database gets every migration, its
dump is normalised the way `make schema` does it, and the two must agree line for line."""

from __future__ import annotations

import re
import subprocess

import psycopg
import pytest

from local import schema


def _major(version: str) -> int:
    return int(re.search(r"(\d+)", version)[1])


def test_schema_file_is_what_the_migrations_make(fresh_database):
    tool = subprocess.run(
        [str(schema.pg_dump_path()), "--version"], capture_output=True, text=True, check=True
    )
    with psycopg.connect(fresh_database) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    if _major(tool.stdout.split()[-1]) != _major(server):
        pytest.skip(
            f"pg_dump {tool.stdout.strip()} does not match the server ({server}): dumps differ by version"
        )
    expected = schema.dump(fresh_database)
    current = schema.SCHEMA_FILE.read_text(encoding="utf-8")
    if current != expected:
        pytest.fail(
            "supabase/schema.sql differs from the migrations; run `make schema` and commit the result:\n"
            + schema.difference(current, expected),
            pytrace=False,
        )


def test_the_file_holds_the_current_definitions_only():
    text = schema.SCHEMA_FILE.read_text(encoding="utf-8")
    # One definition per object, the latest: the view as the last migration left it, and no
    # pg_dump noise that would change between runs or versions.
    assert text.count("CREATE VIEW public.campaign_stats") == 1
    assert "CREATE POLICY" in text and "GRANT SELECT ON TABLE public.campaigns TO authenticated;" in text
    assert not re.search(r"^(SET |\\restrict|-- Dumped)", text, re.M)


def test_normalise_drops_pg_dump_noise_and_keeps_function_bodies():
    raw = (
        "--\n-- PostgreSQL database dump\n--\n\\restrict abc123\n\nSET statement_timeout = 0;\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n\n\n\n"
        "--\n-- Name: f(); Type: FUNCTION; Schema: public; Owner: -\n--\n\n"
        "CREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS $$\n-- kept: the body's own comment\n"
        "UPDATE t\nSET status = 'x'\n$$;\n\\unrestrict abc123\n"
    )
    assert schema.normalise(raw) == schema.HEADER + (
        "\nCREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS $$\n-- kept: the body's own comment\n"
        "UPDATE t\nSET status = 'x'\n$$;\n"
    )
