"""`manage.py resilience run [--experiments E1,E2,…] [--quick] [--out DIR]` and `manage.py resilience report
[--out DIR]`: the resilience comparator (resilience/).

`run` starts the harness in a child process with its own environment (databases bench_res_*, Redis db 12, random
secrets, fault switch on): this process's settings and databases are never used. `report` renders
docs/resilience-report.md and docs/resilience/*.png from the JSON results.
"""
from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Resilience experiments under load (run) and their report (report); see resilience/."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=("run", "report"))
        parser.add_argument("--experiments", help="comma-separated ids, e.g. E1,E2 (run)")
        parser.add_argument("--quick", action="store_true", help="CI mode: short windows, smaller load (run)")
        parser.add_argument("--out", help="results folder (default resilience/results)")

    def handle(self, *args, **options):
        out = ["--out", options["out"]] if options["out"] else []
        if options["action"] == "report":
            from resilience.report import main as report_main

            report_main(out)
            return
        argv = [sys.executable, "-m", "resilience.harness", *out]
        if options["experiments"]:
            argv += ["--experiments", options["experiments"]]
        if options["quick"]:
            argv.append("--quick")
        code = subprocess.call(argv, cwd=settings.BASE_DIR)
        if code:
            raise CommandError(f"resilience run exited with {code}", returncode=code)
