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


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    operation = context.operation
    if operation is None or operation.method.upper() != "POST" or not isinstance(body, dict):
        return body
    if operation.path == "/api/v1/webhooks" and _valid(body.get("url"), URL, 2000):
        body["url"] = os.environ["NOVARO_FUZZ_RECEIVER"]
    if operation.path == "/api/v1/message-requests":
        if _valid(body.get("groupId"), ANY, 100):  # a generated group id names no group: one agent answers
            del body["groupId"]
            body.setdefault("agentId", "an agent")
        for field, variable in (("agentId", "NOVARO_FUZZ_AGENT"), ("webhookId", "NOVARO_FUZZ_WEBHOOK")):
            if _valid(body.get(field), ANY, 100):
                body[field] = os.environ[variable]
    return body


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """Never revoke the token the run itself uses (every phase learns its id from /auth/verify): all the rest
    of the run would be 401s. Revoking any other id is still sent."""
    is_revoke = case.operation.method.upper() == "DELETE" and case.operation.path == "/api/v1/tokens/{id}"
    if is_revoke and (case.path_parameters or {}).get("id") == os.environ["NOVARO_FUZZ_TOKEN_ID"]:
        case.path_parameters["id"] = "tok_of_nobody"


def _valid(value: Any, pattern: re.Pattern[str], longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest and pattern.fullmatch(value) is not None
