"""unsubscribe_webhook: the link in every email and mail clients' one-click POST (the page),
SES bounce and complaint notifications through SNS (/sns), and a generic event (/events) for
replies, bounces and complaints reported by any mail provider or inbox watcher."""

from typing import Literal
from uuid import UUID

import functions_framework
from pydantic import BaseModel, ConfigDict, EmailStr

from shared.core.config import get_settings
from shared.core.http import (
    HttpError,
    handler,
    json_response,
    parse_json,
    read_body,
    read_json,
    require_method,
    require_webhook_secret,
    validate,
)
from shared.inbound import ses_events, unsubscribe, unsubscribe_page

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    organization_id: UUID
    event: Literal["reply", "bounce", "complaint"]


def generic_event(request):
    require_webhook_secret(request)
    body = validate(EventRequest, read_json(request))
    contact_id = unsubscribe.contact_by_email(body.organization_id, body.email)
    if contact_id is None:
        raise HttpError(404, "unknown_contact", "no contact with this email in this organization")
    outcome = unsubscribe.record_event(contact_id, body.event, f"{body.event} reported by webhook")
    return json_response(200, {"event": body.event, "changed": outcome.changed, "canceled": outcome.canceled})


@functions_framework.http
@handler
def unsubscribe_webhook(request):
    path = request.path.rstrip("/")
    if path.endswith("/sns"):
        require_method(request, "POST")
        return json_response(200, ses_events.handle(parse_json(read_body(request))))
    if path.endswith("/events"):
        require_method(request, "POST")
        return generic_event(request)
    return unsubscribe_page.page(request)
