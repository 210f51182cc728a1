"""POST scrape_url: a scrape_results row (database webhook) or a drain of the waiting ones."""

import functions_framework

from shared import scrape
from shared.config import get_settings
from shared.http import handler
from shared.stages import serve
from shared.work import SCRAPE

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@functions_framework.http
@handler
def scrape_url(request):
    return serve(request, SCRAPE, scrape.scrape_url)
