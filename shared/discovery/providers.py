"""Web search providers: Brave Search, SerpApi (Google engine) and Serper, each in its own
documented wire format, and an offline fixture provider for local runs and tests."""

from __future__ import annotations

import email.utils
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.core.config import get_settings
from shared.core.logs import get_logger

log = get_logger(__name__)
MAX_ATTEMPTS = 4
MAX_RETRY_AFTER = 30.0


class SearchError(Exception):
    """The task fails with this reason. `retryable`: the API was busy or down after every
    attempt, so the task may try again later; otherwise (refused, malformed) it fails now."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Result:
    url: str
    title: str = ""
    snippet: str = ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return (when - datetime.now(UTC)).total_seconds() if when else None


def request_json(client: httpx.Client, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """One API call: 429 and 5xx retried with exponential backoff, honouring Retry-After."""
    base = get_settings().search_retry_base_seconds
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            problem, wait = "the search API timed out", None
        except httpx.TransportError as exc:
            problem, wait = f"the search API is unreachable ({type(exc).__name__})", None
        else:
            if response.status_code == 429 or response.status_code >= 500:
                problem, wait = f"the search API answered {response.status_code}", _retry_after(response)
            elif response.status_code >= 400:
                raise SearchError(f"the search API refused the request: HTTP {response.status_code}")
            else:
                try:
                    data = response.json()
                except ValueError:
                    raise SearchError("the search API answered with malformed JSON") from None
                if not isinstance(data, dict):
                    raise SearchError("the search API answered with JSON that is not an object")
                return data
        if attempt == MAX_ATTEMPTS:
            raise SearchError(f"{problem}, {MAX_ATTEMPTS} attempts", retryable=True)
        delay = wait if wait is not None else base * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        time.sleep(max(0.0, min(delay, MAX_RETRY_AFTER)))
    raise AssertionError("unreachable")


def _items(data: dict, key: str, url_field: str, title: str, snippet: str) -> list[Result]:
    items: Any = data
    for part in key.split("."):
        items = items.get(part) if isinstance(items, dict) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise SearchError(f"malformed search response: '{key}' is not a list")
    results = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get(url_field), str):
            results.append(Result(item[url_field], str(item.get(title) or ""), str(item.get(snippet) or "")))
    return results


class Provider:
    name = ""
    page_size = 10
    default_url = ""

    def __init__(self, api_key: str | None = None, base_url: str | None = None):
        self.api_key = api_key
        self.base_url = base_url or self.default_url
        self.client = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), trust_env=False)

    def search(self, query: str, language: str | None, limit: int) -> list[Result]:
        results: list[Result] = []
        page = 0
        while len(results) < limit:
            batch, more = self.page(query, language, page, min(self.page_size, limit - len(results)))
            results.extend(batch)
            page += 1
            if not batch or not more or page >= 10:
                break
        return results[:limit]

    def page(self, query: str, language: str | None, page: int, count: int) -> tuple[list[Result], bool]:
        raise NotImplementedError


class Brave(Provider):
    """GET /res/v1/web/search with X-Subscription-Token; `offset` counts pages of `count` (max 20)."""

    name, page_size = "brave", 20
    default_url = "https://api.search.brave.com"

    def page(self, query, language, page, count):
        params = {"q": query, "count": count, "offset": page}
        if language:
            params["search_lang"] = language.split("-")[0]
        data = request_json(
            self.client,
            "GET",
            f"{self.base_url}/res/v1/web/search",
            params=params,
            headers={"X-Subscription-Token": self.api_key or "", "Accept": "application/json"},
        )
        results = _items(data, "web.results", "url", "title", "description")
        more = bool((data.get("query") or {}).get("more_results_available", len(results) == count))
        return results, more


class SerpApi(Provider):
    """GET /search.json?engine=google with api_key; `start` is the result offset."""

    name, page_size = "serpapi", 10
    default_url = "https://serpapi.com"

    def page(self, query, language, page, count):
        params = {
            "engine": "google",
            "q": query,
            "api_key": self.api_key or "",
            "num": count,
            "start": page * self.page_size,
        }
        if language:
            params["hl"] = language.split("-")[0]
        data = request_json(self.client, "GET", f"{self.base_url}/search.json", params=params)
        if isinstance(data.get("error"), str) and "hasn't returned any results" not in data["error"]:
            raise SearchError(f"SerpApi error: {data['error'][:200]}")
        results = _items(data, "organic_results", "link", "title", "snippet")
        return results, "next" in (data.get("serpapi_pagination") or {})


class Serper(Provider):
    """POST /search with X-API-KEY and a JSON body; `page` starts at 1."""

    name, page_size = "serper", 10
    default_url = "https://google.serper.dev"

    def page(self, query, language, page, count):
        body = {"q": query, "num": count, "page": page + 1}
        if language:
            body["hl"] = language.split("-")[0]
        data = request_json(
            self.client,
            "POST",
            f"{self.base_url}/search",
            json=body,
            headers={"X-API-KEY": self.api_key or "", "Content-Type": "application/json"},
        )
        results = _items(data, "organic", "link", "title", "snippet")
        return results, len(results) == count


class Fixture(Provider):
    """Offline: the sites of the local fixture website (FIXTURE_SITE_URLS), whatever the query."""

    name = "fixture"
    default_url = ""

    def search(self, query, language, limit):
        urls = [u.strip() for u in os.environ.get("FIXTURE_SITE_URLS", "").split(",") if u.strip()]
        if not urls:
            raise SearchError(
                "the fixture provider has no sites: FIXTURE_SITE_URLS is unset (start the local stack)"
            )
        return [Result(url, f"Fixture site {i + 1}") for i, url in enumerate(urls[:limit])]


PROVIDERS = {p.name: p for p in (Brave, SerpApi, Serper, Fixture)}


def from_settings() -> Provider:
    s = get_settings()
    key = s.search_api_key.get_secret_value() if s.search_api_key else None
    return PROVIDERS[s.search_provider](key, s.search_base_url)
