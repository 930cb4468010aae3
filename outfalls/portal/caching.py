"""The portal's pages are the same for everyone, so they are cached (``PORTAL_CACHE_SECONDS``), keyed by a
version of the public data: a change to an outfall, a plan or a report makes a new key at once, and the old
entries age out."""

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.views.decorators.cache import cache_page

from outfalls.registry.models import Outfall
from outfalls.remediation.models import RectificationPlan


def data_version():
    outfalls = Outfall.objects.aggregate(at=Max("updated_at"))["at"]
    plans = RectificationPlan.objects.aggregate(at=Max("updated_at"))["at"]
    return f"{outfalls and outfalls.timestamp()}-{plans and plans.timestamp()}"


def cached(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = settings.PORTAL_CACHE_SECONDS
        if not seconds:
            return view(request, *args, **kwargs)
        prefix = f"portal:{request.get_host()}:{data_version()}"
        return cache_page(seconds, key_prefix=prefix)(view)(request, *args, **kwargs)

    return wrapper


def clear():
    cache.clear()
