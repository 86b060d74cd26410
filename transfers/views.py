"""Customer transfer pages: input → confirmation → submitted, and the live status page (htmx polling).

Everything the customer may do is decided by `transfers.services.transfer_request` (the API's service);
the confirmation form carries an idempotency key, so a double click or a browser retry is one transfer.
The status page folds the transfer's events into the four customer-facing steps.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ApplicationError, NotFoundError
from config.web import customer_required
from outbox.request_idempotency import IdempotencyKeyReusedError
from transfers import events as ev
from transfers import selectors, services
from transfers.forms import TransferConfirmForm, TransferForm

# Messages of the service's refusal codes in the page language (the API keeps the original texts).
REFUSALS = {
    "SAME_ACCOUNT": gettext_lazy("ご自身の口座には振り込めません。別の口座番号を入力してください。"),
    "AMOUNT_OVER_LIMIT": gettext_lazy("1回の振込金額の上限を超えています。"),
    "DAILY_LIMIT_EXCEEDED": gettext_lazy("1日の振込限度額を超えています。"),
    "TARGET_ACCOUNT_NOT_FOUND": gettext_lazy("振込先口座が見つかりません。口座番号をご確認ください。"),
    "SOURCE_ACCOUNT_NOT_FOUND": gettext_lazy("振込元の口座が見つかりません。"),
    "SOURCE_ACCOUNT_NOT_ACTIVE": gettext_lazy("振込元の口座は現在ご利用いただけません。"),
    "SOURCE_ACCOUNT_FORBIDDEN": gettext_lazy("この口座からは振り込めません。"),
    "INSUFFICIENT_BALANCE": gettext_lazy("口座残高が不足しています。振込金額をご確認ください。"),
    "DESCRIPTION_TOO_LONG": gettext_lazy("摘要が長すぎます。"),
    "IDEMPOTENCY_KEY_REUSED": gettext_lazy("この確認画面は別の内容で送信済みです。"
                                           "もう一度入力からやり直してください。"),
}
# Field each refusal belongs to (shown next to it); others go to the error summary.
REFUSAL_FIELDS = {"SAME_ACCOUNT": "target_account_id", "TARGET_ACCOUNT_NOT_FOUND": "target_account_id",
                  "AMOUNT_OVER_LIMIT": "amount", "DAILY_LIMIT_EXCEEDED": "amount", "INSUFFICIENT_BALANCE": "amount",
                  "DESCRIPTION_TOO_LONG": "description"}


def refusal_message(exc: ApplicationError) -> str:
    return str(REFUSALS.get(exc.code, exc.message))


def _input_page(request: HttpRequest, form: TransferForm, *, status: int = 200) -> HttpResponse:
    return render(request, "transfers/input.html", {"form": form}, status=status)


def _add_refusal(form: TransferForm, exc: ApplicationError) -> None:
    form.add_error(REFUSAL_FIELDS.get(exc.code), refusal_message(exc))
    form.mark_invalid()


@customer_required
@require_http_methods(["GET", "POST"])
def transfer_input(request: HttpRequest) -> HttpResponse:
    """GET /transfer: the input form (prefilled when coming back from the confirmation).
    POST /transfer: shape check + the service's own request validation → the confirmation page."""
    if request.method == "GET":
        return _input_page(request, TransferForm(initial=request.GET.dict() if "back" in request.GET else None))
    form = TransferForm(request.POST)
    if not form.is_valid():
        return _input_page(request, form, status=400)
    body = form.request_body(source_account_id=request.user.primary_account_id)
    try:
        services.transfer_request_validate(body=body)
    except ApplicationError as exc:
        _add_refusal(form, exc)
        return _input_page(request, form, status=400)
    confirm = TransferConfirmForm(initial={**form.cleaned_data, "idempotency_key": TransferConfirmForm.new_key()})
    return render(request, "transfers/confirm.html", {"form": form, "confirm": confirm,
                                                      "source_account_id": request.user.primary_account_id})


@customer_required
@require_POST
def transfer_submit(request: HttpRequest) -> HttpResponse:
    """POST /transfer/submit — `transfer_request` with the form's idempotency key; 303 to the status page.
    A repeat of the same key (double click, browser retry) gets the first transfer's page."""
    form = TransferConfirmForm(request.POST)
    if not form.is_valid():
        return _input_page(request, TransferForm(request.POST), status=400)
    body = form.request_body(source_account_id=request.user.primary_account_id)
    try:
        answer = services.transfer_request(user=request.user, body=body,
                                           idempotency_key=form.cleaned_data["idempotency_key"])
    except services.InsufficientFundsError as exc:
        messages.error(request, refusal_message(exc))
        return redirect("transfer-status", transaction_id=exc.extra["transactionId"])
    except (ApplicationError, IdempotencyKeyReusedError) as exc:
        retry = TransferForm(request.POST)
        retry.is_valid()
        _add_refusal(retry, exc)
        return _input_page(request, retry, status=exc.http_status if exc.http_status < 500 else 400)
    transaction_id = answer.body["transactionId"]
    if answer.status_code == 202 and not answer.replayed:
        messages.success(request, _("振込依頼を受け付けました。受付番号: %(id)s") % {"id": transaction_id})
    elif answer.status_code != 202:
        messages.error(request, str(REFUSALS["INSUFFICIENT_BALANCE"]))
    response = redirect("transfer-status", transaction_id=transaction_id)
    response.status_code = 303
    return response


