"""POST deliver_events: the database's webhook when events are written, and Cloud Scheduler
every minute; sends the signed webhooks that are due to the organizations' endpoints."""

import functions_framework
from pydantic import BaseModel, ConfigDict, Field

from shared.core.config import get_settings
from shared.core.http import (
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
    body = validate(DeliverRequest, read_json(request, empty={}))
    return json_response(200, deliver.run(limit=body.limit))
