"""Facts recorded with every run's results: the machine it ran on and the commit it measured."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from resilience.environment import REPO_ROOT


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, RAM and versions of the machine the run used."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    postgres = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"],
                              capture_output=True, text=True).stdout.strip()
    redis = subprocess.run(["redis-cli", "-h", "127.0.0.1", "INFO", "server"], capture_output=True,
                           text=True).stdout
    redis_version = next((line.split(":", 1)[1].strip() for line in redis.splitlines()
                          if line.startswith("redis_version")), "?")
    return {"nproc": os.cpu_count(), "cpu_model": model, "ram_gib": round(mem_kib / 1024 ** 2, 1),
            "python": platform.python_version(), "postgres": postgres, "redis": redis_version}


def git_commit() -> str:
    """Short HEAD commit, with `-dirty` when the work tree has changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain") else "")
