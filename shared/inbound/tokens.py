"""Unsubscribe tokens: HMAC-SHA256 over the outreach_flows id of the message that carried the link.

    <flow id, base64url, 22 chars>.<mac, base64url, 22 chars>

The MAC is truncated to 128 bits. Tokens never expire (CAN-SPAM asks links to work for 30 days
at least; a person may click a years-old email). Keys listed in UNSUBSCRIBE_PREVIOUS_SECRETS
still verify, so the secret can be rotated without breaking links already sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid

from shared.core.config import ConfigError, get_settings

_PURPOSE = b"outreach-unsubscribe-v1:"


class InvalidToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, flow_id: uuid.UUID) -> bytes:
    return hmac.new(key.encode(), _PURPOSE + flow_id.bytes, hashlib.sha256).digest()[:16]


def _keys() -> list[str]:
    settings = get_settings()
    previous = [k.strip() for k in settings.unsubscribe_previous_secrets.split(",") if k.strip()]
    if settings.unsubscribe_secret is None:  # get_settings() makes one locally, requires it deployed
        raise ConfigError("invalid configuration: UNSUBSCRIBE_SECRET is required")
    return [settings.unsubscribe_secret.get_secret_value(), *previous]


def issue(flow_id: uuid.UUID) -> str:
    return f"{_b64(flow_id.bytes)}.{_b64(_mac(_keys()[0], flow_id))}"


def verify(token: str) -> uuid.UUID:
    """The flow id the token names, or InvalidToken for anything forged, altered or malformed."""
    if not isinstance(token, str) or len(token) != 45 or token.count(".") != 1:
        raise InvalidToken("malformed token")
    ident, mac = token.split(".")
    try:
        raw_id, raw_mac = _unb64(ident), _unb64(mac)
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed token") from None
    if len(raw_id) != 16 or len(raw_mac) != 16 or _b64(raw_id) != ident or _b64(raw_mac) != mac:
        raise InvalidToken("malformed token")
    flow_id = uuid.UUID(bytes=raw_id)
    # Check every key, without stopping early, so timing tells nothing about which one matched.
    valid = False
    for key in _keys():
        valid |= hmac.compare_digest(_mac(key, flow_id), raw_mac)
    if not valid:
        raise InvalidToken("the token's signature does not match")
    return flow_id


def unsubscribe_url(flow_id: uuid.UUID) -> str:
    return f"{get_settings().public_base_url}/unsubscribe_webhook?token={issue(flow_id)}"
