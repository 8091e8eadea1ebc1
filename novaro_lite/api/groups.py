"""Groups endpoints: several of an account's agents in one chat, with how they take turns."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.schemas.groups import GroupCreate, GroupOut, GroupPage, GroupPatch
from novaro_lite.api.schemas.paging import PageQuery
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.delivery import groups
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.groups import Group, Member
from novaro_lite.errors import ConflictError
from novaro_lite.services import Services


async def _require_agents(request: Request, members: Sequence[Member]) -> None:
    """422 naming the first member that is not one of the caller's agents."""
    ids = [member.agent_id for member in members]
    unknown = await services(request).storage.groups.unknown_agents(caller(request).account, ids)
    if unknown:
        raise invalid(["body", "members", ids.index(unknown[0]), "agentId"], f"there is no agent {unknown[0]!r}")


async def speaking(
    svc: Services, account: str, group_id: str, agent_id: str | None
) -> tuple[Group, dict[str, Agent], tuple[str, ...]]:
    """The group a message is sent to, its members' agents, and the speakers the caller names: a `manual`
    group's member named by `agentId`, which the other strategies refuse (the server picks who answers)."""
    group = await svc.storage.groups.get(account, group_id)
    agents = await groups.members(svc, group)
    if not agents:
        raise ConflictError(group.notice() or "The group has no members.")
    if group.strategy == "manual":
        if agent_id not in agents:
            raise invalid(["body", "agentId"], "this group is manual: name the member who answers")
        return group, agents, (agent_id,)
    if agent_id is not None:
        raise invalid(["body", "agentId"], f"this group's strategy is {group.strategy}: the server picks who answers")
    return group, agents, ()


async def create_group(request: Request) -> Response:
    body = await read_body(request, GroupCreate)
    fields = body.fields()
    await _require_agents(request, fields.members)
    group = await services(request).storage.groups.create(caller(request).account, fields)
    return json_response(GroupOut.of(group), 201)


async def list_groups(request: Request) -> Response:
    listing = read_query(request, PageQuery).listing()
    found = await services(request).storage.groups.list(caller(request).account, listing)
    data = [GroupOut.of(g) for g in found.items]
    return json_response(GroupPage(data=data, next_cursor=found.next_cursor, total=found.total))


async def get_group(request: Request) -> Response:
    group = await services(request).storage.groups.get(caller(request).account, request.path_params["id"])
    return json_response(GroupOut.of(group))


async def update_group(request: Request) -> Response:
    changes = (await read_body(request, GroupPatch)).changes()
    if "members" in changes:
        await _require_agents(request, changes["members"])
    group = await services(request).storage.groups.update(caller(request).account, request.path_params["id"], changes)
    return json_response(GroupOut.of(group))


async def delete_group(request: Request) -> Response:
    await services(request).storage.groups.delete(caller(request).account, request.path_params["id"])
    return Response(status_code=204)


PATH = f"{V1}/groups"
ITEM = f"{PATH}/{{id}}"
OPERATIONS = (
    Operation(
        "POST",
        PATH,
        "groups:create",
        create_group,
        "Create a group of agents",
        "groups",
        status=201,
        body=GroupCreate,
        response=GroupOut,
        errors=(409,),
    ),
    Operation(
        "GET",
        PATH,
        "groups:list",
        list_groups,
        "List groups, oldest or newest first, searched by name",
        "groups",
        query=PageQuery,
        response=GroupPage,
    ),
    Operation("GET", ITEM, "groups:get", get_group, "Show a group", "groups", response=GroupOut),
    Operation(
        "PATCH",
        ITEM,
        "groups:update",
        update_group,
        "Change a group's name, members, strategy or turn limit",
        "groups",
        body=GroupPatch,
        response=GroupOut,
        errors=(409,),
    ),
    Operation("DELETE", ITEM, "groups:delete", delete_group, "Delete a group (its agents stay)", "groups", status=204),
)
