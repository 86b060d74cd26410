"""Customer pages of the read side: the dashboard (balance card, chart, recent postings) and the history.

Reads go through balance.selectors (owner check included); labels come from the API's `transaction_item`.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from balance.api.serializers import transaction_item
from balance.models import AccountBalance, TransactionEntry
from balance.selectors import account_get_for_owner, account_is_stale, transactions_for_account
from config.errors import NotFoundError
from config.web import customer_required

RECENT_ON_DASHBOARD = 5
CHART_POINTS = 30
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 600, 200, 28


@dataclass(frozen=True)
class HistoryRow:
    """One posting as a table row: the entry (time, signed amount) and its wire labels."""

    entry: TransactionEntry
    description: str
    is_deposit: bool


def _rows(entries) -> list[HistoryRow]:
    rows = []
    for entry in entries:
        item = transaction_item(entry)
        rows.append(HistoryRow(entry=entry, description=item["description"], is_deposit=entry.amount > 0))
    return rows


@dataclass(frozen=True)
class BalanceChart:
    """Server-rendered SVG data: the balance after each of the last postings, oldest first."""

    points: str
    area: str
    minimum: int
    maximum: int
    first_label: str
    last_label: str
    count: int


def balance_chart(*, account: AccountBalance, entries: list[TransactionEntry]) -> BalanceChart | None:
    """Walk back from the current ledger balance over the newest postings (as the original's chart did)."""
    if not entries:
        return None
    balances = [account.ledger_balance]
    for entry in entries[:-1]:
        balances.append(balances[-1] - entry.amount)
    balances.reverse()  # oldest first
    times = [entry.timestamp for entry in reversed(entries)]
    low, high = min(balances), max(balances)
    span = (high - low) or 1
    count = len(balances)
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD

    def xy(index: int, value: int) -> tuple[float, float]:
        x = CHART_PAD + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)
        y = CHART_PAD + inner_h - (value - low) / span * inner_h
        return round(x, 1), round(y, 1)

    coords = [xy(i, value) for i, value in enumerate(balances)]
    points = " ".join(f"{x},{y}" for x, y in coords)
    base = CHART_PAD + inner_h
    area = f"{coords[0][0]},{base} {points} {coords[-1][0]},{base}"
    from django.utils import timezone

    fmt = "%m/%d"
    return BalanceChart(points=points, area=area, minimum=low, maximum=high, count=count,
                        first_label=timezone.localtime(times[0]).strftime(fmt),
                        last_label=timezone.localtime(times[-1]).strftime(fmt))


def _account_or_none(request: HttpRequest) -> AccountBalance | None:
    try:
        return account_get_for_owner(account_id=request.user.primary_account_id,
                                     customer_id=request.user.customer_id)
    except NotFoundError:
        return None


@customer_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """GET /dashboard — balance card (as of, stale note), balance chart, recent postings, quick actions."""
    account = _account_or_none(request)
    context: dict = {"account": account}
    if account is not None:
        entries = list(transactions_for_account(account_id=account.account_id)[:CHART_POINTS])
        context.update(stale=account_is_stale(account=account), recent=_rows(entries[:RECENT_ON_DASHBOARD]),
                       chart=balance_chart(account=account, entries=entries),
                       chart_size=(CHART_WIDTH, CHART_HEIGHT, CHART_PAD))
    return render(request, "balance/dashboard.html", context)


@customer_required
def history(request: HttpRequest) -> HttpResponse:
    """GET /history?page= — every posting of the customer's account, newest first, paginated."""
    account = _account_or_none(request)
    page = None
    if account is not None:
        paginator = Paginator(transactions_for_account(account_id=account.account_id),
                              settings.WEB_HISTORY_PAGE_SIZE)
        raw_page = request.GET.get("page")
        # Paginator's int() would read "１" or "٣" as a page number: only ASCII is a page (other junk such
        # as "abc" still falls back to page 1, as Paginator.get_page does).
        if raw_page and not raw_page.isascii():
            raise BadRequest("page must be written with ASCII digits")
        page = paginator.get_page(raw_page)
    return render(request, "balance/history.html", {
        "account": account, "page": page, "rows": _rows(page.object_list) if page else [],
        "stale": account_is_stale(account=account) if account else False})
