"""POST scrape_url: a scrape_results row (database webhook) or a drain of the waiting ones."""

import functions_framework

from shared.core.config import get_settings
from shared.core.http import handler
from shared.core.triggers import serve
from shared.core.work import SCRAPE
from shared.discovery import scrape

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@functions_framework.http
@handler
def scrape_url(request):
    return serve(request, SCRAPE, scrape.scrape_url)
