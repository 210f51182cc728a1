"""POST create_campaign: a signed-in member creates a campaign and its search tasks."""

import functions_framework

from shared import auth, campaigns
from shared.http import handler, json_response, read_json, require_method, validate


@functions_framework.http
@handler
def create_campaign(request):
    require_method(request, "POST")
    user = auth.authenticate(request)
    body = validate(campaigns.CampaignRequest, read_json(request))
    return json_response(201, campaigns.create(user.user_id, body))
