"""POST send_due: called by Cloud Scheduler every minute; sends the messages that are due."""

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
from shared.sending import sender

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(default=None, ge=1, le=5000)


@functions_framework.http
@handler
def send_due(request):
    require_method(request, "POST")
    require_webhook_secret(request)
    body = validate(SendRequest, read_json(request, empty={}))
    return json_response(200, sender.run(limit=body.limit))
