"""The rectification rules (remediation/rules.py) over 100,000 outfalls held in memory: the time of
``rules.evaluate`` alone, per rule and in all, on constructed facts (no database).

The facts: 5,000 industrial units (one in four inside a park), outfalls of four kinds in turn (industrial,
scattered rural domestic with 100 m³/day each, irrigation return, undetermined) spread over 700 villages,
and one protection area. Writes bench-results/rules.json.
"""

import time

from shapely.geometry import box

from .common import env_int, format_table, log, write_json

NAME = "rules"


def build_context(n):
    from outfalls.registry.choices import LinkRole, UnitKind
    from outfalls.registry.classification import Level2
    from outfalls.remediation.rules import (
        AreaFacts,
        LinkFacts,
        OutfallFacts,
        RuleContext,
        UnitFacts,
        WaterFacts,
    )

    kinds = (Level2.INDUSTRIAL_MINING, Level2.RURAL_DOMESTIC_SCATTERED, Level2.IRRIGATION, "")
    units = {
        i: UnitFacts(i, f"单位{i}", UnitKind.INDUSTRIAL, "园区" if i % 4 == 1 else "") for i in range(1, 5001)
    }
    outfalls = {
        i: OutfallFacts(
            id=i,
            type_level2=kinds[i % 4],
            code=f"B{i:06d}",
            name=f"排口{i}",
            water_body_id=1,
            lon=113 + (i % 1000) / 1000,
            lat=40 + (i // 1000) / 100,
            village_id=i % 700,
            daily_volume_m3=100,
            links=[LinkFacts(1 + i % 5000, LinkRole.OWNER)],
        )
        for i in range(1, n + 1)
    }
    return RuleContext(
        outfalls=outfalls,
        units=units,
        waters={1: WaterFacts(1, "御河", "永定河/桑干河")},
        villages={},
        protected_areas=[AreaFacts("区", box(113.1, 40.1, 113.2, 40.2), "饮用水水源一级保护区")],
        coverage_areas=[],
    )


def run(out=None):
    from outfalls.remediation import rules

    n = env_int("BENCH_RULES_OUTFALLS", 100_000)
    ctx = build_context(n)
    per_rule = {}
    for name, rule in rules.RULES.items():
        start = time.perf_counter()
        hits = rule(ctx)
        per_rule[name] = {"seconds": time.perf_counter() - start, "hits": len(hits)}
    start = time.perf_counter()
    result = rules.evaluate(ctx)
    total = time.perf_counter() - start
    if len(result.proposals) != n:
        raise RuntimeError(f"expected {n} proposals, got {len(result.proposals)}")
    report = {"outfalls": n, "evaluate_seconds": total, "rules": per_rule}
    rows = [[name, f"{r['seconds']:.2f} s", f"{r['hits']:,}"] for name, r in per_rule.items()]
    rows.append(["evaluate (all, combined)", f"{total:.2f} s", f"{len(result.proposals):,}"])
    log(f"\nRectification rules over {n:,} outfalls (in memory)\n", out)
    log(format_table(["rule", "time", "hits"], rows, right={1, 2}), out)
    path = write_json(NAME, report)
    log(f"\nWrote {path}", out)
    return report
