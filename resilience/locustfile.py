"""Load W0 of flows.md §6.0 for Locust (headless, run as a SUBPROCESS of the harness; never imported by Django).

    locust -f resilience/locustfile.py --headless -u N -r N -t 300s --host http://127.0.0.1:PORT [classes]

The harness writes a JSON config (path in RES_LOAD_CONFIG): customer tokens and their accounts, the staff token,
the rates, the output file, and switches (`duplicates` for E18). Every request is appended to the output JSONL
through Locust's `request` event: {"t": start epoch s, "e": endpoint, "s": HTTP status (0 = no answer),
"ms": latency}, plus "tx"/"k" (transaction id / Idempotency-Key) for transfers, so the harness can aggregate
per second and per endpoint and check duplicates.

Rates are open-ended per user (`constant_throughput`): each endpoint gets several users at a fraction of the
rate, so a slow answer delays one user without stopping the endpoint's whole load.
"""
from __future__ import annotations

import json
import os
import random
import time
import uuid

import gevent
from locust import FastHttpUser, constant_throughput, events, task

CONFIG = json.loads(open(os.environ["RES_LOAD_CONFIG"], encoding="utf-8").read())
TOKENS: dict[str, str] = CONFIG["tokens"]
ACCOUNTS: dict[str, list[str]] = CONFIG["accounts"]
ALL_ACCOUNTS = [account for accounts in ACCOUNTS.values() for account in accounts]
NOT_SOURCES = set(CONFIG.get("not_sources", []))  # E17: FROZEN in core, only ever transfer targets
RATES: dict[str, float] = CONFIG["rates"]
USERS: dict[str, int] = CONFIG["users"]
DUPLICATES = bool(CONFIG.get("duplicates"))
APPROVE_AFTER_S = float(CONFIG.get("approve_after_s", 2.0))
_out = open(CONFIG["out"], "a", encoding="utf-8", buffering=1)

APPLICATION_BODY = {
    "customerInfo": {"fullName": "負荷 太郎", "email": "load@example.com", "phoneNumber": "090-1234-5678",
                     "birthDate": "1990-01-01", "idType": "drivingLicense", "idNumber": "123456789012"},
    "address": {"postalCode": "100-0001", "prefecture": "東京都", "city": "千代田区",
                "streetAddress": "東京都千代田区千代田1-1"},
    "type": "普通預金", "initialBalance": 0,
}


@events.request.add_listener
def record(request_type, name, response_time, response_length, response=None, context=None, exception=None,
           start_time=None, url=None, **kwargs):
    """One JSONL line per request (status 0 when no HTTP answer came back)."""
    status = getattr(response, "status_code", 0) or 0
    line = {"t": round(start_time if start_time else time.time(), 3), "e": name, "s": int(status),
            "ms": round(float(response_time or 0), 1)}
    if context:
        line.update(context)
    _out.write(json.dumps(line) + "\n")


def _rate_users(endpoint: str) -> tuple[int, float]:
    users = max(1, int(USERS.get(endpoint, 1)))
    return users, RATES.get(endpoint, 0.0) / users


class BankUser(FastHttpUser):
    abstract = True
    network_timeout = 30.0
    connection_timeout = 5.0

    pace_s = 1.0  # seconds between two tasks of one user (set per class)

    def on_start(self) -> None:
        """Spread the users over one pace interval, so the endpoint's load is smooth instead of bursts. Locust's
        constant pacing counts from the user's spawn, so the pacing clock restarts after the random delay
        (otherwise every user fires on the same tick)."""
        gevent.sleep(random.uniform(0, self.pace_s))
        self._cp_last_run = time.perf_counter()

    def customer(self) -> tuple[str, str]:
        customer = random.choice(list(TOKENS))
        return customer, TOKENS[customer]

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _user_class(endpoint: str, base: type, body: dict) -> type:
    users, per_user = _rate_users(endpoint)
    attributes = dict(body, fixed_count=users if per_user > 0 else 0, pace_s=1 / per_user if per_user > 0 else 1.0,
                      wait_time=constant_throughput(per_user) if per_user > 0 else constant_throughput(0.01))
    return type(f"{endpoint.title().replace('_', '')}User", (base,), attributes)


