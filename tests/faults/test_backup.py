"""`novaro-lite db backup` on a live SQLite server under load, and a restore that delivers what was pending.

The first server runs without its scheduler, so it accepts but never delivers: every delivery is the
restored server's, whatever the load on this machine. About 10 s.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import httpx

from tests.e2e.server import novaro_command, running_server
from tests.e2e.test_async_delivery import api_client, server_args, until
from tests.fakes.receiver import Receiver
from tests.fakes.serve import serve_in_thread

BACKED_UP = re.compile(r"backed up to .* \(([\d.]+) MB in ([\d.]+) s\)")
PENDING = 40


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("NOVARO_LITE_")}
    environ.update(env or {})
    return subprocess.run(novaro_command(*args), cwd=cwd, env=environ, capture_output=True, text=True, timeout=60)


def test_a_backup_taken_under_load_restores_into_a_server_that_delivers_the_pending_requests(tmp_path: Path):
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as receiver_url:
        args = server_args(tmp_path)
        accepting = tmp_path / "accepting.toml"
        accepting.write_text(Path(args[1]).read_text() + "\n[scheduler]\nenabled = false\n")
        first = ["--config", str(accepting), *args[2:]]
        with running_server(first, cwd=tmp_path) as server, api_client(server, server.first_token or "") as api:
            agent_id, webhook = api.setup(f"{receiver_url}/hook")
            pending = [api.accept(agent_id, webhook["id"])["id"] for _ in range(PENDING)]

            # Load while the backup runs: another client keeps accepting requests as fast as it can.
            stop, during = threading.Event(), []

            def load() -> None:
                with httpx.Client(base_url=server.url, headers=api.client.headers, timeout=10) as client:
                    while not stop.is_set():
                        body = {"agentId": agent_id, "webhookId": webhook["id"], "reference": "load",
                                "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
                        response = client.post("/api/v1/message-requests", json=body)
                        assert response.status_code == 202, response.text
                        during.append(response.json()["id"])

            loader = threading.Thread(target=load)
            loader.start()
            try:
                until(lambda: during, 30, "the load to start")
                before = len(during)
                done = cli(
                    "db", "backup", str(tmp_path / "copy.db"), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
                )
                accepted_meanwhile = len(during) - before
            finally:
                stop.set()
                loader.join()
            assert done.returncode == 0, done.stderr
            assert accepted_meanwhile > 0  # the server kept accepting while the backup command ran
        assert receiver.receipts == []

        took = BACKED_UP.search(done.stdout)
        assert took is not None, done.stdout
        assert float(took.group(2)) < 1.0
        assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
        assert (
            cli(
                "db", "backup", str(tmp_path / "copy.db"), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
            ).returncode
            == 1
        )

        # Restore: the copy becomes novaro.db of a new data directory.
        restored = tmp_path / "restored"
        restored.mkdir(mode=0o700)
        shutil.copy(tmp_path / "copy.db", restored / "novaro.db")
        with running_server([*args[:2], "--data-dir", str(restored)], cwd=tmp_path) as server:
            until(lambda: set(pending) <= {r.webhook_id for r in receiver.receipts}, 30, "the pending deliveries")
            delivered = {receipt.webhook_id for receipt in receiver.receipts}
            assert delivered <= set(pending) | set(during)  # nothing the first server had not accepted


def test_on_postgresql_the_backup_command_points_to_pg_dump(tmp_path: Path):
    url = "postgresql://novaro@db.invalid/novaro"  # never connected to: the answer is the same whatever the database
    done = cli("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path, env={"NOVARO_LITE_DATABASE_URL": url})
    assert done.returncode == 1
    assert "pg_dump" in done.stderr
    assert not (tmp_path / "copy.db").exists()
