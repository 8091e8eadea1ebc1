"""Schemathesis generates requests from /openapi.json against the live server: no 5xx, no off-spec response.

Every phase runs, the stateful one included (links inferred from the spec and from Location headers), with
webhooks creatable for a loopback receiver, so message requests reach the delivery path. `make fuzz` runs
the same with many more examples (NOVARO_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.server import running_server
from tests.fakes.receiver import Receiver
from tests.fakes.serve import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]


def test_live_server_conforms_to_its_own_openapi_spec(tmp_path: Path):
    config = tmp_path / "novaro.toml"
    config.write_text("[webhooks]\nallow_private_networks = true\n[delivery]\ntime_scale = 1000\n")
    # Negative data for /v1/chat/completions (1,001 messages of long text) can pass max_body_bytes, which the
    # server refuses with 413 before reading it: a rejection too, which schemathesis does not count by default.
    statuses = '["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]'
    (tmp_path / "schemathesis.toml").write_text(f"[checks.negative_data_rejection]\nexpected-statuses = {statuses}\n")
    examples = os.environ.get("NOVARO_FUZZ_EXAMPLES", "25")
    receiver = Receiver()
    with (
        serve_in_thread(receiver.app()) as receiver_url,
        running_server(["--config", str(config)], cwd=tmp_path) as server,
    ):
        assert server.first_token is not None
        auth = {"Authorization": f"Bearer {server.first_token}"}
        agent = httpx.post(
            f"{server.url}/api/v1/agents",
            json={"name": "Fuzzed", "activeHours": {"start": "00:00", "end": "00:00"}},
            headers=auth,
        ).json()
        hook = httpx.post(f"{server.url}/api/v1/webhooks", json={"url": f"{receiver_url}/hook"}, headers=auth).json()
        env = os.environ | {
            "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
            "NOVARO_FUZZ_RECEIVER": f"{receiver_url}/hook",
            "NOVARO_FUZZ_AGENT": agent["id"],
            "NOVARO_FUZZ_WEBHOOK": hook["id"],
            "NOVARO_FUZZ_TOKEN_ID": httpx.get(f"{server.url}/api/v1/auth/verify", headers=auth).json()["id"],
            "PYTHONPATH": str(ROOT),
        }
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
                examples,
                "--seed",
                "7",
                "--generation-database",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            cwd=tmp_path,
            env=env,
        )
        log = "".join(server.output)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Stateful" in result.stdout, result.stdout[-3000:]
    assert "Traceback" not in log, log[-6000:]
    references = [receipt.json.get("reference") for receipt in receiver.receipts]
    assert "novaro-lite:ping" in references, "no webhook was created and pinged"
    lines = [line for line in log.splitlines() if "message-requests" in line]
    assert set(references) - {"novaro-lite:ping"}, f"no generated message request reached the receiver: {lines[-12:]}"
