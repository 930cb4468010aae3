"""The city-wide aggregates behind the map's low zooms, cached.

Below MAP_POINTS_MIN_ZOOM every pan or zoom asks for grid aggregates, and a city-wide view groups every
outfall the user sees (100,000 rows: the one expensive query of the map). The cells of the user's whole
filtered set are therefore computed once per zoom (grid), scope and filter, cached, and the cells in
each requested box are taken from them.

The cache key holds a data version read in one query of index look-ups: the largest outfall id and the
latest ``updated_at`` (every write path sets it, bulk ones included), the largest id of the outfalls'
history (simple-history writes a row for every save and every delete, cascades included), and the largest
id of the outfall-unit links and of their history (an entity's scope follows its links). Any write
therefore starts a new key; ``MAP_AGGREGATE_CACHE_SECONDS`` bounds how long an entry lives. (It used to
count the outfalls and links to notice deletions: two scans, 250 ms a request at a million outfalls,
more than the cached work; docs/benchmarks.md, "Scale".) A text search (``q``) matches unit names
too, which the version does not watch, so searches are never cached.
"""

import hashlib
import json

from django.conf import settings
from django.db import connection

from outfalls.core.scopes import scope_of
from outfalls.registry.models import Outfall, OutfallUnitLink

from .grid import cell_sums
from .layers import map_cache

CACHE_PREFIX = "maps:cells:v1"
# Filters whose result the data version does not follow.
UNCACHED_FILTERS = ("q",)


def data_version():
    """(max outfall id, latest update, max outfall history id, max link id, max link history id), in one
    query of index look-ups (no count: its cost grows with the ledger)."""
    quote = connection.ops.quote_name
    outfalls, links = quote(Outfall._meta.db_table), quote(OutfallUnitLink._meta.db_table)
    outfall_history = quote(Outfall.history.model._meta.db_table)
    link_history = quote(OutfallUnitLink.history.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {outfalls}), (SELECT MAX(updated_at) FROM {outfalls}),"
            f" (SELECT MAX(history_id) FROM {outfall_history}), (SELECT MAX(id) FROM {links}),"
            f" (SELECT MAX(history_id) FROM {link_history})"
        )
        return [str(value) for value in cursor.fetchone()]


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
