"""What SQLite's errors mean for a caller: the database is busy, unusable or full; and how much room is left.

sqlite3 names the cause of an OperationalError by its result code (Python 3.11+); only the codes that say
the database cannot be used right now become UnavailableError (503, or 507 for a full disk). Any other
error (a constraint, a bad statement) is a bug of ours and stays what it is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import aiosqlite

from novaro_lite.errors import DatabaseUnavailableError, StorageFullError, UnavailableError

READY_ROOM_BYTES = 1 << 20  # readiness wants room for this much more data: a write of a few requests, at least
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_UNUSABLE = (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOMEM)
# What aiosqlite (ValueError) and sqlite3 (ProgrammingError) say when used after their connection was closed.
_CLOSED = ("Connection closed", "no active connection", "Cannot operate on a closed database")


def cause_of(exc: BaseException) -> tuple[UnavailableError, str] | None:
    """The error a caller gets for `exc` and the cause the outage log names, if `exc` means the database
    cannot be used now; None for any other error."""
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary result code, without its extension
        if code == sqlite3.SQLITE_FULL:
            cause = "the disk that holds the SQLite database is full"
            return StorageFullError(f"The server cannot store anything new: {cause} ({exc})."), cause
        if code in _BUSY:
            cause = "another process holds the SQLite database's write lock"
            return DatabaseUnavailableError(f"The database is busy: {cause} ({exc})."), cause
        if code in _UNUSABLE:
            cause = f"the SQLite database cannot be used ({getattr(exc, 'sqlite_errorname', code)})"
            return DatabaseUnavailableError(f"The database is unavailable: {cause}: {exc}."), cause
        return None
    if isinstance(exc, sqlite3.ProgrammingError | ValueError) and str(exc).startswith(_CLOSED):
        cause = "the database connection is closed (the server is shutting down)"
        return DatabaseUnavailableError(f"The database is unavailable: {cause}."), cause
    return None


async def room_bytes(writer: aiosqlite.Connection, path: Path) -> int:
    """How many more bytes the database can take: its free pages, and as far as it may grow (the disk's free
    space, and `max_page_count`, which tests use to fill a database)."""
    values = []
    for pragma in ("page_size", "page_count", "freelist_count", "max_page_count"):
        rows = list(await writer.execute_fetchall(f"PRAGMA {pragma}", ()))
        values.append(int(rows[0][0]))
    page_size, pages, free_pages, max_pages = values
    disk = os.statvfs(path.parent)
    growth = min(disk.f_bavail * disk.f_frsize, (max_pages - pages) * page_size)
    return free_pages * page_size + max(0, growth)
