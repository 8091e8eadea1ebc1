"""Message request storage, the API's side: accept (with idempotency), show, list, cancel, resend.

The dispatcher's side of the same table (claims, leases, attempts) is queue.py.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.check_ins import Moment, QuietHours
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import PAUSED, PENDING, Attempt, Kind, MessageRequest, Status
from novaro_lite.errors import ConflictError, NotFoundError
from novaro_lite.storage.database import Database, Row, Transaction
from novaro_lite.storage.paging import Listing, Page, select_page

IDEMPOTENCY_WINDOW = 24 * 3600
COLUMNS = (
    "id, account, agent_id, webhook_id, reference, status, scheduled_for, attempts, last_error, "
    "last_status_code, delivered_at, created_at, updated_at, messages, context_ids, reply, generation_failures,"
    " conversation_id, superseded_by, humanlike, arrive_ms, typing_ms, group_id, turn, turns_left, follows, seed,"
    " kind, topic, check_in, canceled_reason, rule_id, read_at, typing_started_at"
)
SELECT = f"SELECT seq, {COLUMNS} FROM message_requests"
# What a claim writes to the rows it leases; its `?`s take the lease's end (ms), the owner and now (s). SQLite
# runs it (sqlite/claims.py); PostgreSQL's novaro_claim writes the same in its own SQL (its migration 8).
CLAIM_SET = (
    "status = CASE WHEN reply IS NULL THEN 'generating' ELSE 'delivering' END, due_ms = ?, lease_owner = ?,"
    " updated_at = ?"
)
PENDING_SQL = "('scheduled', 'generating', 'delivering')"
WAITING_SQL = "('scheduled', 'generating', 'delivering', 'paused')"  # not ended
IN_FLIGHT_SQL = "('generating', 'delivering')"  # leased: due_ms is the lease's expiry
# MessageRequest.is_being_typed: the read and typing events have promised this reply; it is not yet tried.
BEING_TYPED_SQL = "(humanlike AND reply IS NOT NULL AND attempts = 0)"
PURGE_SQL = "messages = NULL, reply = NULL, context_ids = NULL, topic = NULL, lease_owner = NULL"
INSERT = (
    "INSERT INTO message_requests (id, account, agent_id, webhook_id, reference, status, due_ms, scheduled_for,"
    " idempotency_key, request_hash, accepted, messages, context_ids, created_at, updated_at, conversation_id,"
    " humanlike, arrive_ms, group_id, turn, turns_left, follows, seed, kind, topic, check_in, rule_id)"
    " VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The other pending requests of a conversation: one agent's, or a group's (every member's); an unread one
# (scheduled, no reply yet) can be superseded. Check-ins are not among them: the user's message ends those
# (end_check_ins).
_CONVERSATION = (
    "SELECT id, agent_id, status, reply IS NULL AS unread, attempts + generation_failures AS tries,"
    " coalesce(arrive_ms, scheduled_for * 1000) AS arrive_ms, due_ms FROM message_requests"
    f" WHERE {{}} AND conversation_id = ? AND status IN {PENDING_SQL} AND kind = 'reply'"
)
_ONE_TO_ONE, _GROUP = "agent_id = ? AND group_id IS NULL", "group_id = ?"
_CHECK_INS = "agent_id = ? AND conversation_id = ? AND kind = 'check_in'"
Replan = Callable[[Sequence[Plan], float | None], Plan]  # (unread requests' plans, busy until) -> the new plan


@dataclasses.dataclass(frozen=True)
class GroupStart:
    """A group's request starts an exchange: turn 1, with up to `turns_left` agent turns after it."""

    group_id: str
    turns_left: int
    seed: int | None


def dump_messages(messages: Sequence[ChatMessage]) -> str:
    """Each message as [role, content, created_at], then its writer's name and agent id if it has either."""
    return json.dumps(
        [
            [m.role, m.content, m.created_at, m.name, m.agent_id]
            if m.name or m.agent_id
            else [m.role, m.content, m.created_at]
            for m in messages
        ],
        ensure_ascii=False,
    )


def load_messages(raw: str | None) -> tuple[ChatMessage, ...] | None:
    return None if raw is None else tuple(ChatMessage(*message) for message in json.loads(raw))


def dump_moment(moment: Moment) -> str:
    quiet = moment.quiet_hours
    return json.dumps([moment.not_before, moment.not_after, moment.timezone, quiet.start, quiet.end])


