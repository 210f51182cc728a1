"""The local stack, never deployed: embedded PostgreSQL, migrations, the local run (functions,
webhook relay, scheduler timer) and the fixture website."""
