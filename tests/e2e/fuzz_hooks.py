"""Schemathesis hooks for fuzzing a live server: webhooks are created for a real loopback receiver, and
message requests name an agent and a webhook that exist, so generated requests reach the delivery path
instead of stopping at a refused URL or an unknown id.

Loaded by `SCHEMATHESIS_HOOKS=tests.e2e.fuzz_hooks`; the test passes the receiver's URL and the ids in
NOVARO_FUZZ_RECEIVER, NOVARO_FUZZ_AGENT and NOVARO_FUZZ_WEBHOOK, and its own token's id in
NOVARO_FUZZ_TOKEN_ID. Only values the schema allows are
replaced: a value generated to break the schema is left alone, so the negative cases still probe it.
"""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis

URL = re.compile(r"https?://\S+")  # the webhook URL pattern of the spec
ANY = re.compile(r".+", re.DOTALL)


def _mapped(operation: Any, body: Any) -> Any:
    if operation is None or operation.method.upper() != "POST" or not isinstance(body, dict):
        return body
    if operation.path == "/api/v1/webhooks" and _valid(body.get("url"), URL, 2000):
        body["url"] = os.environ["NOVARO_FUZZ_RECEIVER"]
    if operation.path == "/api/v1/message-requests":
        # `agentId` and `groupId` are each optional in the schema, but one must name who answers: the fuzzed
        # agent does (a generated group id names no group). A wrongly typed one is left to probe the server.
        if body.get("groupId") is None or _valid(body.get("groupId"), ANY, 100):
            body.pop("groupId", None)
            if body.get("agentId") is None:
                body["agentId"] = os.environ["NOVARO_FUZZ_AGENT"]
        messages = body.get("messages")
        for message in messages if isinstance(messages, list) else ():
            # A user message may name its writer, an assistant message its agent, never the other way round.
            if isinstance(message, dict):
                message.pop("agentId" if message.get("role") == "user" else "name", None)
        for field, variable in (("agentId", "NOVARO_FUZZ_AGENT"), ("webhookId", "NOVARO_FUZZ_WEBHOOK")):
            if _valid(body.get(field), ANY, 100):
                body[field] = os.environ[variable]
    return body


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """Point bodies at the live agent, webhook and receiver, here at the call, which every phase goes through
    (the coverage phase builds bodies around the spec's examples, whose ids name nothing on this server). And
    never revoke the token the run itself uses (every phase learns its id from /auth/verify): all the rest of
    the run would be 401s. Revoking any other id is still sent."""
    case.body = _mapped(case.operation, case.body)
    if "json" in kwargs:
        kwargs["json"] = _mapped(case.operation, kwargs["json"])
    is_revoke = case.operation.method.upper() == "DELETE" and case.operation.path == "/api/v1/tokens/{id}"
    if is_revoke and (case.path_parameters or {}).get("id") == os.environ["NOVARO_FUZZ_TOKEN_ID"]:
        case.path_parameters["id"] = "tok_of_nobody"


def _valid(value: Any, pattern: re.Pattern[str], longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest and pattern.fullmatch(value) is not None
