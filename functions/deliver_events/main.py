"""POST deliver_events: the database's webhook when events are written, and Cloud Scheduler
every minute; sends the signed webhooks that are due to the organizations' endpoints."""

import functions_framework
from pydantic import BaseModel, ConfigDict, Field

from shared.core.config import get_settings
from shared.core.http import (
    HttpError,
    WebhookPayload,
    handler,
    json_response,
    read_json,
    require_method,
    require_webhook_secret,
    validate,
)
from shared.events import deliver

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


class DeliverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(default=None, ge=1, le=10000)


@functions_framework.http
@handler
def deliver_events(request):
    require_method(request, "POST")
    require_webhook_secret(request)
    body = read_json(request, empty={})
    if isinstance(body, dict) and "table" in body:
        # A Supabase database webhook of the outbox: whatever row it names, all that is due goes.
        payload = validate(WebhookPayload, body)
        if payload.table != "webhook_deliveries" or payload.db_schema != "public":
            raise HttpError(
                400, "wrong_table", "this function takes webhooks of public.webhook_deliveries only"
            )
        return json_response(200, deliver.run())
    request_body = validate(DeliverRequest, body)
    return json_response(200, deliver.run(limit=request_body.limit))
