"""The bench app: registers the benchmark's outbox handlers in every process that loads bench.settings."""
from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"
    label = "bench"

    def ready(self) -> None:
        from bench.handlers import register_bench_handlers

        register_bench_handlers()
