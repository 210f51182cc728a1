"""JSON nested deeper than the parser's recursion gets a 400 on every JSON endpoint, never a 500."""

from __future__ import annotations

import os

import pytest

from tests import factories as f
from tests.helpers import function_client, user_token

DEEP = "[" * 100_000 + "]" * 100_000  # about 200 KB, under the body cap
DEEP_OBJECT = '{"drain": ' * 20_000 + "true" + "}" * 20_000


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
@pytest.mark.parametrize(
    ("function", "path"),
    [
        ("run_search", "/"),
        ("scrape_url", "/"),
        ("draft_message", "/"),
        ("send_due", "/"),
        ("sync_mailboxes", "/"),
        ("deliver_events", "/"),
        ("unsubscribe_webhook", "/events"),
        ("unsubscribe_webhook", "/sns"),
        ("create_campaign", "/"),
    ],
)
def test_deeply_nested_json_is_400(conn, function, path, body):
    org_id, user_id = f.org(conn), f.user(conn)
    f.member(conn, org_id, user_id, "admin")
    headers = {
        "X-Webhook-Secret": os.environ["WEBHOOK_SECRET"],
        "Authorization": f"Bearer {user_token(user_id)}",
    }
    response = function_client(function).post(
        path, data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"] in ("invalid_json", "invalid_sns_message")


@pytest.mark.parametrize("text", ["a\\u0000b", "a\\ud800b"])
def test_text_no_database_can_store_is_400(conn, text):
    """A NUL or a lone surrogate anywhere in a body: a 400, not a failed write (a 500)."""
    org_id, user_id = f.org(conn), f.user(conn)
    f.member(conn, org_id, user_id, "admin")
    body = f'{{"organization_id": "{org_id}", "campaign_name": "{text}", "search_queries": ["yoga"]}}'
    response = function_client("create_campaign").post(
        "/",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {user_token(user_id)}"},
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_json"
    assert conn.execute(
        "SELECT count(*) FROM campaigns WHERE organization_id = %s", (org_id,)
    ).fetchone() == (0,)
