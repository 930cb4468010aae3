"""Forms of the enforcement pages. They read what a person typed; the rules are in services.py."""

import re

from django import forms
from django.db.models import Q
from django.utils import timezone

from outfalls.core.choices import AttachmentKind
from outfalls.core.forms import BootstrapMixin, MultipleFileField
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.geo import tracks as tracks_geo
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody

from . import patrols
from .choices import CaseKind, CaseStatus, Outcome
from .services import EVIDENCE_KINDS, reportable_outfalls

SEPARATORS = re.compile(r"[\s,，、;；]+")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _words(text):
    return [w for w in SEPARATORS.split(text or "") if w]


def outfalls_by_code(text, user):
    """The outfalls named by code (local or national) in text, among those the user sees; a form error names
    every code not found."""
    codes = _words(text)
    if not codes:
        return []
    found = {}
    for outfall in Outfall.objects.visible_to(user).filter(Q(code__in=codes) | Q(national_code__in=codes)):
        found[outfall.code] = outfall
        if outfall.national_code:
            found[outfall.national_code] = outfall
    missing = [c for c in codes if c not in found]
    if missing:
        raise forms.ValidationError(f"找不到排口编码 {'、'.join(missing[:10])}，或不在您的范围内。")
    return list({found[c].pk: found[c] for c in codes}.values())


def units_by_name(text, user):
    """The units named (one a line: the name, or the unified social credit code) among those the user sees."""
    names = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not names:
        return []
    visible = DischargeUnit.objects.visible_to(user)
    found = {}
    for unit in visible.filter(Q(name__in=names) | Q(credit_code__in=names)):
        found[unit.name] = unit
        if unit.credit_code:
            found[unit.credit_code] = unit
    missing = [n for n in names if n not in found]
    if missing:
        raise forms.ValidationError(
            f"找不到单位“{'”“'.join(missing[:10])}”，或不在您的范围内；请按台账中的单位名称填写。"
        )
    return list({found[n].pk: found[n] for n in names}.values())


