"""Tokens endpoints: list, create and revoke the tokens of the caller's account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.schemas.paging import PageQuery
from novaro_lite.api.schemas.tokens import TokenCreate, TokenOut, TokenPage, TokenWithSecret
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation


async def list_tokens(request: Request) -> Response:
    listing = read_query(request, PageQuery).listing()
    found = await services(request).storage.tokens.list_active(caller(request).account, listing)
    data = [TokenOut.of(token) for token in found.items]
    return json_response(TokenPage(data=data, next_cursor=found.next_cursor, total=found.total))


async def create_token(request: Request) -> Response:
    """Mint a token under the caller's that can do no more than the caller's own: its rate limit and its
    lifetime are at most the caller's (and, when not given, the same), so a limited or expiring token handed
    to someone cannot mint an unlimited or everlasting one. Its calls also spend the caller's budget."""
    body = await read_body(request, TokenCreate)
    svc, own = services(request), caller(request)
    ceiling = own.rate_limit or svc.settings.limits.rate_limit_per_minute  # 0: no limit
    if ceiling and body.rate_limit is not None and body.rate_limit > ceiling:
        raise invalid(["body", "rateLimit"], f"may be at most {ceiling}, the limit of the token making the request")
    rate_limit = own.rate_limit if body.rate_limit is None else body.rate_limit
    expires_in = body.expires_in
    if own.expires_at is not None:
        remaining = own.expires_at - svc.storage.now()  # > 0: authentication refuses an expired token
        if expires_in is not None and expires_in > remaining:
            raise invalid(["body", "expiresIn"], f"may be at most {remaining} s, when the token making it expires")
        expires_in = remaining if expires_in is None else expires_in
    most_live = svc.settings.limits.tokens_per_account
    token, secret = await svc.storage.tokens.mint(own, body.name, expires_in, rate_limit, most_live)
    return json_response(TokenWithSecret.of_new(token, secret), 201)


async def revoke_token(request: Request) -> Response:
    """Revoke the caller itself or a token minted under it, and every token minted under that one; revoking
    the one in use ends the caller's access at once."""
    await services(request).storage.tokens.revoke_own(caller(request), request.path_params["id"])
    return Response(status_code=204)


PATH = f"{V1}/tokens"
OPERATIONS = (
    Operation(
        "GET",
        PATH,
        "tokens:list",
        list_tokens,
        "List your account's tokens (never their secrets), searched by name",
        "tokens",
        query=PageQuery,
        response=TokenPage,
    ),
    Operation(
        "POST",
        PATH,
        "tokens:create",
        create_token,
        "Create a token under yours (its value is shown once)",
        "tokens",
        status=201,
        body=TokenCreate,
        response=TokenWithSecret,
        errors=(409,),
    ),
    Operation(
        "DELETE",
        f"{PATH}/{{id}}",
        "tokens:revoke",
        revoke_token,
        "Revoke this token or one minted under it, with those under that one",
        "tokens",
        status=204,
        errors=(403,),
    ),
)
