"""The delivery queue's claim on SQLite: one UPDATE … RETURNING, so two processes never take the same row.

The candidates are the first due rows of each webhook that has room, read from the (webhook_id, due_ms)
index alone (as one JSON array per webhook, in due order), so a busy webhook's backlog is never scanned and
no table row is read until the chosen ones are updated: the cost grows with the number of webhooks, not with
the number of pending rows (bench/claim.py). A webhook's room is its limit less what is in flight: the
larger of this process's count and the database's (rows being generated or delivered under a live lease,
from a small index of those alone), so the limit holds across processes sharing the file (`--workers`),
whose claims BEGIN IMMEDIATE puts one after another.
"""

from __future__ import annotations

import json
from typing import Any

from novaro_lite.storage.database import Claim
from novaro_lite.storage.requests import CLAIM_SET, COLUMNS, IN_FLIGHT_SQL, PENDING_SQL


def claim_statement(claim: Claim) -> tuple[str, tuple[Any, ...]]:
    """The claim's statement and its parameters."""
    sql = f"""
        UPDATE message_requests SET {CLAIM_SET}
        WHERE seq IN (
            SELECT json_extract(head.value, '$[1]') AS seq FROM (
                SELECT room, (
                    SELECT json_group_array(json_array(due_ms, seq)) FROM (
                        SELECT seq, due_ms FROM message_requests
                        WHERE webhook_id = open.id AND status IN {PENDING_SQL} AND due_ms <= ?
                        ORDER BY due_ms LIMIT ?
                    )
                ) AS heads
                FROM (
                    SELECT w.id, ? - max(coalesce(mine.value, 0), (
                        SELECT count(*) FROM message_requests AS busy
                        WHERE busy.webhook_id = w.id AND busy.status IN {IN_FLIGHT_SQL} AND busy.due_ms > ?
                    )) AS room
                    FROM webhooks AS w LEFT JOIN json_each(?) AS mine ON mine.key = w.id
                ) AS open
                WHERE room > 0  -- webhooks at their limit are skipped
            ) AS due, json_each(due.heads) AS head
            WHERE head.key < due.room  -- each webhook's first rows, as many as it has room for
            ORDER BY json_extract(head.value, '$[0]'), seq
            LIMIT ?
        )
        AND (lease_owner IS NOT ? OR id NOT IN (SELECT value FROM json_each(?)))
        RETURNING seq, {COLUMNS}
    """
    params = (
        claim.lease_until_ms,
        claim.owner,
        claim.now_ms // 1000,
        claim.now_ms,
        min(claim.per_webhook, claim.limit),
        claim.per_webhook,
        claim.now_ms,
        json.dumps(dict(claim.in_flight)),
        claim.limit,
        claim.owner,
        json.dumps(list(claim.working)),
    )
    return sql, params
