"""What every PostgreSQL connection of ours is opened with: how long it may wait, and how a peer that froze
is noticed.

A server that stops without closing its connections (SIGSTOP, a paused VM, a network partition) could
otherwise hold a lock for good: the claim lock, or a row that every other process's writes then queue behind.
So a session idle inside a transaction is ended by PostgreSQL after IDLE_IN_TRANSACTION (its locks with
it), a lock is waited for at most LOCK_WAIT (the statement then fails, and is retried: a claim by the next
dispatch or sweep, a write by its caller), and TCP keepalives notice a peer that is gone.

"Idle" means waiting for the next command. A process stopped halfway through sending one (asyncpg prepares
a statement's first use on a connection without a Sync) leaves its session active, which no timeout ends:
its locks stay until it resumes or dies. The claim lock, which every server needs, is never held there
(claims.py); a row or key lock held there only holds up that row or key (its writers answer 503 after
LOCK_WAIT; claims skip the row).
"""

from __future__ import annotations

IDLE_IN_TRANSACTION = "15s"
LOCK_WAIT = "10s"
SERVER_SETTINGS = {
    "application_name": "novaro-lite",
    "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION,
    "lock_timeout": LOCK_WAIT,
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}
CONNECT_TIMEOUT = 10.0  # seconds opening a connection may take: a request waits no longer for an unreachable server
COMMAND_TIMEOUT = 60.0  # seconds any one statement may take, seen from our side, before it is given up
