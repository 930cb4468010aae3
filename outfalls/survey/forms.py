"""Forms of the 排查 pages and the phone's field-check record (validated the same way when it arrives later)."""

import json

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from outfalls.core.choices import Role
from outfalls.core.forms import BootstrapMixin, preselect_only_choice
from outfalls.core.locking import VersionedFormMixin
from outfalls.core.models import Department, Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.geo.coords import CRS_CHOICES
from outfalls.geo.shapes import length_km, shape_of
from outfalls.registry.choices import EntryMode
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall, WaterBody

from .choices import (
    Bank,
    Colour,
    FlowState,
    Odour,
    PointOutcome,
    PointSource,
    PositionSource,
    Turbidity,
)
from .models import Campaign, CampaignReach, SuspectedPoint
from .services import clean_staff


def county_choices(user):
    counties = Jurisdiction.objects.counties().defer("boundary").order_by("code")
    scope = scope_of(user)
    if scope.can_edit_citywide:
        return counties
    return counties.filter(pk__in=sorted(scope.county_ids))


def team_choices(user):
    """Accounts that may join a campaign's team: county staff in the user's counties (every county and the
    city's editors for a city editor)."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    scope = scope_of(user)
    if scope.can_edit_citywide:
        return users.filter(memberships__role__in=[Role.COUNTY, Role.BUREAU, Role.CITY_ADMIN]).distinct()
    return users.filter(
        memberships__role=Role.COUNTY, memberships__jurisdiction__county_id__in=sorted(scope.county_ids)
    ).distinct()


class CampaignForm(VersionedFormMixin, BootstrapMixin, forms.ModelForm):
    field_groups = [
        ("任务", ["name", "county", "water_bodies", "status"]),
        ("组织", ["department", "lead_unit", "team_names", "team", "start_date", "deadline"]),
        ("说明", ["notes"]),
    ]

    class Meta:
        model = Campaign
        fields = [
            "name",
            "county",
            "water_bodies",
            "status",
            "department",
            "lead_unit",
            "team_names",
            "team",
            "start_date",
            "deadline",
            "notes",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "water_bodies": forms.SelectMultiple(attrs={"size": 6}),
            "team": forms.SelectMultiple(attrs={"size": 4}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = county_choices(user)
        self.fields["water_bodies"].queryset = WaterBody.objects.defer("geometry").order_by("name")
        self.fields["department"].queryset = Department.objects.order_by("name")
        self.fields["team"].queryset = team_choices(user)
        self.fields["team"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["team"].help_text = "可选：参与排查的平台账号（县区及市级人员）"
        self.fields["water_bodies"].required = True
        self.fields["water_bodies"].error_messages["required"] = "请至少选择一条排查河流。"
        self.fields["name"].error_messages["required"] = "请填写任务名称。"
        self.fields["deadline"].error_messages["required"] = "请填写完成期限。"
        self.fields["county"].error_messages["required"] = "请选择县区。"
        preselect_only_choice(self, "county")

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("deadline") and data["deadline"] < data["start_date"]:
            self.add_error("deadline", "完成期限不能早于开始日期。")
        return data


class ReachForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = CampaignReach
        fields = ["water_body", "name", "from_km", "to_km", "bank"]

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        rivers = list(campaign.water_bodies.order_by("name"))
        self.fields["water_body"].queryset = campaign.water_bodies.defer("geometry").order_by("name")
        lengths = []
        for river in rivers:
            if river.geometry:
                try:
                    lengths.append(f"{river.name}全长约 {length_km(shape_of(river.geometry)):.1f} 公里")
                except ValueError:
                    continue
        self.fields["to_km"].help_text = "自河源起算。" + "；".join(lengths)
        self.fields["from_km"].error_messages["required"] = "请填写起点（公里）。"
        self.fields["to_km"].error_messages["required"] = "请填写终点（公里）。"
        self.fields["water_body"].error_messages["required"] = "请选择河流。"

    def clean(self):
        data = super().clean()
        if (
            data.get("from_km") is not None
            and data.get("to_km") is not None
            and data["to_km"] <= data["from_km"]
        ):
            self.add_error("to_km", "终点（公里）须大于起点（公里）。")
        return data


IMPORT_CRS_CHOICES = CRS_CHOICES


class PointImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="疑似点文件",
        help_text="CSV（UTF-8 或 GBK，列：编号、经度、纬度、说明、河流）、GeoJSON 或 KML",
        error_messages={"required": "请选择要导入的文件。"},
    )
    crs = forms.ChoiceField(label="坐标系", choices=IMPORT_CRS_CHOICES, initial="cgcs2000")
    source = forms.ChoiceField(
        label="来源",
        choices=[
            (c.value, c.label) for c in (PointSource.UAV, PointSource.REMOTE_SENSING, PointSource.REPORT)
        ],
    )


class DecisionForm(BootstrapMixin, forms.Form):
    """Level 3 (专家研判) on the point's page."""

    outcome = forms.ChoiceField(
        label="研判结论",
        choices=[
            ("", "请选择"),
            *[
                (c.value, c.label)
                for c in (PointOutcome.CONFIRMED, PointOutcome.DUPLICATE, PointOutcome.NOT_OUTFALL)
            ],
        ],
        error_messages={"required": "请选择研判结论。"},
    )
    duplicate_of = forms.ModelChoiceField(
        label="重复的已有排口", queryset=Outfall.objects.none(), required=False
    )
    water_body = forms.ModelChoiceField(label="受纳水体", queryset=WaterBody.objects.none(), required=False)
    landmark = forms.CharField(
        label="地标或单位名", max_length=64, required=False, help_text="确认为排口时用于命名"
    )
    type_code = forms.ChoiceField(label="排口类型", choices=TypeCode.choices, initial=TypeCode.UNDETERMINED)
    experts = forms.CharField(label="研判专家", max_length=200, help_text="姓名，以顿号分隔")
    note = forms.CharField(label="研判意见", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, point, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duplicate_of"].queryset = Outfall.objects.filter(pk__in=[o.pk for o in candidates])
        self.fields["duplicate_of"].label_from_instance = lambda o: f"{o.name}（{o.code}）"
        self.fields["water_body"].queryset = point.campaign.water_bodies.defer("geometry")
        self.fields["water_body"].initial = point.water_body_id
        self.fields["experts"].error_messages["required"] = "请填写研判专家姓名。"
        self.fields["note"].error_messages["required"] = "请填写研判意见。"

    def clean(self):
        data = super().clean()
        if data.get("outcome") == PointOutcome.DUPLICATE and not data.get("duplicate_of"):
            self.add_error("duplicate_of", "判定为重复时须选择已有排口。")
        if data.get("outcome") == PointOutcome.CONFIRMED:
            if not data.get("water_body"):
                self.add_error("water_body", "确认为排口时须选择受纳水体。")
            if not (data.get("landmark") or "").strip():
                self.add_error("landmark", "确认为排口时须填写地标或单位名。")
        return data


class ReopenForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label="重新打开原因", max_length=300, error_messages={"required": "请填写原因。"}
    )


