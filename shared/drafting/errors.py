"""What the LLM client raises, in one hierarchy. Callers decide by class, never by a message's
words: `Unavailable` is worth another try later (the draft is retried), the others are final.

    LlmError
    ├── Unavailable   no answer after the client's own retries: timeouts, unreachable, 429, 5xx
    ├── Refused       the server refused the request (4xx other than 429); `.status`, `.detail`
    └── Malformed     an answer that is not JSON, or not a chat completion
"""

from __future__ import annotations


class LlmError(Exception):
    """The LLM gave no usable answer; the message is the recorded reason."""


class Unavailable(LlmError):
    """The LLM did not answer, or answered that it is busy, even after retries: try later."""


class Refused(LlmError):
    """The server refused the request as it was written (HTTP 4xx other than 429): final."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"the LLM refused the request: HTTP {status}: {detail[:300]}")
        self.status = status
        self.detail = detail

    def refuses_json_schema(self) -> bool:
        """A server without structured output refusing the response_format field. There is no
        error code for this in the OpenAI-compatible API: the server's own answer (not one of
        our messages) names it."""
        return 400 <= self.status < 500 and "json_schema" in self.detail.lower()


class Malformed(LlmError):
    """The answer is not JSON, or not in the shape of a chat completion: final."""
