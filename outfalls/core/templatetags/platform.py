"""Template helpers shared by the register pages."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, label, key):
    """A column header that sorts by `key` (OrderingFilter name), toggling ascending/descending."""
    request = context["request"]
    current = request.GET.get("ordering", "")
    query = request.GET.copy()
    query.pop("page", None)
    if current == key:
        query["ordering"], arrow = f"-{key}", " ▲"
    elif current == f"-{key}":
        query["ordering"], arrow = key, " ▼"
    else:
        query["ordering"], arrow = key, ""
    return format_html(
        '<a class="link-dark text-decoration-none" href="?{}">{}{}</a>', query.urlencode(), label, arrow
    )
