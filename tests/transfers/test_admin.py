"""Django admin: list with filters, change page with the event timeline and an as-of state."""
import pytest

from tests.fixtures.transfers import transfer_body
from transfers.models import Transfer

pytestmark = pytest.mark.django_db


def test_admin_lists_and_shows_the_timeline(payer, payee, transfer_post, saga_drain, mock_core, client, make_user):
    admin_user = make_user("root901", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    assert transfer_post(payer, transfer_body()).status_code == 202
    saga_drain()
    transfer = Transfer.objects.get()
    listing = client.get("/admin/transfers/transfer/?attention=yes&age=5m&status=completed")
    assert listing.status_code == 200
    page = client.get(f"/admin/transfers/transfer/{transfer.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "TransferCompleted" in html and "WITHDRAW_PROCESSED" in html
    past = client.get(f"/admin/transfers/transfer/{transfer.pk}/change/?as_of=2000-01-01T00:00:00Z")
    assert "まだイベントがありません" in past.content.decode()
