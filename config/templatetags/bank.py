"""Template filters and tags of the web UI ({% load bank %}): yen amounts, account numbers, the admin panel."""
from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yen(value) -> str:
    """12345 → `¥12,345`; negative → `-¥12,345`; None/empty → `—`."""
    if value is None or value == "":
        return "—"
    amount = int(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,}"


@register.filter
def yen_abs(value) -> str:
    """The absolute amount as `¥12,345` (the history shows the direction as 入金/出金 next to it)."""
    if value is None or value == "":
        return "—"
    return f"¥{abs(int(value)):,}"


@register.filter
def account_no(value) -> str:
    """`0011234567` → `001-1234567` (branch code, then the account number), as the original header showed."""
    text = str(value or "")
    return f"{text[:3]}-{text[3:]}" if len(text) > 3 else text


@register.filter
def seconds(value) -> str:
    """A duration in seconds as `12 s`, `3 min 5 s` or `2 h 4 min`."""
    total = int(float(value or 0))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60} s"
    return f"{total // 3600} h {(total % 3600) // 60} min"


@register.inclusion_tag("admin/bank_status_panel.html", takes_context=True)
def outbox_status_panel(context):
    """The admin index's status panel: outbox counts, oldest pending age, throughput (outbox.selectors)."""
    from django.conf import settings

    from outbox.selectors import outbox_stats

    return {"stats": outbox_stats(), "faults_enabled": settings.CORE_MOCK_FAULTS_ENABLED,
            "request": context.get("request")}


@register.simple_tag
def support_contact() -> dict[str, str]:
    """The (demo) support desk named in the footer and on the error pages (WEB_SUPPORT_EMAIL)."""
    from django.conf import settings

    return {"email": settings.WEB_SUPPORT_EMAIL}
