"""The map's box query (/maps/api/outfalls/) with 100,000 outfalls, against a brute-force baseline.

Scenarios: a city-wide box at the city's zoom (grid aggregates) and a street-level box of about 1 km at a
close zoom (points), each as the city bureau and as a county officer (scope filter). For each: p50 and
p95 of the whole request through Django's test client, queries and SQL time per request, the p50 of the
box query alone (maps.grid.box_query, no HTTP), and the p50/p95 of a brute-force baseline measured in the
same run: every visible outfall's row loaded into Python, filtered to the box and aggregated (or listed)
there. The baseline's answer is checked against the endpoint's (same total, same cells or ids).

Settings (environment): BENCH_OUTFALLS (100000), BENCH_REPEAT (30), BENCH_WARMUP (3),
BENCH_DATABASE_URL (default sqlite:///var/bench.sqlite3, shared with benchmarks/ledger.py, whose data
generation builds it when it is missing), BENCH_PROFILE=1 to cProfile the slowest request.
"""

import math
import re
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Max, Min
from django.urls import reverse

from outfalls.geo.shapes import metres_per_degree
from outfalls.maps.grid import BBox, Grid, box_query, in_box
from outfalls.maps.layers import map_cache
from outfalls.registry.models import Outfall

from .common import (
    capture_queries,
    env_int,
    format_table,
    log,
    ms,
    profile_calls,
    time_calls,
    write_json,
)
from .ledger import logged_in, prepare_ledger, run_sql, scope_where

CITY_ZOOM = 9  # Datong (about 2° × 1.2°) fills a 1,400 × 900 px map at zoom 8.5–9
STREET_ZOOM = 16
STREET_KM = 1.0
COUNTY = "140213"  # 平城区, the county officer's (pingcheng) county and the street box's place


@dataclass
class Scenario:
    key: str
    label: str
    username: str
    bbox: BBox
    zoom: int
    cold: bool = True  # clear the cache before each request (the low-zoom aggregates are cached)


def city_box():
    """The extent of all outfalls (what the city bureau sees on opening the map)."""
    box = Outfall.objects.aggregate(Min("lon"), Min("lat"), Max("lon"), Max("lat"))
    return BBox(box["lon__min"], box["lat__min"], box["lon__max"], box["lat__max"])


def street_box():
    """About 1 km × 1 km around the middle of the county's outfalls (a dense part of the city)."""
    centre = Outfall.objects.filter(county__code=COUNTY).aggregate(Avg("lon"), Avg("lat"))
    lon, lat = centre["lon__avg"], centre["lat__avg"]
    per_lon, per_lat = metres_per_degree(lat)
    half_lon, half_lat = STREET_KM * 500 / per_lon, STREET_KM * 500 / per_lat
    return BBox(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)


def scenarios(city=None, city_zoom=CITY_ZOOM):
    """The city (default: the extent of all outfalls) and street scenarios."""
    city, street = city or city_box(), street_box()
    return [
        Scenario("city", f"city-wide box, zoom {city_zoom}, cache cold", "bureau", city, city_zoom),
        Scenario(
            "city-cached", f"city-wide box, zoom {city_zoom}, cache warm", "bureau", city, city_zoom, False
        ),
        Scenario(
            "city-county",
            f"city-wide box, zoom {city_zoom}, county user, cache cold",
            "pingcheng",
            city,
            city_zoom,
        ),
        Scenario("street", f"~{STREET_KM:g} km box, zoom {STREET_ZOOM}", "bureau", street, STREET_ZOOM),
        Scenario(
            "street-county",
            f"~{STREET_KM:g} km box, zoom {STREET_ZOOM}, county user",
            "pingcheng",
            street,
            STREET_ZOOM,
        ),
    ]


# The brute-force baseline ------------------------------------------------------------------------------
def brute_force(user, bbox, zoom):
    """Every visible outfall into Python, then the box, the mode and the aggregates computed there."""
    rows = list(
        Outfall.objects.visible_to(user).values_list(
            "id", "lon", "lat", "type_code", "status", "name", "code"
        )
    )
    inside = [
        row
        for row in rows
        if bbox.min_lon <= row[1] <= bbox.max_lon and bbox.min_lat <= row[2] <= bbox.max_lat
    ]
    if zoom >= settings.MAP_POINTS_MIN_ZOOM and len(inside) <= settings.MAP_POINT_LIMIT:
        return {"mode": "points", "total": len(inside), "ids": sorted(row[0] for row in inside)}
    grid = Grid.for_zoom(zoom, (bbox.min_lat + bbox.max_lat) / 2)
    widened = grid.widen(bbox)
    cells = {}
    for row in rows:
        lon, lat = row[1], row[2]
        if not (widened.min_lon <= lon <= widened.max_lon and widened.min_lat <= lat <= widened.max_lat):
            continue
        key = (math.floor(lon / grid.lon_step), math.floor(lat / grid.lat_step))
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = [0, 0.0, 0.0, {}]
        cell[0] += 1
        cell[1] += lon
        cell[2] += lat
        cell[3][row[3]] = cell[3].get(row[3], 0) + 1
    return {
        "mode": "clusters",
        "total": sum(c[0] for c in cells.values()),
        "cells": {key: c[0] for key, c in cells.items()},
    }


