"""The standards library file (data/standards.json) into the database, and the load estimates it holds.

``load_library()`` is idempotent: parameters by code, standards by code, limits by (standard, grade, parameter,
condition) and rules by order are created, updated or removed to match the file; every change keeps its history
(django-simple-history) and the load is recorded (``LibraryLoad``: version, digest, what changed). It runs after
every ``migrate`` (post_migrate) and from ``manage.py load_standards``; an unchanged file changes nothing.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.db import transaction

LIBRARY_FILE = Path(__file__).resolve().parent / "data" / "standards.json"


def read_file(path=None):
    raw = Path(path or LIBRARY_FILE).read_bytes()
    return json.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()


@lru_cache(maxsize=1)
def estimates():
    """{"concentrations": {level2: {parameter: mg/L}}, "volumes": {level2: m3/d}} (illustrative, marked)."""
    data, _ = read_file()
    return data.get("estimates", {"concentrations": {}, "volumes": {}})


def _limit_rows(standard, entries):
    """(grade, parameter code, kind, lower, upper, condition, note, uncertain) for one standard's limits."""
    for entry in entries:
        code, kind, values = entry[:3]
        extra = entry[3] if len(entry) > 3 else {}
        for grade, value in values:
            lower, upper = (
                (value if isinstance(value, list) else (None, value)) if kind != "min" else (value, None)
            )
            yield (
                grade,
                code,
                kind,
                lower,
                upper,
                extra.get("condition", ""),
                extra.get("note", ""),
                bool(extra.get("uncertain", False)) or bool(standard.get("uncertain", False)),
            )


def _sync(queryset, wanted, key_fields, counts, label):
    """Make the rows match wanted ({key: {field: value}}): create, update changed fields, delete the others."""
    model = queryset.model
    existing = {tuple(getattr(row, f) for f in key_fields): row for row in queryset}
    for key, fields in wanted.items():
        row = existing.pop(key, None)
        if row is None:
            model(**dict(zip(key_fields, key, strict=True)), **fields).save()
            counts[f"{label}新增"] = counts.get(f"{label}新增", 0) + 1
            continue
        changed = [name for name, value in fields.items() if getattr(row, name) != value]
        if changed:
            for name in changed:
                setattr(row, name, fields[name])
            row.save()
            counts[f"{label}修改"] = counts.get(f"{label}修改", 0) + 1
    for row in existing.values():
        row.delete()
        counts[f"{label}删除"] = counts.get(f"{label}删除", 0) + 1


@transaction.atomic
def load_library(path=None, *, force=False):
    """Load the library file; returns the LibraryLoad row written, or None when nothing changed."""
    from .models import LibraryLoad, Parameter, Standard, StandardLimit, StandardRule

    data, digest = read_file(path)
    last = LibraryLoad.objects.order_by("-loaded_at", "-id").first()
    if not force and last is not None and last.digest == digest and Parameter.objects.exists():
        return None
    counts = {}
    _sync(
        Parameter.objects.all(),
        {
            (p["code"],): {
                "name": p["name"],
                "unit": p["unit"],
                "dimension": p["dimension"],
                "hj212_code": p.get("hj212_code", ""),
                "hj212_unit": p.get("hj212_unit", ""),
                "aliases": p.get("aliases", []),
                "load_counted": bool(p.get("load", False)),
                "order": order,
            }
            for order, p in enumerate(data["parameters"], 1)
        },
        ("code",),
        counts,
        "项目",
    )
    parameters = {p.code: p for p in Parameter.objects.all()}
    _sync(
        Standard.objects.all(),
        {
            (s["code"],): {
                "name": s["name"],
                "kind": s["kind"],
                "grades": s.get("grades", []),
                "scope": s.get("scope", ""),
                "source": s.get("source", ""),
                "uncertain": bool(s.get("uncertain", False)),
                "note": s.get("note", ""),
            }
            for s in data["standards"]
        },
        ("code",),
        counts,
        "标准",
    )
    standards = {s.code: s for s in Standard.objects.all()}
    wanted = {}
    for s in data["standards"]:
        for grade, code, kind, lower, upper, condition, note, uncertain in _limit_rows(
            s, s.get("limits", [])
        ):
            parameter = parameters[code]
            key = (standards[s["code"]], grade, parameter, condition)
            wanted[key] = {
                "kind": kind,
                "lower": lower,
                "upper": upper,
                "unit": parameter.unit,
                "note": note,
                "uncertain": uncertain,
            }
    limits = StandardLimit.objects.select_related("standard", "parameter")
    _sync(limits, wanted, ("standard", "grade", "parameter", "condition"), counts, "限值")
    _sync(
        StandardRule.objects.select_related("standard"),
        {
            (order,): {
                "type_code": r.get("type_code", ""),
                "type_level2": r.get("type_level2", ""),
                "water_classes": r.get("water_classes", []),
                "standard": standards[r["standard"]],
                "grade": r["grade"],
                "reason": r["reason"],
                "uncertain": bool(r.get("uncertain", False)),
            }
            for order, r in enumerate(data["rules"], 1)
        },
        ("order",),
        counts,
        "规则",
    )
    estimates.cache_clear()
    return LibraryLoad.objects.create(version=data["version"], digest=digest, changes=counts)


def load_after_migrate(sender, apps=None, using="default", **kwargs):
    """post_migrate: bring the library up to the file (nothing when it is already)."""
    try:
        apps.get_model("monitoring", "LibraryLoad")
    except (LookupError, AttributeError):
        return  # migrated back below the app's first migration
    load_library()
