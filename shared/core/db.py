"""The connection pool (one per process) and the small API the domain modules use.

Supabase's transaction pooler cannot keep prepared statements, hence `prepare_threshold=None`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, overload

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool

from shared.core.config import ConfigError, get_settings
from shared.core.queries import sql

# A row's class: a dataclass (cheap to build, for hot paths such as send_due's) or a pydantic
# model (validated). Its fields are the statement's columns, by name; a column the class does
# not name, or a field the statement does not select, fails at once (TypeError) in the tests.
M = TypeVar("M")
Row = dict[str, Any]

_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()


def database_url() -> str:
    settings = get_settings()
    if not settings.database_url:
        # Local runs, tests and benchmarks start an embedded PostgreSQL (local/) and set it.
        raise ConfigError("invalid configuration: DATABASE_URL is required")
    return settings.database_url


def connect(url: str | None = None, **kwargs: Any) -> psycopg.Connection:
    """A connection outside the pool, for migrations and tools."""
    return psycopg.connect(url or database_url(), prepare_threshold=None, **kwargs)


def pool() -> ConnectionPool:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                size = get_settings().db_pool_size
                _pool = ConnectionPool(
                    database_url(),
                    min_size=1,
                    max_size=size,
                    kwargs={"prepare_threshold": None},
                    # A connection that died with a database restart is replaced, not handed out.
                    check=ConnectionPool.check_connection,
                    open=True,
                    name="outreach",
                )
    return _pool


def close_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """A pooled connection in one transaction: committed on success, rolled back on error."""
    with pool().connection() as conn, conn.transaction():
        yield conn


@contextmanager
def session() -> Iterator[psycopg.Connection]:
    """A pooled connection held for a run of statements, each its own transaction (autocommit):
    one round trip per statement instead of BEGIN, statement, COMMIT."""
    with pool().connection() as conn:
        conn.autocommit = True
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.autocommit = False


@overload
def fetch_one(conn: psycopg.Connection, name: str, /, **params: Any) -> Row | None: ...
@overload
def fetch_one(conn: psycopg.Connection, name: str, model: type[M], /, **params: Any) -> M | None: ...
def fetch_one(conn: psycopg.Connection, name: str, model: type[M] | None = None, /, **params: Any) -> Any:
    """The statement's first row: a dict by default, an instance of `model` when given."""
    factory: Any = class_row(model) if model else dict_row
    with conn.cursor(row_factory=factory) as cur:
        cur.execute(sql(name), params)
        return cur.fetchone()


@overload
def fetch_row(conn: psycopg.Connection, name: str, /, **params: Any) -> Row: ...
@overload
def fetch_row(conn: psycopg.Connection, name: str, model: type[M], /, **params: Any) -> M: ...
def fetch_row(conn: psycopg.Connection, name: str, model: type[M] | None = None, /, **params: Any) -> Any:
    """The one row of a statement that always answers one (an INSERT ... RETURNING, an
    aggregate); a LookupError when it answers none, which means a bug, not bad input."""
    row = fetch_one(conn, name, model, **params) if model else fetch_one(conn, name, **params)
    if row is None:
        raise LookupError(f"the statement {name!r} answered no row")
    return row


@overload
def fetch_all(conn: psycopg.Connection, name: str, /, **params: Any) -> list[Row]: ...
@overload
def fetch_all(conn: psycopg.Connection, name: str, model: type[M], /, **params: Any) -> list[M]: ...
def fetch_all(conn: psycopg.Connection, name: str, model: type[M] | None = None, /, **params: Any) -> Any:
    """Every row of the statement: dicts by default, instances of `model` when given."""
    factory: Any = class_row(model) if model else dict_row
    with conn.cursor(row_factory=factory) as cur:
        cur.execute(sql(name), params)
        return cur.fetchall()


def execute(conn: psycopg.Connection, name: str, /, **params: Any) -> int:
    with conn.cursor() as cur:
        cur.execute(sql(name), params)
        return cur.rowcount
