"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset: local runs and tests only."""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from pathlib import Path

from shared.core.logs import get_logger

log = get_logger(__name__)
_started: dict[Path, str] = {}
_lock = threading.Lock()


def _pgserver():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


def start(pgdata: Path) -> str:
    """Start the server in pgdata (or reuse the one running there) and return its URL."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None leaves the server running after this process, like a real database.
    server = _pgserver().get_server(pgdata, cleanup_mode=None)
    # pgserver hands back its cached handle for a data directory, even if the server behind it
    # was stopped since: make sure it runs.
    with server._lock:
        server.ensure_postgres_running()
    return server.get_uri()


def stop(pgdata: Path) -> None:
    """Stop the server in pgdata, if one runs there ("fast": open connections are cut)."""
    if not (pgdata / "postmaster.pid").exists():
        return
    from pgserver import _commands

    user = "pgserver" if os.geteuid() == 0 else None
    _commands.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=user)
    _started.pop(pgdata.resolve(), None)


def ensure_started(data_dir: Path) -> str:
    """The local database under data_dir/pg, started and migrated once per process."""
    pgdata = (data_dir / "pg").resolve()
    with _lock:
        if pgdata not in _started:
            url = start(pgdata)
            from local import migrate

            migrate.apply(url)
            _started[pgdata] = url
            log.info("embedded postgresql ready", extra={"pgdata": str(pgdata)})
        return _started[pgdata]


def reset(data_dir: Path) -> str:
    """Delete the local database and start again with every migration and the demo seed."""
    pgdata = (data_dir / "pg").resolve()
    stop(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)
    url = ensure_started(data_dir)
    from local import migrate

    migrate.apply_seed(url)
    return url
