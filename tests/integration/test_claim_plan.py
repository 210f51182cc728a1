"""The claim's plan on a table shaped like production: most rows long sent, their send times
past. The planner then overestimates the due rows a hundredfold; the claim must still walk the
due index and probe each row's earlier steps, never read the whole table."""

import psycopg

from shared.core.queries import sql
from tests.acceptance.bulk import long_sequences

PARAMS = {"limit": 200, "scan": 800, "lease": 300, "spacing": 0, "cap_retry": 900}


def test_claim_reads_the_due_index_not_the_table(fresh_database):
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        long_sequences(conn, contacts=5000, steps=10, due=500)
        with conn.transaction(force_rollback=True):
            plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql("claim-due-flows"), PARAMS))
        assert "Index Scan using outreach_flows_due_idx" in plan
        assert "Seq Scan on outreach_flows" not in plan, plan
        assert "Seq Scan on contacts" not in plan, plan
        with conn.transaction(force_rollback=True):
            claimed = conn.execute(sql("claim-due-flows"), PARAMS).fetchone()[0]
        assert len(claimed) == 200
