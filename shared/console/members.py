"""Statements run as the signed-in person, as PostgREST runs them: one transaction, role
`authenticated`, `request.jwt.claims` holding their verified token's claims. Grants and row level
security are the only authority; nothing here decides who may do what."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors

from shared.core import auth, db
from shared.core.http import HttpError


@contextmanager
def transaction(user: auth.User) -> Iterator[psycopg.Connection]:
    """A pooled connection in one transaction as `user`; the role and claims end with it."""
    try:
        with db.transaction() as conn:
            db.fetch_one(conn, "console_as_member", claims=json.dumps(user.claims))
            yield conn
    except errors.InsufficientPrivilege as exc:
        raise HttpError(403, "forbidden", f"refused by the database: {_message(exc)}") from None
    except (errors.CheckViolation, errors.InvalidParameterValue, errors.RaiseException) as exc:
        raise HttpError(400, "refused", _message(exc)) from None
    except (errors.StringDataRightTruncation, errors.NotNullViolation, errors.UniqueViolation) as exc:
        raise HttpError(400, "refused", _message(exc)) from None
    except errors.NoDataFound as exc:
        raise HttpError(404, "not_found", _message(exc)) from None
    except errors.QueryCanceled:
        raise HttpError(503, "timeout", "the database took too long; try a narrower view") from None


def _message(exc: psycopg.Error) -> str:
    # The primary message only: PostgreSQL's detail lines may quote a whole row.
    return exc.diag.message_primary or type(exc).__name__
