"""The account application pages: personal data → contact/address → review → done.

The draft lives in the session, so going back (buttons or the browser) keeps what was typed. Each step
runs the API's validator (`accounts.validation.application_input_parse`) and shows its messages for that
step's fields; the review page submits through `accounts.services.application_submit` with an
idempotency key, so a double submit files one application.
"""
from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services
from accounts.forms import TERMS_VERSION, WIRE_NAMES, ContactForm, PersonalForm, TermsConsentForm
from accounts.validation import ApplicationInvalidError, application_input_parse
from config.errors import ApplicationError
from outbox.request_idempotency import request_fingerprint

DRAFT_KEY = "application_draft"
DONE_KEY = "application_done"


def _draft(request: HttpRequest) -> dict:
    return dict(request.session.get(DRAFT_KEY) or {})


def _save_draft(request: HttpRequest, values: dict) -> None:
    draft = _draft(request)
    draft.update(values)
    request.session[DRAFT_KEY] = draft


def application_body(draft: dict) -> dict:
    """The draft as the API's flat application body."""
    body = {WIRE_NAMES[name]: value for name, value in draft.items() if name in WIRE_NAMES}
    body["language"] = (draft.get("language") or "ja")[:2]
    return body


def _service_errors(draft: dict) -> dict[str, list[str]]:
    try:
        application_input_parse(application_body(draft))
    except ApplicationInvalidError as exc:
        return exc.extra.get("fields") or {}
    return {}


def _step(request: HttpRequest, *, form_class, template: str, next_url: str, previous_url: str | None) -> HttpResponse:
    draft = _draft(request)
    if request.method == "GET":
        form = form_class(initial={name: draft[name] for name in form_class.base_fields if name in draft})
        return render(request, template, {"form": form, "previous_url": previous_url})
    typed = {name: request.POST.get(name, "") for name in form_class.base_fields}
    if "back" in request.POST and previous_url:
        _save_draft(request, typed)  # going back keeps what was typed, checked or not
        return redirect(previous_url)
    form = form_class(request.POST)
    valid = form.is_valid()
    _save_draft(request, typed | {"language": get_language()})
    if valid:
        wire_errors = _service_errors(_draft(request))
        for name in form_class.base_fields:
            for message in wire_errors.get(WIRE_NAMES[name], []):
                form.add_error(name, message)
        form.mark_invalid()
        if not form.errors:
            return redirect(next_url)
    return render(request, template, {"form": form, "previous_url": previous_url}, status=400)


@require_http_methods(["GET", "POST"])
def apply_personal(request: HttpRequest) -> HttpResponse:
    """GET/POST /apply — step 1, personal data."""
    return _step(request, form_class=PersonalForm, template="accounts/apply_personal.html",
                 next_url="apply-contact", previous_url=None)


@require_http_methods(["GET", "POST"])
def apply_contact(request: HttpRequest) -> HttpResponse:
    """GET/POST /apply/contact — step 2, contact and address."""
    return _step(request, form_class=ContactForm, template="accounts/apply_contact.html",
                 next_url="apply-review", previous_url="apply-personal")


@require_http_methods(["GET", "POST"])
def apply_review(request: HttpRequest) -> HttpResponse:
    """GET /apply/review — everything typed; POST submits (`application_submit`, idempotency key) once the
    terms checkbox is ticked (else 400 with the message next to it); the accepted version goes into the event."""
    draft = _draft(request)
    if not draft and request.method == "POST" and request.session.get(DONE_KEY):
        return redirect("apply-done")  # a second click after the first submit went through
    try:
        application_input = application_input_parse(application_body(draft))
    except ApplicationInvalidError as exc:
        fields = exc.extra.get("fields") or {}
        personal = {WIRE_NAMES[name] for name in PersonalForm.base_fields}
        return redirect("apply-personal" if set(fields) & personal or not draft else "apply-contact")
    except ApplicationError:
        return redirect("apply-personal")
    if "idempotency_key" not in draft:
        _save_draft(request, {"idempotency_key": f"web-{uuid.uuid4()}"})
        draft = _draft(request)
    consent = TermsConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and consent.is_valid():
        key = request.POST.get("idempotency_key") or draft["idempotency_key"]
        result = services.application_submit(application_input=application_input, idempotency_key=key,
                                             request_fingerprint=request_fingerprint(application_input.as_dict()),
                                             terms_version=TERMS_VERSION)
        request.session[DONE_KEY] = {**result.body, "email": application_input.email}
        request.session.pop(DRAFT_KEY, None)
        response = redirect("apply-done")
        response.status_code = 303
        return response
    return render(request, "accounts/apply_review.html", {
        "application": application_input, "idempotency_key": draft["idempotency_key"], "consent": consent,
        "id_type_label": dict(PersonalForm.base_fields["id_type"].choices).get(application_input.id_type),
        "account_type_label": dict(PersonalForm.base_fields["account_type"].choices).get(
            application_input.account_type)},
        status=400 if consent.is_bound else 200)


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    """GET /apply/terms — the terms of service the review page asks the applicant to accept (demo text)."""
    return render(request, "accounts/terms.html", {"terms_version": TERMS_VERSION})


@require_GET
def apply_done(request: HttpRequest) -> HttpResponse:
    """GET /apply/done — the application and receipt numbers and what happens next."""
    done = request.session.get(DONE_KEY)
    if not done:
        return redirect("apply-personal")
    return render(request, "accounts/apply_done.html", {"done": done})
