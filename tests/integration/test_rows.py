"""The typed rows name exactly the columns of their statements: a field added to a class
without its column (or the other way round) fails here, before any send or scrape reaches it."""

from __future__ import annotations

import dataclasses
import uuid

import psycopg
import pytest

from shared.core.queries import sql
from shared.discovery.rows import ScrapeContext
from shared.drafting.rows import DraftContext
from shared.sending.rows import Claim, Reaped, SendContext

ANY = uuid.uuid4()
STATEMENTS = [
    ("load-send-context", SendContext, {"ids": []}),
    ("claim-due-flows", Claim, {"limit": 0, "scan": 0, "lease": 300, "spacing": 0, "cap_retry": 900}),
    ("reap-expired-leases", Reaped, {"max_attempts": 5}),
    ("get-scrape-context", ScrapeContext, {"id": ANY}),
    ("get-draft-context", DraftContext, {"campaign_id": ANY, "contact_id": ANY}),
]


@pytest.mark.parametrize(("name", "row_class", "params"), STATEMENTS, ids=[s[0] for s in STATEMENTS])
def test_row_class_names_every_column_of_its_statement(database_url, name, row_class, params):
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(sql(name), params)
        columns = [c.name for c in cur.description or []]
        conn.rollback()  # nothing a statement changed stays
    assert columns == [f.name for f in dataclasses.fields(row_class)]
