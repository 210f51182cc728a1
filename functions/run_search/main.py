"""POST run_search: a search_tasks row (database webhook) or a drain of the waiting ones."""

import functions_framework

from shared.core.config import get_settings
from shared.core.http import handler
from shared.core.triggers import serve
from shared.core.work import SEARCH
from shared.discovery import search

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@functions_framework.http
@handler
def run_search(request):
    return serve(request, SEARCH, search.run_search)
