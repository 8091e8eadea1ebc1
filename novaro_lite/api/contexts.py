"""Contexts endpoints: reusable named background text, attached to agents or added per request."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.schemas.contexts import ContextCreate, ContextOut, ContextPage, ContextPatch, DeleteQuery
from novaro_lite.api.schemas.paging import PageQuery
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation


async def require_contexts(
    request: Request, context_ids: Sequence[str], where: Sequence[str | int] = ("body", "contextIds")
) -> None:
    """422 naming the first id that is not one of the caller's contexts."""
    unknown = await services(request).storage.contexts.unknown(caller(request).account, context_ids)
    if unknown:
        position = list(context_ids).index(unknown[0])
        raise invalid([*where, position], f"there is no context with id {unknown[0]!r}")


async def create_context(request: Request) -> Response:
    body = await read_body(request, ContextCreate)
    context = await services(request).storage.contexts.create(
        caller(request).account, body.name, body.content, body.keywords()
    )
    return json_response(ContextOut.of(context), 201)


async def list_contexts(request: Request) -> Response:
    listing = read_query(request, PageQuery).listing()
    found = await services(request).storage.contexts.list(caller(request).account, listing)
    return json_response(
        ContextPage(data=[ContextOut.of(c) for c in found.items], next_cursor=found.next_cursor, total=found.total)
    )


async def get_context(request: Request) -> Response:
    context = await services(request).storage.contexts.get(caller(request).account, request.path_params["id"])
    return json_response(ContextOut.of(context))


async def update_context(request: Request) -> Response:
    patch = await read_body(request, ContextPatch)
    contexts = services(request).storage.contexts
    context = await contexts.update(caller(request).account, request.path_params["id"], patch.changes_to)
    return json_response(ContextOut.of(context))


async def delete_context(request: Request) -> Response:
    force = read_query(request, DeleteQuery).force
    await services(request).storage.contexts.delete(caller(request).account, request.path_params["id"], force=force)
    return Response(status_code=204)


PATH = f"{V1}/contexts"
ITEM = f"{PATH}/{{id}}"
OPERATIONS = (
    Operation(
        "POST",
        PATH,
        "contexts:create",
        create_context,
        "Create a context",
        "contexts",
        status=201,
        body=ContextCreate,
        response=ContextOut,
    ),
    Operation(
        "GET",
        PATH,
        "contexts:list",
        list_contexts,
        "List contexts, oldest or newest first, searched by name",
        "contexts",
        query=PageQuery,
        response=ContextPage,
    ),
    Operation("GET", ITEM, "contexts:get", get_context, "Show a context", "contexts", response=ContextOut),
    Operation(
        "PATCH",
        ITEM,
        "contexts:update",
        update_context,
        "Change a context's name or content",
        "contexts",
        body=ContextPatch,
        response=ContextOut,
    ),
    Operation(
        "DELETE",
        ITEM,
        "contexts:delete",
        delete_context,
        "Delete a context (409 while agents have it, unless force=true)",
        "contexts",
        status=204,
        query=DeleteQuery,
        errors=(409,),
    ),
)
