"""How `serve` runs uvicorn: the app in this process (workers = 1), or N worker processes on one port.

With N > 1 this process is only the parent: it binds the port, hands the Settings to the workers
(workers/handoff.py) and supervises them with uvicorn's own supervisor, which replaces a worker that dies and, on
SIGTERM or SIGINT, stops every worker and waits for each to finish its shutdown (each worker's lifespan
stops its scheduler, which hands its claimed requests back to the queue). Every worker builds the whole
app from novaro_lite.app:create_app_from_environment: API, its own delivery scheduler (claims are atomic
in the database, so a request is delivered by one worker only), its own database connections.

Two departures from `uvicorn.run(WORKER_FACTORY, factory=True, workers=N)`, which binds one socket that
every worker accepts from:
- Each worker gets a listening socket of its own on the same port (SO_REUSEPORT), and the kernel spreads
  new connections over them. On one shared socket, the worker that wakes first accepts every connection
  waiting (the event loop accepts until the queue is empty): 64 keep-alive connections opened at once all
  landed on one worker, and two workers served 0.84 times the requests of one (docs/benchmarks.md).
- The sockets listen in the parent, before any worker starts: uvicorn binds without listening, so a
  connection between the "running on" line and a worker's start-up would be refused rather than queued.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

from novaro_lite.app import create_app
from novaro_lite.cli.http_server import BoundedHttpToolsProtocol
from novaro_lite.config.settings import Settings
from novaro_lite.workers.handoff import handed_to_workers

WORKER_FACTORY = "novaro_lite.app:create_app_from_environment"
logger = logging.getLogger("uvicorn.error")  # where uvicorn's own start-up lines go, so they read together


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "http": BoundedHttpToolsProtocol,
        "log_config": None,  # configure_logging's handler, in the chosen format, takes uvicorn's lines too
        "access_log": False,  # observability.middleware logs one line a request, with its id and route template
    }


class WorkerSockets(Multiprocess):
    """uvicorn's supervisor, starting each worker on its own socket.

    A worker that dies is replaced by uvicorn with one that serves every socket: correct (the dead one's
    socket is served again), if less even. The number of workers is fixed while the server runs: removing
    one (SIGTTOU) would leave its socket with nobody to accept what the kernel sends it. SIGHUP, which
    uvicorn answers by replacing every worker with one on every socket and the same settings, is ignored
    too: it would change nothing but the spread.
    """

    def init_processes(self) -> None:
        for sock in self.sockets:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def _stop_listening(self) -> None:
        """Close this process's copies of the sockets before the workers stop, so that once they have closed
        theirs new connections are refused (a balancer or client tries elsewhere) instead of queued for no
        one. No worker is started after this."""
        for sock in self.sockets:
            sock.close()

    def handle_ttin(self) -> None:
        logger.warning("Ignored SIGTTIN: the number of workers is fixed; restart with another --workers.")

    def handle_ttou(self) -> None:
        logger.warning("Ignored SIGTTOU: the number of workers is fixed; restart with another --workers.")

    def handle_hup(self) -> None:
        logger.warning("Ignored SIGHUP: the workers run with the settings they started with; restart to change them.")


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        if sock.family == socket.AF_INET6:  # "::" means IPv6 only, as in one process (asyncio sets it too)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """Bind `count` sockets to one port (0: a free one), each listening; fail if anything else holds it."""
    # SO_REUSEPORT would also let these join the sockets of another server of the same user on this port,
    # and the two would split its traffic without a word. A plain bind first finds the port taken.
    with _bind(host, port, reuse_port=False) as probe:
        port = probe.getsockname()[1]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = _bind(host, port, reuse_port=True)
            sockets.append(sock)
            sock.listen(backlog)
            sock.set_inheritable(True)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT; in settings.workers processes when that is more than 1."""
    if settings.workers == 1:  # workers=1: uvicorn would otherwise take WEB_CONCURRENCY from the environment
        uvicorn.run(create_app(settings), workers=1, **_uvicorn_options(settings))
        return
    config = uvicorn.Config(WORKER_FACTORY, factory=True, workers=settings.workers, **_uvicorn_options(settings))
    try:
        sockets = listening_sockets(settings.host, settings.port, settings.workers, config.backlog)
    except OSError as exc:
        logger.error("Cannot listen on %s:%d: %s", settings.host, settings.port, exc.strerror or exc)
        raise SystemExit(STARTUP_FAILURE) from None
    address = f"[{settings.host}]" if ":" in settings.host else settings.host
    port = sockets[0].getsockname()[1]
    # The line tests and scripts read the port from (uvicorn's own wording), with --port 0 the real one.
    logger.info("Uvicorn running on http://%s:%d with %d workers (Press CTRL+C to quit)", address, port, len(sockets))
    supervisor = WorkerSockets(config, sockets=sockets)
    try:
        with handed_to_workers(settings, os.environ):
            supervisor.run()
    finally:
        for sock in sockets:
            sock.close()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        # uvicorn's supervisor stops when a worker cannot start (a bad database, say), but returns as if
        # all went well; the worker has logged why.
        raise SystemExit(STARTUP_FAILURE)
