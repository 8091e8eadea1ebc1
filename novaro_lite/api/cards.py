"""Character Card import and export: POST /api/v1/agents/import (JSON, PNG or CHARX; the picture is kept), its
preview (POST /api/v1/agents/import/preview: what it would create), GET /api/v1/agents/{id}/card.

The use cases (create_from_card, export_card) are shared with the CLI (`novaro-lite agent import/export`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.schemas.agents import AgentCreate, AgentOut
from novaro_lite.api.schemas.cards import Card, CardContext, CardPreview, CardQuery
from novaro_lite.api.web.deps import caller, json_response, read_bytes, read_query, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.domain import text as text_rule
from novaro_lite.domain.agents import Agent, AgentFields
from novaro_lite.domain.avatars import Avatar
from novaro_lite.domain.card_export import card_png, card_v2, card_v3
from novaro_lite.domain.cards import (
    MAX_CARD_BYTES,
    CardError,
    CardImport,
    bind_contexts,
    card_from_png,
    parse_card,
    parse_json,
    wire_to_card,
)
from novaro_lite.domain.charx import CARD as CHARX_CARD, is_charx, read_charx
from novaro_lite.domain.contexts import Context
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.png import MEDIA_TYPE as PNG, PNGError, is_png, without_text
from novaro_lite.errors import ValidationError
from novaro_lite.storage.store import Storage

CARD_FILES = ("image/png", "application/zip", "image/jpeg")  # a PNG card; a CHARX (a zip, or a JPEG and a zip)
FORM_UPLOAD = (
    "the body is a form upload (multipart/form-data); send the card file itself as the body, e.g."
    " curl --data-binary @card.png -H 'Content-Type: image/png'"
)


def _invalid(loc: list[str | int], message: str) -> ValidationError:
    where = ".".join(str(part) for part in loc[1:]) or "body"
    return ValidationError(
        f"The character card is invalid at {where}: {message}.", errors=[{"loc": loc, "msg": message}]
    )


def _agent_errors(exc: pydantic.ValidationError, prefix: list[str | int], where: tuple[str, ...]) -> ValidationError:
    errors: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False):
        head, *rest = error["loc"] or ("name",)
        path = [*where, wire_to_card(str(head))]
        message = error["msg"].removeprefix("Value error, ")
        if head == "persona":
            message = f"description, personality and scenario together (the agent's persona): {message}"
        errors.append({"loc": [*prefix, *path, *rest], "msg": message})
    first = errors[0]
    place = ".".join(str(part) for part in first["loc"][1:])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ValidationError(f"The character card is invalid at {place}: {first['msg']}{more}.", errors=errors)


def _card_and_picture(raw: bytes, picture_limit: int) -> tuple[Any, list[str | int], Avatar | None]:
    """The card's JSON, where in the body it is, and its picture: a PNG card is its own picture (without its
    text chunks), a CHARX brings its icon, a JSON card has none."""
    if is_png(raw):
        doc, chunk = card_from_png(raw)
        try:
            image = without_text(raw)
        except PNGError as exc:
            raise CardError(["body"], f"the card's PNG holds no picture: {exc}") from None
        if len(image) > picture_limit:
            message = f"the card's picture is {len(image)} bytes; the limit (avatar_max_bytes) is {picture_limit}"
            raise CardError(["body"], message)
        return doc, ["body", chunk], Avatar(PNG, image)
    if is_charx(raw):
        doc, icon = read_charx(raw, picture_limit)
        return doc, ["body", CHARX_CARD], icon
    return parse_json(raw), ["body"], None


@dataclasses.dataclass(frozen=True)
class _ReadCard:
    imported: CardImport
    fields: AgentFields  # validated as POST /api/v1/agents validates
    picture: Avatar | None


def _read_card(raw: bytes, picture_limit: int, is_declared_png: bool) -> _ReadCard:
    """The card in `raw` (JSON, a PNG that carries one, or a CHARX) read and checked whole; a 422 names what is
    wrong. `picture_limit` is the most bytes its picture may have."""
    prefix: list[str | int] = ["body"]
    if is_declared_png and not is_png(raw):
        raise _invalid(["body"], "the body is sent as image/png but does not start with the PNG signature")
    try:
        doc, prefix, picture = _card_and_picture(raw, picture_limit)
        imported = parse_card(doc)
    except CardError as exc:
        loc = exc.loc if exc.loc and exc.loc[0] == "body" else [*prefix, *exc.loc]
        raise _invalid(loc, exc.message) from None
    try:
        fields = AgentCreate.model_validate(imported.agent).to_fields()
    except pydantic.ValidationError as exc:
        raise _agent_errors(exc, prefix, imported.where) from None
    return _ReadCard(imported, fields, picture)


async def create_from_card(
    storage: Storage, account: str, raw: bytes, *, picture_limit: int, is_declared_png: bool = False
) -> Agent:
    """Create an agent (with contexts from its lorebook, and its picture) from a card: JSON, a PNG that carries
    one, or a CHARX; `picture_limit` is the most bytes its picture may have."""
    card = _read_card(raw, picture_limit, is_declared_png)
    now = storage.now()
    contexts = [
        Context(new_id("ctx", now), account, entry.name, entry.content, now, now, entry.keywords)
        for entry in card.imported.entries
    ]
    ids = tuple(context.id for context in contexts)
    fields = dataclasses.replace(card.fields, context_ids=ids, card_extras=bind_contexts(card.imported.extras, ids))
    return (await storage.agents.create_many(account, [fields], contexts, [card.picture]))[0]


def _preview(card: _ReadCard) -> CardPreview:
    fields, imported = card.fields, card.imported
    kept = imported.extras.get("book", {}).get("entries", [])
    return CardPreview(
        spec=imported.extras["spec"],
        name=fields.name,
        persona=fields.persona,
        greeting=fields.greeting,
        creator=fields.creator,
        tags=list(fields.tags),
        contexts=[CardContext(name=entry.name, keys=list(entry.keywords.keys)) for entry in imported.entries],
        unused_entries=sum(1 for item in kept if "raw" in item),
        has_picture=card.picture is not None,
    )


async def export_card(
    storage: Storage, account: str, agent_id: str, *, spec: str = "v3"
) -> tuple[Agent, dict[str, Any]]:
    """The agent as a card object (V3 unless spec is "v2"), with its contexts as the lorebook."""
    agent = await storage.agents.with_card_extras(await storage.agents.get(account, agent_id))
    contexts = {context.id: context for context in await storage.contexts.get_many(account, agent.context_ids)}
    return agent, (card_v2 if spec == "v2" else card_v3)(agent, contexts)


async def export_png(storage: Storage, account: str, agent_id: str) -> tuple[Agent, bytes]:
    """The agent as a PNG card: its own picture when it is a PNG, else a plain one, with V2 and V3 chunks."""
    agent = await storage.agents.with_card_extras(await storage.agents.get(account, agent_id))
    contexts = {context.id: context for context in await storage.contexts.get_many(account, agent.context_ids)}
    return agent, card_png(agent, contexts, await storage.avatars.get(account, agent_id))


def file_name(agent: Agent, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", agent.name).strip("_.") or agent.id
    return f"{stem[:60]}.{extension}"


async def _card_body(request: Request) -> tuple[bytes, bool]:
    """The card file sent as the body, and whether it was declared a PNG."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":  # curl -F: the usual first try, and no card tool's format
        raise _invalid(["body"], FORM_UPLOAD)
    return await read_bytes(request, MAX_CARD_BYTES), media == PNG


