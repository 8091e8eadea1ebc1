"""Check-in storage, the API's side: schedule (under the anti-spam rules), show, list, cancel; the user wrote.

A check-in is a row of message_requests with kind 'check_in' (docs/design.md, Check-ins), so the queue
(queue.py) claims, leases, retries, pauses and purges it like any request. What is its own lives here: the
rules checked under the conversation's lock before it is stored, and the fence its POST passes first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.check_ins import Moment, Rule, Rules
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import MessageRequest, Status
from novaro_lite.errors import ConflictError, NotFoundError
from novaro_lite.storage.database import Database, Transaction
from novaro_lite.storage.paging import Listing, Page
from novaro_lite.storage.requests import (
    BEING_TYPED_SQL,
    INSERT,
    PENDING_SQL,
    PURGE_SQL,
    SELECT,
    WAITING_SQL,
    busy,
    conversation_lock,
    end_check_ins,
    insert_row,
    list_rows,
    new_queued,
    row_to_request,
    take_key,
)

_OF_CONVERSATION = "agent_id = ? AND conversation_id = ? AND kind = 'check_in'"
DAY = 86400


class RefusedError(ConflictError):
    """A rule against spam refuses the check-in; `rule` names it (domain/check_ins.py, RULES)."""

    def __init__(self, rule: Rule, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule


def _not_found(check_in_id: str) -> NotFoundError:
    return NotFoundError(f"There is no check-in with id {check_in_id!r}.")


async def _unanswered(tx: Transaction, agent_id: str, conversation_id: str) -> int:
    """Check-ins delivered in the conversation since the user last wrote there."""
    rows = await tx.fetch(
        f"SELECT count(*) FROM message_requests WHERE {_OF_CONVERSATION} AND status = 'delivered'"
        " AND delivered_at > coalesce((SELECT wrote_at FROM user_writes WHERE agent_id = ? AND conversation_id = ?),"
        " 0)",
        (agent_id, conversation_id, agent_id, conversation_id),
    )
    return int(rows[0][0])


async def check_rules(tx: Transaction, rules: Rules, agent_id: str, conversation_id: str, now: int) -> None:
    """Raise RefusedError if a rule forbids another check-in in the conversation now (under its lock)."""
    counts = await tx.fetch(
        f"SELECT count(CASE WHEN status IN {WAITING_SQL} THEN 1 END), count(CASE WHEN status IN {WAITING_SQL}"
        f" OR status = 'delivered' THEN 1 END) FROM message_requests WHERE {_OF_CONVERSATION} AND created_at > ?",
        (agent_id, conversation_id, now - DAY),
    )
    pending, today = int(counts[0][0]), int(counts[0][1])
    where = f"conversation {conversation_id!r}"
    if pending >= rules.max_pending:
        raise RefusedError(
            "pending", f"The {where} already has {pending} check-in(s) waiting ([check_ins] max_pending)."
        )
    if today >= rules.daily_cap:
        raise RefusedError(
            "daily_cap",
            f"The agent has had {today} check-in(s) in the {where} in the last 24 h ([check_ins] daily_cap).",
        )
    unanswered = await _unanswered(tx, agent_id, conversation_id)
    if rules.unanswered_limit and unanswered >= rules.unanswered_limit:
        raise RefusedError(
            "unanswered",
            f"The user has not answered the last {unanswered} check-ins in the {where}; none until they write again"
            " ([check_ins] unanswered_limit).",
        )
    if rules.not_while_active:
        online = await tx.fetch(
            "SELECT online_until_ms FROM presence WHERE agent_id = ? AND conversation_id = ?",
            (agent_id, conversation_id),
        )
        replying = await tx.fetch(
            "SELECT count(*) FROM message_requests WHERE agent_id = ? AND conversation_id = ? AND kind = 'reply'"
            f" AND status IN {PENDING_SQL}",
            (agent_id, conversation_id),
        )
        if (online and online[0][0] > now * 1000) or int(replying[0][0]):
            raise RefusedError(
                "active",
                f"The {where} is active (the agent is online in it or answering it); a check-in would interrupt"
                " ([check_ins] not_while_active).",
            )


@dataclasses.dataclass(frozen=True)
class NewCheckIn:
    """What a client asks for, and its plan: written a little before the drawn moment, arriving at it."""

    agent_id: str
    webhook_id: str
    conversation_id: str
    reference: str
    messages: Sequence[ChatMessage]
    topic: str | None
    moment: Moment
    plan: Plan
    rule_id: str | None = None  # the recurring rule that yields it (domain/check_in_rules.py), if any


async def insert_check_in(
    tx: Transaction,
    account: str,
    new: NewCheckIn,
    rules: Rules,
    now: int,
    *,
    accepted: Callable[[MessageRequest], str] = lambda check_in: "",
    idempotency_key: str | None = None,
    body_hash: str | None = None,
) -> str:
    """In `tx`: under the conversation's lock, store the check-in unless a rule refuses it (RefusedError, nothing
    written); return the response that accepts it."""
    check_in = new_queued(
        "chk",
        account,
        new.agent_id,
        new.webhook_id,
        new.reference,
        new.messages,
        new.plan,
        now,
        conversation_id=new.conversation_id,
        is_humanlike=True,
        kind="check_in",
        topic=new.topic,
        moment=new.moment,
        rule_id=new.rule_id,
    )
    await tx.lock(conversation_lock(new.agent_id, new.conversation_id))
    await check_rules(tx, rules, new.agent_id, new.conversation_id, now)
    answer = accepted(check_in)
    await tx.execute(INSERT, insert_row(check_in, new.plan, idempotency_key, body_hash, answer))
    return answer


class CheckInStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        account: str,
        new: NewCheckIn,
        rules: Rules,
        *,
        idempotency_key: str | None = None,
        body_hash: str | None = None,
        accepted: Callable[[MessageRequest], str] = lambda check_in: "",
    ) -> str:
        """Store a check-in unless a rule refuses it (RefusedError), and return the response that accepts it.

        Under the idempotency key's lock and the conversation's, so two check-ins (or a check-in and the user's
        message) for one conversation are decided one after the other.
        """
        now = self._db.now()
        async with self._db.transaction() as tx:
            if idempotency_key is not None:
                first = await take_key(tx, account, idempotency_key, body_hash, now)
                if first is not None:
                    return first
            return await insert_check_in(
                tx, account, new, rules, now, accepted=accepted, idempotency_key=idempotency_key, body_hash=body_hash
            )

    async def get(self, account: str, check_in_id: str) -> MessageRequest:
        row = await self._db.one(f"{SELECT} WHERE account = ? AND id = ? AND kind = 'check_in'", (account, check_in_id))
        if row is None:
            raise _not_found(check_in_id)
        return row_to_request(row)

    async def list(
        self,
        account: str,
        listing: Listing,
        *,
        status: Status | None = None,
        agent_id: str | None = None,
        conversation_id: str | None = None,
        reference: str | None = None,
    ) -> Page[MessageRequest]:
        """A page of the account's check-ins that match every filter given and whose reference contains
        `listing.q`."""
        filters = {"status": status, "agent_id": agent_id, "conversation_id": conversation_id, "reference": reference}
        return await list_rows(self._db, account, "check_in", filters, listing)

    async def cancel(self, account: str, check_in_id: str) -> MessageRequest:
        """Cancel a check-in that is waiting (or paused); one being written, typed (its typing was announced) or
        sent cannot be stopped, as a message request's reply cannot."""
        await self.get(account, check_in_id)
        (canceled,) = await self._db.write(
            (
                f"UPDATE message_requests SET status = 'canceled', canceled_reason = 'canceled', {PURGE_SQL},"
                " updated_at = ? WHERE id = ?"
                f" AND (status = 'paused' OR status = 'scheduled' AND NOT {BEING_TYPED_SQL})",
                (self._db.now(), check_in_id),
            ),
            purges=True,
        )
        found = await self.get(account, check_in_id)
        if not canceled:
            raise ConflictError(f"The check-in {check_in_id!r} {busy(found)}; it cannot be canceled now.")
        return found

    async def user_wrote(self, agent_id: str, conversation_id: str) -> int:
        """The user wrote in the conversation (a realtime message): end its waiting check-ins; return how many."""
        async with self._db.transaction() as tx:
            await tx.lock(conversation_lock(agent_id, conversation_id))
            ended = await end_check_ins(tx, agent_id, conversation_id, self._db.now())
        if ended:
            self._db.content_purged()
        return ended

    async def start_sending(self, check_in: MessageRequest, owner: str) -> bool:
        """The fence before a check-in's POST: True if it may go out; False if it is moot (then it is ended).

        Under the conversation's lock, like the user's message that ends check-ins: either this runs first, and
        the check-in went out before the user wrote (the message then only marks it), or the message ran first
        and the check-in is canceled, never sent. A moot one still leased here (the user wrote while an earlier
        POST of it was under way) ends now.
        """
        assert check_in.conversation_id is not None
        async with self._db.transaction() as tx:
            await tx.lock(conversation_lock(check_in.agent_id, check_in.conversation_id))
            fenced = await tx.execute(
                "UPDATE message_requests SET sending_at = ? WHERE id = ? AND lease_owner = ?"
                f" AND status IN {PENDING_SQL} AND canceled_reason IS NULL",
                (self._db.now(), check_in.id, owner),
            )
            ended = 0
            if not fenced:
                ended = await tx.execute(
                    f"UPDATE message_requests SET status = 'canceled', {PURGE_SQL}, updated_at = ? WHERE id = ?"
                    f" AND lease_owner = ? AND status IN {PENDING_SQL} AND canceled_reason IS NOT NULL",
                    (self._db.now(), check_in.id, owner),
                )
        if ended:
            self._db.content_purged()
        return bool(fenced)

    async def end_as_active(self, check_in: MessageRequest, owner: str) -> bool:
        """End a claimed check-in because its conversation is active (the agent is online there); False if lost."""
        (ended,) = await self._db.write(
            (
                "UPDATE message_requests SET status = 'canceled', canceled_reason = 'conversation_active',"
                f" {PURGE_SQL}, updated_at = ? WHERE id = ? AND lease_owner = ? AND status IN {PENDING_SQL}",
                (self._db.now(), check_in.id, owner),
            ),
            purges=True,
        )
        return bool(ended)
