"""Django admin: decisions need `accounts.approve_application`, carry a comment, write a LogEntry;
provisioning retry; the DEBUG-only mail page."""
from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import Application
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage

CHANGELIST = "/admin/accounts/application/"


@pytest.fixture
def admin_client_for():
    def _client(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return _client


@pytest.fixture
def viewer(make_user):
    user = make_user("viewer01", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_application"))
    return user


def _action(client, action, application, **extra):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [application.pk], **extra})


@pytest.mark.django_db
def test_changelist_and_detail_show_applications_when_staff_can_view(admin_client_for, viewer, approved_application):
    # when
    listing = admin_client_for(viewer).get(CHANGELIST, {"status__exact": "CONFIRMED", "q": "taro@example.com"})
    detail = admin_client_for(viewer).get(f"{CHANGELIST}{approved_application.pk}/change/")

    # then
    assert listing.status_code == 200 and approved_application.application_id in listing.content.decode()
    assert detail.status_code == 200
    assert "AccountOpeningApplicationConfirmed" in detail.content.decode()


@pytest.mark.django_db
def test_approve_action_asks_for_a_comment_then_confirms_when_permitted(admin_client_for, reviewer,
                                                                       pending_application):
    # given
    client = admin_client_for(reviewer)

    # when
    form = _action(client, "approve_selected", pending_application)
    done = _action(client, "approve_selected", pending_application, apply="1", comment="書類OK")

    # then
    assert form.status_code == 200 and 'name="comment"' in form.content.decode()
    assert done.status_code == 302
    pending_application.refresh_from_db()
    assert pending_application.status == "CONFIRMED"
    assert pending_application.review_comment == "書類OK"
    assert pending_application.reviewed_by == "reviewer01"
    entry = LogEntry.objects.get(object_id=str(pending_application.pk))
    assert entry.user == reviewer and "書類OK" in entry.get_change_message()


@pytest.mark.django_db
def test_reject_action_records_the_comment_when_permitted(admin_client_for, reviewer, pending_application):
    # when
    _action(admin_client_for(reviewer), "reject_selected", pending_application, apply="1", comment="不備")

    # then
    pending_application.refresh_from_db()
    assert pending_application.status == "REJECTED"
    assert LogEntry.objects.filter(object_id=str(pending_application.pk)).count() == 1


@pytest.mark.django_db
def test_approve_action_is_unavailable_when_staff_lacks_the_permission(admin_client_for, viewer, pending_application):
    # when
    response = _action(admin_client_for(viewer), "approve_selected", pending_application, apply="1", comment="x")

    # then
    pending_application.refresh_from_db()
    assert pending_application.status == "PENDING"
    assert Event.objects.filter(aggregate_id=pending_application.application_id).count() == 1
    assert not LogEntry.objects.exists()
    assert response.status_code in (200, 302)


@pytest.mark.django_db
def test_second_approval_changes_nothing_when_already_confirmed(admin_client_for, reviewer, approved_application):
    # when
    _action(admin_client_for(reviewer), "approve_selected", approved_application, apply="1", comment="again")

    # then
    assert Event.objects.filter(aggregate_id=approved_application.application_id).count() == 2
    assert OutboxMessage.objects.filter(kind="create_account").count() == 1


@pytest.mark.django_db
def test_retry_action_replays_the_dead_letter_when_provisioning_failed(admin_client_for, reviewer,
                                                                      approved_application):
    # given
    OutboxMessage.objects.filter(kind="create_account").update(status="failed", needs_attention=True)

    # when
    _action(admin_client_for(reviewer), "retry_provisioning", approved_application)

    # then
    row = OutboxMessage.objects.get(kind="create_account")
    assert (row.status, row.retry_count) == ("pending", 0)
    assert row.attempts.get().actor == f"admin:{reviewer.pk}"


