"""wrk (Debian package), the closed-loop HTTP load tool: a Lua script that sends a list of requests in turn, and
the parse of wrk's summary. Used by the resilience harness (E6 web scaling) and the benchmarks.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(match[1]) * _UNITS[match[2]] if match else float("nan")


def wrk_parse(output: str) -> dict[str, Any]:
    """Requests, 2xx/3xx answers, non-2xx/3xx, socket errors, seconds, ok answers per second, closed-loop latency
    percentiles (ms) of wrk's `--latency` summary."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", output)
    if total is None:
        raise RuntimeError(f"wrk output not understood:\n{output}")
    requests, seconds = int(total[1]), _ms(total[2] + total[3]) / 1000
    non_2xx = int(m[1]) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0
    socket_errors = m[0] if (m := re.search(r"Socket errors:.*", output)) else ""
    latency = {f"p{m[1]}": _ms(m[2]) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    ok = requests - non_2xx
    return {"requests": requests, "ok": ok, "non_2xx": non_2xx, "socket_errors": socket_errors,
            "seconds": seconds, "rps": ok / seconds, "latency_ms_closed_loop": latency}


def wrk_script_requests(path: Path, *, method: str, url_path: str, entries: list[dict[str, Any]]) -> Path:
    """A wrk Lua script sending `entries` ({headers, body}) in turn, each connection thread from the first;
    `url_path` may instead be given per entry as entry["path"]."""
    lines = ["local requests = {}", "local count = 0", "init = function(args)"]
    for entry in entries:
        headers = "{" + ", ".join(f'["{k}"] = {json.dumps(v)}' for k, v in entry["headers"].items()) + "}"
        body = json.dumps(entry.get("body")) if entry.get("body") else "nil"
        target = json.dumps(entry.get("path", url_path))
        lines.append(f'  table.insert(requests, wrk.format("{method}", {target}, {headers}, {body}))')
    lines += ["  count = #requests", "end", "local index = 0",
              "request = function()", "  index = index % count + 1", "  return requests[index]", "end"]
    path.write_text("\n".join(lines) + "\n")
    return path
