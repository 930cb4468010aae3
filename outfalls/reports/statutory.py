"""The three statutory reports (实施方案（十四））: by 2023-09-30 the investigation report (排查溯源工作开展情况报告, with
the attachment-1 table), by 2023-12-31 the rectification progress report, by 2024-11-30 the rectification
summary. Every county, 经开区 and department sends each; the city merges them.

The due dates are data: core.Deadline rows of the Milestone named like the report (the city's default, or a
county's own). A report's figures are read from the ledger as it stood at the end of its `as_of` day (registry
history: the same rows as the attachment-1 export as of that day), never stored. What the county writes
(工作开展情况, 存在的问题, 下一步工作) is kept on its StatutoryReport until it sends it.

Subjects: a county-level jurisdiction (its outfalls by 县区), a department (the outfalls of the level-2 types it
is responsible for), or the city (all).
"""

import io
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from outfalls.core.choices import JurisdictionLevel
from outfalls.core.documents import LIST_SIZE, Notice, chinese_date, chinese_number
from outfalls.core.locking import claim_version
from outfalls.core.models import Deadline, Department, Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.core.services import record_status_change
from outfalls.registry.choices import (
    TRACED_OR_LATER,
    LifecycleStatus,
    RectificationStatus,
    ResponsibilityBasis,
)
from outfalls.registry.classification import TypeCode
from outfalls.registry.ledger_export import as_of_moment, city_name, write_xlsx
from outfalls.registry.models import Outfall
from outfalls.remediation import accountability

from .choices import ReportKind, SubmissionStatus
from .models import StatutoryReport

LAGGING_SHOWN = 50  # the lagging outfalls listed in a report (the count is always whole)
WIDTHS_LAGGING = (10, 60, 26, 30, 30)
WIDTHS_CITY = (10, 30, 16, 16, 18, 16, 18, 16, 16)


@dataclass(frozen=True)
class Subject:
    """Whose report: a county-level jurisdiction, a department, or the city (both None)."""

    county: Jurisdiction | None = None
    department: Department | None = None

    @property
    def name(self):
        if self.county is not None:
            return self.county.name
        return self.department.name if self.department is not None else (city_name() or "全市")

    @property
    def issuer(self):
        """Who signs it: 大同市平城区人民政府, 大同经开区管理委员会, 大同市城市管理局; the city's merged report is the
        bureau's."""
        city = city_name()
        if self.county is not None:
            if self.county.level == JurisdictionLevel.ZONE:
                return f"{self.county.name}管理委员会"
            return f"{city}{self.county.name}人民政府"
        if self.department is not None:
            name = self.department.name
            return f"{city}{name[1:]}" if city.endswith("市") and name.startswith("市") else name
        return ""

    def outfalls_q(self, prefix=""):
        if self.county is not None:
            return Q(**{f"{prefix}county_id": self.county.pk})
        if self.department is not None:
            return Q(**{f"{prefix}type_level2__in": list(self.department.responsible_types)})
        return Q()


def subject_of(report):
    return Subject(county=report.county, department=report.department)


def subjects():
    """Every subject that sends reports: the county-level jurisdictions, then the departments."""
    counties = [Subject(county=c) for c in Jurisdiction.objects.counties().defer("boundary").order_by("code")]
    return counties + [Subject(department=d) for d in Department.objects.order_by("order", "name")]


def due_date(kind, subject):
    return Deadline.due_for(kind, subject.county.pk if subject.county is not None else None)


def due_in(dates, subject):
    """The subject's due date from Deadline.due_dates(kind) read once (a county's own, else the city's)."""
    if subject.county is not None:
        return dates.get(subject.county.pk, dates.get(None))
    return dates.get(None)


def address(subject):
    """("county", code) or ("department", id): how the pages and the API name a subject."""
    if subject.county is not None:
        return "county", subject.county.code
    return "department", str(subject.department.pk)


NOT_WRITER = "只有本县区（部门）可以填写和报送本报告。"


# Figures ------------------------------------------------------------------------------------------------------
def ledger_as_of(as_of, subject):
    """The subject's outfalls as the ledger stood at the end of `as_of` (historical rows)."""
    return Outfall.history.as_of(as_of_moment(as_of)).filter(subject.outfalls_q())


