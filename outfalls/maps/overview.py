"""The city-wide aggregates behind the map's low zooms, cached.

Below MAP_POINTS_MIN_ZOOM every pan or zoom asks for grid aggregates, and a city-wide view groups every
outfall the user sees (100,000 rows: the one expensive query of the map). The cells of the user's whole
filtered set are therefore computed once per zoom (grid), scope and filter, cached, and the cells in
each requested box are taken from them.

The cache key holds the ledger's version (``registry.ledger_version``): a number database triggers
change with every insert, update and delete of the outfalls and of the outfall-unit links (an entity's
scope follows its links), whatever wrote them (the ORM, raw SQL, COPY), read by one primary-key lookup.
Any write therefore starts a new key; ``MAP_AGGREGATE_CACHE_SECONDS`` bounds how long an entry lives. A text search (``q``) matches unit names
too, which the version does not watch, so searches are never cached.
"""

import hashlib
import json

from django.conf import settings

from outfalls.core.scopes import scope_of
from outfalls.registry.ledger_version import ledger_version

from .grid import cell_sums
from .layers import map_cache

CACHE_PREFIX = "maps:cells:v2"
# Filters whose result the data version does not follow.
UNCACHED_FILTERS = ("q",)


def data_version():
    """The ledger's version (registry/ledger_version.py): one primary-key lookup, new after any write to
    the outfalls or their unit links."""
    return [ledger_version()]


def scope_key(user):
    """The user's scope in a canonical form (the same in every process)."""
    return sorted(
        [
            grant.role,
            grant.county_id,
            sorted(grant.department_types),
            grant.unit_id,
            sorted(grant.water_body_ids),
        ]
        for grant in scope_of(user).grants
    )


def cacheable(filters):
    return not any((filters.get(name) or "").strip() for name in UNCACHED_FILTERS)


def overview_for(user, queryset, filters):
    """A function grid -> cells of the whole queryset (grid.cell_sums), cached as described above.

    queryset is the user's visible outfalls with filters (a QueryDict without the map's own parameters)
    applied; None when the filters cannot be cached.
    """
    if not cacheable(filters):
        return None

    def overview(grid):
        identity = [
            scope_key(user),
            sorted((name, sorted(filters.getlist(name))) for name in filters),
            grid.lon_step,
            grid.lat_step,
            data_version(),
        ]
        digest = hashlib.blake2b(json.dumps(identity).encode(), digest_size=20).hexdigest()
        key = f"{CACHE_PREFIX}:{digest}"
        cache = map_cache()
        cells = cache.get(key)
        if cells is None:
            cells = cell_sums(queryset, grid)
            cache.set(key, cells, timeout=settings.MAP_AGGREGATE_CACHE_SECONDS)
        return cells

    return overview
