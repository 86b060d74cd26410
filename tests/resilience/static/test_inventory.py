"""E13 (resilience/static/inventory.py): counts match the supervised programs, settings, models and code."""
from __future__ import annotations

import json
from pathlib import Path

from django.apps import apps
from django.conf import settings

from resilience.static import inventory

ROOT = Path(__file__).resolve().parents[3]


def test_e13_counts_match_supervised_programs_settings_models_and_code_when_run():
    # given the programs that `make run` supervises, and the settings
    programs = [line for line in (ROOT / "config" / "supervisord.conf").read_text().splitlines()
                if line.startswith("[program:")]
    # when E13 runs
    result = inventory.e13_inventory()
    metrics = result["metrics"]
    # then the units, queues and tables are those of the code
    assert metrics["deployable_units"] == len(programs) == 4 == len(metrics["processes"])
    assert metrics["celery_queue_count"] == len(settings.CELERY_TASK_QUEUES)
    assert metrics["database_count"] == len(settings.DATABASES)
    managed = [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]
    assert metrics["tables"] == len(managed)
    assert "transfers_transfer" in metrics["project_tables_by_database"]["default"]
    assert all(table.startswith("corebanking_mock_") for table in metrics["project_tables_by_database"]["core"])
    # and a successful transfer calls core once per leg on the saga's success path
    assert metrics["success_path_legs"] == ["WITHDRAW", "DEPOSIT"]
    assert metrics["core_http_calls_per_successful_transfer"] == 2
    # and transfer events are appended by one module, reached from the services the relay and API call
    assert metrics["transfer_event_writer_modules"] == ["transfers.services"]
    assert metrics["writers_of_transfer_state"] == 1
    for entry_point in ("transfers.services.request.transfer_request", "transfers.services.legs.transfer_leg_start",
                        "transfers.services.legs.transfer_withdrawal_record",
                        "transfers.outbox_handlers.CoreLegHandler.on_success"):
        assert entry_point in metrics["transfer_state_entry_points"]
    assert metrics["original"]["writers_of_transfer_state"] == 5
    json.dumps(result)
