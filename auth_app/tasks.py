"""Celery beat housekeeping for logins: thin wrappers around auth_app/services.py."""
from __future__ import annotations

import logging

from celery import shared_task

from auth_app import services

logger = logging.getLogger("bank.auth.tasks")


@shared_task(name="auth_app.login_sessions_prune", ignore_result=True)
def login_sessions_prune() -> int:
    """Beat, hourly: delete API login sessions past their retention and the web UI's expired sessions."""
    deleted = services.login_session_prune()
    services.web_sessions_clear_expired()
    if deleted:
        logger.info("login sessions pruned: %d", deleted)
    return deleted
