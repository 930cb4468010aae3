"""工作台: what waits for this user, the deadlines near, and the jurisdiction's loop at a glance.

The reports app sits on the top floor (DESIGN.md, Layout): it reads every workflow app. Each item on the page is
a link to a list page with a filter, and its count is that page's count: a class-based list is counted through
the view's own get_queryset() (the same scope, base queryset and FilterSet as the page); a function-based list
through the same filters its view applies. A test opens every link and compares.

Which items a user gets follows from what the scope lets them do (core.scopes): a county officer's steps are
not the city bureau's, and a responsible entity sees its own applications, reports and cases.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone

from outfalls.core.choices import Milestone
from outfalls.core.models import Deadline, Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.monitoring.models import Sample
from outfalls.permits.choices import ApplicationStatus
from outfalls.permits.views import ApplicationListView
from outfalls.registry.choices import TRACED_OR_LATER, LifecycleStatus, RectificationStatus
from outfalls.registry.models import Outfall
from outfalls.remediation.choices import PlanStatus, ProposalStatus
from outfalls.remediation.plan_views import PlanListView
from outfalls.remediation.proposal_views import ProposalListView
from outfalls.supervision.choices import CaseStatus, EntityReportStatus
from outfalls.supervision.models import EntityReport
from outfalls.supervision.patrol_views import PatrolListView
from outfalls.supervision.views import CaseListView
from outfalls.survey.choices import CaseStatus as TracingStatus
from outfalls.survey.tracing_views import CaseListView as TracingListView

from . import statutory
from .choices import ReportKind

DEADLINE_WINDOW_DAYS = 90  # a milestone this close (or passed and not long ago) is "near"
MONITORED_DAYS = 365  # an outfall sampled within this many days counts as monitored


@dataclass
class Item:
    """One line of work: a title, its count and the list it links to."""

    key: str
    group: str
    title: str
    url: str
    count: int
    urgent: bool = False


@dataclass
class Workbench:
    items: list = field(default_factory=list)
    deadlines: list = field(default_factory=list)
    loop: list = field(default_factory=list)

    @property
    def waiting(self):
        return [i for i in self.items if i.count]


def _request(user, params):
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(urlencode(params))
    request.user = user
    return request


def _view_count(view_class, user, params):
    """The count of a ScopedListView page with these query parameters, through the view's own queryset."""
    view = view_class()
    view.setup(_request(user, params))
    view.kwargs = {}
    return view.get_queryset().count()


def _item(items, key, group, title, url_name, params, count, *, urgent=False):
    url = reverse(url_name) + (f"?{urlencode(params)}" if params else "")
    items.append(Item(key, group, title, url, count, urgent))


def _listed(items, key, group, title, url_name, view_class, user, params, *, urgent=False):
    _item(items, key, group, title, url_name, params, _view_count(view_class, user, params), urgent=urgent)


