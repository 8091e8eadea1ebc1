"""The application's errors: what went wrong, its HTTP status, and the problem type it answers.

    AppError                      500  base class; never raised bare
    ├── BadRequestError           400  the body is not JSON, or not a JSON object
    ├── AuthError                 401  missing, malformed, unknown, revoked or expired token
    ├── ForbiddenError            403  the token may not do this (revoke a token not minted under it)
    ├── NotFoundError             404  no such resource in the caller's account
    ├── ConflictError             409  the resource's state forbids the change
    ├── PayloadTooLargeError      413  the body is larger than max_body_bytes
    ├── ValidationError           422  the body or query does not match the schema; carries `errors`
    ├── RateLimitedError          429  the token made more requests this minute than its rate limit
    ├── HeadersTooLargeError      431  the request head is too large (raised by http_server, not the app)
    ├── ProviderError             502  an upstream model provider failed or answered nonsense
    │   ├── ProviderTimeoutError  504  an upstream model provider timed out
    │   └── ProviderBusyError     503  an upstream model provider still said 429 after retries
    └── UnavailableError          503  a dependency (the database) is unusable
        ├── DatabaseUnavailableError  503  the database is unreachable, restarting or busy: retry after Retry-After
        └── StorageFullError          507  the database's disk is full: writes fail, reads still work

Domain and storage code raise these; only the api package turns them into responses (api/web/problems.py, and
api/openai/errors.py under /v1). This module imports nothing of the app and no web framework.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of the errors the API answers as problems; `slug` names its type, served at /problems/<slug>."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal Server Error"
    about: ClassVar[str] = "The server hit an unexpected error. It logged the details; the request did nothing."

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions or {}  # RFC 9457 extension members: more about the problem, by name


class BadRequestError(AppError):
    status, slug, title = 400, "bad-request", "Bad request"
    about = "The request body could not be read: it is not valid JSON, or not a JSON object."


class AuthError(AppError):
    status, slug, title = 401, "unauthorized", "Unauthorized"
    about = (
        "The request needs `Authorization: Bearer nl_…` with a token that exists, is not revoked and has not"
        " expired; `detail` says which of these failed. Create tokens with `novaro-lite token create`."
    )

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="novaro-lite"'})


class ForbiddenError(AppError):
    status, slug, title = 403, "forbidden", "Forbidden"
    about = (
        "The token is valid but may not do this: a token revokes only itself and the tokens minted under it;"
        " the operator revokes any token with `novaro-lite token revoke`."
    )


class NotFoundError(AppError):
    status, slug, title = 404, "not-found", "Not found"
    about = "There is no such route, or no resource with that id in the account of the token used."


class ConflictError(AppError):
    status, slug, title = 409, "conflict", "Conflict"
    about = "The resource's current state does not allow the change; `detail` says what stands in the way."


class PayloadTooLargeError(AppError):
    status, slug, title = 413, "payload-too-large", "Payload too large"
    about = "The request body is larger than the server accepts (the operator's `max_body_bytes`)."


class HeadersTooLargeError(AppError):
    status, slug, title = 431, "headers-too-large", "Request header fields too large"
    about = "The request line, one header, or all headers together are larger than the server reads (16/64 KiB)."


class RateLimitedError(AppError):
    status, slug, title = 429, "rate-limited", "Too many requests"
    about = "The token made more requests this minute than its rate limit; `Retry-After` says when to try again."


class ValidationError(AppError):
    status, slug, title = 422, "validation", "Validation failed"
    about = (
        "A value in the body, query, path or a header does not match the API's schema or rules. `errors` lists"
        " each one: `loc` is where (`body`, `query`, `path` or `header`, then the field path), `msg` what is wrong."
    )


class ProviderError(AppError):
    status, slug, title = 502, "provider", "Upstream provider failed"
    about = "The model provider that writes the agent's reply failed or answered something unusable."


class ProviderTimeoutError(ProviderError):
    status, slug, title = 504, "provider-timeout", "Upstream provider timed out"
    about = "The model provider did not answer in time."


class ProviderBusyError(ProviderError):
    status, slug, title = 503, "provider-busy", "Upstream provider is rate limiting"
    about = "The model provider kept answering 429 (too many requests); try again later."


class UnavailableError(AppError):
    status, slug, title = 503, "unavailable", "Service unavailable"
    about = "A dependency of the server, such as its database, is unusable right now."


class DatabaseUnavailableError(UnavailableError):
    slug, title = "database-unavailable", "Database unavailable"
    about = (
        "The server cannot use its database right now: it is unreachable, starting, shutting down or too busy to"
        " answer in time. Send the request again after `Retry-After` seconds, with the same `Idempotency-Key`"
        " where the endpoint takes one (a write cut off while it committed may have been stored)."
    )
    RETRY_AFTER_SECONDS: ClassVar[int] = 1  # the server takes up again within a moment of the database's return

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)})


class StorageFullError(UnavailableError):
    status, slug, title = 507, "storage-full", "Insufficient storage"
    about = (
        "The disk that holds the server's database is full, so it cannot store anything new; reading still"
        " works. Nothing was changed. Once the operator frees space, writes succeed again without a restart."
    )
