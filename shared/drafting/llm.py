"""A client for any OpenAI-compatible chat completions API (OpenAI, Azure, Groq, OpenRouter,
vLLM, Ollama): structured output where the server supports it, retries with backoff on 429
and 5xx honouring Retry-After, timeouts, and token usage."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from shared.core.config import get_settings
from shared.drafting.errors import LlmError as LlmError
from shared.drafting.errors import Malformed as Malformed
from shared.drafting.errors import Refused as Refused
from shared.drafting.errors import Unavailable as Unavailable

MAX_ATTEMPTS = 4
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Answer:
    content: str
    prompt_tokens: int
    completion_tokens: int


class ChatClient:
    def __init__(self, base_url: str, api_key: str | None, model: str, timeout: float = 60.0):
        self.url = f"{base_url.rstrip('/')}/chat/completions"
        self.model = model
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=10.0), headers=headers, trust_env=False
        )
        self.json_schema_supported = True

    def complete(self, messages: list[dict], schema: dict | None = None, temperature: float = 0.7) -> Answer:
        body = {"model": self.model, "messages": messages, "temperature": temperature}
        if schema is not None and self.json_schema_supported:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "email_sequence", "strict": True, "schema": schema},
            }
        elif schema is not None:
            body["response_format"] = {"type": "json_object"}
        try:
            data = self._post(body)
        except Refused as exc:
            # Servers without JSON-schema output refuse the field: ask for plain JSON instead.
            if "response_format" in body and self.json_schema_supported and exc.refuses_json_schema():
                self.json_schema_supported = False
                return self.complete(messages, schema, temperature)
            raise
        try:
            content = data["choices"][0]["message"]["content"]
            usage = data.get("usage") or {}
            return Answer(
                str(content or ""),
                _token_count(usage.get("prompt_tokens")),
                _token_count(usage.get("completion_tokens")),
            )
        except (KeyError, IndexError, TypeError, ValueError):
            raise Malformed("the LLM answered in an unexpected shape") from None

    def _post(self, body: dict) -> dict:
        base = get_settings().llm_retry_base_seconds
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = None
            try:
                response = self.client.post(self.url, json=body)
            except httpx.TimeoutException:
                problem = "the LLM did not answer in time"
            except httpx.TransportError as exc:
                problem = f"the LLM is unreachable ({type(exc).__name__})"
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    problem = f"the LLM answered {response.status_code}"
                    try:
                        wait = float(response.headers.get("Retry-After", ""))
                    except ValueError:
                        wait = None
                elif response.status_code >= 400:
                    raise Refused(response.status_code, response.text)
                else:
                    try:
                        return response.json()
                    except json.JSONDecodeError:
                        raise Malformed("the LLM answered with malformed JSON") from None
            if attempt == MAX_ATTEMPTS:
                raise Unavailable(f"{problem}, {MAX_ATTEMPTS} attempts")
            delay = wait if wait is not None else base * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            time.sleep(max(0.0, min(delay, MAX_RETRY_AFTER)))
        raise AssertionError("unreachable")


MAX_TOKENS_PER_ANSWER = 10_000_000


def _token_count(value: Any) -> int:
    """A server's usage figure as we record it: a whole number from 0 to a sane maximum (a
    negative or absurd count must not fail the write after a paid completion)."""
    try:
        return min(max(int(value or 0), 0), MAX_TOKENS_PER_ANSWER)
    except (TypeError, ValueError, OverflowError):
        return 0


_client: ChatClient | None = None


def from_settings() -> ChatClient | None:
    """The configured client, or None: then the template drafter writes the emails."""
    global _client
    s = get_settings()
    if not s.llm_base_url:
        return None
    if _client is None or _client.url != f"{s.llm_base_url}/chat/completions" or _client.model != s.llm_model:
        key = s.llm_api_key.get_secret_value() if s.llm_api_key else None
        _client = ChatClient(s.llm_base_url, key, s.llm_model or "gpt-4o-mini", s.llm_timeout)
    return _client
