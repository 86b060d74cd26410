"""The JWT signing key comes from the environment: production refuses to start without it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _django_setup(**env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("JWT_SIGNING_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="s" * 50,
               CORE_BANKING_API_KEY="k", **env_overrides)
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.SIMPLE_JWT['SIGNING_KEY'] == settings.JWT_SIGNING_KEY != settings.SECRET_KEY)")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_when_jwt_signing_key_missing():
    result = _django_setup()
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY must be set" in result.stderr


def test_production_signs_jwts_with_the_dedicated_key_when_configured():
    result = _django_setup(JWT_SIGNING_KEY="j" * 64)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
