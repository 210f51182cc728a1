"""Fuzzing (hypothesis): generated bodies, headers, tokens and webhook payloads at every HTTP
function — never a 5xx, and a refused request never writes; and extraction fed generated
HTML never raises."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.run import FUNCTIONS
from shared.discovery import contacts
from tests.helpers import function_client
from tests.integration.test_rls import TABLES as RLS_TABLES

pytestmark = pytest.mark.slow
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = tuple(RLS_TABLES)  # every table a tenant's data lives in

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["INSERT", "UPDATE", "DELETE", "insert", ""]) | st.text(max_size=8),
            "table": st.sampled_from(["search_tasks", "scrape_results", "campaign_contacts", "contacts"]),
            "schema": st.sampled_from(["public", "auth", ""]),
            "record": st.none()
            | st.dictionaries(
                st.sampled_from(["id", "campaign_id", "contact_id", "x"]),
                st.uuids().map(str) | st.text(max_size=40) | st.integers(),
            ),
            "old_record": json_values,
            "drain": json_values,
            "limit": json_values,
            "organization_id": st.uuids().map(str) | st.text(max_size=40),
            "campaign_name": json_values,
            "search_queries": json_values,
            "ai_settings": json_values,
            "email": st.emails() | st.text(max_size=40),
            "event": st.text(max_size=12),
        },
    ).map(lambda d: json.dumps(d).encode()),
)
# What an HTTP header can carry: no CR or LF, Latin-1.
header_text = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=60)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "application/json; charset=latin-1",
    ]
)


def counts(conn) -> tuple:
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_generated_requests_never_5xx_never_partial_write(conn, env, fn):
    env(DRAIN_GRACE_SECONDS=3600, SEND_DOMAIN_SPACING_SECONDS=0)  # drains find nothing of their own to do
    client = function_client(fn)

    @FUZZ
    @given(
        body=bodies,
        content_type=content_types,
        with_secret=st.booleans(),
        authorization=st.none() | header_text | st.just("Bearer x.y.z") | header_text.map("Bearer {}".format),
        path=st.sampled_from(["/", "/sns", "/events", "/x"]),
        method=st.sampled_from(["POST", "GET", "PUT"]),
        token=st.text(max_size=60),
    )
    def check(body, content_type, with_secret, authorization, path, method, token):
        headers = {}
        if with_secret:
            headers["X-Webhook-Secret"] = os.environ["WEBHOOK_SECRET"]
        if authorization is not None:
            headers["Authorization"] = authorization
        before = counts(conn)
        response = client.open(
            path,
            method=method,
            data=body,
            content_type=content_type or None,
            headers=headers,
            query_string={"token": token},
        )
        assert response.status_code < 500, (response.status_code, response.get_data()[:300])
        if response.status_code >= 400:
            assert counts(conn) == before

    check()


@FUZZ
@given(
    st.text(
        alphabet=st.sampled_from(
            list("@.-_+ 0123456789abcxyzAT[]{}()<>/\"'=:;,mailto#\n\\\uff10\uff0d\uff0b")
        ),
        max_size=3000,
    )
)
def test_extraction_never_raises_on_generated_text(text):
    for html in (
        text,
        f"<html><body><p>{text}</p><a href='mailto:{text[:80]}'>x</a></body></html>",
        f"<script type='application/ld+json'>{text}</script>",
        f"<script type='application/json'>{text}</script><a href='https://wa.me/{text[:40]}'>w</a>",
        f"<script>window.__NUXT__={text}</script><script>self.__next_f.push([1,{text[:200]}])</script>",
    ):
        result = contacts.extract(html, "https://studio.com/", "es")
        assert all("@" in e for e in result.emails)
        assert all(p.startswith("+") for p in result.phones)


@FUZZ
@given(st.text(max_size=2000))
def test_contact_links_never_raise(text):
    contacts.contact_links(
        f"<html><body>{text}<a href='/contact'>c</a></body></html>", "https://studio.com/", 3
    )
