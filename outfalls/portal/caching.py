"""The portal's pages are the same for everyone, so they are cached (``PORTAL_CACHE_SECONDS``), keyed by a
version of the public data: a change to an outfall, a plan or a report makes a new key at once, and the old
entries age out."""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.views.decorators.cache import cache_page

from outfalls.registry.models import Outfall
from outfalls.remediation.models import RectificationPlan

from . import providers


def data_version():
    """Changes whenever anything a public page shows changes: outfalls, plans, and what other apps publish
    (their ``public_data_version()``: portal/providers.py), so a withheld decision leaves the pages at once."""
    outfalls = Outfall.objects.aggregate(at=Max("updated_at"))["at"]
    plans = RectificationPlan.objects.aggregate(at=Max("updated_at"))["at"]
    parts = [
        str(outfalls and outfalls.timestamp()),
        str(plans and plans.timestamp()),
        *providers.data_versions(),
    ]
    # Hashed: cache keys stay short (memcached refuses keys over 250 characters).
    return hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()


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
