"""POST /api/v1/agents/generate: the model writes a batch of personas; each is validated like POST /agents.

All of them are created in one transaction, or, when the model cannot produce enough valid ones after
bounded re-asks, none, with a 502 that says how many were valid and why the rest were not.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.contexts import require_contexts
from novaro_lite.api.schemas.agent_batches import GenerateAgents, GeneratedAgents
from novaro_lite.api.schemas.agents import AgentCreate, AgentOut
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.domain.agent_batches import CHUNK, MAX_ASKS, SYSTEM_PROMPT, ask, read_agents
from novaro_lite.domain.agents import AgentFields
from novaro_lite.domain.messages import ChatMessage, Prompt
from novaro_lite.domain.replies import without_thoughts
from novaro_lite.domain.text import fault_in
from novaro_lite.errors import ProviderError
from novaro_lite.providers.registry import check_model, resolve
from novaro_lite.services import Services

MAX_DATA_CHARACTERS = 200_000


def _validate(candidate: Any, fixed: dict[str, Any]) -> AgentFields:
    """Validate one persona exactly as POST /api/v1/agents would; raise ValueError saying what is wrong."""
    if not isinstance(candidate, dict):
        raise ValueError("an entry that is not a JSON object")
    name = candidate.get("name")
    if (fault := fault_in(candidate, [])) is not None:  # the model's text keeps the rule a client's does
        where = ".".join(str(part) for part in fault[0]) or "the entry"
        raise ValueError(f"{name!r}: {where}: {fault[1]}")
    try:
        return AgentCreate.model_validate(candidate | fixed, strict=False).to_fields()
    except pydantic.ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "the entry"
        raise ValueError(f"{name!r}: {where}: {error['msg'].removeprefix('Value error, ')}") from None


async def generate_agents(svc: Services, body: GenerateAgents) -> list[AgentFields]:
    """Ask the model in chunks of CHUNK, re-asking up to MAX_ASKS times per chunk; raise ProviderError if short."""
    provider, model = resolve(svc.providers, svc.settings, body.model)
    fixed = body.defaults.model_dump(by_alias=True, exclude_none=True, mode="json")
    valid: list[AgentFields] = []
    names: dict[str, str] = {}  # casefolded: as written
    unresolved: list[str] = []
    for start in range(0, body.count, CHUNK):
        want, got, problems = min(CHUNK, body.count - start), 0, list[str]()
        for _ in range(MAX_ASKS):
            if got == want:
                break
            need = want - got
            request = ask(need, body.description, body.data, fixed, sorted(names.values()), problems)
            prompt = Prompt(SYSTEM_PROMPT, (ChatMessage("user", request),), model, None, svc.clock(), "agents")
            problems = []
            try:
                candidates = read_agents(without_thoughts((await provider.complete(prompt)).text))
            except ValueError as exc:
                problems.append(str(exc))
                continue
            for candidate in candidates[:need]:
                try:
                    fields = _validate(candidate, fixed)
                except ValueError as exc:
                    problems.append(str(exc))
                    continue
                if fields.name.casefold() in names:
                    problems.append(f"the name {fields.name!r} was used twice")
                    continue
                names[fields.name.casefold()] = fields.name
                valid.append(fields)
                got += 1
            if len(candidates) < need:
                problems.append(f"{need} personas were asked for, {len(candidates)} came")
        unresolved += problems if got < want else []
    if len(valid) < body.count:
        reasons = "; ".join(dict.fromkeys(unresolved).keys())[:2000]
        raise ProviderError(
            f"The model produced {len(valid)} valid agents of the {body.count} asked for, so none were created."
            f" What was wrong with the rest: {reasons}."
        )
    return valid


async def generate(request: Request) -> Response:
    body = await read_body(request, GenerateAgents)
    svc = services(request)
    if body.data is not None and len(json.dumps(body.data, ensure_ascii=False)) > MAX_DATA_CHARACTERS:
        raise invalid(["body", "data"], f"give at most {MAX_DATA_CHARACTERS:,} characters of data")
    models: list[tuple[list[str | int], str | None]] = [
        (["body", "model"], body.model),
        (["body", "defaults", "model"], body.defaults.model),
    ]
    for loc, model in models:
        try:
            check_model(svc.settings, model)
        except ValueError as exc:
            raise invalid(loc, str(exc)) from None
    await require_contexts(request, body.defaults.context_ids or (), ["body", "defaults", "contextIds"])
    fields = await generate_agents(svc, body)
    agents = await svc.storage.agents.create_many(caller(request).account, fields)
    return json_response(GeneratedAgents(agents=[AgentOut.of(agent) for agent in agents]), 201)


OPERATIONS = (
    Operation(
        "POST",
        f"{V1}/agents/generate",
        "agents:generate",
        generate,
        "Create a batch of agents written by the model from your description and data",
        "agents",
        status=201,
        body=GenerateAgents,
        response=GeneratedAgents,
        errors=(502, 503, 504),
    ),
)
