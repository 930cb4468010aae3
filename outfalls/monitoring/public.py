"""What monitoring publishes on the portal (issue 14's provider hooks, portal/providers.py): the latest
monitoring and exceedance status on a disclosed outfall's public page, and the published 双随机 results
(一公开) among the notices. Dates, counts and parameter names only: no values of a person, no seeds."""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone

from .choices import DrawStatus, FindingKind
from .draws import published_results
from .models import Draw, Finding, Sample

PANEL_MONTHS = 12


def public_outfall_panel(outfall):
    """{"title", "rows"} for the outfall's public page, or None when it has never been monitored."""
    latest = Sample.objects.filter(outfall=outfall).order_by("-sampled_at").first()
    if latest is None:
        return None
    since = timezone.now() - timedelta(days=30 * PANEL_MONTHS)
    over = Finding.objects.filter(
        outfall=outfall, kind__in=(FindingKind.EXCEEDANCE, FindingKind.CHRONIC), at__gte=since
    ).select_related("parameter")
    parameters = sorted({f.parameter.name for f in over})
    exceedances = sum(1 for f in over if f.kind == FindingKind.EXCEEDANCE)
    rows = [
        (
            "最近一次监测",
            f"{timezone.localtime(latest.sampled_at):%Y-%m-%d}（{latest.get_source_display()}）",
        ),
        (
            f"近{PANEL_MONTHS}个月超标",
            f"{exceedances} 次（{'、'.join(parameters)}）" if parameters else "未发现超标",
        ),
    ]
    if any(f.kind == FindingKind.CHRONIC for f in over):
        rows.append(("持续超标", "是"))
    return {"title": "监测与超标", "rows": rows}


def public_notices():
    """One notice per published 双随机 draw, its items' results as lines."""
    draws = defaultdict(list)
    for result in published_results():
        draws[(result.draw, result.period, result.inspection_date)].append(result)
    return [
        {
            "kind": "双随机抽查结果",
            "title": f"{name}（{period}）",
            "date": day,
            "body": "\n".join(
                f"{r.county} {r.outfall_name}（{r.outfall_code}）：{r.result}"
                + (f"，{r.note}" if r.note else "")
                for r in results
            ),
            "outfall_code": "",
        }
        for (name, period, day), results in draws.items()
    ]


def public_data_version():
    """Changes with a new or removed sample, a new evaluation and a published draw."""
    samples = Sample.objects.aggregate(n=Count("pk"), last=Max("pk"))
    findings = Finding.objects.aggregate(n=Count("pk"), at=Max("evaluated_at"))
    draws = Draw.objects.filter(status=DrawStatus.PUBLISHED).aggregate(n=Count("pk"), at=Max("published_at"))
    stamps = [x and x.timestamp() for x in (findings["at"], draws["at"])]
    return f"{samples['n']}.{samples['last']}.{findings['n']}.{stamps[0]}.{draws['n']}.{stamps[1]}"
