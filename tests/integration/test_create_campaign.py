"""create_campaign: JWT verification, membership, validation, and nothing written on refusal."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests import factories as f
from tests.helpers import function_client, http_server, json_answer, user_token


@pytest.fixture(scope="module")
def client():
    return function_client("create_campaign")


@pytest.fixture
def admin(conn):
    """An admin of a new organization: admins create campaigns."""
    org_id, user_id = f.org(conn), f.user(conn)
    f.member(conn, org_id, user_id, "admin")
    return org_id, user_id


def body(org_id, **overrides):
    return {
        "organization_id": str(org_id),
        "campaign_name": "Yoga studios spring",
        "search_queries": ["yoga studios in Florida", "pilates studios in Miami"],
        **overrides,
    }


def post(client, token, payload, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(
        "/", data=data, headers=headers, content_type=kwargs.pop("content_type", "application/json")
    )


def campaigns_of(conn, org_id) -> int:
    return conn.execute("SELECT count(*) FROM campaigns WHERE organization_id = %s", (org_id,)).fetchone()[0]


def tasks_of(conn, org_id) -> int:
    return conn.execute(
        "SELECT count(*) FROM search_tasks t JOIN campaigns c ON c.id = t.campaign_id WHERE c.organization_id = %s",
        (org_id,),
    ).fetchone()[0]


def test_admin_creates_campaign_and_tasks(client, conn, admin):
    org_id, user_id = admin
    response = post(client, user_token(user_id), body(org_id, tone="Friendly", default_language="es"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["campaign"]["created_by"] == str(user_id)
    assert data["campaign"]["tone"] == "friendly"
    assert data["campaign"]["ai_settings"]["steps"] == [
        {"delay_days": 0},
        {"delay_days": 3},
        {"delay_days": 7},
    ]
    assert [t["search_query"] for t in data["search_tasks"]] == [
        "yoga studios in Florida",
        "pilates studios in Miami",
    ]
    assert {t["language"] for t in data["search_tasks"]} == {"es"}
    assert campaigns_of(conn, org_id) == 1 and tasks_of(conn, org_id) == 2


def test_duplicate_queries_removed(client, conn, admin):
    org_id, user_id = admin
    queries = ["Yoga studios", "yoga  studios", " YOGA STUDIOS ", "spin classes"]
    response = post(client, user_token(user_id), body(org_id, search_queries=queries))
    assert response.status_code == 201
    assert [t["search_query"] for t in response.get_json()["search_tasks"]] == [
        "Yoga studios",
        "spin classes",
    ]


def test_sql_in_a_query_is_stored_literally(client, conn, admin):
    org_id, user_id = admin
    evil = "x'); DROP TABLE campaigns; --"
    response = post(client, user_token(user_id), body(org_id, search_queries=[evil]))
    assert response.status_code == 201
    assert conn.execute(
        "SELECT search_query FROM search_tasks WHERE id = %s", (response.get_json()["search_tasks"][0]["id"],)
    ).fetchone() == (evil,)
    assert conn.execute("SELECT to_regclass('public.campaigns')").fetchone()[0] is not None


def test_ai_settings_defaults_applied_and_kept(client, conn, admin):
    org_id, user_id = admin
    settings = {
        "steps": [{"delay_days": 0}, {"delay_days": 2}],
        "sending_window": {"timezone": "Europe/Madrid"},
    }
    response = post(client, user_token(user_id), body(org_id, ai_settings=settings))
    assert response.status_code == 201
    stored = conn.execute(
        "SELECT ai_settings FROM campaigns WHERE id = %s", (response.get_json()["campaign"]["id"],)
    ).fetchone()[0]
    assert stored["sending_window"] == {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start_hour": 9,
        "end_hour": 17,
        "timezone": "Europe/Madrid",
    }
    assert stored["daily_cap"] == 200 and stored["review_before_send"] is False


INVALID = [
    ("campaign_name", {"campaign_name": "   "}),
    ("campaign_name", {"campaign_name": "x" * 201}),
    ("campaign_name", {"campaign_name": 42}),
    ("search_queries", {"search_queries": []}),
    ("search_queries", {"search_queries": ["q"] * 0 + [f"q{i}" for i in range(51)]}),
    ("search_queries.0", {"search_queries": ["x" * 401]}),
    ("search_queries.0", {"search_queries": [7]}),
    ("search_queries", {"search_queries": "yoga"}),
    ("word_limit", {"word_limit": 10}),
    ("word_limit", {"word_limit": 1001}),
    ("word_limit", {"word_limit": "200"}),
    ("word_limit", {"word_limit": True}),
    ("tone", {"tone": "x" * 61}),
    ("default_language", {"default_language": "english please"}),
    ("organization_id", {"organization_id": "not-a-uuid"}),
    ("ai_settings.surprise", {"ai_settings": {"surprise": 1}}),
    ("ai_settings.steps", {"ai_settings": {"steps": [{"delay_days": 3}, {"delay_days": 1}]}}),
    (
        "ai_settings.sending_window.timezone",
        {"ai_settings": {"sending_window": {"timezone": "Mars/Olympus"}}},
    ),
    ("ai_settings.sending_window", {"ai_settings": {"sending_window": {"start_hour": 18, "end_hour": 9}}}),
    ("ai_settings.daily_cap", {"ai_settings": {"daily_cap": 0}}),
    ("ai_settings.sender_email", {"ai_settings": {"sender_email": "nobody"}}),
    ("unexpected", {"unexpected": True}),
]


@pytest.mark.parametrize(
    ("field", "overrides"), INVALID, ids=[f"{i}-{f}" for i, (f, _) in enumerate(INVALID)]
)
def test_invalid_body_is_400_naming_the_field(client, conn, admin, field, overrides):
    org_id, user_id = admin
    response = post(client, user_token(user_id), body(org_id, **overrides))
    assert response.status_code == 400
    data = response.get_json()
    assert data["error"] == "invalid_body"
    assert field in [d["field"] for d in data["details"]], data
    assert campaigns_of(conn, org_id) == 0


def test_missing_fields_are_named(client, conn, admin):
    org_id, user_id = admin
    response = post(client, user_token(user_id), {"organization_id": str(org_id)})
    fields = {d["field"] for d in response.get_json()["details"]}
    assert response.status_code == 400 and {"campaign_name", "search_queries"} <= fields


def test_non_member_is_403(client, conn, admin):
    org_id, _ = admin
    outsider = f.user(conn)
    f.member(conn, f.org(conn), outsider, "admin")
    response = post(client, user_token(outsider), body(org_id))
    assert response.status_code == 403
    assert campaigns_of(conn, org_id) == 0


def test_plain_member_is_403_as_row_level_security_says(client, conn, admin):
    org_id, _ = admin
    plain = f.user(conn)
    f.member(conn, org_id, plain, "member")
    response = post(client, user_token(plain), body(org_id))
    assert response.status_code == 403 and "only an admin" in response.get_json()["message"]
    assert campaigns_of(conn, org_id) == 0


def test_unknown_organization_is_403_too(client, conn, admin):
    _, user_id = admin
    response = post(client, user_token(user_id), body(uuid.uuid4()))
    assert response.status_code == 403
    assert response.get_json()["message"] == "you are not a member of this organization"


def _hostile_tokens(user_id):
    secret = __import__("os").environ["SUPABASE_JWT_SECRET"]
    now = int(time.time())
    claims = {"sub": str(user_id), "aud": "authenticated", "exp": now + 600}
    unsigned = jwt.encode(claims, None, algorithm="none")
    return {
        "bad-signature": user_token(user_id, secret="another-secret-of-enough-length-123"),
        "expired": user_token(user_id, expires_in=-3600),
        "alg-none": unsigned,
        "alg-none-stripped": unsigned.rstrip("."),
        "wrong-audience": jwt.encode({**claims, "aud": "anon"}, secret, algorithm="HS256"),
        "no-expiry": jwt.encode({"sub": str(user_id), "aud": "authenticated"}, secret, algorithm="HS256"),
        "subject-not-uuid": jwt.encode({**claims, "sub": "admin"}, secret, algorithm="HS256"),
        "not-a-jwt": "hello.world",
        "hs512": jwt.encode(claims, secret, algorithm="HS512"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "bad-signature",
        "expired",
        "alg-none",
        "alg-none-stripped",
        "wrong-audience",
        "no-expiry",
        "subject-not-uuid",
        "not-a-jwt",
        "hs512",
    ],
)
def test_hostile_token_is_401(client, conn, admin, kind):
    org_id, user_id = admin
    response = post(client, _hostile_tokens(user_id)[kind], body(org_id))
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"] == "unauthorized"
    assert campaigns_of(conn, org_id) == 0


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_missing_or_malformed_authorization_is_401(client, conn, admin, header):
    org_id, _ = admin
    headers = {"Authorization": header} if header is not None else {}
    response = client.post(
        "/", data=json.dumps(body(org_id)), headers=headers, content_type="application/json"
    )
    assert response.status_code == 401
    assert campaigns_of(conn, org_id) == 0


def test_malformed_json_is_400(client, conn, admin):
    org_id, user_id = admin
    response = post(client, user_token(user_id), '{"organization_id": ')
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_json"
    assert campaigns_of(conn, org_id) == 0


def test_body_over_the_cap_is_413(client, conn, admin):
    org_id, user_id = admin
    payload = body(org_id, instructions="x" * 400_000)
    response = post(client, user_token(user_id), payload)
    assert response.status_code == 413
    assert campaigns_of(conn, org_id) == 0


def test_body_not_an_object_is_400(client, conn, admin):
    org_id, user_id = admin
    for payload in ("[]", '"text"', "null", "42"):
        response = post(client, user_token(user_id), payload)
        assert response.status_code == 400, payload
    assert campaigns_of(conn, org_id) == 0


def test_get_is_405(client):
    assert client.get("/").status_code == 405


def test_failure_midway_writes_nothing(client, conn, admin, monkeypatch):
    """The campaign and its tasks are one transaction: a failing task insert leaves no campaign."""
    from shared.campaigns import create

    org_id, user_id = admin
    real = create.db.fetch_one
    calls = {"n": 0}

    def failing(conn_, name, *args, **kwargs):
        if name == "insert-search-task":
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("connection lost")
        return real(conn_, name, *args, **kwargs)

    monkeypatch.setattr(create.db, "fetch_one", failing)
    response = post(client, user_token(user_id), body(org_id))
    assert response.status_code == 500
    assert campaigns_of(conn, org_id) == 0 and tasks_of(conn, org_id) == 0


# The JWKS path: asymmetric keys published by the project, served by a local server.


def _jwk(private_key, kid: str, alg: str) -> dict:
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture
def jwks(env):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state = {"keys": [_jwk(ec_key, "ec-1", "ES256"), _jwk(rsa_key, "rsa-1", "RS256")], "fetches": 0}

    def respond(handler):
        if handler.path != "/auth/v1/.well-known/jwks.json":
            return json_answer(404, {})
        state["fetches"] += 1
        return json_answer(200, {"keys": state["keys"]})

    with http_server(respond) as url:
        env(SUPABASE_URL=url, SUPABASE_JWT_SECRET=None, JWKS_REFRESH_COOLDOWN="0.5")
        yield {"ec": ec_key, "rsa": rsa_key, "state": state}


def _signed(private_key, alg, kid, user_id, **extra):
    claims = {"sub": str(user_id), "aud": "authenticated", "exp": int(time.time()) + 600, **extra}
    return jwt.encode(claims, private_key, algorithm=alg, headers={"kid": kid})


@pytest.mark.parametrize(("key", "alg", "kid"), [("ec", "ES256", "ec-1"), ("rsa", "RS256", "rsa-1")])
def test_jwks_signed_token_accepted_and_keys_cached(client, conn, admin, jwks, key, alg, kid):
    org_id, user_id = admin
    token = _signed(jwks[key], alg, kid, user_id)
    assert post(client, token, body(org_id)).status_code == 201
    assert post(client, token, body(org_id, campaign_name="second")).status_code == 201
    assert jwks["state"]["fetches"] == 1
    assert campaigns_of(conn, org_id) == 2


def test_unknown_kid_refreshes_then_refuses(client, conn, admin, jwks):
    org_id, user_id = admin
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert post(client, _signed(jwks["ec"], "ES256", "ec-1", user_id), body(org_id)).status_code == 201
    # Within the cooldown, a storm of unknown kids does not hammer the project's endpoint.
    for _ in range(5):
        assert post(client, _signed(stranger, "ES256", "rotated-2", user_id), body(org_id)).status_code == 401
    assert jwks["state"]["fetches"] == 1
    time.sleep(0.6)
    response = post(client, _signed(stranger, "ES256", "rotated-2", user_id), body(org_id))
    assert response.status_code == 401
    assert jwks["state"]["fetches"] == 2  # after the cooldown the unknown kid made the client look again
    time.sleep(0.6)
    # After a real rotation the new key is found on that refresh.
    jwks["state"]["keys"].append(_jwk(stranger, "rotated-2", "ES256"))
    assert post(client, _signed(stranger, "ES256", "rotated-2", user_id), body(org_id)).status_code == 201
    assert campaigns_of(conn, org_id) == 2


def test_key_from_another_project_with_a_known_kid_is_refused(client, conn, admin, jwks):
    org_id, user_id = admin
    forger = ec.generate_private_key(ec.SECP256R1())
    response = post(client, _signed(forger, "ES256", "ec-1", user_id), body(org_id))
    assert response.status_code == 401
    assert campaigns_of(conn, org_id) == 0


def test_hs256_refused_when_only_jwks_configured(client, conn, admin, jwks):
    org_id, user_id = admin
    response = post(client, user_token(user_id, secret="guessable-secret-for-hmac-tokens"), body(org_id))
    assert response.status_code == 401
    assert campaigns_of(conn, org_id) == 0


def test_no_verification_configured_refuses_everything(client, conn, admin, env):
    org_id, user_id = admin
    token = user_token(user_id)
    env(SUPABASE_JWT_SECRET=None, SUPABASE_URL=None)
    response = post(client, token, body(org_id))
    assert response.status_code == 401
    assert campaigns_of(conn, org_id) == 0


def test_browser_preflight_and_cors_headers(client, conn, admin, env):
    org_id, user_id = admin
    preflight = client.options(
        "/", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    env(CORS_ALLOWED_ORIGINS="https://app.example")
    response = client.post(
        "/",
        data=json.dumps(body(org_id)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {user_token(user_id)}", "Origin": "https://app.example"},
    )
    assert (
        response.status_code == 201
        and response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    )
    other = client.post(
        "/", data="{}", content_type="application/json", headers={"Origin": "https://evil.example"}
    )
    assert other.status_code == 401 and "Access-Control-Allow-Origin" not in other.headers
