"""The GitHub App's key pair and JWTs, as the fake and its callers need them."""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = 424242


def new_key_pair() -> tuple[str, str]:
    """A new RSA key pair, as GitHub makes for an App: ``(private_pem, public_pem)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@functools.cache
def generate_app_key() -> tuple[str, str]:
    """A fresh RSA key pair for the App, once per process: ``(private_pem, public_pem)``."""
    return new_key_pair()


def make_app_jwt(
    private_pem: str | None = None,
    app_id: int = APP_ID,
    *,
    iat: int | None = None,
    lifetime: int = 540,
    issuer: Any = None,
) -> str:
    """An App JWT as GitHub wants it (RS256, ``iat`` back-dated 60 s); for tests of the fake."""
    now = int(time.time())
    issued = now - 60 if iat is None else iat
    claims = {
        "iat": issued,
        "exp": issued + lifetime,
        "iss": str(app_id) if issuer is None else issuer,
    }
    # pyjwt refuses to encode a non-string ``iss``; other clients send an integer, so sign by hand.
    return jwt.api_jws.encode(
        json.dumps(claims).encode(),
        private_pem or generate_app_key()[0],
        algorithm="RS256",
        headers={"typ": "JWT"},
    )
