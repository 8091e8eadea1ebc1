"""Schemathesis generates requests from /openapi.json against the live server: no 5xx, no off-spec response."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.server import running_server


def test_live_server_conforms_to_its_own_openapi_spec(tmp_path: Path):
    with running_server([], cwd=tmp_path) as server:
        assert server.first_token is not None
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {server.first_token}",
                "--checks",
                "all",
                # Some rules are beyond JSON Schema (probabilities that sum to 1, IANA zone names), so a
                # schema-valid body can still earn a 422; every other check, response conformance included, runs.
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "25",
                "--seed",
                "7",
                "--generation-database",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