def same_answer(response, baseline, bbox, zoom):
    if response["mode"] != baseline["mode"] or response["total"] != baseline["total"]:
        return False
    if response["mode"] == "points":
        return sorted(p["id"] for p in response["points"]) == baseline["ids"]
    grid = Grid.for_zoom(zoom, (bbox.min_lat + bbox.max_lat) / 2)
    cells = {
        (round(c["bounds"][0] / grid.lon_step), round(c["bounds"][1] / grid.lat_step)): c["count"]
        for c in response["clusters"]
    }
    return cells == baseline["cells"]


def bare_statement(user, bbox, points):
    """Plain SQL for the least the box needs: its rows' columns (points) or their count (clusters), within
    the user's scope (a county officer's county); no widening to cells, no grouping, no JSON."""
    where, params = scope_where(user)
    where = ["o.lon BETWEEN %s AND %s", "o.lat BETWEEN %s AND %s", *where]
    params = [bbox.min_lon, bbox.max_lon, bbox.min_lat, bbox.max_lat, *params]
    columns = "o.id, o.lon, o.lat, o.type_code, o.name" if points else "COUNT(*)"
    return f"SELECT {columns} FROM {Outfall._meta.db_table} o WHERE {' AND '.join(where)}", params


# Measuring ---------------------------------------------------------------------------------------------
def plan_summary(queryset):
    """How the database reads the outfall table for this queryset: an index it searches, or a scan.

    SQLite's EXPLAIN QUERY PLAN says "SEARCH registry_outfall USING INDEX name (...)" or "SCAN
    registry_outfall"; PostgreSQL's EXPLAIN "Index Scan using name", "Bitmap Index Scan on name" or "Seq Scan
    on registry_outfall"."""
    text = queryset.explain()
    found = re.findall(
        r"SEARCH registry_outfall USING (?:COVERING )?INDEX (\w+)|Index (?:Only )?Scan (?:using|on) (\w+)",
        text,
    )
    names = sorted({a or b for a, b in found if (a or b).startswith("registry_ou")})
    if names:
        return " + ".join(names)
    if re.search(r"SCAN registry_outfall|Seq Scan on registry_outfall", text):
        return "full scan"
    return text.strip().splitlines()[-1][:40]


def measure(scenario, client, user, repeat, warmup, brute_repeat=None):
    """brute_repeat: timed runs of the brute force (default: repeat; it reads every visible outfall)."""
    url = reverse("maps:api_outfalls")
    params = {"bbox": ",".join(f"{v:.6f}" for v in scenario.bbox.as_tuple()), "zoom": scenario.zoom}
    # The endpoint parses the rounded text: the baseline and the direct call use the same box.
    bbox = BBox.parse(params["bbox"])

    def request():
        if scenario.cold:
            map_cache().clear()
        response = client.get(url, params)
        if response.status_code != 200:
            raise RuntimeError(f"{url}?{params}: HTTP {response.status_code}")
        return response

    response, queries = capture_queries(request)
    answer = response.json()
    visible = Outfall.objects.visible_to(user)

    def direct():
        return box_query(
            visible,
            bbox,
            scenario.zoom,
            point_limit=settings.MAP_POINT_LIMIT,
            points_min_zoom=settings.MAP_POINTS_MIN_ZOOM,
        )

    def baseline():
        return brute_force(user, bbox, scenario.zoom)

    matches = same_answer(answer, baseline(), bbox, scenario.zoom)
    plan = plan_summary(in_box(visible, bbox).values("id", "lon", "lat", "type_code", "name"))
    bare_sql, bare_params = bare_statement(user, bbox, answer["mode"] == "points")
    timing = time_calls(request, repeat=repeat, warmup=warmup, track_db=True)
    direct_timing = time_calls(direct, repeat=repeat, warmup=warmup)
    bare_timing = time_calls(lambda: run_sql(bare_sql, bare_params), repeat=repeat, warmup=warmup)
    brute_repeat = repeat if brute_repeat is None else brute_repeat
    brute_timing = time_calls(baseline, repeat=brute_repeat, warmup=min(warmup, brute_repeat))
    return {
        "scenario": scenario.key,
        "label": scenario.label,
        "user": scenario.username,
        "bbox": list(bbox.as_tuple()),
        "zoom": scenario.zoom,
        "mode": answer["mode"],
        "total": answer["total"],
        "features": len(answer.get("points") or answer.get("clusters") or []),
        "response_bytes": len(response.content),
        "visible_outfalls": visible.count(),
        "request": timing.summary_ms(),
        "queries": len(queries),
        "sql_p50_ms": round(ms(timing.db_p50), 3),
        "box_query": direct_timing.summary_ms(),
        "bare_sql": {"sql": bare_sql, **bare_timing.summary_ms()},
        "ratio_bare": round(timing.p95 / bare_timing.p95, 1),
        "brute_force": brute_timing.summary_ms(),
        "speedup_request": round(brute_timing.p50 / timing.p50, 1),
        "speedup_box_query": round(brute_timing.p50 / direct_timing.p50, 1),
        "baseline_matches": matches,
        "plan": plan,
        "sql": [q["sql"] for q in queries if "registry_outfall" in q["sql"]],
        "_request": request,
    }