def figures(as_of, subject):
    """The counts of the subject's ledger as of `as_of`: {total, by_type, verified, traced, responsible,
    rectified, rectifying, registered, disclosed}; traced is the lifecycle at 已溯源 or later; responsible an
    entity fixed (a basis other than 尚未确定); rectified 已完成 or 无需整治."""
    rows = ledger_as_of(as_of, subject)
    done = (RectificationStatus.COMPLETED, RectificationStatus.NOT_NEEDED)
    counted = rows.aggregate(
        total=Count("id"),
        verified=Count("id", filter=~Q(status=LifecycleStatus.SUSPECTED)),
        traced=Count("id", filter=Q(status__in=TRACED_OR_LATER)),
        responsible=Count("id", filter=~Q(responsibility_basis__in=("", ResponsibilityBasis.UNKNOWN))),
        rectified=Count("id", filter=Q(rectification_status__in=done)),
        rectifying=Count("id", filter=Q(rectification_status=RectificationStatus.IN_PROGRESS)),
        registered=Count("id", filter=Q(registered=True)),
        disclosed=Count("id", filter=Q(disclosed=True)),
    )
    by_type = dict(rows.values_list("type_code").annotate(n=Count("id")).order_by())
    counted["by_type"] = {code: by_type.get(code, 0) for code in TypeCode.values}
    return counted


def _pct(part, whole):
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def lagging(kind, as_of, subject):
    """The outfalls behind as of `as_of`: not yet traced (the investigation report) or not rectified (the
    rectification reports); a queryset of historical rows in code order."""
    rows = ledger_as_of(as_of, subject)
    if kind == ReportKind.SURVEY:
        behind = rows.exclude(status__in=TRACED_OR_LATER)
    else:
        behind = rows.exclude(
            rectification_status__in=(RectificationStatus.COMPLETED, RectificationStatus.NOT_NEEDED)
        ).exclude(status=LifecycleStatus.SUSPECTED)
    return behind.order_by("code")


def progress_lines(kind, as_of, subject, counted):
    """进度与期限: each milestone of the plan with its due date and where the subject stood on `as_of`."""
    county_id = subject.county.pk if subject.county is not None else None
    total = counted["total"]
    lines = []
    baseline = Deadline.due_for("baseline", county_id)
    rectification = Deadline.due_for("rectification", county_id)
    if baseline:
        state = "已到期" if as_of > baseline else f"距期限{(baseline - as_of).days}天"
        lines.append(
            f"查清底数、明确责任主体（期限{chinese_date(baseline)}，{state}）：已溯源{counted['traced']}个"
            f"（{_pct(counted['traced'], total)}），已明确责任主体{counted['responsible']}个"
            f"（{_pct(counted['responsible'], total)}）。"
        )
    if rectification:
        state = "已到期" if as_of > rectification else f"距期限{(rectification - as_of).days}天"
        lines.append(
            f"完成整治（期限{chinese_date(rectification)}，{state}）：已完成整治或无需整治{counted['rectified']}个"
            f"（{_pct(counted['rectified'], total)}），正在整治{counted['rectifying']}个。"
        )
    return lines


def summary_text(kind, as_of, subject, counted):
    types = "，".join(f"{TypeCode(code).label}{n}个" for code, n in counted["by_type"].items() if n) or "无"
    return (
        f"截至{chinese_date(as_of)}，{subject.name}入河排污口台账共{counted['total']}个（{types}）；"
        f"已核实{counted['verified']}个，已溯源{counted['traced']}个，已明确责任主体{counted['responsible']}个，"
        f"已完成整治或无需整治{counted['rectified']}个，已登记建档{counted['registered']}个，"
        f"已向社会公开{counted['disclosed']}个。"
    )


# Documents ----------------------------------------------------------------------------------------------------
def _written(notice, text, empty="（未填写）"):
    for part in [p.strip() for p in (text or "").splitlines() if p.strip()] or [empty]:
        notice.body(part)


