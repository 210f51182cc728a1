"""What every function uses: configuration, the database pool and named queries, the HTTP layer,
logs, user tokens (auth), the row work queue (work) and how a row-driven stage is triggered."""
