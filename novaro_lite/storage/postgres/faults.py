"""What asyncpg's errors mean for a caller: PostgreSQL is away, busy or full, and whether the connection survived.

Only errors that say the database cannot be used right now become UnavailableError (503, or 507 for a
full disk); a constraint, a bad statement or a bad argument is a bug of ours and stays what it is. The
details (a socket path, a host) stay in the log: clients hear the kind of failure only.
"""

from __future__ import annotations

import asyncpg

from novaro_lite.errors import DatabaseUnavailableError, StorageFullError, UnavailableError

# The connection may be unusable after these (closed, mid-protocol after a crash: "cannot switch to state 12;
# another operation is in progress", or timed out with a statement still running): close it, never reuse it.
BROKEN = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.IdleInTransactionSessionTimeoutError,
)
# The database is there but cannot serve this now; the connection is fine once the transaction rolled back.
BUSY = (
    asyncpg.LockNotAvailableError,  # lock_timeout (settings.LOCK_WAIT)
    asyncpg.QueryCanceledError,  # statement_timeout, or a cancel by an operator
    asyncpg.TransactionRollbackError,  # a deadlock or serialization failure
    asyncpg.InsufficientResourcesError,  # too many connections, out of memory (a full disk is told apart)
    asyncpg.ReadOnlySQLTransactionError,  # a standby, or a primary being demoted
)


def is_broken(exc: BaseException) -> bool:
    return isinstance(exc, BROKEN) and not isinstance(exc, asyncpg.DataError)  # DataError: a bad argument of ours


def cause_of(exc: BaseException) -> tuple[UnavailableError, str] | None:
    """The error a caller gets for `exc` and the cause the outage log names, if `exc` means PostgreSQL cannot be
    used now; None for any other error."""
    name = type(exc).__name__
    if isinstance(exc, asyncpg.DiskFullError):
        return StorageFullError("The server cannot store anything new: PostgreSQL's disk is full."), "disk full"
    if isinstance(exc, BUSY):
        return DatabaseUnavailableError(f"The database is busy ({name})."), f"PostgreSQL is busy ({name})"
    if is_broken(exc):
        detail = f"The database cannot be reached ({name})."
        return DatabaseUnavailableError(detail), f"PostgreSQL cannot be reached or lost the connection ({name})"
    return None