async def import_card(request: Request) -> Response:
    raw, is_declared_png = await _card_body(request)
    svc = services(request)
    agent = await create_from_card(
        svc.storage,
        caller(request).account,
        raw,
        picture_limit=svc.settings.avatar_max_bytes,
        is_declared_png=is_declared_png,
    )
    return json_response(AgentOut.of(agent), 201)


async def preview_card(request: Request) -> Response:
    raw, is_declared_png = await _card_body(request)
    card = _read_card(raw, services(request).settings.avatar_max_bytes, is_declared_png)
    return json_response(_preview(card))


async def get_card(request: Request) -> Response:
    query = read_query(request, CardQuery)
    storage, account, agent_id = services(request).storage, caller(request).account, request.path_params["id"]
    if query.format == "png":
        agent, image = await export_png(storage, account, agent_id)
        disposition = f'attachment; filename="{file_name(agent, "png")}"'
        return Response(image, media_type=PNG, headers={"Content-Disposition": disposition})
    agent, card = await export_card(storage, account, agent_id, spec=query.spec)
    body = text_rule.dumps(card).encode("utf-8")
    disposition = f'attachment; filename="{file_name(agent, "json")}"'
    return Response(body, media_type="application/json", headers={"Content-Disposition": disposition})


OPERATIONS = (
    Operation(
        "POST",
        f"{V1}/agents/import",
        "agents:import",
        import_card,
        "Create an agent from a Character Card V1/V2/V3 (JSON, a PNG carrying it, or a CHARX; up to 5 MB)"
        " with its lorebook and picture",
        "agents",
        status=201,
        body=Card,
        response=AgentOut,
        body_media=CARD_FILES,
    ),
    Operation(
        "POST",
        f"{V1}/agents/import/preview",
        "agents:import-preview",
        preview_card,
        "What importing a Character Card would create (the agent's main fields, the contexts its lorebook becomes),"
        " read and checked as an import, nothing created",
        "agents",
        body=Card,
        response=CardPreview,
        body_media=CARD_FILES,
    ),
    Operation(
        "GET",
        f"{V1}/agents/{{id}}/card",
        "agents:card",
        get_card,
        "Export an agent as a Character Card V3 (JSON, or its picture as a PNG with V2 and V3 chunks)",
        "agents",
        query=CardQuery,
        response=Card,
        binary="image/png",
    ),
)