@pytest.mark.django_db
def test_dev_mail_page_is_not_found_when_debug_is_off(admin_client_for, viewer, settings):
    # given
    settings.DEBUG = False

    # when
    response = admin_client_for(viewer).get(f"{CHANGELIST}dev-mails/")

    # then
    assert response.status_code == 404


@pytest.mark.django_db
def test_dev_mail_page_lists_file_backend_mails_when_debug_is_on(admin_client_for, viewer, settings, tmp_path,
                                                                pending_application):
    # given
    from outbox.relay import drain

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    drain(queue="notify")
    settings.DEBUG = True

    # when
    response = admin_client_for(viewer).get(f"{CHANGELIST}dev-mails/")

    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert "口座開設申込受付のお知らせ" in content
    assert pending_application.application_id in content


@pytest.mark.django_db
def test_dev_mail_page_redirects_to_login_when_not_staff(settings):
    # given
    settings.DEBUG = True

    # when
    response = Client().get(f"{CHANGELIST}dev-mails/")

    # then
    assert response.status_code == 302
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_detail_page_offers_decision_buttons_only_when_pending_and_permitted(admin_client_for, reviewer, viewer,
                                                                             pending_application):
    # when a reviewer and a viewer open a pending application
    page_for_reviewer = admin_client_for(reviewer).get(f"{CHANGELIST}{pending_application.pk}/change/").content.decode()
    page_for_viewer = admin_client_for(viewer).get(f"{CHANGELIST}{pending_application.pk}/change/").content.decode()
    # then only the reviewer sees the two buttons, each posting the list action for this application
    assert 'value="approve_selected"' in page_for_reviewer and 'value="reject_selected"' in page_for_reviewer
    assert f'name="_selected_action" value="{pending_application.pk}"' in page_for_reviewer
    assert "approve_selected" not in page_for_viewer


@pytest.mark.django_db
def test_detail_page_button_leads_to_the_comment_form_and_decides(admin_client_for, reviewer, pending_application):
    # given the reviewer pressed 「承認する」 on the detail page (the form posts this to the changelist)
    client = admin_client_for(reviewer)
    form = client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": str(pending_application.pk)})
    # when the comment is given
    done = client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": str(pending_application.pk),
                                    "apply": "1", "comment": "詳細画面から承認"})
    # then
    assert 'name="comment"' in form.content.decode()
    assert done.status_code == 302
    pending_application.refresh_from_db()
    assert (pending_application.status, pending_application.review_comment) == ("CONFIRMED", "詳細画面から承認")
    # and the buttons are gone once it is decided
    page = client.get(f"{CHANGELIST}{pending_application.pk}/change/").content.decode()
    assert "approve_selected" not in page


@pytest.mark.django_db
def test_detail_shows_the_application_as_of_a_past_time(admin_client_for, viewer, approved_application):
    # given an application submitted, then approved; the instant of the submission
    created = Event.objects.get(aggregate_id=approved_application.application_id, version=1)
    between = created.recorded_at.isoformat()
    url = f"{CHANGELIST}{approved_application.pk}/change/"
    client = admin_client_for(viewer)
    # when staff open it now and as of the submission
    now_page = client.get(url).content.decode()
    past_page = client.get(url, {"as_of": between}).content.decode()
    # then now it is CONFIRMED with both events; then it was PENDING with only the first
    assert 'data-testid="as-of-form"' in now_page
    assert "v2 CONFIRMED" in now_page and "AccountOpeningApplicationConfirmed" in now_page
    assert "v1 PENDING" in past_page and "AccountOpeningApplicationConfirmed" not in past_page


@pytest.mark.django_db
def test_detail_reports_an_unreadable_time_and_shows_now(admin_client_for, viewer, approved_application):
    response = admin_client_for(viewer).get(f"{CHANGELIST}{approved_application.pk}/change/", {"as_of": "yesterday"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "時刻を読み取れませんでした" in page and "v2 CONFIRMED" in page