# --- status ---------------------------------------------------------------------------------------------

PENDING, ACTIVE, DONE, FAILED = "pending", "active", "done", "failed"
STATE_LABELS = {PENDING: gettext_lazy("待機中"), ACTIVE: gettext_lazy("処理中"), DONE: gettext_lazy("完了"),
                FAILED: gettext_lazy("失敗")}


@dataclass
class Step:
    key: str
    label: str
    state: str = PENDING
    at: object = None
    detail: str = ""

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def _leg_outcome(event) -> bool:
    return bool((event.data or {}).get("success"))


def transfer_steps(events) -> tuple[list[Step], str]:
    """The customer's steps (received, withdrawal, deposit, [refund,] result) from the events in version
    order, and the outcome: `in_progress`, `completed`, `failed`, `compensated` or `rejected`."""
    received = Step("received", str(gettext_lazy("受付")))
    withdraw = Step("withdraw", str(gettext_lazy("出金（お客さまの口座）")))
    deposit = Step("deposit", str(gettext_lazy("入金（振込先の口座）")))
    refund = Step("refund", str(gettext_lazy("返金（お客さまの口座へ）")))
    result = Step("result", str(gettext_lazy("完了")))
    outcome, refunding = "in_progress", False
    legs = {ev.LEG_WITHDRAW: withdraw, ev.LEG_DEPOSIT: deposit, ev.LEG_REFUND: refund}
    for event in events:
        kind = event.type
        if kind == ev.TRANSFER_REQUESTED:
            received.state, received.at = DONE, event.recorded_at
        elif kind == ev.TRANSFER_REJECTED:
            received.state, received.at = FAILED, event.recorded_at
            received.detail = str(gettext_lazy("残高不足のため受け付けできませんでした。"))
            result.label, result.state, result.at, outcome = (str(gettext_lazy("不成立")), FAILED, event.recorded_at,
                                                              "rejected")
        elif kind in (ev.WITHDRAW_REQUESTED, ev.DEPOSIT_REQUESTED, ev.COMPENSATION_REQUESTED, ev.PROCESSING_STARTED):
            leg = event.leg or {ev.WITHDRAW_REQUESTED: ev.LEG_WITHDRAW, ev.DEPOSIT_REQUESTED: ev.LEG_DEPOSIT,
                                ev.COMPENSATION_REQUESTED: ev.LEG_REFUND}.get(kind)
            step = legs.get(leg)
            if step is not None and step.state == PENDING:
                step.state, step.at = ACTIVE, event.recorded_at
            if kind == ev.COMPENSATION_REQUESTED:
                refunding = True
        elif kind in (ev.WITHDRAW_PROCESSED, ev.DEPOSIT_PROCESSED, ev.COMPENSATION_PROCESSED):
            step = {ev.WITHDRAW_PROCESSED: withdraw, ev.DEPOSIT_PROCESSED: deposit,
                    ev.COMPENSATION_PROCESSED: refund}[kind]
            step.state, step.at = (DONE if _leg_outcome(event) else FAILED), event.recorded_at
        elif kind == ev.TRANSFER_COMPLETED:
            result.state, result.at, outcome = DONE, event.recorded_at, "completed"
        elif kind == ev.TRANSFER_FAILED:
            result.label, result.state, result.at, outcome = (str(gettext_lazy("失敗")), FAILED, event.recorded_at,
                                                              "failed")
            result.detail = str(gettext_lazy("出金できなかったため、振込は行われませんでした。"))
        elif kind == ev.TRANSFER_COMPENSATED:
            result.label, result.state, result.at = str(gettext_lazy("返金済み")), DONE, event.recorded_at
            result.detail = str(gettext_lazy("入金できなかったため、出金した金額をお客さまの口座に戻しました。"))
            outcome = "compensated"
    steps = [received, withdraw, deposit, *([refund] if refunding else []), result]
    return steps, outcome


def _status_context(request: HttpRequest, transaction_id: str) -> dict:
    try:
        transfer = selectors.transfer_get_for_owner(transaction_id=transaction_id,
                                                    customer_id=request.user.customer_id)
    except NotFoundError as exc:
        raise Http404(str(_("振込が見つかりません。"))) from exc
    timeline = selectors.transfer_timeline(transaction_id=transfer.transaction_id)
    steps, outcome = transfer_steps(timeline.events if timeline else [])
    return {"transfer": transfer, "steps": steps, "outcome": outcome,
            "poll_ms": settings.WEB_TRANSFER_POLL_MS, "terminal": transfer.terminal}


@customer_required
@require_GET
def transfer_status(request: HttpRequest, transaction_id: str) -> HttpResponse:
    """GET /transfers/<id> — the status page: step timeline, polling while in flight, a reload link."""
    return render(request, "transfers/status.html", _status_context(request, transaction_id))


# htmx stops polling when the answer is 286 (https://htmx.org/attributes/hx-trigger/, "every").
HTMX_STOP_POLLING = 286


@customer_required
@require_GET
def transfer_status_steps(request: HttpRequest, transaction_id: str) -> HttpResponse:
    """GET /transfers/<id>/steps — the timeline fragment for htmx; 286 once the transfer is terminal."""
    context = _status_context(request, transaction_id)
    response = render(request, "transfers/_steps.html", context)
    if context["terminal"]:
        response.status_code = HTMX_STOP_POLLING
    response["Cache-Control"] = "no-store"
    return response
