"""E16's fork, count and kill: a dry run of an operation in a first child counts its SQL statements up to
COMMIT; a second child SIGKILLs itself right before statement k (k uniform in 1..n+1, n+1 = at COMMIT).
"""
from __future__ import annotations

import json
import logging
import os
import signal
from typing import Any

from resilience.atomicity.operations import (
    Operation,
)

_INHERITED: list[Any] = []  # connection objects a child inherited: kept referenced, never closed or collected


# ====================================================================================================================
# fork, count, kill
# ====================================================================================================================

def _child_connections_reset() -> None:
    """In a fresh child: forget (never close) every inherited connection, so the child opens its own and cannot
    disturb a socket the parent might still use. Closing would send the server a Terminate on the shared socket."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _INHERITED.append(connection.connection)
            connection.connection = None
        connection.in_atomic_block = False
        connection.savepoint_ids = []
        connection.run_on_commit = []
        connection.needs_rollback = False


def _statement_label(sql: str) -> str:
    """`VERB table` of a statement (the statement a child was killed in front of)."""
    words = sql.split()
    if not words:
        return "?"
    verb = words[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    upper = [word.upper() for word in words]
    for index, word in enumerate(upper[:-1]):
        if word in ("INTO", "UPDATE", "FROM") and not (word == "UPDATE" and index and upper[index - 1] == "FOR"):
            table = words[index + 1].strip('"(').split('"')[0]
            if table and table.upper() not in ("SELECT", "(SELECT"):
                return f"{verb} {table}"
    return verb


def _run_child(operation: Operation, *, kill_at: int | None, write_fd: int) -> None:
    """Body of a forked child; never returns. kill_at=None: dry run (count statements, die at COMMIT);
    kill_at=k: SIGKILL right before statement k, or at COMMIT when k is past the last statement."""
    status = 0
    try:
        logging.disable(logging.ERROR)
        _child_connections_reset()
        from django.db import connections

        connection = connections["default"]
        count = 0

        def report_and_die(label: str) -> None:
            os.write(write_fd, json.dumps({"count": count, "label": label, "killed": True}).encode() + b"\n")
            os.kill(os.getpid(), signal.SIGKILL)

        def wrapper(execute, sql, params, many, context):
            nonlocal count
            count += 1
            if kill_at is not None and count == kill_at:
                count -= 1  # statements completed before the kill
                report_and_die(_statement_label(sql))
            return execute(sql, params, many, context)

        connection.ensure_connection()

        def commit_guard(*args, **kwargs):
            # Reached only when no statement k came first: the dry run ends here, and a kill run whose k lies
            # past the last statement dies here, so nothing is ever committed by a child.
            report_and_die("COMMIT")

        connection._commit = commit_guard
        with connection.execute_wrapper(wrapper):
            operation.run()
        os.write(write_fd, json.dumps({"count": count, "label": "", "killed": False}).encode() + b"\n")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        os.write(write_fd, json.dumps({"count": -1, "label": "", "killed": False,
                                       "error": f"{type(exc).__name__}: {str(exc)[:200]}"}).encode() + b"\n")
        status = 1
    finally:
        os._exit(status)


def operation_fork(operation: Operation, *, kill_at: int | None) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()  # the child must not inherit a live socket of ours
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _run_child(operation, kill_at=kill_at, write_fd=write_fd)
    os.close(write_fd)
    chunks = []
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, wait_status = os.waitpid(pid, 0)
    lines = b"".join(chunks).decode().strip().splitlines()
    report = json.loads(lines[-1]) if lines else {"count": -1, "label": "", "killed": False, "error": "no report"}
    report["signal"] = os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None
    report["exit"] = os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None
    return report


def kill_point_bucket(kill_at: int, statements: int) -> str:
    if kill_at > statements:
        return "at COMMIT"
    share = (kill_at - 1) / max(statements, 1)
    return ("first quarter", "second quarter", "third quarter", "last quarter")[min(int(share * 4), 3)]
