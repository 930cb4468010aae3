"""Forms of the setup review and the permit import. Rules live in services.py and the models."""

from django import forms

from outfalls.core.forms import BootstrapMixin, MultipleFileField
from outfalls.core.locking import VersionedFormMixin
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.registry.forms import TypedCoordinatesMixin, coord_crs_field, coord_text_field
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody, WaterFunctionZone

from .choices import ChangeItem, Opinion, Outcome
from .models import Consultation, SetupApplication

POLLUTANT_ROWS = 5
DATE = {"type": "date"}


class ApplicationForm(VersionedFormMixin, TypedCoordinatesMixin, BootstrapMixin, forms.ModelForm):
    """The application as its filer writes it: on a phone the fields stack in one column."""

    field_groups = [
        ("申请", ["kind", "change_items", "outfall", "applicant", "county", "authority", "national_basis"]),
        ("排污口", ["outfall_name", "type_level2", "type_level3", "entry_mode", "discharge_mode"]),
        ("位置与受纳水体", ["lon", "lat", "coord_text", "coord_crs", "water_body", "zone"]),
        ("排放", ["daily_volume_m3", "production_to_municipal", "exception_reason", "description"]),
    ]
    change_items = forms.MultipleChoiceField(
        label="改设内容", choices=ChangeItem.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    coord_text = coord_text_field()
    coord_crs = coord_crs_field()

    class Meta:
        model = SetupApplication
        fields = [
            "kind",
            "change_items",
            "outfall",
            "applicant",
            "county",
            "authority",
            "national_basis",
            "outfall_name",
            "type_level2",
            "type_level3",
            "entry_mode",
            "discharge_mode",
            "lon",
            "lat",
            "water_body",
            "zone",
            "daily_volume_m3",
            "production_to_municipal",
            "exception_reason",
            "description",
        ]
        widgets = {
            "lon": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "lat": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "daily_volume_m3": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "exception_reason": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self._relax_lon_lat()
        scope = scope_of(user)
        units = DischargeUnit.objects.visible_to(user).only("id", "name")
        if scope.unit_ids and not scope.county_ids and not scope.can_edit_citywide:
            units = units.filter(pk__in=scope.unit_ids)
            self.fields["applicant"].empty_label = None
        self.fields["applicant"].queryset = units.order_by("name")
        counties = Jurisdiction.objects.visible_to(user).counties().defer("boundary")
        if scope.county_ids and not scope.can_edit_citywide and not scope.unit_ids:
            counties = counties.filter(pk__in=scope.county_ids)
        self.fields["county"].queryset = counties
        self.fields["water_body"].queryset = WaterBody.objects.visible_to(user).defer("geometry")
        self.fields["zone"].queryset = WaterFunctionZone.objects.select_related("water_body").defer(
            "geometry", "water_body__geometry"
        )
        self.fields["outfall"].queryset = Outfall.objects.visible_to(user).only("id", "code", "name")
        self.fields["outfall"].label_from_instance = lambda o: f"{o.code} {o.name}"
        for name in ("exception_reason", "description"):
            self.fields[name].widget.attrs["rows"] = 2
        if not self.is_bound and self.instance.pk is None and units.count() == 1:
            unit = units.select_related(None).only("id", "county_id").first()
            self.initial.setdefault("applicant", unit.pk)
            self.initial.setdefault("county", unit.county_id)

    def clean(self):
        cleaned = super().clean()
        self._clean_typed_coordinates(cleaned)
        return cleaned


class PollutantForm(BootstrapMixin, forms.Form):
    parameter = forms.CharField(label="污染物", max_length=32, required=False)
    concentration = forms.FloatField(label="浓度", required=False, min_value=0)
    unit = forms.CharField(label="单位", max_length=16, required=False, initial="mg/L")
    annual_load_t = forms.FloatField(label="年排放量（吨）", required=False, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["placeholder"] = field.label
            field.widget.attrs["aria-label"] = field.label
            if name in ("concentration", "annual_load_t"):
                field.widget.attrs["inputmode"] = "decimal"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("parameter") and cleaned.get("concentration") is None:
            self.add_error("concentration", "请填写该污染物的排放浓度。")
        if cleaned.get("concentration") is not None and not cleaned.get("parameter"):
            self.add_error("parameter", "请填写污染物名称。")
        return cleaned


PollutantFormSet = forms.formset_factory(PollutantForm, extra=0, min_num=POLLUTANT_ROWS, max_num=20)


def pollutant_formset(data=None, application=None):
    initial = []
    if application is not None and application.pk:
        initial = [
            {
                "parameter": p.parameter,
                "concentration": p.concentration,
                "unit": p.unit,
                "annual_load_t": p.annual_load_t,
            }
            for p in application.pollutants.all()
        ]
    return PollutantFormSet(data, initial=initial or None, prefix="pollutants")


def pollutant_rows(formset):
    return [f.cleaned_data for f in formset.forms if f.cleaned_data.get("parameter")]


class MaterialFileForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="文件")


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label="转报意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConsultationForm(BootstrapMixin, forms.ModelForm):
    files = MultipleFileField(label="回复函（附件）")

    class Meta:
        model = Consultation
        fields = ["authority", "sent_on", "replied_on", "opinion", "reply"]
        widgets = {
            "sent_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "replied_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "reply": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opinion"].choices = [("", "（尚未回复）"), *Opinion.choices]


class DecisionForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(label="审核决定", choices=Outcome.choices)
    number = forms.CharField(label="文号", max_length=64, required=False, help_text="批复文号或备案编号")
    decided_on = forms.DateField(label="决定日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    conditions = forms.CharField(
        label="批复条件", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="每行一条"
    )
    conditions_due = forms.DateField(
        label="条件落实期限", required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )
    reasons = forms.CharField(label="不予批准理由", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    permit_number = forms.CharField(label="排污许可证编号", max_length=22, required=False)
    issuing_authority = forms.CharField(label="决定机关（国家审批时）", max_length=128, required=False)

    def __init__(self, *args, procedure=None, national=False, **kwargs):
        super().__init__(*args, **kwargs)
        if procedure is not None:
            from .choices import Procedure

            allowed = {Procedure.APPROVAL: (Outcome.APPROVE, Outcome.REFUSE)}.get(
                procedure, (Outcome.REGISTER, Outcome.REFUSE)
            )
            self.fields["outcome"].choices = [(o.value, o.label) for o in allowed]
        if not national:
            del self.fields["issuing_authority"]


class ConditionForm(BootstrapMixin, forms.Form):
    fulfilled_on = forms.DateField(label="落实日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    note = forms.CharField(label="落实情况", max_length=300, required=False)


class PermitImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="许可证文件", help_text=".xlsx 或 .csv（UTF-8 或 GBK），列见“导入说明”")
    dry_run = forms.BooleanField(label="只检查，不写入", required=False)
