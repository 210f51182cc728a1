"""POST create_campaign: a signed-in member creates a campaign and its search tasks."""

import flask
import functions_framework

from shared.campaigns import create
from shared.core import auth
from shared.core.config import get_settings
from shared.core.http import cors, handler, json_response, read_json, require_method, validate

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@handler
def new_campaign(request):
    require_method(request, "POST")
    user = auth.authenticate(request)
    body = validate(create.CampaignRequest, read_json(request))
    return json_response(201, create.campaign(user.user_id, body))


@functions_framework.http
@handler  # the outer one too: an error in the CORS step still answers JSON
def create_campaign(request):
    if request.method == "OPTIONS":  # a browser's preflight
        return cors(request, flask.Response(status=204))
    return cors(request, new_campaign(request))
