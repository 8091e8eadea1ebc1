"""Agents endpoints: create, list, show, change and delete the caller's personas."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.contexts import require_contexts
from novaro_lite.api.schemas.agents import AgentCreate, AgentOut, AgentPage, AgentPatch
from novaro_lite.api.schemas.paging import PageQuery
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.providers.registry import check_model


def _check_model(request: Request, model: str | None) -> None:
    try:
        check_model(services(request).settings, model)
    except ValueError as exc:
        raise invalid(["body", "model"], str(exc)) from None


async def create_agent(request: Request) -> Response:
    fields = (await read_body(request, AgentCreate)).to_fields()
    _check_model(request, fields.model)
    await require_contexts(request, fields.context_ids)
    agent = await services(request).storage.agents.create(caller(request).account, fields)
    return json_response(AgentOut.of(agent), 201)


async def list_agents(request: Request) -> Response:
    listing = read_query(request, PageQuery).listing()
    found = await services(request).storage.agents.list(caller(request).account, listing)
    return json_response(
        AgentPage(data=[AgentOut.of(agent) for agent in found.items], next_cursor=found.next_cursor, total=found.total)
    )


async def get_agent(request: Request) -> Response:
    agent = await services(request).storage.agents.get(caller(request).account, request.path_params["id"])
    return json_response(AgentOut.of(agent))


async def update_agent(request: Request) -> Response:
    changes = (await read_body(request, AgentPatch)).changes()
    _check_model(request, changes.get("model"))
    await require_contexts(request, changes.get("context_ids", ()))
    agent = await services(request).storage.agents.update(caller(request).account, request.path_params["id"], changes)
    return json_response(AgentOut.of(agent))


async def delete_agent(request: Request) -> Response:
    await services(request).storage.agents.delete(caller(request).account, request.path_params["id"])
    return Response(status_code=204)


OPERATIONS = (
    Operation(
        "POST",
        f"{V1}/agents",
        "agents:create",
        create_agent,
        "Create an agent",
        "agents",
        status=201,
        body=AgentCreate,
        response=AgentOut,
    ),
    Operation(
        "GET",
        f"{V1}/agents",
        "agents:list",
        list_agents,
        "List agents, oldest or newest first, searched by name",
        "agents",
        query=PageQuery,
        response=AgentPage,
    ),
    Operation("GET", f"{V1}/agents/{{id}}", "agents:get", get_agent, "Show an agent", "agents", response=AgentOut),
    Operation(
        "PATCH",
        f"{V1}/agents/{{id}}",
        "agents:update",
        update_agent,
        "Change some fields of an agent",
        "agents",
        body=AgentPatch,
        response=AgentOut,
    ),
    Operation(
        "DELETE",
        f"{V1}/agents/{{id}}",
        "agents:delete",
        delete_agent,
        "Delete an agent",
        "agents",
        status=204,
    ),
)
