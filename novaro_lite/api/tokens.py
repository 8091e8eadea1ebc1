"""Tokens endpoints: list, create and revoke the tokens of the caller's account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.deps import caller, json_response, read_body, services
from novaro_lite.api.token_schemas import TokenCreate, TokenList, TokenOut, TokenWithSecret


async def list_tokens(request: Request) -> Response:
    found = await services(request).storage.tokens.list_active(caller(request).account)
    return json_response(TokenList(data=[TokenOut.of(token) for token in found]))


async def create_token(request: Request) -> Response:
    body = await read_body(request, TokenCreate)
    token, secret = await services(request).storage.tokens.create(
        body.name, caller(request).account, body.expires_in, body.rate_limit
    )
    return json_response(TokenWithSecret.of_new(token, secret), 201)


async def revoke_token(request: Request) -> Response:
    """Revoke a token of the caller's account; revoking the one in use ends the caller's access at once."""
    await services(request).storage.tokens.revoke_own(caller(request).account, request.path_params["id"])
    return Response(status_code=204)
