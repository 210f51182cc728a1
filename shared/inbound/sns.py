"""Amazon SNS notifications of SES bounces and complaints: signature verification
(SignatureVersion 1 and 2) with the signing certificate fetched only from an SNS host."""

from __future__ import annotations

import base64
import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.core import db
from shared.core.config import get_settings
from shared.core.http import HttpError

# SNS's regional hosts only (sns.eu-west-1.amazonaws.com, sns.us-gov-west-1…, sns.cn-north-1….cn):
# any other *.amazonaws.com name, such as sns.s3.amazonaws.com (an S3 bucket), is not SNS.
SNS_HOST = re.compile(r"^sns\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}\.amazonaws\.com(\.cn)?$")
MAX_AGE = timedelta(hours=1)
MAX_CLOCK_SKEW = timedelta(minutes=5)
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")

_certificates: dict[str, x509.Certificate] = {}
_lock = threading.Lock()
# Tests replace this with a transport that serves their own certificate; nothing else does.
http_transport: httpx.BaseTransport | None = None


def _refuse(message: str) -> HttpError:
    return HttpError(400, "invalid_sns_message", message)


def _check_sns_url(url: str, what: str) -> str:
    # urlsplit drops tabs and line breaks silently; an address holding any is refused whole.
    if not url or any(c.isspace() or not c.isprintable() for c in url):
        raise _refuse(f"the {what} is not an https URL of an Amazon SNS host")
    parts = urlsplit(url)
    if parts.scheme != "https" or not SNS_HOST.match(parts.hostname or "") or parts.port not in (None, 443):
        raise _refuse(f"the {what} is not an https URL of an Amazon SNS host")
    return url


def _client() -> httpx.Client:
    return httpx.Client(transport=http_transport, timeout=5, follow_redirects=False)


def certificate(url: str) -> x509.Certificate:
    _check_sns_url(url, "SigningCertURL")
    with _lock:
        if url in _certificates:
            return _certificates[url]
    try:
        with _client() as client:
            answer = client.get(url)
            answer.raise_for_status()
        cert = x509.load_pem_x509_certificate(answer.content)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError):
        raise HttpError(
            502, "sns_certificate_unavailable", "the SNS signing certificate could not be fetched"
        ) from None
    with _lock:
        _certificates[url] = cert
    return cert


def string_to_sign(message: dict) -> bytes:
    fields = NOTIFICATION_FIELDS if message.get("Type") == "Notification" else CONFIRMATION_FIELDS
    parts = []
    for name in fields:
        if name in message and message[name] is not None:
            parts.append(f"{name}\n{message[name]}\n")
    return "".join(parts).encode()


def verify(message: dict) -> None:
    """Raises a 400 HttpError unless SNS signed this message."""
    for name in ("Type", "MessageId", "Timestamp", "TopicArn", "Signature", "SigningCertURL", "Message"):
        if not isinstance(message.get(name), str):
            raise _refuse(f"the SNS message has no {name}")
    settings = get_settings()
    allowed = [t.strip() for t in settings.sns_topic_arns.split(",") if t.strip()]
    if not allowed and settings.deployed:
        raise HttpError(403, "sns_not_configured", "this deployment accepts no SNS topic (SNS_TOPIC_ARNS)")
    if allowed and message["TopicArn"] not in allowed:
        raise _refuse("the SNS message comes from a topic this deployment does not accept")
    _check_fresh(message["Timestamp"])
    # SignatureVersion 1 is SHA1 by Amazon's definition; topics can be set to version 2 (SHA256).
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(str(message.get("SignatureVersion")))  # noqa: S303
    if algorithm is None:
        raise _refuse("unknown SNS SignatureVersion")
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
    except ValueError:
        raise _refuse("the SNS signature is not base64") from None
    key = certificate(message["SigningCertURL"]).public_key()
    if not isinstance(key, rsa.RSAPublicKey):  # SNS signs with RSA, PKCS #1 v1.5
        raise _refuse("the SNS signature does not match")
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except (InvalidSignature, TypeError, ValueError):
        raise _refuse("the SNS signature does not match") from None


def _check_fresh(timestamp: str) -> None:
    """SNS stamps each message when it publishes it; an old one is a replay."""
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise _refuse("the SNS message's Timestamp is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise _refuse("the SNS message's Timestamp has no time zone")
    now = datetime.now(UTC)
    if when < now - MAX_AGE or when > now + MAX_CLOCK_SKEW:
        raise _refuse("the SNS message is older than an hour, or from the future: refused as a replay")


def first_delivery(message_id: str) -> bool:
    """Records the MessageId; False when it was seen before (SNS redelivers, attackers replay)."""
    with db.transaction() as conn:
        return db.fetch_one(conn, "remember-sns-message", message_id=message_id[:200]) is not None


def forget(message_id: str) -> None:
    with db.transaction() as conn:
        db.execute(conn, "forget-sns-message", message_id=message_id[:200])


def confirm_subscription(message: dict) -> None:
    url = _check_sns_url(message.get("SubscribeURL", ""), "SubscribeURL")
    try:
        with _client() as client:
            client.get(url).raise_for_status()
    except (httpx.HTTPError, httpx.InvalidURL):
        raise HttpError(
            502, "sns_confirmation_failed", "the SNS subscription could not be confirmed"
        ) from None
