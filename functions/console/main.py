"""console: the team's page (GET /) and the JSON endpoints it reads, each run as the signed-in
person under the Data API's grants and row level security."""

import functions_framework

from shared.console import routes
from shared.core.config import get_settings
from shared.core.http import handler

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@handler
def answer(request):
    return routes.dispatch(request)


@functions_framework.http
def console(request):
    # Outside the handler too: refusals and errors carry the same headers as the page.
    return routes.security_headers(answer(request))
