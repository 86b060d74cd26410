"""Hand-made tokens for the negative cases (expired, tampered, alg none, wrong key, forged claims)."""
from __future__ import annotations

import base64
import json
import time

import jwt
from django.conf import settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def signed(claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.JWT_SIGNING_KEY, algorithm=algorithm)


def unsigned_alg_none(claims: dict) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}."


def tampered(token: str, **changes) -> str:
    """Same header and signature, payload changed."""
    header, _, signature = token.split(".")
    payload = b64url(json.dumps({**claims_of(token), **changes}).encode())
    return f"{header}.{payload}.{signature}"


def expired(token: str) -> str:
    """Validly signed, but `exp` in the past."""
    now = int(time.time())
    return signed({**claims_of(token), "iat": now - 1000, "exp": now - 100})
