"""{% location_picker %}: the small map in the outfall and unit forms (maps/location_picker.html)."""

from django import template
from django.urls import reverse

from outfalls.core.basemap import base_layers

from ..layers import extent

register = template.Library()


@register.inclusion_tag("maps/location_picker.html", takes_context=True)
def location_picker(context):
    user = context["request"].user
    box = extent(user)
    return {
        "picker_config": {
            "api": {
                "boundaries": reverse("maps:api_boundaries"),
                "rivers": reverse("maps:api_rivers"),
                "coords": reverse("maps:api_coords"),
            },
            "baseLayers": base_layers(),
            "bounds": [[box[1], box[0]], [box[3], box[2]]] if box else None,
        }
    }
