"""Unexpected errors outside DRF views under /v1/ (config.api.server_error): JSON, request id logged, no trace."""
from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def exploding_view(request):
    raise RuntimeError("secret internals /srv/app")


urlpatterns = [path("v1/test/explode", exploding_view), *project_urlpatterns]
handler500 = "config.api.server_error"
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.api.test_server_error")]


def test_plain_view_error_is_json_500_with_logged_request_id_when_under_v1(caplog):
    # given
    client = Client(raise_request_exception=False)
    # when
    with caplog.at_level(logging.ERROR, logger="bank.api"):
        response = client.get("/v1/test/explode", HTTP_ORIGIN="http://localhost:3000")
    # then
    assert response.status_code == 500
    body = response.json()
    assert body["message"] == "Internal server error"
    assert body["requestId"] in caplog.text
    assert "secret internals" not in response.content.decode()
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
