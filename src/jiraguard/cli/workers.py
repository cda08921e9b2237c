"""``serve --workers N``: uvicorn's supervisor, saying why a worker it replaces ended.

uvicorn's parent process pings each worker and replaces one that exited or did not answer,
logging only ``Child process [pid] died``. This supervisor adds the cause (the exit status,
the signal, or the health check it missed) at WARNING, and its ping also ends when the
worker exits. uvicorn's handling is otherwise unchanged: a worker that failed before
serving (exit status 3, a broken configuration) stops the server, any other is replaced.
A worker that cannot build its app logs the reason itself
(:func:`jiraguard.app.app_from_environment`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import pickle
import signal
from multiprocessing.connection import wait
from typing import Any

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

log = logging.getLogger("jiraguard")

HEALTHCHECK_TIMEOUT = 30
"""Seconds a worker may take to answer the parent's ping. uvicorn's default (5 s) killed
workers that were still importing on a loaded machine, then started them again."""


def ended(exitcode: int | None, *, hung: bool, timeout: float) -> str:
    """Why a worker was replaced, in words (``hung``: alive, but it missed the ping)."""
    if hung:
        return (
            f"it did not answer the health check within {timeout:g} s, alive (hung), so it "
            "was killed"
        )
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}"
    if exitcode == STARTUP_FAILURE:
        return f"exit status {exitcode}: it failed to start (its reason is logged above)"
    return f"exit status {exitcode}"


class WorkerSupervisor(Multiprocess):
    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        timeout = self.config.timeout_worker_healthcheck
        missed: set[int] = set()
        """The workers whose own ping went unanswered for the whole timeout while they lived
        (one that dies while asked is told apart at once, by its exit)."""
        watched = [(process, process.is_alive) for process in self.processes]
        for process, _ in watched:
            process.is_alive = functools.partial(_answers, process, missed)  # type: ignore[method-assign]
        try:
            super().keep_subprocess_alive()  # kills the hung ones, replaces what ended
        finally:
            for process, is_alive in watched:
                process.is_alive = is_alive  # type: ignore[method-assign]
        for process, _ in watched:
            exitcode = process.process.exitcode
            if exitcode is not None:
                hung = id(process) in missed and exitcode == -signal.SIGKILL
                log.warning(
                    "worker %s ended: %s",
                    process.pid,
                    ended(exitcode, hung=hung, timeout=timeout),
                )


def _answers(process: Process, missed: set[int], timeout: float = 5) -> bool:
    """uvicorn's ``Process.is_alive``, but the wait for the answer also ends when the worker
    exits: the parent holds the worker's end of the pipe too, so a worker killed while asked
    would otherwise be waited for the whole timeout and then taken for hung. A worker that
    stays alive and silent for the whole timeout is noted in ``missed``."""
    if not process.process.is_alive():
        return False
    connection = process.parent_conn
    try:
        connection.send(b"ping")
        ready = wait([connection, process.process.sentinel], timeout)
        if connection in ready:
            connection.recv()  # the worker's startup flag; any answer means alive
            return True
    except (OSError, EOFError, pickle.UnpicklingError):
        return False
    if not ready:
        missed.add(id(process))
    return False


def run_workers(app: str, **options: Any) -> None:
    """``uvicorn.run(app, **options)`` for ``workers`` > 1, under :class:`WorkerSupervisor`."""
    config = Config(app, timeout_worker_healthcheck=HEALTHCHECK_TIMEOUT, **options)
    socket = config.bind_socket()
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: SIGINT is a clean stop
        WorkerSupervisor(config, sockets=[socket]).run()
