"""超标通报: the monthly exceedance notice as .docx in the city's notice style (core/documents.py): per county and
per department, the outfalls over their limits with their values, compared with the month before.

The figures come from the findings (monitoring/exceedances.py) within the user's scope (``None``: the whole
city, for the management command). Only citywide roles make it (``can_make``).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, Q
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.documents import (  # noqa: F401  (DOCX_CONTENT_TYPE: the views name it here)
    DOCX_CONTENT_TYPE,
    LIST_SIZE,
    Notice,
    chinese_number,
)
from outfalls.core.models import Department, Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.registry.ledger_export import city_name
from outfalls.registry.models import Outfall

from .choices import FindingKind
from .models import Finding, HourValue, SampleValue
from .units import format_value

ADDRESSEES = "各县（区）人民政府，经开区管委会，市直有关部门："
SUMMARY_HEADER = [
    "序号",
    "县区",
    "监测排口数",
    "超标排口数",
    "超标项次",
    "持续超标",
    "缺测",
    "上月超标排口数",
    "变化",
]
# Column widths (mm, together the type area's 156).
SUMMARY_WIDTHS = (10, 28, 18, 18, 16, 16, 12, 22, 16)
LIST_HEADER = ["序号", "入河排污口名称及编码", "项目", "监测值", "限值", "超标倍数", "采样时间", "执行标准"]
LIST_WIDTHS = (8, 42, 16, 18, 16, 14, 18, 24)
LISTED = 200  # exceedances listed per county at most (the rest are counted)


def can_make(user):
    return scope_of(user).citywide


def month_bounds(year, month):
    zone = timezone.get_current_timezone()
    start = datetime.combine(date(year, month, 1), time.min, tzinfo=zone)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, datetime.combine(following, time.min, tzinfo=zone)


def previous_month(year, month):
    return (year - 1, 12) if month == 1 else (year, month - 1)


def parse_month(text):
    """ "2024-03" → (2024, 3); ValueError with a Chinese message."""
    try:
        year, month = (int(part) for part in str(text).split("-"))
        date(year, month, 1)
    except (TypeError, ValueError):
        raise ValueError(f"月份“{str(text)[:20]}”无法识别，请写作 YYYY-MM，如 2024-03。") from None
    if not 1990 <= year <= 2100:
        raise ValueError("月份应在 1990 年至 2100 年之间。")
    return year, month


def filename(year, month):
    return f"入河排污口超标排放情况通报-{year}年{month:02d}月.docx"


@dataclass
class Row:
    name: str
    monitored: int = 0
    exceeded: int = 0  # outfalls with at least one exceedance
    times: int = 0  # exceedances (项次)
    chronic: int = 0
    missing: int = 0
    last_exceeded: int = 0

    @property
    def change(self):
        diff = self.exceeded - self.last_exceeded
        return f"+{diff}" if diff > 0 else str(diff)


@dataclass
class Figures:
    year: int
    month: int
    total: Row
    counties: list = field(default_factory=list)
    departments: list = field(default_factory=list)
    listed: dict = field(default_factory=dict)  # county name -> [Finding]
    more: dict = field(default_factory=dict)  # county name -> how many not listed


def _outfalls(user):
    return Outfall.objects.all() if user is None else Outfall.objects.visible_to(user)


def _period_counts(outfalls, start, end):
    """(monitored outfall ids, {outfall id: exceedances}, chronic ids, missing ids) in [start, end)."""
    ids = outfalls.values("pk")
    monitored = set(
        SampleValue.objects.filter(outfall_id__in=ids, sampled_at__gte=start, sampled_at__lt=end).values_list(
            "outfall_id", flat=True
        )
    )
    monitored |= set(
        HourValue.objects.filter(outfall_id__in=ids, at__gte=start, at__lt=end).values_list(
            "outfall_id", flat=True
        )
    )
    in_month = Finding.objects.filter(outfall_id__in=ids, at__gte=start, at__lt=end)
    times = dict(
        in_month.filter(kind=FindingKind.EXCEEDANCE)
        .values_list("outfall_id")
        .annotate(n=Count("id"))
        .values_list("outfall_id", "n")
    )
    chronic = set(
        Finding.objects.filter(outfall_id__in=ids, kind=FindingKind.CHRONIC)
        .filter(Q(at__lt=end) & (Q(period_end__gte=start) | Q(at__gte=start)))
        .values_list("outfall_id", flat=True)
    )
    missing = set(in_month.filter(kind=FindingKind.MISSING).values_list("outfall_id", flat=True))
    return monitored, times, chronic, missing


def _fill(row, ids, monitored, times, chronic, missing, last_times):
    row.monitored = len(ids & monitored)
    row.exceeded = len(ids & set(times))
    row.times = sum(times.get(i, 0) for i in ids)
    row.chronic = len(ids & chronic)
    row.missing = len(ids & missing)
    row.last_exceeded = len(ids & set(last_times))
    return row


def notice_figures(user, year, month):
    outfalls = _outfalls(user)
    start, end = month_bounds(year, month)
    last_start, last_end = month_bounds(*previous_month(year, month))
    monitored, times, chronic, missing = _period_counts(outfalls, start, end)
    _, last_times, _, _ = _period_counts(outfalls, last_start, last_end)
    places = list(outfalls.values_list("pk", "county_id", "type_level2"))
    all_ids = {pk for pk, _, _ in places}
    figures = Figures(
        year, month, _fill(Row("合计"), all_ids, monitored, times, chronic, missing, last_times)
    )
    by_county = {}
    for pk, county_id, _ in places:
        by_county.setdefault(county_id, set()).add(pk)
    counties = (
        Jurisdiction.objects.filter(level__in=COUNTY_LEVELS, pk__in=by_county).order_by("code").only("name")
    )
    for county in counties:
        figures.counties.append(
            _fill(Row(county.name), by_county[county.pk], monitored, times, chronic, missing, last_times)
        )
    for department in Department.objects.exclude(responsible_types=[]).order_by("order", "name"):
        types = set(department.responsible_types)
        ids = {pk for pk, _, level2 in places if level2 in types}
        if ids:
            figures.departments.append(
                _fill(Row(department.name), ids, monitored, times, chronic, missing, last_times)
            )
    exceedances = (
        Finding.objects.filter(
            outfall_id__in=outfalls.values("pk"), kind=FindingKind.EXCEEDANCE, at__gte=start, at__lt=end
        )
        .select_related("outfall", "outfall__county", "parameter")
        .order_by("outfall__county__code", "outfall__code", "at")
    )
    for finding in exceedances:
        county = finding.outfall.county.name
        listed = figures.listed.setdefault(county, [])
        if len(listed) < LISTED:
            listed.append(finding)
        else:
            figures.more[county] = figures.more.get(county, 0) + 1
    return figures


def _trend(now, last):
    if now > last:
        return f"较上月增加 {now - last} 个（上月 {last} 个）"
    if now < last:
        return f"较上月减少 {last - now} 个（上月 {last} 个）"
    return f"与上月持平（上月 {last} 个）"


def body_text(figures):
    t = figures.total
    city = city_name() or "全市"
    text = (
        f"{figures.year}年{figures.month}月，{city}共监测入河排污口 {t.monitored} 个，"
        f"其中超标排放的 {t.exceeded} 个、超标 {t.times} 项次，{_trend(t.exceeded, t.last_exceeded)}；"
        f"持续超标的排污口 {t.chronic} 个；未按要求开展自行监测（缺测）的 {t.missing} 个。"
    )
    worst = sorted((r for r in figures.counties if r.exceeded), key=lambda r: (-r.exceeded, -r.times))[:3]
    if worst:
        text += (
            "超标排污口较多的县区为："
            + "、".join(f"{r.name}（{r.exceeded}个，{r.times}项次）" for r in worst)
            + "。"
        )
    else:
        text += "本月未发现超标排放的入河排污口。"
    return text


def _value(finding):
    return format_value(finding.value)


def build_notice(user, year, month, *, today=None, number=None):
    """The notice as .docx bytes (core/documents.py's GB/T 9704 layout). `number`: the serial of its document
    number (发文字号), if known."""
    figures = notice_figures(user, year, month)
    notice = Notice(city=city_name(), today=today or timezone.localdate(), number=number)
    notice.head(f"关于{figures.year}年{figures.month}月入河排污口超标排放情况的通报", ADDRESSEES)
    notice.body(body_text(figures))

    def summary(rows):
        return [
            (i, r.name, r.monitored, r.exceeded, r.times, r.chronic, r.missing, r.last_exceeded, r.change)
            for i, r in enumerate(rows, 1)
        ]

    notice.heading("一、各县区超标情况")
    notice.table(SUMMARY_HEADER, summary([*figures.counties, figures.total]), SUMMARY_WIDTHS)
    notice.heading("二、各行业主管部门负责的排口超标情况")
    notice.table(
        ["部门" if i == 1 else h for i, h in enumerate(SUMMARY_HEADER)],
        summary(figures.departments),
        SUMMARY_WIDTHS,
        left={1},
    )
    notice.heading("三、超标排污口及监测值")
    if not figures.listed:
        notice.body("无。")
    for number_in_list, (county, findings) in enumerate(figures.listed.items(), 1):
        outfalls = len({f.outfall_id for f in findings})
        notice.subheading(f"（{chinese_number(number_in_list)}）{county}（{outfalls}个）")
        notice.table(
            LIST_HEADER,
            [
                (
                    i,
                    [f.outfall.name, f.outfall.code],
                    f.parameter.name,
                    f"{_value(f)} {f.unit}",
                    f.limit_text,
                    "—" if f.multiple is None else f"{f.multiple:.2f}",
                    timezone.localtime(f.at).strftime("%Y-%m-%d %H:%M").split(" "),
                    f.limit_source,
                )
                for i, f in enumerate(findings, 1)
            ],
            LIST_WIDTHS,
            size=LIST_SIZE,
            left={1, 7},
        )
        if figures.more.get(county):
            notice.body(f"另有 {figures.more[county]} 项次超标，见平台超标清单。")
    notice.heading("四、有关要求")
    notice.body(
        "请各县（区）和有关部门督促超标排污口的责任主体立即查明原因、限期整改，持续超标的依法查处；"
        f"未按要求开展自行监测的，责令补测并依法处理。整改情况于下月10日前报{notice.issuer}。"
        "监测数据及判定依据见入河排污口监督管理平台。"
    )
    return notice.finish()
