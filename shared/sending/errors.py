"""How sending fails, by class: the outcomes a transport answers with and the errors that lead
to them. Nothing decides on a message's words; every reason is for a person to read.

A transport does not raise: it answers every send with one outcome, because promise 1 ("never
twice", docs/RELIABILITY.md) needs more than transient versus final. A failure before the
message data went out is safe to retry (`Temporary`); after it went out but before the server
answered, the outcome is `Unknown`, and the message is never sent again.

    Outcome = Accepted | Temporary | Permanent | Unknown
    Temporary(account=True)   the sending account itself cannot be used: its messages wait
    Permanent(recipient=True) the address was refused: a hard bounce
    Permanent(policy=True)    the sender was refused by policy (5.7.x): not the address's fault

The exceptions:

    AccountRefused (OSError)  a mailbox's server that must not be used; its sends end
                              Temporary(account=True)
    Unsendable (ValueError)   the message cannot be written for this recipient: failed, not sent
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accepted:
    detail: str = ""


@dataclass(frozen=True)
class Temporary:
    """Nothing was delivered; try again later (SMTP 4xx, throttling, connection lost before DATA).
    `account`: the sending account itself could not be used (login refused, no TLS where it is
    required, a host outside the address rules), so its other messages wait too."""

    reason: str
    account: bool = False


@dataclass(frozen=True)
class Permanent:
    """Refused for good (SMTP 5xx such as 550 5.1.1, SES rejection). `recipient`: the address
    itself was refused, a hard bounce. `policy`: the receiving server refused the sender (an
    enhanced status 5.7.x: its IP, its domain's authentication, its content), which counts
    toward the mailbox's circuit breaker."""

    reason: str
    recipient: bool = False
    policy: bool = False


@dataclass(frozen=True)
class Unknown:
    """The data may have been delivered; the server's answer was lost."""

    reason: str


Outcome = Accepted | Temporary | Permanent | Unknown


class AccountRefused(OSError):
    """A mailbox's server that must not be used: it resolves to an address outside the rules,
    or offers no TLS where a password would cross the network."""


class Unsendable(ValueError):
    """The message cannot be written for this recipient (an address SMTP cannot carry)."""
