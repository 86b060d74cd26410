"""Client address of a request, shared by django-axes (lockout per IP), throttling and the session record.

Only `REMOTE_ADDR` is trusted unless `BANK_TRUSTED_PROXY_COUNT` says how many reverse proxies append to
`X-Forwarded-For`; then the address that many hops from the right is used (a client cannot spoof it,
because each trusted proxy appends what it saw). Behind a proxy without this setting, every client
would share the proxy's address and one attacker could lock everybody out by IP.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip_address(request) -> str | None:
    """The client's IP address, or None if it is not a valid address."""
    meta = getattr(request, "META", {})
    candidate = meta.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "BANK_TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
