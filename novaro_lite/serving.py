"""How `serve` runs uvicorn: the app in this process (workers = 1), or N worker processes on one port.

With N > 1 this process is only the parent: it binds the port, hands the Settings to the workers
(workers.py) and supervises them with uvicorn's own supervisor, which restarts a worker that dies and, on
SIGTERM or SIGINT, stops every worker and waits for each to finish its shutdown (each worker's lifespan
stops its scheduler, which hands its claimed requests back to the queue). Every worker builds the whole
app from novaro_lite.app:create_app_from_environment: API, its own delivery scheduler (claims are atomic
in the database, so a request is delivered by one worker only), its own database connections.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from novaro_lite.app import create_app
from novaro_lite.config import Settings
from novaro_lite.http_server import BoundedHttpToolsProtocol
from novaro_lite.workers import handed_to_workers

WORKER_FACTORY = "novaro_lite.app:create_app_from_environment"


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "http": BoundedHttpToolsProtocol,
        "log_config": None,  # configure_logging's handler, in the chosen format, takes uvicorn's lines too
        "access_log": False,  # observability.middleware logs one line a request, with its id and route template
    }


def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT; in settings.workers processes when that is more than 1."""
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **_uvicorn_options(settings))
        return
    with handed_to_workers(settings, os.environ):
        # What uvicorn.run(WORKER_FACTORY, factory=True, workers=N) does, plus listen() in the parent:
        # uvicorn binds here but the socket starts listening only when a worker starts serving, so between
        # the "running on" line (which names the real port, also for --port 0) and the first worker's
        # start-up a connection would be refused. Listening first lets it wait in the backlog instead.
        config = uvicorn.Config(WORKER_FACTORY, factory=True, workers=settings.workers, **_uvicorn_options(settings))
        socket = config.bind_socket()
        socket.listen(config.backlog)
        supervisor = Multiprocess(config, sockets=[socket])
        supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        # uvicorn's supervisor stops when a worker cannot start (a bad database, say), but returns as if
        # all went well; the worker has logged why.
        raise SystemExit(STARTUP_FAILURE)
