"""POST draft_message: a campaign_contacts row (database webhook) or a drain of the waiting ones."""

import functions_framework

from shared import drafting
from shared.http import handler
from shared.stages import serve
from shared.work import DRAFT


@functions_framework.http
@handler
def draft_message(request):
    return serve(request, DRAFT, drafting.draft)
