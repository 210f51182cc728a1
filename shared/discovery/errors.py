"""What the fetcher raises, in one hierarchy (as httpx keeps its exceptions in one place).

Callers decide by class, never by a message's words: a `Transient` failure is worth another
try later (the site may answer next time), anything else is final. The message of each is the
reason recorded for a person to read, and may be reworded freely.

    FetchError
    ├── Transient            timeouts, refused connections, names that do not resolve, 5xx/429
    │   └── ServerBusy       (also an HttpStatus)
    ├── HttpStatus           4xx: final; `.status` carries the code
    ├── Blocked              an address outside the rules (promise 5): final
    ├── AnswerLost           a form's data went out, its answer did not come back
    └── (FetchError itself)  not HTML, too large, unreadable, too many redirects: final
"""

from __future__ import annotations


class FetchError(Exception):
    """A page that could not or must not be fetched; the message is the recorded reason."""


class Transient(FetchError):
    """Worth another try later: the site, its network or its name server may answer next time."""


class Blocked(FetchError):
    """The address is outside the rules (not public, not http(s), credentials in the URL)."""


class AnswerLost(FetchError):
    """A form's data went out but no answer came back: it may have been received."""


class HttpStatus(FetchError):
    """The site answered with an error status."""

    def __init__(self, status: int):
        super().__init__(f"HTTP status {status}")
        self.status = status

    @staticmethod
    def of(status: int) -> HttpStatus:
        """The error for a status: 5xx and 429 are the site's passing trouble, others final."""
        return ServerBusy(status) if status >= 500 or status == 429 else HttpStatus(status)


class ServerBusy(HttpStatus, Transient):
    """5xx or 429: the site's trouble, likely to pass."""
