"""A compensating refund (core type TRANSFER_REFUND) is shown as a deposit: the original frontend colours an
item as 入金 only when `type` contains "DEPOSIT", so the wire type is mapped and the real type kept."""
import pytest

from balance.api.serializers import transaction_item
from balance.models import TransactionEntry

pytestmark = pytest.mark.django_db


def test_refund_entry_goes_out_as_a_deposit_when_listed(api_client_for, customer_user, open_account, post_entry):
    # given a refund posting on the customer's account
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    post_entry(account, 5000, type="TRANSFER_REFUND", transfer_id="ab" * 16, source_account_id="0017654321",
               description="")
    # when
    items = api_client_for(customer_user).get(f"/v1/api/accounts/{account.account_id}/transactions").json()[
        "transactions"]
    # then
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "TRANSFER_DEPOSIT" and "DEPOSIT" in item["type"]
    assert item["originalType"] == "TRANSFER_REFUND"
    assert item["amount"] == 5000 and item["category"] == "transfer"
    assert item["description"] == "振込返金"


def test_other_types_are_unchanged(open_account, post_entry, customer_user):
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    post_entry(account, 100, type="TRANSFER_DEPOSIT")
    item = transaction_item(TransactionEntry.objects.get())
    assert item["type"] == "TRANSFER_DEPOSIT" and "originalType" not in item
