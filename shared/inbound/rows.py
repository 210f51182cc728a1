"""inbound's rows, as the statements of replies.sql return them (built by db.fetch_one with the
class). A field added here is a column to add to the statement's select list: a mismatch fails
at the first row (TypeError)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MailboxToRead:
    """A row of claim-mailbox-sync: the mailbox leased for this run and where its INBOX is."""

    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    imap_uidvalidity: int | None  # None until the INBOX was first read
    imap_last_uid: int  # the last UID handled under imap_uidvalidity
    url: str = field(repr=False)  # imaps://user:password@host: a secret, never in a repr or a log