def build_docx(kind, as_of, subject, report=None, today=None):
    """One subject's report as .docx bytes, in the official layout (core.documents), to the city bureau."""
    today = today or timezone.localdate()
    kind = ReportKind(kind)
    counted = figures(as_of, subject)
    notice = Notice(city=city_name(), today=today, issued_by=subject.issuer)
    notice.head(f"{subject.issuer}关于入河排污口{kind.label[:-2]}的报告", f"{notice.addressee}：")
    notice.heading("一、基本情况")
    notice.body(summary_text(kind, as_of, subject, counted))
    notice.heading("二、工作开展情况")
    _written(notice, report.work_done if report else "")
    notice.heading("三、进度与期限")
    for line in progress_lines(kind, as_of, subject, counted) or ["本辖区未设定实施方案期限。"]:
        notice.body(line)
    behind = lagging(kind, as_of, subject)
    count = behind.count()
    what = "尚未完成溯源" if kind == ReportKind.SURVEY else "尚未完成整治"
    notice.heading(f"四、滞后事项（{what}的排污口{count}个）")
    if count:
        shown = list(behind.select_related("water_body")[:LAGGING_SHOWN])
        notice.table(
            ["序号", "入河排污口名称及编码", "受纳水体", "状态", "整治进展"],
            [
                (
                    i,
                    [o.name, o.code],
                    o.water_body.name if o.water_body_id else "—",
                    LifecycleStatus(o.status).label,
                    RectificationStatus(o.rectification_status).label if o.rectification_status else "—",
                )
                for i, o in enumerate(shown, 1)
            ],
            WIDTHS_LAGGING,
            size=LIST_SIZE,
            left={1},
        )
        if count > len(shown):
            notice.body(f"以上列出前{len(shown)}个，其余见附件入河排污口信息汇总表。")
    else:
        notice.body("无。")
    notice.heading("五、存在的问题")
    _written(notice, report.problems if report else "")
    notice.heading("六、下一步工作")
    _written(notice, report.next_steps if report else "")
    notice.body("附件：入河排污口信息汇总表（截至" + as_of.isoformat() + "）")
    return notice.finish()


def build_city_docx(kind, as_of, today=None):
    """The city's merged report: the city's figures, a table of every county's, which reports were sent and
    when, the 问责 records of the year, and each county's and department's own parts."""
    today = today or timezone.localdate()
    kind = ReportKind(kind)
    city = Subject()
    counted = figures(as_of, city)
    notice = Notice(city=city_name(), today=today)
    notice.head(f"关于全市入河排污口{kind.label[:-2]}的报告", f"{notice.addressee}：")
    notice.heading("一、基本情况")
    notice.body(summary_text(kind, as_of, city, counted))
    for line in progress_lines(kind, as_of, city, counted):
        notice.body(line)
    notice.heading("二、各县区情况")
    rows = []
    for i, subject in enumerate([s for s in subjects() if s.county is not None], 1):
        c = figures(as_of, subject)
        rows.append(
            (
                i,
                subject.name,
                c["total"],
                c["traced"],
                _pct(c["traced"], c["total"]),
                c["rectified"],
                _pct(c["rectified"], c["total"]),
                c["registered"],
                c["disclosed"],
            )
        )
    notice.table(
        ["序号", "县区", "排口数", "已溯源", "溯源率", "已整治", "整治率", "已登记", "已公开"],
        rows,
        WIDTHS_CITY,
        size=LIST_SIZE,
    )
    notice.heading("三、报送情况")
    sent = register(kind)
    late = [r for r in sent if r.late]
    notice.body(
        f"应报送{len(sent)}家，已报送{sum(1 for r in sent if r.submitted)}家"
        + (f"；逾期未报或逾期报送：{'、'.join(r.subject.name for r in late)}。" if late else "，均按期报送。")
    )
    records = list(accountability.cited(None, as_of, days=366))
    if records:
        notice.heading("四、问责情况")
        for a in records:
            notice.body(f"{a.decided_on:%Y年%m月%d日}，对{a.target_name}{a.get_kind_display()}：{a.reason}")
    notice.heading(f"{'五' if records else '四'}、各县区和部门工作情况")
    for number, entry in enumerate([r for r in sent if r.report is not None and r.submitted], 1):
        notice.subheading(f"（{chinese_number(number)}）{entry.subject.name}")
        _written(notice, entry.report.work_done)
    return notice.finish()


def build_xlsx(as_of, subject):
    """The attachment-1 table of the subject as of `as_of`, as .xlsx bytes."""
    out = io.BytesIO()
    title = subject.name if subject.county is not None or subject.department is not None else "全市"
    write_xlsx(ledger_as_of(as_of, subject), out, title_subject=title, as_of=as_of)
    return out.getvalue()


# The register -------------------------------------------------------------------------------------------------
@dataclass
class Entry:
    subject: Subject
    report: StatutoryReport | None
    due: object

    @property
    def submitted(self):
        return self.report is not None and self.report.status == SubmissionStatus.SUBMITTED

    @property
    def submitted_on(self):
        return timezone.localdate(self.report.submitted_at) if self.submitted else None

    @property
    def late(self):
        """Not sent by its due date (and the date has passed), or sent after it."""
        if self.due is None:
            return False
        if self.submitted:
            return self.submitted_on > self.due
        return timezone.localdate() > self.due


def register(kind, user=None):
    """Who has sent the report of this kind and when, and who is late: [Entry] over every subject (within the
    user's scope when given). Three queries whatever the number of subjects (the 工作台 asks on every visit)."""
    reports = StatutoryReport.objects.filter(kind=kind).select_related("county", "department", "submitted_by")
    if user is not None:
        reports = reports.visible_to(user)
    by_county = {r.county_id: r for r in reports if r.county_id}
    by_department = {r.department_id: r for r in reports if r.department_id}
    dates = Deadline.due_dates(kind)
    entries = []
    for subject in subjects():
        if user is not None and not can_read(subject, user):
            continue
        if subject.county is not None:
            report = by_county.get(subject.county.pk)
        else:
            report = by_department.get(subject.department.pk)
        entries.append(Entry(subject, report, due_in(dates, subject)))
    return entries


# Writing and sending ------------------------------------------------------------------------------------------
def report_for(kind, subject, user):
    """The subject's report of this kind (a new draft, as of the due date, when there is none yet)."""
    existing = StatutoryReport.objects.filter(
        kind=kind, county=subject.county, department=subject.department
    ).first()
    if existing is not None:
        return existing
    due = due_date(kind, subject) or timezone.localdate()
    return StatutoryReport(
        kind=kind, county=subject.county, department=subject.department, as_of=min(due, timezone.localdate())
    )


def _own(subject, scope):
    if subject.county is not None:
        return subject.county.pk in scope.county_ids
    return subject.department is not None and subject.department.pk in {g.department_id for g in scope.grants}


def can_read(subject, user):
    """The city reads every subject's reports; a county or department its own."""
    scope = scope_of(user)
    return scope.citywide or _own(subject, scope)


def can_write(subject, user):
    """Only the subject itself writes and sends its report: the county's officers, the department's staff."""
    return _own(subject, scope_of(user))


def _check_editable(report, user):
    if not can_write(subject_of(report), user):
        raise PermissionDenied(NOT_WRITER)


@transaction.atomic
def save_report(report, *, user, as_of, work_done, problems, next_steps, expected_version=None):
    """Keep what the county wrote (a draft, or a sent report corrected before the city reads it again)."""
    _check_editable(report, user)
    if as_of is None or as_of > timezone.localdate():
        raise ValidationError({"as_of": "数据截至日期不能为空，也不能晚于今天。"})
    if report.pk is not None:
        claim_version(report, expected_version, user=user)
    report.as_of = as_of
    report.work_done = (work_done or "").strip()
    report.problems = (problems or "").strip()
    report.next_steps = (next_steps or "").strip()
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def submit_report(report, *, user):
    """报送: the parts the county writes must be filled."""
    _check_editable(report, user)
    report = StatutoryReport.objects.select_for_update().get(pk=report.pk)
    missing = {
        field: f"请填写“{StatutoryReport._meta.get_field(field).verbose_name}”后再报送。"
        for field in ("work_done", "problems", "next_steps")
        if len(getattr(report, field).strip()) < 10
    }
    if missing:
        raise ValidationError(missing)
    old = report.status
    report.status = SubmissionStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.submitted_by = user
    report.version += 1
    report.save()
    record_status_change(
        report, user=user, from_value=old, to_value=SubmissionStatus.SUBMITTED, reason="报送市生态环境局"
    )
    return report
