"""Each search provider against a local server speaking its documented format."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.discovery import prospects, providers, search
from tests import factories as f
from tests.helpers import http_server, json_answer


@pytest.fixture
def fast_retries(env):
    env(SEARCH_RETRY_BASE_SECONDS="0.01")


def brave_page(n, start):
    return {
        "query": {"more_results_available": True},
        "web": {
            "results": [
                {"url": f"https://studio{start + i}.com/x#frag", "title": f"S{i}", "description": "d"}
                for i in range(n)
            ]
        },
    }


def test_brave_request_and_paging(fast_retries):
    seen = []

    def respond(handler):
        parts = urlsplit(handler.path)
        seen.append((parts.path, parse_qs(parts.query), handler.headers["X-Subscription-Token"]))
        offset = int(parse_qs(parts.query)["offset"][0])
        return json_answer(200, brave_page(20, offset * 20))

    with http_server(respond) as base:
        results = providers.Brave("brave-key", base).search("yoga studios", "es-ES", 30)
    assert len(results) == 30 and results[0].url == "https://studio0.com/x#frag"
    path, query, token = seen[0]
    assert path == "/res/v1/web/search" and token == "brave-key"
    assert query["q"] == ["yoga studios"] and query["search_lang"] == ["es"] and query["count"] == ["20"]
    assert [q["offset"] for _, q, _ in seen] == [["0"], ["1"]]


def test_serpapi_request_and_paging(fast_retries):
    seen = []

    def respond(handler):
        query = parse_qs(urlsplit(handler.path).query)
        seen.append(query)
        start = int(query["start"][0])
        return json_answer(
            200,
            {
                "organic_results": [{"link": f"https://s{start + i}.com/", "title": "t"} for i in range(10)],
                "serpapi_pagination": {"next": "x"},
            },
        )

    with http_server(respond) as base:
        results = providers.SerpApi("serp-key", base).search("pilates", "en", 15)
    assert len(results) == 15
    assert seen[0]["engine"] == ["google"] and seen[0]["api_key"] == ["serp-key"] and seen[0]["hl"] == ["en"]
    assert [q["start"] for q in seen] == [["0"], ["10"]]


def test_serper_request(fast_retries):
    seen = []

    def respond(handler):
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        seen.append((handler.command, handler.path, handler.headers["X-API-KEY"], body))
        return json_answer(200, {"organic": [{"link": "https://a.com/", "title": "A"}]})

    with http_server(respond) as base:
        results = providers.Serper("serper-key", base).search("spin", "de", 10)
    assert [r.url for r in results] == ["https://a.com/"]
    assert seen[0][:3] == ("POST", "/search", "serper-key")
    assert seen[0][3] == {"q": "spin", "num": 10, "page": 1, "hl": "de"}


@pytest.mark.parametrize("provider", ["brave", "serpapi", "serper"])
def test_429_with_retry_after_then_success(fast_retries, provider):
    calls = []

    def respond(handler):
        calls.append(handler.path)
        if len(calls) == 1:
            return json_answer(429, {"error": "slow down"}, {"Retry-After": "0.2"})
        body = {
            "brave": brave_page(1, 0),
            "serpapi": {"organic_results": [{"link": "https://a.com/"}]},
            "serper": {"organic": [{"link": "https://a.com/"}]},
        }[provider]
        return json_answer(200, body)

    with http_server(respond) as base:
        results = providers.PROVIDERS[provider]("k", base).search("q", None, 1)
    assert len(results) == 1 and len(calls) == 2


@pytest.mark.parametrize("provider", ["brave", "serpapi", "serper"])
def test_500_until_the_last_attempt(fast_retries, provider):
    calls = []

    def respond(handler):
        calls.append(1)
        return json_answer(500, {"error": "boom"})

    with http_server(respond) as base:
        with pytest.raises(providers.SearchError, match="500") as err:
            providers.PROVIDERS[provider]("k", base).search("q", None, 5)
    assert err.value.retryable and len(calls) == providers.MAX_ATTEMPTS


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"web": {"results": "nope"}}'])
def test_malformed_response_fails_without_retrying(fast_retries, body):
    calls = []

    def respond(handler):
        calls.append(1)
        return 200, {"Content-Type": "application/json"}, body

    with http_server(respond) as base:
        with pytest.raises(providers.SearchError, match="malformed|not an object|not a list") as err:
            providers.Brave("k", base).search("q", None, 5)
    assert not err.value.retryable and len(calls) == 1


def test_refused_key_fails_clearly(fast_retries):
    with http_server(lambda h: json_answer(401, {"error": "bad key"})) as base:
        with pytest.raises(providers.SearchError, match="refused the request: HTTP 401"):
            providers.Serper("k", base).search("q", None, 5)


def test_task_records_the_failure_reason(conn, env, fast_retries):
    with http_server(lambda h: (200, {"Content-Type": "application/json"}, b"<html>")) as base:
        env(SEARCH_PROVIDER="brave", SEARCH_API_KEY="k", SEARCH_BASE_URL=base)
        task_id = f.search_task(conn, f.campaign(conn))
        from shared.core import db
        from shared.core.work import SEARCH

        with db.transaction() as c:
            row = SEARCH.claim_one(c, {"id": task_id})
        assert search.run_search(row) == "failed"
    state = conn.execute(
        "SELECT status, status_reason FROM search_tasks WHERE id = %s", (task_id,)
    ).fetchone()
    assert state == ("failed", "failed: the search API answered with malformed JSON")


def test_busy_api_retries_the_task_later_then_fails(conn, env, fast_retries):
    with http_server(lambda h: json_answer(503, {})) as base:
        env(
            SEARCH_PROVIDER="serper",
            SEARCH_API_KEY="k",
            SEARCH_BASE_URL=base,
            WORK_MAX_ATTEMPTS="2",
            WORK_RETRY_BASE_SECONDS="0",
        )
        task_id = f.search_task(conn, f.campaign(conn))
        from shared.core import db
        from shared.core.work import SEARCH

        for expected in ("pending", "failed"):
            with db.transaction() as c:
                row = SEARCH.claim_one(c, {"id": task_id})
            assert search.run_search(row) == expected
    state = conn.execute(
        "SELECT status, status_reason, attempts FROM search_tasks WHERE id = %s", (task_id,)
    ).fetchone()
    assert state[0] == "failed" and state[1].startswith("failed after 2 attempts") and state[2] == 2


def test_urls_normalized_deduplicated_per_site_and_skip_list():
    urls = [
        "HTTPS://Studio.COM:443/About#team",
        "https://studio.com/contact",
        "https://www.studio.com/",
        "https://www.facebook.com/studio",
        "https://m.yelp.com/biz/x",
        "ftp://files.com/",
        "http://Other.com:8080/x?y=1#z",
        "not a url",
    ]
    assert prospects.prospect_sites(urls) == ["https://studio.com/About", "http://other.com:8080/x?y=1"]


def test_skip_list_is_configurable(env):
    env(SEARCH_SKIP_HOSTS="studio.com")
    assert prospects.prospect_sites(["https://facebook.com/x", "https://a.studio.com/"]) == [
        "https://facebook.com/x"
    ]