@task
def _balance(self) -> None:
    customer, token = self.customer()
    account = random.choice(ACCOUNTS[customer])
    self.client.get(f"/v1/api/balance?accountId={account}", headers=self.auth(token), name="balance")


@task
def _transactions(self) -> None:
    customer, token = self.customer()
    account = random.choice(ACCOUNTS[customer])
    self.client.get(f"/v1/api/accounts/{account}/transactions", headers=self.auth(token), name="transactions")


def _transfer_post(user, token: str, body: dict, key: str, name: str) -> None:
    with user.client.post("/v1/api/transfer", data=json.dumps(body), name=name, catch_response=True,
                          headers={**user.auth(token), "Idempotency-Key": key}, context={"k": key}) as response:
        try:  # the request event fires when the block ends, with this (copied) context
            response.request_meta["context"]["tx"] = (response.json() or {}).get("transactionId", "")
        except Exception:  # noqa: BLE001 - not JSON (e.g. a proxy error page): no id
            pass
        if 200 <= (response.status_code or 0) < 300:
            response.success()
        else:
            response.failure(f"HTTP {response.status_code}")


@task
def _transfer(self) -> None:
    customer, token = self.customer()
    source = random.choice([account for account in ACCOUNTS[customer] if account not in NOT_SOURCES])
    target = random.choice([account for account in ALL_ACCOUNTS if account != source])
    body = {"sourceAccountId": source, "targetAccountId": target, "amount": random.randint(1, 10_000),
            "description": "resilience W0"}
    key = uuid.uuid4().hex
    if DUPLICATES:  # E18: the same request twice at once, same Idempotency-Key
        jobs = [gevent.spawn(_transfer_post, self, token, body, key, "transfer"),
                gevent.spawn(_transfer_post, self, token, body, key, "transfer_dup")]
        gevent.joinall(jobs)
    else:
        _transfer_post(self, token, body, key, "transfer")


def _confirm(user, transaction_id: str, name: str) -> None:
    user.client.post(f"/v1/api/accounts/confirm/{transaction_id}", data=json.dumps({"comment": "auto"}),
                     headers=user.auth(CONFIG["staff_token"]), name=name, context={"tx": transaction_id})


def _apply_and_approve(self, *, prefix: str) -> None:
    response = self.client.post("/v1/api/accounts", data=json.dumps(APPLICATION_BODY), name=f"{prefix}application",
                                headers={"Content-Type": "application/json"})
    if response.status_code != 201:
        return
    transaction_id = response.json()["transactionId"]
    gevent.sleep(APPROVE_AFTER_S)
    if DUPLICATES:  # E18: every confirm twice, concurrently
        gevent.joinall([gevent.spawn(_confirm, self, transaction_id, f"{prefix}confirm"),
                        gevent.spawn(_confirm, self, transaction_id, f"{prefix}confirm_dup")])
    else:
        _confirm(self, transaction_id, f"{prefix}confirm")


@task
def _application(self) -> None:
    _apply_and_approve(self, prefix="")


@task
def _spike_application(self) -> None:
    gevent.spawn(_apply_and_approve, self, prefix="spike_")  # arrivals do not wait for the 2 s approval


BalanceUser = _user_class("balance", BankUser, {"tasks": [_balance]})
TransactionsUser = _user_class("transactions", BankUser, {"tasks": [_transactions]})
TransferUser = _user_class("transfer", BankUser, {"tasks": [_transfer]})
ApplicationUser = _user_class("application", BankUser, {"tasks": [_application]})
SpikeApplicationUser = _user_class("spike_application", BankUser, {"tasks": [_spike_application]})
