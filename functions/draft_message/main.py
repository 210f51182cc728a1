"""POST draft_message: a campaign_contacts row (database webhook) or a drain of the waiting ones."""

import functions_framework

from shared import drafting
from shared.config import get_settings
from shared.http import handler
from shared.stages import serve
from shared.work import DRAFT

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@functions_framework.http
@handler
def draft_message(request):
    return serve(request, DRAFT, drafting.draft)
