"""Configuration, named queries, logging and the shared HTTP layer, without a database."""

from __future__ import annotations

import io
import json
import logging

import flask
import pytest

from shared.core import config, queries
from shared.core.http import (
    HttpError,
    WebhookPayload,
    handler,
    json_response,
    read_json,
    require_webhook_secret,
    validate,
)
from shared.core.logs import JsonFormatter
from shared.core.triggers import Drain

app = flask.Flask(__name__)


def test_config_error_names_the_variable_not_its_value(monkeypatch):
    monkeypatch.setenv("SEARCH_PROVIDER", "altavista-secret-value")
    with pytest.raises(config.ConfigError) as err:
        config.load_settings()
    assert "SEARCH_PROVIDER" in str(err.value)
    assert "altavista-secret-value" not in str(err.value)


@pytest.mark.parametrize(
    ("value", "servers"),
    [
        ("10.0.0.2", [("10.0.0.2", 53)]),
        (" 10.0.0.2:5353 , 2001:db8::53", [("10.0.0.2", 5353), ("2001:db8::53", 53)]),
        ("[2001:db8::53]:5353", [("2001:db8::53", 5353)]),
        ("dns.example.com", None),
        ("10.0.0.2:dns", None),
        ("10.0.0.2:70000", None),
        ("[2001:db8::53", None),
    ],
)
def test_dns_nameservers_are_addresses_with_an_optional_port(monkeypatch, value, servers):
    monkeypatch.setenv("DNS_NAMESERVERS", value)
    if servers is None:
        with pytest.raises(config.ConfigError, match="DNS_NAMESERVERS"):
            config.load_settings()
    else:
        assert config.load_settings().nameservers == servers


def test_deployed_function_refuses_to_start_without_webhook_secret(monkeypatch):
    monkeypatch.setenv("K_SERVICE", "run_search")
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    with pytest.raises(config.ConfigError, match="WEBHOOK_SECRET"):
        config.load_settings()


def test_local_secret_is_generated_once_and_shared(monkeypatch, tmp_path):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    first = config.load_settings().webhook_secret.get_secret_value()
    second = config.load_settings().webhook_secret.get_secret_value()
    assert first == second and len(first) >= 32


def test_named_queries_parse_and_refuse_duplicates():
    parsed = queries.parse("-- name: a\nSELECT 1;\n\n-- name: b\nSELECT 2;\n")
    assert parsed == {"a": "SELECT 1", "b": "SELECT 2"}
    with pytest.raises(ValueError, match="twice"):
        queries.parse("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n")
    with pytest.raises(KeyError, match="no SQL statement"):
        queries.sql("no-such-statement")


def test_every_shipped_statement_has_a_body():
    assert queries.names(), "shared/ holds no SQL statements"
    for name in queries.names():
        assert queries.sql(name).strip(), name


def test_log_lines_are_json_with_severity():
    record = logging.makeLogRecord(
        {"msg": "sent %d", "args": (3,), "levelno": logging.WARNING, "name": "x", "flow_id": "f1"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["severity"] == "WARNING" and line["message"] == "sent 3" and line["flow_id"] == "f1"


def _call(func, **kwargs):
    with app.test_request_context(**kwargs):
        return func(flask.request)


@handler
def echo(request):
    return json_response(200, read_json(request, max_bytes=2048))


def test_body_over_the_cap_is_413():
    response = _call(echo, method="POST", data="x" * 5000, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "body_too_large"


def test_chunked_body_over_the_cap_is_413():
    """A chunked upload has no Content-Length; the cap still holds while reading."""
    body = io.BytesIO(b'{"a": "' + b"x" * 5000 + b'"}')
    with app.test_request_context(method="POST", content_type="application/json"):
        environ = flask.request.environ
        environ.update(
            {"wsgi.input": body, "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
        )
        environ.pop("CONTENT_LENGTH", None)
        response = echo(flask.Request(environ))
    assert response.status_code == 413


@pytest.mark.parametrize("body", ["{not json", "", "\xff\xfe", '{"a": '])
def test_malformed_json_is_400(body):
    response = _call(echo, method="POST", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_json"


def test_wrong_content_type_is_415():
    response = _call(echo, method="POST", data="a=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_unexpected_error_is_a_bare_500_without_traceback():
    @handler
    def broken(request):
        raise RuntimeError("database password is hunter2")

    response = _call(broken, method="POST")
    assert response.status_code == 500
    assert "hunter2" not in response.get_data(as_text=True)
    assert response.get_json()["error"] == "internal"


@pytest.mark.parametrize("given", [None, "", "wrong", "test-webhook-secret"])
def test_wrong_webhook_secret_is_401(given):
    headers = {"X-Webhook-Secret": given} if given is not None else {}
    with app.test_request_context(method="POST", headers=headers), pytest.raises(HttpError) as err:
        require_webhook_secret(flask.request)
    assert err.value.status == 401


def test_right_webhook_secret_passes():
    secret = config.get_settings().webhook_secret.get_secret_value()
    with app.test_request_context(method="POST", headers={"X-Webhook-Secret": secret}):
        require_webhook_secret(flask.request)


def test_supabase_webhook_payload_parses_as_sent():
    payload = WebhookPayload.model_validate(
        {
            "type": "INSERT",
            "table": "search_tasks",
            "schema": "public",
            "record": {"id": "x"},
            "old_record": None,
        }
    )
    assert payload.db_schema == "public" and payload.record == {"id": "x"}


def test_validation_error_names_the_field():
    with pytest.raises(HttpError) as err:
        validate(Drain, {"drain": True, "limit": "many"})
    assert err.value.status == 400 and "limit" in err.value.message
