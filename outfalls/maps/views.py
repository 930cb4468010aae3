"""The one-map page (一张图): Leaflet with the ledger's filters in a side panel; data from maps/api.py."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from outfalls.core.forms import fast_selects, style_form
from outfalls.registry.filters import OutfallFilter
from outfalls.registry.models import Outfall

from . import config

# Filter fields that mean nothing on a map.
MAP_HIDDEN_FILTERS = ("ordering",)


@login_required
def map_page(request):
    filterset = OutfallFilter(request.GET or None, queryset=Outfall.objects.none(), request=request)
    form = style_form(fast_selects(filterset.form))
    for name in MAP_HIDDEN_FILTERS:
        form.fields.pop(name, None)
    return render(
        request,
        "maps/map.html",
        {
            "filter_form": form,
            "legend": config.legend(),
            "map_config": config.script_config(request.user),
            "base_layer_names": [layer["name"] for layer in config.base_layers()],
        },
    )
