"""Forms for the ledger. Validation rules live on the models (clean) and in services."""

from django import forms

from outfalls.core.choices import AttachmentKind
from outfalls.core.forms import BootstrapMixin
from outfalls.core.models import Jurisdiction

from .choices import LifecycleStatus, LinkRole
from .models import DischargeUnit, Outfall, WaterBody


def _place_choices(user, level):
    return (
        Jurisdiction.objects.visible_to(user)
        .filter(level=level)
        .select_related("county", "parent")
        .defer("boundary", "county__boundary", "parent__boundary")
    )


class PlaceLabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.level == "village":
            return f"{obj.county.name if obj.county else ''} / {obj.parent.name} / {obj.name}"
        return f"{obj.county.name if obj.county else ''} / {obj.name}"


class OutfallForm(BootstrapMixin, forms.ModelForm):
    # Grouped as the attachment-1 summary table groups its columns.
    field_groups = [
        ("区位信息", ["water_body", "section_interval", "county", "town", "village"]),
        (
            "排污口信息",
            [
                "name_auto",
                "name",
                "landmark",
                "number",
                "national_code",
                "lon",
                "lat",
                "entry_mode",
                "outlet_position",
                "outlet_description",
                "type_code",
                "type_level2",
                "type_level3",
                "status",
            ],
        ),
        ("引流设施", ["conveyance"]),
        ("排污单位信息", ["responsible_entity", "responsibility_basis", "responsibility_note"]),
        (
            "整治与管理",
            [
                "rectification_measure",
                "rectification_status",
                "registered",
                "approval_date",
                "approval_number",
                "permit_number",
                "sign_installed",
                "notes",
            ],
        ),
    ]
    town = PlaceLabelChoiceField(queryset=Jurisdiction.objects.none(), required=False, label="乡镇（街道）")
    village = PlaceLabelChoiceField(queryset=Jurisdiction.objects.none(), required=False, label="村（社区）")

    class Meta:
        model = Outfall
        fields = [
            "name_auto",
            "name",
            "landmark",
            "number",
            "national_code",
            "type_code",
            "type_level2",
            "type_level3",
            "county",
            "town",
            "village",
            "lon",
            "lat",
            "water_body",
            "section_interval",
            "entry_mode",
            "outlet_position",
            "outlet_description",
            "conveyance",
            "responsible_entity",
            "responsibility_basis",
            "responsibility_note",
            "status",
            "rectification_measure",
            "rectification_status",
            "registered",
            "approval_date",
            "approval_number",
            "permit_number",
            "sign_installed",
            "notes",
        ]
        widgets = {
            "approval_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "lon": forms.NumberInput(attrs={"step": "0.000001"}),
            "lat": forms.NumberInput(attrs={"step": "0.000001"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        counties = Jurisdiction.objects.visible_to(user).counties().defer("boundary")
        self.fields["county"].queryset = counties
        self.fields["town"].queryset = _place_choices(user, "town")
        self.fields["village"].queryset = _place_choices(user, "village")
        self.fields["water_body"].queryset = WaterBody.objects.visible_to(user).defer("geometry")
        self.fields["responsible_entity"].queryset = DischargeUnit.objects.visible_to(user).only("id", "name")
        self.fields["name"].required = False
        self.fields[
            "name"
        ].help_text = "勾选“按规则自动命名”时按 HJ 1235 由行政区划名＋地标或单位名＋编号＋类型名生成"
        if self.instance.pk:
            # The lifecycle status moves only through its workflow step (the status form on the detail page).
            del self.fields["status"]
        else:
            self.fields["status"].choices = [
                (s.value, s.label)
                for s in (
                    LifecycleStatus.SUSPECTED,
                    LifecycleStatus.VERIFIED,
                    LifecycleStatus.TRACED,
                    LifecycleStatus.CLASSIFIED,
                )
            ]

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("name") or "").strip()
        if name and cleaned.get("name_auto") and (not self.instance.pk or name != self.instance.name):
            # A typed or hand-edited name wins over the generated one.
            cleaned["name_auto"] = False
            self.instance.name_auto = False
        return cleaned


class StatusForm(BootstrapMixin, forms.Form):
    to_status = forms.ChoiceField(label="变更为", choices=[])
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 2}), required=True)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(c.value, c.label) for c in choices]


class UnitLinkForm(BootstrapMixin, forms.Form):
    unit = forms.ModelChoiceField(queryset=DischargeUnit.objects.none(), label="排污单位")
    role = forms.ChoiceField(choices=LinkRole.choices, label="关系")
    via_channel = forms.CharField(label="经由通道", required=False, max_length=128)
    share_note = forms.CharField(label="责任分担说明", required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = DischargeUnit.objects.visible_to(user).only("id", "name")


class AttachmentForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(choices=AttachmentKind.choices, label="类别")
    title = forms.CharField(label="说明", required=False, max_length=200)
    file = forms.FileField(label="文件")


class DischargeUnitForm(BootstrapMixin, forms.ModelForm):
    field_groups = [
        ("基本信息", ["name", "credit_code", "kind", "industry", "park"]),
        ("位置", ["county", "town", "address", "lon", "lat"]),
        ("许可与联系", ["permit_number", "contact", "phone", "notes"]),
    ]
    town = PlaceLabelChoiceField(queryset=Jurisdiction.objects.none(), required=False, label="乡镇（街道）")

    class Meta:
        model = DischargeUnit
        fields = [
            "name",
            "credit_code",
            "kind",
            "industry",
            "park",
            "county",
            "town",
            "address",
            "lon",
            "lat",
            "permit_number",
            "contact",
            "phone",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = Jurisdiction.objects.visible_to(user).counties().defer("boundary")
        self.fields["town"].queryset = _place_choices(user, "town")

    def clean_credit_code(self):
        value = (self.cleaned_data.get("credit_code") or "").strip().upper()
        return value or None
