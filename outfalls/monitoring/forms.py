"""Forms of the monitoring pages. They read and check what was typed; the rules are in services.py."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from outfalls.core.choices import Role
from outfalls.core.forms import BootstrapMixin, style_form
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.registry.models import DischargeUnit, Outfall, Section

from . import services
from .choices import InspectionResult, SampleSource, StationKind, Weather
from .models import Parameter, Standard, Station

FLOW_UNITS = [("m3/h", "m³/h"), ("m3/d", "m³/d"), ("L/s", "L/s"), ("m3/s", "m³/s"), ("t/d", "t/d")]


class SampleForm(BootstrapMixin, forms.Form):
    """One sample: where, when, who, and a value per parameter (value, unit; <0.05 or 0.05L below detection)."""

    outfall_code = forms.CharField(label="排污口编码", max_length=48, required=False)
    section = forms.ModelChoiceField(label="或：考核断面", queryset=Section.objects.none(), required=False)
    source = forms.ChoiceField(label="来源")
    sampled_at = forms.DateTimeField(
        label="采样时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label="采样地点", max_length=200, required=False)
    flow = forms.FloatField(label="流量", required=False, min_value=0)
    flow_unit = forms.ChoiceField(label="流量单位", choices=FLOW_UNITS, required=False, initial="m3/h")
    weather = forms.ChoiceField(label="天气", choices=Weather.choices, required=False)
    lab = forms.CharField(label="检测单位", max_length=100, required=False)
    lab_sample_id = forms.CharField(label="样品编号", max_length=64, required=False)
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(s, SampleSource(s).label) for s in services.allowed_sources(user)]
        if scope_of(user).can_edit_citywide:
            self.fields["section"].queryset = Section.objects.select_related("water_body").order_by(
                "water_body__name", "chainage_km"
            )
        else:
            del self.fields["section"]
        self.parameters = list(Parameter.objects.exclude(code="FLOW"))
        for p in self.parameters:
            self.fields[f"value_{p.code}"] = forms.CharField(
                label=p.name,
                required=False,
                max_length=32,
                help_text="未检出写作 <检出限 或 检出限L，如 <0.025",
            )
            self.fields[f"unit_{p.code}"] = forms.CharField(
                label=f"{p.name}单位", required=False, max_length=16, initial=p.unit
            )
        if not self.is_bound:
            self.initial.setdefault("sampled_at", timezone.localtime().replace(second=0, microsecond=0))
        style_form(self)

    def value_rows(self):
        return [(p, self[f"value_{p.code}"], self[f"unit_{p.code}"]) for p in self.parameters]

    def clean_outfall_code(self):
        code = (self.cleaned_data.get("outfall_code") or "").strip()
        if not code:
            return None
        outfall = (
            Outfall.objects.filter(code=code).first() or Outfall.objects.filter(national_code=code).first()
        )
        if outfall is None or not Outfall.objects.editable_by(self.user).filter(pk=outfall.pk).exists():
            raise forms.ValidationError(f"没有您可录入的编码为“{code}”的入河排污口。")
        return outfall

    def to_input(self):
        data = self.cleaned_data
        values = []
        for p in self.parameters:
            raw = (data.get(f"value_{p.code}") or "").strip()
            if raw:
                values.append(services.ValueInput(p, raw, (data.get(f"unit_{p.code}") or p.unit).strip()))
        return services.SampleInput(
            source=data["source"],
            sampled_at=data["sampled_at"],
            outfall=data.get("outfall_code"),
            section=data.get("section"),
            place=data.get("place") or "",
            flow=data.get("flow"),
            flow_unit=data.get("flow_unit") or "",
            weather=data.get("weather") or "",
            lab=data.get("lab") or "",
            lab_sample_id=data.get("lab_sample_id") or "",
            notes=data.get("notes") or "",
            values=values,
        )


class ImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="检测结果文件（.csv 或 .xlsx）")
    source = forms.ChoiceField(label="样品来源")
    lab = forms.CharField(
        label="检测单位", max_length=100, required=False, help_text="文件中没有“检测单位”列时使用"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(s, SampleSource(s).label) for s in services.allowed_sources(user)]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError("请上传 .csv 或 .xlsx 文件。")
        return upload


class AssignStandardForm(BootstrapMixin, forms.Form):
    standard = forms.ModelChoiceField(label="标准", queryset=Standard.objects.all())
    grade = forms.CharField(label="级别", max_length=8, help_text="如 1A、1B、1、2")
    reason = forms.CharField(label="依据", max_length=300)


class StationForm(BootstrapMixin, forms.ModelForm):
    outfall_code = forms.CharField(label="排污口编码", max_length=48, required=False)

    class Meta:
        model = Station
        fields = [
            "code",
            "name",
            "kind",
            "section",
            "mn",
            "password",
            "interval_minutes",
            "offline_after_minutes",
            "active",
            "notes",
        ]

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["kind"].initial = StationKind.ONLINE
        self.fields["section"].queryset = Section.objects.select_related("water_body")
        self.fields["section"].required = False
        if self.instance.outfall_id:
            self.initial["outfall_code"] = self.instance.outfall.code

    def clean_outfall_code(self):
        code = (self.cleaned_data.get("outfall_code") or "").strip()
        if not code:
            return None
        outfall = Outfall.objects.editable_by(self.user).filter(code=code).first()
        if outfall is None:
            raise forms.ValidationError(f"没有您可编辑的编码为“{code}”的入河排污口。")
        return outfall

    def clean(self):
        data = super().clean()
        if (data.get("outfall_code") is None) == (data.get("section") is None):
            raise forms.ValidationError("站点须设在一个入河排污口或一个考核断面（二选一）。")
        self.instance.outfall = data.get("outfall_code")
        return data


class DrawForm(BootstrapMixin, forms.Form):
    name = forms.CharField(
        label="抽查名称", max_length=100, help_text="如 2024年第二季度入河排污口双随机抽查"
    )
    period = forms.CharField(label="抽查周期", max_length=32, required=False, help_text="如 2024年第二季度")
    inspection_date = forms.DateField(
        label="检查日期", widget=forms.DateInput(attrs={"type": "date"}), help_text="该日前抽取结果保密"
    )
    county = forms.ModelChoiceField(
        label="县区", queryset=Jurisdiction.objects.none(), required=False, empty_label="全市"
    )
    seed = forms.CharField(
        label="随机种子", max_length=64, required=False, help_text="留空则自动生成；公开后任何人可凭种子复核"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        counties = Jurisdiction.objects.counties()
        if not scope.can_edit_citywide:
            counties = counties.filter(pk__in=scope.county_ids)
            self.fields["county"].required = True
            self.fields["county"].empty_label = None
        self.fields["county"].queryset = counties.order_by("code").only("name", "code")
        style_form(self)


class ResultForm(BootstrapMixin, forms.Form):
    result = forms.ChoiceField(label="检查结果", choices=[c for c in InspectionResult.choices if c[0]])
    note = forms.CharField(label="检查情况", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    inspected_on = forms.DateField(
        label="检查日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ExclusionForm(BootstrapMixin, forms.Form):
    inspector = forms.ModelChoiceField(label="检查人员", queryset=None)
    unit = forms.ModelChoiceField(label="排污单位", queryset=DischargeUnit.objects.all())
    reason = forms.CharField(label="回避理由", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, memberships__role__in=(Role.BUREAU, Role.COUNTY))
            .distinct()
            .order_by("username")
        )
        self.fields["inspector"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["unit"].queryset = DischargeUnit.objects.only("name").order_by("name")
        style_form(self)
