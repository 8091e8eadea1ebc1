"""What the model sees: the prompt an agent would be given for a sample conversation, built by the same code
as a reply (generation.plan_prompt), without calling the model."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.contexts import require_contexts
from novaro_lite.api.schemas.prompt_preview import ContextUse, PromptMessage, PromptPreview, PromptPreviewRequest
from novaro_lite.api.web.deps import caller, json_response, read_body, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.domain.contexts import APPLIES
from novaro_lite.generation import plan_prompt


async def preview_prompt(request: Request) -> Response:
    body = await read_body(request, PromptPreviewRequest)
    await require_contexts(request, body.context_ids)
    svc = services(request)
    agent = await svc.storage.agents.get(caller(request).account, request.path_params["id"])
    messages = [message.to_domain() for message in body.messages]
    plan = await plan_prompt(svc, agent, messages, body.context_ids)
    return json_response(
        PromptPreview(
            model=f"{plan.provider.name}/{plan.prompt.model}",
            system=plan.prompt.system,
            messages=[PromptMessage(role=m.role, content=m.content) for m in plan.prompt.messages],
            contexts=[
                ContextUse(
                    id=c.id,
                    name=c.name,
                    keys=list(c.keywords.keys),
                    secondary_keys=list(c.keywords.secondary_keys) if c.keywords.selective else [],
                    scan_depth=c.keywords.scan_depth,
                    entered=why in APPLIES,
                    why=why,
                )
                for c, why in zip(plan.considered, plan.why, strict=True)
            ],
        )
    )


OPERATIONS = (
    Operation(
        "POST",
        f"{V1}/agents/{{id}}/prompt-preview",
        "agents:prompt-preview",
        preview_prompt,
        "Show the prompt the model would get for a sample conversation (the model is not called)",
        "agents",
        body=PromptPreviewRequest,
        response=PromptPreview,
    ),
)
