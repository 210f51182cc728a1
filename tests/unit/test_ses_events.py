"""SES notifications as SNS carries them: what each shape means, read without a request or a
database. The recording of an event is tested through the webhook (integration/test_unsubscribe.py)."""

from __future__ import annotations

import json

import pytest

from shared.core.http import HttpError
from shared.inbound import ses_events
from shared.inbound.ses_events import Ignored, SesEvent


def mail(message_id: object = "<a.1@sender.example>", headers: object = None) -> dict:
    found: dict = {"commonHeaders": {"messageId": message_id}}
    if headers is not None:
        found["headers"] = headers
    return found


def test_permanent_bounce_is_a_bounce_of_the_named_message():
    notification = {"notificationType": "Bounce", "bounce": {"bounceType": "Permanent"}, "mail": mail()}
    assert ses_events.parse(notification) == SesEvent("bounce", "<a.1@sender.example>")


def test_event_destination_shape_is_read_too():
    notification = {"eventType": "Complaint", "mail": mail("<c.3@sender.example>")}
    assert ses_events.parse(notification) == SesEvent("complaint", "<c.3@sender.example>")


def test_transient_bounce_and_delivery_change_nothing():
    transient = {"notificationType": "Bounce", "bounce": {"bounceType": "Transient"}, "mail": mail()}
    assert ses_events.parse(transient) == Ignored("Bounce")
    assert ses_events.parse({"notificationType": "Delivery", "mail": mail()}) == Ignored("Delivery")
    assert ses_events.parse({}) == Ignored("unknown")
    assert ses_events.parse({"notificationType": ["Bounce"]}) == Ignored("unknown")


def test_the_raw_header_wins_over_common_headers():
    headers = [{"name": "Subject", "value": "x"}, {"name": "message-id", "value": "<ours.2@sender.example>"}]
    notification = {"notificationType": "Complaint", "mail": mail("<rewritten@amazonses.com>", headers)}
    assert ses_events.parse(notification) == SesEvent("complaint", "<ours.2@sender.example>")


@pytest.mark.parametrize(
    "notification",
    [
        {"notificationType": "Bounce", "bounce": [], "mail": "x"},
        {"notificationType": "Complaint", "mail": "x"},
        {"notificationType": "Complaint", "mail": mail(7)},
        {"notificationType": "Complaint", "mail": mail(None, [1, None, {"name": "Message-ID", "value": 7}])},
        {"notificationType": "Complaint", "mail": mail("", "not a list")},
    ],
)
def test_odd_shapes_name_no_message_and_never_raise(notification):
    parsed = ses_events.parse(notification)
    assert isinstance(parsed, (SesEvent, Ignored))
    if isinstance(parsed, SesEvent):
        assert parsed.message_id is None


def test_notification_is_the_json_object_in_message():
    body = {"notificationType": "Complaint"}
    assert ses_events.notification_of({"Message": json.dumps(body)}) == body


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"a string"', "[" * 100_000, None])
def test_a_message_that_is_not_a_json_object_is_400(text):
    with pytest.raises(HttpError) as caught:
        ses_events.notification_of({"Message": text})
    assert caught.value.status == 400


def test_an_sns_message_that_is_not_an_object_is_400():
    with pytest.raises(HttpError) as caught:
        ses_events.handle([1, 2])
    assert caught.value.status == 400