def load_moment(raw: str | None) -> Moment | None:
    if raw is None:
        return None
    not_before, not_after, timezone, quiet_start, quiet_end = json.loads(raw)
    return Moment(not_before, not_after, timezone, QuietHours(quiet_start, quiet_end))


def new_queued(
    prefix: str,
    account: str,
    agent_id: str,
    webhook_id: str,
    reference: str,
    messages: Sequence[ChatMessage],
    plan: Plan,
    now: int,
    *,
    context_ids: Sequence[str] = (),
    **more: Any,
) -> MessageRequest:
    """A request (`req`) or check-in (`chk`) as it is accepted: scheduled to arrive as `plan` says, nothing
    tried yet; `more` sets the fields of its kind."""
    return MessageRequest(
        id=new_id(prefix, now),
        account=account,
        agent_id=agent_id,
        webhook_id=webhook_id,
        reference=reference,
        status="scheduled",
        scheduled_for=int(plan.arrive_at),
        attempts=0,
        last_error=None,
        last_status_code=None,
        delivered_at=None,
        created_at=now,
        updated_at=now,
        messages=tuple(messages),
        context_ids=tuple(context_ids),
        reply=None,
        arrive_at=plan.arrive_at,
        **more,
    )


def row_to_request(row: Row) -> MessageRequest:
    return MessageRequest(
        id=row["id"],
        account=row["account"],
        agent_id=row["agent_id"],
        webhook_id=row["webhook_id"],
        reference=row["reference"],
        status=row["status"],
        scheduled_for=row["scheduled_for"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        last_status_code=row["last_status_code"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        messages=load_messages(row["messages"]),
        context_ids=tuple(json.loads(row["context_ids"] or "[]")),
        reply=load_messages(row["reply"]),
        generation_failures=row["generation_failures"],
        conversation_id=row["conversation_id"],
        superseded_by=row["superseded_by"],
        is_humanlike=bool(row["humanlike"]),
        arrive_at=_seconds(row["arrive_ms"]),
        typing_at=_seconds(row["typing_ms"]),
        group_id=row["group_id"],
        turn=row["turn"],
        turns_left=row["turns_left"],
        follows=row["follows"],
        seed=row["seed"],
        kind=row["kind"],
        topic=row["topic"],
        moment=load_moment(row["check_in"]),
        canceled_reason=row["canceled_reason"],
        rule_id=row["rule_id"],
        read_at=row["read_at"],
        typing_started_at=row["typing_started_at"],
    )


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def busy(found: MessageRequest) -> str:
    """What a request is doing, for a refused cancel or resend."""
    if found.is_being_typed and found.status == "scheduled":
        return f"has its reply written and being typed: it arrives at {found.scheduled_for}, as announced"
    if found.status in PENDING:
        return f"is {found.status}: its reply is being written or sent right now"
    return f"is {found.status}"


def _not_found(request_id: str) -> NotFoundError:
    return NotFoundError(f"There is no message request with id {request_id!r}.")


def _key_conflict(idempotency_key: str) -> ConflictError:
    return ConflictError(
        f"The Idempotency-Key {idempotency_key!r} was used in the last 24 hours with a different"
        " request body; use a new key for a new request."
    )


def insert_row(
    request: MessageRequest, plan: Plan, idempotency_key: str | None, body_hash: str | None, accepted: str
) -> tuple[Any, ...]:
    """The values INSERT stores for a new request or check-in, due at its read and arriving as `plan` says
    (seconds, kept to the millisecond)."""
    return (
        request.id,
        request.account,
        request.agent_id,
        request.webhook_id,
        request.reference,
        int(plan.read_at * 1000),
        int(plan.arrive_at),
        idempotency_key,
        body_hash,
        accepted,
        dump_messages(request.messages or ()),
        json.dumps(list(request.context_ids)),
        request.created_at,
        request.updated_at,
        request.conversation_id,
        request.is_humanlike,
        int(plan.arrive_at * 1000),
        request.group_id,
        request.turn,
        request.turns_left,
        request.follows,
        request.seed,
        request.kind,
        request.topic,
        None if request.moment is None else dump_moment(request.moment),
        request.rule_id,
    )


async def take_key(tx: Transaction, account: str, idempotency_key: str, body_hash: str | None, now: int) -> str | None:
    """The response first given for this key in the last 24 hours, ConflictError for another body; or None,
    the key (freed from an expired request) now the caller's to store. Holds the key's lock to the commit."""
    await tx.lock(f"idempotency:{account}:{idempotency_key}")
    rows = await tx.fetch(
        "SELECT seq, request_hash, accepted, created_at FROM message_requests"
        " WHERE account = ? AND idempotency_key = ?",
        (account, idempotency_key),
    )
    if rows and rows[0]["created_at"] > now - IDEMPOTENCY_WINDOW:
        if rows[0]["request_hash"] != body_hash:
            raise _key_conflict(idempotency_key)
        return str(rows[0]["accepted"])
    if rows:
        await tx.execute("UPDATE message_requests SET idempotency_key = NULL WHERE seq = ?", (rows[0]["seq"],))
    return None


def conversation_lock(owner: str, conversation_id: str) -> str:
    """The lock a use case holds while it reads and changes a conversation's pending rows; `owner` is the
    agent's id, or the group's in a group."""
    return f"conversation:{owner}:{conversation_id}"


async def end_check_ins(tx: Transaction, agent_id: str, conversation_id: str, now: int) -> int:
    """The user wrote: end the conversation's waiting check-ins (content purged) and note when; return how many.

    Called under the conversation's lock. A check-in whose POST already started (`sending_at`, set under the
    same lock by CheckInStore.start_sending) went out before this message: it is only marked, so that a failed
    POST is not tried again after the user's message (queue.py ends it instead of retrying it).
    """
    ended = await tx.execute(
        f"UPDATE message_requests SET status = 'canceled', canceled_reason = 'user_wrote', {PURGE_SQL},"
        f" updated_at = ? WHERE {_CHECK_INS} AND status IN {WAITING_SQL} AND sending_at IS NULL",
        (now, agent_id, conversation_id),
    )
    await tx.execute(
        f"UPDATE message_requests SET canceled_reason = 'user_wrote' WHERE {_CHECK_INS} AND status IN {PENDING_SQL}"
        " AND sending_at IS NOT NULL",
        (agent_id, conversation_id),
    )
    await tx.execute(
        "INSERT INTO user_writes (agent_id, conversation_id, wrote_at) VALUES (?, ?, ?)"
        " ON CONFLICT (agent_id, conversation_id) DO UPDATE SET wrote_at = excluded.wrote_at",
        (agent_id, conversation_id, now),
    )
    return ended


async def _supersede(
    tx: Transaction, request: MessageRequest, replan: Replan, *, is_superseding: bool, now: int
) -> tuple[MessageRequest, Plan, int, int]:
    """End the conversation's unread requests that `request` supersedes (none unless `is_superseding`), their
    content purged, and its waiting check-ins; return `request` and its plan as `replan` makes them, how many
    requests were superseded and how many check-ins ended.

    A request whose reply failed to be written waits on a retry, not on the agent: its plan is not taken over.

    In a group every member's unread reply is superseded, and the replies already written end their
    exchange when delivered: the user has spoken again, so the agents answer that instead of each other.
    A check-in is one agent's, in a one-to-one conversation, so only a one-to-one message ends check-ins.
    """
    assert request.conversation_id is not None
    scope, key = (_GROUP, request.group_id) if request.group_id else (_ONE_TO_ONE, request.agent_id)
    await tx.lock(conversation_lock(key, request.conversation_id))
    check_ins = 0 if request.group_id else await end_check_ins(tx, request.agent_id, request.conversation_id, now)
    # Locked as read: a claim in another process skips them, and a reply stored meanwhile is seen.
    earlier = await tx.fetch(_CONVERSATION.format(scope) + tx.row_lock, (key, request.conversation_id))
    unread = [r for r in earlier if is_superseding and r["status"] == "scheduled" and r["unread"]]
    unread_ids = {r["id"] for r in unread}
    own = [r for r in earlier if r["agent_id"] == request.agent_id]
    # Busy until the reply being answered there arrives: its promised arrival, not its read (issue 25).
    busy = [r["arrive_ms"] / 1000 for r in own if r["id"] not in unread_ids]
    own_unread = [
        Plan(r["due_ms"] / 1000, r["arrive_ms"] / 1000)
        for r in unread
        if r["agent_id"] == request.agent_id and not r["tries"]
    ]
    plan = replan(own_unread, max(busy, default=None))
    request = dataclasses.replace(request, scheduled_for=int(plan.arrive_at), arrive_at=plan.arrive_at)
    superseded = 0
    for found in unread:
        superseded += await tx.execute(
            f"UPDATE message_requests SET status = 'superseded', superseded_by = ?, {PURGE_SQL},"
            " updated_at = ? WHERE id = ? AND status = 'scheduled' AND reply IS NULL",
            (request.id, now, found["id"]),
        )
    if request.group_id and is_superseding:
        for found in earlier:
            if found["id"] not in unread_ids:
                await tx.execute("UPDATE message_requests SET turns_left = 0 WHERE id = ?", (found["id"],))
    return request, plan, superseded, check_ins


async def list_rows(
    database: Database, account: str, kind: Kind, filters: Mapping[str, str | None], listing: Listing
) -> Page[MessageRequest]:
    """A page of the account's rows of one kind whose reference contains `listing.q`, each filter (column:
    value) applied unless None."""
    given = [(column, value) for column, value in filters.items() if value is not None]
    where = " AND ".join(["account = ?", "kind = ?", *(f"{column} = ?" for column, _ in given)])
    params = (account, kind, *(value for _, value in given))
    return await select_page(
        database, "message_requests", COLUMNS, where, params, listing, row_to_request, search=("reference",)
    )


class RequestStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        account: str,
        *,
        agent_id: str,
        webhook_id: str,
        reference: str,
        messages: Sequence[ChatMessage],
        context_ids: Sequence[str],
        plan: Plan,
        idempotency_key: str | None = None,
        body_hash: str | None = None,
        accepted: Callable[[MessageRequest], str] = lambda request: "",
        conversation_id: str | None = None,
        supersede: bool = True,
        is_humanlike: bool = False,
        replan: Replan | None = None,
        on_superseded: Callable[[int], None] = lambda count: None,
        on_check_ins_ended: Callable[[int], None] = lambda count: None,
        group: GroupStart | None = None,
    ) -> str:
        """Store a request and return the response that accepts it (`accepted` renders it), committed.

        With an idempotency key seen in the last 24 hours for the same body, store nothing and return the
        response given the first time; for a different body, raise ConflictError.
        `plan` says when the agent reads it (its due time) and when its reply arrives. In a conversation,
        `replan` turns the plans of the unread requests it supersedes (none when `supersede` is false) and
        the time the reply being answered there arrives into the new plan; the superseded requests end in
        the same transaction, their content purged, and so do the conversation's waiting check-ins (the user
        wrote: they are moot). A group's request (`agent_id` is its first speaker) starts an exchange (`group`).
        """
        now = self._db.now()
        request = new_queued(
            "req",
            account,
            agent_id,
            webhook_id,
            reference,
            messages,
            plan,
            now,
            context_ids=context_ids,
            conversation_id=conversation_id,
            is_humanlike=is_humanlike,
        )
        if group is not None:
            request = dataclasses.replace(request, turn=1, **dataclasses.asdict(group))
        if idempotency_key is None and conversation_id is None:
            answer = accepted(request)
            await self._db.insert(INSERT, insert_row(request, plan, idempotency_key, body_hash, answer))
            return answer
        return await self._create_locked(
            request,
            plan,
            idempotency_key=idempotency_key,
            body_hash=body_hash,
            accepted=accepted,
            supersede=supersede,
            replan=replan,
            on_ended=(on_superseded, on_check_ins_ended),
        )

    async def _create_locked(
        self,
        request: MessageRequest,
        plan: Plan,
        *,
        idempotency_key: str | None,
        body_hash: str | None,
        accepted: Callable[[MessageRequest], str],
        supersede: bool,
        replan: Replan | None,
        on_ended: tuple[Callable[[int], None], Callable[[int], None]],
    ) -> str:
        """create() when it must read first, in one transaction: under the idempotency key's lock and the
        conversation's."""
        now, superseded, check_ins = request.created_at, 0, 0
        # Checked again inside the transaction: a concurrent request with the same key may have won.
        async with self._db.transaction() as tx:
            if idempotency_key is not None:
                first = await take_key(tx, request.account, idempotency_key, body_hash, now)
                if first is not None:
                    return first
            if request.conversation_id is not None:
                own = plan
                planned = replan or (lambda unread, busy: own)
                request, plan, superseded, check_ins = await _supersede(
                    tx, request, planned, is_superseding=supersede, now=now
                )
            answer = accepted(request)
            await tx.execute(INSERT, insert_row(request, plan, idempotency_key, body_hash, answer))
        if superseded or check_ins:
            self._db.content_purged()
        for ended, count in zip(on_ended, (superseded, check_ins), strict=True):
            if count:
                ended(count)
        return answer

    async def replay(self, account: str, idempotency_key: str, body_hash: str) -> str | None:
        """The response first given for this key in the last 24 hours, if any; ConflictError for another body.

        Checked before anything else about the request, so a retry replays its first answer even after
        its agent was deleted or its webhook disabled.
        """
        row = await self._db.one(
            "SELECT request_hash, accepted, created_at FROM message_requests WHERE account = ? AND idempotency_key = ?",
            (account, idempotency_key),
        )
        if row is None or row["created_at"] <= self._db.now() - IDEMPOTENCY_WINDOW:
            return None
        if row["request_hash"] != body_hash:
            raise _key_conflict(idempotency_key)
        return str(row["accepted"])

    async def get(self, account: str, request_id: str) -> MessageRequest:
        row = await self._db.one(f"{SELECT} WHERE account = ? AND id = ? AND kind = 'reply'", (account, request_id))
        if row is None:
            raise _not_found(request_id)
        return row_to_request(row)

    async def list(
        self,
        account: str,
        listing: Listing,
        *,
        status: Status | None = None,
        agent_id: str | None = None,
        reference: str | None = None,
        conversation_id: str | None = None,
        group_id: str | None = None,
    ) -> Page[MessageRequest]:
        """A page of the account's requests that match every filter given and whose reference contains
        `listing.q`, in the order they were accepted."""
        filters = {
            "status": status,
            "agent_id": agent_id,
            "reference": reference,
            "conversation_id": conversation_id,
            "group_id": group_id,
        }
        return await list_rows(self._db, account, "reply", filters, listing)

    async def cancel(self, account: str, request_id: str) -> MessageRequest:
        """Cancel a request that is waiting (or paused); one being generated, typed or delivered cannot be stopped:
        the read and typing events have promised its reply (issue 25)."""
        await self.get(account, request_id)
        (canceled,) = await self._db.write(
            (
                f"UPDATE message_requests SET status = 'canceled', {PURGE_SQL}, updated_at = ?"
                f" WHERE id = ? AND (status = '{PAUSED}' OR status = 'scheduled' AND NOT {BEING_TYPED_SQL})",
                (self._db.now(), request_id),
            ),
            purges=True,
        )
        found = await self.get(account, request_id)
        if not canceled:
            raise ConflictError(f"The message request {request_id!r} {busy(found)}; it cannot be canceled.")
        return found

    async def redeliver(self, account: str, request_id: str, now: float) -> MessageRequest:
        """Make a request waiting for its next attempt due now."""
        found = await self.get(account, request_id)
        if found.status == PAUSED:
            raise ConflictError(
                f"The message request {request_id!r} is paused because its webhook is disabled; enable the"
                " webhook and its paused requests are delivered, oldest first."
            )
        if found.status != "scheduled":
            raise ConflictError(
                f"The message request {request_id!r} is {found.status}; only a scheduled request can be sent now"
                " (an ended request's content was purged, so there is nothing left to resend)."
            )
        if found.is_being_typed:
            raise ConflictError(f"The message request {request_id!r} {busy(found)}; it cannot be sent sooner.")
        # Unread: the agent reads it now and its reply arrives once typed. Written: it is tried again now.
        (changed,) = await self._db.write(
            (
                "UPDATE message_requests SET due_ms = ?, scheduled_for = ?, updated_at = ?,"
                " arrive_ms = CASE WHEN reply IS NULL THEN ? ELSE arrive_ms END"
                f" WHERE id = ? AND status = 'scheduled' AND NOT {BEING_TYPED_SQL}",
                (int(now * 1000), int(now), self._db.now(), int(now * 1000), request_id),
            )
        )
        found = await self.get(account, request_id)
        if not changed:
            raise ConflictError(f"The message request {request_id!r} {busy(found)}; it cannot be sent sooner.")
        return found

    async def attempts(self, account: str, request_id: str) -> builtins.list[Attempt]:
        await self.get(account, request_id)
        rows = await self._db.all(
            "SELECT attempted_at, status_code, duration_ms, error, response_body FROM delivery_attempts"
            " WHERE request_id = ? ORDER BY seq",
            (request_id,),
        )
        return [Attempt(row[0], row[1], row[2], row[3], row[4]) for row in rows]
