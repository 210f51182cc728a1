"""unsubscribe_webhook: the page, one-click, scopes, idempotence, SNS and generic events, and
hostile input that must change nothing."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from shared.inbound import sns, tokens
from tests import factories as f
from tests.helpers import function_client, self_signed_certificate


@pytest.fixture(scope="module")
def client():
    return function_client("unsubscribe_webhook")


@pytest.fixture
def mail(conn):
    """Two campaigns of one organization writing to one contact, with messages waiting in both."""
    org_id = f.org(conn, "Acme Yoga Supplies")
    first = f.campaign(
        conn, org_id, campaign_name="Spring studios", ai_settings={"public_name": "Spring studios"}
    )
    second = f.campaign(conn, org_id, campaign_name="Autumn studios")
    contact_id = f.contact(conn, org_id, "maria.lopez@estudio.example", language_preference="es")
    for campaign_id in (first, second):
        f.link(conn, campaign_id, contact_id)
    message_id = f"<{uuid.uuid4().hex}@sender.example>"
    sent = f.flow(conn, first, contact_id, 0, status="sent", message_id=message_id)
    waiting = f.flow(conn, first, contact_id, 1)
    other = f.flow(conn, second, contact_id, 0)
    return {
        "org": org_id,
        "first": first,
        "second": second,
        "contact": contact_id,
        "sent": sent,
        "waiting": waiting,
        "other": other,
        "token": tokens.issue(sent),
        "message_id": message_id,
    }


def snapshot(conn, mail):
    """Everything an unsubscribe may change, to show that something did not."""
    contact = conn.execute(
        "SELECT unsubscribe_requested, reached_status, unsubscribe_reason, updated_at FROM contacts WHERE id = %s",
        (mail["contact"],),
    ).fetchone()
    flows = conn.execute(
        "SELECT id, status, updated_at FROM outreach_flows WHERE contact_id = %s ORDER BY id",
        (mail["contact"],),
    ).fetchall()
    unsubs = conn.execute(
        "SELECT count(*) FROM campaign_unsubscribes WHERE contact_id = %s", (mail["contact"],)
    ).fetchone()
    return contact, flows, unsubs


def flow_status(conn, flow_id):
    return conn.execute("SELECT status FROM outreach_flows WHERE id = %s", (flow_id,)).fetchone()[0]


def test_get_shows_the_page_and_changes_nothing(client, conn, mail):
    before = snapshot(conn, mail)
    response = client.get(f"/?token={mail['token']}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Acme Yoga Supplies" in page and "Spring studios" in page
    assert "m•••@e•••.example" in page and "maria.lopez" not in page
    assert 'lang="es"' in page and "Confirmar" in page  # the contact's language
    assert 'name="viewport"' in page and "<script" not in page
    assert snapshot(conn, mail) == before


def test_get_with_one_click_parameters_changes_nothing(client, conn, mail):
    before = snapshot(conn, mail)
    response = client.get(f"/?token={mail['token']}&List-Unsubscribe=One-Click&scope=all")
    assert response.status_code == 200
    assert snapshot(conn, mail) == before


def test_page_in_english_by_default(client, conn, mail):
    conn.execute("UPDATE contacts SET language_preference = NULL WHERE id = %s", (mail["contact"],))
    page = client.get(f"/?token={mail['token']}").get_data(as_text=True)
    assert 'lang="en"' in page and "Stop every email from Acme Yoga Supplies" in page


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_unsubscribes_from_everything(client, conn, mail, encoding):
    if encoding == "urlencoded":
        response = client.post(
            f"/?token={mail['token']}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = client.post(
            f"/?token={mail['token']}",
            data={"List-Unsubscribe": "One-Click"},
            content_type="multipart/form-data",
        )
    assert response.status_code == 200 and "Location" not in response.headers
    contact = conn.execute(
        "SELECT unsubscribe_requested, reached_status, unsubscribe_reason FROM contacts WHERE id = %s",
        (mail["contact"],),
    ).fetchone()
    assert contact == (True, "unsubscribed", "unsubscribed from everything (one-click)")
    assert flow_status(conn, mail["waiting"]) == "canceled"
    assert flow_status(conn, mail["other"]) == "canceled"
    assert flow_status(conn, mail["sent"]) == "sent"


def test_repeating_changes_nothing_more(client, conn, mail):
    url = f"/?token={mail['token']}"
    form = {"data": "List-Unsubscribe=One-Click", "content_type": "application/x-www-form-urlencoded"}
    assert client.post(url, **form).status_code == 200
    after_first = snapshot(conn, mail)
    second = client.post(url, **form)
    assert second.status_code == 200
    assert snapshot(conn, mail) == after_first
    assert "Ya constaba" in second.get_data(as_text=True)


def test_page_choice_campaign_only(client, conn, mail):
    response = client.post(f"/?token={mail['token']}", data={"scope": "campaign"})
    assert response.status_code == 200
    assert "Spring studios" in response.get_data(as_text=True)
    assert conn.execute(
        "SELECT campaign_id FROM campaign_unsubscribes WHERE contact_id = %s", (mail["contact"],)
    ).fetchall() == [(mail["first"],)]
    assert flow_status(conn, mail["waiting"]) == "canceled"
    assert flow_status(conn, mail["other"]) == "scheduled"
    assert conn.execute(
        "SELECT unsubscribe_requested FROM contacts WHERE id = %s", (mail["contact"],)
    ).fetchone() == (False,)
    # And again: nothing more.
    before = snapshot(conn, mail)
    client.post(f"/?token={mail['token']}", data={"scope": "campaign"})
    assert snapshot(conn, mail) == before


def test_page_choice_everything(client, conn, mail):
    assert client.post(f"/?token={mail['token']}", data={"scope": "all"}).status_code == 200
    assert flow_status(conn, mail["other"]) == "canceled"
    assert conn.execute(
        "SELECT unsubscribe_requested FROM contacts WHERE id = %s", (mail["contact"],)
    ).fetchone() == (True,)


def test_post_without_a_choice_asks_again(client, conn, mail):
    before = snapshot(conn, mail)
    response = client.post(f"/?token={mail['token']}", data={"scope": "everything-please"})
    assert response.status_code == 400 and "Elija" in response.get_data(as_text=True)
    assert snapshot(conn, mail) == before


def _altered(token: str) -> str:
    i = 30
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def hostile_tokens(mail):
    other_key = tokens._b64(tokens._mac("some-other-key", mail["sent"]))
    return {
        "altered": _altered(mail["token"]),
        "truncated": mail["token"][:-3],
        "other-key": f"{mail['token'].split('.')[0]}.{other_key}",
        "no-such-message": tokens.issue(uuid.uuid4()),
        "empty": "",
        "garbage": "<script>alert(1)</script>",
        "padded": mail["token"] + "==",
    }


@pytest.mark.parametrize(
    "kind", ["altered", "truncated", "other-key", "no-such-message", "empty", "garbage", "padded"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_hostile_token_is_400_and_changes_nothing(client, conn, mail, kind, method):
    before = snapshot(conn, mail)
    url = f"/?token={hostile_tokens(mail)[kind]}"
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(
            url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)
    assert snapshot(conn, mail) == before


def test_previous_key_still_verifies_after_rotation(client, conn, mail, env):
    old_token = mail["token"]
    old_secret = __import__("os").environ["UNSUBSCRIBE_SECRET"]
    env(
        UNSUBSCRIBE_SECRET="a-brand-new-secret-after-rotation",
        UNSUBSCRIBE_PREVIOUS_SECRETS=f"older,{old_secret}",
    )
    assert tokens.issue(mail["sent"]) != old_token
    assert client.get(f"/?token={old_token}").status_code == 200
    env(UNSUBSCRIBE_PREVIOUS_SECRETS=None)
    assert client.get(f"/?token={old_token}").status_code == 400


def test_huge_form_is_413_and_changes_nothing(client, conn, mail):
    before = snapshot(conn, mail)
    response = client.post(
        f"/?token={mail['token']}",
        data="List-Unsubscribe=One-Click&x=" + "a" * 100_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert snapshot(conn, mail) == before


def test_wrong_content_type_is_415_and_changes_nothing(client, conn, mail):
    before = snapshot(conn, mail)
    response = client.post(
        f"/?token={mail['token']}",
        data=json.dumps({"List-Unsubscribe": "One-Click"}),
        content_type="application/json",
    )
    assert response.status_code == 415
    assert snapshot(conn, mail) == before


def test_other_methods_are_405(client, mail):
    assert client.put(f"/?token={mail['token']}").status_code == 405
    assert client.delete(f"/?token={mail['token']}").status_code == 405


# Generic events: reply, bounce, complaint.


def post_event(client, body, secret=None):
    secret = secret if secret is not None else __import__("os").environ["WEBHOOK_SECRET"]
    return client.post(
        "/events",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-Webhook-Secret": secret},
    )


@pytest.mark.parametrize(
    ("event", "status"), [("reply", "responded"), ("bounce", "bounced"), ("complaint", "complained")]
)
def test_event_stops_every_waiting_message(client, conn, mail, event, status):
    response = post_event(
        client, {"email": "Maria.Lopez@Estudio.example", "organization_id": str(mail["org"]), "event": event}
    )
    assert response.status_code == 200 and response.get_json()["canceled"] == 2
    assert conn.execute(
        "SELECT reached_status FROM contacts WHERE id = %s", (mail["contact"],)
    ).fetchone() == (status,)
    assert flow_status(conn, mail["waiting"]) == "canceled" and flow_status(conn, mail["other"]) == "canceled"


def test_reply_does_not_weaken_a_complaint(client, conn, mail):
    base = {"email": "maria.lopez@estudio.example", "organization_id": str(mail["org"])}
    post_event(client, {**base, "event": "complaint"})
    assert post_event(client, {**base, "event": "reply"}).get_json()["changed"] is False
    assert conn.execute(
        "SELECT reached_status FROM contacts WHERE id = %s", (mail["contact"],)
    ).fetchone() == ("complained",)


@pytest.mark.parametrize(
    ("body", "secret", "status"),
    [
        ({"email": "maria.lopez@estudio.example", "event": "reply"}, None, 400),
        ({"email": "not-an-email", "organization_id": None, "event": "reply"}, None, 400),
        (
            {"email": "maria.lopez@estudio.example", "organization_id": None, "event": "unsubscribe-all"},
            None,
            400,
        ),
        (
            {"email": "maria.lopez@estudio.example", "organization_id": None, "event": "reply", "x": 1},
            None,
            400,
        ),
        ({"email": "maria.lopez@estudio.example", "organization_id": None, "event": "reply"}, "wrong", 401),
        ({"email": "someone.else@estudio.example", "organization_id": None, "event": "reply"}, None, 404),
    ],
)
def test_bad_events_change_nothing(client, conn, mail, body, secret, status):
    if "organization_id" in body:
        body = {**body, "organization_id": str(mail["org"])}
    before = snapshot(conn, mail)
    assert post_event(client, body, secret).status_code == status
    assert snapshot(conn, mail) == before


def test_event_for_another_organization_finds_nobody(client, conn, mail):
    stranger_org = f.org(conn)
    response = post_event(
        client,
        {"email": "maria.lopez@estudio.example", "organization_id": str(stranger_org), "event": "bounce"},
    )
    assert response.status_code == 404


# SES notifications through SNS, signed with a certificate made here.

CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"


def sns_now(offset: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + offset).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_certificate(key, "sns.amazonaws.com")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    fetched = []

    def serve(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        if str(request.url) == CERT_URL:
            return httpx.Response(200, content=pem)
        if request.url.host.startswith("sns.") and "ConfirmSubscription" in str(request.url):
            return httpx.Response(200, text="<ConfirmSubscriptionResponse/>")
        return httpx.Response(404)

    sns.http_transport = httpx.MockTransport(serve)
    sns._certificates.clear()

    def sign(message: dict, version: str = "2", private_key=key) -> dict:
        message = {"SignatureVersion": version, "SigningCertURL": CERT_URL, **message}
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303
        signature = private_key.sign(sns.string_to_sign(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode()}

    yield sign, fetched
    sns.http_transport = None
    sns._certificates.clear()


def ses_notification(kind: str, message_id: str, bounce_type: str = "Permanent") -> dict:
    body = {"notificationType": kind, "mail": {"commonHeaders": {"messageId": message_id}}}
    if kind == "Bounce":
        body["bounce"] = {"bounceType": bounce_type, "bouncedRecipients": [{"emailAddress": "x@y.example"}]}
    if kind == "Complaint":
        body["complaint"] = {"complainedRecipients": [{"emailAddress": "x@y.example"}]}
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:eu-west-1:1:ses",
        "Message": json.dumps(body),
        "Timestamp": sns_now(),
    }


def post_sns(client, message):
    return client.post(
        "/sns",
        data=json.dumps(message),
        content_type="text/plain; charset=UTF-8",
        headers={"x-amz-sns-message-type": message.get("Type", "")},
    )


@pytest.mark.parametrize("version", ["1", "2"])
def test_sns_permanent_bounce_marks_the_contact(client, conn, mail, signer, version):
    sign, fetched = signer
    response = post_sns(client, sign(ses_notification("Bounce", mail["message_id"]), version))
    assert response.status_code == 200 and response.get_json()["matched"] is True
    assert conn.execute(
        "SELECT reached_status FROM contacts WHERE id = %s", (mail["contact"],)
    ).fetchone() == ("bounced",)
    assert flow_status(conn, mail["other"]) == "canceled"
    post_sns(client, sign(ses_notification("Complaint", mail["message_id"]), version))
    assert conn.execute(
        "SELECT reached_status FROM contacts WHERE id = %s", (mail["contact"],)
    ).fetchone() == ("complained",)
    assert fetched == [CERT_URL]  # fetched once, then cached


def test_sns_transient_bounce_changes_nothing(client, conn, mail, signer):
    sign, _ = signer
    before = snapshot(conn, mail)
    response = post_sns(client, sign(ses_notification("Bounce", mail["message_id"], "Transient")))
    assert response.status_code == 200 and response.get_json() == {"ignored": "Bounce"}
    assert snapshot(conn, mail) == before


def test_sns_subscription_confirmation(client, signer):
    sign, fetched = signer
    url = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=t&Token=abc"
    message = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "m1",
        "Token": "abc",
        "TopicArn": "arn:aws:sns:eu-west-1:1:ses",
        "Message": "You have chosen to subscribe",
        "SubscribeURL": url,
        "Timestamp": sns_now(),
    }
    response = post_sns(client, sign(message))
    assert response.status_code == 200 and response.get_json() == {"confirmed": True}
    assert url in fetched


def test_sns_bad_signature_is_400_and_changes_nothing(client, conn, mail, signer):
    sign, _ = signer
    before = snapshot(conn, mail)
    signed = sign(ses_notification("Complaint", mail["message_id"]))
    tampered = {**signed, "Message": signed["Message"].replace("Complaint", "Bounce")}
    assert post_sns(client, tampered).status_code == 400
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (
        post_sns(
            client, sign(ses_notification("Complaint", mail["message_id"]), private_key=forger)
        ).status_code
        == 400
    )
    assert snapshot(conn, mail) == before


def test_sns_certificate_without_an_rsa_key_is_400_and_changes_nothing(client, conn, mail, signer):
    sign, _ = signer
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = self_signed_certificate(ec_key, "sns.amazonaws.com").public_bytes(serialization.Encoding.PEM)
    sns.http_transport = httpx.MockTransport(lambda request: httpx.Response(200, content=pem))
    sns._certificates.clear()
    before = snapshot(conn, mail)
    assert post_sns(client, sign(ses_notification("Complaint", mail["message_id"]))).status_code == 400
    assert snapshot(conn, mail) == before


@pytest.mark.parametrize(
    "cert_url",
    [
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://s3.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://sns.s3.amazonaws.com/cert.pem",  # an S3 bucket's host, not SNS
        "https://sns.eu-west-1.amazonaws.com/\tcert.pem",
        "https://sns.eu-west-1.amazonaws.com\t/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.pem\n",
    ],
)
def test_sns_certificate_outside_sns_is_refused(client, conn, mail, signer, cert_url):
    sign, fetched = signer
    before = snapshot(conn, mail)
    message = sign(ses_notification("Complaint", mail["message_id"]))
    message["SigningCertURL"] = cert_url
    response = post_sns(client, message)
    assert response.status_code == 400 and fetched == []
    assert snapshot(conn, mail) == before


def test_sns_topic_not_accepted_is_refused(client, conn, mail, signer, env):
    sign, _ = signer
    env(SNS_TOPIC_ARNS="arn:aws:sns:eu-west-1:1:other")
    before = snapshot(conn, mail)
    assert post_sns(client, sign(ses_notification("Complaint", mail["message_id"]))).status_code == 400
    assert snapshot(conn, mail) == before


@pytest.mark.parametrize("body", ["not json", "[]", json.dumps({"Type": "Notification"}), "x" * 400_000])
def test_sns_malformed_is_4xx(client, body):
    response = client.post("/sns", data=body, content_type="text/plain")
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "just text",
        {"notificationType": "Bounce", "bounce": [], "mail": "x"},
        {
            "notificationType": "Bounce",
            "bounce": {"bounceType": "Permanent"},
            "mail": {"commonHeaders": [], "headers": "x"},
        },
        {"notificationType": "Complaint", "mail": {"headers": [1, None, {"name": "Message-ID", "value": 7}]}},
    ],
)
def test_sns_notification_of_an_unexpected_shape_is_not_a_500(client, conn, mail, signer, body):
    sign, _ = signer
    before = snapshot(conn, mail)
    message = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:eu-west-1:1:ses",
        "Message": json.dumps(body),
        "Timestamp": sns_now(),
    }
    response = post_sns(client, sign(message))
    assert 200 <= response.status_code < 500
    assert snapshot(conn, mail) == before


def test_sns_message_delivered_twice_counts_once(client, conn, mail, signer):
    sign, _ = signer
    message = sign(ses_notification("Bounce", mail["message_id"]))
    first = post_sns(client, message)
    assert first.status_code == 200 and first.get_json()["matched"] is True
    before = snapshot(conn, mail)
    again = post_sns(client, message)
    assert again.status_code == 200 and again.get_json() == {"ignored": "duplicate"}
    assert snapshot(conn, mail) == before


@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(hours=1)])
def test_sns_message_from_outside_the_hour_is_refused(client, conn, mail, signer, offset):
    sign, _ = signer
    before = snapshot(conn, mail)
    message = {**ses_notification("Complaint", mail["message_id"]), "Timestamp": sns_now(offset)}
    response = post_sns(client, sign(message))
    assert response.status_code == 400 and "replay" in response.get_json()["message"]
    assert snapshot(conn, mail) == before


def test_sns_deployed_without_topics_accepts_nothing(client, conn, mail, signer, env):
    sign, fetched = signer
    env(K_SERVICE="unsubscribe_webhook", SNS_TOPIC_ARNS=None)
    before = snapshot(conn, mail)
    response = post_sns(client, sign(ses_notification("Complaint", mail["message_id"])))
    assert response.status_code == 403 and response.get_json()["error"] == "sns_not_configured"
    assert snapshot(conn, mail) == before and fetched == []


def test_page_cannot_be_framed(client, mail):
    response = client.get(f"/?token={mail['token']}")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_page_never_shows_the_internal_campaign_name(client, conn, mail):
    conn.execute(
        "UPDATE campaigns SET campaign_name = 'Florida dentists, cheap list', ai_settings = '{}' WHERE id = %s",
        (mail["first"],),
    )
    page = client.get(f"/?token={mail['token']}").get_data(as_text=True)
    assert "Florida dentists" not in page and "Acme Yoga Supplies" in page
    done = client.post(f"/?token={mail['token']}", data={"scope": "campaign"}).get_data(as_text=True)
    assert "Florida dentists" not in done and "esta campaña" in done
    conn.execute(
        'UPDATE campaigns SET ai_settings = \'{"public_name": "Esterillas ecológicas"}\' WHERE id = %s',
        (mail["first"],),
    )
    page = client.get(f"/?token={mail['token']}").get_data(as_text=True)
    assert "Esterillas ecológicas" in page and "Florida dentists" not in page
