"""Which mailbox sends each claimed message (promise 9 in docs/DESIGN.md).

A sequence keeps one mailbox from its first message to its last, so follow-ups thread from the
same address. The first message takes, among the campaign's mailboxes (ai_settings.mailboxes,
or every mailbox of the organization), the usable one with the most capacity left today.
Runs inside the claim's transaction, under its lock, so the per-mailbox caps and ramps count
every instance's claims. An organization without mailboxes sends through MAIL_TRANSPORT.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from shared.core import db
from shared.mailboxes import domains

NO_CAPACITY = "deferred: no mailbox of the campaign can send now (all paused, failing or at their daily cap)"
NOT_LISTED = "deferred: none of the addresses in ai_settings.mailboxes is a mailbox of the organization"


@dataclass
class Mailbox:
    id: uuid.UUID
    email: str
    remaining: int
    unusable: str | None
    held: str | None = None  # its domain lacks SPF or DMARC (SENDER_DOMAIN_CHECK=enforce)

    def why_not(self) -> str | None:
        if self.unusable:
            return f"deferred: the sequence's mailbox {self.email} is {self.unusable}"
        if self.held:
            return f"deferred: the sequence's mailbox {self.email} is held: {self.held}"
        if self.remaining <= 0:
            return f"deferred: the sequence's mailbox {self.email} reached its daily cap"
        return None


def assign(conn: psycopg.Connection, claimed: list[uuid.UUID], wait: int) -> list[uuid.UUID]:
    """Gives each claimed row of an organization with mailboxes its mailbox; returns the rows
    that stay claimed. The others go back to the queue for `wait` seconds, with the reason."""
    needs = db.fetch_all(conn, "mailbox-needs", ids=claimed)
    if not needs:
        return claimed
    organizations = list({n["organization_id"] for n in needs})
    boxes: dict[uuid.UUID, list[Mailbox]] = {org: [] for org in organizations}
    by_id: dict[uuid.UUID, Mailbox] = {}
    for row in db.fetch_all(conn, "mailbox-capacity", organizations=organizations, ids=claimed):
        mailbox = Mailbox(row["id"], row["email"], row["remaining"], row["unusable"])
        boxes[row["organization_id"]].append(mailbox)
        by_id[mailbox.id] = mailbox
    domains.gate(conn, boxes)  # the sending domains' SPF and DMARC, as last checked

    chosen: dict[uuid.UUID, uuid.UUID] = {}
    held: dict[uuid.UUID, str] = {}
    for need in needs:
        if need["sequence_order"] > 0:
            if need["thread_mailbox_id"] is None:
                continue  # the sequence began through MAIL_TRANSPORT and ends there
            box = by_id.get(need["thread_mailbox_id"])
            reason = box.why_not() if box else "deferred: the sequence's mailbox is gone"
        else:
            allowed = need["allowed"]
            listed = [b for b in boxes[need["organization_id"]] if allowed is None or b.email in allowed]
            box = max((b for b in listed if b.why_not() is None), key=lambda b: b.remaining, default=None)
            reason = None if box else NO_CAPACITY if listed else NOT_LISTED
            if reason == NO_CAPACITY:  # a mailbox held for its domain says which record is missing
                reason = domains.first_message_reason(listed) or reason
        if reason:
            held[need["id"]] = reason
        elif box is not None:  # no reason means a mailbox was found
            chosen[need["id"]] = box.id
            box.remaining -= 1

    if chosen:
        db.execute(conn, "assign-mailboxes", ids=list(chosen), mailboxes=list(chosen.values()))
    if held:
        db.execute(conn, "hold-claimed-for-mailbox", ids=list(held), reasons=list(held.values()), wait=wait)
    return [i for i in claimed if i not in held]
