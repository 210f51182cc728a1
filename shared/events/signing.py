"""The Standard Webhooks signature (https://www.standardwebhooks.com/), made with its reference
library: webhook-signature is "v1," and the base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"
under the endpoint's whsec_ secret."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from standardwebhooks import Webhook


def message_id(delivery_id: uuid.UUID) -> str:
    """The webhook-id: the outbox row's, so every retry of an event carries the same one."""
    return f"msg_{delivery_id.hex}"


def headers(secret: str, msg_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }
