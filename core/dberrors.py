"""What a database error means for the person waiting: an outage, or a clash with another
request. The 500 handler answers the first with 503 and the second with 409; the API's
error handler answers a clash with 409 too."""

from django.db import InterfaceError, OperationalError

# SQLSTATEs that mean "the database cannot be reached or takes no work now": class 08
# (connection exception), class 53 (insufficient resources, such as too many connections),
# and 57P01-57P03 (the server is shutting down or starting).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")
# SQLSTATEs of a clash with another transaction: serialisation failure, deadlock, a lock
# not available (NOWAIT or lock_timeout). Retrying the request is the remedy.
_CONFLICT_SQLSTATES = ("40001", "40P01", "55P03")
# SQLite's (extended) error names start with these.
_SQLITE_UNAVAILABLE = ("SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_IOERR")
_SQLITE_CONFLICT = ("SQLITE_BUSY", "SQLITE_LOCKED")


def _driver_codes(error: BaseException) -> tuple[str | None, str | None]:
    """(SQLSTATE, SQLite error name) of the driver's error behind a Django database error."""
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate, getattr(cause, "sqlite_errorname", None)


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached, as opposed to a bad query, a
    broken constraint or a clash with another request."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    sqlstate, sqlite_name = _driver_codes(error)
    if sqlstate:
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    if sqlite_name:
        return sqlite_name.startswith(_SQLITE_UNAVAILABLE)
    # No code at all: the driver could not talk to a server (refused, closed, timed out).
    return True


def concurrent_conflict(error: BaseException) -> bool:
    """Whether `error` is a clash with another transaction (deadlock, serialisation)."""
    if not isinstance(error, OperationalError):
        return False
    sqlstate, sqlite_name = _driver_codes(error)
    if sqlstate:
        return sqlstate in _CONFLICT_SQLSTATES
    return bool(sqlite_name and sqlite_name.startswith(_SQLITE_CONFLICT))
