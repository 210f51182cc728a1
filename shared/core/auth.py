"""Verifies a caller's Supabase JWT: HS256 with the project's secret, or ES256/RS256 with the
keys the project publishes at <SUPABASE_URL>/auth/v1/.well-known/jwks.json."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import flask
import jwt

from shared.core.config import get_settings
from shared.core.http import HttpError

AUDIENCE = "authenticated"
ASYMMETRIC = ("ES256", "RS256")
_jwks: dict[str, jwt.PyJWKClient] = {}
_jwks_lock = threading.Lock()


@dataclass(frozen=True)
class User:
    user_id: UUID
    claims: dict


def _unauthorized(message: str) -> HttpError:
    return HttpError(401, "unauthorized", message)


def jwks_client(supabase_url: str) -> jwt.PyJWKClient:
    """One client per project URL: keys fetched once, cached, and fetched again on an unknown kid."""
    with _jwks_lock:
        if supabase_url not in _jwks:
            # The cooldown bounds how often forged kids can make us fetch the key set again.
            _jwks[supabase_url] = jwt.PyJWKClient(
                f"{supabase_url}/auth/v1/.well-known/jwks.json",
                cache_keys=True,
                lifespan=600,
                timeout=5,
                cooldown_duration=get_settings().jwks_refresh_cooldown,
            )
        return _jwks[supabase_url]


def _signing_key(token: str, header: dict[str, Any]) -> Any:
    settings = get_settings()
    alg = header.get("alg")
    if alg == "HS256" and settings.supabase_jwt_secret:
        return settings.supabase_jwt_secret.get_secret_value(), ["HS256"]
    if alg in ASYMMETRIC and settings.supabase_url:
        try:
            return jwks_client(settings.supabase_url).get_signing_key_from_jwt(token).key, [alg]
        except jwt.PyJWKClientConnectionError:
            raise HttpError(
                503, "jwks_unavailable", "the project's signing keys could not be fetched"
            ) from None
        except jwt.PyJWKClientError:
            raise _unauthorized("the token is signed by an unknown key") from None
    if not settings.supabase_jwt_secret and not settings.supabase_url:
        raise _unauthorized(
            "this deployment has no way to verify tokens (SUPABASE_JWT_SECRET / SUPABASE_URL)"
        )
    raise _unauthorized(f"tokens signed with {alg!r} are not accepted")


def verify(token: str) -> User:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise _unauthorized("the bearer token is not a JWT") from None
    key, algorithms = _signing_key(token, header)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
            leeway=10,
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the token has expired") from None
    except jwt.InvalidAudienceError:
        raise _unauthorized("the token is not for signed-in users (audience)") from None
    except jwt.InvalidTokenError as exc:
        raise _unauthorized(f"the token is invalid: {type(exc).__name__}") from None
    try:
        return User(UUID(str(claims["sub"])), claims)
    except ValueError:
        raise _unauthorized("the token's subject is not a user id") from None


def authenticate(request: flask.Request) -> User:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("send the user's Supabase JWT as 'Authorization: Bearer <token>'")
    return verify(token.strip())