def report_table(results):
    headers = [
        "scenario",
        "mode",
        "in box",
        "drawn",
        "req p50 ms",
        "req p95 ms",
        "queries",
        "SQL ms",
        "box query ms",
        "bare SQL p95 ms",
        "x bare (p95)",
        "brute p50 ms",
        "brute p95 ms",
        "x faster (req)",
        "same answer",
        "outfall table read by",
    ]
    rows = [
        [
            r["scenario"],
            r["mode"],
            f"{r['total']:,}",
            f"{r['features']:,}",
            f"{r['request']['p50_ms']:.1f}",
            f"{r['request']['p95_ms']:.1f}",
            r["queries"],
            f"{r['sql_p50_ms']:.1f}",
            f"{r['box_query']['p50_ms']:.1f}",
            f"{r['bare_sql']['p95_ms']:.1f}",
            f"{r['ratio_bare']:.1f}",
            f"{r['brute_force']['p50_ms']:.1f}",
            f"{r['brute_force']['p95_ms']:.1f}",
            f"{r['speedup_request']:.1f}",
            "yes" if r["baseline_matches"] else "NO",
            r["plan"],
        ]
        for r in results
    ]
    return format_table(headers, rows)


def run(out=None):
    out = out or sys.stdout
    repeat, warmup, measured_on, total = prepare_ledger(out)
    clients, users = logged_in(("bureau", "pingcheng"))

    log(
        f"\nMap box query benchmark: {total:,} outfalls on {connection.vendor}, {repeat} timed requests each\n",
        out,
    )
    results = []
    started = time.perf_counter()
    for scenario in scenarios():
        result = measure(scenario, clients[scenario.username], users[scenario.username], repeat, warmup)
        results.append(result)
        log(
            f"  {scenario.key:<14} {result['mode']:<8} request p50 {result['request']['p50_ms']:7.1f} ms"
            f"  brute force p50 {result['brute_force']['p50_ms']:7.1f} ms  x{result['speedup_request']:.1f}",
            out,
        )
    log(f"  measured in {time.perf_counter() - started:.0f} s\n", out)
    log(report_table(results), out)
    log(
        "\nin box: outfalls the user sees in the box (after the widening to whole cells when aggregated);\n"
        "drawn: points or cells in the answer. req p50/p95: the whole request through the Django test client\n"
        "(session, auth, scope, filter, query, JSON); cache cold: the low-zoom aggregates' cache cleared before\n"
        "each request; warm: answered from it. SQL ms: p50 time per request inside SQL statements (SQLite reads\n"
        "rows after execute, so a scan shows partly outside it). box query ms: p50 of maps.grid.box_query alone\n"
        "(always in SQL, no cache). bare SQL: plain SELECT of the rows in the box (points) or COUNT(*) of them\n"
        "(clusters), in the user's scope; x bare = req p95 / bare p95. brute p50/p95: every visible outfall loaded into\n"
        "Python, filtered to the box and aggregated there. x faster (req) = brute p50 / request p50.\n"
        "same answer: the baseline found the same total and the same cells (or ids) as the endpoint.\n"
        "outfall table read by: the index the database walks for the box (its query plan), or a full scan.",
        out,
    )
    if not all(r["baseline_matches"] for r in results):
        log("WARNING: the brute-force baseline disagrees with the endpoint for some scenario", out)

    profile_text = None
    if env_int("BENCH_PROFILE", 0):
        slowest = max(results, key=lambda r: r["request"]["p50_ms"])
        log(f"\ncProfile of the slowest case ({slowest['scenario']}), 10 requests:", out)
        profile_text = profile_calls(slowest["_request"], repeat=10)
        log(profile_text, out)

    for r in results:
        del r["_request"]
    path = write_json(
        "map",
        {
            "benchmark": "map",
            "environment": measured_on,
            "config": {
                "outfalls": total,
                "repeat": repeat,
                "warmup": warmup,
                "point_limit": settings.MAP_POINT_LIMIT,
                "points_min_zoom": settings.MAP_POINTS_MIN_ZOOM,
            },
            "results": results,
            "profile": profile_text,
        },
    )
    log(f"\nWrote {path.relative_to(path.parent.parent)}", out)
    return results
