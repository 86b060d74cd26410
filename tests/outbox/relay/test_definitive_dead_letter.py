"""A definitive refusal that only an operator can resolve is dead-lettered (and stays replayable)."""
import pytest
from django.db import transaction

from outbox import relay
from outbox.models import OutboxMessage, OutboxStatus
from outbox.registry import Delivery
from outbox.services import outbox_enqueue, outbox_replay
from tests.fixtures.outbox import ScriptedHandler

pytestmark = pytest.mark.django_db


def test_failed_with_dead_letter_ends_failed_and_runs_on_failure(register_outbox_handler):
    # given a handler whose delivery is refused for good, needing an operator
    handler = register_outbox_handler("test_needs_operator", ScriptedHandler(
        outcomes=[Delivery.failed(error="account type not offered", http_status=400, dead_letter=True)]))
    with transaction.atomic():
        message = outbox_enqueue(key="needs-operator-1", kind="test_needs_operator", aggregate_id="agg-1")
    # when
    relay.drain(queue="core")
    # then the row is a dead letter flagged for attention, and on_failure ran in the settle transaction
    row = OutboxMessage.objects.get(pk=message.pk)
    assert (row.status, row.needs_attention) == (OutboxStatus.FAILED, True)
    assert ("on_failure", message.key) in handler.calls
    # and an operator can replay it
    outbox_replay(message_id=row.pk, actor="admin:1")
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.PENDING


def test_failed_without_dead_letter_ends_completed(register_outbox_handler):
    register_outbox_handler("test_handled_refusal", ScriptedHandler(
        outcomes=[Delivery.failed(error="insufficient balance", http_status=400)]))
    with transaction.atomic():
        message = outbox_enqueue(key="handled-1", kind="test_handled_refusal", aggregate_id="agg-2")
    relay.drain(queue="core")
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.COMPLETED


def test_operator_resolve_closes_a_dead_letter_inside_the_callers_transaction(register_outbox_handler):
    # given a dead letter
    from outbox.models import OutboxAttempt
    from outbox.services import outbox_resolve

    register_outbox_handler("test_resolvable", ScriptedHandler(
        outcomes=[Delivery.failed(error="refused", dead_letter=True)]))
    with transaction.atomic():
        message = outbox_enqueue(key="resolvable-1", kind="test_resolvable", aggregate_id="agg-3")
    relay.drain(queue="core")
    # when an operator resolves it (abort/compensate) in their own transaction
    with transaction.atomic():
        assert outbox_resolve(message_id=message.pk, actor="admin:7", note="aborted by operator") is True
    # then it is closed, the attempt log names the operator, and a second resolve does nothing
    row = OutboxMessage.objects.get(pk=message.pk)
    assert (row.status, row.needs_attention) == (OutboxStatus.COMPLETED, False)
    attempt = OutboxAttempt.objects.filter(message=row).latest("id")
    assert (attempt.outcome, attempt.actor) == ("resolved", "admin:7")
    with transaction.atomic():
        assert outbox_resolve(message_id=message.pk, actor="admin:7", note="again") is False
