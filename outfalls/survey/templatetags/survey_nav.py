"""{% survey_menu as menu %}: which 排查 items of the navigation lead somewhere for this user.

A menu item that opens an empty page with nothing to do there is a dead end: 现场核查 is offered only to
someone who may record checks in a campaign, and the campaign pages (排查任务, 排查覆盖, 不重不漏核对) only to
someone who sees a campaign or may set one up. Tracing, the 借道排污 list and progress are always offered.
"""

from django import template
from django.db.models import Exists, OuterRef

from outfalls.core.scopes import scope_of

from ..models import Campaign

register = template.Library()


@register.simple_tag(takes_context=True)
def survey_menu(context):
    user = context["request"].user
    # One query: the visible campaigns, the ones this user may edit first ([] when none is visible).
    editable = Campaign.objects.editable_by(user).filter(pk=OuterRef("pk"))
    first = list(
        Campaign.objects.visible_to(user)
        .annotate(mine=Exists(editable))
        .order_by("-mine")
        .values_list("mine", flat=True)[:1]
    )
    return {
        "field": bool(first and first[0]),
        "campaigns": bool(first) or scope_of(user).can_create_campaign,
    }
