"""Core-banking mock endpoints (api.md §6.2, flows.md R22, §6.0). Thin: shape-check, call one service or selector."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import BodylessCommandMixin
from config.inputs import AsciiDigitsTextField, AsciiIntegerField, AwareDateTimeField
from corebanking_mock import faults, selectors, services
from corebanking_mock.api.base import CoreApiView, FaultControlApiView
from corebanking_mock.errors import InjectedFault
from corebanking_mock.models import DEBIT_POSTING_TYPES, AccountStatus, AccountType, PostingType
from corebanking_mock.response_bodies import (
    account_to_wire,
    customer_to_wire,
    idempotency_record_to_wire,
    posting_to_wire,
)

MAX_AMOUNT_YEN = 10**12
DEPOSIT_TYPES = (PostingType.TRANSFER_DEPOSIT, PostingType.ATM_DEPOSIT, PostingType.TRANSFER_REFUND)


class YenAmountField(serializers.Field):
    """A positive whole number of yen up to 10^12 given as a JSON number (no strings, booleans or fractions)."""

    default_error_messages = {
        "invalid": "amount must be a JSON number of whole yen.",
        "fractional": "amount must be a whole number of yen.",
        "not_positive": "amount must be greater than 0.",
        "too_large": f"amount must be at most {MAX_AMOUNT_YEN}.",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float):
            if not data.is_integer():
                self.fail("fractional")
            data = int(data)
        if data <= 0:
            self.fail("not_positive")
        if data > MAX_AMOUNT_YEN:
            self.fail("too_large")
        return data

    def to_representation(self, value: int) -> int:
        return value


def _optional_text(max_length: int) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, allow_null=True,
                                 default="")


# --- customers ---------------------------------------------------------------------------------


class CustomerCreateApi(CoreApiView):
    """POST /api/customers: create a customer (201), idempotent on `Idempotency-Key`."""

    fault_group = "customers"

    class InputSerializer(serializers.Serializer):
        class CustomerInfoSerializer(serializers.Serializer):
            fullName = serializers.CharField(max_length=200)
            email = serializers.EmailField(max_length=254)
            kana = _optional_text(200)
            phoneNumber = AsciiDigitsTextField(max_length=32, required=False, allow_blank=True, allow_null=True,
                                               default="")
            birthdate = _optional_text(32)
            postalCode = AsciiDigitsTextField(max_length=16, required=False, allow_blank=True, allow_null=True,
                                              default="")
            address = _optional_text(300)
            idType = _optional_text(32)
            idNumber = _optional_text(64)

        customerInfo = CustomerInfoSerializer()

    def post(self, request: Request) -> Response:
        idempotency_key = self.idempotency_key(request)
        body = self.json_object_body(request)
        info = self.validated(self.InputSerializer, body, message="customerInfo with fullName and email are required",
                              named_fields={"customerInfo"})["customerInfo"]
        reply = services.customer_create(
            customer_info=services.CustomerInfo(
                full_name=info["fullName"], email=info["email"], kana=info["kana"] or "",
                phone_number=info["phoneNumber"] or "", birthdate=info["birthdate"] or "",
                postal_code=info["postalCode"] or "", address=info["address"] or "", id_type=info["idType"] or "",
                id_number=info["idNumber"] or ""),
            idempotency_key=idempotency_key, request_fingerprint=self.fingerprint(request, body),
            path=request.path_info,
        )
        return self.reply(reply)


class CustomerDetailApi(CoreApiView):
    """GET /api/customers/{customerId}: the stored customer, 404 when unknown."""

    fault_group = "customers"

    def get(self, request: Request, customer_id: str) -> Response:
        return Response(customer_to_wire(selectors.customer_get(customer_id=customer_id)))


# --- accounts ----------------------------------------------------------------------------------


class AccountCreateApi(CoreApiView):
    """POST /api/accounts: open an account with the opening credit (201), idempotent on `Idempotency-Key`.

    `initialBalance` and `currency` are accepted and ignored (the opening credit is a setting; always JPY).
    """

    fault_group = "accounts"

    class InputSerializer(serializers.Serializer):
        customerId = serializers.CharField(max_length=32)
        accountType = serializers.ChoiceField(choices=AccountType.values)

    def post(self, request: Request) -> Response:
        idempotency_key = self.idempotency_key(request)
        body = self.json_object_body(request)
        payload = self.validated(self.InputSerializer, body, message="customerId and accountType are required",
                                 named_fields={"customerId", "accountType"})
        reply = services.account_create(
            customer_id=payload["customerId"], account_type=payload["accountType"], idempotency_key=idempotency_key,
            request_fingerprint=self.fingerprint(request, body), path=request.path_info,
        )
        return self.reply(reply)


class AccountDetailApi(CoreApiView):
    """GET /api/accounts/{accountId}: the stored account, 404 when unknown."""

    fault_group = "accounts"

    def get(self, request: Request, account_id: str) -> Response:
        return Response(account_to_wire(selectors.account_get(account_id=account_id)))


class AccountTransactionListApi(CoreApiView):
    """GET /api/accounts/{accountId}/transactions: newest 50 postings (an unknown account has none).

    Addition for the bank's sync: `?since=<ISO time>[&afterId=<id>][&limit=1..1000]` returns the postings
    after that cursor in ascending (timestamp, id) order, so a reader can page through all of them.
    """

    fault_group = "accounts"

    class FeedInput(serializers.Serializer):
        since = AwareDateTimeField()
        afterId = serializers.CharField(required=False, default="", allow_blank=True, max_length=40)
        limit = AsciiIntegerField(required=False, default=selectors.TRANSACTION_LIST_LIMIT, min_value=1,
                                  max_value=1000)

    def get(self, request: Request, account_id: str) -> Response:
        if "since" in request.query_params:
            feed = self.validated(self.FeedInput, request.query_params.dict(), message="Invalid feed cursor",
                                  named_fields=set())
            postings = selectors.posting_feed_for_account(account_id=account_id, since=feed["since"],
                                                          after_id=feed["afterId"], limit=feed["limit"])
        else:
            postings = selectors.posting_list_for_account(account_id=account_id)
        return Response({"accountId": account_id, "transactions": [posting_to_wire(p) for p in postings],
                         "totalCount": len(postings)})


# --- money movement ----------------------------------------------------------------------------


class TransactionWithdrawApi(CoreApiView):
    """POST /api/transactions/withdraw: debit an ACTIVE account (200), idempotent on `Idempotency-Key`."""

    fault_group = "transactions"

    class InputSerializer(serializers.Serializer):
        accountId = serializers.CharField(max_length=32)
        amount = YenAmountField()
        description = _optional_text(255)
        transactionType = serializers.ChoiceField(choices=[t.value for t in DEBIT_POSTING_TYPES],
                                                  default=PostingType.ATM_WITHDRAWAL.value)
        targetAccountId = _optional_text(64)
        transferId = _optional_text(128)

    def post(self, request: Request) -> Response:
        idempotency_key = self.idempotency_key(request)
        body = self.json_object_body(request)
        payload = self.validated(self.InputSerializer, body, message="accountId and positive amount are required",
                                 named_fields={"accountId", "amount"})
        reply = services.transaction_withdraw(
            account_id=payload["accountId"], amount_yen=payload["amount"],
            transaction_type=payload["transactionType"], description=payload["description"] or "",
            target_account_id=payload["targetAccountId"] or None, transfer_id=payload["transferId"] or None,
            idempotency_key=idempotency_key, request_fingerprint=self.fingerprint(request, body),
            path=request.path_info,
        )
        return self.reply(reply)


class TransactionDepositApi(CoreApiView):
    """POST /api/transactions/deposit: credit an ACTIVE account (200; a refund is TRANSFER_REFUND), idempotent."""

    fault_group = "transactions"

    class InputSerializer(serializers.Serializer):
        accountId = serializers.CharField(max_length=32)
        amount = YenAmountField()
        description = _optional_text(255)
        transactionType = serializers.ChoiceField(choices=[t.value for t in DEPOSIT_TYPES],
                                                  default=PostingType.ATM_DEPOSIT.value)
        sourceAccountId = _optional_text(64)
        transferId = _optional_text(128)

    def post(self, request: Request) -> Response:
        idempotency_key = self.idempotency_key(request)
        body = self.json_object_body(request)
        payload = self.validated(self.InputSerializer, body, message="accountId and positive amount are required",
                                 named_fields={"accountId", "amount"})
        reply = services.transaction_deposit(
            account_id=payload["accountId"], amount_yen=payload["amount"],
            transaction_type=payload["transactionType"], description=payload["description"] or "",
            source_account_id=payload["sourceAccountId"] or None, transfer_id=payload["transferId"] or None,
            idempotency_key=idempotency_key, request_fingerprint=self.fingerprint(request, body),
            path=request.path_info,
        )
        return self.reply(reply)


class TransactionDetailApi(CoreApiView):
    """GET /api/transaction/{transactionId}: the stored posting, 404 when unknown."""

    fault_group = "transactions"

    def get(self, request: Request, transaction_id: str) -> Response:
        return Response(posting_to_wire(selectors.posting_get(transaction_id=transaction_id)))


# --- idempotency keys: the bank looks a key up after an unclear answer, and voids one so that a late request
# under it can never apply (R22) ---------------------------------------------------------------------------


class IdempotencyDetailApi(CoreApiView):
    """GET /api/idempotency/{key}: state and stored answer of a key, 404 if never seen."""

    fault_group = "idempotency"

    def get(self, request: Request, key: str) -> Response:
        return Response(idempotency_record_to_wire(selectors.idempotency_record_get(key=key)))


class IdempotencyVoidApi(BodylessCommandMixin, CoreApiView):
    """POST /api/idempotency/{key}/void: block a key for good (200), or 409 with its answer if already applied."""

    fault_group = "idempotency"

    def post(self, request: Request, key: str) -> Response:
        return self.reply(services.idempotency_void(key=key))


# --- health and fault control ------------------------------------------------------------------


class CoreHealthApi(CoreApiView):
    """GET /core/health (no key): `{"status":"ok"}`, or 503 while the `all` fault group is down: the
    bank's circuit breaker probes this route to learn when core is back (R18)."""

    requires_api_key = False

    def get(self, request: Request) -> Response:
        if faults.fault_core_is_down():
            raise InjectedFault("Service unavailable", http_status=503, fault="down")
        return Response({"status": "ok"})


