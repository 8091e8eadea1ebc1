"""An agent's picture: GET, PUT and DELETE /api/v1/agents/{id}/avatar.

A card import keeps the card's picture (api/cards.py); these replace it, take it away, or serve it with its
own type and an ETag, so that a client (the dashboard) shows it from its cache until it changes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.web.caching import unchanged
from novaro_lite.api.web.deps import caller, invalid, read_bytes, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.domain.avatars import Avatar, media_type_of
from novaro_lite.domain.png import MEDIA_TYPE as PNG, PNGError, without_text
from novaro_lite.errors import NotFoundError

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
# Private: a picture is read with a token. no-cache: kept, but asked about (If-None-Match) before each use.
CACHING = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}


def _none(agent_id: str) -> NotFoundError:
    return NotFoundError(f"The agent {agent_id!r} has no picture.")


async def get_avatar(request: Request) -> Response:
    agent_id = request.path_params["id"]
    avatar = await services(request).storage.avatars.get(caller(request).account, agent_id)
    if avatar is None:
        raise _none(agent_id)
    headers = {"ETag": avatar.etag, **CACHING}
    if unchanged(request, avatar.etag):
        return Response(status_code=304, headers=headers)
    return Response(avatar.data, media_type=avatar.media_type, headers=headers)


async def put_avatar(request: Request) -> Response:
    svc = services(request)
    image = await read_bytes(request, svc.settings.avatar_max_bytes)
    media_type = media_type_of(image)
    if media_type is None:
        raise invalid(["body"], "must be a PNG, JPEG or WebP image (told by its first bytes, not its Content-Type)")
    if media_type == PNG:
        try:
            image = without_text(image)  # a card's chunks in it would go stale: the agent's card is the truth
        except PNGError as exc:
            raise invalid(["body"], f"the PNG is malformed: {exc}") from None
    avatar = Avatar(media_type, image)
    await svc.storage.avatars.put(caller(request).account, request.path_params["id"], avatar)
    return Response(status_code=204, headers={"ETag": avatar.etag})


async def delete_avatar(request: Request) -> Response:
    # Idempotent: afterwards the agent has no picture, whether or not it had one (another account's: 404).
    await services(request).storage.avatars.delete(caller(request).account, request.path_params["id"])
    return Response(status_code=204)


PATH = f"{V1}/agents/{{id}}/avatar"
OPERATIONS = (
    Operation(
        "GET",
        PATH,
        "agents:avatar",
        get_avatar,
        "Show an agent's picture (404 when it has none)",
        "agents",
        also=(304,),
        answer_media=IMAGE_TYPES,
        headers=(("If-None-Match", "The ETag of the picture you have: 304 when it is still the one."),),
    ),
    Operation(
        "PUT",
        PATH,
        "agents:avatar-put",
        put_avatar,
        "Give an agent a picture (PNG, JPEG or WebP; up to avatar_max_bytes), replacing its own",
        "agents",
        status=204,
        body_media=IMAGE_TYPES,
        errors=(413, 422),
    ),
    Operation(
        "DELETE", PATH, "agents:avatar-delete", delete_avatar, "Take an agent's picture away", "agents", status=204
    ),
)
