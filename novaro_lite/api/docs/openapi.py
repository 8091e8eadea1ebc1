"""Build the OpenAPI 3.1 document from the Operation list and the pydantic models that validate requests."""

from __future__ import annotations

import http
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from novaro_lite import __version__
from novaro_lite.api.docs.webhooks import WebhookDelivery, api_description, webhooks_section
from novaro_lite.api.schemas.events import event_webhooks
from novaro_lite.api.schemas.openai import OpenAIError
from novaro_lite.api.schemas.problems import Problem
from novaro_lite.api.web.operation import Operation

_REF = "#/components/schemas/{model}"
Mode = Literal["validation", "serialization"]
SSE_EVENT = {  # the schema of one event, as OpenAPI 3.2 describes sequential media types
    "type": "object",
    "description": "Server-sent events: `delta` {text} as tokens arrive, `message` {role, content, createdAt} per "
    "finished bubble, then `done` {id, agentId, usage}; a failure after the stream began is an `error` problem. "
    "With `groupId`, each speaker's events follow a `speaker` {agentId, name, turn} event, its `message` events "
    "carry its `agentId`, and `done` is {id, groupId, replies: [{agentId, name, turn, usage}]}.",
    "properties": {
        "event": {"enum": ["speaker", "delta", "message", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
    "examples": [  # the start of a group's stream
        {"event": "speaker", "data": '{"agentId":"agt_01jqz8v1b3d5f7h9k1m3p5r7t9","name":"Lena","turn":1}'},
        {"event": "delta", "data": '{"text":"Yes! "}'},
        {
            "event": "message",
            "data": '{"role":"assistant","content":"Yes! I\'ll bring bread.","createdAt":1764054000,'
            '"agentId":"agt_01jqz8v1b3d5f7h9k1m3p5r7t9"}',
        },
    ],
}
OPENAI_SSE_EVENT = {
    "type": "object",
    "description": "Server-sent events as OpenAI streams them: each `data` holds a chat.completion.chunk (its"
    " `choices[0].delta` carries the text), the last is `[DONE]`; a failure after the stream began is a `data`"
    " holding an `error` object.",
    "properties": {"data": {"type": "string"}},
    "required": ["data"],
}


Refs = dict[Any, dict[str, Any]]  # keyed by (model, mode)


def _schema_refs(operations: Sequence[Operation]) -> tuple[Refs, dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], Mode]] = [
        (Problem, "serialization"),
        (OpenAIError, "serialization"),
        (WebhookDelivery, "serialization"),
    ]
    for op in operations:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)
    return refs, top.get("$defs", {})


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.pop("description", ""),
            "schema": prop,
        }
        for name, prop in schema["properties"].items()
    ]


def _media(types: Sequence[str]) -> dict[str, Any]:
    return {media: {"schema": {"type": "string", "contentMediaType": media}} for media in types}


def _operation(op: Operation, refs: Refs) -> dict[str, Any]:
    if op.openai:
        problem = {"application/json": {"schema": refs[(OpenAIError, "serialization")]}}
    else:
        problem = {"application/problem+json": {"schema": refs[(Problem, "serialization")]}}
    content: dict[str, Any] = {}
    if op.response is not None:
        content["application/json"] = {"schema": refs[(op.response, "serialization")]}
    if op.streams or op.events is not None:
        content["text/event-stream"] = {"schema": op.events or (OPENAI_SSE_EVENT if op.openai else SSE_EVENT)}
    binary = {op.binary: {"schema": {"type": "string", "contentMediaType": op.binary}}} if op.binary else {}
    if op.response is not None:
        content |= binary
    content |= _media(op.answer_media)
    responses = {
        str(status): {
            "description": http.HTTPStatus(status).phrase,
            **({"content": content} if content and status not in (204, 304) else {}),
        }
        for status in (op.status, *op.also)
    }
    for status in op.error_statuses:
        responses[str(status)] = {"description": http.HTTPStatus(status).phrase, "content": problem}
    document: dict[str, Any] = {
        "operationId": op.name.replace(":", "_"),
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in op.path_params
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    parameters += [
        {
            "name": name,
            "in": "header",
            "required": False,
            "description": text,
            "schema": {"type": "string", "maxLength": 200},
        }
        for name, text in op.headers
    ]
    if parameters:
        document["parameters"] = parameters
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}, **binary},
        }
    if op.body_media:  # instead of a JSON body, or beside it
        document.setdefault("requestBody", {"required": True, "content": {}})["content"] |= _media(op.body_media)
    if op.is_public:
        document["security"] = []
    return document


def _links(creator: Operation, operations: Sequence[Operation]) -> dict[str, Any]:
    """OpenAPI links from a create operation to every operation on the item it created (`{path}/{id}…`)."""
    item = f"{creator.path}/{{id}}"
    return {
        op.name.replace(":", "_"): {
            "operationId": op.name.replace(":", "_"),
            "parameters": {"id": "$response.body#/id"},
            "description": f"{op.summary}: the one just created.",
        }
        for op in operations
        if op.documented_path == item or op.documented_path.startswith(item + "/")
    }


def build_openapi(operations: Sequence[Operation]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for the operations that are in the schema."""
    documented = [op for op in operations if op.in_schema]
    refs, schemas = _schema_refs(documented)
    paths: dict[str, dict[str, Any]] = {}
    for op in documented:
        paths.setdefault(op.documented_path, {})[op.method.lower()] = _operation(op, refs)
        links = _links(op, documented) if op.method == "POST" and op.status in (201, 202) else {}
        if links:
            paths[op.documented_path]["post"]["responses"][str(op.status)]["links"] = links
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "novaro-lite",
            "version": __version__,
            "description": api_description(),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "webhooks": {**webhooks_section(refs[(WebhookDelivery, "serialization")]), **event_webhooks()},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "An nl_ token."}},
        },
    }
