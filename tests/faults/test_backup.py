"""`novaro-lite db backup` on a live SQLite server under load, and a restore that delivers what was pending.

About 15 s: the accepted requests are due 8 s after they were accepted, so that the first server is gone
before any of them comes due and every delivery is the restored server's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.server import novaro_command, running_server
from tests.e2e.test_async_delivery import api_client, server_args
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
        with running_server(args, cwd=tmp_path) as server, api_client(server, server.first_token or "") as api:
            agent_id, webhook = api.setup(f"{receiver_url}/hook")
            pending = [api.accept(agent_id, webhook["id"], delay={"seconds": 8})["id"] for _ in range(PENDING)]

            # Load while the backup runs: another client keeps accepting requests as fast as it can.
            stop, during = threading.Event(), []

            def load() -> None:
                with httpx.Client(base_url=server.url, headers=api.client.headers, timeout=10) as client:
                    while not stop.is_set():
                        body = {"agentId": agent_id, "webhookId": webhook["id"], "reference": "load",
                                "messages": [{"role": "user", "content": "hi"}], "delay": {"seconds": 8}}  # fmt: skip
                        response = client.post("/api/v1/message-requests", json=body)
                        assert response.status_code == 202, response.text
                        during.append(response.json()["id"])

            loader = threading.Thread(target=load)
            loader.start()
            try:
                time.sleep(0.3)
                done = cli(
                    "db", "backup", str(tmp_path / "copy.db"), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
                )
                served_meanwhile = len(during)
                time.sleep(0.3)
            finally:
                stop.set()
                loader.join()
            assert done.returncode == 0, done.stderr
            assert served_meanwhile > 0 and len(during) > served_meanwhile  # service went on around the backup
        assert receiver.receipts == [], "the first server delivered before it stopped; the test proves nothing"

        took = BACKED_UP.search(done.stdout)
        assert took is not None, done.stdout
        assert float(took.group(2)) < 0.5
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
            receipts = receiver.wait_for(PENDING, timeout=30)
            delivered = {receipt.webhook_id for receipt in receipts}
            assert set(pending) <= delivered
            assert delivered <= set(pending) | set(during)  # nothing the first server had not accepted


def test_on_postgresql_the_backup_command_points_to_pg_dump(tmp_path: Path):
    url = "postgresql://novaro@db.invalid/novaro"  # never connected to: the answer is the same whatever the database
    done = cli("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path, env={"NOVARO_LITE_DATABASE_URL": url})
    assert done.returncode == 1
    assert "pg_dump" in done.stderr
    assert not (tmp_path / "copy.db").exists()
