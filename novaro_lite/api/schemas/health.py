"""Wire models of /healthz and /readyz."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from novaro_lite.api.schemas.wire import WireModel


class Health(WireModel):
    status: Literal["ok", "unavailable"]
    version: str
    database: Literal["ok", "unavailable"]


class Readiness(WireModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"] = Field(description="Whether a write transaction commits.")
    scheduler: Literal["running", "stopped", "disabled"] = Field(
        description="The delivery scheduler; `disabled` when [scheduler] enabled = false, which is still ready."
    )
