"""POST sync_mailboxes: called by Cloud Scheduler every 2 minutes; reads what came back to the
organizations' mailboxes (replies, automatic replies, bounce reports) and acts on it."""

import functions_framework
from pydantic import BaseModel, ConfigDict

from shared.core.config import get_settings
from shared.core.http import (
    handler,
    json_response,
    read_json,
    require_method,
    require_webhook_secret,
    validate,
)
from shared.inbound import sync

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


@functions_framework.http
@handler
def sync_mailboxes(request):
    require_method(request, "POST")
    require_webhook_secret(request)
    validate(SyncRequest, read_json(request, empty={}))
    return json_response(200, sync.run())