class FieldCheckForm(forms.Form):
    """The phone's record (JSON), checked on arrival; messages name the field in Chinese."""

    client_uuid = forms.UUIDField(label="记录标识", error_messages={"invalid": "记录标识无效。"})
    point = forms.ModelChoiceField(label="疑似点", queryset=SuspectedPoint.objects.none(), required=False)
    checked_at = forms.DateTimeField(label="核查时间", required=False)
    lon = forms.FloatField(label="经度", min_value=73, max_value=136)
    lat = forms.FloatField(label="纬度", min_value=3, max_value=54)
    accuracy_m = forms.FloatField(label="定位精度", required=False, min_value=0)
    position_source = forms.ChoiceField(label="位置来源", choices=PositionSource.choices)
    flow = forms.ChoiceField(label="排水特征", choices=FlowState.choices)
    dry_weather = forms.BooleanField(label="旱天", required=False)
    colour = forms.ChoiceField(label="颜色", choices=[("", "")] + Colour.choices, required=False)
    odour = forms.ChoiceField(label="气味", choices=[("", "")] + Odour.choices, required=False)
    turbidity = forms.ChoiceField(label="浊度", choices=[("", "")] + Turbidity.choices, required=False)
    oil_film = forms.BooleanField(label="有油膜", required=False)
    foam = forms.BooleanField(label="有泡沫", required=False)
    sampling_possible = forms.BooleanField(label="具备采样条件", required=False)
    outlet_form = forms.ChoiceField(label="口门形态", choices=[("", "")] + EntryMode.choices, required=False)
    outlet_size = forms.CharField(label="口门尺寸", max_length=64, required=False)
    entry_mode = forms.ChoiceField(label="入河方式", choices=[("", "")] + EntryMode.choices, required=False)
    suspected_source = forms.CharField(label="疑似来源", max_length=200, required=False)
    notes = forms.CharField(label="备注", required=False)
    staff = forms.JSONField(label="核查人员", required=False)
    outcome = forms.ChoiceField(
        label="核查结论",
        choices=[(c.value, c.label) for c in PointOutcome if c != PointOutcome.PENDING],
    )
    duplicate_of = forms.ModelChoiceField(
        label="重复的已有排口", queryset=Outfall.objects.none(), required=False
    )
    water_body = forms.ModelChoiceField(label="受纳水体", queryset=WaterBody.objects.none(), required=False)
    landmark = forms.CharField(label="地标或单位名", max_length=64, required=False)
    town = forms.ModelChoiceField(label="乡镇（街道）", queryset=Jurisdiction.objects.none(), required=False)
    village = forms.ModelChoiceField(label="村（社区）", queryset=Jurisdiction.objects.none(), required=False)
    type_code = forms.ChoiceField(label="排口类型", choices=TypeCode.choices, required=False)
    decision_note = forms.CharField(label="结论说明", required=False)

    def __init__(self, *args, campaign, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        for field in self.fields.values():
            field.error_messages["required"] = f"请填写{field.label}。"
            field.error_messages["invalid_choice"] = f"{field.label}的取值无效。"
        self.fields["point"].queryset = campaign.points.all()
        self.fields["duplicate_of"].queryset = Outfall.objects.visible_to(user)
        self.fields["water_body"].queryset = WaterBody.objects.all()
        places = Jurisdiction.objects.filter(county_id=campaign.county_id).defer("boundary")
        self.fields["town"].queryset = places.filter(level="town")
        self.fields["village"].queryset = places.filter(level="village")
        self.fields["lon"].error_messages.update(min_value="经度超出范围。", max_value="经度超出范围。")
        self.fields["lat"].error_messages.update(min_value="纬度超出范围。", max_value="纬度超出范围。")

    def clean_staff(self):
        value = self.cleaned_data.get("staff")
        if isinstance(value, str):
            value = [value]
        try:
            return clean_staff(value or [])
        except ValidationError as error:
            raise ValidationError(error.message_dict["staff"])

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == PointOutcome.DUPLICATE and not data.get("duplicate_of"):
            self.add_error("duplicate_of", "判定为重复时须选择已有排口。")
        if outcome == PointOutcome.CONFIRMED:
            if not (data.get("water_body") or (data.get("point") and data["point"].water_body_id)):
                self.add_error("water_body", "确认为排口时须选择受纳水体。")
            if not (data.get("landmark") or "").strip():
                self.add_error("landmark", "确认为排口时须填写地标或单位名（用于排口命名）。")
        if data.get("village") and not data.get("town"):
            data["town"] = data["village"].parent
        if data.get("outlet_form"):
            data["outlet_form_label"] = EntryMode(data["outlet_form"]).label
        return data


def parse_record(raw):
    """The phone's JSON record as a dict for FieldCheckForm, or a ValidationError."""
    try:
        record = json.loads(raw or "")
    except (TypeError, ValueError):
        raise ValidationError("记录格式错误（不是有效的 JSON）。")
    if not isinstance(record, dict):
        raise ValidationError("记录格式错误。")
    for key in ("dry_weather", "oil_film", "foam", "sampling_possible"):
        value = record.get(key)
        record[key] = value in (True, "true", "on", "1", 1)
    if isinstance(record.get("staff"), list):
        record["staff"] = json.dumps(record["staff"], ensure_ascii=False)
    return {k: ("" if v is None else v) for k, v in record.items()}


class TrackForm(forms.Form):
    """A walked track sent by the phone (JSON record)."""

    client_uuid = forms.UUIDField(label="记录标识", error_messages={"invalid": "记录标识无效。"})
    water_body = forms.ModelChoiceField(label="河流", queryset=WaterBody.objects.none())
    bank = forms.ChoiceField(label="岸别", choices=Bank.choices)
    recorded_at = forms.DateTimeField(label="记录时间", required=False)
    coordinates = forms.JSONField(label="轨迹")

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["water_body"].queryset = campaign.water_bodies.defer("geometry")
        for field in self.fields.values():
            field.error_messages["required"] = f"请填写{field.label}。"
            field.error_messages["invalid_choice"] = f"{field.label}的取值无效。"
