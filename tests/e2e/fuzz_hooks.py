"""Schemathesis hooks for fuzzing a live server: webhooks are created for a real loopback receiver, and
message requests name an agent and a webhook that exist, so generated requests reach the delivery path
instead of stopping at a refused URL or an unknown id.

Loaded by `SCHEMATHESIS_HOOKS=tests.e2e.fuzz_hooks`; the test passes the receiver's URL and the ids in
NOVARO_FUZZ_RECEIVER, NOVARO_FUZZ_AGENT and NOVARO_FUZZ_WEBHOOK. Values of the wrong type are left alone,
so the negative cases still probe them.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    operation = context.operation
    if operation is None or operation.method.upper() != "POST" or not isinstance(body, dict):
        return body
    if operation.path == "/api/v1/webhooks" and isinstance(body.get("url"), str):
        body["url"] = os.environ["NOVARO_FUZZ_RECEIVER"]
    if operation.path == "/api/v1/message-requests":
        for field, variable in (("agentId", "NOVARO_FUZZ_AGENT"), ("webhookId", "NOVARO_FUZZ_WEBHOOK")):
            if isinstance(body.get(field), str):
                body[field] = os.environ[variable]
    return body
