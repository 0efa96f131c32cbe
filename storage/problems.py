"""What went wrong opening the database, in one line a person can act on.

``database_problem(exc, url)`` reads the exception (and its causes: SQLAlchemy wraps the
driver's error, which wraps asyncpg's) and answers a line such as
``database "nope" does not exist on 127.0.0.1:5432 (create it: createdb nope)``, or None
when the failure is not about reaching or opening the database (a bug: let it propagate).
No line holds a password.
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy.engine import URL, make_url

from storage import dialect

# PostgreSQL's SQLSTATE codes for the mistakes an operator makes in DATABASE_URL.
_NO_DATABASE = "3D000"
_BAD_ROLE = "28000"
_BAD_PASSWORD = "28P01"
_NOT_ALLOWED = "42501"
# Classes of SQLSTATE that say "the server would not take the connection".
_REFUSED_CLASSES = ("08", "53", "57")


def sqlite_path(url: str) -> Path | None:
    """The absolute path of an SQLite database file; None on PostgreSQL or in memory."""
    path = dialect.sqlite_file(url)
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).absolute()


def database_problem(exc: BaseException, url: str) -> str | None:
    for cause in _chain(exc):
        line = _problem(cause, url)
        if line is not None:
            return line
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _problem(exc: BaseException, url: str) -> str | None:
    if isinstance(exc, CommandError) and "Can't locate revision" in str(exc):
        return (
            f"the database's schema is at a revision this TinyDesk does not know ({exc}); "
            "it was upgraded by a newer TinyDesk: run that version, or point DATABASE_URL "
            "at another database"
        )
    path = sqlite_path(url)
    if isinstance(exc, sqlite3.Error) and path is not None:
        return _sqlite_problem(str(exc), path)
    parsed = make_url(url)
    if sqlite_path(url) is not None:
        return None  # what is left is PostgreSQL's
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and type(exc).__module__.startswith("asyncpg"):
        return _postgres_problem(sqlstate, str(exc).splitlines()[0], parsed)
    if isinstance(exc, socket.gaierror):
        return f'cannot reach the database: unknown host "{parsed.host}" (check DATABASE_URL)'
    if isinstance(exc, TimeoutError):
        return (
            f"cannot reach the database at {_where(parsed)}: no answer in time "
            "(check the host in DATABASE_URL and the firewall)"
        )
    if isinstance(exc, OSError):
        return f"cannot reach the database at {_where(parsed)}: {_reason(exc)}"
    return None


def _postgres_problem(sqlstate: str, message: str, url: URL) -> str | None:
    where = _where(url)
    if sqlstate == _NO_DATABASE:
        return f'database "{url.database}" does not exist on {where} (create it: {_createdb(url)})'
    if sqlstate == _BAD_PASSWORD:
        return (
            f'PostgreSQL at {where} refused the password of role "{url.username}" '
            "(check the password in DATABASE_URL)"
        )
    if sqlstate == _BAD_ROLE:
        return f"PostgreSQL at {where} refused the connection: {message} (check DATABASE_URL)"
    if sqlstate == _NOT_ALLOWED:
        return (
            f'role "{url.username}" may not create TinyDesk\'s tables in database '
            f'"{url.database}" on {where}: {message} (use the database\'s owner, or grant '
            f"CREATE on its schema to {url.username})"
        )
    if sqlstate.startswith(_REFUSED_CLASSES):
        return f"PostgreSQL at {where} refused the connection: {message}"
    return None


def _sqlite_problem(message: str, path: Path) -> str | None:
    opening = f"cannot open the SQLite database {path}"
    if "unable to open database file" in message:
        return f"{opening}: {why_not_openable(path)}"
    if "readonly database" in message:
        return f"cannot write the SQLite database {path}: the file or its directory is read-only"
    if "file is not a database" in message:
        return f"{opening}: the file is not an SQLite database (check DATABASE_URL)"
    if "database is locked" in message:
        return f"{opening}: another process holds it locked"
    if "disk I/O error" in message or "database or disk is full" in message:
        return f"{opening}: {message}"
    return None


def why_not_openable(path: Path) -> str:
    """Why SQLite could not open or create ``path``, as far as the file system tells."""
    if path.is_dir():
        return "it is a directory (DATABASE_URL must name a file)"
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{ancestor} is a file, not a directory"
            break
    if not path.parent.exists():
        return f"directory {path.parent} does not exist (create it, or fix DATABASE_URL)"
    if not path.exists() and not os.access(path.parent, os.W_OK | os.X_OK):
        return f"directory {path.parent} is not writable"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "the file is not readable and writable by this user"
    return "unable to open the file"


def _where(url: URL) -> str:
    host = url.host or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{url.port or 5432}"


def _createdb(url: URL) -> str:
    options = []
    if url.host and url.host not in ("localhost", "127.0.0.1", "::1"):
        options.append(f"-h {url.host}")
    if url.port and url.port != 5432:
        options.append(f"-p {url.port}")
    if url.username:
        options.append(f"-U {url.username}")
    return " ".join(["createdb", *options, str(url.database)])


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "connection refused (is PostgreSQL running there? check DATABASE_URL)"
    if exc.strerror:
        return exc.strerror.lower()
    # asyncpg tries every address of the host and raises one OSError for them all.
    if "Connect call failed" in str(exc):
        return "connection refused (is PostgreSQL running there? check DATABASE_URL)"
    return str(exc)