def work_items(user, today=None):
    """The lines of work waiting for this user, in the order of the loop (查 溯 治 审 管)."""
    scope = scope_of(user)
    items = []
    editor = scope.can_edit_citywide or bool(scope.county_ids)
    if editor:
        params = {"status": TracingStatus.OPEN}
        _listed(
            items, "tracing", "溯源", "进行中的溯源案件", "survey:case_list", TracingListView, user, params
        )
    if scope.can_run_rules:
        params = {"status": ProposalStatus.PENDING}
        _listed(
            items,
            "proposals",
            "整治",
            "待确认的整治措施建议",
            "remediation:proposal_list",
            ProposalListView,
            user,
            params,
        )
    if _view_count(PlanListView, user, {}):
        _listed(
            items,
            "plans_overdue",
            "整治",
            "已逾期的整治方案",
            "remediation:plan_list",
            PlanListView,
            user,
            {"due": "overdue"},
            urgent=True,
        )
        _listed(
            items,
            "plans_due_soon",
            "整治",
            "30 天内到期的整治方案",
            "remediation:plan_list",
            PlanListView,
            user,
            {"due": "due_soon"},
        )
    if scope.can_review_closeout:
        params = {"status": PlanStatus.SUBMITTED}
        _listed(
            items,
            "closeouts",
            "整治",
            "待审核的销号申请",
            "remediation:plan_list",
            PlanListView,
            user,
            params,
        )
    elif scope.can_submit_closeout:
        params = {"status": PlanStatus.RETURNED}
        _listed(
            items,
            "closeouts_returned",
            "整治",
            "被退回的销号申请",
            "remediation:plan_list",
            PlanListView,
            user,
            params,
            urgent=True,
        )
    if scope.can_decide_setup:
        params = {"status": ApplicationStatus.UNDER_REVIEW}
        _listed(
            items,
            "applications",
            "审核",
            "审查中的设置申请",
            "permits:application_list",
            ApplicationListView,
            user,
            params,
        )
    elif scope.county_ids:
        params = {"status": ApplicationStatus.SUBMITTED}
        _listed(
            items,
            "applications",
            "审核",
            "待转报的设置申请",
            "permits:application_list",
            ApplicationListView,
            user,
            params,
        )
    elif scope.unit_ids:
        for status, title, urgent in (
            (ApplicationStatus.DRAFT, "未提交的设置申请（草稿）", False),
            (ApplicationStatus.RETURNED, "退回补正的设置申请", True),
        ):
            params = {"status": status}
            _listed(
                items,
                f"applications_{status}",
                "审核",
                title,
                "permits:application_list",
                ApplicationListView,
                user,
                params,
                urgent=urgent,
            )
    # Lines of the apps beside this one on the top floor (the portal's reports), by AppConfig hook.
    for config in apps.get_app_configs():
        hook = getattr(config, "work_items", None)
        if hook is not None:
            items.extend(Item(urgent=False, **line) for line in hook(user, today))
    if scope.can_decide_case:
        steps = ((CaseStatus.NOTIFIED, "待决定的执法案件"), (CaseStatus.ENFORCED, "待结案的执法案件"))
    elif scope.can_open_case:
        steps = (
            (CaseStatus.OPENED, "待调查的执法案件"),
            (CaseStatus.INVESTIGATED, "待告知的执法案件"),
            (CaseStatus.DECIDED, "待执行的执法案件"),
        )
    else:
        steps = ()
    for status, title in steps:
        params = {"status": status}
        _listed(items, f"cases_{status}", "管", title, "supervision:case_list", CaseListView, user, params)
    if not steps and scope.unit_ids:
        _listed(items, "cases", "管", "涉及本单位的执法案件", "supervision:case_list", CaseListView, user, {})
    if scope.citywide or scope.county_ids or any(g.department_id for g in scope.grants):
        for kind in ReportKind:
            count = sum(1 for e in statutory.register(kind, user) if not e.submitted)
            params = {"kind": kind.value, "status": "unsent"}
            _item(
                items,
                f"statutory_{kind.value}",
                "报告",
                f"未报送的{kind.label}",
                "statutory:register",
                params,
                count,
            )
    if scope.can_patrol:
        params = {"date_from": (today or timezone.localdate()).replace(day=1).isoformat()}
        _listed(
            items, "patrols", "管", "本月的巡河记录", "supervision:patrol_list", PatrolListView, user, params
        )
    if scope.can_open_case or scope.unit_ids:
        count = EntityReport.objects.visible_to(user).filter(status=EntityReportStatus.SUBMITTED).count()
        title = "待处理的借道排污报告" if scope.can_open_case else "本单位待处理的借道排污报告"
        params = {"status": EntityReportStatus.SUBMITTED}
        _item(items, "entity_reports", "管", title, "supervision:entity_report_list", params, count)
    return items


def near_deadlines(user, today=None):
    """The plan's milestones for the user's counties (or the city's default), near or just passed:
    [(title, due date, days left)]."""
    today = today or timezone.localdate()
    scope = scope_of(user)
    rows = []
    counties = sorted(scope.county_ids) if scope.county_ids and not scope.citywide else [None]
    names = dict(Jurisdiction.objects.filter(pk__in=[c for c in counties if c]).values_list("pk", "name"))
    for milestone in Milestone:
        for county in counties:
            due = Deadline.due_for(milestone, county)
            if due is None or not (-DEADLINE_WINDOW_DAYS <= (due - today).days <= DEADLINE_WINDOW_DAYS * 4):
                continue
            where = names.get(county, "全市")
            rows.append((f"{where}：{milestone.label}", due, (due - today).days))
    return sorted(rows, key=lambda r: r[1])


def loop_figures(user, today=None):
    """The loop at a glance over the outfalls the user sees: [(stage, count, total, ledger link or None)]."""
    today = today or timezone.localdate()
    outfalls = Outfall.objects.visible_to(user)
    total = outfalls.count()
    since = timezone.make_aware(datetime.combine(today - timedelta(days=MONITORED_DAYS), time.min))
    monitored = (
        Sample.objects.filter(outfall__in=outfalls.values("pk"), sampled_at__gte=since)
        .values("outfall_id")
        .distinct()
        .count()
    )
    ledger = reverse("registry:outfall_list")
    return [
        ("查：在册排口", total, total, ledger),
        ("核实", outfalls.exclude(status=LifecycleStatus.SUSPECTED).count(), total, None),
        ("溯：已溯源", outfalls.filter(status__in=TRACED_OR_LATER).count(), total, None),
        (
            "治：整治完成或无需整治",
            outfalls.filter(
                rectification_status__in=(RectificationStatus.COMPLETED, RectificationStatus.NOT_NEEDED)
            ).count(),
            total,
            None,
        ),
        ("审：已登记建档", outfalls.filter(registered=True).count(), total, f"{ledger}?registered=true"),
        (f"测：近 {MONITORED_DAYS} 天有监测", monitored, total, None),
        ("公开：已向社会公开", outfalls.filter(disclosed=True).count(), total, f"{ledger}?disclosed=true"),
    ]


def workbench(user, today=None):
    today = today or timezone.localdate()
    return Workbench(
        items=work_items(user, today), deadlines=near_deadlines(user, today), loop=loop_figures(user, today)
    )
