"""Token storage: metadata and the SHA-256 of each token, never the token itself; families and their revocation."""

from __future__ import annotations

import dataclasses
import json

from novaro_lite.domain.ids import new_id
from novaro_lite.domain.tokens import DISPLAY_PREFIX_CHARS, Ancestor, Token, hash_token, mint_token
from novaro_lite.errors import AuthError, ConflictError, ForbiddenError, NotFoundError
from novaro_lite.storage.database import Database, Row, Transaction
from novaro_lite.storage.paging import Listing, Page, escape_like, select_page

TOUCH_INTERVAL = 60  # seconds; last_used_at is refreshed at most this often, so auth rarely writes
FIRST_TOKEN_LOCK = "novaro-lite:first-token"
_COLUMNS = [field.name for field in dataclasses.fields(Token) if field.name != "lineage"]


def _token(row: Row) -> Token:
    lineage = tuple(Ancestor(id, limit) for id, limit in json.loads(row["lineage"]))
    return Token(**{name: row[name] for name in _COLUMNS}, lineage=lineage)


def _lock(account: str) -> str:
    """The lock of an account's tokens: minting (the cap, the parent still live) and revoking hold it."""
    return f"novaro-lite:tokens:{account}"


def _below_pattern(token_id: str) -> str:
    """A LIKE pattern (escaped with backslash) matching the lineage of every token below `token_id`."""
    return f'%["{escape_like(token_id)}",%'


class TokenStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._touched: dict[str, int] = {}  # token id -> when this process last recorded its use

    async def create(
        self, name: str, account: str, expires_in: int | None, rate_limit: int | None = None
    ) -> tuple[Token, str]:
        """Mint a token and store its hash; return the metadata and the secret, which is not kept."""
        async with self._db.transaction() as tx:
            return await self._insert(tx, name, account, expires_in, rate_limit)

    async def mint(
        self, parent: Token, name: str, expires_in: int | None, rate_limit: int | None, most_live: int
    ) -> tuple[Token, str]:
        """Mint a token under `parent` (through the API): 409 when its account already has `most_live` live ones.

        Counting and inserting hold the account's lock, so concurrent mints cannot pass the cap together; so does
        revoking, and the parent is read again under it: a parent revoked since it authenticated (while its
        request's body was still arriving, say) mints nothing (401), so no child outlives a revoked family.
        """
        async with self._db.transaction() as tx:
            await tx.lock(_lock(parent.account))
            live = await tx.fetch(
                "SELECT 1 FROM tokens WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                (parent.id, self._db.now()),
            )
            if not live:
                raise AuthError("The token is unknown or has been revoked.")
            rows = await tx.fetch(
                "SELECT count(*) FROM tokens WHERE account = ? AND revoked_at IS NULL"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (parent.account, self._db.now()),
            )
            if rows[0][0] >= most_live:
                raise ConflictError(
                    f"The account has {rows[0][0]} live tokens, the most the server allows ([limits]"
                    " tokens_per_account); revoke one before creating another."
                )
            lineage = parent.child_lineage()
            return await self._insert(tx, name, parent.account, expires_in, rate_limit, lineage, parent.expires_at)

    async def create_first(self, name: str, account: str) -> tuple[Token, str] | None:
        """Create a token only if the database has none (a first start); None if it already has one.

        Counting and inserting hold one lock: servers that start together on an empty PostgreSQL database
        would otherwise each see no token and each create one.
        """
        async with self._db.transaction() as tx:
            await tx.lock(FIRST_TOKEN_LOCK)
            if (await tx.fetch("SELECT count(*) FROM tokens"))[0][0]:
                return None
            return await self._insert(tx, name, account, None, None)

    async def _insert(
        self,
        tx: Transaction,
        name: str,
        account: str,
        expires_in: int | None,
        rate_limit: int | None,
        lineage: tuple[Ancestor, ...] = (),
        not_after: int | None = None,
    ) -> tuple[Token, str]:
        secret = mint_token()
        now = self._db.now()
        expires_at = None if expires_in is None else now + expires_in
        if not_after is not None:  # a child never outlives its parent, whatever second the lifetime was read at
            expires_at = not_after if expires_at is None else min(expires_at, not_after)
        token = Token(
            id=new_id("tok", now),
            name=name,
            account=account,
            prefix=secret[:DISPLAY_PREFIX_CHARS],
            created_at=now,
            last_used_at=None,
            expires_at=expires_at,
            revoked_at=None,
            rate_limit=rate_limit,
            lineage=lineage,
        )
        await tx.execute(
            "INSERT INTO tokens (id, name, account, token_hash, prefix, created_at, expires_at, rate_limit, lineage)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                token.id,
                name,
                account,
                hash_token(secret),
                token.prefix,
                now,
                token.expires_at,
                rate_limit,
                json.dumps([[ancestor.id, ancestor.rate_limit] for ancestor in lineage]),
            ),
        )
        return token, secret

    async def list(self) -> list[Token]:
        return [_token(row) for row in await self._db.all("SELECT * FROM tokens ORDER BY id", ())]

    async def list_active(self, account: str, listing: Listing) -> Page[Token]:
        """A page of the account's tokens that are not revoked (expired ones included, so they can be cleaned
        up) whose name contains `listing.q`, in creation order (their ids begin with the time)."""
        where = "account = ? AND revoked_at IS NULL"
        columns = ", ".join([*_COLUMNS, "lineage"])
        return await select_page(self._db, "tokens", columns, where, (account,), listing, _token, key="id")

    async def find(self, token_hash: str) -> Token | None:
        row = await self._db.one("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else _token(row)

    async def revoke(self, token_id: str) -> Token:
        """Revoke a token (the operator, through the CLI) and every token minted under it."""
        row = await self._db.one("SELECT * FROM tokens WHERE id = ?", (token_id,))
        if row is None:
            raise NotFoundError(f"There is no token with id {token_id!r}.")
        await self._revoke_family(row["account"], token_id)
        return _token(await self._db.one("SELECT * FROM tokens WHERE id = ?", (token_id,)) or row)

    async def revoke_own(self, caller: Token, token_id: str) -> None:
        """Revoke, for `caller`, itself or a token minted under it, and every token minted under that one.

        Another account's token, or one already revoked, is a 404; the caller's creator, a sibling or any
        other token of its account is a 403: a token handed out cannot lock its account out.
        """
        row = await self._db.one(
            "SELECT * FROM tokens WHERE id = ? AND account = ? AND revoked_at IS NULL", (token_id, caller.account)
        )
        if row is None:
            raise NotFoundError(f"There is no token with id {token_id!r}.")
        if token_id != caller.id and not caller.is_above(_token(row)):
            raise ForbiddenError(
                f"Token {token_id!r} was not minted under this token: a token may revoke only itself and the"
                " tokens minted under it. The operator revokes others with 'novaro-lite token revoke'."
            )
        await self._revoke_family(caller.account, token_id)

    async def _revoke_family(self, account: str, token_id: str) -> None:
        async with self._db.transaction() as tx:
            await tx.lock(_lock(account))  # as minting holds it: no child is minted under a family being revoked
            await tx.execute(
                "UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND (id = ? OR lineage LIKE ? ESCAPE '\\')",
                (self._db.now(), token_id, _below_pattern(token_id)),
            )

    async def touch(self, token: Token) -> None:
        """Record that the token was used, at most once per TOUCH_INTERVAL.

        Noted here before the write, so the requests in flight that read the same stale time do not each
        write it too (they did: dozens of updates of one row at once, each waiting for the one before).
        """
        now = self._db.now()
        last = max(token.last_used_at or 0, self._touched.get(token.id, 0))
        if now - last < TOUCH_INTERVAL:
            return
        self._touched[token.id] = now
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token.id))
