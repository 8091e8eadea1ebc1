"""Bearer-token authentication and GET /api/v1/auth/verify."""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.schemas.tokens import TokenInfo
from novaro_lite.api.web.deps import Endpoint, caller, json_response, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.domain.rate_limits import hit_all
from novaro_lite.domain.tokens import TOKEN_PREFIX, Token, hash_token
from novaro_lite.errors import AppError, AuthError, RateLimitedError


async def authenticate(request: Request) -> Token:
    """Return the stored token behind the request's Authorization header, or raise AuthError."""
    header = request.headers.get("authorization")
    if header is None:
        raise AuthError("The Authorization header is missing; send 'Authorization: Bearer <token>'.")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or " " in secret:
        raise AuthError("The Authorization header is malformed; expected 'Bearer <token>'.")
    if not secret.startswith(TOKEN_PREFIX):
        raise AuthError(f"The token is not a novaro-lite token; they start with {TOKEN_PREFIX!r}.")
    storage = services(request).storage
    # Looked up by its SHA-256: an index probe on a hash leaks nothing useful about the secret.
    token = await storage.tokens.find(hash_token(secret))
    if token is None or token.revoked_at is not None:
        raise AuthError("The token is unknown or has been revoked.")
    if token.expires_at is not None and token.expires_at <= storage.now():
        raise AuthError("The token has expired; create a new one with 'novaro-lite token create'.")
    await storage.tokens.touch(token)
    return token


def require_token(endpoint: Endpoint) -> Endpoint:
    """Wrap an endpoint so it runs only for an authenticated caller, available as api.web.deps.caller()."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        request.state.token = token = await authenticate(request)
        svc = services(request)
        budgets = token.budgets(svc.settings.limits.rate_limit_per_minute)
        if not budgets:
            return await endpoint(request)
        decision = hit_all(svc.limiter, budgets, svc.clock())
        if not decision.is_allowed:
            raise RateLimitedError(
                f"This token may make {decision.limit} requests a minute, counted with the tokens of its family"
                f" (those it was minted under and those minted under it); try again in {decision.reset_seconds} s.",
                headers={"Retry-After": str(decision.reset_seconds), **decision.headers()},
            )
        try:
            response = await endpoint(request)
        except AppError as exc:  # counted all the same: its problem says what is left, as a success does
            exc.headers = {**decision.headers(), **exc.headers}
            raise
        response.headers.update(decision.headers())
        return response

    return guarded


async def verify(request: Request) -> Response:
    return json_response(TokenInfo.of(caller(request)))


OPERATIONS = (
    Operation(
        "GET",
        f"{V1}/auth/verify",
        "auth:verify",
        verify,
        "Check a token and show whose it is",
        "auth",
        response=TokenInfo,
    ),
)
