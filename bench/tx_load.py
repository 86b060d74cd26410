"""Open-loop (fixed-rate) HTTP load for bench/transfers.py: request i is due at start + i / rate, whatever happened to
earlier requests; its latency runs from that intended send time to the last byte of the answer, so a stalled
server shows in the percentiles instead of silently lowering the rate (no coordinated omission).

Plain asyncio streams over keep-alive HTTP/1.1 connections (a pool of `connections`; a request waits for a free
one, and that wait counts in its latency), so the generator costs little CPU next to the server.

    .venv/bin/python -m bench.tx_load <host> <port> <method> <path> <headers JSON> <body> <rate> <seconds> <connections>

`<headers JSON>` may instead be `@<file>`: a JSON list of {"headers": {...}, "body": "..."}; request i then uses
entry i mod len(list) (many customers, each with its own token and body), and `<body>` is ignored.

Speaks the ready/go line protocol of bench/procs.py; reports {sent, status counts, latencies in ms (sorted
sample), lag of the dispatcher, first/last send times on the wall clock}.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


def _request_bytes(method: str, path: str, host: str, headers: dict[str, str], body: str) -> bytes:
    raw_body = body.encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive",
             *(f"{name}: {value}" for name, value in headers.items())]
    if raw_body or method != "GET":
        lines.append(f"Content-Length: {len(raw_body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw_body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def exchange(self, request: bytes) -> int:
        """Send one request, read its whole answer; reopen once if the server had closed the idle connection."""
        for attempt in (1, 2):
            if self.writer is None:
                await self.open()
            try:
                self.writer.write(request)
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError("closed before the answer")
                break
            except (ConnectionError, OSError):
                await self.close()
                if attempt == 2:
                    raise
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            await self.close()
        return status


async def run(host: str, port: int, requests: list[bytes], rate: float, seconds: float,
              connections: int) -> dict[str, Any]:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        connection = Connection(host, port)
        await connection.open()
        pool.put_nowait(connection)
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    max_lag = 0.0
    tasks: set[asyncio.Task] = set()

    async def one(due: float, request: bytes) -> None:
        connection = await pool.get()
        try:
            status = await connection.exchange(request)
        except Exception as exc:  # noqa: BLE001 - counted as an error, the run goes on
            status = f"error {type(exc).__name__}"
            await connection.close()
        finally:
            pool.put_nowait(connection)
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    loop_start = time.perf_counter()
    wall_start = time.time()
    for index in range(total):
        due = loop_start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, time.perf_counter() - due)
        task = asyncio.create_task(one(due, requests[index % len(requests)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    send_seconds = time.perf_counter() - loop_start
    await asyncio.gather(*tasks)
    wall_end = time.time()
    while not pool.empty():
        await pool.get_nowait().close()
    latencies.sort()
    return {"sent": total, "statuses": statuses, "send_seconds": send_seconds,
            "seconds": time.perf_counter() - loop_start, "dispatch_max_lag_ms": max_lag * 1000,
            "latencies_ms": latencies, "wall_start": wall_start, "wall_end": wall_end}


def main() -> None:
    from bench.procs import child_report, child_wait_for_go

    host, port, method, path, headers_json, body, rate, seconds, connections = sys.argv[1:10]
    if headers_json.startswith("@"):
        with open(headers_json[1:], encoding="utf-8") as file:
            entries = json.load(file)
    else:
        entries = [{"headers": json.loads(headers_json), "body": body}]
    requests = [_request_bytes(method, path, f"{host}:{port}", entry["headers"], entry["body"]) for entry in entries]
    child_wait_for_go()
    child_report(asyncio.run(run(host, int(port), requests, float(rate), float(seconds), int(connections))))


if __name__ == "__main__":
    main()
