"""Wire models of /api/v1/tokens and /api/v1/auth/verify: the caller's account's tokens, never the secrets after
creation."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from novaro_lite.api.schemas.paging import PageOut
from novaro_lite.api.schemas.wire import NOT_BLANK_SCHEMA, NotBlank, WireModel
from novaro_lite.domain.tokens import MAX_LIFETIME_SECONDS, MAX_RATE_LIMIT, Token


class TokenInfo(WireModel):
    id: str
    name: str
    account: str
    expires_at: int | None = Field(description="Unix seconds; null when the token does not expire.")

    @classmethod
    def of(cls, token: Token) -> TokenInfo:
        return cls(id=token.id, name=token.name, account=token.account, expires_at=token.expires_at)


class TokenCreate(WireModel):
    """A new token for the caller's account."""

    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            json_schema_extra=NOT_BLANK_SCHEMA,
            description="What the token is for, e.g. the app that uses it.",
        ),
        NotBlank,
    ]
    expires_in: int | None = Field(
        None, ge=60, le=MAX_LIFETIME_SECONDS, description="Lifetime in seconds; null (the default) never expires."
    )
    rate_limit: int | None = Field(
        None,
        ge=1,
        le=MAX_RATE_LIMIT,
        description="Requests a minute this token may make; null (the default) uses the server's default limit.",
    )


class TokenOut(WireModel):
    id: str
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart; never the whole token.")
    created_at: int
    last_used_at: int | None = Field(description="Unix seconds, refreshed at most once a minute; null if never used.")
    expires_at: int | None = Field(description="Unix seconds; null when the token does not expire.")
    rate_limit: int | None = Field(description="Requests a minute; null uses the server's default.")
    minted_by: str | None = Field(
        description="The token that minted this one through the API; null for a token the operator made."
    )

    @classmethod
    def of(cls, token: Token) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            rate_limit=token.rate_limit,
            minted_by=token.minted_by,
        )


class TokenWithSecret(TokenOut):
    token: str = Field(description="The bearer token (nl_…). Shown only now: store it.")

    @classmethod
    def of_new(cls, token: Token, secret: str) -> TokenWithSecret:
        return cls(**TokenOut.of(token).model_dump(), token=secret)


class TokenPage(PageOut):
    data: list[TokenOut] = Field(description="The account's tokens that are not revoked.")
