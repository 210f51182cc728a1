"""Enhanced mail system status codes (RFC 3463) as SMTP replies and delivery reports carry them:
class.subject.detail, such as 5.1.1 (no such mailbox) or 5.7.26 (the sender is not
authenticated). They say whose fault a refusal is: a hard bounce is the address's, a policy
refusal is the sender's (its authentication, its reputation, its content), and blaming the
address for it would stop writing to a person for good over a fault of ours."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Not inside a longer dotted number: "[192.0.2.1]" in a reply is an address, not a status. A
# period ending the sentence after it is no part of one.
ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)")


@dataclass(frozen=True, slots=True)
class Status:
    klass: int  # 2 success, 4 transient, 5 permanent
    subject: int
    detail: int

    @property
    def address(self) -> bool:
        """X.1.X (the address: no such mailbox, no such domain) or X.2.1 (mailbox disabled); not
        X.1.7 and X.1.8, which are about the sender's own address."""
        return (self.subject == 1 and self.detail not in (7, 8)) or (self.subject, self.detail) == (2, 1)

    @property
    def policy(self) -> bool:
        """X.7.X, security or policy: the sender or the message was refused, not the address."""
        return self.subject == 7

    @property
    def unspecific(self) -> bool:
        """X.0.X: says nothing of whose fault it is (the text beside it may)."""
        return self.subject == 0


def find(text: str) -> Status | None:
    """The first enhanced status code in a reply or a report's field, if any."""
    match = ENHANCED.search(text)
    return Status(*(int(n) for n in match.groups())) if match else None