class FaultSettingsApi(FaultControlApiView):
    """GET /core/_faults: current settings. POST: change one group's faults by `mode` preset and/or knobs."""

    class InputSerializer(serializers.Serializer):
        group = serializers.ChoiceField(choices=faults.FAULT_GROUPS, default=faults.GROUP_ALL)
        mode = serializers.ChoiceField(choices=faults.FAULT_MODES, required=False)
        duration_s = serializers.FloatField(min_value=0.001, max_value=86_400, required=False)
        down = serializers.BooleanField(required=False)
        latency_ms = serializers.IntegerField(min_value=0, max_value=600_000, required=False)
        error_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
        timeout_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
        blackhole_after_apply = serializers.FloatField(min_value=0, max_value=1, required=False)
        hang_seconds = serializers.FloatField(min_value=0, max_value=600, required=False)
        seed = serializers.IntegerField(min_value=-(2**63), max_value=2**63 - 1, required=False, allow_null=True)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if set(attrs) <= {"group", "duration_s"}:
                raise serializers.ValidationError("give a mode or at least one fault knob")
            return attrs

    def get(self, request: Request) -> Response:
        return Response(faults.fault_settings_snapshot())

    def post(self, request: Request) -> Response:
        payload = dict(self.validated(self.InputSerializer, self.json_object_body(request),
                                      message="Invalid fault settings", named_fields=set()))
        return Response(faults.fault_settings_update(**payload))


class FaultResetApi(BodylessCommandMixin, FaultControlApiView):
    """POST /core/_faults/reset: remove every fault setting."""

    def post(self, request: Request) -> Response:
        faults.fault_settings_reset()
        return Response(faults.fault_settings_snapshot())


class FaultAccountStatusApi(FaultControlApiView):
    """POST /core/_faults/accounts/{accountId} `{"status": "FROZEN"}`: set an account's status, so a
    test can make core refuse a deposit to a frozen or inactive account (R22)."""

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=AccountStatus.values)

    def post(self, request: Request, account_id: str) -> Response:
        payload = self.validated(self.InputSerializer, self.json_object_body(request),
                                 message="status must be ACTIVE, INACTIVE or FROZEN", named_fields={"status"})
        return Response(account_to_wire(services.account_set_status(account_id=account_id,
                                                                    status=payload["status"])))
