"""POST draft_message: a campaign_contacts row (database webhook) or a drain of the waiting ones."""

import functions_framework

from shared.core.config import get_settings
from shared.core.http import handler
from shared.core.triggers import serve
from shared.core.work import DRAFT
from shared.drafting import drafter

# A deployed function with a missing or weak secret refuses to start, naming the variable.
get_settings()


@functions_framework.http
@handler
def draft_message(request):
    return serve(request, DRAFT, drafter.draft)
