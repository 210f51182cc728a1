"""POST run_search: a search_tasks row (database webhook) or a drain of the waiting ones."""

import functions_framework

from shared import sites
from shared.config import get_settings
from shared.http import handler
from shared.stages import serve
from shared.work import SEARCH

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@functions_framework.http
@handler
def run_search(request):
    return serve(request, SEARCH, sites.run_search)
