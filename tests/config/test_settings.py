"""Production settings refuse to start without their secrets; development defaults exist only with DEBUG on."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAMES = ("SECRET_KEY", "CORE_BANKING_API_KEY", "CORE_MOCK_CONTROL_KEY", "DEBUG", "CORE_MOCK_FAULTS_ENABLED")


def _load_settings(module: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_NAMES and k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE=module, **extra_env)
    code = "import django; django.setup(); from django.conf import settings; print('DEBUG', settings.DEBUG)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_when_secret_key_missing():
    # given production settings and no SECRET_KEY in the environment
    # when Django is set up
    result = _load_settings("config.settings.production", CORE_BANKING_API_KEY="k")
    # then it exits with a configuration error naming the missing secret
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_when_core_api_key_missing():
    result = _load_settings("config.settings.production", SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert "CORE_BANKING_API_KEY must be set" in result.stderr


def test_production_ignores_debug_flag_from_environment_when_secret_missing():
    # given DEBUG=true in the environment, which must not unlock the development defaults in production
    result = _load_settings("config.settings.production", DEBUG="true")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_when_secrets_are_set():
    result = _load_settings("config.settings.production", SECRET_KEY="s" * 50, CORE_BANKING_API_KEY="k")
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


def test_local_settings_start_with_development_defaults():
    result = _load_settings("config.settings.local")
    assert result.returncode == 0, result.stderr
    assert "DEBUG True" in result.stdout


@pytest.mark.parametrize("name, expected", [("TIME_ZONE", "Asia/Tokyo"), ("LANGUAGE_CODE", "ja")])
def test_locale_defaults(settings, name, expected):
    assert getattr(settings, name) == expected
    assert ("en", "English") in settings.LANGUAGES
