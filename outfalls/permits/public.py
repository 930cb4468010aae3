"""What the setup review publishes on the portal (issue 14's provider hooks, portal/providers.py): the public
decision on a disclosed outfall's page, and every public decision among the notices, each with
``Decision.public_record``'s fields only (withheld decisions never)."""

from django.db.models import Count, Max, Q

from .models import Decision


def _public():
    return Decision.objects.filter(public=True).select_related(
        "application__outfall", "application__applicant", "application__water_body"
    )


def public_outfall_panel(outfall):
    decision = _public().filter(application__outfall=outfall).order_by("-decided_on", "-pk").first()
    if decision is None:
        return None
    record = decision.public_record()
    rows = [
        ("审核决定", f"{record['procedure']}·{record['outcome_label']}"),
        ("决定文号", record["number"] or "—"),
        ("决定日期", record["decided_on"]),
        ("决定机关", record["issuing_authority"]),
    ]
    if record["conditions"]:
        rows.append(("批复条件", record["conditions"]))
    return {"title": "设置审核", "rows": rows}


def public_notices(limit=100):
    notices = []
    for decision in _public().prefetch_related("application__pollutants").order_by("-decided_on")[:limit]:
        record = decision.public_record()
        outfall = decision.application.outfall
        notices.append(
            {
                "kind": "设置审核决定",
                "title": f"{record['outfall_name']}{record['kind']}{record['procedure']}：{record['outcome_label']}",
                "date": decision.decided_on,
                "body": (
                    f"申请单位：{record['applicant']}；受纳水体：{record['water_body']}；"
                    f"决定文号：{record['number'] or '—'}；决定机关：{record['issuing_authority']}"
                ),
                # Linked only where the outfall's own page is public.
                "outfall_code": record["outfall_code"] if outfall is not None and outfall.disclosed else "",
            }
        )
    return notices


def public_data_version():
    """Changes with a new decision, a withheld one and one disclosed again."""
    v = Decision.objects.aggregate(
        n=Count("pk", filter=Q(public=True)), last=Max("pk"), held=Max("withheld_at")
    )
    return f"{v['n']}.{v['last']}.{v['held'] and v['held'].timestamp()}"
