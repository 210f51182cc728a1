"""The intents a reply can be read as (inbound_messages.intent's check, migration
20261204000400): one list for the reader (intent.py) and the console's filter, kept apart from
the reader so the console does not import the LLM client."""

from __future__ import annotations

INTENTS = (
    "interested",
    "meeting_request",
    "question",
    "not_now",
    "not_interested",
    "wrong_person",
    "referral",
    "unsubscribe",
    "auto_reply",
    "bounce",
    "other",
)
POSITIVE = frozenset({"interested", "meeting_request"})
NEGATIVE = frozenset({"not_interested", "unsubscribe"})