class CaseOpenForm(BootstrapMixin, forms.Form):
    """立案. The source (a report, a tracing case...) travels as hidden fields; its facts fill the form."""

    field_groups = [
        ("案件", ["kind", "county", "opened_on", "summary"]),
        ("涉及对象", ["outfall_codes", "unit_names"]),
    ]
    source = forms.CharField(widget=forms.HiddenInput, required=False)
    source_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label="案件类型", choices=[("", "请选择"), *CaseKind.choices])
    county = forms.ModelChoiceField(
        label="属地县区", queryset=Jurisdiction.objects.none(), empty_label="请选择"
    )
    opened_on = forms.DateField(label="立案日期", widget=DATE)
    summary = forms.CharField(label="案情摘要", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    outfall_codes = forms.CharField(
        label="涉及排污口",
        required=False,
        help_text="排口编码，多个用逗号或空格分隔",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    unit_names = forms.CharField(
        label="涉及单位",
        required=False,
        help_text="单位名称或统一社会信用代码，一行一个",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        scope = scope_of(user)
        counties = Jurisdiction.objects.counties().defer("boundary").order_by("code")
        if not scope.can_edit_citywide:
            counties = counties.filter(pk__in=sorted(scope.county_ids))
        self.fields["county"].queryset = counties
        self.initial.setdefault("opened_on", timezone.localdate())

    def clean_outfall_codes(self):
        return outfalls_by_code(self.cleaned_data.get("outfall_codes"), self.user)

    def clean_unit_names(self):
        return units_by_name(self.cleaned_data.get("unit_names"), self.user)


class StepForm(BootstrapMixin, forms.Form):
    """One step of a case: its date and what it records (the fields the step needs, STEP_FIELDS)."""

    on = forms.DateField(label="日期", widget=DATE)
    findings = forms.CharField(label="调查情况", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    unit_names = forms.CharField(
        label="涉及单位（调查确定）",
        required=False,
        help_text="单位名称或统一社会信用代码，一行一个；留空则不变",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notice = forms.CharField(
        label="告知内容",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="拟作出处罚的事实、理由、依据，及当事人陈述、申辩和要求听证的权利",
    )
    outcome = forms.ChoiceField(label="决定结果", choices=[("", "请选择"), *Outcome.choices], required=False)
    decision_number = forms.CharField(label="决定书文号", max_length=64, required=False)
    penalty_amount = forms.DecimalField(
        label="罚款金额（元）", required=False, min_value=0, max_digits=12, decimal_places=2
    )
    legal_basis = forms.CharField(
        label="法律依据",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="如《中华人民共和国水污染防治法》第八十四条第一款",
    )
    enforcement = forms.CharField(label="执行情况", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    closing_note = forms.CharField(label="结案说明", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # The fields each step shows (the date and the version always).
    SHOWN = {
        CaseStatus.INVESTIGATED: ["findings", "unit_names"],
        CaseStatus.NOTIFIED: ["notice"],
        CaseStatus.DECIDED: ["outcome", "decision_number", "penalty_amount", "legal_basis"],
        CaseStatus.ENFORCED: ["enforcement"],
        CaseStatus.CLOSED: ["closing_note"],
    }

    def __init__(self, *args, status, user, **kwargs):
        kwargs.setdefault("prefix", status)
        super().__init__(*args, **kwargs)
        self.status, self.user = status, user
        keep = {"on", "version", *self.SHOWN[status]}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self.fields["on"].label = {
            CaseStatus.INVESTIGATED: "调查终结日期",
            CaseStatus.NOTIFIED: "告知日期",
            CaseStatus.DECIDED: "决定日期",
            CaseStatus.ENFORCED: "执行日期",
            CaseStatus.CLOSED: "结案日期",
        }[status]
        self.initial.setdefault("on", timezone.localdate())

    def clean_unit_names(self):
        text = self.cleaned_data.get("unit_names")
        return units_by_name(text, self.user) if (text or "").strip() else None

    def step_fields(self):
        """The cleaned values as services.record_step takes them."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if "unit_names" in data:
            data["units"] = data.pop("unit_names")
        return data


class EvidenceForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label="证据类别",
        choices=[(k, AttachmentKind(k).label) for k in EVIDENCE_KINDS],
        initial=AttachmentKind.PHOTO_CLOSE,
    )
    title = forms.CharField(label="证据说明", max_length=200, help_text="如“5月3日排口采样检测报告”")
    file = forms.FileField(label="文件")


class EntityReportForm(BootstrapMixin, forms.Form):
    """借道排污 as a responsible entity reports it from its own account."""

    unit = forms.ModelChoiceField(label="报告单位", queryset=DischargeUnit.objects.none(), empty_label=None)
    outfall = forms.ModelChoiceField(
        label="被借道的排污口", queryset=Outfall.objects.none(), empty_label="请选择"
    )
    found_on = forms.DateField(label="发现日期", widget=DATE)
    suspect = forms.CharField(
        label="疑似借道单位或个人", max_length=128, required=False, help_text="知道的写明，不知道可空"
    )
    description = forms.CharField(
        label="发现情况",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="时间、位置、排放情况（颜色、气味、流量），以及如何发现的",
    )
    files = MultipleFileField(label="证据（照片、检测报告）", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = DischargeUnit.objects.filter(pk__in=sorted(scope_of(user).unit_ids))
        outfalls = reportable_outfalls(user).only("id", "code", "name").order_by("code")
        self.fields["outfall"].queryset = outfalls
        self.fields["outfall"].label_from_instance = lambda o: f"{o.code} {o.name}"
        self.initial.setdefault("found_on", timezone.localdate())


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label="不予立案理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class PatrolForm(BootstrapMixin, forms.Form):
    """巡河记录: the river, the county, the day, who walked, the track file from the phone, what was seen."""

    water_body = forms.ModelChoiceField(
        label="巡查河流", queryset=WaterBody.objects.none(), empty_label="请选择"
    )
    county = forms.ModelChoiceField(label="县区", queryset=Jurisdiction.objects.none(), empty_label="请选择")
    patrolled_on = forms.DateField(label="巡查日期", widget=DATE)
    participants = forms.CharField(
        label="巡查人员", max_length=200, required=False, help_text="姓名，以顿号分隔"
    )
    track_file = forms.FileField(
        label="巡查轨迹",
        required=False,
        help_text="手机导出的 GPX、KML 或 GeoJSON 轨迹文件（可不传）",
    )
    note = forms.CharField(
        label="巡查情况", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        rivers = patrols.rivers_for(user).order_by("code")
        self.fields["water_body"].queryset = rivers
        counties = patrols.counties_for(user)
        self.fields["county"].queryset = counties
        self.initial.setdefault("patrolled_on", timezone.localdate())
        for name, queryset in (("water_body", rivers), ("county", counties)):
            if name not in self.initial and queryset.count() == 1:
                self.initial[name] = queryset.first().pk

    def clean_track_file(self):
        upload = self.cleaned_data.get("track_file")
        if not upload:
            return None
        try:
            return tracks_geo.read_track_file(upload.name, upload.read(tracks_geo.TRACK_FILE_MAX_BYTES + 1))
        except tracks_geo.TrackError as error:
            raise forms.ValidationError(error.message) from None


class FindingForm(BootstrapMixin, forms.Form):
    outfall_code = forms.CharField(
        label="排污口编码", required=False, help_text="台账中的排口填编码；不在台账中的填经纬度"
    )
    lon = forms.FloatField(
        label="经度",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
    )
    lat = forms.FloatField(
        label="纬度",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
    )
    description = forms.CharField(
        label="发现的问题", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = MultipleFileField(label="照片", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_outfall_code(self):
        found = outfalls_by_code(self.cleaned_data.get("outfall_code"), self.user)
        if len(found) > 1:
            raise forms.ValidationError("一条发现只填一个排污口编码。")
        return found[0] if found else None
