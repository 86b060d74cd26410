"""Read-route throttling (THROTTLE_READ_RATE): per user on balance, history and the staff lists; its own counter."""
import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_read_rate(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "100/min", "write": "100/min", "read": "2/min"}}


@pytest.fixture
def customer_account(open_account, customer_user):
    return open_account(customer_user.primary_account_id, customer_user.customer_id)


def test_balance_and_history_share_one_read_count_per_customer(api_client_for, customer_user, customer_account,
                                                              tiny_read_rate):
    # given a customer who used up the read rate on the balance
    client = api_client_for(customer_user)
    for _ in range(2):
        assert client.get(f"/v1/api/balance?accountId={customer_account.account_id}").status_code == 200
    # when the same customer reads the history
    response = client.get(f"/v1/api/accounts/{customer_account.account_id}/transactions")
    # then it is throttled with the original gateway's body and a Retry-After
    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"}
    assert int(response["Retry-After"]) > 0


def test_one_customers_reads_do_not_throttle_another(api_client_for, customer_user, other_customer_user,
                                                     customer_account, open_account, tiny_read_rate):
    # given customer A at the limit
    client = api_client_for(customer_user)
    for _ in range(3):
        client.get(f"/v1/api/balance?accountId={customer_account.account_id}")
    other_account = open_account(other_customer_user.primary_account_id, other_customer_user.customer_id)
    # when customer B reads
    response = api_client_for(other_customer_user).get(f"/v1/api/balance?accountId={other_account.account_id}")
    # then B is served
    assert response.status_code == 200


def test_reads_do_not_use_up_the_write_rate(api_client_for, customer_user, customer_account, settings):
    # given a read rate of 2 and a write rate of 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "100/min", "write": "1/min", "read": "2/min"}}
    client = api_client_for(customer_user)
    # when the customer reads twice
    statuses = [client.get(f"/v1/api/balance?accountId={customer_account.account_id}").status_code for _ in range(2)]
    # then both reads pass although the write rate is 1
    assert statuses == [200, 200]


def test_staff_lists_are_throttled_per_staff_user(client, make_user, tiny_read_rate):
    # given a staff member with the view permission, logged in to the Django admin session
    from django.contrib.auth.models import Permission

    staff = make_user("staff902", password="staff-pass-0123456789", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_application"))
    client.force_login(staff)
    # when the lists are read three times in all
    statuses = [client.get("/v1/admin/account-applications").status_code,
                client.get("/v1/admin/outbox").status_code,
                client.get("/v1/admin/stuck").status_code]
    # then the third read is throttled
    assert statuses == [200, 200, 429]


def test_read_rate_can_be_disabled_with_an_empty_value(api_client_for, customer_user, customer_account, settings):
    # given THROTTLE_READ_RATE="" (None in the settings)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "100/min", "write": "100/min", "read": None}}
    client = api_client_for(customer_user)
    # when the customer reads many times
    statuses = {client.get(f"/v1/api/balance?accountId={customer_account.account_id}").status_code for _ in range(5)}
    # then none is throttled
    assert statuses == {200}
